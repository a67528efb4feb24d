//! One log line per request (request id, method, route, status, latency), request ids on
//! every answer, Prometheus metrics, and the last-resort conversion of any error answer that
//! is not yet in the error shape (a router's 405, say).
//!
//! Nothing here logs a body, a header value or a path with its ids filled in: only the route
//! template, so no secret or personal data reaches the log.

use crate::http::error::{ApiError, ErrorCause};
use crate::http::extract::is_json;
use crate::http::state::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::FutureExt as _;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::panic::AssertUnwindSafe;
use std::sync::Mutex;
use std::time::Instant;

tokio::task_local! {
    static REQUEST_ID: String;
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
fn request_id_for(req: &Request) -> String {
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
    if (status.is_client_error() || status.is_server_error()) && !is_json(response.headers()) {
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

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 11] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

#[derive(Default)]
struct RouteStats {
    by_status: BTreeMap<u16, u64>,
    buckets: [u64; BUCKETS.len()],
    count: u64,
    seconds: f64,
}

/// Request counters and latency histograms per method and route, in Prometheus text.
#[derive(Default)]
pub struct Metrics {
    routes: Mutex<BTreeMap<(String, String), RouteStats>>,
}

impl Metrics {
    pub fn record(&self, method: &Method, route: &str, status: u16, seconds: f64) {
        let mut routes = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        let stats = routes
            .entry((method.as_str().to_owned(), route.to_owned()))
            .or_default();
        *stats.by_status.entry(status).or_default() += 1;
        stats.count += 1;
        stats.seconds += seconds;
        for (bucket, bound) in stats.buckets.iter_mut().zip(BUCKETS) {
            if seconds <= bound {
                *bucket += 1;
            }
        }
    }

    pub fn render(&self) -> String {
        let routes = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = String::new();
        out.push_str("# HELP quittance_build_info The running Quittance version.\n# TYPE quittance_build_info gauge\n");
        let _ = writeln!(
            out,
            "quittance_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        );
        out.push_str("# HELP quittance_http_requests_total HTTP requests answered, by method, route and status.\n");
        out.push_str("# TYPE quittance_http_requests_total counter\n");
        for ((method, route), stats) in routes.iter() {
            for (status, count) in &stats.by_status {
                let _ = writeln!(
                    out,
                    "quittance_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {count}"
                );
            }
        }
        out.push_str(
            "# HELP quittance_http_request_duration_seconds Time to answer HTTP requests.\n",
        );
        out.push_str("# TYPE quittance_http_request_duration_seconds histogram\n");
        for ((method, route), stats) in routes.iter() {
            let labels = format!("method=\"{method}\",route=\"{route}\"");
            for (bound, count) in BUCKETS.iter().zip(stats.buckets) {
                let _ = writeln!(
                    out,
                    "quittance_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {count}"
                );
            }
            let _ = writeln!(
                out,
                "quittance_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                stats.count
            );
            let _ = writeln!(
                out,
                "quittance_http_request_duration_seconds_sum{{{labels}}} {}",
                stats.seconds
            );
            let _ = writeln!(
                out,
                "quittance_http_request_duration_seconds_count{{{labels}}} {}",
                stats.count
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_render_counters_and_histograms() {
        let m = Metrics::default();
        m.record(&Method::GET, "/v1/accounts", 200, 0.003);
        m.record(&Method::GET, "/v1/accounts", 404, 0.02);
        let text = m.render();
        assert!(text.contains("quittance_http_requests_total{method=\"GET\",route=\"/v1/accounts\",status=\"200\"} 1"), "{text}");
        assert!(text.contains(
            "quittance_http_requests_total{method=\"GET\",route=\"/v1/accounts\",status=\"404\"} 1"
        ));
        assert!(text.contains("quittance_http_request_duration_seconds_bucket{method=\"GET\",route=\"/v1/accounts\",le=\"0.005\"} 1"));
        assert!(text.contains("quittance_http_request_duration_seconds_bucket{method=\"GET\",route=\"/v1/accounts\",le=\"0.025\"} 2"));
        assert!(text.contains(
            "quittance_http_request_duration_seconds_count{method=\"GET\",route=\"/v1/accounts\"} 2"
        ));
    }
}
