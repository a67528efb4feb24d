//! Seed 003's session API: its examples as printed, validation, idempotency and signatures.

use crate::helpers::{TestApp, spawn_app};
use chrono::{DateTime, Utc};
use quittance_services::ingo::participants::{self, IssuedParticipant, ParticipantChanges};
use quittance_services::ingo::signing::client_headers;
use reqwest::StatusCode;
use serde_json::{Value, json};

pub const PATH: &str = "/api/v1/sessions/point-in-time/plugin";

/// A participant of a new organization, allowed the seed's host and a loopback one.
pub struct Participant {
    pub issued: IssuedParticipant,
}

pub async fn participant(app: &TestApp, name: &str, paypal: bool) -> Participant {
    let org = app.org(name).await;
    let issued = participants::create(
        &app.state,
        &org.creds.organization_id,
        &ParticipantChanges {
            host_uris: Some(vec![
                "https://digitalpay.ingo.money".to_owned(),
                "http://127.0.0.1:9".to_owned(),
            ]),
            paypal_enabled: Some(paypal),
            recipient_attempts: Some(2),
            account_attempts: Some(2),
            session_attempts: Some(3),
        },
    )
    .await
    .expect("participant");
    Participant { issued }
}

/// Seed 003's request example, exactly as printed.
pub fn seed_request() -> Value {
    json!({
        "participant_unique_id1": "ABC-1234-123545663",
        "participant_unique_id2": "DEF-5678",
        "host_uri": "https://digitalpay.ingo.money",
        "recipient_information": {
            "first_name": "Jack",
            "last_name": "Frost",
            "address_line1": "123 Main St",
            "address_line2": "",
            "city": "Atlanta",
            "state": "GA",
            "zip_code": "30313",
            "email_address": "[email protected]",
            "phone_number": "1231231234",
            "mobile_number": "1231231234"
        }
    })
}

impl Participant {
    pub fn username(&self) -> &str {
        &self.issued.participant.username
    }

    /// A request signed as the docs show, at `date`, with `secret`.
    pub fn signed_with(
        &self,
        app: &TestApp,
        method: reqwest::Method,
        path: &str,
        body: &[u8],
        date: DateTime<Utc>,
        secret: &str,
    ) -> reqwest::RequestBuilder {
        let line = format!("{method} {path} HTTP/1.1");
        let mut request = app
            .http
            .request(method, format!("{}{path}", app.base))
            .body(body.to_vec());
        for (name, value) in client_headers(self.username(), secret, &line, date, body) {
            request = request.header(name, value);
        }
        request
    }

    pub fn signed(&self, app: &TestApp, body: &[u8]) -> reqwest::RequestBuilder {
        self.signed_with(
            app,
            reqwest::Method::POST,
            PATH,
            body,
            app.clock_now(),
            self.issued.secret.expose(),
        )
    }

    /// Signs and sends a session request; answers the HTTP status and the envelope. The test
    /// clock moves a second first: a request signed again in the same second with the same
    /// body would carry the same signature, which is refused as a replay.
    pub async fn create(
        &self,
        app: &TestApp,
        body: &Value,
        key: Option<&str>,
    ) -> (StatusCode, Value) {
        self.call(app, reqwest::Method::POST, PATH, Some(body), key)
            .await
    }

    /// Signs and sends a request to `path` (a GET without a body), as [`Self::create`] does.
    pub async fn call(
        &self,
        app: &TestApp,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        key: Option<&str>,
    ) -> (StatusCode, Value) {
        app.clock.advance(chrono::Duration::seconds(1));
        let bytes = body.map_or_else(Vec::new, |b| serde_json::to_vec(b).expect("json"));
        let mut request = self.signed_with(
            app,
            method,
            path,
            &bytes,
            app.clock_now(),
            self.issued.secret.expose(),
        );
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        envelope(request).await
    }
}

pub async fn envelope(request: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let response = request.send().await.expect("send");
    let status = response.status();
    let body: Value = response.json().await.expect("an envelope");
    assert!(body["time"].is_number(), "time is a number: {body}");
    (status, body)
}

fn assert_refused(status: StatusCode, body: &Value, reason: &str) {
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["status"], 13401, "{body}");
    assert_eq!(body["client_message"], "Unauthorized");
    assert_eq!(body["developer_message"], reason);
}

#[tokio::test]
async fn the_seed_request_example_answers_the_seed_success_shape() {
    let app = spawn_app().await;
    let p = participant(&app, "ingo-seed", true).await;
    let (status, body) = p.create(&app, &seed_request(), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], 100);
    assert_eq!(body["client_message"], "Success");
    assert!(body.get("developer_message").is_none(), "{body}");
    let keys: Vec<&str> = body
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys.len(),
        4,
        "status, client_message, data, time: {keys:?}"
    );
    let data = &body["data"];
    let id = data["session_identifier"].as_str().expect("id");
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    assert_eq!(data["participant_unique_id1"], "ABC-1234-123545663");
    assert_eq!(data["participant_unique_id2"], "DEF-5678");
    let url = data["authorized_url"].as_str().expect("url");
    let prefix = format!("http://127.0.0.1:8080/session/{id}?t=");
    assert!(url.starts_with(&prefix), "{url}");
    let (t, h) = url[prefix.len()..].split_once("&h=").expect("t and h");
    assert!(
        t.len() == 18 && t.bytes().all(|b| b.is_ascii_digit()),
        "{t}"
    );
    assert!(
        h.ends_with("%3d") && !h.contains('/'),
        "url-encoded base64: {h}"
    );
    let expiry = data["authorized_url_expiration_utc"]
        .as_str()
        .expect("expiry");
    let (seconds, fraction) = expiry.split_once('.').expect("fraction");
    assert_eq!(fraction.len(), 8, "seven digits and Z: {expiry}");
    assert!(fraction.ends_with('Z'));
    let expires = DateTime::parse_from_rfc3339(expiry).expect("ISO 8601");
    let lifetime = expires.with_timezone(&Utc) - app.clock_now();
    assert!(
        lifetime <= chrono::Duration::seconds(30) && lifetime > chrono::Duration::seconds(25),
        "{seconds}"
    );

    // Without participant_unique_id2 it is "", and without host_uri the first host is used.
    let mut body2 = seed_request();
    body2
        .as_object_mut()
        .expect("object")
        .remove("participant_unique_id2");
    body2.as_object_mut().expect("object").remove("host_uri");
    let (status, answer) = p.create(&app, &body2, None).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["data"]["participant_unique_id2"], "");
}

#[tokio::test]
async fn the_seed_error_example_answers_as_printed() {
    let app = spawn_app().await;
    let p = participant(&app, "ingo-errors", false).await;
    let mut body = seed_request();
    body.as_object_mut()
        .expect("object")
        .remove("participant_unique_id1");
    let (status, answer) = p.create(&app, &body, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(answer["status"], 13400);
    assert_eq!(
        answer["client_message"],
        "Field validation error - See data element for validation error details"
    );
    assert_eq!(answer["developer_message"], "invalid_request_fields");
    assert_eq!(
        answer["data"],
        json!({"participant_unique_id1": ["The ParticipantUniqueId1 field is required."]})
    );

    // Every failing field at once.
    let mut body = seed_request();
    body["recipient_information"]["state"] = json!("ZZ");
    body["recipient_information"]["zip_code"] = json!("303");
    body["recipient_information"]["first_name"] = json!("J".repeat(151));
    body["participant_unique_id2"] = json!("x".repeat(101));
    let (status, answer) = p.create(&app, &body, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let data = answer["data"].as_object().expect("data");
    assert_eq!(data.len(), 4, "{answer}");
    assert_eq!(
        data["recipient_information.first_name"],
        json!(["The field FirstName must be a string with a maximum length of 150."])
    );

    // A body that is not JSON is a validation error in the same envelope.
    let (status, answer) = envelope(p.signed(&app, b"{not json")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(answer["status"], 13400);

    // A host not on the allow-list is Unauthorized, as the seed says.
    let mut body = seed_request();
    body["host_uri"] = json!("https://elsewhere.example");
    let (status, answer) = p.create(&app, &body, None).await;
    assert_refused(status, &answer, "host_uri_not_allowed");
}

#[tokio::test]
async fn idempotency_follows_the_seed() {
    let app = spawn_app().await;
    let p = participant(&app, "ingo-idem", false).await;
    let (_, first) = p.create(&app, &seed_request(), Some("key-1")).await;
    assert_eq!(first["status"], 100, "{first}");
    let (status, again) = p.create(&app, &seed_request(), Some("key-1")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["status"], 101);
    assert_eq!(again["client_message"], "Success - Idempotent");
    assert_eq!(
        again["data"]["session_identifier"],
        first["data"]["session_identifier"]
    );
    assert_ne!(
        again["data"]["authorized_url"], first["data"]["authorized_url"],
        "a new URL"
    );

    // Other parameters under the same key.
    let mut other = seed_request();
    other["participant_unique_id2"] = json!("OTHER");
    let (status, mismatch) = p.create(&app, &other, Some("key-1")).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(mismatch["status"], 13723);
    let number = p.issued.participant.participant_id;
    assert_eq!(
        mismatch["client_message"],
        format!(
            "Idempotency Key key-1 for ParticipantId {number} does not match the original request"
        )
    );
    assert_eq!(mismatch["developer_message"], "invalid_idempotent_request");
    assert_eq!(mismatch["data"], Value::Null);

    // A failed request stores nothing: its key then makes a new session.
    let mut invalid = seed_request();
    invalid["recipient_information"]["state"] = json!("XX");
    let (_, failed) = p.create(&app, &invalid, Some("key-2")).await;
    assert_eq!(failed["status"], 13400);
    let (_, fresh) = p.create(&app, &other, Some("key-2")).await;
    assert_eq!(fresh["status"], 100, "{fresh}");

    // Keys are scoped to the participant.
    let q = participant(&app, "ingo-idem-2", false).await;
    let (_, theirs) = q.create(&app, &seed_request(), Some("key-1")).await;
    assert_eq!(theirs["status"], 100);

    // Too long a key is a validation error.
    let (_, long) = p
        .create(&app, &seed_request(), Some(&"k".repeat(251)))
        .await;
    assert_eq!(long["status"], 13400);
    assert!(long["data"]["Idempotency-Key"].is_array(), "{long}");

    // Two hours on, the key is pruned and makes a new session.
    app.clock
        .advance(chrono::Duration::hours(2) + chrono::Duration::seconds(1));
    let (_, later) = p.create(&app, &seed_request(), Some("key-1")).await;
    assert_eq!(later["status"], 100, "{later}");
    assert_ne!(
        later["data"]["session_identifier"],
        first["data"]["session_identifier"]
    );
}

#[tokio::test]
async fn fifty_concurrent_requests_with_one_key_make_one_session() {
    let app = spawn_app().await;
    let p = participant(&app, "ingo-race", false).await;
    let bytes = serde_json::to_vec(&seed_request()).expect("json");
    let now = app.clock_now();
    let mut requests = Vec::new();
    for i in 0..50 {
        // Each signed a second apart, so no two are the same request (a replay).
        let request = p
            .signed_with(
                &app,
                reqwest::Method::POST,
                PATH,
                &bytes,
                now - chrono::Duration::seconds(i),
                p.issued.secret.expose(),
            )
            .header("Idempotency-Key", "race");
        requests.push(tokio::spawn(envelope(request)));
    }
    let mut sessions = std::collections::BTreeSet::new();
    let mut new = 0;
    for r in requests {
        let (status, body) = r.await.expect("joined");
        assert_eq!(status, StatusCode::OK, "{body}");
        if body["status"] == 100 {
            new += 1;
        }
        sessions.insert(
            body["data"]["session_identifier"]
                .as_str()
                .expect("id")
                .to_owned(),
        );
    }
    assert_eq!((new, sessions.len()), (1, 1));
}

#[tokio::test]
async fn signatures_are_checked_and_never_replayed() {
    let app = spawn_app().await;
    let p = participant(&app, "ingo-sign", false).await;
    let bytes = serde_json::to_vec(&seed_request()).expect("json");
    let now = app.clock_now();
    let post = reqwest::Method::POST;

    let wrong = p.signed_with(&app, post.clone(), PATH, &bytes, now, "not-the-secret");
    let (status, body) = envelope(wrong).await;
    assert_refused(status, &body, "invalid_signature");

    // The body changed after signing (Content-Length kept): the digest no longer matches.
    let mut altered = bytes.clone();
    let last = altered.len() - 2;
    altered[last] = b' ';
    let headers = client_headers(
        p.username(),
        p.issued.secret.expose(),
        &format!("POST {PATH} HTTP/1.1"),
        now,
        &bytes,
    );
    let mut request = app.http.post(format!("{}{PATH}", app.base)).body(altered);
    for (name, value) in &headers {
        request = request.header(*name, value);
    }
    let (status, body) = envelope(request).await;
    assert_refused(status, &body, "invalid_signature");

    // A Content-sha512 changed to match another body: the signature no longer covers it.
    let other = br#"{"participant_unique_id1":"x"}"#;
    let mut request = app
        .http
        .post(format!("{}{PATH}", app.base))
        .body(other.to_vec());
    for (name, value) in &headers {
        let value = match *name {
            "content-sha512" => quittance_services::ingo::signing::content_sha512(other),
            "content-length" => other.len().to_string(),
            _ => value.clone(),
        };
        request = request.header(*name, value);
    }
    let (status, body) = envelope(request).await;
    assert_refused(status, &body, "invalid_signature");

    let skewed = p.signed_with(
        &app,
        post.clone(),
        PATH,
        &bytes,
        now - chrono::Duration::seconds(301),
        p.issued.secret.expose(),
    );
    let (status, body) = envelope(skewed).await;
    assert_refused(status, &body, "request_date_out_of_range");

    // A missing header the signature must cover.
    let mut request = app
        .http
        .post(format!("{}{PATH}", app.base))
        .body(bytes.clone());
    for (name, value) in client_headers(
        p.username(),
        p.issued.secret.expose(),
        &format!("POST {PATH} HTTP/1.1"),
        now,
        &bytes,
    ) {
        if name != "x-date" {
            request = request.header(name, value);
        }
    }
    let (status, body) = envelope(request).await;
    assert_refused(status, &body, "request_date_out_of_range");

    // The same signed request twice: the second is a replay.
    let once = now - chrono::Duration::seconds(7);
    let first = p.signed_with(
        &app,
        post.clone(),
        PATH,
        &bytes,
        once,
        p.issued.secret.expose(),
    );
    let (_, body) = envelope(first).await;
    assert_eq!(body["status"], 100, "{body}");
    let replay = p.signed_with(
        &app,
        post.clone(),
        PATH,
        &bytes,
        once,
        p.issued.secret.expose(),
    );
    let (status, body) = envelope(replay).await;
    assert_refused(status, &body, "invalid_signature");

    // No Authorization at all.
    let (status, body) = envelope(
        app.http
            .post(format!("{}{PATH}", app.base))
            .json(&seed_request()),
    )
    .await;
    assert_refused(status, &body, "invalid_signature");
}

#[tokio::test]
async fn the_participant_reads_its_session_signed() {
    let app = spawn_app().await;
    let p = participant(&app, "ingo-get", false).await;
    let (_, made) = p.create(&app, &seed_request(), None).await;
    let id = made["data"]["session_identifier"].as_str().expect("id");
    let path = format!("{PATH}/{id}");
    let get = p.signed_with(
        &app,
        reqwest::Method::GET,
        &path,
        b"",
        app.clock_now(),
        p.issued.secret.expose(),
    );
    let (status, body) = envelope(get).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["status"], "open");
    assert_eq!(
        body["data"]["recipient"]["last_name"], "F***",
        "masked: {body}"
    );
    assert!(!body.to_string().contains("Frost"));

    // Another participant's session is not found.
    let q = participant(&app, "ingo-get-2", false).await;
    let theirs = q.signed_with(
        &app,
        reqwest::Method::GET,
        &path,
        b"",
        app.clock_now(),
        q.issued.secret.expose(),
    );
    let (status, body) = envelope(theirs).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["status"], 13404);
}

#[tokio::test]
async fn participants_are_managed_under_v1() {
    let app = spawn_app().await;
    let org = app.org("ingo-admin").await;
    let (status, made) = app
        .post(
            "/v1/ingo/participants",
            &org,
            json!({"host_uris": ["https://pay.example.com/"], "paypal_enabled": true}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(made["host_uris"], json!(["https://pay.example.com"]));
    assert_eq!(made["recipient_verification_attempts"], 3);
    let number = made["participant_id"].as_i64().expect("number");
    assert!(made["secret"].as_str().expect("secret").len() >= 32);
    let (_, listed) = app.get("/v1/ingo/participants", &org).await;
    assert_eq!(listed["data"][0]["participant_id"], number);
    assert!(listed["data"][0].get("secret").is_none(), "{listed}");

    let (status, bad) = app
        .post(
            "/v1/ingo/participants",
            &org,
            json!({"host_uris": ["http://example.com"]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    assert_eq!(bad["param"], "host_uris[0]");

    let (status, changed) = app
        .patch(
            &format!("/v1/ingo/participants/{number}"),
            &org,
            json!({"session_attempts": 7}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["session_attempts"], 7);
    assert_eq!(changed["paypal_enabled"], true);

    // Another organization sees nothing.
    let other = app.org("ingo-admin-2").await;
    let (status, _) = app
        .get(&format!("/v1/ingo/participants/{number}"), &other)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, rotated) = app
        .post(
            &format!("/v1/ingo/participants/{number}/rotate-secret"),
            &org,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(rotated["secret"], made["secret"]);
    let (status, _) = app
        .call(
            reqwest::Method::DELETE,
            &format!("/v1/ingo/participants/{number}"),
            &org,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app
        .get(&format!("/v1/ingo/participants/{number}"), &org)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_rotated_secret_stops_the_old_one() {
    let app = spawn_app().await;
    let p = participant(&app, "ingo-rotate", false).await;
    let org = app.org("ingo-rotate").await;
    let number = p.issued.participant.participant_id;
    let fresh = participants::rotate_secret(&app.state, &org.creds.organization_id, number)
        .await
        .expect("rotated");
    let (status, body) = p.create(&app, &seed_request(), None).await;
    assert_refused(status, &body, "invalid_signature");
    let bytes = serde_json::to_vec(&seed_request()).expect("json");
    let signed = p.signed_with(
        &app,
        reqwest::Method::POST,
        PATH,
        &bytes,
        app.clock_now(),
        fresh.secret.expose(),
    );
    let (_, body) = envelope(signed).await;
    assert_eq!(body["status"], 100);
}
