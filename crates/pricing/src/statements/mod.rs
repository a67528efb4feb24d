//! Reading card-processing statements: positioned text lines in (from a PDF), what the merchant
//! processed and paid out, checked against the statement's own printed totals.
//!
//! [`read_statement`] picks the processor's layout by fingerprint (section titles, the
//! processor's name, phone number or PO box), runs that layout's parser, maps card types to
//! activity types, and reconciles: the card-type rows must add up to the printed sales and
//! refund totals, and the fee rows to the printed total fees, to the cent. [`StatementSummary`]
//! adds up the statements of one analysis. See docs/statements.md.

mod cards;
mod fees;
mod layouts;
mod numbers;
mod summary;
mod table;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::leaf::{ActivityType, text_enum};

pub use summary::StatementSummary;

/// A run of text on a line, as the PDF placed it.
#[derive(Debug, Clone, PartialEq)]
pub struct TextSpan {
    /// Left edge, in points from the left of the page.
    pub x: f32,
    pub text: String,
}

/// One line of a page: its spans left to right.
#[derive(Debug, Clone, PartialEq)]
pub struct TextLine {
    /// Page number, from 1.
    pub page: u32,
    /// Distance from the top of the page, in points.
    pub y: f32,
    pub spans: Vec<TextSpan>,
}

text_enum! {
    /// The statement layouts [`read_statement`] knows.
    #[derive(Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    Layout {
        FirstData => "first_data",
        Tsys => "tsys",
        Worldpay => "worldpay",
        Amex => "amex",
        Generic => "generic",
    }
}

text_enum! {
    /// Who a fee goes to: the card networks and issuers (interchange, assessments, network
    /// fees), passed through at cost, or the processor (discount, per-item, monthly fees).
    #[derive(Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    FeeKind {
        PassThrough => "pass_through",
        Markup => "markup",
    }
}

/// What one statement says the merchant processed and paid. Amounts are exact decimals and
/// travel as strings ("1234.56"); field names are camelCase on the wire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Statement {
    pub layout: Layout,
    /// The processor's display name ("Fiserv (First Data)", "TSYS", ...).
    pub processor: String,
    /// The merchant number as printed, when the statement shows one.
    pub merchant_id: Option<String>,
    /// First day of the statement period, "YYYY-MM-DD".
    pub period_start: Option<String>,
    /// Last day of the statement period, "YYYY-MM-DD".
    pub period_end: Option<String>,
    /// Card-type rows of the summary table that price as card activity, in printed order.
    pub card_types: Vec<CardTypeRow>,
    /// Rows of the same table that are not card activity a proposal prices (EBT, and names we
    /// do not recognise). They count toward the printed totals.
    pub excluded_card_types: Vec<ExcludedCardType>,
    /// Every fee row, in printed order.
    pub fees: Vec<FeeRow>,
    /// The printed totals the rows were reconciled against.
    pub total_sales_count: u64,
    #[serde(with = "rust_decimal::serde::str")]
    pub total_sales_amount: Decimal,
    pub total_refund_count: u64,
    /// A positive magnitude, like each row's refund amount.
    #[serde(with = "rust_decimal::serde::str")]
    pub total_refund_amount: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub total_fees: Decimal,
}

/// One card-type row of the statement's summary table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CardTypeRow {
    /// As printed ("VISA", "MCDEBITCAP", "VS").
    pub card_type: String,
    /// The single-leaf type when the statement tells credit from debit, else the brand's
    /// combined type (`vs`, `mc`, `ds`).
    #[serde(with = "activity_type_text")]
    pub activity_type: ActivityType,
    pub sales_count: u64,
    /// Gross sales.
    #[serde(with = "rust_decimal::serde::str")]
    pub sales_amount: Decimal,
    pub refund_count: u64,
    /// Refunds as a positive magnitude, however the statement prints them ("-$12.00",
    /// "(12.00)", "12.00-").
    #[serde(with = "rust_decimal::serde::str")]
    pub refund_amount: Decimal,
}

/// A summary-table row left out of the activity, with why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExcludedCardType {
    pub card_type: String,
    pub reason: String,
    pub sales_count: u64,
    #[serde(with = "rust_decimal::serde::str")]
    pub sales_amount: Decimal,
    pub refund_count: u64,
    #[serde(with = "rust_decimal::serde::str")]
    pub refund_amount: Decimal,
}

/// One fee the statement charged. The detail fields are filled where the statement prints them
/// (in columns, or in the description: "1,234 TRANSACTIONS AT 0.10", "0.0013 TIMES $26,675.12").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FeeRow {
    /// As printed, spaces collapsed.
    pub description: String,
    /// Transactions (or items) the fee was charged on.
    pub count: Option<u64>,
    /// Dollar volume the rate applied to.
    #[serde(with = "rust_decimal::serde::str_option")]
    pub volume: Option<Decimal>,
    /// A fraction: 0.0195 is 1.95%.
    #[serde(with = "rust_decimal::serde::str_option")]
    pub rate: Option<Decimal>,
    /// Dollars per item.
    #[serde(with = "rust_decimal::serde::str_option")]
    pub per_item: Option<Decimal>,
    /// Dollars charged, positive (a credit back to the merchant is negative).
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    pub kind: FeeKind,
}

/// `ActivityType` as its text form ("vs_credit").
mod activity_type_text {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    use crate::leaf::ActivityType;

    pub fn serialize<S: Serializer>(ty: &ActivityType, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(ty.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<ActivityType, D::Error> {
        let text = String::deserialize(d)?;
        ActivityType::parse(&text).ok_or_else(|| {
            D::Error::custom(format!(
                "unknown activity type; expected one of {}",
                ActivityType::choices()
            ))
        })
    }
}

/// Which printed total a sum was checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reconciled {
    SalesCount,
    SalesAmount,
    RefundCount,
    RefundAmount,
    Fees,
}

impl Reconciled {
    fn rows(self) -> &'static str {
        match self {
            Reconciled::SalesCount => "card-type sales counts",
            Reconciled::SalesAmount => "card-type sales",
            Reconciled::RefundCount => "card-type refund counts",
            Reconciled::RefundAmount => "card-type refunds",
            Reconciled::Fees => "fee rows",
        }
    }

    fn printed(self) -> &'static str {
        match self {
            Reconciled::SalesCount => "total sales count is",
            Reconciled::SalesAmount => "total sales are",
            Reconciled::RefundCount => "total refund count is",
            Reconciled::RefundAmount => "total refunds are",
            Reconciled::Fees => "total fees are",
        }
    }
}

/// Why a statement could not be read. Each message is a sentence for the merchant (it becomes
/// the analysis's rejection reason).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatementError {
    #[error(
        "no card-type summary table found: this does not look like a card-processing statement we can read"
    )]
    UnknownLayout,
    #[error(
        "the statement shows no card sales for the period, so there is no activity to price a proposal on"
    )]
    NoActivity,
    #[error(
        "{} add up to {computed} but the statement's printed {} {printed}",
        .what.rows(),
        .what.printed()
    )]
    DoesNotReconcile {
        what: Reconciled,
        computed: Decimal,
        printed: Decimal,
    },
    #[error("page {page} of the statement could not be read: {reason}")]
    Malformed { page: u32, reason: String },
}

/// Reads one statement from its text lines (in reading order: page, then top to bottom).
pub fn read_statement(lines: &[TextLine]) -> Result<Statement, StatementError> {
    let doc = table::Doc::new(lines);
    let layout = layouts::detect(&doc);
    let statement = layouts::parse(layout, &doc)?;
    reconcile(&statement)?;
    let sales: Decimal = statement.card_types.iter().map(|r| r.sales_amount).sum();
    if sales.is_zero() {
        return Err(StatementError::NoActivity);
    }
    Ok(statement)
}

/// The sums of the rows (card types and excluded rows together) against the printed totals.
/// Sums that overflow cannot match any printed total, and count as not reconciling.
fn reconcile(s: &Statement) -> Result<(), StatementError> {
    let rows = s
        .card_types
        .iter()
        .map(|r| {
            (
                r.sales_count,
                r.sales_amount,
                r.refund_count,
                r.refund_amount,
            )
        })
        .chain(s.excluded_card_types.iter().map(|r| {
            (
                r.sales_count,
                r.sales_amount,
                r.refund_count,
                r.refund_amount,
            )
        }));
    let mut sums = [Some(Decimal::ZERO); 4];
    for (count, amount, refund_count, refund_amount) in rows {
        let parts = [
            Decimal::from(count),
            amount,
            Decimal::from(refund_count),
            refund_amount,
        ];
        for (sum, part) in sums.iter_mut().zip(parts) {
            *sum = sum.and_then(|s| s.checked_add(part));
        }
    }
    let fees = s
        .fees
        .iter()
        .try_fold(Decimal::ZERO, |sum, f| sum.checked_add(f.amount));
    let checks = [
        (
            Reconciled::SalesCount,
            sums[0],
            Decimal::from(s.total_sales_count),
        ),
        (Reconciled::SalesAmount, sums[1], s.total_sales_amount),
        (
            Reconciled::RefundCount,
            sums[2],
            Decimal::from(s.total_refund_count),
        ),
        (Reconciled::RefundAmount, sums[3], s.total_refund_amount),
        (Reconciled::Fees, fees, s.total_fees),
    ];
    for (what, computed, printed) in checks {
        match computed {
            Some(computed) if computed == printed => {}
            _ => {
                return Err(StatementError::DoesNotReconcile {
                    what,
                    computed: computed.unwrap_or(Decimal::MAX),
                    printed,
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
