//! Another organization's id answers exactly like an unknown id, on every route with an id.
//! The routes come from the served OpenAPI document, so a new route cannot be forgotten.

use crate::helpers::{TestApp, sample_document, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A body that would be valid for the route, so only the id decides the answer.
fn body_for(method: &Method, path: &str) -> Option<Value> {
    match (method.as_str(), path) {
        ("PATCH", "/v1/clients/{id}") => Some(json!({"name": "changed"})),
        ("PATCH", "/v1/accounts/{id}") => Some(json!({"first_name": "changed"})),
        ("PATCH", "/v1/sub_accounts/{id}") => Some(json!({"description": "changed"})),
        ("POST", "/v1/accounts/{id}/sub_accounts") => {
            Some(json!({"reference": "V-NEW", "original_balance": 1}))
        }
        (
            "POST",
            "/v1/payments/{id}/capture"
            | "/v1/payments/{id}/void"
            | "/v1/payments/{id}/refunds"
            | "/v1/sandbox/payments/{id}/chargeback"
            | "/v1/sandbox/payments/{id}/ach_return"
            | "/v1/payment_plans/{id}/activate"
            | "/v1/payment_plans/{id}/cancel",
        ) => Some(json!({})),
        ("PATCH", "/v1/payment_plans/{id}") => Some(json!({"frequency": "weekly"})),
        ("PATCH", "/v1/webhook_access_setups/{id}") => Some(json!({"api_name": "changed"})),
        ("PATCH", "/v1/webhooks/{id}") => Some(json!({"enabled": true})),
        ("PATCH", "/api/webhooks/{id}") => Some(json!({"url": "http://127.0.0.1:9/x"})),
        ("PATCH", "/api/users/{id}") => Some(json!({"name": "changed"})),
        ("PATCH", "/api/v1/prospects/{id}") => Some(json!({"contact_name": "changed"})),
        ("PATCH", "/api/merchant_types/{id}" | "/api/programs/{id}") => {
            Some(json!({"name": "changed"}))
        }
        ("PATCH", "/api/proposal_handoff_links/{id}") => Some(json!({"label": "changed"})),
        ("POST", "/api/statement_analyses/{id}/files" | "/api/statement_analyses/{id}/start") => {
            Some(json!({}))
        }
        ("POST", "/v1/webhooks/{id}/rotate_secret" | "/v1/webhook_deliveries/{id}/retry") => {
            Some(json!({}))
        }
        ("POST", "/v1/webhooks/{id}/recover") => Some(json!({"since": "2020-01-01T00:00:00Z"})),
        ("GET" | "DELETE", _) => None,
        other => panic!("no body known for {other:?}: add the new route to the tenancy test"),
    }
}

/// The real id of the owning organization's resource, and an unknown one of the same kind.
fn ids_for(path: &str, owned: &Value) -> (String, String) {
    let kind = if path.starts_with("/v1/clients/") {
        "client"
    } else if path.starts_with("/v1/accounts/") {
        "account"
    } else if path.starts_with("/v1/sub_accounts/") {
        "sub_account"
    } else if path.starts_with("/v1/imports/") {
        "import"
    } else if path.starts_with("/v1/events/") {
        "event"
    } else if path.starts_with("/v1/payment_plans/") {
        "payment_plan"
    } else if path.starts_with("/v1/payment_methods/") {
        "payment_method"
    } else if path.starts_with("/v1/payments/") || path.starts_with("/v1/sandbox/payments/") {
        "payment"
    } else if path.starts_with("/v1/webhook_access_setups/") {
        "access_setup"
    } else if path.starts_with("/v1/webhooks/") {
        "webhook"
    } else if path.starts_with("/v1/webhook_deliveries/") {
        "delivery"
    } else if path.starts_with("/api/webhooks/") {
        return (owned["iso_webhook"].to_string(), "999999999".to_owned());
    } else if let Some(kind) = [
        ("/api/events/", "iso_event"),
        ("/api/users/", "iso_user"),
        ("/api/v1/prospects/", "iso_prospect"),
        ("/api/v1/prospect/", "iso_prospect"),
        ("/api/prospect_stages/", "iso_stage"),
        ("/api/merchant_types/", "iso_merchant_type"),
        ("/api/programs/", "iso_program"),
        ("/api/v1/proposals/", "iso_proposal"),
        ("/api/proposal_handoff_links/", "iso_handoff_link"),
        ("/api/statement_analyses/", "iso_statement_analysis"),
    ]
    .iter()
    .find_map(|(prefix, kind)| path.starts_with(prefix).then_some(*kind))
    {
        return (
            owned[kind].as_str().expect("uuid").to_owned(),
            "00000000-0000-0000-0000-000000000000".to_owned(),
        );
    } else {
        panic!("no resource known for {path}: add the new route to the tenancy test")
    };
    let real = owned[kind].as_str().expect("id").to_owned();
    let prefix = real.split('_').next().expect("prefix");
    (real.clone(), format!("{prefix}_{}", "0".repeat(32)))
}

async fn owned_resources(app: &TestApp, owner: &crate::helpers::Org) -> Value {
    let imported = app.import(owner, sample_document("OWNED-1")).await;
    let (_, clients) = app.get("/v1/clients", owner).await;
    let job = app
        .bulk_import(
            owner,
            "text/csv",
            "account_number,reference,original_balance\nOWNED-2,V,1\n",
        )
        .await;
    let account = imported["account"]["id"].as_str().expect("id");
    let (status, setup) = app
        .post(
            "/v1/webhook_access_setups",
            owner,
            json!({"type": "api_key", "authentication_key_name": "X-Key", "api_name": "a", "api_key": "k"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{setup}");
    let (status, webhook) = app
        .post(
            "/v1/webhooks",
            owner,
            json!({"url": "http://127.0.0.1:9/hook", "event_types": ["master_account.changed"],
                "access_setup_id": setup["id"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{webhook}");
    let (status, iso_webhook) = app
        .post(
            "/api/webhooks",
            owner,
            json!({"url": "http://127.0.0.1:9/iso", "eventTypes": ["analysis.completed"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{iso_webhook}");
    assert_eq!(
        app.patch(
            &format!("/v1/accounts/{account}"),
            owner,
            json!({"phone": "555-0199"})
        )
        .await
        .0,
        StatusCode::OK
    );
    let (method, payment) = crate::payments::saved_card_payment(app, owner, account, "10.00").await;
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1))
        .format("%Y-%m-%d")
        .to_string();
    let (status, plan) = app
        .post(
            "/v1/payment_plans",
            owner,
            json!({"account_id": account, "payment_method_id": method, "installment_count": 2,
                "frequency": "monthly", "start_date": tomorrow}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{plan}");
    let (_, events) = app.get("/v1/events", owner).await;
    let (_, iso) = app.get("/api/events", owner).await;
    let webhook_id = webhook["id"].as_str().expect("id");
    let (_, deliveries) = app
        .get(&format!("/v1/webhooks/{webhook_id}/deliveries"), owner)
        .await;
    let pricing = crate::isoamp_pricing::owned_pricing(app, owner).await;
    json!({
        "client": clients["data"][0]["id"],
        "account": imported["account"]["id"],
        "sub_account": imported["sub_accounts"][0]["id"],
        "import": job["id"],
        "event": events["data"][0]["id"],
        "iso_event": iso["data"][0]["id"],
        "payment_method": method,
        "payment": payment,
        "payment_plan": plan["id"],
        "access_setup": setup["id"],
        "webhook": webhook["id"],
        "delivery": deliveries["data"][0]["id"],
        "iso_webhook": iso_webhook["id"],
        "iso_user": pricing["user"],
        "iso_prospect": pricing["prospect"],
        "iso_stage": pricing["stage"],
        "iso_merchant_type": pricing["merchant_type"],
        "iso_program": pricing["program"],
        "iso_proposal": pricing["proposal"],
        "iso_handoff_link": pricing["handoff_link"],
        "iso_statement_analysis": pricing["statement_analysis"],
    })
}

fn without_request_id(mut body: Value, real: &str, unknown: &str) -> Value {
    body["request_id"] = Value::Null;
    if let Some(message) = body["message"].as_str() {
        body["message"] = message.replace(real, "ID").replace(unknown, "ID").into();
    }
    body
}

#[tokio::test]
async fn every_route_with_an_id_hides_other_organizations_records() {
    let app = spawn_app().await;
    let owner = app.org("acme").await;
    let stranger = app.org("globex").await;
    let owned = owned_resources(&app, &owner).await;
    let (_, spec) = crate::helpers::send(app.http.get(format!("{}/openapi.json", app.base))).await;
    let mut checked = 0;
    for (path, operations) in spec["paths"].as_object().expect("paths") {
        if !path.contains("{id}") {
            continue;
        }
        for method in operations.as_object().expect("operations").keys() {
            let method =
                Method::from_bytes(method.to_ascii_uppercase().as_bytes()).expect("method");
            let (real, unknown) = ids_for(path, &owned);
            let body = body_for(&method, path);
            let (status, foreign) = app
                .call(
                    method.clone(),
                    &path.replace("{id}", &real),
                    &stranger,
                    body.clone(),
                )
                .await;
            let (unknown_status, missing) = app
                .call(
                    method.clone(),
                    &path.replace("{id}", &unknown),
                    &stranger,
                    body,
                )
                .await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {foreign}");
            assert_eq!(
                unknown_status,
                StatusCode::NOT_FOUND,
                "{method} {path}: {missing}"
            );
            assert_eq!(
                without_request_id(foreign, &real, &unknown),
                without_request_id(missing, &real, &unknown),
                "{method} {path}: a stranger's id must look exactly like an unknown one"
            );
            checked += 1;
        }
    }
    assert!(checked >= 9, "only {checked} routes checked");
    // And the owner still sees everything untouched.
    let (_, account) = app
        .get(
            &format!("/v1/accounts/{}", owned["account"].as_str().expect("id")),
            &owner,
        )
        .await;
    assert_eq!(account["first_name"], "Jane");
    assert_eq!(account["phone"], "555-0199");
}

#[tokio::test]
async fn lists_and_filters_show_only_the_callers_records() {
    let app = spawn_app().await;
    let owner = app.org("acme").await;
    let stranger = app.org("globex").await;
    let owned = owned_resources(&app, &owner).await;
    for path in [
        "/v1/accounts",
        "/v1/clients",
        "/v1/accounts?account_number=OWNED-1",
        "/v1/accounts?last_name=Doe",
        "/v1/payments",
        "/v1/reports/payments",
        "/v1/payment_plans",
        &format!(
            "/v1/payments?account_id={}",
            owned["account"].as_str().expect("id")
        ),
    ] {
        let (status, page) = app.get(path, &stranger).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(page["total"], 0, "{path}: {page}");
    }
    for path in ["/v1/events", "/api/events"] {
        let (status, page) = app.get(path, &stranger).await;
        assert_eq!(
            (status, &page["data"]),
            (StatusCode::OK, &json!([])),
            "{path}"
        );
    }
    let (_, page) = app
        .get(
            &format!(
                "/v1/accounts?client_id={}",
                owned["client"].as_str().expect("id")
            ),
            &stranger,
        )
        .await;
    assert_eq!(page["total"], 0);
    // Importing the same account number in another organization makes a separate account.
    let (status, theirs) = app
        .post("/v1/import", &stranger, sample_document("OWNED-1"))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_ne!(theirs["account"]["id"], owned["account"]);
}
