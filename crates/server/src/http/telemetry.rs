//! One log line per request (request id, method, route, status, latency), request ids on
//! every answer, the request [`metrics`](super::metrics), and the last-resort conversion of
//! any error answer that is not yet in the error shape (a router's 405, say).
//!
//! Nothing here logs a body, a header value or a path with its ids filled in: only the route
//! template, so no secret or personal data reaches the log.

use crate::http::error::{ApiError, ErrorCause};
use crate::http::extract::is_json;
use crate::http::request_id::{REQUEST_ID, REQUEST_ID_HEADER, request_id_for};
use crate::http::state::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::FutureExt as _;
use std::panic::AssertUnwindSafe;
use std::time::Instant;

pub async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let request_id = request_id_for(&req);
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("(unmatched)", |m| m.as_str())
        .to_owned();
    // A panicking handler still answers: a 500 in the error shape, its cause in the log.
    let served = AssertUnwindSafe(REQUEST_ID.scope(request_id.clone(), next.run(req)))
        .catch_unwind()
        .await;
    let mut response = served.unwrap_or_else(|panic| {
        let cause = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a handler panicked".to_owned());
        REQUEST_ID.sync_scope(request_id.clone(), || {
            ApiError::internal(format!("panic: {cause}")).into_response()
        })
    });
    let status = response.status();
    // A page (text/html) is already in its face's shape; anything else not JSON is reshaped.
    let page = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/html"));
    if (status.is_client_error() || status.is_server_error())
        && !is_json(response.headers())
        && !page
    {
        let shaped = REQUEST_ID.sync_scope(request_id.clone(), || {
            ApiError::of_class(crate::http::error::class_of(status)).into_response()
        });
        let (mut parts, body) = shaped.into_parts();
        // Keep what the original said beyond its body (`Allow` on a 405, for one).
        for (name, value) in response.headers() {
            if name != axum::http::header::CONTENT_TYPE
                && name != axum::http::header::CONTENT_LENGTH
            {
                parts.headers.insert(name.clone(), value.clone());
            }
        }
        parts.status = status;
        response = Response::from_parts(parts, body);
    }
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    // API answers hold account data and credentials: never cached, never sniffed.
    let headers = response.headers_mut();
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    let latency = started.elapsed();
    let latency_ms = latency.as_secs_f64() * 1000.0;
    let status_code = status.as_u16();
    match response.extensions().get::<ErrorCause>() {
        Some(ErrorCause(cause)) if status.is_server_error() => {
            tracing::error!(target: "quittance::http", request_id, %method, route, status = status_code, latency_ms, cause, "request failed");
        }
        _ => {
            tracing::info!(target: "quittance::http", request_id, %method, route, status = status_code, latency_ms, "request")
        }
    }
    state
        .metrics
        .record(&method, &route, status_code, latency.as_secs_f64());
    response
}
