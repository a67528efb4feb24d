//! A card-processing statement PDF in, positioned text lines out, for
//! [`quittance_pricing::statements::read_statement`].
//!
//! [`text_lines`] checks the size, opens the PDF with `pdf_oxide` on its own thread (a panic in
//! the parser becomes [`PdfError::Unreadable`], a parse that outlives [`Limits::time`] becomes
//! [`PdfError::TimedOut`]), takes each page's words with their positions, and groups them into
//! lines (by baseline) and spans (words closer than about a space apart). See docs/statements.md.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use pdf_oxide::PdfDocument;
use pdf_oxide::layout::Word;
pub use quittance_pricing::statements::{TextLine, TextSpan};

/// How much work one PDF may cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest file accepted, in bytes.
    pub max_bytes: usize,
    /// Most pages accepted.
    pub max_pages: u32,
    /// Longest the parse may take.
    pub time: Duration,
}

impl Default for Limits {
    /// 20 MiB, 60 pages, 20 seconds: generous for a monthly statement (usually 3 to 15 pages,
    /// well under 1 MiB).
    fn default() -> Limits {
        Limits {
            max_bytes: 20 * 1024 * 1024,
            max_pages: 60,
            time: Duration::from_secs(20),
        }
    }
}

/// Why no text came out. Each message reads as a sentence for the merchant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PdfError {
    #[error("the file is not a PDF")]
    NotAPdf,
    #[error("the PDF is password-protected")]
    Encrypted,
    #[error("the PDF is larger than {max_bytes} bytes")]
    TooLarge { max_bytes: usize },
    #[error("the PDF has {pages} pages, more than the {max_pages} a statement may have")]
    TooManyPages { pages: u32, max_pages: u32 },
    #[error(
        "the PDF has no text layer (a scanned image?); statements must be the processor's own PDF"
    )]
    NoText,
    #[error("the PDF could not be read: {0}")]
    Unreadable(String),
    #[error("reading the PDF took longer than {} seconds", .0.as_secs())]
    TimedOut(Duration),
}

/// The text lines of a statement PDF, page by page (pages numbered from 1), top to bottom,
/// spans left to right; `y` is the distance from the top of the page in points.
///
/// The parse runs on a thread of its own. On [`PdfError::TimedOut`] that thread is abandoned,
/// not stopped (Rust cannot stop a thread): it runs on until the parser returns, holding its
/// memory. Callers bound how many extractions run at once so abandoned threads cannot pile up.
pub fn text_lines(pdf: &[u8], limits: &Limits) -> Result<Vec<TextLine>, PdfError> {
    if pdf.len() > limits.max_bytes {
        return Err(PdfError::TooLarge {
            max_bytes: limits.max_bytes,
        });
    }
    // The header may follow some junk, but must be within the first KiB (ISO 32000-1 §7.5.2).
    let head = pdf.get(..1024 + 5).unwrap_or(pdf);
    if !head.windows(5).any(|w| w == b"%PDF-") {
        return Err(PdfError::NotAPdf);
    }
    let bytes = pdf.to_vec();
    let limits = *limits;
    isolated(limits.time, move || extract(bytes, &limits))
}

/// Reader threads alive now, abandoned ones included.
static READERS: AtomicUsize = AtomicUsize::new(0);

/// How many reader threads are alive, counting those abandoned after [`PdfError::TimedOut`]
/// that have not yet finished. A caller stops starting new reads while this is high, so
/// hostile files cannot pile up threads.
pub fn readers_alive() -> usize {
    READERS.load(Ordering::SeqCst)
}

/// Counts one reader thread for as long as it lives.
struct Reader;

impl Reader {
    fn start() -> Reader {
        READERS.fetch_add(1, Ordering::SeqCst);
        Reader
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        READERS.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Runs `work` on a thread of its own and waits at most `time` for it: a panic becomes
/// [`PdfError::Unreadable`], a wait past `time` [`PdfError::TimedOut`] (the thread is left to
/// finish on its own, counted by [`readers_alive`] until it does).
fn isolated<T: Send + 'static>(
    time: Duration,
    work: impl FnOnce() -> Result<T, PdfError> + Send + 'static,
) -> Result<T, PdfError> {
    let (sender, receiver) = mpsc::sync_channel(1);
    let reader = Reader::start();
    std::thread::Builder::new()
        .name("statement-pdf".into())
        .spawn(move || {
            let _alive = reader;
            let result = catch_unwind(AssertUnwindSafe(work))
                .unwrap_or_else(|panic| Err(PdfError::Unreadable(panic_message(&panic))));
            // The receiver is gone when the caller timed out: nothing to tell.
            let _ = sender.send(result);
        })
        .map_err(|e| PdfError::Unreadable(format!("no thread to read it on ({e})")))?;
    match receiver.recv_timeout(time) {
        Ok(result) => result,
        Err(mpsc::RecvTimeoutError::Timeout) => Err(PdfError::TimedOut(time)),
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(PdfError::Unreadable(
            "the reader stopped unexpectedly".into(),
        )),
    }
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    let detail = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    if detail.is_empty() {
        "the PDF reader stopped on an internal error".to_owned()
    } else {
        format!("the PDF reader stopped on an internal error ({detail})")
    }
}

fn extract(bytes: Vec<u8>, limits: &Limits) -> Result<Vec<TextLine>, PdfError> {
    let bytes_tail = bytes[bytes.len().saturating_sub(1024)..].to_vec();
    let doc = PdfDocument::from_bytes(bytes).map_err(|e| match e {
        pdf_oxide::Error::EncryptedPdf => PdfError::Encrypted,
        pdf_oxide::Error::InvalidHeader(_) => PdfError::NotAPdf,
        other => PdfError::Unreadable(other.to_string()),
    })?;
    // pdf_oxide opens a PDF encrypted with an empty user password by itself (owner-password
    // restrictions only); anything it cannot authenticate needs a password we do not have.
    if doc.is_encrypted() && !doc.is_authenticated() {
        return Err(PdfError::Encrypted);
    }
    let pages = doc
        .page_count()
        .map_err(|e| PdfError::Unreadable(e.to_string()))?;
    let pages = u32::try_from(pages).unwrap_or(u32::MAX);
    if pages == 0 {
        return Err(incomplete_or(
            &bytes_tail,
            PdfError::Unreadable("the PDF has no pages".into()),
        ));
    }
    if pages > limits.max_pages {
        return Err(PdfError::TooManyPages {
            pages,
            max_pages: limits.max_pages,
        });
    }
    let mut lines = Vec::new();
    for page in 0..pages {
        let words = doc.extract_words(page as usize).map_err(|e| match e {
            pdf_oxide::Error::EncryptedPdf => PdfError::Encrypted,
            other => PdfError::Unreadable(other.to_string()),
        })?;
        let (_, _, _, top) = doc
            .get_page_media_box(page as usize)
            .unwrap_or((0.0, 0.0, 612.0, 792.0));
        lines.extend(page_lines(page + 1, top, &words));
    }
    if lines.is_empty() {
        // A file cut short (an interrupted upload) often parses to pages without content:
        // say so rather than blame a missing text layer.
        return Err(incomplete_or(&bytes_tail, PdfError::NoText));
    }
    Ok(lines)
}

/// `error`, unless the last KiB lacks the "%%EOF" marker every complete PDF ends with: then
/// the file was cut short.
fn incomplete_or(tail: &[u8], error: PdfError) -> PdfError {
    if tail.windows(5).any(|w| w == b"%%EOF") {
        error
    } else {
        PdfError::Unreadable("the file is incomplete (it stops before the end of the PDF)".into())
    }
}

/// One word with its box in top-down page coordinates.
#[derive(Debug, Clone)]
struct Placed<'a> {
    text: &'a str,
    left: f32,
    right: f32,
    /// Vertical middle of the box, from the top of the page.
    middle: f32,
    size: f32,
}

/// Groups a page's words into lines: words whose vertical middles lie within 40% of the font
/// size of the line's first word share a line. Within a line, words sorted by x join into one
/// span while the gap between them is under 70% of the font size (a space is 25–60%; table
/// columns sit further apart).
fn page_lines(page: u32, page_top: f32, words: &[Word]) -> Vec<TextLine> {
    let mut placed: Vec<Placed> = words
        .iter()
        .filter(|w| !w.text.trim().is_empty() && w.bbox.width.is_finite() && w.bbox.y.is_finite())
        .map(|w| {
            let size = if w.avg_font_size.is_finite() && w.avg_font_size > 0.0 {
                w.avg_font_size
            } else {
                w.bbox.height.abs().max(1.0)
            };
            Placed {
                text: w.text.trim(),
                left: w.bbox.x,
                right: w.bbox.x + w.bbox.width,
                // pdf_oxide boxes are in PDF space (y grows upward from the bottom).
                middle: page_top - (w.bbox.y + w.bbox.height / 2.0),
                size,
            }
        })
        .collect();
    placed.sort_by(|a, b| {
        a.middle
            .total_cmp(&b.middle)
            .then(a.left.total_cmp(&b.left))
    });

    let mut rows: Vec<Vec<Placed>> = Vec::new();
    for word in placed {
        match rows.last_mut() {
            Some(row) if (word.middle - row[0].middle).abs() <= 0.4 * row[0].size => row.push(word),
            _ => rows.push(vec![word]),
        }
    }
    rows.into_iter()
        .map(|mut row| {
            row.sort_by(|a, b| a.left.total_cmp(&b.left));
            let y = row[0].middle;
            let mut spans: Vec<TextSpan> = Vec::new();
            let mut last_right = f32::NEG_INFINITY;
            for word in &row {
                match spans.last_mut() {
                    Some(span) if word.left - last_right < 0.7 * word.size => {
                        span.text.push(' ');
                        span.text.push_str(word.text);
                    }
                    _ => spans.push(TextSpan {
                        x: word.left,
                        text: word.text.to_owned(),
                    }),
                }
                last_right = last_right.max(word.right);
            }
            TextLine { page, y, spans }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_is_unreadable_and_a_hang_times_out() {
        let panicked = isolated::<()>(Duration::from_secs(5), || panic!("bad xref"));
        assert_eq!(
            panicked,
            Err(PdfError::Unreadable(
                "the PDF reader stopped on an internal error (bad xref)".into()
            ))
        );
        let limit = Duration::from_millis(20);
        let hung = isolated(limit, || {
            std::thread::sleep(Duration::from_secs(2));
            Ok(())
        });
        assert_eq!(hung, Err(PdfError::TimedOut(limit)));
        // The abandoned thread is counted until it ends.
        assert!(readers_alive() >= 1);
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while readers_alive() > 0 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(readers_alive(), 0);
        assert_eq!(
            PdfError::TimedOut(Duration::from_secs(20)).to_string(),
            "reading the PDF took longer than 20 seconds"
        );
        assert_eq!(isolated(limit, || Ok(7)), Ok(7));
    }
}
