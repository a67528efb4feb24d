//! The extractor every Ingo route starts with: the request's signature checked (see
//! `quittance_services::ingo::signing`), its participant found, or the 401 answered.

use super::envelope::create_error;
use super::envelope::unauthorized;
use crate::http::state::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, Method, Uri, Version};
use axum::response::{IntoResponse, Response};
use quittance_services::ingo::sessions::{self, AuthError, Signed};
use quittance_services::ingo::signing::SignedRequest;
use std::time::Instant;

/// A request whose signature checked out, with its body.
pub struct SignedCall {
    pub signed: Signed,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// When the request arrived: the envelope's `time` counts from here.
    pub started: Instant,
}

impl SignedCall {
    pub fn participant_id(&self) -> i64 {
        self.signed.participant.participant_id
    }

    /// `Idempotency-Key`, as sent.
    pub fn idempotency_key(&self) -> Option<String> {
        self.headers
            .get("idempotency-key")
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    }

    /// A read's signature is remembered in a write of its own (refused if seen before).
    pub async fn remember(&self, state: &AppState) -> Result<(), Response> {
        sessions::remember_alone(state, &self.signed.signature)
            .await
            .map_err(|e| create_error(e, None, self.participant_id(), self.started))
    }
}

/// `POST /api/v1/sessions/point-in-time/plugin HTTP/1.1`, as the signature covers it.
fn request_line(method: &Method, uri: &Uri, version: Version) -> String {
    let target = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    format!("{method} {target} {version:?}")
}

impl FromRequest<AppState> for SignedCall {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let started = Instant::now();
        let (method, uri, version, headers) = (
            req.method().clone(),
            req.uri().clone(),
            req.version(),
            req.headers().clone(),
        );
        let body = Bytes::from_request(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let lookup = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let request = SignedRequest {
            request_line: request_line(&method, &uri, version),
            header: &lookup,
            body: &body,
        };
        let signed = match sessions::authenticate(state, &request).await {
            Ok(signed) => signed,
            Err(AuthError::Refused(why)) => {
                tracing::info!(refusal = ?why, "ingo signature refused");
                return Err(unauthorized(why.client_reason(), started));
            }
            Err(AuthError::Service(e)) => return Err(super::envelope::service_error(e, started)),
        };
        Ok(SignedCall {
            signed,
            headers,
            body,
            started,
        })
    }
}
