//! Decimal text in and out, as the ISO Amp face prints and reads it.

use rust_decimal::Decimal;

/// The most fractional digits [`parse_decimal`] accepts.
pub const MAX_FRACTION_DIGITS: u32 = 12;

/// Why decimal text was refused. The messages read after a field name:
/// "volume is not a plain decimal number".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecimalError {
    #[error("is empty")]
    Empty,
    #[error("uses an exponent; write the number out in full")]
    Exponent,
    #[error("is not a plain decimal number (digits, an optional leading '-', at most one '.')")]
    NotPlain,
    #[error("has more than {MAX_FRACTION_DIGITS} decimal places")]
    TooManyDecimals,
    #[error("is too large")]
    OutOfRange,
}

/// Parses plain decimal text exactly: `20000`, `37.90`, `-1.5`, `007`. Refuses the empty
/// string, signs other than one leading `-`, exponents, `NaN`/`inf`, whitespace, underscores, a
/// `.` without digits on both sides, more than [`MAX_FRACTION_DIGITS`] decimal places and
/// anything `Decimal` cannot hold. The scale is kept ("37.90" has scale 2).
pub fn parse_decimal(text: &str) -> Result<Decimal, DecimalError> {
    if text.is_empty() {
        return Err(DecimalError::Empty);
    }
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (int_part, frac_part) = match unsigned.split_once('.') {
        Some((int_part, frac_part)) => (int_part, Some(frac_part)),
        None => (unsigned, None),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(int_part) || !frac_part.is_none_or(all_digits) {
        if text.contains(['e', 'E']) && text.bytes().any(|b| b.is_ascii_digit()) {
            return Err(DecimalError::Exponent);
        }
        return Err(DecimalError::NotPlain);
    }
    if frac_part.is_some_and(|f| f.len() > MAX_FRACTION_DIGITS as usize) {
        return Err(DecimalError::TooManyDecimals);
    }
    Decimal::from_str_exact(text).map_err(|_| DecimalError::OutOfRange)
}

/// Fee text: trailing zeros stripped, at least one fractional digit.
/// 62.50 → "62.5", 5 → "5.0", 0 → "0.0", 1.17 → "1.17", 0.0025 → "0.0025".
pub fn fee_text(value: Decimal) -> String {
    let normal = value.normalize();
    if normal.scale() == 0 {
        format!("{normal}.0")
    } else {
        normal.to_string()
    }
}

/// Merchant activity text: zero is "0", anything else as [`fee_text`] ("2000.0", "183.0",
/// "19025.49").
pub fn activity_text(value: Decimal) -> String {
    if value.is_zero() {
        "0".to_owned()
    } else {
        fee_text(value)
    }
}

/// Plain text: trailing zeros stripped, no forced fraction. 4.00 → "4", 14.60 → "14.6",
/// 0.01499 → "0.01499".
pub fn plain_text(value: Decimal) -> String {
    value.normalize().to_string()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(text: &str) -> Decimal {
        Decimal::from_str_exact(text).unwrap()
    }

    #[test]
    fn fee_text_matches_the_seed() {
        for (value, text) in [
            ("62.50", "62.5"),
            ("5", "5.0"),
            ("5.000000", "5.0"),
            ("0", "0.0"),
            ("0.00", "0.0"),
            ("-0.00", "0.0"),
            ("1.17", "1.17"),
            ("0.0025", "0.0025"),
            ("1.0", "1.0"),
            ("9.95", "9.95"),
            ("20.80", "20.8"),
            ("1.8", "1.8"),
            ("-1.50", "-1.5"),
        ] {
            assert_eq!(fee_text(d(value)), text, "{value}");
        }
    }

    #[test]
    fn activity_text_matches_the_seed() {
        for (value, text) in [
            ("2000", "2000.0"),
            ("2000.00", "2000.0"),
            ("183", "183.0"),
            ("19025.49", "19025.49"),
            ("0", "0"),
            ("0.00", "0"),
            ("14959.34", "14959.34"),
        ] {
            assert_eq!(activity_text(d(value)), text, "{value}");
        }
    }

    #[test]
    fn plain_text_matches_the_seed() {
        for (value, text) in [
            ("4.00", "4"),
            ("14.60", "14.6"),
            ("0.01499", "0.01499"),
            ("151.49", "151.49"),
            ("0", "0"),
            ("-0.0", "0"),
        ] {
            assert_eq!(plain_text(d(value)), text, "{value}");
        }
    }

    #[test]
    fn parse_decimal_accepts_plain_text_exactly() {
        assert_eq!(parse_decimal("20000").unwrap(), Decimal::new(20000, 0));
        let ticket = parse_decimal("37.90").unwrap();
        assert_eq!(ticket, Decimal::new(3790, 2));
        assert_eq!(ticket.scale(), 2);
        assert_eq!(parse_decimal("-1.5").unwrap(), Decimal::new(-15, 1));
        assert_eq!(parse_decimal("007").unwrap(), Decimal::new(7, 0));
        assert_eq!(
            parse_decimal("0.000000000001").unwrap(),
            Decimal::new(1, 12)
        );
        assert_eq!(
            parse_decimal("79228162514264337593543950335").unwrap(),
            Decimal::MAX
        );
    }

    #[test]
    fn parse_decimal_refuses_with_clear_reasons() {
        use DecimalError as E;
        for (text, err) in [
            ("", E::Empty),
            ("1e5", E::Exponent),
            ("1.5E-3", E::Exponent),
            ("NaN", E::NotPlain),
            ("nan", E::NotPlain),
            ("inf", E::NotPlain),
            ("-", E::NotPlain),
            ("+5", E::NotPlain),
            ("--5", E::NotPlain),
            (" 5", E::NotPlain),
            ("5 ", E::NotPlain),
            ("1_000", E::NotPlain),
            ("1,5", E::NotPlain),
            (".5", E::NotPlain),
            ("5.", E::NotPlain),
            ("1.2.3", E::NotPlain),
            ("0x10", E::NotPlain),
            ("0.0000000000001", E::TooManyDecimals),
            ("79228162514264337593543950336", E::OutOfRange),
            ("100000000000000000000000000000.5", E::OutOfRange),
        ] {
            assert_eq!(parse_decimal(text), Err(err.clone()), "{text:?}");
        }
        assert_eq!(
            E::TooManyDecimals.to_string(),
            "has more than 12 decimal places"
        );
    }

    proptest! {
        #[test]
        fn texts_parse_back_to_the_same_number(mantissa in any::<i64>(), scale in 0u32..=12) {
            let value = Decimal::new(mantissa, scale);
            prop_assert_eq!(parse_decimal(&fee_text(value)).unwrap(), value);
            prop_assert_eq!(parse_decimal(&plain_text(value)).unwrap(), value);
            prop_assert_eq!(parse_decimal(&activity_text(value)).unwrap(), value);
            let text = fee_text(value);
            let (_, frac) = text.split_once('.').unwrap();
            prop_assert!(!frac.is_empty());
            prop_assert!(frac == "0" || !frac.ends_with('0'));
        }

        #[test]
        fn plain_decimal_text_round_trips_through_fee_text(
            int in "-?[0-9]{1,15}",
            frac in proptest::option::of("[0-9]{1,12}"),
        ) {
            let text = match &frac { Some(f) => format!("{int}.{f}"), None => int.clone() };
            let value = parse_decimal(&text).unwrap();
            prop_assert_eq!(parse_decimal(&fee_text(value)).unwrap(), value);
            prop_assert_eq!(fee_text(parse_decimal(&fee_text(value)).unwrap()), fee_text(value));
        }
    }
}
