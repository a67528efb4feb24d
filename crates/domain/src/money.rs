//! Money: integer minor units, one currency per value, parsed exactly from decimal text.
//!
//! No float ever touches an amount. `"125.5"` and `"125.50"` both parse to 12550 US cents;
//! `"1.234"` is refused for USD because a cent cannot be split.

use std::fmt;

/// An ISO 4217 currency Quittance accepts, with its number of minor-unit digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency {
    code: &'static str,
    exponent: u8,
}

/// The currencies accepted today. Adding one is a line here.
const CURRENCIES: &[Currency] = &[
    Currency {
        code: "USD",
        exponent: 2,
    },
    Currency {
        code: "CAD",
        exponent: 2,
    },
    Currency {
        code: "EUR",
        exponent: 2,
    },
    Currency {
        code: "GBP",
        exponent: 2,
    },
    Currency {
        code: "AUD",
        exponent: 2,
    },
    Currency {
        code: "MXN",
        exponent: 2,
    },
    Currency {
        code: "CHF",
        exponent: 2,
    },
    Currency {
        code: "JPY",
        exponent: 0,
    },
];

impl Currency {
    pub const USD: Currency = Currency {
        code: "USD",
        exponent: 2,
    };

    /// Looks a code up case-insensitively (`usd` is USD).
    pub fn from_code(code: &str) -> Option<Currency> {
        CURRENCIES
            .iter()
            .copied()
            .find(|c| c.code.eq_ignore_ascii_case(code))
    }

    pub fn code(self) -> &'static str {
        self.code
    }

    pub fn exponent(self) -> u8 {
        self.exponent
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code)
    }
}

/// An amount in a currency's smallest unit. Arithmetic is checked: overflow is an error,
/// never a wrap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct MinorUnits(i64);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("must be a decimal amount such as 125.50")]
    Malformed,
    #[error("has more decimal places than {currency} allows ({exponent})")]
    TooPrecise {
        currency: &'static str,
        exponent: u8,
    },
    #[error("is too large")]
    Overflow,
}

impl MinorUnits {
    pub const ZERO: MinorUnits = MinorUnits(0);

    pub const fn new(minor: i64) -> Self {
        Self(minor)
    }

    pub const fn get(self) -> i64 {
        self.0
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    pub fn checked_add(self, other: MinorUnits) -> Result<MinorUnits, MoneyError> {
        self.0
            .checked_add(other.0)
            .map(MinorUnits)
            .ok_or(MoneyError::Overflow)
    }

    pub fn checked_sub(self, other: MinorUnits) -> Result<MinorUnits, MoneyError> {
        self.0
            .checked_sub(other.0)
            .map(MinorUnits)
            .ok_or(MoneyError::Overflow)
    }

    /// Parses decimal text (`"125"`, `"125.5"`, `"-3.10"`) exactly in `currency`'s minor units.
    /// Exponents, a leading `+`, a bare `.` and more decimals than the currency has are refused.
    pub fn parse(text: &str, currency: Currency) -> Result<MinorUnits, MoneyError> {
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (whole, fraction) = match digits.split_once('.') {
            Some((w, f)) => (w, f),
            None => (digits, ""),
        };
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty()
            || !all_digits(whole)
            || !all_digits(fraction)
            || (digits.contains('.') && fraction.is_empty())
        {
            return Err(MoneyError::Malformed);
        }
        let exponent = usize::from(currency.exponent);
        let significant = fraction.trim_end_matches('0');
        if significant.len() > exponent {
            return Err(MoneyError::TooPrecise {
                currency: currency.code,
                exponent: currency.exponent,
            });
        }
        let mut minor: i64 = 0;
        let padded = significant
            .bytes()
            .chain(std::iter::repeat(b'0'))
            .take(exponent);
        for b in whole.bytes().chain(padded) {
            minor = minor
                .checked_mul(10)
                .and_then(|m| m.checked_add(i64::from(b - b'0')))
                .ok_or(MoneyError::Overflow)?;
        }
        Ok(MinorUnits(if negative { -minor } else { minor }))
    }

    /// Formats with exactly the currency's decimals: 12550 cents is `"125.50"`.
    pub fn format(self, currency: Currency) -> String {
        let exponent = u32::from(currency.exponent);
        let sign = if self.0 < 0 { "-" } else { "" };
        let magnitude = self.0.unsigned_abs();
        if exponent == 0 {
            return format!("{sign}{magnitude}");
        }
        let scale = 10u64.pow(exponent);
        let width = usize::from(currency.exponent);
        format!("{sign}{}.{:0width$}", magnitude / scale, magnitude % scale)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd(text: &str) -> Result<i64, MoneyError> {
        MinorUnits::parse(text, Currency::USD).map(MinorUnits::get)
    }

    #[test]
    fn parses_exactly() {
        assert_eq!(usd("125.5"), Ok(12550));
        assert_eq!(usd("125.50"), Ok(12550));
        assert_eq!(usd("125"), Ok(12500));
        assert_eq!(usd("0.01"), Ok(1));
        assert_eq!(usd("-3.1"), Ok(-310));
        assert_eq!(
            usd("1.230"),
            Ok(123),
            "trailing zeros are not extra precision"
        );
        assert_eq!(
            usd("0.1"),
            Ok(10),
            "no float rounding: 0.1 is exactly ten cents"
        );
    }

    #[test]
    fn refuses_what_it_cannot_represent() {
        assert_eq!(
            usd("1.234"),
            Err(MoneyError::TooPrecise {
                currency: "USD",
                exponent: 2
            })
        );
        for bad in [
            "", "-", ".5", "5.", "1e3", "+1", "1,000", "12a", " 1", "1..2", "NaN",
        ] {
            assert_eq!(usd(bad), Err(MoneyError::Malformed), "{bad:?}");
        }
        assert_eq!(usd("92233720368547758.08"), Err(MoneyError::Overflow));
        let yen = Currency::from_code("jpy").expect("known");
        assert!(MinorUnits::parse("5.5", yen).is_err());
        assert_eq!(MinorUnits::parse("5", yen).map(MinorUnits::get), Ok(5));
    }

    #[test]
    fn formats_with_the_currency_decimals() {
        assert_eq!(MinorUnits::new(12550).format(Currency::USD), "125.50");
        assert_eq!(MinorUnits::new(5).format(Currency::USD), "0.05");
        assert_eq!(MinorUnits::new(-310).format(Currency::USD), "-3.10");
        assert_eq!(
            MinorUnits::new(i64::MIN).format(Currency::USD),
            "-92233720368547758.08"
        );
        let yen = Currency::from_code("JPY").expect("known");
        assert_eq!(MinorUnits::new(500).format(yen), "500");
    }

    #[test]
    fn format_then_parse_round_trips() {
        for minor in [0, 1, 99, 100, 12550, -1, -12550, i64::MAX, i64::MIN + 1] {
            let text = MinorUnits::new(minor).format(Currency::USD);
            assert_eq!(usd(&text), Ok(minor), "{text}");
        }
    }

    #[test]
    fn arithmetic_is_checked() {
        assert_eq!(
            MinorUnits::new(i64::MAX).checked_add(MinorUnits::new(1)),
            Err(MoneyError::Overflow)
        );
        assert_eq!(
            MinorUnits::new(5).checked_sub(MinorUnits::new(7)),
            Ok(MinorUnits::new(-2))
        );
    }

    #[test]
    fn unknown_currency_is_none() {
        assert!(Currency::from_code("XXX").is_none());
        assert_eq!(Currency::from_code("usd"), Some(Currency::USD));
    }
}
