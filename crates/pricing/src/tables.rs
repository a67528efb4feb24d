//! Rate tables shipped as tab-separated data: interchange and card-brand fees.

use rust_decimal::Decimal;

use crate::activity::Activity;
use crate::leaf::Leaf;
use crate::text::parse_decimal;

/// The header every table starts with (after any comment lines).
pub const HEADER: &str = "leaf\tnetwork\tname\trate\tper_item\teffective_date\tsource";

const SHIPPED_INTERCHANGE: &str = include_str!("../data/interchange.tsv");
const SHIPPED_BRAND_FEES: &str = include_str!("../data/brand_fees.tsv");

/// A calendar date written `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EffectiveDate {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

impl EffectiveDate {
    /// Parses `YYYY-MM-DD`, checking the day against the month (leap years included).
    pub fn parse(text: &str) -> Option<EffectiveDate> {
        let bytes = text.as_bytes();
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return None;
        }
        let number = |range: std::ops::Range<usize>| -> Option<u16> {
            let part = text.get(range)?;
            if !part.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            part.parse().ok()
        };
        let year = number(0..4)?;
        let month = u8::try_from(number(5..7)?).ok()?;
        let day = u8::try_from(number(8..10)?).ok()?;
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        (year >= 1 && (1..=days).contains(&day)).then_some(EffectiveDate { year, month, day })
    }
}

impl std::fmt::Display for EffectiveDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// One row of a rate table: a percentage of the leaf's volume plus a fee per transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateRow {
    pub leaf: Leaf,
    pub network: String,
    /// The interchange program or the fee's name.
    pub name: String,
    /// Fraction of volume: 0.0151 is 1.51%.
    pub rate: Decimal,
    /// Dollars per transaction.
    pub per_item: Decimal,
    /// The earliest date the source shows the figure in force (see docs/pricing.md).
    pub effective_date: EffectiveDate,
    /// Where the figure comes from; starts with "estimate:" when it is not published.
    pub source: String,
}

impl RateRow {
    /// True for rows that are Quittance's estimates rather than published figures.
    pub fn is_estimate(&self) -> bool {
        self.source.starts_with("estimate:")
    }
}

/// What is wrong with a table line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TableErrorKind {
    #[error("the table has no header line")]
    MissingHeader,
    #[error("expected the header {HEADER:?}")]
    BadHeader,
    #[error("expected 7 tab-separated fields, found {0}")]
    FieldCount(usize),
    #[error("unknown leaf {0:?}")]
    UnknownLeaf(String),
    #[error("the {0} field is empty")]
    Empty(&'static str),
    #[error("{field} {reason}")]
    BadNumber { field: &'static str, reason: String },
    #[error("rate must be at least 0 and below 1")]
    RateOutOfRange,
    #[error("per_item must be between 0 and 100")]
    PerItemOutOfRange,
    #[error("effective_date must be a date written YYYY-MM-DD")]
    BadDate,
    #[error("a row for {leaf} named {name:?} is already in the table")]
    Duplicate { leaf: Leaf, name: String },
    #[error("no row for {0}")]
    MissingLeaf(Leaf),
    #[error("{0} must have exactly one row")]
    NotExactlyOne(Leaf),
}

/// A table error and the 1-based line it is on (0 for whole-table checks).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{table} line {line}: {kind}")]
pub struct TableError {
    pub table: &'static str,
    pub line: usize,
    pub kind: TableErrorKind,
}

/// A validated rate table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateTable {
    table: &'static str,
    rows: Vec<RateRow>,
}

impl RateTable {
    /// Parses tab-separated text: optional `#` comment lines and blank lines, then [`HEADER`],
    /// then one row per line. Every field is required; rates lie in [0, 1), per-item fees in
    /// [0, 100], dates are real dates, and (leaf, name) is unique. `table` names the table in
    /// errors.
    pub fn parse(table: &'static str, text: &str) -> Result<RateTable, TableError> {
        let err = |line: usize, kind| TableError { table, line, kind };
        let mut rows = Vec::new();
        let mut header_seen = false;
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let raw = raw.strip_suffix('\r').unwrap_or(raw);
            if raw.trim().is_empty() || raw.starts_with('#') {
                continue;
            }
            if !header_seen {
                if raw != HEADER {
                    return Err(err(line, TableErrorKind::BadHeader));
                }
                header_seen = true;
                continue;
            }
            let row = parse_row(raw).map_err(|kind| err(line, kind))?;
            if rows
                .iter()
                .any(|r: &RateRow| r.leaf == row.leaf && r.name == row.name)
            {
                return Err(err(
                    line,
                    TableErrorKind::Duplicate {
                        leaf: row.leaf,
                        name: row.name,
                    },
                ));
            }
            rows.push(row);
        }
        if !header_seen {
            return Err(err(0, TableErrorKind::MissingHeader));
        }
        Ok(RateTable { table, rows })
    }

    /// The interchange table shipped with Quittance (`data/interchange.tsv`): one row per leaf.
    pub fn shipped_interchange() -> Result<RateTable, TableError> {
        let table = RateTable::parse("interchange.tsv", SHIPPED_INTERCHANGE)?;
        table.require_exactly_one(Leaf::ALL)?;
        Ok(table)
    }

    /// The card-brand fee table shipped with Quittance (`data/brand_fees.tsv`): at least one
    /// row per Visa, Mastercard and Discover leaf, and American Express's network fee.
    pub fn shipped_brand_fees() -> Result<RateTable, TableError> {
        let table = RateTable::parse("brand_fees.tsv", SHIPPED_BRAND_FEES)?;
        table.require_some(&[
            Leaf::VisaCredit,
            Leaf::VisaCheck,
            Leaf::MastercardCredit,
            Leaf::MastercardCheck,
            Leaf::DiscoverCredit,
            Leaf::DiscoverCheck,
            Leaf::Amex,
        ])?;
        Ok(table)
    }

    /// The name the table was parsed under (used in errors).
    pub fn name(&self) -> &'static str {
        self.table
    }

    /// Every row, in file order.
    pub fn rows(&self) -> &[RateRow] {
        &self.rows
    }

    /// The rows for one leaf.
    pub fn rows_for(&self, leaf: Leaf) -> impl Iterator<Item = &RateRow> {
        self.rows.iter().filter(move |r| r.leaf == leaf)
    }

    /// Fails unless each leaf has at least one row.
    pub fn require_some(&self, leaves: &[Leaf]) -> Result<(), TableError> {
        match leaves.iter().find(|l| self.rows_for(**l).next().is_none()) {
            Some(leaf) => Err(self.whole_table_error(TableErrorKind::MissingLeaf(*leaf))),
            None => Ok(()),
        }
    }

    /// Fails unless each leaf has exactly one row.
    pub fn require_exactly_one(&self, leaves: &[Leaf]) -> Result<(), TableError> {
        self.require_some(leaves)?;
        match leaves.iter().find(|l| self.rows_for(**l).count() != 1) {
            Some(leaf) => Err(self.whole_table_error(TableErrorKind::NotExactlyOne(*leaf))),
            None => Ok(()),
        }
    }

    fn whole_table_error(&self, kind: TableErrorKind) -> TableError {
        TableError {
            table: self.table,
            line: 0,
            kind,
        }
    }

    /// Unrounded cost of one leaf's activity under this table: the sum over its rows of
    /// rate × volume + per_item × transactions. `None` on overflow.
    pub fn leaf_cost(&self, leaf: Leaf, activity: &Activity) -> Option<Decimal> {
        let cell = activity.leaf(leaf);
        let items = Decimal::from(cell.items);
        self.rows_for(leaf).try_fold(Decimal::ZERO, |sum, row| {
            let by_volume = row.rate.checked_mul(cell.volume)?;
            let by_items = row.per_item.checked_mul(items)?;
            sum.checked_add(by_volume)?.checked_add(by_items)
        })
    }
}

fn parse_row(raw: &str) -> Result<RateRow, TableErrorKind> {
    let fields: Vec<&str> = raw.split('\t').collect();
    let [leaf, network, name, rate, per_item, date, source] = fields[..] else {
        return Err(TableErrorKind::FieldCount(fields.len()));
    };
    let required = |field: &'static str, value: &str| {
        if value.trim().is_empty() {
            Err(TableErrorKind::Empty(field))
        } else {
            Ok(value.trim().to_owned())
        }
    };
    let number = |field: &'static str, value: &str| {
        parse_decimal(value).map_err(|e| TableErrorKind::BadNumber {
            field,
            reason: e.to_string(),
        })
    };
    let leaf = Leaf::parse(leaf).ok_or_else(|| TableErrorKind::UnknownLeaf(leaf.to_owned()))?;
    let network = required("network", network)?;
    let name = required("name", name)?;
    let rate = number("rate", rate)?;
    if rate < Decimal::ZERO || rate >= Decimal::ONE {
        return Err(TableErrorKind::RateOutOfRange);
    }
    let per_item = number("per_item", per_item)?;
    if per_item < Decimal::ZERO || per_item > Decimal::ONE_HUNDRED {
        return Err(TableErrorKind::PerItemOutOfRange);
    }
    required("effective_date", date)?;
    let effective_date = EffectiveDate::parse(date).ok_or(TableErrorKind::BadDate)?;
    let source = required("source", source)?;
    Ok(RateRow {
        leaf,
        network,
        name,
        rate,
        per_item,
        effective_date,
        source,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn d(text: &str) -> Decimal {
        Decimal::from_str_exact(text).unwrap()
    }

    #[test]
    fn shipped_tables_parse_and_cover_every_leaf_they_must() {
        let interchange = RateTable::shipped_interchange().unwrap();
        let brand = RateTable::shipped_brand_fees().unwrap();
        for leaf in Leaf::ALL {
            assert_eq!(interchange.rows_for(*leaf).count(), 1, "{leaf}");
        }
        for leaf in Leaf::ALL.iter().filter(|l| l.is_vmd()) {
            assert!(brand.rows_for(*leaf).count() >= 1, "{leaf}");
        }
        assert_eq!(brand.rows_for(Leaf::Amex).count(), 1);
        for row in interchange.rows().iter().chain(brand.rows()) {
            assert!(!row.source.trim().is_empty(), "{row:?}");
            assert!(row.effective_date.year >= 2009, "{row:?}");
            assert!(row.rate < d("0.05"), "{row:?}");
        }
    }

    #[test]
    fn shipped_interchange_has_the_published_rates_and_marks_its_estimates() {
        let table = RateTable::shipped_interchange().unwrap();
        let row = |leaf| table.rows_for(leaf).next().unwrap();
        for (leaf, rate, per_item, estimate) in [
            (Leaf::VisaCredit, "0.0151", "0.10", false),
            (Leaf::VisaCheck, "0.0080", "0.15", false),
            (Leaf::MastercardCredit, "0.0158", "0.10", false),
            (Leaf::MastercardCheck, "0.0105", "0.15", false),
            (Leaf::DiscoverCredit, "0.0156", "0.10", true),
            (Leaf::DiscoverCheck, "0.0105", "0.15", true),
            (Leaf::Amex, "0.0230", "0.10", true),
            (Leaf::PinDebit, "0.0090", "0.30", true),
        ] {
            let r = row(leaf);
            assert_eq!(
                (r.rate, r.per_item, r.is_estimate()),
                (d(rate), d(per_item), estimate),
                "{leaf}"
            );
        }
        assert_eq!(
            row(Leaf::VisaCheck).effective_date.to_string(),
            "2023-10-14"
        );
    }

    #[test]
    fn shipped_brand_fees_have_the_current_published_values() {
        let table = RateTable::shipped_brand_fees().unwrap();
        let sum = |leaf| {
            table
                .rows_for(leaf)
                .fold((Decimal::ZERO, Decimal::ZERO), |(r, p), row| {
                    (r + row.rate, p + row.per_item)
                })
        };
        assert_eq!(sum(Leaf::VisaCredit), (d("0.0014"), d("0.0195")));
        assert_eq!(sum(Leaf::VisaCheck), (d("0.0013"), d("0.0155")));
        assert_eq!(sum(Leaf::MastercardCredit), (d("0.0014"), d("0.0195")));
        assert_eq!(sum(Leaf::MastercardCheck), (d("0.0014"), d("0.0195")));
        assert_eq!(sum(Leaf::DiscoverCredit), (d("0.0014"), d("0.0195")));
        assert_eq!(sum(Leaf::DiscoverCheck), (d("0.0014"), d("0.0195")));
        assert_eq!(sum(Leaf::Amex), (d("0.0016"), Decimal::ZERO));
        assert_eq!(sum(Leaf::PinDebit), (Decimal::ZERO, Decimal::ZERO));
        assert!(table.rows().iter().all(|r| !r.is_estimate()));
    }

    const GOOD_ROW: &str = "visa_credit\tVisa\tCPS/Retail\t0.0151\t0.10\t2011-04-01\tsomewhere";

    fn parse_body(body: &str) -> Result<RateTable, TableError> {
        RateTable::parse("test.tsv", &format!("# a comment\n{HEADER}\n{body}"))
    }

    #[test]
    fn a_good_table_parses_with_comments_blank_lines_and_crlf() {
        let table = parse_body(&format!(
            "{GOOD_ROW}\r\n\n# note\namex\tAmex\tx\t0\t0\t2024-02-29\ts\n"
        ))
        .unwrap();
        assert_eq!(table.rows().len(), 2);
        assert_eq!(table.rows()[0].source, "somewhere");
        assert_eq!(
            table.rows()[1].effective_date,
            EffectiveDate {
                year: 2024,
                month: 2,
                day: 29
            }
        );
        assert!(
            table
                .require_exactly_one(&[Leaf::VisaCredit, Leaf::Amex])
                .is_ok()
        );
        assert_eq!(
            table.require_some(&[Leaf::PinDebit]).unwrap_err().kind,
            TableErrorKind::MissingLeaf(Leaf::PinDebit)
        );
    }

    #[test]
    fn malformed_rows_are_refused_with_their_line_number() {
        use TableErrorKind as K;
        let cases: Vec<(String, TableErrorKind)> = vec![
            ("visa_credit\tVisa\tx\t0.01\t0.1\t2020-01-01".into(), K::FieldCount(6)),
            (format!("{GOOD_ROW}\textra"), K::FieldCount(8)),
            ("visa\tVisa\tx\t0.01\t0.1\t2020-01-01\ts".into(), K::UnknownLeaf("visa".into())),
            ("visa_credit\t \tx\t0.01\t0.1\t2020-01-01\ts".into(), K::Empty("network")),
            ("visa_credit\tVisa\t\t0.01\t0.1\t2020-01-01\ts".into(), K::Empty("name")),
            (
                "visa_credit\tVisa\tx\t1.5%\t0.1\t2020-01-01\ts".into(),
                K::BadNumber { field: "rate", reason: "is not a plain decimal number (digits, an optional leading '-', at most one '.')".into() },
            ),
            ("visa_credit\tVisa\tx\t1\t0.1\t2020-01-01\ts".into(), K::RateOutOfRange),
            ("visa_credit\tVisa\tx\t-0.01\t0.1\t2020-01-01\ts".into(), K::RateOutOfRange),
            ("visa_credit\tVisa\tx\t0.01\t-0.1\t2020-01-01\ts".into(), K::PerItemOutOfRange),
            ("visa_credit\tVisa\tx\t0.01\t0.1\t\ts".into(), K::Empty("effective_date")),
            ("visa_credit\tVisa\tx\t0.01\t0.1\t2023-02-29\ts".into(), K::BadDate),
            ("visa_credit\tVisa\tx\t0.01\t0.1\t2023-13-01\ts".into(), K::BadDate),
            ("visa_credit\tVisa\tx\t0.01\t0.1\t01/02/2023\ts".into(), K::BadDate),
            ("visa_credit\tVisa\tx\t0.01\t0.1\t2023-1-011\ts".into(), K::BadDate),
            ("visa_credit\tVisa\tx\t0.01\t0.1\t2023-01-01\t".into(), K::Empty("source")),
        ];
        for (row, kind) in cases {
            // The bad row is line 4: comment, header, a good row, then it.
            let err = parse_body(&format!("{GOOD_ROW}\n{row}\n")).unwrap_err();
            assert_eq!((err.line, &err.kind), (4, &kind), "{row:?}");
        }
        let err = parse_body(&format!("{GOOD_ROW}\n{GOOD_ROW}\n")).unwrap_err();
        assert_eq!(err.line, 4);
        assert_eq!(
            err.kind,
            K::Duplicate {
                leaf: Leaf::VisaCredit,
                name: "CPS/Retail".into()
            }
        );
        assert_eq!(
            err.to_string(),
            "test.tsv line 4: a row for visa_credit named \"CPS/Retail\" is already in the table"
        );
    }

    #[test]
    fn header_problems_are_refused() {
        let err = RateTable::parse("t", "# only comments\n").unwrap_err();
        assert_eq!(err.kind, TableErrorKind::MissingHeader);
        let err = RateTable::parse("t", "\nleaf,network\n").unwrap_err();
        assert_eq!((err.line, err.kind), (2, TableErrorKind::BadHeader));
    }

    #[test]
    fn leaf_cost_adds_every_row_of_the_leaf() {
        let table = parse_body(
            "mastercard_credit\tMC\tassessment\t0.0014\t0\t2024-04-15\ts\n\
             mastercard_credit\tMC\tNABU\t0\t0.0195\t2013-06-30\ts\n\
             mastercard_check\tMC\tNABU\t0\t0.0195\t2013-06-30\ts\n",
        )
        .unwrap();
        let activity = Activity::from_lines(
            &[(crate::ActivityType::McCredit, d("2000"), 10)],
            &crate::Mix::seed_default(),
        )
        .unwrap();
        // 2000 × 0.0014 + 10 × 0.0195 = 2.80 + 0.195
        assert_eq!(
            table.leaf_cost(Leaf::MastercardCredit, &activity),
            Some(d("2.995"))
        );
        assert_eq!(
            table.leaf_cost(Leaf::MastercardCheck, &activity),
            Some(Decimal::ZERO)
        );
        assert_eq!(
            table.leaf_cost(Leaf::VisaCredit, &activity),
            Some(Decimal::ZERO)
        );
    }
}
