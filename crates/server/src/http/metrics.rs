//! The request counters and latency histograms `GET /metrics` shows, in Prometheus text.

use axum::http::Method;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;

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
