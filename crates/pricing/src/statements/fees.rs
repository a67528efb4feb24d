//! Fee rows: who a fee goes to, the details fee descriptions print ("1,234 TRANSACTIONS AT
//! 0.10", "0.0025 DISC RATE TIMES $39,709.94", "$V AT r", "@1.51%+$0.10"), and which column a
//! number belongs to when some columns are left blank.

use rust_decimal::Decimal;

use super::FeeKind;
use super::cards::words;
use super::numbers::Number;
use crate::cost::round_cents;

/// What a fee row says about how it was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Details {
    pub count: Option<u64>,
    pub volume: Option<Decimal>,
    /// A fraction.
    pub rate: Option<Decimal>,
    pub per_item: Option<Decimal>,
}

impl Details {
    /// Each field from `self`, or else from `other`.
    pub fn or(self, other: Details) -> Details {
        Details {
            count: self.count.or(other.count),
            volume: self.volume.or(other.volume),
            rate: self.rate.or(other.rate),
            per_item: self.per_item.or(other.per_item),
        }
    }

    /// Whether count × per item + volume × rate comes to `amount` (within a cent, for
    /// processors that round differently); `None` when neither product can be formed.
    fn explains(&self, amount: Decimal) -> Option<bool> {
        let items = self
            .count
            .zip(self.per_item)
            .and_then(|(c, p)| Decimal::from(c).checked_mul(p));
        let volume = self
            .volume
            .zip(self.rate)
            .and_then(|(v, r)| v.checked_mul(r));
        let computed = match (items, volume) {
            (None, None) => return None,
            (a, b) => a.unwrap_or_default().checked_add(b.unwrap_or_default())?,
        };
        Some((round_cents(computed) - amount.abs()).abs() <= Decimal::new(1, 2))
    }
}

/// A column printed between a fee's description and its amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FeeCol {
    Count,
    Volume,
    /// A rate; `bare_percent` when the column prints percentages without a "%".
    Rate {
        bare_percent: bool,
    },
    PerItem,
}

/// More detail columns than any statement prints; past it, columns are not tried (each row
/// tries every arrangement: 2^columns).
const MAX_COLUMNS: usize = 8;

/// Assigns `values` to `cols` in order, leaving columns blank where there are fewer values:
/// of the assignments each value fits (a count has no point, a rate no "$"), the first whose
/// count × per item + volume × rate (with what the description already says, `known`) comes
/// to the amount; failing that the first that cannot be checked; failing that the first.
pub(crate) fn columns(
    values: &[Number],
    cols: &[FeeCol],
    amount: Decimal,
    known: Details,
) -> Details {
    if values.is_empty() || values.len() > cols.len() || cols.len() > MAX_COLUMNS {
        return known;
    }
    let mut best: Option<(u8, Details)> = None;
    for picked in (0u32..1 << cols.len()).filter(|m| m.count_ones() as usize == values.len()) {
        let chosen = (0..cols.len())
            .filter(|i| picked & (1 << i) != 0)
            .map(|i| cols[i]);
        let Some(details) = assign(values, chosen) else {
            continue;
        };
        let details = details.or(known);
        let rank = match details.explains(amount) {
            Some(true) => 0,
            None => 1,
            Some(false) => 2,
        };
        if best.is_none_or(|(r, _)| rank < r) {
            best = Some((rank, details));
        }
        if rank == 0 {
            break;
        }
    }
    best.map_or(known, |(_, d)| d)
}

/// Fills the columns in order, each value only where it fits: a count is a whole number, a
/// volume is printed to the cent (or with "$"), a per-item amount has two or more decimals (or
/// "$"), a rate has a point or "%" and no "$".
fn assign(values: &[Number], cols: impl Iterator<Item = FeeCol>) -> Option<Details> {
    let mut d = Details::default();
    for (n, col) in values.iter().zip(cols) {
        match col {
            FeeCol::Count => d.count = Some(n.count()?),
            FeeCol::Volume if n.dollar || n.decimals == 2 => d.volume = Some(n.money()?.abs()),
            FeeCol::PerItem if n.dollar || n.decimals >= 2 => {
                d.per_item = Some(n.money()?.abs().normalize());
            }
            FeeCol::Rate { bare_percent } if n.percent || n.decimals >= 1 => {
                d.rate = Some(n.rate(bare_percent)?.abs());
            }
            FeeCol::Volume | FeeCol::PerItem | FeeCol::Rate { .. } => return None,
        }
    }
    Some(d)
}

/// The details a description spells out:
/// `N TRANSACTIONS AT r` (also TRANS, ITEMS, AUTHS, KILOBYTES), `N TRANS TOTALING $V`,
/// `r DISC RATE TIMES $V`, `r TIMES $V`, `$V AT r` and `…@r%+$p`. A rate without "%" is a
/// fraction.
pub(crate) fn grammar(description: &str) -> Details {
    let tokens: Vec<String> = description
        .split_whitespace()
        .map(str::to_uppercase)
        .collect();
    let t = |i: usize| tokens.get(i).map_or("", String::as_str);
    let num = |i: usize| Number::parse(t(i));
    let mut d = Details::default();
    for i in 0..tokens.len() {
        let unit = matches!(
            t(i + 1),
            "TRANSACTIONS" | "TRANS" | "TXNS" | "ITEMS" | "AUTHS" | "AUTHORIZATIONS" | "KILOBYTES"
        );
        if let Some(count) = num(i).and_then(|n| n.count()).filter(|_| unit) {
            match (t(i + 2), num(i + 3)) {
                ("AT", Some(p)) => {
                    d.count = d.count.or(Some(count));
                    d.per_item = d.per_item.or(p.money().map(|p| p.abs().normalize()));
                }
                ("TOTALING", Some(v)) => {
                    d.count = d.count.or(Some(count));
                    d.volume = d.volume.or(v.money().map(|v| v.abs()));
                }
                _ => {}
            }
            continue;
        }
        let times_at = match (t(i + 1), t(i + 2), t(i + 3)) {
            ("DISC", "RATE", "TIMES") => Some(i + 4),
            ("TIMES", _, _) => Some(i + 2),
            _ => None,
        };
        if let (Some(r), Some(v)) = (num(i), times_at.and_then(num)) {
            d.rate = d.rate.or(r.rate(false).map(|r| r.abs()));
            d.volume = d.volume.or(v.money().map(|v| v.abs()));
        } else if let (Some(v), "AT", Some(r)) = (num(i), t(i + 1), num(i + 2))
            && !r.dollar
            && v.dollar
        {
            d.volume = d.volume.or(v.money().map(|v| v.abs()));
            d.rate = d.rate.or(r.rate(false).map(|r| r.abs()));
        }
        if let Some((_, terms)) = t(i).split_once('@') {
            for term in terms.split('+').filter_map(Number::parse) {
                if term.percent {
                    d.rate = d.rate.or(term.rate(false));
                } else {
                    d.per_item = d.per_item.or(term.money().map(|p| p.normalize()));
                }
            }
        }
    }
    d
}

/// What a printed fee type column says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PrintedType {
    /// The type alone decides.
    Decides(FeeKind),
    /// A mixed type ("CF", "Fees"): the description decides.
    Mixed,
}

/// Reads a printed fee type: "Interchange charges" and "Program Fees" are pass-through,
/// "Service charges" and "MISC" the processor's, "CF" (card fees) and "Fees" mixed.
pub(crate) fn printed_type(cell: &str) -> Option<PrintedType> {
    match cell.trim().to_uppercase().as_str() {
        "INTERCHANGE CHARGES" | "PROGRAM FEES" | "INTERCHANGE CHARGES/PROGRAM FEES" => {
            Some(PrintedType::Decides(FeeKind::PassThrough))
        }
        "SERVICE CHARGES" | "MISC" => Some(PrintedType::Decides(FeeKind::Markup)),
        "CF" | "FEES" => Some(PrintedType::Mixed),
        _ => None,
    }
}

/// Words of the fees the card networks and issuers charge (passed through at cost).
const PASS_THROUGH_WORDS: &[&str] = &[
    "INTERCHANGE",
    "ASSESSMENT",
    "ASSESSMENTS",
    "NABU",
    "APF",
    "ACQUIRER PROCESSING",
    "DATA USAGE",
    "KILOBYTE",
    "KILOBYTES",
    "NETWORK",
    "FANF",
    "INTEGRITY",
    "DUES",
    "CROSS BORDER",
    "INTERNATIONAL",
    "INTL",
    "BASE II",
    "OPTBLUE",
    "SWITCH",
];

/// The fee's kind: the printed type when it decides, else pass-through when the description
/// names a network fee (or is an interchange qualification such as "VI-CPS RETAIL@1.51%+$0.10"),
/// else the processor's markup.
pub(crate) fn kind(description: &str, printed: Option<PrintedType>) -> FeeKind {
    if let Some(PrintedType::Decides(kind)) = printed {
        return kind;
    }
    let w = words(description);
    let network = PASS_THROUGH_WORDS
        .iter()
        .any(|k| w.contains(&format!(" {k} ")));
    if network || description.contains('@') {
        FeeKind::PassThrough
    } else {
        FeeKind::Markup
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::tests::d;
    use super::*;

    fn n(text: &str) -> Number {
        Number::parse(text).unwrap()
    }

    #[test]
    fn grammars_of_the_reference() {
        let g = grammar("VISA APF 1,234 TRANSACTIONS AT 0.0195");
        assert_eq!((g.count, g.per_item), (Some(1234), Some(d("0.0195"))));
        let g = grammar("AUTHORIZATION FEE 1,400 TRANSACTIONS AT $0.10");
        assert_eq!((g.count, g.per_item), (Some(1400), Some(d("0.1"))));
        let g = grammar("VISA SALES DISCOUNT 0.0025 DISC RATE TIMES $39,709.94");
        assert_eq!((g.rate, g.volume), (Some(d("0.0025")), Some(d("39709.94"))));
        let g = grammar("MASTERCARD ASSESSMENT FEE 0.0014 TIMES $26675.12");
        assert_eq!((g.rate, g.volume), (Some(d("0.0014")), Some(d("26675.12"))));
        let g = grammar("VISA ASSESSMENT $26,675.12 AT 0.13%");
        assert_eq!((g.rate, g.volume), (Some(d("0.0013")), Some(d("26675.12"))));
        let g = grammar("INTERCHANGE VI CPS RETAIL 123 TRANS TOTALING $4,567.89");
        assert_eq!(
            g,
            Details {
                count: Some(123),
                volume: Some(d("4567.89")),
                rate: None,
                per_item: None
            }
        );
        let g = grammar("MC DC MERIT I-DURBIN FRAUD@0.05%+$0.22");
        assert_eq!((g.rate, g.per_item), (Some(d("0.0005")), Some(d("0.22"))));
        let g = grammar("DATA 1,024 KILOBYTES AT 0.01");
        assert_eq!((g.count, g.per_item), (Some(1024), Some(d("0.01"))));
        assert_eq!(grammar("MONTHLY SERVICE FEE"), Details::default());
        assert_eq!(grammar("AT AT 12 TIMES"), Details::default());
    }

    #[test]
    fn blank_columns_are_told_by_the_arithmetic() {
        use FeeCol::*;
        let cols = [Count, Volume, Rate { bare_percent: true }, PerItem];
        // Count and per item.
        let got = columns(
            &[n("1,234"), n(".0195")],
            &cols,
            d("24.06"),
            Details::default(),
        );
        assert_eq!(
            (got.count, got.per_item, got.volume),
            (Some(1234), Some(d("0.0195")), None)
        );
        // Volume and a bare percentage.
        let got = columns(
            &[n("26,675.12"), n("0.13")],
            &cols,
            d("34.68"),
            Details::default(),
        );
        assert_eq!(
            (got.volume, got.rate, got.count),
            (Some(d("26675.12")), Some(d("0.0013")), None)
        );
        // All four.
        let got = columns(
            &[n("123"), n("4,567.89"), n("1.51"), n(".10")],
            &cols,
            d("81.28"),
            Details::default(),
        );
        assert_eq!(
            got,
            Details {
                count: Some(123),
                volume: Some(d("4567.89")),
                rate: Some(d("0.0151")),
                per_item: Some(d("0.1"))
            }
        );
        // Nothing to check against: the first fit.
        let got = columns(&[n("3")], &cols, d("10.00"), Details::default());
        assert_eq!(got.count, Some(3));
        // More numbers than columns: nothing assigned.
        assert_eq!(
            columns(&[n("1"), n("2")], &[Count], d("1.00"), Details::default()),
            Details::default()
        );
    }

    #[test]
    fn kinds_follow_the_printed_type_then_the_words() {
        use FeeKind::*;
        let mixed = Some(PrintedType::Mixed);
        assert_eq!(kind("VISA ASSESSMENT FEE", mixed), PassThrough);
        assert_eq!(kind("VISA SALES DISCOUNT", mixed), Markup);
        assert_eq!(kind("VISA APF", None), PassThrough);
        assert_eq!(kind("DISCOVER DATA USAGE", None), PassThrough);
        assert_eq!(kind("MC NABU FEE", None), PassThrough);
        assert_eq!(kind("VI-CPS RETAIL CREDIT@1.51%+$0.10", None), PassThrough);
        assert_eq!(kind("PCI COMPLIANCE FEE", None), Markup);
        assert_eq!(kind("STATEMENT FEE", None), Markup);
        assert_eq!(kind("ASSESSMENT", printed_type("MISC")), Markup);
        assert_eq!(
            kind("BATCH", printed_type("Interchange charges")),
            PassThrough
        );
        assert_eq!(
            printed_type("Service charges"),
            Some(PrintedType::Decides(Markup))
        );
        assert_eq!(printed_type("VISA"), None);
    }
}
