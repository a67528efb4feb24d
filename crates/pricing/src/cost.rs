//! The cost model behind `POST /api/estimate_statement_summary` and pass-through fee lines.

use rust_decimal::{Decimal, RoundingStrategy};
use std::sync::Arc;

use crate::activity::Activity;
use crate::leaf::{Leaf, VMD_LEAVES, text_enum};
use crate::tables::{RateTable, TableError};

text_enum! {
    /// An estimated pass-through cost a fee line multiplies.
    CostKind {
        /// Estimated Visa, Mastercard and Discover interchange (`vmdInterchange`).
        Interchange => "interchange",
        /// Estimated American Express OptBlue cost (`amexOptBlue`).
        AmexOptBlue => "amex_optblue",
        /// Estimated PIN debit network fees (`pinDebitNetworkFees`).
        DebitNetwork => "debit_network",
    }
}

/// Why a program could not be priced or its costs estimated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PricingError {
    #[error("{0} is too large to compute")]
    Overflow(String),
}

/// Rounds to cents, half away from zero: 0.005 → 0.01, 12.505 → 12.51, -0.005 → -0.01.
pub fn round_cents(value: Decimal) -> Decimal {
    value.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// The processor's own cost to the ISO ("Schedule A"): a rate on card volume plus a fee per
/// transaction, over all card activity (Visa, Mastercard, Discover, American Express and PIN
/// debit alike). Configurable per organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScheduleA {
    /// Fraction of volume: 0.0012 is 0.12%.
    pub rate: Decimal,
    /// Dollars per transaction.
    pub per_item: Decimal,
}

impl Default for ScheduleA {
    /// 0.12% + $0.02, the figures that give the seed's 14.6 on 10,000 / 130 transactions.
    fn default() -> Self {
        ScheduleA {
            rate: Decimal::new(12, 4),
            per_item: Decimal::new(2, 2),
        }
    }
}

impl ScheduleA {
    /// Unrounded cost of the activity.
    fn cost(&self, activity: &Activity) -> Option<Decimal> {
        let by_volume = self.rate.checked_mul(activity.total_volume())?;
        let by_items = self
            .per_item
            .checked_mul(Decimal::from(activity.total_items()))?;
        by_volume.checked_add(by_items)
    }
}

/// Estimated costs for a month of activity, each rounded half-up to cents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CostEstimate {
    pub vmd_interchange: Decimal,
    pub vmd_card_brand_fees: Decimal,
    /// `None` when there is no American Express activity.
    pub amex_optblue: Option<Decimal>,
    /// `None` when there is no PIN debit activity.
    pub pin_debit_network_fees: Option<Decimal>,
    pub schedule_a_cost: Decimal,
}

impl CostEstimate {
    /// The estimate a pass-through line multiplies; an absent one is 0.
    pub fn cost(&self, kind: CostKind) -> Decimal {
        match kind {
            CostKind::Interchange => self.vmd_interchange,
            CostKind::AmexOptBlue => self.amex_optblue.unwrap_or(Decimal::ZERO),
            CostKind::DebitNetwork => self.pin_debit_network_fees.unwrap_or(Decimal::ZERO),
        }
    }
}

/// Interchange, card-brand fees and Schedule A, from which costs are estimated.
#[derive(Debug, Clone, PartialEq, Eq)]
/// Cloning is cheap (the tables are shared), so a model per organization costs nothing.
pub struct CostModel {
    interchange: Arc<RateTable>,
    brand_fees: Arc<RateTable>,
    schedule_a: ScheduleA,
}

const VMD: &[Leaf] = VMD_LEAVES;

impl CostModel {
    /// A model from its tables. The interchange table must have exactly one row per leaf;
    /// the brand-fee table at least one row per Visa, Mastercard and Discover leaf.
    pub fn new(
        interchange: RateTable,
        brand_fees: RateTable,
        schedule_a: ScheduleA,
    ) -> Result<CostModel, TableError> {
        interchange.require_exactly_one(Leaf::ALL)?;
        brand_fees.require_some(VMD)?;
        Ok(CostModel {
            interchange: Arc::new(interchange),
            brand_fees: Arc::new(brand_fees),
            schedule_a,
        })
    }

    /// The shipped tables with the default Schedule A.
    pub fn shipped() -> Result<CostModel, TableError> {
        CostModel::new(
            RateTable::shipped_interchange()?,
            RateTable::shipped_brand_fees()?,
            ScheduleA::default(),
        )
    }

    /// The same model with another Schedule A (an organization's own).
    pub fn with_schedule_a(self, schedule_a: ScheduleA) -> CostModel {
        CostModel { schedule_a, ..self }
    }

    pub fn interchange(&self) -> &RateTable {
        &self.interchange
    }

    pub fn brand_fees(&self) -> &RateTable {
        &self.brand_fees
    }

    pub fn schedule_a(&self) -> ScheduleA {
        self.schedule_a
    }

    /// Estimates a month's costs. Each figure is summed unrounded over its leaves and rows and
    /// then rounded half-up to cents:
    /// - vmd_interchange: interchange rows of the six Visa/Mastercard/Discover leaves;
    /// - vmd_card_brand_fees: brand-fee rows of those leaves;
    /// - amex_optblue: the Amex interchange (OptBlue) row plus Amex brand-fee rows (the
    ///   network fee), `None` without Amex activity;
    /// - pin_debit_network_fees: the PIN debit rows of both tables, `None` without PIN debit
    ///   activity;
    /// - schedule_a_cost: Schedule A on all card volume and transactions.
    pub fn estimate(&self, activity: &Activity) -> Result<CostEstimate, PricingError> {
        let overflow = |what: &str| PricingError::Overflow(what.to_owned());
        let table_sum =
            |table: &RateTable, leaves: &[Leaf], what: &str| -> Result<Decimal, PricingError> {
                leaves.iter().try_fold(Decimal::ZERO, |acc, leaf| {
                    table
                        .leaf_cost(*leaf, activity)
                        .and_then(|cost| acc.checked_add(cost))
                        .ok_or_else(|| overflow(what))
                })
            };
        let both = |leaf: Leaf, what: &str| -> Result<Option<Decimal>, PricingError> {
            if !activity.is_active(leaf.scope()) {
                return Ok(None);
            }
            let cost = table_sum(&self.interchange, &[leaf], what)?
                .checked_add(table_sum(&self.brand_fees, &[leaf], what)?)
                .ok_or_else(|| overflow(what))?;
            Ok(Some(round_cents(cost)))
        };
        Ok(CostEstimate {
            vmd_interchange: round_cents(table_sum(&self.interchange, VMD, "vmdInterchange")?),
            vmd_card_brand_fees: round_cents(table_sum(&self.brand_fees, VMD, "vmdCardBrandFees")?),
            amex_optblue: both(Leaf::Amex, "amexOptBlue")?,
            pin_debit_network_fees: both(Leaf::PinDebit, "pinDebitNetworkFees")?,
            schedule_a_cost: round_cents(
                self.schedule_a
                    .cost(activity)
                    .ok_or_else(|| overflow("scheduleACost"))?,
            ),
        })
    }
}

/// The merchant's margin rate: (current fees − interchange − card-brand fees − OptBlue − PIN
/// network fees − Schedule A) ÷ volume, rounded half-up to 5 decimals. `None` when the volume
/// is zero (or negative), or if the arithmetic overflows.
pub fn margin(
    total_current_fees: Decimal,
    costs: &CostEstimate,
    total_volume: Decimal,
) -> Option<Decimal> {
    if total_volume <= Decimal::ZERO {
        return None;
    }
    let spent = [
        Some(costs.vmd_interchange),
        Some(costs.vmd_card_brand_fees),
        costs.amex_optblue,
        costs.pin_debit_network_fees,
        Some(costs.schedule_a_cost),
    ];
    let kept = spent
        .into_iter()
        .flatten()
        .try_fold(total_current_fees, |left, cost| left.checked_sub(cost))?;
    let rate = kept.checked_div(total_volume)?;
    Some(rate.round_dp_with_strategy(5, RoundingStrategy::MidpointAwayFromZero))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::{ActivityType as T, Mix, RateTable, plain_text};

    fn d(text: &str) -> Decimal {
        Decimal::from_str_exact(text).unwrap()
    }

    fn activity(lines: &[(T, &str, u64)]) -> Activity {
        let lines: Vec<_> = lines.iter().map(|(t, v, n)| (*t, d(v), *n)).collect();
        Activity::from_lines(&lines, &Mix::seed_default()).unwrap()
    }

    fn seed_example() -> Activity {
        activity(&[(T::Vs, "8000", 100), (T::Mc, "2000", 30)])
    }

    #[test]
    fn schedule_a_default_reproduces_the_seed() {
        // 0.12% × 10,000 + $0.02 × 130 = 12 + 2.6 = 14.6
        let estimate = CostModel::shipped()
            .unwrap()
            .estimate(&seed_example())
            .unwrap();
        assert_eq!(plain_text(estimate.schedule_a_cost), "14.6");
        // Configurable: 0.10% + $0.05 → 10 + 6.5 = 16.5.
        let model = CostModel::shipped().unwrap().with_schedule_a(ScheduleA {
            rate: d("0.0010"),
            per_item: d("0.05"),
        });
        assert_eq!(
            model.estimate(&seed_example()).unwrap().schedule_a_cost,
            d("16.5")
        );
        assert_eq!(model.schedule_a().per_item, d("0.05"));
    }

    #[test]
    fn margin_reproduces_the_seed_with_its_figures_injected() {
        // The seed's own vmdInterchange 151.49 and vmdCardBrandFees 4 cannot be derived; inject
        // them: (320 − 151.49 − 4 − 14.6) / 10000 = 149.91 / 10000 = 0.014991 → 0.01499.
        let costs = CostEstimate {
            vmd_interchange: d("151.49"),
            vmd_card_brand_fees: d("4"),
            amex_optblue: None,
            pin_debit_network_fees: None,
            schedule_a_cost: d("14.6"),
        };
        let volume = seed_example().total_volume();
        assert_eq!(
            plain_text(margin(d("320"), &costs, volume).unwrap()),
            "0.01499"
        );
        // OptBlue and PIN network fees are subtracted when present: 149.91 − 10 − 20 = 119.91.
        let with_both = CostEstimate {
            amex_optblue: Some(d("10")),
            pin_debit_network_fees: Some(d("20")),
            ..costs.clone()
        };
        assert_eq!(margin(d("320"), &with_both, d("10000")), Some(d("0.01199")));
        // Half-up at the fifth decimal: 0.25 / 10000 = 0.000025 → 0.00003 (banker's rounding
        // would give 0.00002); away from zero when negative.
        let zero = CostEstimate {
            vmd_interchange: Decimal::ZERO,
            vmd_card_brand_fees: Decimal::ZERO,
            amex_optblue: None,
            pin_debit_network_fees: None,
            schedule_a_cost: Decimal::ZERO,
        };
        assert_eq!(margin(d("0.25"), &zero, d("10000")), Some(d("0.00003")));
        assert_eq!(margin(d("-0.25"), &zero, d("10000")), Some(d("-0.00003")));
        assert_eq!(margin(d("320"), &costs, Decimal::ZERO), None);
    }

    #[test]
    fn estimate_of_the_seed_example_from_the_shipped_tables() {
        // Default mix: Visa credit 1859.39/22, check 6140.61/78; MC credit 464.65/7, check
        // 1535.35/23 (see activity tests).
        // Interchange:
        //   1859.39 × 0.0151 = 28.076789   + 22 × 0.10 = 2.20
        //   6140.61 × 0.0080 = 49.12488    + 78 × 0.15 = 11.70
        //    464.65 × 0.0158 =  7.34147    +  7 × 0.10 = 0.70
        //   1535.35 × 0.0105 = 16.121175   + 23 × 0.15 = 3.45
        //   = 118.714314 → 118.71
        // Card-brand fees:
        //   1859.39 × 0.0014 = 2.603146    + 22 × 0.0195 = 0.429
        //   6140.61 × 0.0013 = 7.982793    + 78 × 0.0155 = 1.209
        //    464.65 × 0.0014 = 0.65051     +  7 × 0.0195 = 0.1365
        //   1535.35 × 0.0014 = 2.14949     + 23 × 0.0195 = 0.4485
        //   = 15.608939 → 15.61
        // Margin: (320 − 118.71 − 15.61 − 14.6) / 10000 = 171.08 / 10000 = 0.017108 → 0.01711.
        let model = CostModel::shipped().unwrap();
        let activity = seed_example();
        let estimate = model.estimate(&activity).unwrap();
        assert_eq!(
            estimate,
            CostEstimate {
                vmd_interchange: d("118.71"),
                vmd_card_brand_fees: d("15.61"),
                amex_optblue: None,
                pin_debit_network_fees: None,
                schedule_a_cost: d("14.60"),
            }
        );
        assert_eq!(
            margin(d("320"), &estimate, activity.total_volume()),
            Some(d("0.01711"))
        );
    }

    #[test]
    fn estimate_rounds_half_cents_up_and_fills_amex_and_pin_when_active() {
        // Brand fees: visa credit 3000 × 0.0014 + 40 × 0.0195 = 4.20 + 0.78 = 4.98
        //             visa check 5000 × 0.0013 + 60 × 0.0155 = 6.50 + 0.93 = 7.43
        //             mc credit  2000 × 0.0014 + 10 × 0.0195 = 2.80 + 0.195 = 2.995
        //             = 15.405 → 15.41 (banker's rounding would give 15.40)
        // Interchange: 3000 × 0.0151 + 4.00 = 49.30; 5000 × 0.0080 + 9.00 = 49.00;
        //              2000 × 0.0158 + 1.00 = 32.60; = 130.90
        // Amex: 100 × 0.0230 + 2 × 0.10 = 2.50, network 100 × 0.0016 = 0.16 → 2.66
        // PIN debit: 50 × 0.0090 + 1 × 0.30 = 0.45 + 0.30 = 0.75
        // Schedule A: 0.0012 × 10150 + 0.02 × 113 = 12.18 + 2.26 = 14.44
        let activity = activity(&[
            (T::VsCredit, "3000", 40),
            (T::VsCheck, "5000", 60),
            (T::McCredit, "2000", 10),
            (T::Amex, "100", 2),
            (T::PinDebit, "50", 1),
        ]);
        let estimate = CostModel::shipped().unwrap().estimate(&activity).unwrap();
        assert_eq!(estimate.vmd_card_brand_fees, d("15.41"));
        assert_eq!(estimate.vmd_interchange, d("130.90"));
        assert_eq!(estimate.amex_optblue, Some(d("2.66")));
        assert_eq!(estimate.pin_debit_network_fees, Some(d("0.75")));
        assert_eq!(estimate.schedule_a_cost, d("14.44"));
        // Pass-through lines pick these up; absent ones are zero.
        assert_eq!(estimate.cost(CostKind::AmexOptBlue), d("2.66"));
        let idle = Activity::empty();
        let none = CostModel::shipped().unwrap().estimate(&idle).unwrap();
        assert_eq!(
            (none.amex_optblue, none.pin_debit_network_fees),
            (None, None)
        );
        assert_eq!(none.cost(CostKind::DebitNetwork), Decimal::ZERO);
        assert_eq!(none.vmd_interchange, Decimal::ZERO);
    }

    #[test]
    fn model_refuses_tables_that_miss_leaves() {
        let header = crate::HEADER;
        let thin = RateTable::parse(
            "thin.tsv",
            &format!("{header}\nvisa_credit\tVisa\tx\t0.01\t0.1\t2020-01-01\ts\n"),
        )
        .unwrap();
        let err = CostModel::new(
            thin.clone(),
            RateTable::shipped_brand_fees().unwrap(),
            ScheduleA::default(),
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "thin.tsv line 0: no row for visa_check");
        let err = CostModel::new(
            RateTable::shipped_interchange().unwrap(),
            thin,
            ScheduleA::default(),
        )
        .unwrap_err();
        assert_eq!(
            err.kind,
            crate::TableErrorKind::MissingLeaf(Leaf::VisaCheck)
        );
    }
}
