use crate::helpers::{assert_error, sample_document, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn accounts_list_with_filters_and_pages() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    for i in 0..55 {
        let mut doc = sample_document(&format!("A-{i:03}"));
        doc["last_name"] = if i % 5 == 0 {
            "Smith".into()
        } else {
            "Doe".into()
        };
        if i == 7 {
            doc["status"] = "closed".into();
            doc["sub_accounts"][0]["client_number"] = "C-OTHER".into();
            doc["sub_accounts"][1]["client_number"] = "C-OTHER".into();
        }
        app.import(&org, doc).await;
    }
    let (status, page1) = app.get("/v1/accounts", &org).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (page1["total"].as_i64(), page1["total_pages"].as_i64()),
        (Some(55), Some(2))
    );
    assert_eq!(page1["data"][0]["account_number"], "A-000");
    let (_, page2) = app.get("/v1/accounts?current_page=2", &org).await;
    assert_eq!(page2["data"].as_array().map(Vec::len), Some(5));
    let (_, page9) = app.get("/v1/accounts?current_page=9", &org).await;
    assert_eq!(page9["data"], json!([]), "past the end is an empty page");

    let count = |v: &Value| v["total"].as_i64();
    assert_eq!(
        count(&app.get("/v1/accounts?last_name=smith", &org).await.1),
        Some(11)
    );
    assert_eq!(
        count(&app.get("/v1/accounts?account_number=A-042", &org).await.1),
        Some(1)
    );
    assert_eq!(
        count(&app.get("/v1/accounts?status=closed", &org).await.1),
        Some(1)
    );
    let (_, other) = app.get("/v1/clients", &org).await;
    let other_client = other["data"]
        .as_array()
        .expect("list")
        .iter()
        .find(|c| c["client_number"] == "C-OTHER")
        .expect("client")["id"]
        .clone();
    let (_, by_client) = app
        .get(
            &format!(
                "/v1/accounts?client_id={}",
                other_client.as_str().expect("id")
            ),
            &org,
        )
        .await;
    assert_eq!(by_client["total"], 1);
    assert_eq!(by_client["data"][0]["account_number"], "A-007");
    let (status, body) = app.get("/v1/accounts?status=sleeping", &org).await;
    assert_error(status, &body, "BadRequest", 400);
    assert_eq!(body["param"], "status");
}

#[tokio::test]
async fn an_account_reads_back_updates_and_deletes() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let imported = app.import(&org, sample_document("A-1")).await;
    let id = imported["account"]["id"].as_str().expect("id").to_owned();
    let (status, account) = app.get(&format!("/v1/accounts/{id}"), &org).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        app.get_text(&format!("/v1/accounts/{id}"), &org)
            .await
            .contains(r#""balance":195.50"#),
        "125.50 + 70.00, written with the currency's decimals"
    );
    assert_eq!(account["date_of_birth"], "1980-02-03");
    assert_eq!(account["address"]["city"], "Reno");
    assert!(
        account["created_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z')),
        "datetimes are UTC"
    );

    let (status, updated) = app
        .patch(&format!("/v1/accounts/{id}"), &org, json!({"phone": null, "last_name": "Park", "address": {"city": "Sparks"}, "status": "inactive"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["phone"], Value::Null);
    assert_eq!(updated["last_name"], "Park");
    assert_eq!(updated["address"]["city"], "Sparks");
    assert_eq!(
        updated["address"]["line1"], "1 Main St",
        "address fields left out stay"
    );
    assert_eq!(updated["status"], "inactive");
    assert_eq!(updated["balance"], account["balance"]);

    for (body, param) in [
        (json!({"email": "nope"}), "email"),
        (json!({"date_of_birth": "1980-13-01"}), "date_of_birth"),
        (json!({"status": "asleep"}), "status"),
        (json!({"account_number": ""}), "account_number"),
    ] {
        let (status, answer) = app.patch(&format!("/v1/accounts/{id}"), &org, body).await;
        assert_error(status, &answer, "UnprocessableEntity", 422);
        assert_eq!(answer["param"], param);
    }
    app.import(&org, sample_document("A-2")).await;
    let (status, answer) = app
        .patch(
            &format!("/v1/accounts/{id}"),
            &org,
            json!({"account_number": "A-2"}),
        )
        .await;
    assert_error(status, &answer, "Conflict", 409);

    let (status, deleted) = app
        .call(
            reqwest::Method::DELETE,
            &format!("/v1/accounts/{id}"),
            &org,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(deleted, json!({"id": id, "deleted": true}));
    let (status, body) = app.get(&format!("/v1/accounts/{id}"), &org).await;
    assert_error(status, &body, "NotFound", 404);
    let sub = imported["sub_accounts"][0]["id"].as_str().expect("sub id");
    assert_eq!(
        app.get(&format!("/v1/sub_accounts/{sub}"), &org).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.get("/v1/accounts", &org).await.1["total"], 1);
}

#[tokio::test]
async fn sub_accounts_are_added_listed_and_updated_and_the_balance_follows() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let imported = app.import(&org, sample_document("A-1")).await;
    let id = imported["account"]["id"].as_str().expect("id").to_owned();
    let (_, client) = app
        .post(
            "/v1/clients",
            &org,
            json!({"client_number": "C-9", "name": "Lab"}),
        )
        .await;
    let (status, sub) = app
        .post(
            &format!("/v1/accounts/{id}/sub_accounts"),
            &org,
            json!({"reference": "V-3", "client_id": client["id"], "original_balance": "10.05", "placement_date": "2026-03-01", "description": "lab work"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{sub}");
    assert_eq!(sub["balance"].to_string(), "10.05");
    assert_eq!(sub["currency"], "USD");
    let (_, account) = app.get(&format!("/v1/accounts/{id}"), &org).await;
    assert_eq!(account["balance"].to_string(), "205.55");

    let (_, list) = app
        .get(&format!("/v1/accounts/{id}/sub_accounts"), &org)
        .await;
    assert_eq!(list["total"], 3);
    assert_eq!(list["data"][2]["reference"], "V-3");

    let sub_id = sub["id"].as_str().expect("id");
    let (status, patched) = app
        .patch(
            &format!("/v1/sub_accounts/{sub_id}"),
            &org,
            json!({"status": "disputed", "description": null, "client_id": null}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(
        (
            patched["status"].as_str(),
            &patched["description"],
            &patched["client_id"]
        ),
        (Some("disputed"), &Value::Null, &Value::Null)
    );
    let (_, fetched) = app.get(&format!("/v1/sub_accounts/{sub_id}"), &org).await;
    assert_eq!(fetched, patched);

    let (status, body) = app
        .post(
            &format!("/v1/accounts/{id}/sub_accounts"),
            &org,
            json!({"reference": "V-3", "original_balance": 1}),
        )
        .await;
    assert_error(status, &body, "Conflict", 409);
    assert_eq!(body["param"], "reference");
    for (body, param) in [
        (
            json!({"reference": "V-4", "original_balance": -1}),
            "original_balance",
        ),
        (
            json!({"reference": "V-4", "original_balance": 1.001}),
            "original_balance",
        ),
        (
            json!({"reference": "V-4", "original_balance": 1, "currency": "EUR"}),
            "currency",
        ),
        (
            json!({"reference": "V-4", "original_balance": 1, "client_id": "cli_00000000000000000000000000000000"}),
            "client_id",
        ),
        (
            json!({"reference": "V-4", "original_balance": 1, "service_date": "yesterday"}),
            "service_date",
        ),
    ] {
        let (status, answer) = app
            .post(&format!("/v1/accounts/{id}/sub_accounts"), &org, body)
            .await;
        assert_error(status, &answer, "UnprocessableEntity", 422);
        assert_eq!(answer["param"], param);
    }
    let (_, account) = app.get(&format!("/v1/accounts/{id}"), &org).await;
    assert_eq!(
        account["balance"].to_string(),
        "205.55",
        "refused writes change nothing"
    );
}

#[tokio::test]
async fn another_organizations_client_cannot_be_attached() {
    let app = spawn_app().await;
    let acme = app.org("acme").await;
    let globex = app.org("globex").await;
    let (_, theirs) = app
        .post(
            "/v1/clients",
            &globex,
            json!({"client_number": "G-1", "name": "theirs"}),
        )
        .await;
    let imported = app.import(&acme, sample_document("A-1")).await;
    let id = imported["account"]["id"].as_str().expect("id");
    let (status, body) = app
        .post(
            &format!("/v1/accounts/{id}/sub_accounts"),
            &acme,
            json!({"reference": "V-9", "original_balance": 1, "client_id": theirs["id"]}),
        )
        .await;
    assert_error(status, &body, "UnprocessableEntity", 422);
    assert_eq!(body["param"], "client_id");
    let sub = imported["sub_accounts"][0]["id"].as_str().expect("sub");
    let (status, body) = app
        .patch(
            &format!("/v1/sub_accounts/{sub}"),
            &acme,
            json!({"client_id": theirs["id"]}),
        )
        .await;
    assert_error(status, &body, "UnprocessableEntity", 422);
}
