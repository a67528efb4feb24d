//! Request ids: a caller's own `X-Request-Id` when it is short and plain, ours otherwise, kept
//! in a task-local for the request's error bodies and log line.

use axum::extract::Request;
use axum::http::HeaderName;

tokio::task_local! {
    /// The id of the request being served, set by `telemetry::observe` around each request.
    pub static REQUEST_ID: String;
}

pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the request being served (for error bodies), or `unknown` outside one.
pub fn current_request_id() -> String {
    REQUEST_ID
        .try_with(Clone::clone)
        .unwrap_or_else(|_| "unknown".to_owned())
}

fn new_request_id() -> String {
    format!("req_{}", uuid::Uuid::now_v7().simple())
}

/// A caller's own `X-Request-Id` is kept when it is short and plain; otherwise we make one.
pub fn request_id_for(req: &Request) -> String {
    req.headers()
        .get(&REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map_or_else(new_request_id, str::to_owned)
}
