use chrono::Utc;
use quittance_domain::ManualClock;
use quittance_server::http::state::AppState;
use quittance_services::config::Config;
use quittance_services::credentials::{IssuedCredentials, SecretHasher, issue_credentials};
use quittance_store::testing::TestDatabase;
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub clock: ManualClock,
    pub state: AppState,
    /// Kept for the test's length: dropping it deletes the database.
    _db: TestDatabase,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.shutdown.take() {
            let _ = stop.send(());
        }
    }
}

/// Credentials of one organization, with a token already fetched.
pub struct Org {
    pub creds: IssuedCredentials,
    pub token: String,
}

impl Org {
    pub fn bearer(&self) -> String {
        format!("Bearer {}", self.token)
    }
}

/// The app with its background scheduler and webhook worker off (tests drive them
/// themselves), allowed to deliver webhooks to receivers on 127.0.0.1.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(test_config()).await
}

pub fn test_config() -> Config {
    Config {
        scheduler: false,
        webhooks: false,
        webhook_allowed_networks: vec!["127.0.0.1/32".to_owned()],
        ..Config::default()
    }
}

pub async fn spawn_app_with(mut config: Config) -> TestApp {
    let db = TestDatabase::new().await;
    config.data_dir = db.dir.path().to_path_buf();
    let hasher = SecretHasher::from_hex(&"5a".repeat(32)).expect("key");
    let clock = ManualClock::new(Utc::now());
    let vault =
        quittance_services::vault::Vault::load_or_create(None, &config.data_dir).expect("vault");
    let state = AppState::from(
        quittance_services::App::new(
            db.db.clone(),
            config,
            Arc::new(clock.clone()),
            hasher,
            vault,
        )
        .expect("state"),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = state.clone();
    tokio::spawn(async move {
        let _ = quittance_server::serve(listener, served, async move {
            let _ = stopped.await;
        })
        .await;
    });
    TestApp {
        base: format!("http://{addr}"),
        http: reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("client"),
        clock,
        state,
        _db: db,
        shutdown: Some(stop),
    }
}

impl TestApp {
    /// The application's (test) clock.
    pub fn clock_now(&self) -> chrono::DateTime<Utc> {
        quittance_domain::Clock::now(&self.clock)
    }

    pub async fn org(&self, name: &str) -> Org {
        let creds = issue_credentials(&self.state.db, &self.state.hasher, name, Utc::now())
            .await
            .expect("credentials");
        let response = self
            .http
            .post(format!("{}/oauth/token", self.base))
            .json(&json!({"grant_type": "client_credentials", "client_id": creds.client_id, "client_secret": creds.client_secret.expose()}))
            .send()
            .await
            .expect("token");
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.expect("json");
        let token = body["access_token"].as_str().expect("token").to_owned();
        Org { creds, token }
    }

    pub fn request(&self, method: Method, path: &str, org: &Org) -> RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .header("Authorization", org.bearer())
    }

    /// Sends and returns the status and the JSON body (`Value::Null` for an empty body).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        org: &Org,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.request(method, path, org);
        if let Some(body) = body {
            request = request.json(&body);
        }
        send(request).await
    }

    /// The body exactly as sent: amounts are checked on the wire text, where `125.50` keeps
    /// its decimals (a JSON parser would read it back as the float 125.5).
    pub async fn get_text(&self, path: &str, org: &Org) -> String {
        let response = self
            .request(Method::GET, path, org)
            .send()
            .await
            .expect("request");
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        response.text().await.expect("body")
    }

    pub async fn post_text(&self, path: &str, org: &Org, body: &Value) -> (StatusCode, String) {
        let response = self
            .request(Method::POST, path, org)
            .json(body)
            .send()
            .await
            .expect("request");
        (response.status(), response.text().await.expect("body"))
    }

    pub async fn get(&self, path: &str, org: &Org) -> (StatusCode, Value) {
        self.call(Method::GET, path, org, None).await
    }

    pub async fn post(&self, path: &str, org: &Org, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, org, Some(body)).await
    }

    pub async fn patch(&self, path: &str, org: &Org, body: Value) -> (StatusCode, Value) {
        self.call(Method::PATCH, path, org, Some(body)).await
    }

    /// Imports a document and insists it worked.
    pub async fn import(&self, org: &Org, doc: Value) -> Value {
        let (status, body) = self.post("/v1/import", org, doc).await;
        assert!(status.is_success(), "{status} {body}");
        body
    }

    /// Posts a bulk import and waits (bounded) for the job to end.
    pub async fn bulk_import(
        &self,
        org: &Org,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> Value {
        let response = self
            .request(Method::POST, "/v1/imports", org)
            .header("Content-Type", content_type)
            .body(body)
            .send()
            .await
            .expect("upload");
        let status = response.status();
        let job: Value = response.json().await.expect("json");
        assert_eq!(status, StatusCode::ACCEPTED, "{job}");
        self.wait_for_import(org, job["id"].as_str().expect("id"))
            .await
    }

    pub async fn wait_for_import(&self, org: &Org, id: &str) -> Value {
        for _ in 0..3000 {
            let (status, job) = self.get(&format!("/v1/imports/{id}"), org).await;
            assert_eq!(status, StatusCode::OK, "{job}");
            if job["status"] != "running" {
                return job;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("import {id} did not finish within a minute");
    }
}

/// On SQLite: `canary` appears in none of the database's files (the database and its WAL).
pub fn assert_not_in_database_files(app: &TestApp, canary: &str) {
    if !matches!(app.state.db.backend(), quittance_store::Backend::Sqlite) {
        return;
    }
    for entry in std::fs::read_dir(&app.state.config.data_dir).expect("dir") {
        let path = entry.expect("entry").path();
        let bytes = std::fs::read(&path).unwrap_or_default();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(canary),
            "{canary} is in {}",
            path.display()
        );
    }
}

pub async fn send(request: RequestBuilder) -> (StatusCode, Value) {
    let response = request.send().await.expect("request");
    let status = response.status();
    let text = response.text().await.expect("body");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, body)
}

/// Asserts the seed's error shape and returns the body.
pub fn assert_error(status: StatusCode, body: &Value, class: &str, code: u16) {
    assert_eq!(status.as_u16(), code, "{body}");
    assert_eq!(body["error_class"], class, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert!(
        body["request_id"]
            .as_str()
            .is_some_and(|r| r.starts_with("req_")),
        "{body}"
    );
}

/// A document with two sub-accounts under client C-1.
pub fn sample_document(account_number: &str) -> Value {
    json!({
        "account_number": account_number,
        "first_name": "Jane",
        "last_name": "Doe",
        "date_of_birth": "1980-02-03",
        "email": "jane.doe@example.com",
        "phone": "555-0100",
        "address": {"line1": "1 Main St", "city": "Reno", "state": "NV", "postal_code": "89501", "country": "US"},
        "sub_accounts": [
            {"reference": "V-1", "client_number": "C-1", "client_name": "Mercy Hospital", "original_balance": 125.5, "service_date": "2026-01-15"},
            {"reference": "V-2", "client_number": "C-1", "original_balance": "74.50", "balance": "70.00"}
        ]
    })
}

/// A request as the ISO Amp face's curl examples send it: the API key bare in
/// `Authorization`, and the body, if any, with its content type. The status and the body text.
pub async fn iso_raw(
    app: &TestApp,
    org: &Org,
    method: Method,
    path: &str,
    content_type: Option<&str>,
    body: Option<Vec<u8>>,
) -> (StatusCode, String) {
    let mut request = app
        .http
        .request(method, format!("{}{path}", app.base))
        .header("Authorization", org.creds.api_key.expose());
    if let Some(content_type) = content_type {
        request = request.header("Content-Type", content_type);
    }
    if let Some(body) = body {
        request = request.body(body);
    }
    let response = request.send().await.expect("request");
    (response.status(), response.text().await.expect("body"))
}

/// [`iso_raw`] with an optional JSON body.
pub async fn iso(
    app: &TestApp,
    org: &Org,
    method: Method,
    path: &str,
    body: Option<&str>,
) -> (StatusCode, String) {
    let content_type = body.map(|_| "application/json");
    iso_raw(
        app,
        org,
        method,
        path,
        content_type,
        body.map(|b| b.as_bytes().to_vec()),
    )
    .await
}

/// An object's keys, sorted (key order does not survive parsing here).
pub fn keys(value: &Value) -> Vec<&str> {
    value
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect()
}
