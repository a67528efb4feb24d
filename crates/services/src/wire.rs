//! Wire types shared by the JSON faces: exact decimal amounts, and PATCH fields that
//! distinguish "absent" from "null".

use crate::error::ServiceError;
use quittance_domain::{Currency, FieldError, MinorUnits};
use serde::de::DeserializeOwned;
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;

/// An amount as sent: a JSON number (`125.5`) or a string (`"125.50"`), kept as its exact
/// text so no float ever sees it. It becomes minor units once its currency is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmountText(pub String);

impl AmountText {
    pub fn to_minor(&self, field: &str, currency: Currency) -> Result<MinorUnits, FieldError> {
        MinorUnits::parse(&self.0, currency).map_err(|e| FieldError::new(field, e.to_string()))
    }
}

impl<'de> Deserialize<'de> for AmountText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        let text = raw.get();
        if text.starts_with('"') {
            let inner: String = serde_json::from_str(text).map_err(de::Error::custom)?;
            Ok(AmountText(inner))
        } else if text.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
            Ok(AmountText(text.to_owned()))
        } else {
            Err(de::Error::custom(
                "invalid type, expected a decimal amount such as 125.50",
            ))
        }
    }
}

/// An amount as answered: a JSON number with exactly the currency's decimals (`125.50`),
/// written from the integer, never through a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Amount {
    pub minor: MinorUnits,
    pub currency: Currency,
}

impl Amount {
    pub fn new(minor: MinorUnits, currency: Currency) -> Self {
        Self { minor, currency }
    }

    /// The exact decimal text (`125.50`).
    pub fn text(&self) -> String {
        self.minor.format(self.currency)
    }
}

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let raw = RawValue::from_string(self.minor.format(self.currency))
            .map_err(serde::ser::Error::custom)?;
        raw.serialize(serializer)
    }
}

/// Deserializes a PATCH field: absent stays `None` (keep), `null` is `Some(None)` (clear),
/// a value is `Some(Some(v))`. Use with `#[serde(default, deserialize_with = "nullable")]`.
pub fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Deserializes a JSON object, naming the field at fault (`sub_accounts[1].reference`).
/// Anything but an object is refused: serde would read an array positionally into the
/// request's fields (`[5, 0]` as `{"days": 5, "hours": 0}`).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ServiceError> {
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => {}
        None => {
            return Err(ServiceError::bad_request(
                "the request body is empty: send a JSON object",
            ));
        }
        Some(_) => {
            return Err(ServiceError::bad_request(
                "the request body must be a JSON object",
            ));
        }
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(json_error)?;
    // Trailing content after the document is malformed too.
    de.end()
        .map_err(|e| ServiceError::bad_request(format!("malformed JSON: {e}")))?;
    Ok(value)
}

fn json_error(error: serde_path_to_error::Error<serde_json::Error>) -> ServiceError {
    // An unknown field is in the path by its name, which a client may have filled with a number.
    let path = quittance_domain::instruments::mask_card_numbers(&error.path().to_string());
    let inner = error.into_inner();
    match inner.classify() {
        serde_json::error::Category::Syntax
        | serde_json::error::Category::Eof
        | serde_json::error::Category::Io => {
            ServiceError::bad_request(format!("malformed JSON: {inner}"))
        }
        serde_json::error::Category::Data => {
            let text = inner.to_string();
            let message = plain_expectation(&without_value(
                text.split(" at line ").next().unwrap_or(&text),
            ));
            let parent = if path == "." { String::new() } else { path };
            // serde reports a missing field at its parent; name the field itself.
            let param = match message
                .strip_prefix("missing field `")
                .and_then(|m| m.split('`').next())
            {
                Some(field) if parent.is_empty() => field.to_owned(),
                Some(field) => format!("{parent}.{field}"),
                None => parent,
            };
            let err = ServiceError::bad_request(if param.is_empty() {
                message.clone()
            } else {
                format!("{param}: {message}")
            });
            if param.is_empty() {
                err
            } else {
                err.with_param(param)
            }
        }
    }
}

/// serde quotes the offending value (`invalid type: integer `4242…`, expected a string`): a
/// card or bank account number, a CVV or a secret sent with the wrong type must not come back
/// in the answer, nor reach a log or a stored import error, so the value is left out and only
/// its kind is named. Field names (`unknown field `x``) are kept, card numbers masked.
fn without_value(message: &str) -> String {
    for kind in ["invalid type: ", "invalid value: ", "unknown variant "] {
        let Some(rest) = message.strip_prefix(kind) else {
            continue;
        };
        // The value comes first, quoted; what was expected is Quittance's own text, after the
        // last ", expected " (a quoted value may itself hold those words).
        let Some(at) = rest.rfind(", expected ") else {
            return kind.trim_end_matches([' ', ':']).to_owned();
        };
        let what = rest[..at]
            .split(['`', '"', '\''])
            .next()
            .unwrap_or_default()
            .trim();
        let kind = kind.trim_end_matches([' ', ':']);
        let expected = &rest[at..];
        return if what.is_empty() || kind == "unknown variant" {
            format!("{kind}{expected}")
        } else {
            format!("{kind}: {what}{expected}")
        };
    }
    quittance_domain::instruments::mask_card_numbers(message)
}

/// serde names the Rust type it expected (`expected struct CardRequest`); a client is told
/// what to send instead.
fn plain_expectation(message: &str) -> String {
    for (rust, plain) in [
        ("expected struct ", "expected a JSON object"),
        ("expected tuple struct ", "expected a JSON array"),
        ("expected enum ", "expected one of the documented values"),
    ] {
        if let Some(at) = message.find(rust) {
            return format!("{}{plain}", &message[..at]);
        }
    }
    message.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Advance {
        days: i64,
        inner: Option<Inner>,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        x: i64,
    }

    #[test]
    fn only_objects_are_request_bodies_and_no_rust_type_is_named() {
        for body in ["[5, 0]", " [5]", "5", "\"x\"", "null", "true"] {
            let e = parse_json::<Advance>(body.as_bytes()).expect_err(body);
            assert_eq!(
                e.message(),
                "the request body must be a JSON object",
                "{body}"
            );
        }
        let e = parse_json::<Advance>(b"  ").expect_err("empty");
        assert!(e.message().contains("empty"));
        assert_eq!(
            parse_json::<Advance>(b" {\"days\": 5}")
                .expect("object")
                .days,
            5
        );
        let e = parse_json::<Advance>(br#"{"days": 1, "inner": 7}"#).expect_err("nested");
        assert_eq!(
            e.message(),
            "inner: invalid type: integer, expected a JSON object"
        );
        assert!(!e.message().contains("Inner"));
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Account {
        number: String,
        cvv: Option<String>,
        kind: Option<Kind>,
        count: Option<u8>,
        amount: Option<AmountText>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Kind {
        Checking,
    }

    #[test]
    fn a_value_sent_with_the_wrong_type_is_never_echoed() {
        for (body, param, message) in [
            (
                r#"{"number": 86420975318642}"#,
                "number",
                "invalid type: integer, expected a string",
            ),
            (
                r#"{"number": "x", "cvv": 7319}"#,
                "cvv",
                "invalid type: integer, expected a string",
            ),
            (
                r#"{"number": "x", "kind": "secret-7319, expected x"}"#,
                "kind",
                "unknown variant, expected `checking`",
            ),
            (
                r#"{"number": "x", "count": 7319}"#,
                "count",
                "invalid value: integer, expected u8",
            ),
            (
                r#"{"number": "x", "cvv": ["7319"]}"#,
                "cvv",
                "invalid type: sequence, expected a string",
            ),
            (
                r#"{"number": "x", "amount": {"v": "7319"}}"#,
                "amount",
                "invalid type, expected a decimal amount such as 125.50",
            ),
            (
                r#"{"number": "x", "4242424242424242": 1}"#,
                "****4242",
                "unknown field `****4242`, expected one of `number`, `cvv`, `kind`, `count`, `amount`",
            ),
        ] {
            let e = parse_json::<Account>(body.as_bytes()).expect_err(body);
            let expected = if param.is_empty() {
                message.to_owned()
            } else {
                format!("{param}: {message}")
            };
            assert_eq!(e.message(), expected, "{body}");
            for value in ["86420975318642", "7319", "secret", "4242424242424242"] {
                assert!(!e.message().contains(value), "{body}: {}", e.message());
            }
        }
    }

    #[derive(Debug, Deserialize)]
    struct Body {
        amount: AmountText,
        #[serde(default, deserialize_with = "nullable")]
        email: Option<Option<String>>,
    }

    fn parse(json: &str) -> Result<Body, String> {
        let de = &mut serde_json::Deserializer::from_str(json);
        serde_path_to_error::deserialize(de).map_err(|e| format!("{} @ {}", e.inner(), e.path()))
    }

    #[test]
    fn amounts_keep_their_exact_text_through_path_tracking() {
        assert_eq!(
            parse(r#"{"amount":125.5}"#).expect("ok").amount,
            AmountText("125.5".into())
        );
        assert_eq!(
            parse(r#"{"amount":"125.50"}"#).expect("ok").amount,
            AmountText("125.50".into())
        );
        assert_eq!(
            parse(r#"{"amount":0.1000000000000000055511151231257827}"#)
                .expect("ok")
                .amount
                .0,
            "0.1000000000000000055511151231257827",
            "no float in between"
        );
        let err = parse(r#"{"amount":true}"#).expect_err("bool");
        assert!(err.ends_with("@ amount"), "{err}");
    }

    #[test]
    fn nullable_tells_absent_from_null() {
        assert_eq!(parse(r#"{"amount":1}"#).expect("ok").email, None);
        assert_eq!(
            parse(r#"{"amount":1,"email":null}"#).expect("ok").email,
            Some(None)
        );
        assert_eq!(
            parse(r#"{"amount":1,"email":"a@b.co"}"#).expect("ok").email,
            Some(Some("a@b.co".into()))
        );
    }

    #[test]
    fn amounts_serialize_as_exact_numbers() {
        let json = serde_json::to_string(&Amount::new(MinorUnits::new(12550), Currency::USD))
            .expect("json");
        assert_eq!(json, "125.50");
        let json =
            serde_json::to_string(&Amount::new(MinorUnits::new(-5), Currency::USD)).expect("json");
        assert_eq!(json, "-0.05");
    }
}
