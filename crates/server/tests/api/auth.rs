use crate::helpers::{assert_error, send, spawn_app, spawn_app_with, test_config};
use base64::Engine as _;
use quittance_services::config::Config;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn token_from_a_json_body_exactly_as_the_seed_shows() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let (status, body) = send(
        app.http
            .post(format!("{}/oauth/token", app.base))
            .header("Content-Type", "application/json")
            .body(format!(
                "{{ \"grant_type\": \"client_credentials\", \"client_id\": \"{}\", \"client_secret\": \"{}\" }}",
                org.creds.client_id,
                org.creds.client_secret.expose()
            )),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    let token = body["access_token"].as_str().expect("token");
    assert!(token.starts_with("qt_") && token.len() == 67);
    assert_eq!(
        body.as_object().map(|o| o.len()),
        Some(3),
        "exactly access_token, token_type, expires_in"
    );
}

#[tokio::test]
async fn token_from_a_form_body_and_from_basic_authentication() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let (status, body) = send(app.http.post(format!("{}/oauth/token", app.base)).form(&[
        ("grant_type", "client_credentials"),
        ("client_id", org.creds.client_id.as_str()),
        ("client_secret", org.creds.client_secret.expose()),
    ]))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let basic = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        org.creds.client_id,
        org.creds.client_secret.expose()
    ));
    let response = app
        .http
        .post(format!("{}/oauth/token", app.base))
        .header("Authorization", format!("Basic {basic}"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response
            .headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );

    let wrong = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:qs_wrong", org.creds.client_id));
    let response = app
        .http
        .post(format!("{}/oauth/token", app.base))
        .header("Authorization", format!("Basic {wrong}"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(
        response.headers().contains_key("www-authenticate"),
        "RFC 6749 §5.2: a Basic client is challenged"
    );
}

#[tokio::test]
async fn bad_token_requests_are_refused_in_the_error_shape() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let url = format!("{}/oauth/token", app.base);
    let cases = [
        (
            json!({"grant_type": "client_credentials", "client_id": org.creds.client_id, "client_secret": "qs_wrong"}),
            401,
            "Unauthorized",
            None,
        ),
        (
            json!({"grant_type": "client_credentials", "client_id": "qc_unknown", "client_secret": "qs_x"}),
            401,
            "Unauthorized",
            None,
        ),
        (
            json!({"client_id": org.creds.client_id, "client_secret": "x"}),
            400,
            "BadRequest",
            Some("grant_type"),
        ),
        (
            json!({"grant_type": "password", "client_id": "x", "client_secret": "y"}),
            400,
            "BadRequest",
            Some("grant_type"),
        ),
        (
            json!({"grant_type": "client_credentials", "client_secret": "y"}),
            400,
            "BadRequest",
            Some("client_id"),
        ),
        (
            json!({"grant_type": "client_credentials", "client_id": "x"}),
            400,
            "BadRequest",
            Some("client_secret"),
        ),
    ];
    for (body, code, class, param) in cases {
        let (status, answer) = send(app.http.post(&url).json(&body)).await;
        assert_error(status, &answer, class, code);
        assert_eq!(answer["param"].as_str(), param, "{body}");
    }
}

#[tokio::test]
async fn ten_failures_lock_the_client_for_thirty_minutes_even_with_the_right_secret() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let url = format!("{}/oauth/token", app.base);
    let attempt = |secret: String| {
        let body = json!({"grant_type": "client_credentials", "client_id": org.creds.client_id, "client_secret": secret});
        send(app.http.post(&url).json(&body))
    };
    for _ in 0..10 {
        let (status, body) = attempt("qs_wrong".to_owned()).await;
        assert_error(status, &body, "Unauthorized", 401);
    }
    let right = org.creds.client_secret.expose().to_owned();
    let response = app
        .http
        .post(&url)
        .json(&json!({"grant_type": "client_credentials", "client_id": org.creds.client_id, "client_secret": right}))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1700..=1801).contains(&retry_after), "{retry_after}");
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["error_class"], "TooManyRequests");

    app.clock.advance(chrono::Duration::minutes(29));
    assert_eq!(
        attempt(right.clone()).await.0,
        StatusCode::TOO_MANY_REQUESTS,
        "still locked at 29 minutes"
    );
    app.clock.advance(chrono::Duration::minutes(2));
    assert_eq!(
        attempt(right).await.0,
        StatusCode::OK,
        "unlocked after 30 minutes"
    );
}

#[tokio::test]
async fn a_success_forgets_earlier_failures() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let url = format!("{}/oauth/token", app.base);
    let attempt = |secret: String| {
        let body = json!({"grant_type": "client_credentials", "client_id": org.creds.client_id, "client_secret": secret});
        send(app.http.post(&url).json(&body))
    };
    for _ in 0..9 {
        assert_eq!(attempt("qs_wrong".into()).await.0, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        attempt(org.creds.client_secret.expose().into()).await.0,
        StatusCode::OK
    );
    for _ in 0..9 {
        assert_eq!(attempt("qs_wrong".into()).await.0, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        attempt(org.creds.client_secret.expose().into()).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_three_forms_of_api_credentials_work_and_bad_ones_are_401() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let url = format!("{}/v1/accounts", app.base);
    for header in [
        org.bearer(),
        org.creds.api_key.expose().to_owned(),
        format!("Bearer {}", org.creds.api_key.expose()),
    ] {
        let (status, body) = send(app.http.get(&url).header("Authorization", header)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, body) = send(app.http.get(&url)).await;
    assert_error(status, &body, "Unauthorized", 401);
    for header in [
        "Bearer qt_nope",
        "qk_nope",
        "Basic abc",
        "Bearer ",
        "garbage",
    ] {
        let (status, body) = send(app.http.get(&url).header("Authorization", header)).await;
        assert_error(status, &body, "Unauthorized", 401);
    }
}

#[tokio::test]
async fn tokens_expire_after_their_lifetime() {
    let app = spawn_app_with(Config {
        token_ttl_seconds: 600,
        ..test_config()
    })
    .await;
    let org = app.org("acme").await;
    assert_eq!(app.get("/v1/accounts", &org).await.0, StatusCode::OK);
    app.clock.advance(chrono::Duration::seconds(601));
    let (status, body) = app.get("/v1/accounts", &org).await;
    assert_error(status, &body, "Unauthorized", 401);
}

#[tokio::test]
async fn revoking_a_credential_stops_its_key_and_tokens_at_once() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let id = org.creds.credential_id.clone();
    app.state
        .db
        .write(move |tx| {
            Box::pin(async move {
                quittance_store::repo::access::revoke_credential(tx, &id, chrono::Utc::now()).await
            })
        })
        .await
        .expect("revoke");
    assert_eq!(
        app.get("/v1/accounts", &org).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (status, _) = send(
        app.http
            .get(format!("{}/v1/accounts", app.base))
            .header("Authorization", org.creds.api_key.expose()),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = send(app.http.post(format!("{}/oauth/token", app.base)).json(&json!({
        "grant_type": "client_credentials", "client_id": org.creds.client_id, "client_secret": org.creds.client_secret.expose()
    })))
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_portal_header_must_name_the_credentials_organization() {
    let app = spawn_app().await;
    let acme = app.org("acme").await;
    app.org("globex").await;
    let url = format!("{}/v1/accounts", app.base);
    for portal in ["acme", acme.creds.organization_id.as_str()] {
        let (status, _) = send(
            app.http
                .get(&url)
                .header("Authorization", acme.bearer())
                .header("X-IC-intelligent-portal", portal),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{portal}");
    }
    for portal in ["globex", "nobody"] {
        let (status, body) = send(
            app.http
                .get(&url)
                .header("Authorization", acme.bearer())
                .header("X-IC-intelligent-portal", portal),
        )
        .await;
        assert_error(status, &body, "Forbidden", 403);
    }
}

#[tokio::test]
async fn one_address_failing_across_many_clients_is_throttled_for_the_window() {
    let app = spawn_app_with(Config {
        token_ip_max_failures: 5,
        token_ip_window_seconds: 600,
        ..test_config()
    })
    .await;
    let org = app.org("acme").await;
    let url = format!("{}/oauth/token", app.base);
    for n in 0..5 {
        let (status, _) = send(app.http.post(&url).json(&json!({"grant_type": "client_credentials", "client_id": format!("qc_guess{n}"), "client_secret": "qs_x"}))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let right = json!({"grant_type": "client_credentials", "client_id": org.creds.client_id, "client_secret": org.creds.client_secret.expose()});
    let response = app.http.post(&url).json(&right).send().await.expect("send");
    assert_eq!(
        response.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "even the right secret, from this address"
    );
    let wait: u64 = response.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=601).contains(&wait), "{wait}");
    app.clock.advance(chrono::Duration::seconds(601));
    assert_eq!(
        send(app.http.post(&url).json(&right)).await.0,
        StatusCode::OK,
        "the window has passed"
    );
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_address_is_throttled_not_the_proxy() {
    let app = spawn_app_with(Config {
        token_ip_max_failures: 3,
        trust_forwarded_for: true,
        ..test_config()
    })
    .await;
    let org = app.org("acme").await;
    let url = format!("{}/oauth/token", app.base);
    let attempt = |secret: &str, forwarded: Option<&str>| {
        let mut request = app.http.post(&url).json(&json!({"grant_type": "client_credentials", "client_id": org.creds.client_id, "client_secret": secret}));
        if let Some(address) = forwarded {
            request = request.header("X-Forwarded-For", format!("{address}, 10.0.0.1"));
        }
        send(request)
    };
    for _ in 0..3 {
        assert_eq!(
            attempt("qs_wrong", Some("203.0.113.7")).await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    let right = org.creds.client_secret.expose();
    assert_eq!(
        attempt(right, Some("203.0.113.7")).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        attempt(right, Some("203.0.113.8")).await.0,
        StatusCode::OK,
        "another caller behind the same proxy"
    );
    assert_eq!(
        attempt(right, None).await.0,
        StatusCode::OK,
        "the proxy's own address was never counted"
    );
}
