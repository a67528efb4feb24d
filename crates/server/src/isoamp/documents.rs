//! The list parameters and text fields the ISO Amp face's resources share. The documents
//! themselves are stored by `quittance_services::pricing::documents`, re-exported here.

pub use quittance_services::pricing::documents::*;

use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::event_limit;

/// The `limit` and `start_after_id` query parameters of most lists.
#[derive(Debug, serde::Deserialize)]
pub struct ListQuery {
    limit: Option<String>,
    start_after_id: Option<String>,
}

impl ListQuery {
    pub fn page(&self) -> ApiResult<Page> {
        page(
            self.limit.as_deref(),
            self.start_after_id.as_deref(),
            "start_after_id",
        )
    }
}

/// `limit` (1–100, default 10) and the id to start after, named `after_param`.
pub fn page(
    limit: Option<&str>,
    after: Option<&str>,
    after_param: &'static str,
) -> ApiResult<Page> {
    let limit = event_limit("limit", limit, 10)?;
    let after = after
        .map(|text| {
            canonical_id(text).ok_or_else(|| {
                ApiError::bad_request(format!("{after_param} must be a UUID"))
                    .with_param(after_param)
            })
        })
        .transpose()?;
    Ok(Page {
        after,
        after_param,
        limit,
    })
}

/// A required text field: present, trimmed, not empty, at most `max` characters.
pub fn required(field: &str, value: Option<String>, max: usize) -> ApiResult<String> {
    let value =
        value.ok_or_else(|| ApiError::unprocessable(field, format!("{field} is required")))?;
    checked(field, value, max)
}

/// A text field that was given: trimmed, not empty, at most `max` characters.
pub fn checked(field: &str, value: String, max: usize) -> ApiResult<String> {
    let value = value.trim().to_owned();
    if value.is_empty() {
        return Err(ApiError::unprocessable(
            field,
            format!("{field} must not be empty"),
        ));
    }
    if value.chars().count() > max {
        return Err(ApiError::unprocessable(
            field,
            format!("{field} must be at most {max} characters"),
        ));
    }
    Ok(value)
}

/// An email address: one `@` between a non-empty local part and a dotted domain, no spaces.
pub fn email(field: &str, value: String) -> ApiResult<String> {
    let value = checked(field, value, 254)?;
    let valid = value.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
    }) && !value.chars().any(char::is_whitespace);
    if valid {
        Ok(value)
    } else {
        Err(ApiError::unprocessable(
            field,
            format!("{field} must be an email address"),
        ))
    }
}
