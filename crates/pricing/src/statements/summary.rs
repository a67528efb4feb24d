//! What the statements of one analysis add up to: activity lines for pricing, sales volume,
//! the fees paid, and the effective rate.

use rust_decimal::{Decimal, RoundingStrategy};

use super::Statement;
use crate::leaf::ActivityType;

/// The statements of one analysis added up (a processing statement and an American Express
/// statement of the same month, say).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementSummary {
    /// One line per activity type present, in [`ActivityType::ALL`] order: gross sales amount
    /// and sales count, ready for [`crate::Activity::from_lines`].
    pub activity_lines: Vec<(ActivityType, Decimal, u64)>,
    /// Gross card sales over all statements (excluded rows such as EBT left out).
    pub sales_volume: Decimal,
    /// Total fees over all statements.
    pub current_fees: Decimal,
    /// Current fees ÷ sales volume, rounded half-up to 5 decimals like the estimate's margin;
    /// `None` without sales volume.
    pub effective_rate: Option<Decimal>,
}

impl StatementSummary {
    /// Adds up the statements. Amounts saturate rather than overflow (no real statement comes
    /// near `Decimal`'s range).
    pub fn of(statements: &[Statement]) -> StatementSummary {
        let rows: Vec<_> = statements.iter().flat_map(|s| &s.card_types).collect();
        let activity_lines: Vec<_> = ActivityType::ALL
            .iter()
            .filter_map(|ty| {
                let of_type: Vec<_> = rows.iter().filter(|r| r.activity_type == *ty).collect();
                (!of_type.is_empty()).then(|| {
                    let volume = of_type
                        .iter()
                        .fold(Decimal::ZERO, |sum, r| sum.saturating_add(r.sales_amount));
                    let count = of_type
                        .iter()
                        .fold(0u64, |sum, r| sum.saturating_add(r.sales_count));
                    (*ty, volume, count)
                })
            })
            .collect();
        let sales_volume = activity_lines
            .iter()
            .fold(Decimal::ZERO, |sum, l| sum.saturating_add(l.1));
        let current_fees = statements
            .iter()
            .fold(Decimal::ZERO, |sum, s| sum.saturating_add(s.total_fees));
        let effective_rate = (sales_volume > Decimal::ZERO)
            .then(|| current_fees.checked_div(sales_volume))
            .flatten()
            .map(|r| r.round_dp_with_strategy(5, RoundingStrategy::MidpointAwayFromZero));
        StatementSummary {
            activity_lines,
            sales_volume,
            current_fees,
            effective_rate,
        }
    }
}
