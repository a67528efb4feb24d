//! A merchant type's card mix and the largest-remainder spreading that uses it.

use rust_decimal::Decimal;

use super::{Activity, ActivityError, LeafActivity};
use crate::leaf::{LEAF_COUNT, Leaf};

/// The most fractional digits a mix share may have (keeps the spreading arithmetic exact).
pub const MAX_SHARE_DECIMALS: u32 = 12;

/// Which set of shares an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShareKind {
    Volume,
    Items,
}

impl std::fmt::Display for ShareKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ShareKind::Volume => "volume",
            ShareKind::Items => "items",
        })
    }
}

/// Why a mix was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MixError {
    #[error("{kind} share of {leaf} is given twice")]
    Duplicate { kind: ShareKind, leaf: Leaf },
    #[error("{kind} share of {leaf} must be between 0 and 1")]
    OutOfRange { kind: ShareKind, leaf: Leaf },
    #[error("{kind} share of {leaf} has more than {MAX_SHARE_DECIMALS} decimal places")]
    TooPrecise { kind: ShareKind, leaf: Leaf },
    #[error("{kind} shares must add up to exactly 1, not {sum}")]
    SumNotOne { kind: ShareKind, sum: Decimal },
}

/// A merchant type's card mix: for each leaf its share of card volume and its share of
/// transactions. Each set of shares lies in [0, 1] and adds up to exactly 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mix {
    volume: [Decimal; LEAF_COUNT],
    items: [Decimal; LEAF_COUNT],
}

fn share_array(
    kind: ShareKind,
    shares: &[(Leaf, Decimal)],
) -> Result<[Decimal; LEAF_COUNT], MixError> {
    let mut out = [Decimal::ZERO; LEAF_COUNT];
    let mut seen = [false; LEAF_COUNT];
    let mut sum = Decimal::ZERO;
    for &(leaf, share) in shares {
        if std::mem::replace(&mut seen[leaf.index()], true) {
            return Err(MixError::Duplicate { kind, leaf });
        }
        if share < Decimal::ZERO || share > Decimal::ONE {
            return Err(MixError::OutOfRange { kind, leaf });
        }
        if share.normalize().scale() > MAX_SHARE_DECIMALS {
            return Err(MixError::TooPrecise { kind, leaf });
        }
        out[leaf.index()] = share;
        // At most eight values in [0, 1] with at most 12 decimals: no overflow, no rounding.
        sum += share;
    }
    if sum != Decimal::ONE {
        return Err(MixError::SumNotOne {
            kind,
            sum: sum.normalize(),
        });
    }
    Ok(out)
}

impl Mix {
    /// Builds a mix from per-leaf shares; leaves not listed get 0. Each share must lie in
    /// [0, 1] with at most [`MAX_SHARE_DECIMALS`] decimals, and each set must add up to 1.
    pub fn new(
        volume_shares: &[(Leaf, Decimal)],
        item_shares: &[(Leaf, Decimal)],
    ) -> Result<Mix, MixError> {
        Ok(Mix {
            volume: share_array(ShareKind::Volume, volume_shares)?,
            items: share_array(ShareKind::Items, item_shares)?,
        })
    }

    /// The mix that reproduces the seed's simple proposal: 20000 of VMD volume at an average
    /// ticket of 37.90 (527 items) spreads to Visa credit 3476.90/88, Visa check 11482.44/313,
    /// Mastercard 4932.77/122 (credit 1146.00/28, check 3786.77/94) and Discover 107.89/4
    /// (credit 25.07/1, check 82.82/3). The Visa split is the one the seed's NABU and
    /// assessment lines imply; the Mastercard and Discover credit/check splits, which the seed
    /// does not show, follow Visa's (about 23% credit by volume). No Amex or PIN debit.
    pub fn seed_default() -> Mix {
        // Checked against `Mix::new` by a unit test.
        Mix {
            volume: [
                Decimal::new(173_845, 6),   // visa credit   0.173845
                Decimal::new(574_122, 6),   // visa check    0.574122
                Decimal::new(573, 4),       // mc credit     0.0573
                Decimal::new(1_893_385, 7), // mc check      0.1893385
                Decimal::new(12_535, 7),    // disc credit   0.0012535
                Decimal::new(4_141, 6),     // disc check    0.004141
                Decimal::ZERO,              // amex
                Decimal::ZERO,              // pin debit
            ],
            items: [
                Decimal::new(167, 3), // 0.167
                Decimal::new(594, 3), // 0.594
                Decimal::new(535, 4), // 0.0535
                Decimal::new(178, 3), // 0.178
                Decimal::new(17, 4),  // 0.0017
                Decimal::new(58, 4),  // 0.0058
                Decimal::ZERO,
                Decimal::ZERO,
            ],
        }
    }

    /// The leaf's share of volume.
    pub fn volume_share(&self, leaf: Leaf) -> Decimal {
        self.volume[leaf.index()]
    }

    /// The leaf's share of transactions.
    pub fn item_share(&self, leaf: Leaf) -> Decimal {
        self.items[leaf.index()]
    }

    /// Spreads a total volume and transaction count over all eight leaves by the
    /// largest-remainder method, so the parts add up exactly to the totals. Volume is spread
    /// in cents (or in the total's own smallest unit when it has more than two decimals);
    /// items in whole transactions. Equal remainders go to the earlier leaf in [`Leaf::ALL`].
    pub fn spread(&self, total_volume: Decimal, items: u64) -> Result<Activity, ActivityError> {
        if total_volume.is_sign_negative() && !total_volume.is_zero() {
            return Err(ActivityError::NegativeTotalVolume);
        }
        let volumes = spread_volume(total_volume, &self.volume)?;
        let counts = spread_items(items, &self.items)?;
        let mut leaves = [LeafActivity::default(); LEAF_COUNT];
        for leaf in Leaf::ALL {
            let i = leaf.index();
            // Both sets of shares add up to 1, so neither spread can come back empty.
            leaves[i] = LeafActivity {
                volume: volumes.as_ref().map_or(Decimal::ZERO, |v| v[i]),
                items: counts.as_ref().map_or(0, |c| c[i]),
            };
        }
        Activity::from_leaf_array(leaves)
    }
}

/// Transactions implied by a volume and an average ticket: floor(volume ÷ avg_ticket),
/// computed exactly. The seed's 20000 at 37.90 gives 527.
pub fn items_from_avg_ticket(
    total_volume: Decimal,
    avg_ticket: Decimal,
) -> Result<u64, ActivityError> {
    if avg_ticket.is_sign_negative() || avg_ticket.is_zero() {
        return Err(ActivityError::NonPositiveAvgTicket);
    }
    if total_volume.is_sign_negative() && !total_volume.is_zero() {
        return Err(ActivityError::NegativeTotalVolume);
    }
    let scale = total_volume.scale().max(avg_ticket.scale());
    let volume = scaled_units(total_volume, scale)?;
    let ticket = scaled_units(avg_ticket, scale)?;
    u64::try_from(volume / ticket).map_err(|_| ActivityError::Overflow)
}

/// `value` (non-negative) as a whole number of 10^-scale units, `scale >= value.scale()`.
fn scaled_units(value: Decimal, scale: u32) -> Result<u128, ActivityError> {
    let mantissa =
        u128::try_from(value.mantissa()).map_err(|_| ActivityError::NegativeTotalVolume)?;
    10u128
        .checked_pow(scale - value.scale())
        .and_then(|factor| mantissa.checked_mul(factor))
        .ok_or(ActivityError::Overflow)
}

/// Spreads a non-negative volume over `weights` in units of 10^-s, s = max(2, its scale).
/// `None` when every weight is zero.
pub(crate) fn spread_volume(
    volume: Decimal,
    weights: &[Decimal],
) -> Result<Option<Vec<Decimal>>, ActivityError> {
    let volume = volume.normalize();
    let scale = volume.scale().max(2);
    let units = scaled_units(volume, scale)?;
    let Some(parts) = apportion(units, weights)? else {
        return Ok(None);
    };
    parts
        .into_iter()
        .map(|part| {
            i128::try_from(part)
                .ok()
                .and_then(|part| Decimal::try_from_i128_with_scale(part, scale).ok())
                .ok_or(ActivityError::Overflow)
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// Spreads a transaction count over `weights`. `None` when every weight is zero.
pub(crate) fn spread_items(
    items: u64,
    weights: &[Decimal],
) -> Result<Option<Vec<u64>>, ActivityError> {
    let Some(parts) = apportion(u128::from(items), weights)? else {
        return Ok(None);
    };
    // Each part is at most the total, which came from a u64.
    parts
        .into_iter()
        .map(|p| u64::try_from(p).map_err(|_| ActivityError::Overflow))
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// Largest-remainder apportionment of `total` units over non-negative `weights`, in exact
/// integer arithmetic: each part gets floor(total × w / W), then the units left over go one
/// each to the parts with the largest remainders, earlier parts first on equal remainders.
/// `None` when the weights add up to zero.
pub(crate) fn apportion(
    total: u128,
    weights: &[Decimal],
) -> Result<Option<Vec<u128>>, ActivityError> {
    let scale = weights.iter().map(|w| w.scale()).max().unwrap_or(0);
    let ints = weights
        .iter()
        .map(|w| scaled_units(*w, scale))
        .collect::<Result<Vec<_>, _>>()?;
    let sum = ints
        .iter()
        .try_fold(0u128, |acc, w| acc.checked_add(*w))
        .ok_or(ActivityError::Overflow)?;
    if sum == 0 {
        return Ok(None);
    }
    let mut parts = Vec::with_capacity(ints.len());
    let mut remainders = Vec::with_capacity(ints.len());
    for w in &ints {
        let quota = total.checked_mul(*w).ok_or(ActivityError::Overflow)?;
        parts.push(quota / sum);
        remainders.push(quota % sum);
    }
    // Fewer than `ints.len()` units are left, since each floor loses less than one.
    let given: u128 = parts.iter().sum();
    let left = usize::try_from(total - given).map_err(|_| ActivityError::Overflow)?;
    let mut order: Vec<usize> = (0..ints.len()).collect();
    order.sort_by(|&a, &b| remainders[b].cmp(&remainders[a]).then(a.cmp(&b)));
    for &i in order.iter().take(left) {
        parts[i] += 1;
    }
    Ok(Some(parts))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(text: &str) -> Decimal {
        Decimal::from_str_exact(text).unwrap()
    }

    fn shares(mix: &Mix, f: fn(&Mix, Leaf) -> Decimal) -> Vec<(Leaf, Decimal)> {
        Leaf::ALL.iter().map(|l| (*l, f(mix, *l))).collect()
    }

    #[test]
    fn seed_default_is_a_valid_mix() {
        let mix = Mix::seed_default();
        let rebuilt = Mix::new(
            &shares(&mix, Mix::volume_share),
            &shares(&mix, Mix::item_share),
        )
        .unwrap();
        assert_eq!(rebuilt, mix);
        // The seed's Visa / Mastercard / Discover volume shares.
        assert_eq!(mix.volume_share(Leaf::VisaCredit), d("0.173845"));
        assert_eq!(mix.volume_share(Leaf::VisaCheck), d("0.574122"));
        assert_eq!(
            mix.volume_share(Leaf::MastercardCredit) + mix.volume_share(Leaf::MastercardCheck),
            d("0.2466385")
        );
        assert_eq!(
            mix.volume_share(Leaf::DiscoverCredit) + mix.volume_share(Leaf::DiscoverCheck),
            d("0.0053945")
        );
    }

    #[test]
    fn seed_default_spreads_the_simple_proposal() {
        let items = items_from_avg_ticket(d("20000"), d("37.90")).unwrap();
        assert_eq!(items, 527);
        let activity = Mix::seed_default().spread(d("20000"), items).unwrap();
        let leaf = |l| activity.leaf(l);
        assert_eq!(
            leaf(Leaf::VisaCredit),
            LeafActivity {
                volume: d("3476.90"),
                items: 88
            }
        );
        assert_eq!(
            leaf(Leaf::VisaCheck),
            LeafActivity {
                volume: d("11482.44"),
                items: 313
            }
        );
        assert_eq!(
            leaf(Leaf::MastercardCredit),
            LeafActivity {
                volume: d("1146.00"),
                items: 28
            }
        );
        assert_eq!(
            leaf(Leaf::MastercardCheck),
            LeafActivity {
                volume: d("3786.77"),
                items: 94
            }
        );
        assert_eq!(
            leaf(Leaf::DiscoverCredit),
            LeafActivity {
                volume: d("25.07"),
                items: 1
            }
        );
        assert_eq!(
            leaf(Leaf::DiscoverCheck),
            LeafActivity {
                volume: d("82.82"),
                items: 3
            }
        );
        assert_eq!(leaf(Leaf::Amex), LeafActivity::default());
        assert_eq!(leaf(Leaf::PinDebit), LeafActivity::default());
        assert_eq!(activity.total_volume(), d("20000"));
        assert_eq!(activity.total_items(), 527);
    }

    #[test]
    fn mix_new_checks_ranges_sums_and_duplicates() {
        use Leaf::*;
        let one = [(VisaCredit, Decimal::ONE)];
        assert!(Mix::new(&one, &one).is_ok());
        assert_eq!(
            Mix::new(&[(VisaCredit, d("0.5")), (VisaCheck, d("0.4"))], &one),
            Err(MixError::SumNotOne {
                kind: ShareKind::Volume,
                sum: d("0.9")
            })
        );
        assert_eq!(
            Mix::new(&one, &[(VisaCredit, d("1.5")), (VisaCheck, d("-0.5"))]),
            Err(MixError::OutOfRange {
                kind: ShareKind::Items,
                leaf: VisaCredit
            })
        );
        assert_eq!(
            Mix::new(&[(Amex, d("0.5")), (Amex, d("0.5"))], &one),
            Err(MixError::Duplicate {
                kind: ShareKind::Volume,
                leaf: Amex
            })
        );
        assert_eq!(
            Mix::new(
                &[
                    (Amex, d("0.0000000000001")),
                    (PinDebit, d("0.9999999999999"))
                ],
                &one
            ),
            Err(MixError::TooPrecise {
                kind: ShareKind::Volume,
                leaf: Amex
            })
        );
        // Trailing zeros do not count as precision.
        assert!(Mix::new(&[(Amex, d("1.00000000000000"))], &one).is_ok());
        assert_eq!(
            MixError::SumNotOne {
                kind: ShareKind::Items,
                sum: d("0.9")
            }
            .to_string(),
            "items shares must add up to exactly 1, not 0.9"
        );
    }

    #[test]
    fn apportion_breaks_ties_by_leaf_order() {
        // Three equal weights, 10 units: 3 each, the one left over to the first.
        let third = [d("1"), d("1"), d("1")];
        assert_eq!(apportion(10, &third).unwrap(), Some(vec![4, 3, 3]));
        assert_eq!(apportion(11, &third).unwrap(), Some(vec![4, 4, 3]));
        // Largest remainder wins over position: 0.2/0.3/0.5 of 1 → remainders .2 .3 .5.
        assert_eq!(
            apportion(1, &[d("0.2"), d("0.3"), d("0.5")]).unwrap(),
            Some(vec![0, 0, 1])
        );
        assert_eq!(apportion(5, &[d("0"), d("0")]).unwrap(), None);
        assert_eq!(
            apportion(0, &[d("0.5"), d("0.5")]).unwrap(),
            Some(vec![0, 0])
        );
    }

    #[test]
    fn spread_volume_uses_the_totals_own_unit_when_finer_than_cents() {
        let parts = spread_volume(d("0.005"), &[d("0.5"), d("0.5")])
            .unwrap()
            .unwrap();
        assert_eq!(parts, vec![d("0.003"), d("0.002")]);
        let parts = spread_volume(d("1"), &[d("0.5"), d("0.25"), d("0.25")])
            .unwrap()
            .unwrap();
        assert_eq!(parts, vec![d("0.50"), d("0.25"), d("0.25")]);
    }

    #[test]
    fn items_from_avg_ticket_is_exact_and_refuses_bad_tickets() {
        assert_eq!(items_from_avg_ticket(d("100"), d("0.01")).unwrap(), 10_000);
        assert_eq!(items_from_avg_ticket(d("99.99"), d("33.33")).unwrap(), 3);
        assert_eq!(items_from_avg_ticket(d("99.98"), d("33.33")).unwrap(), 2);
        assert_eq!(items_from_avg_ticket(d("0"), d("12")).unwrap(), 0);
        // 1 / 3 would round up to 1 in 28-digit division if it were not exact.
        assert_eq!(
            items_from_avg_ticket(d("0.9999999999999999999999999999"), d("1")).unwrap(),
            0
        );
        assert_eq!(
            items_from_avg_ticket(d("10"), d("0")),
            Err(ActivityError::NonPositiveAvgTicket)
        );
        assert_eq!(
            items_from_avg_ticket(d("10"), d("-1")),
            Err(ActivityError::NonPositiveAvgTicket)
        );
        assert_eq!(
            items_from_avg_ticket(d("-10"), d("1")),
            Err(ActivityError::NegativeTotalVolume)
        );
        assert_eq!(
            items_from_avg_ticket(d("79228162514264337593543950335"), d("0.0000001")),
            Err(ActivityError::Overflow)
        );
    }

    #[test]
    fn spread_refuses_negative_totals() {
        assert_eq!(
            Mix::seed_default().spread(d("-1"), 1),
            Err(ActivityError::NegativeTotalVolume)
        );
    }

    /// Random valid shares: eight integer weights turned into shares with `scale` decimals
    /// that add up to exactly 1 (the last non-zero weight takes the rounding slack).
    fn shares_strategy() -> impl Strategy<Value = Vec<(Leaf, Decimal)>> {
        (proptest::collection::vec(0u32..1000, LEAF_COUNT), 0u32..=6).prop_filter_map(
            "all-zero weights",
            |(weights, scale)| {
                let sum: u32 = weights.iter().sum();
                if sum == 0 {
                    return None;
                }
                let unit = 10i64.pow(scale);
                let mut ints: Vec<i64> = weights
                    .iter()
                    .map(|w| i64::from(*w) * unit / i64::from(sum))
                    .collect();
                let slack = unit - ints.iter().sum::<i64>();
                let last = weights.iter().rposition(|w| *w > 0)?;
                ints[last] += slack;
                Some(
                    Leaf::ALL
                        .iter()
                        .zip(ints)
                        .map(|(l, n)| (*l, Decimal::new(n, scale)))
                        .collect(),
                )
            },
        )
    }

    proptest! {
        #[test]
        fn spread_sums_exactly_to_the_totals(
            volume_shares in shares_strategy(),
            item_shares in shares_strategy(),
            cents in 0i64..=10_000_000_000_000,
            extra_scale in 0u32..=4,
            items in any::<u64>(),
        ) {
            let mix = Mix::new(&volume_shares, &item_shares).unwrap();
            let total = Decimal::new(cents, 2 + extra_scale);
            let activity = mix.spread(total, items).unwrap();
            prop_assert_eq!(activity.total_volume(), total);
            prop_assert_eq!(activity.total_items(), items);
            for leaf in Leaf::ALL {
                let part = activity.leaf(*leaf);
                // Zero share, zero part; otherwise within one unit of the exact quota.
                if mix.volume_share(*leaf).is_zero() {
                    prop_assert!(part.volume.is_zero());
                }
                if mix.item_share(*leaf).is_zero() {
                    prop_assert_eq!(part.items, 0);
                }
                let quota = total * mix.volume_share(*leaf);
                let unit = Decimal::new(1, total.normalize().scale().max(2));
                prop_assert!((part.volume - quota).abs() < unit);
                prop_assert!(part.volume >= Decimal::ZERO);
            }
        }
    }
}
