//! The receivables core: clients, master accounts and sub-accounts, their statuses and the
//! field rules every entry point (single import, bulk import, PATCH) shares.

use crate::field::FieldError;
use crate::ids::{AccountId, ClientId, OrganizationId, SubAccountId};
use crate::money::{Currency, MinorUnits};
use chrono::{DateTime, NaiveDate, Utc};

status_enum!(
    /// Whether a client (creditor) is still placing debts.
    ClientStatus { Active => "active", Inactive => "inactive" }
);
status_enum!(
    /// A master account's standing.
    AccountStatus { Active => "active", Inactive => "inactive", Closed => "closed" }
);
status_enum!(
    /// A sub-account (one debt or visit): open while it is owed, closed when written off or settled.
    SubAccountStatus { Open => "open", Disputed => "disputed", Closed => "closed" }
);

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Address {
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub id: ClientId,
    pub organization_id: OrganizationId,
    pub client_number: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub status: ClientStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The owner's details of a master account: everything an import or a PATCH may set.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AccountHolder {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub date_of_birth: Option<NaiveDate>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Address,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: AccountId,
    pub organization_id: OrganizationId,
    pub account_number: String,
    pub status: AccountStatus,
    pub holder: AccountHolder,
    pub currency: Currency,
    /// Always the sum of the sub-accounts' balances.
    pub balance: MinorUnits,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubAccount {
    pub id: SubAccountId,
    pub organization_id: OrganizationId,
    pub account_id: AccountId,
    pub reference: String,
    pub client_id: Option<ClientId>,
    pub original_balance: MinorUnits,
    pub balance: MinorUnits,
    pub currency: Currency,
    pub service_date: Option<NaiveDate>,
    pub placement_date: Option<NaiveDate>,
    pub description: Option<String>,
    pub status: SubAccountStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Longest free-text value accepted anywhere in the receivables API.
pub const MAX_TEXT: usize = 255;
/// Longest identifier-like value (account numbers, references, client numbers).
pub const MAX_KEY: usize = 64;

/// A required text value: trimmed, non-empty, at most `max` characters.
pub fn required_text(field: &str, value: &str, max: usize) -> Result<String, FieldError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    bounded(field, trimmed, max)
}

/// An optional text value: blank becomes absent.
pub fn optional_text(
    field: &str,
    value: Option<&str>,
    max: usize,
) -> Result<Option<String>, FieldError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => bounded(field, v, max).map(Some),
    }
}

fn bounded(field: &str, value: &str, max: usize) -> Result<String, FieldError> {
    if value.chars().count() > max {
        return Err(FieldError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(value.to_owned())
}

/// A plausible e-mail address: one `@`, a non-empty local part, a dotted domain, no spaces.
pub fn optional_email(field: &str, value: Option<&str>) -> Result<Option<String>, FieldError> {
    let Some(email) = optional_text(field, value, MAX_TEXT)? else {
        return Ok(None);
    };
    let valid = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !email.contains(char::is_whitespace)
        }
        None => false,
    };
    if valid {
        Ok(Some(email))
    } else {
        Err(FieldError::new(field, "must be an e-mail address"))
    }
}

/// A `YYYY-MM-DD` date.
pub fn optional_date(field: &str, value: Option<&str>) -> Result<Option<NaiveDate>, FieldError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| FieldError::new(field, "must be a date in the YYYY-MM-DD format")),
    }
}

/// A currency code Quittance knows; absent means USD.
pub fn currency_or_usd(field: &str, value: Option<&str>) -> Result<Currency, FieldError> {
    match value.map(str::trim) {
        None | Some("") => Ok(Currency::USD),
        Some(code) => Currency::from_code(code).ok_or_else(|| {
            FieldError::new(
                field,
                "is not a currency Quittance knows (an ISO 4217 code such as USD)",
            )
        }),
    }
}

/// An amount that must not be negative, in the given currency.
pub fn non_negative_amount(
    field: &str,
    text: &str,
    currency: Currency,
) -> Result<MinorUnits, FieldError> {
    let amount =
        MinorUnits::parse(text, currency).map_err(|e| FieldError::new(field, e.to_string()))?;
    if amount.is_negative() {
        return Err(FieldError::new(field, "must not be negative"));
    }
    Ok(amount)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_and_list_choices() {
        for s in AccountStatus::ALL {
            assert_eq!(AccountStatus::parse(s.as_str()), Some(*s));
        }
        assert_eq!(AccountStatus::parse("Active"), None);
        assert_eq!(SubAccountStatus::choices(), "open, disputed, closed");
        let refused = AccountStatus::parse_field("status", "asleep").expect_err("refused");
        assert_eq!(
            (refused.field.as_str(), refused.message.as_str()),
            ("status", "must be one of active, inactive, closed")
        );
    }

    #[test]
    fn text_rules() {
        assert_eq!(required_text("name", "  Ann ", 10), Ok("Ann".to_owned()));
        assert_eq!(
            required_text("name", "   ", 10).map_err(|e| e.field),
            Err("name".to_owned())
        );
        assert!(required_text("name", "abcdefghijk", 10).is_err());
        assert!(required_text("name", "a\u{0}b", 10).is_err());
        assert_eq!(optional_text("x", Some(""), 5), Ok(None));
        assert_eq!(optional_text("x", None, 5), Ok(None));
    }

    #[test]
    fn email_rules() {
        assert_eq!(
            optional_email("email", Some("a@b.co")),
            Ok(Some("a@b.co".to_owned()))
        );
        for bad in [
            "ab.co", "@b.co", "a@b", "a@@b.co", "a b@c.co", "a@.co", "a@co.",
        ] {
            assert!(optional_email("email", Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn date_and_currency_rules() {
        assert_eq!(
            optional_date("d", Some("2024-02-29")),
            Ok(NaiveDate::from_ymd_opt(2024, 2, 29))
        );
        assert!(optional_date("d", Some("2023-02-29")).is_err());
        assert!(optional_date("d", Some("02/03/2024")).is_err());
        assert_eq!(currency_or_usd("c", None), Ok(Currency::USD));
        assert!(currency_or_usd("c", Some("ZZZ")).is_err());
    }

    #[test]
    fn amounts_must_not_be_negative() {
        assert_eq!(
            non_negative_amount("a", "1.5", Currency::USD),
            Ok(MinorUnits::new(150))
        );
        assert_eq!(
            non_negative_amount("a", "-1", Currency::USD).map_err(|e| e.message),
            Err("must not be negative".to_owned())
        );
        assert!(non_negative_amount("a", "1.005", Currency::USD).is_err());
    }
}
