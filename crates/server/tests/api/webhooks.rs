//! Webhooks: the ISO Amp and /v1 configuration APIs, signed deliveries to a local receiver,
//! retries, Retry-After, 410 and five-day disabling, receiver authentication, formats and
//! methods, address rules, and at-least-once delivery across a stopped worker and two workers.

use crate::helpers::{Org, TestApp, assert_error, iso, keys, send, spawn_app};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method as AxumMethod, StatusCode as AxumStatus, Uri};
use axum::response::{IntoResponse, Response};
use quittance_domain::events::EventType;
use quittance_services::webhooks::{delivery, sample, signing};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};

/// One request a receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub uri: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A status to answer with, and extra headers.
type Answer = (u16, Vec<(String, String)>);

#[derive(Default)]
struct ReceiverState {
    received: Mutex<Vec<Received>>,
    /// Answers to give, in order; then `otherwise`.
    script: Mutex<VecDeque<Answer>>,
    otherwise: Mutex<u16>,
    tokens_issued: Mutex<Vec<String>>,
    /// When set, hooks answer 401 unless they carry `Bearer tok-N` with N at least this.
    bearer_from: Mutex<Option<usize>>,
}

/// A local HTTP receiver on 127.0.0.1 that records what it gets and answers as scripted;
/// `POST /token` issues OAuth2 access tokens.
pub struct Receiver {
    pub url: String,
    state: Arc<ReceiverState>,
}

async fn hook(
    State(state): State<Arc<ReceiverState>>,
    method: AxumMethod,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if uri.path() == "/token" {
        let mut issued = state.tokens_issued.lock().expect("lock");
        issued.push(format!(
            "{} {}",
            headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default(),
            String::from_utf8_lossy(&body)
        ));
        let token = format!("tok-{}", issued.len());
        return axum::Json(
            json!({"access_token": token, "token_type": "Bearer", "expires_in": 3600}),
        )
        .into_response();
    }
    let bearer_from = *state.bearer_from.lock().expect("lock");
    if let Some(from) = bearer_from {
        let token = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer tok-"))
            .and_then(|n| n.parse::<usize>().ok());
        if token.is_none_or(|n| n < from) {
            return (AxumStatus::UNAUTHORIZED, "token revoked").into_response();
        }
    }
    state.received.lock().expect("lock").push(Received {
        method: method.to_string(),
        uri: uri.to_string(),
        headers,
        body: body.to_vec(),
    });
    let next = state.script.lock().expect("lock").pop_front();
    let (status, extra) =
        next.unwrap_or_else(|| (*state.otherwise.lock().expect("lock"), Vec::new()));
    let mut response = (
        AxumStatus::from_u16(status).expect("status"),
        format!("answer {status}"),
    )
        .into_response();
    for (name, value) in extra {
        response.headers_mut().insert(
            axum::http::HeaderName::from_bytes(name.as_bytes()).expect("name"),
            value.parse().expect("value"),
        );
    }
    response
}

impl Receiver {
    pub async fn start() -> Receiver {
        let state = Arc::new(ReceiverState {
            otherwise: Mutex::new(200),
            ..ReceiverState::default()
        });
        let app = axum::Router::new().fallback(hook).with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver { url, state }
    }

    pub fn answer(&self, status: u16, headers: &[(&str, &str)]) {
        self.state.script.lock().expect("lock").push_back((
            status,
            headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
        ));
    }

    pub fn otherwise(&self, status: u16) {
        *self.state.otherwise.lock().expect("lock") = status;
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.received.lock().expect("lock").clone()
    }

    fn tokens_issued(&self) -> Vec<String> {
        self.state.tokens_issued.lock().expect("lock").clone()
    }

    /// Revokes every token issued so far: hooks then want a newer one.
    fn revoke_tokens(&self) {
        let issued = self.state.tokens_issued.lock().expect("lock").len();
        *self.state.bearer_from.lock().expect("lock") = Some(issued + 1);
    }
}

async fn deliver(app: &TestApp) -> delivery::Round {
    delivery::deliver_due(&app.state, "", &mut |_| {})
        .await
        .expect("delivery round")
}

async fn trigger(app: &TestApp, org: &Org, event_type: EventType) -> String {
    sample::trigger(&app.state, &org.creds.organization_id, event_type)
        .await
        .expect("event")
        .to_string()
}

async fn create_webhook(app: &TestApp, org: &Org, body: Value) -> Value {
    let (status, created) = app.post("/v1/webhooks", org, body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created
}

#[tokio::test]
async fn iso_amp_webhooks_work_as_the_seed_prints_them() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let (status, text) = iso(
        &app,
        &org,
        Method::POST,
        "/api/webhooks",
        Some(r#"{"url": "https://example.com/webhook", "eventTypes": ["statement_analysis.completed", "statement_analysis.rejected"]}"#),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let created: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(keys(&created), ["hmacSecret", "id"]);
    let id = created["id"].as_i64().expect("an integer id");
    let secret = created["hmacSecret"].as_str().expect("secret");
    assert!(secret.len() == 64 && secret.bytes().all(|b| b.is_ascii_hexdigit()));

    let (status, text) = iso(&app, &org, Method::GET, "/api/webhooks", None).await;
    assert_eq!(status, StatusCode::OK);
    let list: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(list["object"], "list");
    let one = &list["data"][0];
    assert_eq!(
        keys(one),
        ["eventTypes", "hmacSecret", "id", "object", "url"]
    );
    assert_eq!(
        one,
        &json!({"id": id, "object": "webhook", "url": "https://example.com/webhook",
            "eventTypes": ["statement_analysis.completed", "statement_analysis.rejected"],
            "hmacSecret": secret})
    );
    let (status, text) = iso(
        &app,
        &org,
        Method::GET,
        &format!("/api/webhooks/{id}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(&serde_json::from_str::<Value>(&text).expect("json"), one);

    // PATCH and DELETE answer 200 with no body; analysis.* is accepted and kept as written.
    let (status, text) = iso(
        &app,
        &org,
        Method::PATCH,
        &format!("/api/webhooks/{id}"),
        Some(r#"{"url": "https://example.com/webhook", "eventTypes": ["analysis.completed", "statement_analysis.rejected"]}"#),
    )
    .await;
    assert_eq!((status, text.as_str()), (StatusCode::OK, ""));
    let (_, text) = iso(
        &app,
        &org,
        Method::GET,
        &format!("/api/webhooks/{id}"),
        None,
    )
    .await;
    let changed: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(
        changed["eventTypes"],
        json!(["analysis.completed", "statement_analysis.rejected"])
    );
    let (status, text) = iso(
        &app,
        &org,
        Method::POST,
        "/api/webhooks",
        Some(r#"{"url": "https://example.com/webhook", "eventTypes": ["analysis.finished"]}"#),
    )
    .await;
    let refused: Value = serde_json::from_str(&text).expect("json");
    assert_error(status, &refused, "UnprocessableEntity", 422);
    assert_eq!(refused["param"], "eventTypes[0]");

    let (status, text) = iso(
        &app,
        &org,
        Method::DELETE,
        &format!("/api/webhooks/{id}"),
        None,
    )
    .await;
    assert_eq!((status, text.as_str()), (StatusCode::OK, ""));
    for path in [
        format!("/api/webhooks/{id}"),
        "/api/webhooks/abc".to_owned(),
    ] {
        let (status, _) = iso(&app, &org, Method::GET, &path, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
}

#[tokio::test]
async fn iso_amp_deliveries_carry_a_signature_receivers_can_check() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let receiver = Receiver::start().await;
    let body =
        json!({"url": format!("{}/isoamp", receiver.url), "eventTypes": ["analysis.completed"]});
    let (status, text) = iso(
        &app,
        &org,
        Method::POST,
        "/api/webhooks",
        Some(&body.to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let secret = serde_json::from_str::<Value>(&text).expect("json")["hmacSecret"]
        .as_str()
        .expect("secret")
        .to_owned();
    trigger(&app, &org, EventType::StatementAnalysisRejected).await;
    trigger(&app, &org, EventType::StatementAnalysisCompleted).await;
    assert_eq!(deliver(&app).await.delivered, 1);

    let got = receiver.received();
    assert_eq!(got.len(), 1);
    let request = &got[0];
    assert_eq!(
        (request.method.as_str(), request.uri.as_str()),
        ("POST", "/isoamp")
    );
    assert_eq!(request.header("content-type"), "application/json");
    let text = request.text();
    assert!(text.starts_with(r#"{"id":""#), "{text}");
    let event: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(keys(&event), ["data", "id", "object", "time", "type"]);
    assert_eq!(event["type"], "statement_analysis.completed");
    assert_eq!(
        event["data"]["proposalId"],
        "059036f7-2f35-43c5-b968-46dc082ecf33"
    );
    // What seed 001's Ruby check does: t from the header, HMAC of t followed by the body.
    let signature = request.header("isoamp-signature");
    let t: i64 = signature
        .split(',')
        .find_map(|pair| pair.strip_prefix("t="))
        .and_then(|t| t.parse().ok())
        .expect("t");
    assert_eq!(
        signing::isoamp_signature(&secret, t, &request.body),
        signature
    );
    assert_eq!(t, event["time"].as_i64().expect("time"));
    assert_eq!(
        request.header("webhook-id"),
        event["id"].as_str().expect("id")
    );

    // The same event through the events API, byte for byte.
    let (_, listed) = iso(
        &app,
        &org,
        Method::GET,
        &format!("/api/events/{}", event["id"].as_str().expect("id")),
        None,
    )
    .await;
    assert_eq!(listed, text);
}

#[tokio::test]
async fn failed_deliveries_are_retried_on_the_schedule_and_logged() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let receiver = Receiver::start().await;
    receiver.answer(500, &[]);
    receiver.answer(502, &[]);
    let webhook = create_webhook(
        &app,
        &org,
        json!({"url": format!("{}/hook", receiver.url), "event_types": ["payment.approved"]}),
    )
    .await;
    let id = webhook["id"].as_str().expect("id");
    let secret = webhook["secret"]
        .as_str()
        .expect("secret shown once")
        .to_owned();
    assert!(secret.starts_with("whsec_"));
    let (_, shown) = app.get(&format!("/v1/webhooks/{id}"), &org).await;
    assert!(shown.get("secret").is_none(), "{shown}");
    assert_eq!(
        shown["retry_policy"],
        json!({"schedule": "fixed", "interval_seconds": 1800, "max_attempts": 5})
    );

    let event = trigger(&app, &org, EventType::PaymentApproved).await;
    let round = deliver(&app).await;
    assert_eq!((round.delivered, round.retrying), (0, 1));
    let (_, log) = app
        .get(&format!("/v1/webhooks/{id}/deliveries"), &org)
        .await;
    let delivery = &log["data"][0];
    assert_eq!(delivery["status"], "pending_retry");
    assert_eq!(delivery["event_id"], event.as_str());
    assert_eq!(delivery["attempts"][0]["response_status"], 500);
    assert_eq!(delivery["attempts"][0]["response_body"], "answer 500");
    assert!(delivery["attempts"][0]["latency_ms"].as_i64().is_some());
    let next = delivery["next_attempt_at"].as_str().expect("next attempt");
    let first = delivery["attempts"][0]["attempted_at"]
        .as_str()
        .expect("at");
    let gap = chrono::DateTime::parse_from_rfc3339(next).expect("time")
        - chrono::DateTime::parse_from_rfc3339(first).expect("time");
    assert_eq!(gap.num_seconds(), 1800);

    // Not due yet: nothing is sent.
    assert_eq!(deliver(&app).await, delivery::Round::default());
    app.clock.advance(chrono::Duration::minutes(30));
    assert_eq!(deliver(&app).await.retrying, 1);
    app.clock.advance(chrono::Duration::minutes(30));
    assert_eq!(deliver(&app).await.delivered, 1);

    let org = app.org("acme").await;
    let (_, log) = app
        .get(&format!("/v1/events/{event}/deliveries"), &org)
        .await;
    let delivery = &log["data"][0];
    assert_eq!(delivery["status"], "delivered");
    let statuses: Vec<i64> = delivery["attempts"]
        .as_array()
        .expect("attempts")
        .iter()
        .filter_map(|a| a["response_status"].as_i64())
        .collect();
    assert_eq!(statuses, [500, 502, 200]);
    // Every attempt: the same webhook-id, and a signature over what was sent.
    let got = receiver.received();
    assert_eq!(got.len(), 3);
    for request in &got {
        assert_eq!(request.header("webhook-id"), event);
        let timestamp: i64 = request
            .header("webhook-timestamp")
            .parse()
            .expect("timestamp");
        assert_eq!(
            request.header("webhook-signature"),
            signing::standard_signature(&secret, &event, timestamp, &request.body)
        );
        let sent: Value = serde_json::from_slice(&request.body).expect("json");
        assert_eq!(
            (sent["id"].as_str(), sent["type"].as_str()),
            (Some(event.as_str()), Some("payment.approved"))
        );
    }
    // Headers with credentials never reach the log; the signature does.
    let headers = &delivery["attempts"][0]["request"]["headers"];
    assert!(
        headers.to_string().contains("webhook-signature"),
        "{headers}"
    );
}

#[tokio::test]
async fn retry_after_is_honoured_and_410_disables_the_endpoint() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let receiver = Receiver::start().await;
    receiver.answer(503, &[("Retry-After", "120")]);
    receiver.answer(410, &[]);
    let webhook = create_webhook(
        &app,
        &org,
        json!({"url": receiver.url, "event_types": ["payment.declined"]}),
    )
    .await;
    let id = webhook["id"].as_str().expect("id");
    trigger(&app, &org, EventType::PaymentDeclined).await;
    deliver(&app).await;
    let (_, log) = app
        .get(&format!("/v1/webhooks/{id}/deliveries"), &org)
        .await;
    let delivery = &log["data"][0];
    let gap =
        chrono::DateTime::parse_from_rfc3339(delivery["next_attempt_at"].as_str().expect("next"))
            .expect("time")
            - chrono::DateTime::parse_from_rfc3339(
                delivery["last_attempt_at"].as_str().expect("last"),
            )
            .expect("time");
    assert_eq!(gap.num_seconds(), 120);

    app.clock.advance(chrono::Duration::seconds(120));
    let round = deliver(&app).await;
    assert_eq!((round.failed, round.disabled), (1, 1));
    let (_, shown) = app.get(&format!("/v1/webhooks/{id}"), &org).await;
    assert_eq!(shown["enabled"], false);
    assert!(
        shown["disabled_reason"]
            .as_str()
            .expect("reason")
            .contains("410")
    );
    let (_, events) = app.get("/v1/events?type=webhook.disabled", &org).await;
    assert_eq!(events["data"][0]["data"]["webhook_id"], id);
    // A disabled endpoint gets nothing more.
    trigger(&app, &org, EventType::PaymentDeclined).await;
    assert_eq!(deliver(&app).await, delivery::Round::default());
    assert_eq!(receiver.received().len(), 2);
}

#[tokio::test]
async fn endpoints_failing_for_five_days_are_disabled_then_recovered() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let receiver = Receiver::start().await;
    receiver.otherwise(500);
    let webhook = create_webhook(
        &app,
        &org,
        json!({"url": receiver.url, "event_types": ["payment.settled"],
            "retry_policy": {"max_attempts": 1}}),
    )
    .await;
    let id = webhook["id"].as_str().expect("id");
    trigger(&app, &org, EventType::PaymentSettled).await;
    let round = deliver(&app).await;
    assert_eq!((round.failed, round.disabled), (1, 0));
    app.clock.advance(chrono::Duration::days(5));
    let org = app.org("acme").await;
    trigger(&app, &org, EventType::PaymentSettled).await;
    let round = deliver(&app).await;
    assert_eq!((round.failed, round.disabled), (1, 1));
    let (_, shown) = app.get(&format!("/v1/webhooks/{id}"), &org).await;
    assert_eq!(shown["enabled"], false);
    assert!(
        shown["disabled_reason"]
            .as_str()
            .expect("reason")
            .contains("failed since")
    );
    let (_, log) = app
        .get(&format!("/v1/webhooks/{id}/deliveries"), &org)
        .await;
    let (newest, oldest) = (&log["data"][0], &log["data"][1]);
    assert_eq!(
        (newest["status"].as_str(), oldest["status"].as_str()),
        (Some("failed"), Some("failed"))
    );

    // Retrying needs the endpoint on again.
    let retry = format!(
        "/v1/webhook_deliveries/{}/retry",
        newest["id"].as_str().expect("id")
    );
    let (status, body) = app.post(&retry, &org, json!({})).await;
    assert_error(status, &body, "Conflict", 409);
    let (status, body) = app
        .patch(
            &format!("/v1/webhooks/{id}"),
            &org,
            json!({"enabled": true}),
        )
        .await;
    assert_eq!(
        (status, &body["enabled"], &body["disabled_reason"]),
        (StatusCode::OK, &json!(true), &Value::Null)
    );
    receiver.otherwise(200);
    let (status, body) = app.post(&retry, &org, json!({})).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::ACCEPTED, Some("pending_retry"))
    );
    assert_eq!(deliver(&app).await.delivered, 1);
    // The older failure comes back through recover.
    let since = oldest["created_at"].as_str().expect("created");
    let (status, body) = app
        .post(
            &format!("/v1/webhooks/{id}/recover"),
            &org,
            json!({"since": since}),
        )
        .await;
    assert_eq!(
        (status, &body["requeued"]),
        (StatusCode::ACCEPTED, &json!(1)),
        "{body}"
    );
    assert_eq!(deliver(&app).await.delivered, 1);
    let (_, log) = app
        .get(&format!("/v1/webhooks/{id}/deliveries"), &org)
        .await;
    assert!(
        log["data"]
            .as_array()
            .expect("list")
            .iter()
            .all(|d| d["status"] == "delivered")
    );
    let (status, body) = app
        .post(
            &format!("/v1/webhooks/{id}/recover"),
            &org,
            json!({"since": "yesterday"}),
        )
        .await;
    assert_error(status, &body, "UnprocessableEntity", 422);
    assert_eq!(body["param"], "since");
}

async fn access_setup(app: &TestApp, org: &Org, body: Value) -> String {
    let (status, created) = app.post("/v1/webhook_access_setups", org, body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created["id"].as_str().expect("id").to_owned()
}

#[tokio::test]
async fn receivers_get_the_credentials_their_access_setup_names() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let receiver = Receiver::start().await;
    let basic = access_setup(
        &app,
        &org,
        json!({"type": "basic", "authentication_key_name": "Ops",
        "api_name": "Ledger API", "client_id": "quittance", "client_secret": "s3cret-basic"}),
    )
    .await;
    let header_key = access_setup(
        &app,
        &org,
        json!({"type": "api_key", "authentication_key_name": "X-Api-Key",
        "api_name": "Ledger API", "api_key": "k3y-in-header"}),
    )
    .await;
    let body_key = access_setup(
        &app,
        &org,
        json!({"type": "api_key", "authentication_key_name": "apiKey",
        "api_name": "Ledger API", "api_key": "k3y-in-body", "transfer": "body"}),
    )
    .await;
    let oauth = access_setup(&app, &org, json!({"type": "oauth2_client_credentials",
        "authentication_key_name": "Ops", "api_name": "Ledger API", "client_id": "cid",
        "client_secret": "s3cret-oauth", "token_url": format!("{}/token", receiver.url), "scope": "webhooks"})).await;
    for (path, setup, format) in [
        ("basic", &basic, "json"),
        ("header", &header_key, "json"),
        ("body", &body_key, "nvp"),
        ("oauth", &oauth, "json"),
    ] {
        create_webhook(
            &app,
            &org,
            json!({"url": format!("{}/{path}", receiver.url),
            "event_types": ["payment.refunded"], "access_setup_id": setup, "format": format}),
        )
        .await;
    }
    // Secrets are never shown after creation.
    let (_, listed) = app.get("/v1/webhook_access_setups", &org).await;
    let text = listed.to_string();
    assert_eq!(listed["total"], 4);
    for secret in [
        "s3cret-basic",
        "k3y-in-header",
        "k3y-in-body",
        "s3cret-oauth",
    ] {
        assert!(!text.contains(secret), "{secret} shown: {text}");
    }

    trigger(&app, &org, EventType::PaymentRefunded).await;
    trigger(&app, &org, EventType::PaymentRefunded).await;
    assert_eq!(deliver(&app).await.delivered, 8);
    let got = receiver.received();
    let to = |path: &str| -> Vec<Received> {
        got.iter()
            .filter(|r| r.uri.starts_with(&format!("/{path}")))
            .cloned()
            .collect()
    };
    use base64::Engine as _;
    let basic_auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("quittance:s3cret-basic")
    );
    assert!(
        to("basic")
            .iter()
            .all(|r| r.header("authorization") == basic_auth)
    );
    assert!(
        to("header")
            .iter()
            .all(|r| r.header("x-api-key") == "k3y-in-header")
    );
    for r in to("body") {
        assert_eq!(
            r.header("content-type"),
            "application/x-www-form-urlencoded"
        );
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&r.body).expect("nvp");
        assert!(
            pairs.contains(&("apiKey".to_owned(), "k3y-in-body".to_owned())),
            "{pairs:?}"
        );
        assert!(pairs.contains(&("type".to_owned(), "payment.refunded".to_owned())));
    }
    // One token, fetched with the client's credentials, serves both deliveries.
    assert!(
        to("oauth")
            .iter()
            .all(|r| r.header("authorization") == "Bearer tok-1")
    );
    let issued = receiver.tokens_issued();
    assert_eq!(issued.len(), 1, "{issued:?}");
    let oauth_basic = base64::engine::general_purpose::STANDARD.encode("cid:s3cret-oauth");
    assert_eq!(
        issued[0],
        format!("Basic {oauth_basic} grant_type=client_credentials&scope=webhooks")
    );
    // The log masks credentials.
    let (_, webhooks) = app.get("/v1/webhooks", &org).await;
    for webhook in webhooks["data"].as_array().expect("list") {
        let (_, log) = app
            .get(
                &format!(
                    "/v1/webhooks/{}/deliveries",
                    webhook["id"].as_str().expect("id")
                ),
                &org,
            )
            .await;
        let text = log.to_string();
        assert!(
            !text.contains("s3cret") && !text.contains("k3y-in"),
            "{text}"
        );
    }
}

#[tokio::test]
async fn a_revoked_oauth_token_is_fetched_again_once() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let receiver = Receiver::start().await;
    let oauth = access_setup(
        &app,
        &org,
        json!({"type": "oauth2_client_credentials",
        "authentication_key_name": "Ops", "api_name": "Ledger API", "client_id": "cid",
        "client_secret": "s3cret-oauth", "token_url": format!("{}/token", receiver.url)}),
    )
    .await;
    create_webhook(
        &app,
        &org,
        json!({"url": format!("{}/hook", receiver.url),
        "event_types": ["payment.refunded"], "access_setup_id": oauth}),
    )
    .await;
    trigger(&app, &org, EventType::PaymentRefunded).await;
    assert_eq!(deliver(&app).await.delivered, 1);
    // The receiver revokes tok-1: the cached token gets a 401, a fresh one is fetched and
    // the same attempt goes through with it.
    receiver.revoke_tokens();
    trigger(&app, &org, EventType::PaymentRefunded).await;
    assert_eq!(deliver(&app).await.delivered, 1);
    assert_eq!(receiver.tokens_issued().len(), 2);
    let bearers: Vec<String> = receiver
        .received()
        .iter()
        .map(|r| r.header("authorization").to_owned())
        .collect();
    assert_eq!(bearers, ["Bearer tok-1", "Bearer tok-2"]);
    // A receiver that refuses even a fresh token fails the attempt (no loop of fetches).
    receiver.revoke_tokens();
    *receiver.state.bearer_from.lock().expect("lock") = Some(usize::MAX);
    trigger(&app, &org, EventType::PaymentRefunded).await;
    let round = deliver(&app).await;
    assert_eq!((round.delivered, round.retrying), (0, 1));
    assert_eq!(receiver.tokens_issued().len(), 3);
}

#[tokio::test]
async fn a_vault_key_rotation_reseals_webhook_secrets() {
    use quittance_services::vault::{count_by_key, reseal_all};
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let receiver = Receiver::start().await;
    let basic = access_setup(
        &app,
        &org,
        json!({"type": "basic", "authentication_key_name": "Ops",
        "api_name": "Ledger API", "client_id": "quittance", "client_secret": "s3cret-basic"}),
    )
    .await;
    let webhook = create_webhook(
        &app,
        &org,
        json!({"url": receiver.url, "event_types": ["payment.approved"], "access_setup_id": basic}),
    )
    .await;
    let id = webhook["id"].as_str().expect("id");
    let old = webhook["secret"].as_str().expect("secret").to_owned();
    let (status, rotated) = app
        .post(&format!("/v1/webhooks/{id}/rotate_secret"), &org, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    let new = rotated["secret"].as_str().expect("new secret").to_owned();

    let vault = app.state.vault.clone();
    assert_eq!(vault.add_key().expect("new key"), "k2");
    let before = count_by_key(&app.state.db).await.expect("counts");
    assert_eq!(before, vec![("k1".to_owned(), 3)]);
    // The access setup's client secret, the signing secret and the previous one.
    assert_eq!(
        reseal_all(&vault, &app.state.db, 1)
            .await
            .expect("reseal")
            .records,
        3
    );
    let after = count_by_key(&app.state.db).await.expect("counts");
    assert_eq!(after, vec![("k2".to_owned(), 3)]);

    let event = trigger(&app, &org, EventType::PaymentApproved).await;
    assert_eq!(deliver(&app).await.delivered, 1);
    let got = &receiver.received()[0];
    let timestamp: i64 = got.header("webhook-timestamp").parse().expect("timestamp");
    assert_eq!(
        got.header("webhook-signature"),
        format!(
            "{} {}",
            signing::standard_signature(&new, &event, timestamp, &got.body),
            signing::standard_signature(&old, &event, timestamp, &got.body)
        )
    );
    use base64::Engine as _;
    assert_eq!(
        got.header("authorization"),
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("quittance:s3cret-basic")
        )
    );
}

#[tokio::test]
async fn access_setups_are_checked_field_by_field() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let long = "x".repeat(301);
    for (body, param) in [
        (
            json!({"type": "basic", "authentication_key_name": "a", "api_name": "b", "client_id": "c"}),
            "client_secret",
        ),
        (
            json!({"type": "carrier pigeon", "authentication_key_name": "a", "api_name": "b"}),
            "type",
        ),
        (
            json!({"type": "api_key", "authentication_key_name": long, "api_name": "b", "api_key": "k"}),
            "authentication_key_name",
        ),
        (
            json!({"type": "api_key", "authentication_key_name": "Bad Header", "api_name": "b", "api_key": "k"}),
            "authentication_key_name",
        ),
        (
            json!({"type": "api_key", "authentication_key_name": "a", "api_name": "b", "api_key": "k", "client_id": "c"}),
            "client_id",
        ),
        (
            json!({"type": "oauth2_client_credentials", "authentication_key_name": "a", "api_name": "b",
            "client_id": "c", "client_secret": "s", "token_url": "http://169.254.169.254/token"}),
            "token_url",
        ),
        (
            json!({"type": "mutual_tls", "authentication_key_name": "a", "api_name": "b"}),
            "client_certificate",
        ),
        (
            json!({"type": "mutual_tls", "authentication_key_name": "a", "api_name": "b",
            "client_certificate": {"certificate_pem": "nope", "private_key_pem": "nope"}}),
            "client_certificate.certificate_pem",
        ),
    ] {
        let (status, error) = app.post("/v1/webhook_access_setups", &org, body).await;
        assert_error(status, &error, "UnprocessableEntity", 422);
        assert_eq!(error["param"], param, "{error}");
    }
    // In use by a webhook: not deletable.
    let setup = access_setup(
        &app,
        &org,
        json!({"type": "api_key", "authentication_key_name": "X-Key",
        "api_name": "b", "api_key": "k"}),
    )
    .await;
    let receiver = Receiver::start().await;
    let webhook = create_webhook(
        &app,
        &org,
        json!({"url": receiver.url,
        "event_types": ["payment.voided"], "access_setup_id": setup}),
    )
    .await;
    let (status, error) = app
        .call(
            Method::DELETE,
            &format!("/v1/webhook_access_setups/{setup}"),
            &org,
            None,
        )
        .await;
    assert_error(status, &error, "Conflict", 409);
    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/v1/webhooks/{}", webhook["id"].as_str().expect("id")),
            &org,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/v1/webhook_access_setups/{setup}"),
            &org,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn bodies_come_as_xml_or_nvp_and_get_and_delete_carry_the_query() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let receiver = Receiver::start().await;
    let mut secrets = std::collections::HashMap::new();
    for (path, method, format) in [
        ("xml", "POST", "xml"),
        ("nvp", "PUT", "nvp"),
        ("get", "GET", "json"),
        ("delete", "DELETE", "json"),
    ] {
        let created = create_webhook(
            &app,
            &org,
            json!({"url": format!("{}/{path}?source=quittance", receiver.url),
            "event_types": ["payment.voided"], "method": method, "format": format}),
        )
        .await;
        secrets.insert(path, created["secret"].as_str().expect("secret").to_owned());
    }
    let event = trigger(&app, &org, EventType::PaymentVoided).await;
    assert_eq!(deliver(&app).await.delivered, 4);
    let got = receiver.received();
    let by = |path: &str| {
        got.iter()
            .find(|r| r.uri.starts_with(&format!("/{path}")))
            .expect(path)
            .clone()
    };

    let xml = by("xml");
    assert_eq!(xml.method, "POST");
    assert_eq!(xml.header("content-type"), "application/xml; charset=utf-8");
    let text = xml.text();
    assert!(
        text.starts_with(r#"<?xml version="1.0" encoding="UTF-8"?><event>"#),
        "{text}"
    );
    assert!(
        text.contains("<type>payment.voided</type>") && text.contains(&format!("<id>{event}</id>")),
        "{text}"
    );

    let nvp = by("nvp");
    assert_eq!(nvp.method, "PUT");
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&nvp.body).expect("nvp");
    assert!(
        pairs.contains(&("id".to_owned(), event.clone())),
        "{pairs:?}"
    );
    assert!(
        pairs.contains(&("data.sample".to_owned(), "true".to_owned())),
        "{pairs:?}"
    );

    for (path, method) in [("get", "GET"), ("delete", "DELETE")] {
        let request = by(path);
        assert_eq!(request.method, method);
        assert!(request.body.is_empty());
        let (_, query) = request.uri.split_once('?').expect("query");
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).expect("query");
        assert_eq!(pairs[0], ("source".to_owned(), "quittance".to_owned()));
        assert!(
            pairs.contains(&("type".to_owned(), "payment.voided".to_owned())),
            "{pairs:?}"
        );
        // The signature covers the query the event added.
        let added = query
            .strip_prefix("source=quittance&")
            .expect("event after the URL's own query");
        let timestamp: i64 = request
            .header("webhook-timestamp")
            .parse()
            .expect("timestamp");
        assert_eq!(request.header("webhook-id"), event);
        assert_eq!(
            request.header("webhook-signature"),
            signing::standard_signature(&secrets[path], &event, timestamp, added.as_bytes())
        );
    }
}

#[tokio::test]
async fn rotated_secrets_overlap_and_then_retire() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let receiver = Receiver::start().await;
    let webhook = create_webhook(
        &app,
        &org,
        json!({"url": receiver.url, "event_types": ["payment.approved"]}),
    )
    .await;
    let id = webhook["id"].as_str().expect("id");
    let old = webhook["secret"].as_str().expect("secret").to_owned();
    let (status, rotated) = app
        .post(&format!("/v1/webhooks/{id}/rotate_secret"), &org, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    let new = rotated["secret"].as_str().expect("new secret").to_owned();
    assert_ne!(new, old);
    assert!(rotated["previous_secret_expires_at"].is_string());
    let event = trigger(&app, &org, EventType::PaymentApproved).await;
    deliver(&app).await;
    let got = receiver.received();
    let timestamp: i64 = got[0]
        .header("webhook-timestamp")
        .parse()
        .expect("timestamp");
    assert_eq!(
        got[0].header("webhook-signature"),
        format!(
            "{} {}",
            signing::standard_signature(&new, &event, timestamp, &got[0].body),
            signing::standard_signature(&old, &event, timestamp, &got[0].body)
        )
    );
    let (status, rotated) = app
        .post(
            &format!("/v1/webhooks/{id}/rotate_secret"),
            &org,
            json!({"overlap_seconds": 0}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let newest = rotated["secret"].as_str().expect("secret").to_owned();
    let event = trigger(&app, &org, EventType::PaymentApproved).await;
    deliver(&app).await;
    let got = receiver.received();
    let timestamp: i64 = got[1]
        .header("webhook-timestamp")
        .parse()
        .expect("timestamp");
    assert_eq!(
        got[1].header("webhook-signature"),
        signing::standard_signature(&newest, &event, timestamp, &got[1].body)
    );
}

#[tokio::test]
async fn targets_on_refused_addresses_are_refused_when_saved() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    for url in [
        "http://169.254.169.254/latest/meta-data",
        "http://10.0.0.1/hook",
        "http://0x7f000002/hook",
        "http://[::1]/hook",
        "http://[::ffff:192.168.0.1]/hook",
        "ftp://example.com/hook",
        "http://user:pw@example.com/hook",
    ] {
        let (status, error) = app
            .post(
                "/v1/webhooks",
                &org,
                json!({"url": url, "event_types": ["payment.approved"]}),
            )
            .await;
        assert_error(status, &error, "UnprocessableEntity", 422);
        assert_eq!(error["param"], "url", "{url}: {error}");
    }
    let (status, error) = app
        .post(
            "/v1/webhooks",
            &org,
            json!({"url": "http://127.0.0.1:9/hook", "event_types": []}),
        )
        .await;
    assert_error(status, &error, "UnprocessableEntity", 422);
    assert_eq!(error["param"], "event_types");
}

#[tokio::test]
async fn a_worker_that_stops_mid_delivery_loses_nothing() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let receiver = Receiver::start().await;
    create_webhook(
        &app,
        &org,
        json!({"url": receiver.url, "event_types": ["payment.error"]}),
    )
    .await;
    trigger(&app, &org, EventType::PaymentError).await;
    // A worker claims the delivery and stops before recording anything.
    let now = quittance_domain::Clock::now(&app.clock);
    let claimed = app
        .state
        .db
        .write(move |tx| {
            Box::pin(async move {
                quittance_store::repo::webhooks::claim_due(
                    tx,
                    "",
                    now,
                    now + chrono::Duration::seconds(60),
                    "stopped-worker",
                    10,
                )
                .await
            })
        })
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 1);
    // Its lease holds the delivery ...
    assert_eq!(deliver(&app).await, delivery::Round::default());
    // ... until it runs out; then another worker sends it.
    app.clock.advance(chrono::Duration::seconds(61));
    assert_eq!(deliver(&app).await.delivered, 1);
    assert_eq!(receiver.received().len(), 1);
}

#[tokio::test]
async fn a_claim_starts_only_the_sends_that_can_finish_inside_its_lease() {
    // A lease of two timeouts leaves no time past the first wave: one send per claim.
    let app = crate::helpers::spawn_app_with(quittance_services::config::Config {
        webhook_concurrency: 1,
        webhook_timeout_seconds: 1,
        webhook_lease_seconds: 2,
        ..crate::helpers::test_config()
    })
    .await;
    let org = app.org("acme").await;
    let receiver = Receiver::start().await;
    create_webhook(
        &app,
        &org,
        json!({"url": receiver.url, "event_types": ["payment.approved"]}),
    )
    .await;
    for _ in 0..3 {
        trigger(&app, &org, EventType::PaymentApproved).await;
    }
    // The rest of the claim waits, unsent, for its lease.
    assert_eq!(deliver(&app).await.delivered, 1);
    assert_eq!(deliver(&app).await.delivered, 0);
    assert_eq!(receiver.received().len(), 1);
    app.clock.advance(chrono::Duration::seconds(3));
    assert_eq!(deliver(&app).await.delivered, 1);
    app.clock.advance(chrono::Duration::seconds(3));
    assert_eq!(deliver(&app).await.delivered, 1);
    assert_eq!(receiver.received().len(), 3);
}

#[tokio::test]
async fn two_workers_deliver_each_event_once() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let receiver = Receiver::start().await;
    create_webhook(
        &app,
        &org,
        json!({"url": receiver.url, "event_types": ["payment.initiated"]}),
    )
    .await;
    for _ in 0..300 {
        trigger(&app, &org, EventType::PaymentInitiated).await;
    }
    let (mut watch_a, mut watch_b) = (|_: &delivery::Sent| {}, |_: &delivery::Sent| {});
    let (a, b) = tokio::join!(
        delivery::deliver_due(&app.state, "", &mut watch_a),
        delivery::deliver_due(&app.state, "", &mut watch_b)
    );
    let (a, b) = (a.expect("worker a"), b.expect("worker b"));
    assert_eq!(a.delivered + b.delivered, 300);
    let ids: HashSet<String> = receiver
        .received()
        .iter()
        .map(|r| r.header("webhook-id").to_owned())
        .collect();
    assert_eq!((receiver.received().len(), ids.len()), (300, 300));
}

#[tokio::test]
async fn webhooks_are_validated_and_listed_with_their_face() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let receiver = Receiver::start().await;
    for (body, param) in [
        (
            json!({"url": receiver.url, "event_types": ["payment.approved"], "method": "PATCH"}),
            "method",
        ),
        (
            json!({"url": receiver.url, "event_types": ["payment.approved"], "format": "yaml"}),
            "format",
        ),
        (
            json!({"url": receiver.url, "event_types": ["payment.approve"]}),
            "event_types[0]",
        ),
        (
            json!({"url": receiver.url, "event_types": ["payment.approved"], "retry_policy": {"max_attempts": 0}}),
            "retry_policy.max_attempts",
        ),
        (
            json!({"url": receiver.url, "event_types": ["payment.approved"], "retry_policy": {"schedule": "sometimes"}}),
            "retry_policy.schedule",
        ),
    ] {
        let (status, error) = app.post("/v1/webhooks", &org, body).await;
        assert_error(status, &error, "UnprocessableEntity", 422);
        assert_eq!(error["param"], param, "{error}");
    }
    let (status, error) = app
        .post(
            "/v1/webhooks",
            &org,
            json!({"url": receiver.url, "event_types": ["payment.approved"],
            "access_setup_id": format!("was_{}", "0".repeat(32))}),
        )
        .await;
    assert_error(status, &error, "NotFound", 404);
    let body = json!({"url": receiver.url, "eventTypes": ["statement_analysis.requested"]});
    let (status, _) = iso(
        &app,
        &org,
        Method::POST,
        "/api/webhooks",
        Some(&body.to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let created = create_webhook(
        &app,
        &org,
        json!({"url": receiver.url, "event_types": ["payment.approved"],
        "retry_policy": {"schedule": "exponential", "interval_seconds": 60, "max_attempts": 8}}),
    )
    .await;
    let (_, listed) = app.get("/v1/webhooks", &org).await;
    assert_eq!(listed["total"], 2);
    let faces: Vec<&str> = listed["data"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|w| w["api"].as_str())
        .collect();
    assert_eq!(faces, ["iso_amp", "v1"]);
    assert!(listed["data"][0]["iso_amp_id"].is_i64());
    assert_eq!(created["retry_policy"]["schedule"], "exponential");
    let id = created["id"].as_str().expect("id");
    let (status, changed) = app
        .patch(
            &format!("/v1/webhooks/{id}"),
            &org,
            json!({"enabled": false, "method": "PUT"}),
        )
        .await;
    assert_eq!(
        (status, &changed["enabled"], &changed["method"]),
        (StatusCode::OK, &json!(false), &json!("PUT"))
    );
    // Another organization sees none of it.
    let other = app.org("other").await;
    let (status, _) = app.get(&format!("/v1/webhooks/{id}"), &other).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = send(app.request(Method::GET, "/v1/webhooks", &other)).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn renewing_a_listener_moves_only_its_expiry() {
    use quittance_store::repo::webhooks as store;
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let mut record = quittance_services::webhooks::endpoints::new_record(
        &app.state,
        &org.creds.organization_id,
        quittance_domain::webhooks::WebhookApi::Listener,
        "http://127.0.0.1:9/hook".to_owned(),
        vec!["payment.approved".to_owned()],
        &signing::new_endpoint_secret(),
    );
    // Stored times keep microseconds.
    let now = quittance_domain::clock::from_micros(quittance_domain::clock::to_micros(
        quittance_domain::Clock::now(&app.clock),
    ))
    .expect("now");
    record.expires_at = Some(now);
    let record = quittance_services::webhooks::endpoints::insert(
        &app.state,
        record,
        vec![EventType::PaymentApproved],
    )
    .await
    .expect("listener");
    let (id, org_id, later) = (
        record.id.clone(),
        record.organization_id.clone(),
        now + chrono::Duration::minutes(10),
    );
    let after = app
        .state
        .db
        .write(move |tx| {
            Box::pin(async move {
                store::disable_webhook(tx, &id, "the receiver answered 410 Gone", now).await?;
                store::renew_listener(tx, &id, later).await?;
                store::get_webhook(tx, &org_id, &id).await
            })
        })
        .await
        .expect("renewed");
    assert_eq!(after.expires_at, Some(later));
    assert!(
        !after.enabled,
        "renewal must not turn a disabled listener back on"
    );
}

#[tokio::test]
async fn every_url_quittance_will_call_is_held_to_the_address_rules_when_it_is_saved() {
    // The production default: no private network allowed, so a name that resolves to the
    // loopback address is refused as a webhook target and as an OAuth token URL alike.
    let app = crate::helpers::spawn_app_with(quittance_services::config::Config {
        webhook_allowed_networks: Vec::new(),
        ..crate::helpers::test_config()
    })
    .await;
    let org = app.org("acme").await;
    let (status, error) = app
        .post(
            "/v1/webhook_access_setups",
            &org,
            json!({"type": "oauth2_client_credentials", "authentication_key_name": "a", "api_name": "b",
            "client_id": "c", "client_secret": "s", "token_url": "http://localhost:9/token"}),
        )
        .await;
    assert_error(status, &error, "UnprocessableEntity", 422);
    assert_eq!(error["param"], "token_url", "{error}");
    assert!(
        error["message"].as_str().unwrap_or("").contains("loopback"),
        "{error}"
    );

    let (status, setup) = app
        .post(
            "/v1/webhook_access_setups",
            &org,
            json!({"type": "oauth2_client_credentials", "authentication_key_name": "a", "api_name": "b",
            "client_id": "c", "client_secret": "s", "token_url": "https://auth.example.invalid/token"}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "a name that does not resolve yet is checked at send: {setup}"
    );
    let path = format!(
        "/v1/webhook_access_setups/{}",
        setup["id"].as_str().expect("id")
    );
    let (status, error) = app
        .patch(
            &path,
            &org,
            json!({"token_url": "http://localhost:9/token"}),
        )
        .await;
    assert_error(status, &error, "UnprocessableEntity", 422);
    assert_eq!(error["param"], "token_url", "{error}");

    let (status, error) = app
        .post(
            "/v1/webhooks",
            &org,
            json!({"url": "http://localhost:9/hook", "event_types": ["payment.approved"]}),
        )
        .await;
    assert_error(status, &error, "UnprocessableEntity", 422);
    assert_eq!(error["param"], "url", "{error}");
}

#[tokio::test]
async fn iso_amp_webhook_ids_are_numbered_per_organization() {
    let app = spawn_app().await;
    let (acme, globex) = (app.org("acme").await, app.org("globex").await);
    async fn create(app: &TestApp, org: &Org, url: &str) -> i64 {
        let body = format!(r#"{{"url": "{url}", "eventTypes": ["statement_analysis.completed"]}}"#);
        let (status, text) = iso(app, org, Method::POST, "/api/webhooks", Some(&body)).await;
        assert_eq!(status, StatusCode::OK, "{text}");
        serde_json::from_str::<Value>(&text).expect("json")["id"]
            .as_i64()
            .expect("an integer id")
    }
    let acme_ids = [
        create(&app, &acme, "https://acme.example.com/1").await,
        create(&app, &acme, "https://acme.example.com/2").await,
        create(&app, &acme, "https://acme.example.com/3").await,
    ];
    // Another organization's webhooks say nothing of how many acme has.
    let globex_first = create(&app, &globex, "https://globex.example.com/1").await;
    assert_eq!(acme_ids, [1001, 1002, 1003]);
    assert_eq!(globex_first, 1001);
    // The same number names each organization's own webhook.
    for (org, url) in [
        (&acme, "https://acme.example.com/1"),
        (&globex, "https://globex.example.com/1"),
    ] {
        let (status, text) = iso(&app, org, Method::GET, "/api/webhooks/1001", None).await;
        assert_eq!(status, StatusCode::OK, "{text}");
        assert_eq!(
            serde_json::from_str::<Value>(&text).expect("json")["url"],
            url
        );
    }
    let (status, _) = iso(&app, &globex, Method::GET, "/api/webhooks/1002", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = iso(&app, &globex, Method::DELETE, "/api/webhooks/1001", None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = iso(&app, &acme, Method::GET, "/api/webhooks/1001", None).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "deleting globex's 1001 leaves acme's"
    );
}
