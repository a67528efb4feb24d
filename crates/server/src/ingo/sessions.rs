//! `POST /api/v1/sessions/point-in-time/plugin` and the session's state, signed as every Ingo
//! API is (see `quittance_services::ingo::signing`).

use super::envelope::{self, respond, service_error, unauthorized, validation};
use crate::http::state::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, Version};
use axum::response::Response;
use quittance_services::ingo::sessions::{self, AuthError, CreateError, Created, Signed};
use quittance_services::ingo::signing::SignedRequest;
use std::collections::BTreeMap;
use std::time::Instant;

pub const PATH: &str = "/api/v1/sessions/point-in-time/plugin";

/// `POST /api/v1/sessions/point-in-time/plugin HTTP/1.1`, as the signature covers it.
fn request_line(method: &Method, uri: &Uri, version: Version) -> String {
    let target = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    format!("{method} {target} {version:?}")
}

async fn authenticate(
    state: &AppState,
    method: &Method,
    uri: &Uri,
    version: Version,
    headers: &HeaderMap,
    body: &[u8],
    started: Instant,
) -> Result<Signed, Response> {
    let lookup = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let request = SignedRequest {
        request_line: request_line(method, uri, version),
        header: &lookup,
        body,
    };
    match sessions::authenticate(state, &request).await {
        Ok(signed) => Ok(signed),
        Err(AuthError::Refused(why)) => {
            tracing::info!(refusal = ?why, "ingo signature refused");
            Err(unauthorized(why.client_reason(), started))
        }
        Err(AuthError::Service(e)) => Err(service_error(e, started)),
    }
}

fn create_error(e: CreateError, key: Option<&str>, participant: i64, started: Instant) -> Response {
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

/// Stage a session for the hosted page (seed 003's Session_Management).
pub async fn create(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    version: Version,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let started = Instant::now();
    let signed = match authenticate(&state, &method, &uri, version, &headers, &body, started).await
    {
        Ok(signed) => signed,
        Err(refused) => return refused,
    };
    let json: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(json) => json,
        Err(e) => {
            let mut errors = BTreeMap::new();
            errors.insert(
                "$",
                vec![format!("The request body is not valid JSON: {e}")],
            );
            return validation(errors, started);
        }
    };
    let key = headers
        .get("idempotency-key")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let participant = signed.participant.participant_id;
    match sessions::create(&state, &signed, key.as_deref(), &json).await {
        Ok(Created::New(answer)) => respond(StatusCode::OK, 100, "Success", None, answer, started),
        Ok(Created::Idempotent(answer)) => respond(
            StatusCode::OK,
            101,
            "Success - Idempotent",
            None,
            answer,
            started,
        ),
        Err(e) => create_error(e, key.as_deref(), participant, started),
    }
}

/// A session's state, for the participant that made it (signed, with an empty body).
pub async fn retrieve(
    State(state): State<AppState>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    version: Version,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let started = Instant::now();
    let signed = match authenticate(&state, &method, &uri, version, &headers, &body, started).await
    {
        Ok(signed) => signed,
        Err(refused) => return refused,
    };
    if let Err(e) = sessions::remember_alone(&state, &signed.signature).await {
        return create_error(e, None, signed.participant.participant_id, started);
    }
    match sessions::get(&state, &signed.participant, &id).await {
        Ok(view) => respond(StatusCode::OK, 100, "Success", None, view, started),
        Err(e) => envelope::service_error(e, started),
    }
}
