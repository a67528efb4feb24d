//! Every layout's generated statements, through the PDF and back, give exactly what the
//! generator printed; broken files give the right error, never a panic or a hang.

use std::time::Duration;

use quittance_pricing::statements::{Reconciled, Statement, StatementError, read_statement};
use quittance_statement_fixtures::{Layout, Options, encrypted, image_only, render, truncated};
use quittance_statement_pdf::{Limits, PdfError, text_lines};

const SEEDS: std::ops::Range<u64> = 1..7;

/// Either stage's error, as text.
fn read(pdf: &[u8]) -> Result<Statement, String> {
    let lines = text_lines(pdf, &Limits::default()).map_err(|e| format!("pdf: {e}"))?;
    read_statement(&lines).map_err(|e| format!("statement: {e}"))
}

fn statement_error(pdf: &[u8]) -> StatementError {
    let lines = match text_lines(pdf, &Limits::default()) {
        Ok(lines) => lines,
        Err(e) => panic!("the PDF should read: {e}"),
    };
    match read_statement(&lines) {
        Ok(s) => panic!("expected an error, got {s:?}"),
        Err(e) => e,
    }
}

#[test]
fn every_layout_reads_back_exactly() {
    for layout in Layout::ALL {
        for seed in SEEDS {
            let fixture = render(*layout, seed, &Options::default());
            assert!(
                fixture.pages >= 2,
                "{layout} {seed}: {} pages",
                fixture.pages
            );
            match read(&fixture.pdf) {
                Ok(statement) => assert_eq!(statement, fixture.expected, "{layout} seed {seed}"),
                Err(e) => panic!("{layout} seed {seed}: {e}"),
            }
        }
    }
}

#[test]
fn long_statements_read_back_exactly() {
    for layout in Layout::ALL {
        let options = Options {
            pages_at_least: 5,
            ..Options::default()
        };
        let fixture = render(*layout, 42, &options);
        assert!(fixture.pages >= 5, "{layout}: {} pages", fixture.pages);
        let lines = text_lines(&fixture.pdf, &Limits::default()).unwrap_or_default();
        assert_eq!(
            lines.last().map(|l| l.page),
            Some(fixture.pages),
            "{layout}"
        );
        assert_eq!(read(&fixture.pdf), Ok(fixture.expected), "{layout}");
    }
}

#[test]
fn a_fee_total_off_by_cents_does_not_reconcile_and_says_both_figures() {
    for layout in Layout::ALL {
        for seed in 1..4 {
            let options = Options {
                break_fee_total: true,
                ..Options::default()
            };
            let fixture = render(*layout, seed, &options);
            let rows: quittance_pricing::Decimal =
                fixture.expected.fees.iter().map(|f| f.amount).sum();
            assert_ne!(rows, fixture.expected.total_fees);
            let err = statement_error(&fixture.pdf);
            assert_eq!(
                err,
                StatementError::DoesNotReconcile {
                    what: Reconciled::Fees,
                    computed: rows,
                    printed: fixture.expected.total_fees,
                },
                "{layout} seed {seed}"
            );
            assert_eq!(
                err.to_string(),
                format!(
                    "fee rows add up to {rows} but the statement's printed total fees are {}",
                    fixture.expected.total_fees
                )
            );
        }
    }
}

#[test]
fn a_statement_without_sales_is_no_activity() {
    for layout in Layout::ALL {
        let options = Options {
            zero_activity: true,
            ..Options::default()
        };
        let fixture = render(*layout, 5, &options);
        assert!(fixture.expected.card_types.is_empty());
        assert_eq!(
            statement_error(&fixture.pdf),
            StatementError::NoActivity,
            "{layout}"
        );
    }
}

#[test]
fn broken_files_give_their_errors() {
    let limits = Limits::default();
    assert_eq!(text_lines(&encrypted(), &limits), Err(PdfError::Encrypted));
    assert_eq!(
        PdfError::Encrypted.to_string(),
        "the PDF is password-protected"
    );
    assert_eq!(text_lines(&image_only(), &limits), Err(PdfError::NoText));
    assert!(PdfError::NoText.to_string().contains("scanned image"));
    assert_eq!(text_lines(b"", &limits), Err(PdfError::NotAPdf));
    assert_eq!(
        text_lines(b"PK\x03\x04 a zip file", &limits),
        Err(PdfError::NotAPdf)
    );
    let mut rng = 0x1234_5678_u64;
    let noise: Vec<u8> = (0..4096)
        .map(|_| {
            rng = rng
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (rng >> 56) as u8
        })
        .collect();
    assert_eq!(text_lines(&noise, &limits), Err(PdfError::NotAPdf));
    let mut headed = b"%PDF-1.7\n".to_vec();
    headed.extend(&noise);
    assert!(text_lines(&headed, &limits).is_err());
}

#[test]
fn truncated_statements_fail_cleanly() {
    for layout in Layout::ALL {
        let expected = render(*layout, 3, &Options::default()).expected;
        // Either stage may refuse it; what it must never do is read something else.
        if let Ok(statement) = read(&truncated(*layout, 3)) {
            assert_eq!(statement, expected, "{layout}");
        }
    }
}

#[test]
fn mangled_statements_never_panic_or_hang() {
    let pdf = render(Layout::Worldpay, 9, &Options::default()).pdf;
    let limits = Limits {
        time: Duration::from_secs(10),
        ..Limits::default()
    };
    let mut rng = 0x9E37_79B9_u64;
    let mut next = move || {
        rng = rng
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (rng >> 33) as usize
    };
    for round in 0..40 {
        let mut bytes = pdf.clone();
        for _ in 0..1 + round % 8 {
            let at = next() % bytes.len();
            bytes[at] = next() as u8;
        }
        // Any outcome but a panic or a time-out: errors are expected, and so are statements
        // that still read (a flipped byte in an unused object).
        match text_lines(&bytes, &limits) {
            Err(PdfError::TimedOut(_)) => panic!("round {round} timed out"),
            Err(_) => {}
            Ok(lines) => {
                let _ = read_statement(&lines);
            }
        }
    }
}

#[test]
fn limits_are_enforced() {
    let pdf = render(Layout::Tsys, 1, &Options::default()).pdf;
    let tight = Limits {
        max_bytes: pdf.len() - 1,
        ..Limits::default()
    };
    assert_eq!(
        text_lines(&pdf, &tight),
        Err(PdfError::TooLarge {
            max_bytes: pdf.len() - 1
        })
    );
    let one_page = Limits {
        max_pages: 1,
        ..Limits::default()
    };
    assert_eq!(
        text_lines(&pdf, &one_page),
        Err(PdfError::TooManyPages {
            pages: 2,
            max_pages: 1
        })
    );
    let no_time = Limits {
        time: Duration::ZERO,
        ..Limits::default()
    };
    assert_eq!(
        text_lines(&pdf, &no_time),
        Err(PdfError::TimedOut(Duration::ZERO))
    );
}
