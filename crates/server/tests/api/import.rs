use crate::helpers::{assert_error, sample_document, spawn_app};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn importing_creates_then_says_unchanged_then_updates() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let (status, text) = app
        .post_text("/v1/import", &org, &sample_document("A-1001"))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{text}");
    assert!(
        text.contains(r#""original_balance":125.50"#),
        "125.5 on input, 125.50 on output: {text}"
    );
    assert!(
        text.contains(r#""original_balance":74.50,"balance":70.00"#),
        "\"74.50\" and \"70.00\" as strings on input"
    );
    assert!(text.contains(r#""balance":195.50"#));
    let first: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(first["result"], "created");
    assert!(
        first["account"]["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("acct_"))
    );

    let (status, second) = app
        .post("/v1/import", &org, sample_document("A-1001"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        second["result"], "unchanged",
        "the same document twice changes nothing"
    );
    assert_eq!(second["account"], first["account"], "not even updated_at");
    assert_eq!(second["sub_accounts"], first["sub_accounts"]);

    let mut changed = sample_document("A-1001");
    changed["email"] = "jane@new.example".into();
    changed["sub_accounts"][1]["balance"] = "60.25".into();
    changed["sub_accounts"]
        .as_array_mut()
        .expect("array")
        .push(json!({"reference": "V-3", "original_balance": 5}));
    let (status, text) = app.post_text("/v1/import", &org, &changed).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        text.contains(r#""balance":190.75"#),
        "125.50 + 60.25 + 5.00: {text}"
    );
    let third: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(third["result"], "updated");
    assert_eq!(third["account"]["id"], first["account"]["id"]);
    assert_eq!(third["account"]["email"], "jane@new.example");

    let (_, clients) = app.get("/v1/clients", &org).await;
    assert_eq!(clients["total"], 1, "C-1 was created once and reused");
    assert_eq!(clients["data"][0]["name"], "Mercy Hospital");
}

#[tokio::test]
async fn import_validation_names_the_field_and_writes_nothing() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let cases = [
        (
            json!({"account_number": "A-1", "sub_accounts": []}),
            "sub_accounts",
        ),
        (
            json!({"account_number": " ", "sub_accounts": [{"reference": "V", "original_balance": 1}]}),
            "account_number",
        ),
        (
            json!({"account_number": "A-1", "currency": "XYZ", "sub_accounts": [{"reference": "V", "original_balance": 1}]}),
            "currency",
        ),
        (
            json!({"account_number": "A-1", "sub_accounts": [{"reference": "V", "original_balance": 1.234}]}),
            "sub_accounts[0].original_balance",
        ),
        (
            json!({"account_number": "A-1", "sub_accounts": [{"reference": "V", "original_balance": "12,50"}]}),
            "sub_accounts[0].original_balance",
        ),
        (
            json!({"account_number": "A-1", "sub_accounts": [{"reference": "V", "original_balance": 1, "balance": -2}]}),
            "sub_accounts[0].balance",
        ),
        (
            json!({"account_number": "A-1", "sub_accounts": [{"reference": "V", "original_balance": 1}, {"reference": "V", "original_balance": 2}]}),
            "sub_accounts[1].reference",
        ),
        (
            json!({"account_number": "A-1", "date_of_birth": "1980-02-30", "sub_accounts": [{"reference": "V", "original_balance": 1}]}),
            "date_of_birth",
        ),
        (
            json!({"account_number": "A-1", "sub_accounts": [{"reference": "V", "original_balance": 1, "status": "paid?"}]}),
            "sub_accounts[0].status",
        ),
    ];
    for (doc, param) in cases {
        let (status, body) = app.post("/v1/import", &org, doc.clone()).await;
        assert_error(status, &body, "UnprocessableEntity", 422);
        assert_eq!(body["param"], param, "{doc}");
    }
    assert_eq!(app.get("/v1/accounts", &org).await.1["total"], 0);
    assert_eq!(app.get("/v1/clients", &org).await.1["total"], 0);
}

#[tokio::test]
async fn a_document_in_another_currency_than_its_account_is_refused_whole() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    app.import(&org, sample_document("A-1")).await;
    let doc = json!({"account_number": "A-1", "currency": "EUR", "sub_accounts": [{"reference": "V-9", "client_number": "NEW", "original_balance": 1}]});
    let (status, body) = app.post("/v1/import", &org, doc).await;
    assert_error(status, &body, "UnprocessableEntity", 422);
    assert_eq!(body["param"], "currency");
    assert_eq!(
        app.get("/v1/clients", &org).await.1["total"],
        1,
        "the client it named was not created"
    );
    let yen = json!({"account_number": "Y-1", "currency": "JPY", "sub_accounts": [{"reference": "V", "original_balance": 500}]});
    let (status, body) = app.post("/v1/import", &org, yen).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(body["account"]["balance"], 500, "yen have no decimals");
}

#[tokio::test]
async fn concurrent_imports_of_one_new_account_create_it_once() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let request = app
            .request(reqwest::Method::POST, "/v1/import", &org)
            .json(&sample_document("A-RACE"));
        tasks.push(tokio::spawn(async move {
            request.send().await.expect("send").status()
        }));
    }
    let mut created = 0;
    for task in tasks {
        let status = task.await.expect("task");
        assert!(status.is_success(), "{status}");
        if status == StatusCode::CREATED {
            created += 1;
        }
    }
    assert_eq!(created, 1, "exactly one request created the account");
    let (_, list) = app.get("/v1/accounts", &org).await;
    assert_eq!(list["total"], 1);
    assert!(
        app.get_text("/v1/accounts", &org)
            .await
            .contains(r#""balance":195.50"#),
        "the balance counts each sub-account once"
    );
    let id = list["data"][0]["id"].as_str().expect("id");
    assert_eq!(
        app.get(&format!("/v1/accounts/{id}/sub_accounts"), &org)
            .await
            .1["total"],
        2
    );
    assert_eq!(app.get("/v1/clients", &org).await.1["total"], 1);
}
