//! Seed 003's answer envelope and the status codes Quittance gives in it.
//!
//! | status | HTTP | client_message | developer_message |
//! |---|---|---|---|
//! | 100 | 200 | Success | |
//! | 101 | 200 | Success - Idempotent | |
//! | 13400 | 400 | Field validation error - See data element for validation error details | invalid_request_fields |
//! | 13401 | 401 | Unauthorized | invalid_signature, request_date_out_of_range, host_uri_not_allowed |
//! | 102 | 202 | Accepted - the outcome is not known yet | outcome_pending |
//! | 13402 | 402 | Funding refused - See data element for the failure code | funding_refused |
//! | 13404 | 404 | Session not found, Disbursement not found | session_not_found, disbursement_not_found |
//! | 13723 | 409 | Idempotency Key … for ParticipantId … does not match the original request | invalid_idempotent_request |
//! | 13500 | 500 | Internal error - quote the request id | internal_error |
//! | 13503 | 503 | Service unavailable - try again | service_unavailable |

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use quittance_services::error::{ErrorClass, ServiceError};
use quittance_services::ingo::sessions::CreateError;
use serde::Serialize;
use std::time::Instant;

#[derive(Serialize)]
struct Envelope<T: Serialize> {
    status: u32,
    client_message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    developer_message: Option<&'static str>,
    data: T,
    /// Seconds the request took.
    time: f64,
}

/// Seconds since `started`, to the millisecond.
fn seconds(started: Instant) -> f64 {
    let millis = started.elapsed().as_millis();
    // Milliseconds of one request fit in an f64 exactly.
    #[allow(clippy::cast_precision_loss)]
    let millis = millis as f64;
    millis / 1000.0
}

/// An answer: the HTTP status, the envelope's status and messages, and `data`.
pub fn respond<T: Serialize>(
    http: StatusCode,
    status: u32,
    client_message: impl Into<String>,
    developer_message: Option<&'static str>,
    data: T,
    started: Instant,
) -> Response {
    let body = Envelope {
        status,
        client_message: client_message.into(),
        developer_message,
        data,
        time: seconds(started),
    };
    (http, Json(body)).into_response()
}

pub fn unauthorized(reason: &'static str, started: Instant) -> Response {
    respond(
        StatusCode::UNAUTHORIZED,
        13401,
        "Unauthorized",
        Some(reason),
        (),
        started,
    )
}

pub fn validation(data: impl Serialize, started: Instant) -> Response {
    respond(
        StatusCode::BAD_REQUEST,
        13400,
        "Field validation error - See data element for validation error details",
        Some("invalid_request_fields"),
        data,
        started,
    )
}

/// What a 13404 says was not found: its `client_message` and `developer_message`.
pub type Missing = (&'static str, &'static str);
pub const SESSION: Missing = ("Session not found", "session_not_found");
pub const DISBURSEMENT: Missing = ("Disbursement not found", "disbursement_not_found");

/// A service failure about a session: see [`service_error_about`].
pub fn service_error(error: ServiceError, started: Instant) -> Response {
    service_error_about(error, SESSION, started)
}

/// A service failure: 404 (naming `missing`), 503, or a 500 whose cause is logged once and
/// not shown.
pub fn service_error_about(error: ServiceError, missing: Missing, started: Instant) -> Response {
    let request_id = crate::http::request_id::current_request_id();
    match error.class() {
        ErrorClass::NotFound => respond(
            StatusCode::NOT_FOUND,
            13404,
            missing.0,
            Some(missing.1),
            (),
            started,
        ),
        ErrorClass::ServiceUnavailable => respond(
            StatusCode::SERVICE_UNAVAILABLE,
            13503,
            "Service unavailable - try again",
            Some("service_unavailable"),
            (),
            started,
        ),
        _ => {
            tracing::error!(
                cause = error.cause().unwrap_or(error.message()),
                "ingo request failed"
            );
            respond(
                StatusCode::INTERNAL_SERVER_ERROR,
                13500,
                format!("Internal error - quote the request id {request_id}"),
                Some("internal_error"),
                (),
                started,
            )
        }
    }
}

/// A refused signed request: its fields, its signature, its idempotency key, or a service
/// failure.
pub fn create_error(
    e: CreateError,
    key: Option<&str>,
    participant: i64,
    started: Instant,
) -> Response {
    match e {
        CreateError::Invalid(errors) => validation(errors, started),
        CreateError::HostNotAllowed => unauthorized("host_uri_not_allowed", started),
        CreateError::Refused(why) => unauthorized(why.client_reason(), started),
        CreateError::Mismatch => respond(
            StatusCode::CONFLICT,
            13723,
            format!(
                "Idempotency Key {} for ParticipantId {participant} does not match the original request",
                key.unwrap_or_default()
            ),
            Some("invalid_idempotent_request"),
            (),
            started,
        ),
        CreateError::Service(e) => service_error(e, started),
    }
}
