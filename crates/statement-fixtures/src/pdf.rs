//! Pages of positioned text lines, written as a PDF with printpdf's built-in fonts; and the
//! hand-built broken PDFs.

use printpdf::{
    BuiltinFont, Mm, Op, PdfDocument, PdfFontHandle, PdfPage, PdfSaveOptions, Point, Pt, TextItem,
};

/// US Letter, in points.
const PAGE_WIDTH: f32 = 612.0;
const PAGE_HEIGHT: f32 = 792.0;
const TOP: f32 = 756.0;
const BOTTOM: f32 = 56.0;
pub(crate) const LEFT: f32 = 36.0;
pub(crate) const RIGHT: f32 = 576.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Font {
    Regular,
    Bold,
    Mono,
}

impl Font {
    fn builtin(self) -> BuiltinFont {
        match self {
            Font::Regular => BuiltinFont::Helvetica,
            Font::Bold => BuiltinFont::HelveticaBold,
            Font::Mono => BuiltinFont::Courier,
        }
    }

    /// Width of `text` at `size` points. Helvetica's metrics from its AFM (bold is a little
    /// wider; close enough to right-align numbers and headers).
    pub fn width(self, text: &str, size: f32) -> f32 {
        let units: u32 = match self {
            Font::Mono => 600 * text.chars().count() as u32,
            Font::Regular | Font::Bold => text.chars().map(helvetica_width).sum(),
        };
        units as f32 * size / 1000.0
    }
}

fn helvetica_width(c: char) -> u32 {
    match c {
        '0'..='9' | '$' | '#' | '_' | '?' => 556,
        ' ' | ',' | '.' | '/' | ':' | ';' | '!' | '[' | ']' | '\\' | 'I' | 'f' | 't' => 278,
        '-' | '(' | ')' | 'r' | '`' => 333,
        '%' => 889,
        '&' | 'A' | 'B' | 'E' | 'K' | 'P' | 'S' | 'V' | 'X' | 'Y' => 667,
        'C' | 'D' | 'H' | 'N' | 'R' | 'U' | 'w' => 722,
        'F' | 'T' | 'Z' => 611,
        'G' | 'O' | 'Q' => 778,
        'J' | 'c' | 'k' | 's' | 'v' | 'x' | 'y' | 'z' => 500,
        'L' | 'a' | 'b' | 'd' | 'e' | 'g' | 'h' | 'n' | 'o' | 'p' | 'q' | 'u' => 556,
        'M' | 'm' => 833,
        'W' => 944,
        'i' | 'j' | 'l' => 222,
        '@' => 1015,
        '+' | '<' | '=' | '>' | '~' => 584,
        '*' => 389,
        _ => 556,
    }
}

/// A piece of text at a column: left-aligned at `x`, or right-aligned to end at `x`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Cell {
    pub x: f32,
    pub right: bool,
    pub text: String,
}

pub(crate) fn left(x: f32, text: impl Into<String>) -> Cell {
    Cell {
        x,
        right: false,
        text: text.into(),
    }
}

pub(crate) fn right(x: f32, text: impl Into<String>) -> Cell {
    Cell {
        x,
        right: true,
        text: text.into(),
    }
}

/// One printed line.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Line {
    pub font: Font,
    pub size: f32,
    pub cells: Vec<Cell>,
    /// Extra space above the line, in points.
    pub space_before: f32,
}

impl Line {
    pub fn new(font: Font, size: f32, cells: Vec<Cell>) -> Line {
        Line {
            font,
            size,
            cells,
            space_before: 0.0,
        }
    }

    pub fn after_space(mut self, points: f32) -> Line {
        self.space_before = points;
        self
    }

    fn height(&self) -> f32 {
        self.size * 1.4 + self.space_before
    }
}

/// A statement's text: the first page's header, the header repeated on later pages, the body.
pub(crate) struct Sheet {
    pub header: Vec<Line>,
    pub running: Vec<Line>,
    pub body: Vec<Line>,
}

/// Lines placed on pages: (baseline y from the bottom, line).
type Placed<'a> = Vec<Vec<(f32, &'a Line)>>;

fn paginate(sheet: &Sheet) -> Placed<'_> {
    fn place<'a>(page: &mut Vec<(f32, &'a Line)>, y: &mut f32, line: &'a Line) {
        *y -= line.height();
        page.push((*y, line));
    }
    let mut pages: Placed = Vec::new();
    let mut page = Vec::new();
    let mut y = TOP;
    for line in &sheet.header {
        place(&mut page, &mut y, line);
    }
    for line in &sheet.body {
        if y - line.height() < BOTTOM {
            pages.push(std::mem::take(&mut page));
            y = TOP;
            for running in &sheet.running {
                place(&mut page, &mut y, running);
            }
        }
        place(&mut page, &mut y, line);
    }
    pages.push(page);
    pages
}

/// How many pages the sheet takes.
pub(crate) fn page_count(sheet: &Sheet) -> u32 {
    paginate(sheet).len() as u32
}

/// The sheet as a PDF, each page numbered "Page n of N" at the foot.
pub(crate) fn write(sheet: &Sheet, title: &str) -> Vec<u8> {
    let placed = paginate(sheet);
    let total = placed.len();
    let pages = placed
        .iter()
        .enumerate()
        .map(|(i, lines)| {
            let mut ops = Vec::new();
            for (y, line) in lines {
                for cell in &line.cells {
                    text_ops(&mut ops, line.font, line.size, cell, *y);
                }
            }
            let footer = right(RIGHT, format!("Page {} of {total}", i + 1));
            text_ops(&mut ops, Font::Regular, 7.0, &footer, 30.0);
            PdfPage::new(Mm::from(Pt(PAGE_WIDTH)), Mm::from(Pt(PAGE_HEIGHT)), ops)
        })
        .collect();
    PdfDocument::new(title)
        .with_pages(pages)
        .save(&PdfSaveOptions::default(), &mut Vec::new())
}

/// One text object per cell, so every position is absolute.
fn text_ops(ops: &mut Vec<Op>, font: Font, size: f32, cell: &Cell, y: f32) {
    let x = if cell.right {
        cell.x - font.width(&cell.text, size)
    } else {
        cell.x
    };
    ops.extend([
        Op::StartTextSection,
        Op::SetFont {
            font: PdfFontHandle::Builtin(font.builtin()),
            size: Pt(size),
        },
        Op::SetTextCursor {
            pos: Point { x: Pt(x), y: Pt(y) },
        },
        Op::ShowText {
            items: vec![TextItem::Text(cell.text.clone())],
        },
        Op::EndTextSection,
    ]);
}

/// A PDF from numbered object bodies (object 1 is the catalog), with a correct xref table
/// and the given extra trailer entries.
fn assemble(objects: &[Vec<u8>], trailer_extra: &str) -> Vec<u8> {
    let mut out = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend(format!("{} 0 obj\n", i + 1).bytes());
        out.extend(body);
        out.extend(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).bytes());
    for offset in offsets {
        out.extend(format!("{offset:010} 00000 n \n").bytes());
    }
    out.extend(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R {trailer_extra} >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .bytes(),
    );
    out
}

fn stream(dict: &str, data: &[u8]) -> Vec<u8> {
    let mut body = format!("<< {dict} /Length {} >>\nstream\n", data.len()).into_bytes();
    body.extend(data);
    body.extend(b"\nendstream");
    body
}

/// A one-page PDF whose trailer names a standard-security /Encrypt dictionary that no empty
/// password opens (its O and U entries are arbitrary), as a password-protected file is.
pub(crate) fn encrypted() -> Vec<u8> {
    let content = b"BT /F1 12 Tf 72 720 Td (SUMMARY BY CARD TYPE) Tj ET";
    let hex32 = "7A".repeat(32);
    assemble(
        &[
            b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_vec(),
            stream("", content),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_vec(),
            format!("<< /Filter /Standard /V 2 /R 3 /Length 128 /P -3904 /O <{hex32}> /U <{hex32}> >>").into_bytes(),
        ],
        &format!("/Encrypt 6 0 R /ID [<{0}> <{0}>]", "0123456789ABCDEF0123456789ABCDEF"),
    )
}

/// A one-page PDF holding only a grey image, as a scanned statement does: no text layer.
pub(crate) fn image_only() -> Vec<u8> {
    let pixels: Vec<u8> = (0..64u32 * 64).map(|i| ((i * 7) % 251) as u8).collect();
    let content = b"q 540 0 0 700 36 46 cm /Im1 Do Q";
    assemble(
        &[
            b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /XObject << /Im1 5 0 R >> >> >>".to_vec(),
            stream("", content),
            stream(
                "/Type /XObject /Subtype /Image /Width 64 /Height 64 /ColorSpace /DeviceGray /BitsPerComponent 8",
                &pixels,
            ),
        ],
        "",
    )
}
