//! Numbers printed the ways statements print them.

use quittance_pricing::Decimal;

/// How a statement prints money.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Money {
    pub dollar: bool,
    pub negative: Negative,
}

/// How a statement prints a negative amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Negative {
    /// "-$12.34"
    Minus,
    /// "($12.34)"
    Parens,
    /// "12.34-"
    Trailing,
}

impl Money {
    /// `value` to the cent with thousands commas, in this style.
    pub fn text(self, value: Decimal) -> String {
        let digits = grouped(value.abs().round_dp(2));
        let body = if self.dollar {
            format!("${digits}")
        } else {
            digits
        };
        if !value.is_sign_negative() || value.is_zero() {
            return body;
        }
        match self.negative {
            Negative::Minus => format!("-{body}"),
            Negative::Parens => format!("({body})"),
            Negative::Trailing => format!("{body}-"),
        }
    }
}

/// "1234567.5" → "1,234,567.50" (at least two decimals).
fn grouped(value: Decimal) -> String {
    let mut value = value;
    if value.scale() < 2 {
        value.rescale(2);
    }
    let text = value.to_string();
    let (int_part, frac) = text.split_once('.').unwrap_or((&text, ""));
    format!("{}.{frac}", commas(int_part))
}

/// A count with thousands commas: "12,345".
pub(crate) fn count(n: u64) -> String {
    commas(&n.to_string())
}

/// Digits with a comma before each group of three from the right.
fn commas(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A per-item amount with at least two decimals: 0.1 → "0.10", 0.0195 → "0.0195".
pub(crate) fn per_item(value: Decimal) -> String {
    let mut value = value.normalize();
    if value.scale() < 2 {
        value.rescale(2);
    }
    value.to_string()
}

/// A fraction as a percentage with at least two decimals: 0.0151 → "1.51", 0.0005 → "0.05".
pub(crate) fn percent(rate: Decimal) -> String {
    per_item(rate * Decimal::ONE_HUNDRED)
}

/// A fraction as printed in a description: 0.0013 → "0.0013".
pub(crate) fn fraction(rate: Decimal) -> String {
    per_item(rate)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Decimal {
        Decimal::from_str_exact(text).unwrap_or_default()
    }

    #[test]
    fn styles() {
        let fd = Money {
            dollar: true,
            negative: Negative::Minus,
        };
        let tsys = Money {
            dollar: false,
            negative: Negative::Trailing,
        };
        let wp = Money {
            dollar: true,
            negative: Negative::Parens,
        };
        assert_eq!(fd.text(d("-1234.5")), "-$1,234.50");
        assert_eq!(tsys.text(d("-45")), "45.00-");
        assert_eq!(wp.text(d("-0.01")), "($0.01)");
        assert_eq!(wp.text(d("1234567.89")), "$1,234,567.89");
        assert_eq!(fd.text(Decimal::ZERO), "$0.00");
        assert_eq!(count(1234567), "1,234,567");
        assert_eq!(count(12), "12");
        assert_eq!(per_item(d("0.1")), "0.10");
        assert_eq!(per_item(d("0.0195")), "0.0195");
        assert_eq!(percent(d("0.0151")), "1.51");
        assert_eq!(percent(d("0.0005")), "0.05");
        assert_eq!(fraction(d("0.0013")), "0.0013");
    }
}
