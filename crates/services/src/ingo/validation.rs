//! Seed 003's field table, checked field by field: every failing field is reported at once,
//! in the seed's .NET voice (`"The ParticipantUniqueId1 field is required."`), keyed by the
//! field's JSON path.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Field path to its messages: the `data` of a 13400 answer.
pub type FieldErrors = BTreeMap<String, Vec<String>>;

/// The recipient as the participant sent it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipient {
    pub first_name: String,
    pub last_name: String,
    pub address_line1: String,
    pub address_line2: Option<String>,
    pub city: String,
    pub state: String,
    pub zip_code: String,
    pub email_address: Option<String>,
    pub phone_number: Option<String>,
    pub mobile_number: Option<String>,
    pub business_name: Option<String>,
}

/// A valid session request. Its JSON is what an idempotent repeat is compared on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionRequest {
    pub participant_unique_id1: String,
    pub participant_unique_id2: Option<String>,
    pub host_uri: Option<String>,
    pub language_locale_code: String,
    pub recipient_information: Recipient,
}

/// The locales the hosted page speaks; the first is the default.
pub const LOCALES: [&str; 2] = ["en-US", "es-US"];

/// The 50 states, the District of Columbia, the five inhabited territories (AS, GU, MP, PR,
/// VI) and the military post codes (AA, AE, AP).
const STATES: [&str; 59] = [
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS",
    "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY",
    "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV",
    "WI", "WY", "DC", "AS", "GU", "MP", "PR", "VI", "AA", "AE", "AP",
];

/// `participant_unique_id1` → `ParticipantUniqueId1`, as .NET names the property.
pub(super) fn display_name(key: &str) -> String {
    key.split('_')
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

/// Collects every failing field of a request.
#[derive(Default)]
pub(super) struct Checker {
    pub(super) errors: FieldErrors,
}

impl Checker {
    pub(super) fn fail(&mut self, path: &str, message: String) {
        self.errors
            .entry(path.to_owned())
            .or_default()
            .push(message);
    }

    /// A string field: `None` when absent, null or empty (an error when required).
    pub(super) fn text(
        &mut self,
        object: &Map<String, Value>,
        parent: &str,
        key: &str,
        required: bool,
        max: usize,
    ) -> Option<String> {
        let path = if parent.is_empty() {
            key.to_owned()
        } else {
            format!("{parent}.{key}")
        };
        let name = display_name(key);
        match object.get(key) {
            None | Some(Value::Null) => {}
            Some(Value::String(text)) if text.trim().is_empty() => {}
            Some(Value::String(text)) => {
                if text.chars().count() > max {
                    self.fail(
                        &path,
                        format!(
                            "The field {name} must be a string with a maximum length of {max}."
                        ),
                    );
                    return None;
                }
                if text.chars().any(char::is_control) {
                    self.fail(
                        &path,
                        format!("The field {name} must not contain control characters."),
                    );
                    return None;
                }
                return Some(text.trim().to_owned());
            }
            Some(_) => {
                self.fail(
                    &path,
                    format!(
                        "The JSON value could not be converted to System.String. Path: $.{path}"
                    ),
                );
                return None;
            }
        }
        if required {
            self.fail(&path, format!("The {name} field is required."));
        }
        None
    }

    fn check(
        &mut self,
        path: &str,
        value: Option<String>,
        ok: impl Fn(&str) -> bool,
        message: &str,
    ) -> Option<String> {
        match value {
            Some(v) if !ok(&v) => {
                self.fail(path, message.to_owned());
                None
            }
            other => other,
        }
    }
}

fn digits_only(text: &str, max: usize) -> bool {
    !text.is_empty() && text.len() <= max && text.bytes().all(|b| b.is_ascii_digit())
}

fn zip_code(text: &str) -> bool {
    let b = text.as_bytes();
    let five = |s: &[u8]| s.len() == 5 && s.iter().all(u8::is_ascii_digit);
    five(b)
        || (b.len() == 10 && five(&b[..5]) && b[5] == b'-' && b[6..].iter().all(u8::is_ascii_digit))
}

/// Seed 003's example request carries this where its address was: the mark a page that hides
/// e-mail addresses from scrapers leaves. Integrators run the example as printed, so this exact
/// text is accepted (docs/ingopay.md says so).
const SEED_EXAMPLE_ADDRESS: &str = "[email protected]";

/// .NET's `EmailAddressAttribute`: exactly one `@`, neither first nor last, and no spaces.
pub fn plausible_email(text: &str) -> bool {
    let at = text.find('@');
    text.matches('@').count() == 1
        && at.is_some_and(|i| i > 0 && i < text.len() - 1)
        && !text.contains(char::is_whitespace)
}

/// A recipient's `email_address`: the .NET rule, or seed 003's printed example.
fn email_address(text: &str) -> bool {
    text == SEED_EXAMPLE_ADDRESS || plausible_email(text)
}

/// Checks a session request's body. `paypal` makes `email_address` required.
pub fn validate(body: &Value, paypal: bool) -> Result<SessionRequest, FieldErrors> {
    let mut c = Checker {
        errors: FieldErrors::new(),
    };
    let Some(top) = body.as_object() else {
        c.fail(
            "$",
            "The JSON value could not be converted to SessionRequest.".to_owned(),
        );
        return Err(c.errors);
    };
    let id1 = c.text(top, "", "participant_unique_id1", true, 100);
    let id2 = c.text(top, "", "participant_unique_id2", false, 100);
    let host_uri = c.text(top, "", "host_uri", false, 200);
    let locale = c.text(top, "", "language_locale_code", false, 10);
    let locale = match locale {
        None => Some(LOCALES[0].to_owned()),
        Some(given) => match LOCALES.iter().find(|l| l.eq_ignore_ascii_case(&given)) {
            Some(l) => Some((*l).to_owned()),
            None => {
                c.fail(
                    "language_locale_code",
                    format!(
                        "The field LanguageLocaleCode must be one of {}.",
                        LOCALES.join(", ")
                    ),
                );
                None
            }
        },
    };
    let recipient = match top.get("recipient_information") {
        None | Some(Value::Null) => {
            c.fail(
                "recipient_information",
                "The RecipientInformation field is required.".to_owned(),
            );
            None
        }
        Some(Value::Object(r)) => {
            let p = "recipient_information";
            let first_name = c.text(r, p, "first_name", true, 150);
            let last_name = c.text(r, p, "last_name", true, 150);
            let address_line1 = c.text(r, p, "address_line1", true, 150);
            let address_line2 = c.text(r, p, "address_line2", false, 150);
            let city = c.text(r, p, "city", true, 150);
            let state = c
                .text(r, p, "state", true, 2)
                .map(|s| s.to_ascii_uppercase());
            let state = c.check(
                &format!("{p}.state"),
                state,
                |s| STATES.contains(&s),
                "The field State must be a valid US state.",
            );
            let zip = c.text(r, p, "zip_code", true, 10);
            let zip = c.check(
                &format!("{p}.zip_code"),
                zip,
                zip_code,
                "The field ZipCode must be in the format xxxxx or xxxxx-xxxx.",
            );
            let email = c.text(r, p, "email_address", paypal, 150);
            let email = c.check(
                &format!("{p}.email_address"),
                email,
                email_address,
                "The EmailAddress field is not a valid e-mail address.",
            );
            let phone = c.text(r, p, "phone_number", false, 10);
            let phone = c.check(
                &format!("{p}.phone_number"),
                phone,
                |t| digits_only(t, 10),
                "The field PhoneNumber must contain numbers only.",
            );
            let mobile = c.text(r, p, "mobile_number", false, 10);
            let mobile = c.check(
                &format!("{p}.mobile_number"),
                mobile,
                |t| digits_only(t, 10),
                "The field MobileNumber must contain numbers only.",
            );
            let business_name = c.text(r, p, "business_name", false, 150);
            match (first_name, last_name, address_line1, city, state, zip) {
                (
                    Some(first_name),
                    Some(last_name),
                    Some(address_line1),
                    Some(city),
                    Some(state),
                    Some(zip_code),
                ) => Some(Recipient {
                    first_name,
                    last_name,
                    address_line1,
                    address_line2,
                    city,
                    state,
                    zip_code,
                    email_address: email,
                    phone_number: phone,
                    mobile_number: mobile,
                    business_name,
                }),
                _ => None,
            }
        }
        Some(_) => {
            c.fail("recipient_information", "The JSON value could not be converted to RecipientInformation. Path: $.recipient_information".to_owned());
            None
        }
    };
    match (id1, locale, recipient) {
        (Some(participant_unique_id1), Some(language_locale_code), Some(recipient_information))
            if c.errors.is_empty() =>
        {
            Ok(SessionRequest {
                participant_unique_id1,
                participant_unique_id2: id2,
                host_uri,
                language_locale_code,
                recipient_information,
            })
        }
        _ => Err(c.errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn seed_example() -> Value {
        json!({
            "participant_unique_id1": "ABC-1234-123545663",
            "participant_unique_id2": "DEF-5678",
            "host_uri": "https://digitalpay.ingo.money",
            "recipient_information": {
                "first_name": "Jack", "last_name": "Frost", "address_line1": "123 Main St",
                "address_line2": "", "city": "Atlanta", "state": "GA", "zip_code": "30313",
                "email_address": "[email protected]", "phone_number": "1231231234",
                "mobile_number": "1231231234"
            }
        })
    }

    #[test]
    fn the_seed_example_is_valid() {
        let request = validate(&seed_example(), true).expect("valid");
        assert_eq!(request.recipient_information.address_line2, None);
        assert_eq!(request.language_locale_code, "en-US");
    }

    #[test]
    fn every_failing_field_is_listed_in_the_seed_voice() {
        let mut body = seed_example();
        body["participant_unique_id1"] = json!("");
        body["participant_unique_id2"] = json!("x".repeat(101));
        body["recipient_information"]["state"] = json!("XX");
        body["recipient_information"]["zip_code"] = json!("3031");
        body["recipient_information"]["phone_number"] = json!("123-456");
        body["recipient_information"]["email_address"] = json!("no at sign");
        body["recipient_information"]["city"] = json!(5);
        let errors = validate(&body, false).expect_err("invalid");
        assert_eq!(
            errors["participant_unique_id1"],
            ["The ParticipantUniqueId1 field is required."]
        );
        assert_eq!(
            errors["participant_unique_id2"],
            ["The field ParticipantUniqueId2 must be a string with a maximum length of 100."]
        );
        assert_eq!(
            errors["recipient_information.state"],
            ["The field State must be a valid US state."]
        );
        assert_eq!(
            errors["recipient_information.zip_code"],
            ["The field ZipCode must be in the format xxxxx or xxxxx-xxxx."]
        );
        assert_eq!(
            errors["recipient_information.phone_number"],
            ["The field PhoneNumber must contain numbers only."]
        );
        assert_eq!(
            errors["recipient_information.email_address"],
            ["The EmailAddress field is not a valid e-mail address."]
        );
        assert!(
            errors["recipient_information.city"][0]
                .starts_with("The JSON value could not be converted")
        );
        assert_eq!(errors.len(), 7);
    }

    #[test]
    fn paypal_participants_need_an_email_address() {
        let mut body = seed_example();
        body["recipient_information"]
            .as_object_mut()
            .expect("object")
            .remove("email_address");
        assert!(validate(&body, false).is_ok());
        let errors = validate(&body, true).expect_err("required");
        assert_eq!(
            errors["recipient_information.email_address"],
            ["The EmailAddress field is required."]
        );
    }

    #[test]
    fn zip_codes_states_and_locales() {
        assert!(zip_code("30313") && zip_code("30313-1234"));
        assert!(!zip_code("30313-12") && !zip_code("3031a") && !zip_code("303131234"));
        let mut body = seed_example();
        body["recipient_information"]["state"] = json!("pr");
        body["language_locale_code"] = json!("es-us");
        let request = validate(&body, false).expect("valid");
        assert_eq!(request.recipient_information.state, "PR");
        assert_eq!(request.language_locale_code, "es-US");
        body["language_locale_code"] = json!("fr-FR");
        assert!(
            validate(&body, false)
                .expect_err("locale")
                .contains_key("language_locale_code")
        );
    }
}
