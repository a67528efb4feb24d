use crate::helpers::{assert_error, sample_document, send, spawn_app};
use reqwest::{Method, StatusCode};

#[tokio::test]
async fn malformed_json_a_wrong_type_and_a_missing_or_unknown_field_are_400_naming_it() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let url = format!("{}/v1/import", app.base);
    let cases: [(&str, Option<&str>); 5] = [
        (r#"{"account_number": "A-1", "sub_accounts": ["#, None),
        (
            r#"{"account_number": 12, "sub_accounts": []}"#,
            Some("account_number"),
        ),
        (r#"{"sub_accounts": []}"#, Some("account_number")),
        (
            r#"{"account_number": "A", "sub_accounts": [{"original_balance": 1}]}"#,
            Some("sub_accounts[0].reference"),
        ),
        (
            r#"{"account_number": "A", "sub_accounts": [], "acount": 1}"#,
            Some("acount"),
        ),
    ];
    for (body, param) in cases {
        let (status, answer) = send(
            app.http
                .post(&url)
                .header("Authorization", org.bearer())
                .header("Content-Type", "application/json")
                .body(body),
        )
        .await;
        assert_error(status, &answer, "BadRequest", 400);
        assert_eq!(answer["param"].as_str(), param, "{body} → {answer}");
    }
}

#[tokio::test]
async fn unknown_routes_wrong_methods_big_bodies_and_wrong_content_types_keep_the_shape() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let (status, body) = app.get("/v1/nothing-here", &org).await;
    assert_error(status, &body, "NotFound", 404);
    let (status, body) = send(app.http.get(format!("{}/elsewhere", app.base))).await;
    assert_error(status, &body, "NotFound", 404);

    let response = app
        .request(Method::PUT, "/v1/accounts", &org)
        .send()
        .await
        .expect("send");
    assert_eq!(
        response
            .headers()
            .get("allow")
            .and_then(|v| v.to_str().ok()),
        Some("GET,HEAD")
    );
    let (status, body) = send(app.request(Method::PUT, "/v1/accounts", &org)).await;
    assert_error(status, &body, "MethodNotAllowed", 405);

    let huge = format!(
        r#"{{"account_number":"{}","sub_accounts":[]}}"#,
        "x".repeat(3 * 1024 * 1024)
    );
    let (status, body) = send(
        app.request(Method::POST, "/v1/import", &org)
            .header("Content-Type", "application/json")
            .body(huge),
    )
    .await;
    assert_error(status, &body, "PayloadTooLarge", 413);

    let (status, body) = send(
        app.request(Method::POST, "/v1/import", &org)
            .header("Content-Type", "text/plain")
            .body("{}"),
    )
    .await;
    assert_error(status, &body, "UnsupportedMediaType", 415);
}

#[tokio::test]
async fn semantic_errors_are_422_naming_the_field() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let mut doc = sample_document("A-1");
    doc["email"] = "not-an-email".into();
    let (status, body) = app.post("/v1/import", &org, doc).await;
    assert_error(status, &body, "UnprocessableEntity", 422);
    assert_eq!(body["param"], "email");
}

#[tokio::test]
async fn a_server_error_shows_no_sql_and_no_internals() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let imported = app.import(&org, sample_document("A-1")).await;
    let id = imported["account"]["id"].as_str().expect("id").to_owned();
    let target = id.clone();
    app.state
        .db
        .write(move |tx| {
            Box::pin(async move {
                tx.execute(
                    "UPDATE accounts SET status = 'corrupted' WHERE id = $1",
                    &quittance_store::params![target],
                )
                .await
            })
        })
        .await
        .expect("corrupt");
    let (status, body) = app.get(&format!("/v1/accounts/{id}"), &org).await;
    assert_error(status, &body, "InternalServerError", 500);
    let text = body.to_string();
    for leak in ["corrupted", "SELECT", "column", "Decode", "panicked"] {
        assert!(!text.contains(leak), "{leak} leaked: {text}");
    }
}

#[tokio::test]
async fn a_callers_request_id_is_echoed_and_ours_is_made_otherwise() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let response = app
        .request(Method::GET, "/v1/accounts", &org)
        .header("X-Request-Id", "trace-42")
        .send()
        .await
        .expect("send");
    assert_eq!(response.headers()["x-request-id"], "trace-42");
    let response = app
        .request(Method::GET, "/v1/nope", &org)
        .header("X-Request-Id", "bad id with spaces")
        .send()
        .await
        .expect("send");
    let made = response.headers()["x-request-id"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(made.starts_with("req_"));
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(
        body["request_id"],
        made.as_str(),
        "the error body carries the same id"
    );
    assert_eq!(StatusCode::NOT_FOUND.as_u16(), body["code"]);
}

#[tokio::test]
async fn a_panicking_handler_answers_500_in_the_error_shape_without_its_message() {
    let app = spawn_app().await;
    // The production middleware in front of a handler that panics.
    let router = axum::Router::new()
        .route("/boom", axum::routing::get(boom))
        .layer(axum::middleware::from_fn_with_state(
            app.state.clone(),
            quittance_server::http::telemetry::observe,
        ))
        .with_state(app.state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, router).await });
    let (status, body) = send(app.http.get(format!("http://{addr}/boom"))).await;
    assert_error(status, &body, "InternalServerError", 500);
    assert!(!body.to_string().contains("secret internals"));
}

#[tokio::test]
async fn answers_are_never_cached_or_sniffed() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    for path in ["/v1/accounts", "/v1/nope"] {
        let response = app
            .request(Method::GET, path, &org)
            .send()
            .await
            .expect("send");
        assert_eq!(response.headers()["cache-control"], "no-store", "{path}");
        assert_eq!(
            response.headers()["x-content-type-options"],
            "nosniff",
            "{path}"
        );
    }
}

async fn boom() -> &'static str {
    panic!("secret internals")
}

#[tokio::test]
async fn a_body_that_is_not_a_json_object_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let (_, before) = app.get("/v1/test_clock", &org).await;
    let (_, settings_before) = app.get("/v1/settings", &org).await;
    for (method, path) in [
        (Method::POST, "/v1/test_clock/advance"),
        (Method::PATCH, "/v1/settings"),
        (Method::POST, "/v1/import"),
    ] {
        for body in ["[5,0]", "5", "\"x\"", "null"] {
            let (status, answer) = send(
                app.request(method.clone(), path, &org)
                    .header("Content-Type", "application/json")
                    .body(body),
            )
            .await;
            assert_error(status, &answer, "BadRequest", 400);
            assert_eq!(
                answer["message"], "the request body must be a JSON object",
                "{path} {body}"
            );
        }
    }
    let (_, after) = app.get("/v1/test_clock", &org).await;
    let (_, settings_after) = app.get("/v1/settings", &org).await;
    assert_eq!(before, after, "the clock did not move");
    assert_eq!(settings_before, settings_after);
    // The ISO Amp face refuses it in its own shape.
    let (status, text) =
        crate::helpers::iso(&app, &org, Method::POST, "/api/users", Some("[1, 2]")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{text}");
    assert!(text.contains("must be a JSON object"), "{text}");
}
