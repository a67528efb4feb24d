use crate::helpers::{assert_error, send, spawn_app};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn health_readiness_and_metrics() {
    let app = spawn_app().await;
    let (status, body) = send(app.http.get(format!("{}/healthz", app.base))).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("ok"))
    );
    let (status, body) = send(app.http.get(format!("{}/readyz", app.base))).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("ready"))
    );
    let org = app.org("acme").await;
    app.get("/v1/accounts", &org).await;
    let metrics = app
        .http
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains(
            r#"quittance_http_requests_total{method="GET",route="/v1/accounts",status="200"} 1"#
        ),
        "{metrics}"
    );
    assert!(metrics.contains(
        r#"quittance_http_requests_total{method="POST",route="/oauth/token",status="200"} 1"#
    ));
    assert!(metrics.contains("# TYPE quittance_http_request_duration_seconds histogram"));
}

#[tokio::test]
async fn metrics_with_a_token_set_need_it_as_a_bearer_token() {
    let app = crate::helpers::spawn_app_with(quittance_services::config::Config {
        metrics_token: Some("scrape-t0ken".into()),
        ..crate::helpers::test_config()
    })
    .await;
    let url = format!("{}/metrics", app.base);
    for given in [None, Some("Bearer wrong"), Some("scrape-t0ken")] {
        let mut request = app.http.get(&url);
        if let Some(given) = given {
            request = request.header("Authorization", given);
        }
        let (status, body) = send(request).await;
        assert_error(status, &body, "Unauthorized", 401);
        assert!(
            body["message"]
                .as_str()
                .is_some_and(|m| m.contains("metrics_token"))
        );
    }
    let response = app
        .http
        .get(&url)
        .header("Authorization", "Bearer scrape-t0ken")
        .send()
        .await
        .expect("metrics");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response
            .text()
            .await
            .expect("text")
            .contains("quittance_http_requests_total")
    );
}

#[tokio::test]
async fn readiness_fails_when_the_database_is_gone() {
    let app = spawn_app().await;
    app.state.db.close().await;
    let (status, body) = send(app.http.get(format!("{}/readyz", app.base))).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error_class"], "ServiceUnavailable");
}

#[tokio::test]
async fn the_openapi_document_lists_every_route_and_the_docs_page_is_served() {
    let app = spawn_app().await;
    let (status, spec) = send(app.http.get(format!("{}/openapi.json", app.base))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        spec["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1"))
    );
    let expected = [
        ("/oauth/token", "post"),
        ("/v1/clients", "post"),
        ("/v1/clients", "get"),
        ("/v1/clients/{id}", "get"),
        ("/v1/clients/{id}", "patch"),
        ("/v1/accounts", "get"),
        ("/v1/accounts/{id}", "get"),
        ("/v1/accounts/{id}", "patch"),
        ("/v1/accounts/{id}", "delete"),
        ("/v1/accounts/{id}/sub_accounts", "post"),
        ("/v1/accounts/{id}/sub_accounts", "get"),
        ("/v1/sub_accounts/{id}", "get"),
        ("/v1/sub_accounts/{id}", "patch"),
        ("/v1/import", "post"),
        ("/v1/imports", "post"),
        ("/v1/imports/{id}", "get"),
        ("/v1/events", "get"),
        ("/v1/events/{id}", "get"),
        ("/v1/payment_methods", "post"),
        ("/v1/payment_methods/{id}", "get"),
        ("/v1/payment_methods/{id}", "delete"),
        ("/v1/accounts/{id}/payment_methods", "get"),
        ("/v1/payments", "post"),
        ("/v1/payments", "get"),
        ("/v1/payments/{id}", "get"),
        ("/v1/payments/{id}/capture", "post"),
        ("/v1/payments/{id}/void", "post"),
        ("/v1/payments/{id}/refunds", "post"),
        ("/v1/payments/{id}/refunds", "get"),
        ("/v1/refunds", "post"),
        ("/v1/settlements", "post"),
        ("/v1/sandbox/payments/{id}/chargeback", "post"),
        ("/v1/sandbox/payments/{id}/ach_return", "post"),
        ("/v1/reports/payments", "get"),
        ("/v1/payment_plans", "post"),
        ("/v1/payment_plans", "get"),
        ("/v1/payment_plans/preview", "post"),
        ("/v1/payment_plans/{id}", "get"),
        ("/v1/payment_plans/{id}", "patch"),
        ("/v1/payment_plans/{id}/activate", "post"),
        ("/v1/payment_plans/{id}/cancel", "post"),
        ("/v1/payment_plans/{id}/installments", "get"),
        ("/v1/payment_plans/{id}/history", "get"),
        ("/v1/settings", "get"),
        ("/v1/settings", "patch"),
        ("/v1/test_clock", "get"),
        ("/v1/test_clock/advance", "post"),
        ("/v1/webhook_access_setups", "post"),
        ("/v1/webhook_access_setups", "get"),
        ("/v1/webhook_access_setups/{id}", "get"),
        ("/v1/webhook_access_setups/{id}", "patch"),
        ("/v1/webhook_access_setups/{id}", "delete"),
        ("/v1/webhooks", "post"),
        ("/v1/webhooks", "get"),
        ("/v1/webhooks/{id}", "get"),
        ("/v1/webhooks/{id}", "patch"),
        ("/v1/webhooks/{id}", "delete"),
        ("/v1/webhooks/{id}/rotate_secret", "post"),
        ("/v1/webhooks/{id}/deliveries", "get"),
        ("/v1/events/{id}/deliveries", "get"),
        ("/v1/webhook_deliveries/{id}/retry", "post"),
        ("/v1/webhooks/{id}/recover", "post"),
        ("/v1/ingo/participants", "get"),
        ("/v1/ingo/participants", "post"),
        ("/v1/ingo/participants/{participant_id}", "get"),
        ("/v1/ingo/participants/{participant_id}", "patch"),
        ("/v1/ingo/participants/{participant_id}", "delete"),
        (
            "/v1/ingo/participants/{participant_id}/rotate-secret",
            "post",
        ),
        ("/api/events", "get"),
        ("/api/events/{id}", "get"),
        ("/api/webhooks", "get"),
        ("/api/webhooks", "post"),
        ("/api/webhooks/{id}", "get"),
        ("/api/webhooks/{id}", "patch"),
        ("/api/webhooks/{id}", "delete"),
        ("/api/users", "get"),
        ("/api/users", "post"),
        ("/api/users/{id}", "get"),
        ("/api/users/{id}", "patch"),
        ("/api/users/{id}", "delete"),
        ("/api/v1/prospects", "get"),
        ("/api/v1/prospects", "post"),
        ("/api/v1/prospects/{id}", "get"),
        ("/api/v1/prospects/{id}", "patch"),
        ("/api/v1/prospects/{id}", "delete"),
        ("/api/v1/prospect/{id}", "get"),
        ("/api/v1/users", "post"),
        ("/api/prospect_stages", "get"),
        ("/api/prospect_stages/{id}", "get"),
        ("/api/merchant_types", "get"),
        ("/api/merchant_types", "post"),
        ("/api/merchant_types/{id}", "get"),
        ("/api/merchant_types/{id}", "patch"),
        ("/api/merchant_types/{id}", "delete"),
        ("/api/programs", "get"),
        ("/api/programs", "post"),
        ("/api/programs/{id}", "get"),
        ("/api/programs/{id}", "patch"),
        ("/api/programs/{id}", "delete"),
        ("/api/v1/proposals", "get"),
        ("/api/v1/proposals/{id}", "get"),
        ("/api/v1/proposals/simple", "post"),
        ("/api/v1/proposals/{id}/handoff_links", "get"),
        ("/api/proposal_handoff_links", "get"),
        ("/api/proposal_handoff_links", "post"),
        ("/api/proposal_handoff_links/{id}", "get"),
        ("/api/proposal_handoff_links/{id}", "patch"),
        ("/api/proposal_handoff_links/{id}", "delete"),
        ("/api/estimate_statement_summary", "post"),
        ("/api/pricing_settings", "get"),
        ("/api/pricing_settings", "patch"),
        ("/api/statement_analyses", "post"),
        ("/api/statement_analyses/{id}", "get"),
        ("/api/statement_analyses/{id}/files", "post"),
        ("/api/statement_analyses/{id}/start", "post"),
        ("/healthz", "get"),
        ("/readyz", "get"),
        ("/metrics", "get"),
    ];
    for (path, method) in expected {
        assert!(
            spec["paths"][path][method].is_object(),
            "{method} {path} missing from /openapi.json"
        );
    }
    let operations: usize = spec["paths"]
        .as_object()
        .expect("paths")
        .values()
        .map(|ops| ops.as_object().map_or(0, |o| o.len()))
        .sum();
    assert_eq!(
        operations,
        expected.len(),
        "every documented operation is listed in this test"
    );
    assert!(spec["components"]["schemas"]["ErrorBody"].is_object());
    // Every /v1 operation documents the errors any request can get, in the error shape.
    for (path, operations) in spec["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .filter(|(p, _)| p.starts_with("/v1/"))
    {
        for (method, operation) in operations.as_object().expect("operations") {
            for code in ["400", "401", "403", "500", "503"] {
                let schema =
                    &operation["responses"][code]["content"]["application/json"]["schema"]["$ref"];
                assert_eq!(
                    schema, "#/components/schemas/ErrorBody",
                    "{method} {path} {code}"
                );
            }
            let has_body = operation["requestBody"].is_object();
            assert_eq!(
                operation["responses"]["415"].is_object(),
                has_body,
                "{method} {path} 415"
            );
        }
    }

    let page = app
        .http
        .get(format!("{}/docs/", app.base))
        .send()
        .await
        .expect("docs");
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("html");
    assert!(html.contains("swagger"), "the interactive docs page");
    let config = app
        .http
        .get(format!("{}/docs/swagger-initializer.js", app.base))
        .send()
        .await
        .expect("js");
    assert!(config.text().await.expect("js").contains("/openapi.json"));
}

/// The document is a contract: integrators generate clients from it. Any change to it shows
/// up here as a diff against the checked-in copy, which is rewritten on purpose with
/// `QUITTANCE_WRITE_OPENAPI=1 cargo test -p quittance-server --test api openapi_document`.
#[tokio::test]
async fn the_openapi_document_matches_the_checked_in_copy() {
    let app = spawn_app().await;
    let (status, spec) = send(app.http.get(format!("{}/openapi.json", app.base))).await;
    assert_eq!(status, StatusCode::OK);
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api/openapi.json");
    if std::env::var_os("QUITTANCE_WRITE_OPENAPI").is_some() {
        let text = serde_json::to_string_pretty(&spec).expect("json");
        std::fs::write(&path, text + "\n").expect("write the copy");
    }
    let copy: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("the checked-in copy"))
            .expect("the copy is JSON");
    assert!(
        spec == copy,
        "/openapi.json differs from tests/api/openapi.json; if the change is meant, rewrite \
         the copy with QUITTANCE_WRITE_OPENAPI=1"
    );
}

/// The shared query parameters are documented with the bounds the server holds them to, and
/// the operations endpoints with no credentials: a value at each documented bound is
/// accepted and one past it refused.
#[tokio::test]
async fn the_document_states_the_bounds_of_the_shared_query_parameters() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let (_, spec) = send(app.http.get(format!("{}/openapi.json", app.base))).await;
    let parameter = |path: &str, name: &str| {
        spec["paths"][path]["get"]["parameters"]
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["name"] == name))
            .map(|p| p["schema"].clone())
            .unwrap_or_else(|| panic!("{path} documents {name}"))
    };
    for path in ["/healthz", "/readyz", "/metrics"] {
        assert_eq!(spec["paths"][path]["get"]["security"], json!([]), "{path}");
    }
    let page = parameter("/v1/accounts", "current_page");
    assert_eq!(page["minimum"], 1);
    let limit = parameter("/v1/events", "limit");
    assert_eq!(
        (limit["minimum"].clone(), limit["maximum"].clone()),
        (json!(1), json!(100))
    );
    assert_eq!(parameter("/api/users", "startAfterId")["format"], "uuid");
    for (query, accepted) in [
        ("/v1/accounts?current_page=1", true),
        ("/v1/accounts?current_page=0", false),
        ("/v1/events?limit=1", true),
        ("/v1/events?limit=100", true),
        ("/v1/events?limit=0", false),
        ("/v1/events?limit=101", false),
        ("/api/events?limit=100", true),
        ("/api/events?limit=101", false),
        ("/api/users?startAfterId=not-a-uuid", false),
        ("/v1/accounts?current_page=", false),
        ("/v1/accounts?client_id=", false),
        ("/v1/accounts?status=", false),
        ("/v1/accounts?status=closed", true),
        ("/v1/reports/payments?format=", false),
        ("/api/events?startTime=0", true),
        ("/api/events?startTime=-1", false),
        ("/api/events?startTime=253402300800", false),
    ] {
        let (status, body) = app.get(query, &org).await;
        assert_eq!(
            status == StatusCode::OK,
            accepted,
            "{query}: {status} {body}"
        );
    }
}
