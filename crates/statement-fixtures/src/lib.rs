//! Test support: synthetic card-processing statements, rendered as real PDFs in each layout
//! `quittance_pricing::statements::read_statement` knows, with the extraction they must give.
//!
//! Every merchant name, address and merchant number is invented; the figures are random but
//! consistent (each fee is count × per item + volume × rate rounded half-up to the cent, and
//! every total adds up, unless [`Options::break_fee_total`] asks otherwise). The same layout,
//! seed and options always give the same statement and the same page text; the PDF bytes differ
//! from run to run only in the file id and dates printpdf writes. See docs/statements.md.

mod format;
mod layouts;
mod model;
mod pdf;
mod rng;

use quittance_pricing::Decimal;
pub use quittance_pricing::statements::{Layout, Statement};

/// What to render.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// At least this many pages: more interchange programs (more fee rows), then notices.
    pub pages_at_least: u32,
    /// Print the total fees off by 1 to 99 cents (the expected statement carries the printed,
    /// wrong, total), so the fee rows do not reconcile.
    pub break_fee_total: bool,
    /// No card activity at all (only the monthly fees).
    pub zero_activity: bool,
}

impl Default for Options {
    /// Two pages or more, reconciling, with activity.
    fn default() -> Options {
        Options {
            pages_at_least: 2,
            break_fee_total: false,
            zero_activity: false,
        }
    }
}

/// A rendered statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Fixture {
    pub pdf: Vec<u8>,
    /// What reading the PDF must give, exactly.
    pub expected: Statement,
    pub pages: u32,
}

impl Fixture {
    /// The expected extraction as pretty JSON (the wire form of [`Statement`]).
    pub fn expected_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(&self.expected)
    }
}

/// Renders a statement in `layout` from `seed`.
pub fn render(layout: Layout, seed: u64, options: &Options) -> Fixture {
    let skew = if options.break_fee_total {
        let mut rng = rng::Rng::new(seed ^ 0x5EED_F1C5);
        let cents = rng.range(1, 99) as i64;
        Decimal::new(if rng.chance(50) { cents } else { -cents }, 2)
    } else {
        Decimal::ZERO
    };
    // More interchange programs make more fee rows; an Amex statement has none, so it (and a
    // statement without activity) is padded with notices instead.
    // Each layout its own stream of numbers, so seed 1 is a different merchant in each.
    let salt = Layout::ALL.iter().position(|l| *l == layout).unwrap_or(0) as u64;
    let stream = seed ^ (salt + 1).rotate_right(8);
    let grows = layout != Layout::Amex && !options.zero_activity;
    let mut detail = 0;
    let mut built = loop {
        let knobs = layouts::Knobs {
            detail,
            skew,
            zero_activity: options.zero_activity,
        };
        let built = layouts::build(layout, &mut rng::Rng::new(stream), &knobs);
        if !grows || detail >= 60 || pdf::page_count(&built.sheet) >= options.pages_at_least {
            break built;
        }
        detail += 2;
    };
    let mut notices = 0;
    while pdf::page_count(&built.sheet) < options.pages_at_least {
        let more = 20;
        layouts::notices(&mut built.sheet, more, notices == 0);
        notices += more;
        if notices > 100_000 {
            break;
        }
    }
    let pages = pdf::page_count(&built.sheet);
    let pdf = pdf::write(&built.sheet, &format!("{} statement", layout.as_str()));
    Fixture {
        pdf,
        expected: built.expected,
        pages,
    }
}

/// A statement cut off halfway through the file, as an interrupted download is.
pub fn truncated(layout: Layout, seed: u64) -> Vec<u8> {
    let mut pdf = render(layout, seed, &Options::default()).pdf;
    pdf.truncate(pdf.len() / 2);
    pdf
}

/// A password-protected PDF (a standard-security /Encrypt dictionary no empty password opens).
pub fn encrypted() -> Vec<u8> {
    pdf::encrypted()
}

/// A PDF with an image and no text layer, as a scanned statement is.
pub fn image_only() -> Vec<u8> {
    pdf::image_only()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_gives_the_same_consistent_statement_on_the_pages_asked_for() {
        let options = Options {
            pages_at_least: 4,
            ..Options::default()
        };
        for layout in Layout::ALL {
            let a = render(*layout, 11, &options);
            let b = render(*layout, 11, &options);
            assert_eq!((&a.expected, a.pages), (&b.expected, b.pages), "{layout}");
            assert!(a.pages >= 4, "{layout}: {} pages", a.pages);
            assert_ne!(render(*layout, 12, &options).expected, a.expected);
            let s = &a.expected;
            let sales: Decimal = s.card_types.iter().map(|r| r.sales_amount).sum::<Decimal>()
                + s.excluded_card_types
                    .iter()
                    .map(|r| r.sales_amount)
                    .sum::<Decimal>();
            let fees: Decimal = s.fees.iter().map(|f| f.amount).sum();
            assert_eq!(sales, s.total_sales_amount, "{layout}");
            assert_eq!(fees, s.total_fees, "{layout}");
            assert!(s.fees.iter().all(|f| f.amount.scale() <= 2));
            let json = a.expected_json().unwrap_or_default();
            let back: Statement = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(&back, s);
        }
    }
}
