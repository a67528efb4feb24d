//! Fee lines, their bases, the seed's default program and pricing a program on activity.

use rust_decimal::Decimal;

use crate::activity::Activity;
use crate::cost::{CostEstimate, CostKind, PricingError, round_cents};
use crate::leaf::Scope;

/// What a fee line's amount is multiplied by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FeeBasis {
    /// amount × the scope's volume (amount is a rate: 0.0025 is 0.25%).
    Volume(Scope),
    /// amount × the scope's transaction count.
    Items(Scope),
    /// amount, every month.
    Flat,
    /// amount when the scope has any activity, otherwise nothing (the line does not apply).
    FlatIfActive(Scope),
    /// amount × the estimated cost (1.0 passes the cost through unchanged).
    PassThrough(CostKind),
}

/// Why a fee basis text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not a fee basis (expected volume:SCOPE, items:SCOPE, flat, flat_if_active:SCOPE or pass_through:COST)"
)]
pub struct FeeBasisError(pub String);

impl FeeBasis {
    /// Parses the text form: `volume:vmd`, `items:visa_credit`, `flat`,
    /// `flat_if_active:pin_debit`, `pass_through:interchange`.
    pub fn parse(text: &str) -> Result<FeeBasis, FeeBasisError> {
        let refuse = || FeeBasisError(text.to_owned());
        if text == "flat" {
            return Ok(FeeBasis::Flat);
        }
        let (kind, arg) = text.split_once(':').ok_or_else(refuse)?;
        let scope = || Scope::parse(arg).ok_or_else(refuse);
        match kind {
            "volume" => Ok(FeeBasis::Volume(scope()?)),
            "items" => Ok(FeeBasis::Items(scope()?)),
            "flat_if_active" => Ok(FeeBasis::FlatIfActive(scope()?)),
            "pass_through" => Ok(FeeBasis::PassThrough(
                CostKind::parse(arg).ok_or_else(refuse)?,
            )),
            _ => Err(refuse()),
        }
    }
}

impl std::fmt::Display for FeeBasis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FeeBasis::Volume(scope) => write!(f, "volume:{scope}"),
            FeeBasis::Items(scope) => write!(f, "items:{scope}"),
            FeeBasis::Flat => f.write_str("flat"),
            FeeBasis::FlatIfActive(scope) => write!(f, "flat_if_active:{scope}"),
            FeeBasis::PassThrough(kind) => write!(f, "pass_through:{kind}"),
        }
    }
}

impl std::str::FromStr for FeeBasis {
    type Err = FeeBasisError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        FeeBasis::parse(text)
    }
}

/// One fee of a pricing program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeeLine {
    pub name: String,
    pub internal_name: String,
    /// Rate, per-item fee, flat fee or multiplier, by `basis`; printed back as given.
    pub amount: Decimal,
    pub basis: FeeBasis,
}

impl FeeLine {
    pub fn new(name: &str, internal_name: &str, amount: Decimal, basis: FeeBasis) -> FeeLine {
        FeeLine {
            name: name.to_owned(),
            internal_name: internal_name.to_owned(),
            amount,
            basis,
        }
    }
}

/// The seed's program: its nineteen fee lines in the order its proposals list them.
pub fn default_program() -> Vec<FeeLine> {
    use crate::leaf::Scope as S;
    use FeeBasis::*;
    let line = |name, internal, mantissa, scale, basis| {
        FeeLine::new(name, internal, Decimal::new(mantissa, scale), basis)
    };
    vec![
        line("VMD Volume", "vmd_volume", 25, 4, Volume(S::Vmd)),
        line("VMD Per Item", "vmd_per_item", 8, 2, Items(S::Vmd)),
        line("Monthly Fee", "monthly_fee", 995, 2, Flat),
        line("PCI Monthly", "pci_monthly", 995, 2, Flat),
        line(
            "PIN Debit Per Item",
            "pin_debit_per_item",
            2,
            1,
            Items(S::PinDebit),
        ),
        line("AMEX Per Item", "amex_per_item", 15, 2, Items(S::Amex)),
        line("AMEX Volume", "amex_volume", 4, 3, Volume(S::Amex)),
        line(
            "VMD Interchange",
            "vmd_interchange",
            10,
            1,
            PassThrough(CostKind::Interchange),
        ),
        line(
            "Visa Credit NABU",
            "visa_credit_nabu",
            195,
            4,
            Items(S::VisaCredit),
        ),
        line(
            "Visa Credit Assessment",
            "visa_credit_assessment",
            13,
            4,
            Volume(S::VisaCredit),
        ),
        line(
            "Visa Check NABU",
            "visa_check_nabu",
            155,
            4,
            Items(S::VisaCheck),
        ),
        line(
            "Visa Check Assessment",
            "visa_check_assessment",
            11,
            4,
            Volume(S::VisaCheck),
        ),
        line(
            "Mastercard NABU",
            "mastercard_nabu",
            185,
            4,
            Items(S::Mastercard),
        ),
        line(
            "Mastercard Assessment",
            "mastercard_assessment",
            12,
            4,
            Volume(S::Mastercard),
        ),
        line("Discover NABU", "discover_nabu", 195, 4, Items(S::Discover)),
        line(
            "Discover Assessment",
            "discover_assessment",
            13,
            4,
            Volume(S::Discover),
        ),
        line(
            "Debit Network Access",
            "debit_network_access",
            10,
            1,
            PassThrough(CostKind::DebitNetwork),
        ),
        line(
            "AMEX OptBlue",
            "amex_optblue",
            10,
            1,
            PassThrough(CostKind::AmexOptBlue),
        ),
        line(
            "PIN Debit Monthly",
            "pin_debit_monthly",
            995,
            2,
            FlatIfActive(S::PinDebit),
        ),
    ]
}

/// A fee line priced on a merchant's activity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricedFee {
    pub name: String,
    pub internal_name: String,
    pub amount: Decimal,
    /// Dollars per month, rounded half-up (away from zero) to cents.
    pub monthly_amount: Decimal,
    /// False only for a flat-if-active line whose scope has no activity (monthly 0); the ISO
    /// Amp face prints that monthly amount as the bare JSON number 0.
    pub applies: bool,
}

/// Prices each line: monthly_amount = round_cents(amount × basis), where the basis is the
/// scope's volume or transaction count, 1 for flat lines (and flat-if-active lines whose scope
/// is active), or the estimated cost for pass-through lines (an absent Amex or PIN estimate
/// counts as 0). Lines come back in the order given.
pub fn price(
    lines: &[FeeLine],
    activity: &Activity,
    costs: &CostEstimate,
) -> Result<Vec<PricedFee>, PricingError> {
    lines
        .iter()
        .map(|line| {
            let (raw, applies) = match line.basis {
                FeeBasis::Volume(scope) => (line.amount.checked_mul(activity.volume(scope)), true),
                FeeBasis::Items(scope) => (
                    line.amount
                        .checked_mul(Decimal::from(activity.items(scope))),
                    true,
                ),
                FeeBasis::Flat => (Some(line.amount), true),
                FeeBasis::FlatIfActive(scope) if activity.is_active(scope) => {
                    (Some(line.amount), true)
                }
                FeeBasis::FlatIfActive(_) => (Some(Decimal::ZERO), false),
                FeeBasis::PassThrough(kind) => (line.amount.checked_mul(costs.cost(kind)), true),
            };
            let raw = raw.ok_or_else(|| PricingError::Overflow(line.internal_name.clone()))?;
            Ok(PricedFee {
                name: line.name.clone(),
                internal_name: line.internal_name.clone(),
                amount: line.amount,
                monthly_amount: round_cents(raw),
                applies,
            })
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::leaf::ActivityType as T;
    use crate::{Mix, fee_text};
    use proptest::prelude::*;

    fn d(text: &str) -> Decimal {
        Decimal::from_str_exact(text).unwrap()
    }

    fn no_costs() -> CostEstimate {
        CostEstimate {
            vmd_interchange: Decimal::ZERO,
            vmd_card_brand_fees: Decimal::ZERO,
            amex_optblue: None,
            pin_debit_network_fees: None,
            schedule_a_cost: Decimal::ZERO,
        }
    }

    fn activity(lines: &[(T, &str, u64)]) -> Activity {
        let lines: Vec<_> = lines.iter().map(|(t, v, n)| (*t, d(v), *n)).collect();
        Activity::from_lines(&lines, &Mix::seed_default()).unwrap()
    }

    fn monthly(line: FeeLine, activity: &Activity, costs: &CostEstimate) -> PricedFee {
        price(&[line], activity, costs).unwrap().remove(0)
    }

    #[test]
    fn fee_basis_text_round_trips() {
        let mut all = vec![FeeBasis::Flat];
        for scope in Scope::ALL {
            all.extend([
                FeeBasis::Volume(*scope),
                FeeBasis::Items(*scope),
                FeeBasis::FlatIfActive(*scope),
            ]);
        }
        all.extend(CostKind::ALL.iter().map(|k| FeeBasis::PassThrough(*k)));
        assert_eq!(all.len(), 1 + 13 * 3 + 3);
        for basis in all {
            let text = basis.to_string();
            assert_eq!(FeeBasis::parse(&text), Ok(basis), "{text}");
            assert_eq!(text.parse::<FeeBasis>(), Ok(basis));
        }
        assert_eq!(FeeBasis::Volume(Scope::Vmd).to_string(), "volume:vmd");
        assert_eq!(
            FeeBasis::Items(Scope::VisaCredit).to_string(),
            "items:visa_credit"
        );
        assert_eq!(
            FeeBasis::FlatIfActive(Scope::PinDebit).to_string(),
            "flat_if_active:pin_debit"
        );
        assert_eq!(
            FeeBasis::PassThrough(CostKind::Interchange).to_string(),
            "pass_through:interchange"
        );
        for bad in [
            "",
            "flat:",
            "flat:vmd",
            "volume",
            "volume:",
            "volume:visa_debit",
            "items:VMD",
            "pass_through:vmd",
            "vmd:volume",
            "volume:vmd:x",
            " flat",
        ] {
            assert_eq!(
                FeeBasis::parse(bad),
                Err(FeeBasisError(bad.to_owned())),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn default_program_is_the_seeds_nineteen_lines() {
        let program = default_program();
        let listed: Vec<(String, String, String)> = program
            .iter()
            .map(|l| {
                (
                    l.name.clone(),
                    l.internal_name.clone(),
                    l.amount.to_string(),
                )
            })
            .collect();
        let expected = [
            ("VMD Volume", "vmd_volume", "0.0025"),
            ("VMD Per Item", "vmd_per_item", "0.08"),
            ("Monthly Fee", "monthly_fee", "9.95"),
            ("PCI Monthly", "pci_monthly", "9.95"),
            ("PIN Debit Per Item", "pin_debit_per_item", "0.2"),
            ("AMEX Per Item", "amex_per_item", "0.15"),
            ("AMEX Volume", "amex_volume", "0.004"),
            ("VMD Interchange", "vmd_interchange", "1.0"),
            ("Visa Credit NABU", "visa_credit_nabu", "0.0195"),
            ("Visa Credit Assessment", "visa_credit_assessment", "0.0013"),
            ("Visa Check NABU", "visa_check_nabu", "0.0155"),
            ("Visa Check Assessment", "visa_check_assessment", "0.0011"),
            ("Mastercard NABU", "mastercard_nabu", "0.0185"),
            ("Mastercard Assessment", "mastercard_assessment", "0.0012"),
            ("Discover NABU", "discover_nabu", "0.0195"),
            ("Discover Assessment", "discover_assessment", "0.0013"),
            ("Debit Network Access", "debit_network_access", "1.0"),
            ("AMEX OptBlue", "amex_optblue", "1.0"),
            ("PIN Debit Monthly", "pin_debit_monthly", "9.95"),
        ]
        .map(|(a, b, c)| (a.to_owned(), b.to_owned(), c.to_owned()));
        assert_eq!(listed, expected);
        let basis = |internal: &str| {
            program
                .iter()
                .find(|l| l.internal_name == internal)
                .unwrap()
                .basis
                .to_string()
        };
        assert_eq!(basis("vmd_volume"), "volume:vmd");
        assert_eq!(basis("vmd_per_item"), "items:vmd");
        assert_eq!(basis("monthly_fee"), "flat");
        assert_eq!(basis("pci_monthly"), "flat");
        assert_eq!(basis("pin_debit_per_item"), "items:pin_debit");
        assert_eq!(basis("amex_per_item"), "items:amex");
        assert_eq!(basis("amex_volume"), "volume:amex");
        assert_eq!(basis("vmd_interchange"), "pass_through:interchange");
        assert_eq!(basis("visa_credit_nabu"), "items:visa_credit");
        assert_eq!(basis("visa_credit_assessment"), "volume:visa_credit");
        assert_eq!(basis("visa_check_nabu"), "items:visa_check");
        assert_eq!(basis("visa_check_assessment"), "volume:visa_check");
        assert_eq!(basis("mastercard_nabu"), "items:mastercard");
        assert_eq!(basis("mastercard_assessment"), "volume:mastercard");
        assert_eq!(basis("discover_nabu"), "items:discover");
        assert_eq!(basis("discover_assessment"), "volume:discover");
        assert_eq!(basis("debit_network_access"), "pass_through:debit_network");
        assert_eq!(basis("amex_optblue"), "pass_through:amex_optblue");
        assert_eq!(basis("pin_debit_monthly"), "flat_if_active:pin_debit");
    }

    #[test]
    fn half_cents_round_up_on_every_basis() {
        let costs = CostEstimate {
            vmd_interchange: d("25.01"),
            amex_optblue: Some(d("0.03")),
            ..no_costs()
        };
        let act = activity(&[(T::VsCredit, "2.00", 10), (T::Amex, "1", 1)]);
        let cases = [
            // 0.0025 × 2.00 = 0.005: half-up 0.01 (banker's rounding would give 0.00).
            (
                FeeLine::new("v", "v", d("0.0025"), FeeBasis::Volume(Scope::VisaCredit)),
                "0.01",
            ),
            // 0.0185 × 10 = 0.185 → 0.19 (banker's: 0.18).
            (
                FeeLine::new("i", "i", d("0.0185"), FeeBasis::Items(Scope::Vmd)),
                "0.19",
            ),
            // 0.0025 × 1.00 = 0.0025 → 0.0 (below half).
            (
                FeeLine::new("v1", "v1", d("0.0025"), FeeBasis::Volume(Scope::Amex)),
                "0.0",
            ),
            // Flat 0.125 → 0.13 (banker's: 0.12).
            (FeeLine::new("f", "f", d("0.125"), FeeBasis::Flat), "0.13"),
            // Pass-through: 0.5 × 25.01 = 12.505 → 12.51 (banker's: 12.50).
            (
                FeeLine::new(
                    "p",
                    "p",
                    d("0.5"),
                    FeeBasis::PassThrough(CostKind::Interchange),
                ),
                "12.51",
            ),
            // 1.5 × 0.03 = 0.045 → 0.05 (banker's: 0.04).
            (
                FeeLine::new(
                    "o",
                    "o",
                    d("1.5"),
                    FeeBasis::PassThrough(CostKind::AmexOptBlue),
                ),
                "0.05",
            ),
            // Away from zero for credits: -0.0025 × 2 = -0.005 → -0.01.
            (
                FeeLine::new("n", "n", d("-0.0025"), FeeBasis::Volume(Scope::Visa)),
                "-0.01",
            ),
        ];
        for (line, expected) in cases {
            let priced = monthly(line.clone(), &act, &costs);
            assert_eq!(fee_text(priced.monthly_amount), expected, "{line:?}");
            assert!(priced.applies);
        }
    }

    #[test]
    fn flat_if_active_applies_only_with_activity_and_absent_costs_count_as_zero() {
        let line = FeeLine::new(
            "PIN Debit Monthly",
            "pin_debit_monthly",
            d("9.95"),
            FeeBasis::FlatIfActive(Scope::PinDebit),
        );
        let idle = activity(&[(T::Vs, "100", 2)]);
        let priced = monthly(line.clone(), &idle, &no_costs());
        assert!(!priced.applies);
        assert_eq!(priced.monthly_amount, Decimal::ZERO);
        assert_eq!(priced.amount, d("9.95"));
        let busy = activity(&[(T::PinDebit, "0", 1)]);
        let priced = monthly(line, &busy, &no_costs());
        assert!(priced.applies);
        assert_eq!(fee_text(priced.monthly_amount), "9.95");

        let pin = FeeLine::new(
            "d",
            "d",
            d("1.0"),
            FeeBasis::PassThrough(CostKind::DebitNetwork),
        );
        assert_eq!(
            fee_text(monthly(pin.clone(), &idle, &no_costs()).monthly_amount),
            "0.0"
        );
        let costs = CostEstimate {
            pin_debit_network_fees: Some(d("3.21")),
            ..no_costs()
        };
        assert_eq!(fee_text(monthly(pin, &busy, &costs).monthly_amount), "3.21");
    }

    #[test]
    fn overflow_is_an_error_naming_the_line() {
        let act = activity(&[(T::Amex, "79228162514264337593543950335", 1)]);
        let line = FeeLine::new("Big", "big_volume", d("2"), FeeBasis::Volume(Scope::Amex));
        assert_eq!(
            price(&[line], &act, &no_costs()),
            Err(PricingError::Overflow("big_volume".to_owned()))
        );
    }

    proptest! {
        #[test]
        fn monthly_amounts_are_whole_cents_within_half_a_cent(
            amount in 0i64..1_000_000, amount_scale in 0u32..=6,
            cents in 0i64..1_000_000_000_000, items in 0u64..1_000_000_000,
        ) {
            let amount = Decimal::new(amount, amount_scale);
            let act = Activity::from_lines(&[(T::VsCheck, Decimal::new(cents, 2), items)], &Mix::seed_default()).unwrap();
            let lines = [
                FeeLine::new("v", "v", amount, FeeBasis::Volume(Scope::All)),
                FeeLine::new("i", "i", amount, FeeBasis::Items(Scope::Visa)),
            ];
            let priced = price(&lines, &act, &no_costs()).unwrap();
            let exact = [amount * act.total_volume(), amount * Decimal::from(items)];
            for (fee, exact) in priced.iter().zip(exact) {
                prop_assert!(fee.monthly_amount.normalize().scale() <= 2);
                let diff = fee.monthly_amount - exact;
                prop_assert!(diff <= Decimal::new(5, 3) && diff > Decimal::new(-5, 3), "{} vs {}", fee.monthly_amount, exact);
            }
        }
    }
}
