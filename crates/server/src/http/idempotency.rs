//! `Idempotency-Key` on every POST under `/v1`.
//!
//! The key (1–255 visible ASCII characters) is scoped by organization, credential, method and
//! path. The first request claims it for a lease and runs; its answer, when it is one worth
//! keeping (2xx, or a 409 about the resource's state), is stored with card numbers masked and
//! replayed byte for byte with `Idempotent-Replayed: true`. The same key with another body is
//! a 422; while the first still runs, a 409. Answers not kept (validation failures, 4xx about
//! the request, 5xx) release the key so a corrected retry runs; 401 and 429 come before the
//! key is claimed. If the first request's process stops, its lease runs out and a retry
//! resumes the work: handlers that move money find what the first attempt wrote through
//! [`IdempotencyRef`].

use crate::http::auth::Caller;
use crate::http::error::{ApiError, ErrorClass};
use crate::http::state::AppState;
use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::Duration;
use quittance_domain::instruments::mask_card_numbers;
use quittance_store::repo::idempotency::{self as store, Claim, KeyScope, StoredResponse};

pub const HEADER: &str = "Idempotency-Key";
pub const REPLAYED_HEADER: &str = "Idempotent-Replayed";

/// A stable reference for the request's key, in the request's extensions: a payment records it
/// so that a retry after a crash continues the same payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRef(pub String);

fn bad_key(message: &str) -> Response {
    ApiError::bad_request(message)
        .with_param(HEADER)
        .into_response()
}

/// The middleware: see the module's documentation.
/// A key as the database keeps it: a keyed hash, so that a client that puts a card number
/// in its key does not leave it in the database (or its WAL).
pub fn stored_key(hasher: &quittance_services::credentials::SecretHasher, key: &str) -> String {
    hasher.hash(&format!("idempotency-key:{key}"))
}

pub async fn layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.method() != Method::POST || !request.uri().path().starts_with("/v1/") {
        return next.run(request).await;
    }
    let Some(raw) = request.headers().get(HEADER) else {
        return next.run(request).await;
    };
    let key = match raw.to_str() {
        Ok(k)
            if !k.is_empty() && k.len() <= 255 && k.bytes().all(|b| (0x20..0x7f).contains(&b)) =>
        {
            k.to_owned()
        }
        _ => return bad_key("Idempotency-Key must be 1 to 255 visible ASCII characters"),
    };
    let (mut parts, body) = request.into_parts();
    let caller = match Caller::from_request_parts(&mut parts, &state).await {
        Ok(caller) => caller,
        Err(e) => return e.into_response(),
    };
    parts.extensions.insert(caller.clone());
    let path = parts.uri.path().to_owned();
    // A bulk upload streams (it may be gigabytes): its fingerprint is its type and length.
    let (fingerprint, body) = if path == "/v1/imports" {
        let describe = |name| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        let text = format!(
            "{}\n{}",
            describe(header::CONTENT_TYPE),
            describe(header::CONTENT_LENGTH)
        );
        (state.hasher.hash(&text), body)
    } else {
        match axum::body::to_bytes(body, state.config.max_json_body_bytes).await {
            Ok(bytes) => (state.hasher.hash_bytes(&bytes), Body::from(bytes)),
            Err(_) => return ApiError::of_class(ErrorClass::PayloadTooLarge).into_response(),
        }
    };
    let scope = KeyScope {
        organization_id: caller.organization().clone(),
        credential_id: caller.0.credential_id.clone(),
        method: parts.method.to_string(),
        path,
        key: stored_key(&state.hasher, &key),
    };
    let now = state.clock.now();
    let lease =
        Duration::seconds(i64::try_from(state.config.idempotency_lease_seconds).unwrap_or(60));
    let ttl =
        Duration::seconds(i64::try_from(state.config.idempotency_ttl_seconds).unwrap_or(86_400));
    // A key an older version stored as sent is honoured while such keys can be live.
    let legacy = match legacy_horizon(&state).await {
        Ok(horizon) => horizon.filter(|until| now < *until).map(|_| KeyScope {
            key: key.clone(),
            ..scope.clone()
        }),
        Err(e) => return ApiError::from(e).into_response(),
    };
    let claimed = {
        let (scope, fingerprint) = (scope.clone(), fingerprint.clone());
        state
            .db
            .write(move |tx| {
                Box::pin(async move {
                    let scope = match legacy {
                        Some(legacy) if store::exists(tx, &legacy).await? => legacy,
                        _ => scope,
                    };
                    let claim =
                        store::claim(tx, &scope, &fingerprint, now, now + lease, now + ttl).await?;
                    Ok::<_, quittance_store::StoreError>((claim, scope))
                })
            })
            .await
    };
    let (claimed, scope) = match claimed {
        Ok((claim, scope)) => (Ok(claim), scope),
        Err(e) => (Err(e), scope),
    };
    match claimed {
        Err(e) => ApiError::from(e).into_response(),
        Ok(Claim::Mismatch) => ApiError::unprocessable(
            HEADER,
            "this Idempotency-Key was used with a different request body",
        )
        .into_response(),
        Ok(Claim::InFlight) => {
            ApiError::conflict("a request with this Idempotency-Key is still running; retry later")
                .with_param(HEADER)
                .into_response()
        }
        Ok(Claim::Replay(stored)) => replay(stored),
        Ok(Claim::Run(first_claimed)) => {
            let reference = state.hasher.hash(&format!(
                "{}\n{}\n{}\n{}\n{}\n{first_claimed}",
                scope.organization_id, scope.credential_id, scope.method, scope.path, key
            ));
            parts.extensions.insert(IdempotencyRef(reference));
            let response = next.run(Request::from_parts(parts, body)).await;
            finish(&state, scope, response).await
        }
    }
}

async fn legacy_horizon(
    state: &AppState,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, quittance_store::StoreError> {
    state
        .idempotency_legacy_horizon
        .get_or_try_init(|| {
            state
                .db
                .read(|tx| Box::pin(async move { store::legacy_horizon(tx).await }))
        })
        .await
        .copied()
}

/// Whether an answer is the request's outcome (kept) or a refusal to fix and retry (not).
fn kept(status: StatusCode) -> bool {
    status.is_success() || status == StatusCode::CONFLICT
}

async fn finish(state: &AppState, scope: KeyScope, response: Response) -> Response {
    let status = response.status();
    if !kept(status) {
        let _ = state
            .db
            .write(move |tx| Box::pin(async move { store::release(tx, &scope).await }))
            .await;
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return ApiError::internal("could not read the response to keep it").into_response();
    };
    let stored = StoredResponse {
        status: status.as_u16(),
        content_type: parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        body: mask_card_numbers(&String::from_utf8_lossy(&bytes)),
    };
    let saved = state
        .db
        .write(move |tx| Box::pin(async move { store::complete(tx, &scope, &stored).await }))
        .await;
    if let Err(e) = saved {
        // The work is done and committed; the retry will find it through IdempotencyRef.
        tracing::warn!(error = %e, "could not keep an idempotent answer");
    }
    Response::from_parts(parts, Body::from(bytes))
}

fn replay(stored: StoredResponse) -> Response {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let mut response = (status, stored.body).into_response();
    let headers = response.headers_mut();
    if let Some(ct) = stored
        .content_type
        .and_then(|c| HeaderValue::from_str(&c).ok())
    {
        headers.insert(header::CONTENT_TYPE, ct);
    }
    headers.insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    response
}
