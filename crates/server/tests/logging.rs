//! The request log, in a test binary of its own: it installs the process-wide subscriber.

#[allow(dead_code)]
#[path = "api/helpers.rs"]
mod helpers;

use helpers::spawn_app;
use reqwest::StatusCode;
use std::io::Write as _;
use std::sync::{Arc, Mutex};

/// Collects log output in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn one_log_line_per_request_with_no_secret_or_personal_data() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_writer(move || writer.clone())
        .with_max_level(tracing::Level::INFO)
        .finish();
    tracing::subscriber::set_global_default(subscriber)
        .expect("the only subscriber in this test binary");
    let app = spawn_app().await;
    let org = app.org("acme").await;
    app.import(&org, helpers::sample_document("A-SECRET-1"))
        .await;
    let response = app
        .request(reqwest::Method::GET, "/v1/accounts?last_name=Doe", &org)
        .header("X-Request-Id", "req-log-check")
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::OK);
    let _ = std::io::stderr().flush();
    let text = String::from_utf8(captured.0.lock().expect("lock").clone()).expect("utf8");
    let lines: Vec<serde_json::Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|l: &serde_json::Value| l["fields"]["message"] == "request")
        .collect();
    let ours: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l["fields"]["request_id"] == "req-log-check")
        .collect();
    assert_eq!(ours.len(), 1, "exactly one line for the request: {text}");
    let fields = &ours[0]["fields"];
    assert_eq!(
        (
            fields["method"].as_str(),
            fields["route"].as_str(),
            fields["status"].as_u64()
        ),
        (Some("GET"), Some("/v1/accounts"), Some(200))
    );
    assert!(fields["latency_ms"].as_f64().is_some());
    for secret in [
        org.token.as_str(),
        org.creds.client_secret.expose(),
        org.creds.api_key.expose(),
        "Doe",
        "jane.doe@example.com",
        "A-SECRET-1",
        "1980-02-03",
    ] {
        assert!(!text.contains(secret), "{secret} reached the log");
    }
}
