//! A merchant's monthly card activity, kept per leaf, and the card [`mix`] it is spread by.

pub mod mix;

use rust_decimal::Decimal;

use crate::leaf::{ActivityType, LEAF_COUNT, Leaf, Scope};
use mix::{Mix, spread_items, spread_volume};

/// Why activity could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActivityError {
    /// The activity line at this index (0-based) has a negative volume.
    #[error("merchant activity {index} has a negative volume")]
    NegativeVolume { index: usize },
    #[error("total volume must not be negative")]
    NegativeTotalVolume,
    #[error("average ticket must be greater than zero")]
    NonPositiveAvgTicket,
    #[error("volume or transaction count is too large")]
    Overflow,
}

/// One leaf's volume (dollars) and transaction count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LeafActivity {
    pub volume: Decimal,
    pub items: u64,
}

/// `n` parts: everything on the first (credit) leaf, `zero` on the rest.
fn credit_only<T: Copy>(n: usize, all: T, zero: T) -> Vec<T> {
    (0..n).map(|i| if i == 0 { all } else { zero }).collect()
}

/// A row of the `merchant_activity` list the ISO Amp face shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrandRow {
    /// "Visa", "Mastercard", "Discover", "American Express" or "PIN Debit".
    pub name: &'static str,
    pub volume: Decimal,
    pub items: u64,
}

/// The display rows, in the seed's order.
const BRAND_ROWS: [(&str, Scope); 5] = [
    ("Visa", Scope::Visa),
    ("Mastercard", Scope::Mastercard),
    ("Discover", Scope::Discover),
    ("American Express", Scope::Amex),
    ("PIN Debit", Scope::PinDebit),
];

/// A merchant's card activity per leaf. Volumes are never negative, and the totals over all
/// leaves fit a `Decimal` and a `u64`, so any scope's sums do too.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Activity {
    leaves: [LeafActivity; LEAF_COUNT],
}

impl Activity {
    /// No activity at all.
    pub fn empty() -> Activity {
        Activity::default()
    }

    pub(crate) fn from_leaf_array(
        leaves: [LeafActivity; LEAF_COUNT],
    ) -> Result<Activity, ActivityError> {
        let mut volume = Decimal::ZERO;
        let mut items = 0u64;
        for leaf in &leaves {
            if leaf.volume.is_sign_negative() && !leaf.volume.is_zero() {
                return Err(ActivityError::NegativeTotalVolume);
            }
            volume = volume
                .checked_add(leaf.volume)
                .ok_or(ActivityError::Overflow)?;
            items = items
                .checked_add(leaf.items)
                .ok_or(ActivityError::Overflow)?;
        }
        Ok(Activity { leaves })
    }

    /// Builds activity from `merchantActivity`-style lines. A line of a single-leaf type adds
    /// to its leaf as given. A combined type (`vmd`, `vs`, `mc`, `ds`) is split over its
    /// leaves in proportion to the mix's shares within that group (volume by volume shares,
    /// items by item shares) with the largest-remainder method, volume in cents (or the line's
    /// own smallest unit if finer), ties to the earlier leaf; when the mix gives the group no
    /// weight, the whole line goes to its credit leaf. Lines of the same type add up.
    pub fn from_lines(
        lines: &[(ActivityType, Decimal, u64)],
        mix: &Mix,
    ) -> Result<Activity, ActivityError> {
        let mut leaves = [LeafActivity::default(); LEAF_COUNT];
        for (index, &(ty, volume, items)) in lines.iter().enumerate() {
            if volume.is_sign_negative() && !volume.is_zero() {
                return Err(ActivityError::NegativeVolume { index });
            }
            let group = ty.leaves();
            let (volumes, counts) = if group.len() == 1 {
                (vec![volume], vec![items])
            } else {
                let volume_weights: Vec<Decimal> =
                    group.iter().map(|l| mix.volume_share(*l)).collect();
                let item_weights: Vec<Decimal> = group.iter().map(|l| mix.item_share(*l)).collect();
                let volumes = spread_volume(volume, &volume_weights)?
                    .unwrap_or_else(|| credit_only(group.len(), volume, Decimal::ZERO));
                let counts = spread_items(items, &item_weights)?
                    .unwrap_or_else(|| credit_only(group.len(), items, 0));
                (volumes, counts)
            };
            for ((leaf, part_volume), part_items) in group.iter().zip(volumes).zip(counts) {
                let cell = &mut leaves[leaf.index()];
                cell.volume = cell
                    .volume
                    .checked_add(part_volume)
                    .ok_or(ActivityError::Overflow)?;
                cell.items = cell
                    .items
                    .checked_add(part_items)
                    .ok_or(ActivityError::Overflow)?;
            }
        }
        Activity::from_leaf_array(leaves)
    }

    /// One leaf's activity.
    pub fn leaf(&self, leaf: Leaf) -> LeafActivity {
        self.leaves[leaf.index()]
    }

    /// Volume over the scope's leaves.
    pub fn volume(&self, scope: Scope) -> Decimal {
        // Never saturates: every leaf is non-negative and the total fits.
        scope.leaves().iter().fold(Decimal::ZERO, |sum, l| {
            sum.saturating_add(self.leaf(*l).volume)
        })
    }

    /// Transactions over the scope's leaves.
    pub fn items(&self, scope: Scope) -> u64 {
        scope
            .leaves()
            .iter()
            .fold(0u64, |sum, l| sum.saturating_add(self.leaf(*l).items))
    }

    /// True when the scope has any transactions or any volume.
    pub fn is_active(&self, scope: Scope) -> bool {
        self.items(scope) > 0 || !self.volume(scope).is_zero()
    }

    /// Volume over all leaves.
    pub fn total_volume(&self) -> Decimal {
        self.volume(Scope::All)
    }

    /// Transactions over all leaves.
    pub fn total_items(&self) -> u64 {
        self.items(Scope::All)
    }

    /// The five `merchant_activity` rows, in the seed's order: Visa, Mastercard, Discover,
    /// American Express, PIN Debit.
    pub fn brand_rows(&self) -> [BrandRow; 5] {
        BRAND_ROWS.map(|(name, scope)| BrandRow {
            name,
            volume: self.volume(scope),
            items: self.items(scope),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use ActivityType as T;
    use proptest::prelude::*;

    fn d(text: &str) -> Decimal {
        Decimal::from_str_exact(text).unwrap()
    }

    #[test]
    fn leaf_lines_add_directly_and_brand_rows_follow_the_seed() {
        let activity = Activity::from_lines(
            &[
                (T::VsCredit, d("854.00"), 3),
                (T::VsCheck, d("1146.00"), 7),
                (T::Amex, d("10"), 1),
                (T::Amex, d("5.5"), 2),
            ],
            &Mix::seed_default(),
        )
        .unwrap();
        let rows = activity.brand_rows();
        let names: Vec<_> = rows.iter().map(|r| r.name).collect();
        assert_eq!(
            names,
            [
                "Visa",
                "Mastercard",
                "Discover",
                "American Express",
                "PIN Debit"
            ]
        );
        assert_eq!((rows[0].volume, rows[0].items), (d("2000"), 10));
        assert_eq!((rows[1].volume, rows[1].items), (Decimal::ZERO, 0));
        assert_eq!((rows[3].volume, rows[3].items), (d("15.5"), 3));
        assert_eq!(activity.volume(Scope::VisaCredit), d("854"));
        assert_eq!(activity.items(Scope::VisaCheck), 7);
        assert_eq!(activity.total_volume(), d("2015.5"));
        assert_eq!(activity.total_items(), 13);
        assert!(activity.is_active(Scope::Vmd));
        assert!(activity.is_active(Scope::Amex));
        assert!(!activity.is_active(Scope::Mastercard));
        assert!(!activity.is_active(Scope::PinDebit));
    }

    #[test]
    fn combined_types_split_by_the_mix_within_their_group() {
        // The seed's estimate example under the default mix. Visa volume weights 0.173845 /
        // 0.574122: 8000 × 0.173845 / 0.747967 = 1859.39x → credit 1859.39, check 6140.61.
        // Items 0.167 / 0.594: 100 × 0.167 / 0.761 = 21.94 → 22 and 78.
        let activity = Activity::from_lines(
            &[(T::Vs, d("8000"), 100), (T::Mc, d("2000"), 30)],
            &Mix::seed_default(),
        )
        .unwrap();
        assert_eq!(
            activity.leaf(Leaf::VisaCredit),
            LeafActivity {
                volume: d("1859.39"),
                items: 22
            }
        );
        assert_eq!(
            activity.leaf(Leaf::VisaCheck),
            LeafActivity {
                volume: d("6140.61"),
                items: 78
            }
        );
        assert_eq!(
            activity.leaf(Leaf::MastercardCredit),
            LeafActivity {
                volume: d("464.65"),
                items: 7
            }
        );
        assert_eq!(
            activity.leaf(Leaf::MastercardCheck),
            LeafActivity {
                volume: d("1535.35"),
                items: 23
            }
        );
        assert_eq!(activity.total_volume(), d("10000"));
        assert_eq!(activity.total_items(), 130);
    }

    #[test]
    fn a_group_without_weight_goes_to_its_credit_leaf() {
        let mix = Mix::new(
            &[(Leaf::VisaCredit, d("0.5")), (Leaf::VisaCheck, d("0.5"))],
            &[(Leaf::VisaCredit, d("0.5")), (Leaf::VisaCheck, d("0.5"))],
        )
        .unwrap();
        let activity =
            Activity::from_lines(&[(T::Ds, d("100"), 4), (T::Mc, d("0"), 0)], &mix).unwrap();
        assert_eq!(
            activity.leaf(Leaf::DiscoverCredit),
            LeafActivity {
                volume: d("100"),
                items: 4
            }
        );
        assert_eq!(activity.leaf(Leaf::DiscoverCheck), LeafActivity::default());
        // vmd under this mix: only Visa has weight, ties go to the earlier leaf.
        let activity = Activity::from_lines(&[(T::Vmd, d("0.03"), 3)], &mix).unwrap();
        assert_eq!(
            activity.leaf(Leaf::VisaCredit),
            LeafActivity {
                volume: d("0.02"),
                items: 2
            }
        );
        assert_eq!(
            activity.leaf(Leaf::VisaCheck),
            LeafActivity {
                volume: d("0.01"),
                items: 1
            }
        );
    }

    #[test]
    fn negative_volume_names_the_line() {
        let err = Activity::from_lines(
            &[(T::Vs, d("1"), 1), (T::Mc, d("-0.01"), 1)],
            &Mix::seed_default(),
        )
        .unwrap_err();
        assert_eq!(err, ActivityError::NegativeVolume { index: 1 });
        assert_eq!(err.to_string(), "merchant activity 1 has a negative volume");
        // Negative zero is zero.
        assert!(Activity::from_lines(&[(T::Vs, d("-0"), 0)], &Mix::seed_default()).is_ok());
    }

    #[test]
    fn totals_that_do_not_fit_are_refused() {
        let mix = Mix::seed_default();
        assert_eq!(
            Activity::from_lines(
                &[(T::Amex, Decimal::MAX, 1), (T::PinDebit, Decimal::MAX, 1)],
                &mix
            ),
            Err(ActivityError::Overflow)
        );
        assert_eq!(
            Activity::from_lines(
                &[(T::Amex, d("1"), u64::MAX), (T::PinDebit, d("1"), 1)],
                &mix
            ),
            Err(ActivityError::Overflow)
        );
    }

    #[test]
    fn activity_counts_as_active_with_volume_or_items_alone() {
        let mix = Mix::seed_default();
        let volume_only = Activity::from_lines(&[(T::PinDebit, d("1"), 0)], &mix).unwrap();
        let items_only = Activity::from_lines(&[(T::PinDebit, d("0"), 1)], &mix).unwrap();
        assert!(volume_only.is_active(Scope::PinDebit));
        assert!(items_only.is_active(Scope::PinDebit));
        assert!(!Activity::empty().is_active(Scope::All));
    }

    fn line_strategy() -> impl Strategy<Value = (ActivityType, Decimal, u64)> {
        (
            proptest::sample::select(ActivityType::ALL),
            0i64..=100_000_000_000,
            0u32..=4,
            0u64..=10_000_000,
        )
            .prop_map(|(ty, mantissa, scale, items)| (ty, Decimal::new(mantissa, scale), items))
    }

    proptest! {
        #[test]
        fn from_lines_preserves_totals(lines in proptest::collection::vec(line_strategy(), 0..12)) {
            let activity = Activity::from_lines(&lines, &Mix::seed_default()).unwrap();
            let volume: Decimal = lines.iter().map(|l| l.1).sum();
            let items: u64 = lines.iter().map(|l| l.2).sum();
            prop_assert_eq!(activity.total_volume(), volume);
            prop_assert_eq!(activity.total_items(), items);
            // Each type's volume stays within its own group.
            let visa: Decimal = lines.iter().filter(|l| matches!(l.0, T::Vs | T::VsCredit | T::VsCheck)).map(|l| l.1).sum();
            if lines.iter().all(|l| l.0 != T::Vmd) {
                prop_assert_eq!(activity.volume(Scope::Visa), visa);
            }
            let brand_volume: Decimal = activity.brand_rows().iter().map(|r| r.volume).sum();
            prop_assert_eq!(brand_volume, volume);
        }
    }
}
