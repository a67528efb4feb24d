//! Payment instruments as they arrive: card and bank account numbers, checked (Luhn, brand,
//! expiry, ABA routing checksum) and wrapped so that `Debug` shows only the last four digits.
//! The full number leaves these types only through `expose`, for the vault and the processor.

use crate::FieldError;
use std::fmt;

status_enum!(
    /// The card network, read from the number's leading digits.
    CardBrand {
        Visa => "visa",
        Mastercard => "mastercard",
        Amex => "amex",
        Discover => "discover",
        Jcb => "jcb",
        Diners => "diners",
    }
);

status_enum!(
    /// How a payment is made.
    MethodType { Card => "card", Ach => "ach" }
);

status_enum!(
    /// The kind of bank account an ACH debit draws on.
    BankAccountType { Checking => "checking", Savings => "savings" }
);

/// Digits that must never be printed whole: `Debug` shows `****4242`.
#[derive(Clone, PartialEq, Eq)]
pub struct SensitiveDigits(String);

impl SensitiveDigits {
    pub fn new(digits: impl Into<String>) -> Self {
        Self(digits.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn last4(&self) -> String {
        let n = self.0.len();
        self.0[n.saturating_sub(4)..].to_owned()
    }
}

impl fmt::Debug for SensitiveDigits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "****{}", self.last4())
    }
}

/// A card as entered, validated. The CVV is carried for the first authorization only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Card {
    pub number: SensitiveDigits,
    pub brand: CardBrand,
    pub exp_month: u32,
    pub exp_year: i32,
    pub cvv: Option<SensitiveDigits>,
    pub holder_name: String,
    pub billing_zip: Option<String>,
}

/// A bank account for ACH debits, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankAccount {
    pub routing_number: String,
    pub account_number: SensitiveDigits,
    pub account_type: BankAccountType,
    pub holder_name: String,
}

/// Card fields as received; `today` is (year, month) for the expiry check.
pub struct CardInput<'a> {
    pub number: &'a str,
    pub exp_month: i64,
    pub exp_year: i64,
    pub cvv: Option<&'a str>,
    pub holder_name: &'a str,
    pub billing_zip: Option<&'a str>,
}

impl CardInput<'_> {
    /// Validates every field; a failure names it relative to the card object (`number`).
    pub fn validate(&self, today: (i32, u32)) -> Result<Card, FieldError> {
        let digits = only_digits("number", self.number, 12, 19)?;
        if !luhn_valid(&digits) {
            return Err(FieldError::new(
                "number",
                "is not a valid card number (checksum)",
            ));
        }
        let brand = brand_of(&digits)
            .ok_or_else(|| FieldError::new("number", "is not a card brand Quittance accepts"))?;
        if !(1..=12).contains(&self.exp_month) {
            return Err(FieldError::new("exp_month", "must be 1 to 12"));
        }
        if !(2000..=2099).contains(&self.exp_year) {
            return Err(FieldError::new(
                "exp_year",
                "must be a four-digit year such as 2030",
            ));
        }
        let (exp_year, exp_month) = (self.exp_year as i32, self.exp_month as u32);
        if (exp_year, exp_month) < today {
            return Err(FieldError::new("exp_year", "the card has expired"));
        }
        let cvv = match self.cvv {
            None => None,
            Some(cvv) => {
                let wanted = if brand == CardBrand::Amex { 4 } else { 3 };
                let cvv = only_digits("cvv", cvv, wanted, wanted)?;
                Some(SensitiveDigits::new(cvv))
            }
        };
        Ok(Card {
            number: SensitiveDigits::new(digits),
            brand,
            exp_month,
            exp_year,
            cvv,
            holder_name: holder_name(self.holder_name)?,
            billing_zip: match self.billing_zip.map(str::trim) {
                None | Some("") => None,
                Some(zip) if zip.len() <= 10 => Some(zip.to_owned()),
                Some(_) => {
                    return Err(FieldError::new(
                        "billing_zip",
                        "is longer than 10 characters",
                    ));
                }
            },
        })
    }
}

/// Bank account fields as received.
pub struct BankAccountInput<'a> {
    pub routing_number: &'a str,
    pub account_number: &'a str,
    pub account_type: &'a str,
    pub holder_name: &'a str,
}

impl BankAccountInput<'_> {
    pub fn validate(&self) -> Result<BankAccount, FieldError> {
        let routing = only_digits("routing_number", self.routing_number, 9, 9)?;
        if !aba_valid(&routing) {
            return Err(FieldError::new(
                "routing_number",
                "is not a valid ABA routing number (checksum)",
            ));
        }
        Ok(BankAccount {
            routing_number: routing,
            account_number: SensitiveDigits::new(only_digits(
                "account_number",
                self.account_number,
                4,
                17,
            )?),
            account_type: BankAccountType::parse_field("account_type", self.account_type)?,
            holder_name: holder_name(self.holder_name)?,
        })
    }
}

fn holder_name(text: &str) -> Result<String, FieldError> {
    let name = text.trim();
    if name.is_empty() {
        return Err(FieldError::new("holder_name", "is required"));
    }
    if name.chars().count() > 255 {
        return Err(FieldError::new(
            "holder_name",
            "is longer than 255 characters",
        ));
    }
    Ok(name.to_owned())
}

/// The digits of `text` (spaces and dashes allowed between them), `min..=max` of them. The
/// message never repeats the input.
fn only_digits(field: &str, text: &str, min: usize, max: usize) -> Result<String, FieldError> {
    let mut digits = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' => {}
            _ => return Err(FieldError::new(field, "must contain digits only")),
        }
    }
    if digits.len() < min || digits.len() > max {
        let message = if min == max {
            format!("must be {min} digits")
        } else {
            format!("must be {min} to {max} digits")
        };
        return Err(FieldError::new(field, message));
    }
    Ok(digits)
}

/// Replaces every card number in `text` (a run of 13 to 19 digits passing the Luhn check,
/// not part of a longer word) with `****` and its last four digits. A safety net for stored
/// answers and logs: nothing Quittance writes should hold one in the first place.
pub fn mask_card_numbers(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        let word_before = i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
        if bytes[i].is_ascii_digit() && !word_before {
            let end = i + bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
            let word_after =
                end < bytes.len() && (bytes[end].is_ascii_alphabetic() || bytes[end] == b'_');
            let run = &text[i..end];
            if (13..=19).contains(&run.len()) && !word_after && luhn_valid(run) {
                out.push_str("****");
                out.push_str(&run[run.len() - 4..]);
            } else {
                out.push_str(run);
            }
            i = end;
        } else {
            let c = text[i..].chars().next().unwrap_or_default();
            out.push(c);
            i += c.len_utf8().max(1);
        }
    }
    out
}

/// The Luhn (mod 10) check every card number carries.
pub fn luhn_valid(digits: &str) -> bool {
    let mut sum = 0u32;
    for (i, b) in digits.bytes().rev().enumerate() {
        let mut d = u32::from(b - b'0');
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    !digits.is_empty() && sum.is_multiple_of(10)
}

/// The ABA routing number checksum: 3·(d1+d4+d7) + 7·(d2+d5+d8) + (d3+d6+d9) ≡ 0 (mod 10).
pub fn aba_valid(digits: &str) -> bool {
    let d: Vec<u32> = digits.bytes().map(|b| u32::from(b - b'0')).collect();
    d.len() == 9
        && (3 * (d[0] + d[3] + d[6]) + 7 * (d[1] + d[4] + d[7]) + (d[2] + d[5] + d[8]))
            .is_multiple_of(10)
}

/// The brand from the issuer identification number ranges.
pub fn brand_of(digits: &str) -> Option<CardBrand> {
    let prefix = |n: usize| digits.get(..n).and_then(|p| p.parse::<u32>().ok());
    let (p2, p3, p4) = (prefix(2)?, prefix(3)?, prefix(4)?);
    let len = digits.len();
    Some(match () {
        _ if digits.starts_with('4') && matches!(len, 13 | 16 | 19) => CardBrand::Visa,
        _ if ((51..=55).contains(&p2) || (2221..=2720).contains(&p4)) && len == 16 => {
            CardBrand::Mastercard
        }
        _ if matches!(p2, 34 | 37) && len == 15 => CardBrand::Amex,
        _ if (p4 == 6011 || p2 == 65 || (644..=649).contains(&p3)) && (16..=19).contains(&len) => {
            CardBrand::Discover
        }
        _ if (3528..=3589).contains(&p4) && (16..=19).contains(&len) => CardBrand::Jcb,
        _ if (p2 == 36 || p2 == 38 || (300..=305).contains(&p3)) && (14..=19).contains(&len) => {
            CardBrand::Diners
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(number: &str) -> CardInput<'_> {
        CardInput {
            number,
            exp_month: 12,
            exp_year: 2030,
            cvv: Some("123"),
            holder_name: "Ada Lovelace",
            billing_zip: Some("02139"),
        }
    }

    #[test]
    fn standard_test_numbers_pass_with_their_brands() {
        for (number, brand) in [
            ("4242424242424242", CardBrand::Visa),
            ("4242 4242 4242 4242", CardBrand::Visa),
            ("5555555555554444", CardBrand::Mastercard),
            ("2223003122003222", CardBrand::Mastercard),
            ("6011111111111117", CardBrand::Discover),
            ("3566002020360505", CardBrand::Jcb),
            ("36227206271667", CardBrand::Diners),
        ] {
            let c = card(number).validate((2026, 11)).expect(number);
            assert_eq!(c.brand, brand, "{number}");
        }
        let amex = CardInput {
            cvv: Some("1234"),
            ..card("378282246310005")
        };
        assert_eq!(
            amex.validate((2026, 11)).expect("amex").brand,
            CardBrand::Amex
        );
    }

    #[test]
    fn each_bad_field_is_named() {
        let field = |input: CardInput<'_>| input.validate((2026, 11)).expect_err("refused").field;
        assert_eq!(field(card("4242424242424241")), "number");
        assert_eq!(field(card("4242abcd42424242")), "number");
        assert_eq!(field(card("9999999999999995")), "number");
        assert_eq!(
            field(CardInput {
                exp_month: 13,
                ..card("4242424242424242")
            }),
            "exp_month"
        );
        assert_eq!(
            field(CardInput {
                exp_year: 2026,
                exp_month: 10,
                ..card("4242424242424242")
            }),
            "exp_year"
        );
        assert_eq!(
            field(CardInput {
                cvv: Some("12"),
                ..card("4242424242424242")
            }),
            "cvv"
        );
        assert_eq!(
            field(CardInput {
                holder_name: " ",
                ..card("4242424242424242")
            }),
            "holder_name"
        );
        // The month the card expires in is still good.
        let this_month = CardInput {
            exp_year: 2026,
            exp_month: 11,
            ..card("4242424242424242")
        };
        assert!(this_month.validate((2026, 11)).is_ok());
    }

    #[test]
    fn errors_and_debug_never_show_the_number() {
        let c = card("4242424242424242")
            .validate((2026, 11))
            .expect("valid");
        let shown = format!("{c:?}");
        assert!(!shown.contains("4242424242424242"), "{shown}");
        assert!(shown.contains("****4242"), "{shown}");
        let e = card("4242424242424241")
            .validate((2026, 11))
            .expect_err("bad");
        assert!(!e.to_string().contains("424242424242"), "{e}");
    }

    #[test]
    fn card_numbers_are_masked_in_text_but_ids_and_amounts_are_not() {
        let text = r#"{"n":"4242424242424242","id":"pay_0123456789012345678901234567890a","amount":1234567890123.45,"t":1763700000}"#;
        let masked = mask_card_numbers(text);
        assert!(masked.contains(r#""n":"****4242""#), "{masked}");
        assert!(
            masked.contains("pay_0123456789012345678901234567890a"),
            "{masked}"
        );
        assert!(
            masked.contains("1234567890123.45"),
            "not Luhn-valid: {masked}"
        );
        assert_eq!(mask_card_numbers("é 4000000000000002 ü"), "é ****0002 ü");
    }

    #[test]
    fn routing_numbers_carry_the_aba_checksum() {
        let ok = BankAccountInput {
            routing_number: "110000000",
            account_number: "000123456789",
            account_type: "checking",
            holder_name: "Ada Lovelace",
        };
        assert_eq!(
            ok.validate().expect("valid").account_type,
            BankAccountType::Checking
        );
        assert!(aba_valid("021000021") && aba_valid("011401533"));
        let bad = BankAccountInput {
            routing_number: "110000001",
            ..ok
        };
        assert_eq!(bad.validate().expect_err("bad").field, "routing_number");
        let bad_type = BankAccountInput {
            routing_number: "110000000",
            account_type: "brokerage",
            ..bad
        };
        assert_eq!(bad_type.validate().expect_err("bad").field, "account_type");
    }
}
