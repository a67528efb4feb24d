//! Request extractors whose rejections come out in the error shape, naming the field.

use crate::http::error::{ApiError, ApiResult, ErrorClass};
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{HeaderMap, header, request::Parts};
use quittance_domain::FieldError;
use quittance_store::repo::PageRequest;
use serde::de::DeserializeOwned;

/// Entries per page on every `/v1` list, as seed 000 fixes it.
pub const PER_PAGE: i64 = 50;

/// A JSON body. Wrong content type: 415. Too large: 413. Malformed JSON: 400. A wrong type,
/// a missing or unknown field: 400 naming it.
pub struct AppJson<T>(pub T);

/// The Content-Type's media type, lowercased, without parameters.
pub fn media_type(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|mime| mime.trim().to_ascii_lowercase())
}

pub fn is_json(headers: &HeaderMap) -> bool {
    media_type(headers).is_some_and(|mime| {
        mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
    })
}

/// Reads a body up to the router's limit, turning the limit into a 413.
pub async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::of_class(ErrorClass::PayloadTooLarge)
        } else {
            ApiError::bad_request("the request body could not be read")
        }
    })
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for AppJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if !is_json(req.headers()) {
            return Err(ApiError::new(
                ErrorClass::UnsupportedMediaType,
                "send the body as JSON with Content-Type: application/json",
            ));
        }
        let bytes = read_body(req, state).await?;
        parse_json(&bytes).map(AppJson)
    }
}

/// Deserializes JSON, naming the field at fault (`sub_accounts[1].reference`).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    Ok(quittance_services::wire::parse_json(bytes)?)
}

/// Query parameters. Every field should be a string (or `Option<String>`) and be parsed by the
/// handler, so that a bad value is reported with its parameter's name.
pub struct AppQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for AppQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or("");
        serde_urlencoded::from_str(query)
            .map(AppQuery)
            .map_err(|e| ApiError::bad_request(format!("malformed query string: {e}")))
    }
}

/// `current_page`: 1 when absent; a positive integer otherwise.
pub fn page(current_page: Option<&str>) -> Result<PageRequest, ApiError> {
    let number = match current_page.map(str::trim) {
        None => 1,
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| {
                ApiError::bad_request("current_page must be a positive integer")
                    .with_param("current_page")
            })?,
    };
    Ok(PageRequest {
        number,
        per_page: PER_PAGE,
    })
}

/// Exactly one of the given body fields is present; otherwise a 422 naming the first.
pub fn exactly_one(present: &[(&str, bool)]) -> Result<(), FieldError> {
    let names: Vec<&str> = present.iter().map(|(n, _)| *n).collect();
    match present.iter().filter(|(_, p)| *p).count() {
        1 => Ok(()),
        _ => Err(FieldError::new(
            names[0],
            format!("give exactly one of {}", names.join(", ")),
        )),
    }
}

/// Parses an id named by `field`, refusing a malformed one naming the field.
pub fn body_id<T>(field: &str, text: &str, parse: fn(&str) -> Option<T>) -> Result<T, FieldError> {
    parse(text.trim()).ok_or_else(|| FieldError::new(field, "is not a well-formed id"))
}

/// An optional query parameter through `parse`: absent is `None`, a refusal a 400 naming it.
pub fn query_param<T>(
    field: &str,
    text: Option<&str>,
    parse: impl Fn(&str, &str) -> Result<T, FieldError>,
) -> ApiResult<Option<T>> {
    text.map(|t| {
        parse(field, t.trim()).map_err(|e| {
            let param = e.field.clone();
            ApiError::bad_request(e.to_string()).with_param(param)
        })
    })
    .transpose()
}

/// `limit` for event lists: 1 to 100, `default` when absent.
pub fn event_limit(param: &str, value: Option<&str>, default: i64) -> ApiResult<i64> {
    match value {
        None => Ok(default),
        Some(text) => text
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=100).contains(n))
            .ok_or_else(|| {
                ApiError::bad_request(format!("{param} must be an integer from 1 to 100"))
                    .with_param(param)
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Doc {
        account_number: String,
        sub_accounts: Vec<Sub>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Sub {
        reference: String,
    }

    fn param_of(json: &str) -> (ErrorClass, Option<String>) {
        let err = parse_json::<Doc>(json.as_bytes()).expect_err("refused");
        (err.class(), err.param().map(str::to_owned))
    }

    #[test]
    fn errors_name_the_field() {
        assert_eq!(
            param_of(r#"{"sub_accounts":[]}"#),
            (ErrorClass::BadRequest, Some("account_number".into()))
        );
        assert_eq!(
            param_of(r#"{"account_number":"A","sub_accounts":[{"reference":"x"},{}]}"#),
            (
                ErrorClass::BadRequest,
                Some("sub_accounts[1].reference".into())
            )
        );
        assert_eq!(
            param_of(r#"{"account_number":5,"sub_accounts":[]}"#),
            (ErrorClass::BadRequest, Some("account_number".into()))
        );
        assert_eq!(
            param_of(r#"{"account_number":"A","sub_accounts":[],"acount":1}"#),
            (ErrorClass::BadRequest, Some("acount".into()))
        );
        assert_eq!(
            param_of(r#"{"account_number":"#),
            (ErrorClass::BadRequest, None)
        );
        assert_eq!(
            param_of(r#"{"account_number":"A","sub_accounts":[]} x"#),
            (ErrorClass::BadRequest, None)
        );
    }

    #[test]
    fn current_page_must_be_positive() {
        assert_eq!(page(None).map(|p| p.number).ok(), Some(1));
        assert_eq!(page(Some("3")).map(|p| p.number).ok(), Some(3));
        for bad in ["0", "-1", "x", "1.5"] {
            assert_eq!(
                page(Some(bad))
                    .err()
                    .and_then(|e| e.param().map(str::to_owned)),
                Some("current_page".into())
            );
        }
    }
}
