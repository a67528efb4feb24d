use crate::helpers::{assert_error, spawn_app};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn create_retrieve_update_and_list_clients() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let (status, created) =
        app.post("/v1/clients", &org, json!({"client_number": "C-1", "name": "Mercy Hospital", "email": "billing@mercy.example"})).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().expect("id");
    assert!(id.starts_with("cli_"));
    assert_eq!(created["status"], "active");

    let (status, fetched) = app.get(&format!("/v1/clients/{id}"), &org).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(fetched, created);

    let (status, updated) = app
        .patch(
            &format!("/v1/clients/{id}"),
            &org,
            json!({"name": "Mercy General", "email": null, "status": "inactive"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["name"], "Mercy General");
    assert_eq!(updated["email"], serde_json::Value::Null, "null clears");
    assert_eq!(updated["client_number"], "C-1", "fields left out stay");
    assert_eq!(updated["status"], "inactive");

    for n in 2..=52 {
        let (status, _) = app
            .post(
                "/v1/clients",
                &org,
                json!({"client_number": format!("C-{n}"), "name": "x"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let (_, page1) = app.get("/v1/clients", &org).await;
    assert_eq!(
        (
            page1["total"].as_i64(),
            page1["per_page"].as_i64(),
            page1["total_pages"].as_i64()
        ),
        (Some(52), Some(50), Some(2))
    );
    assert_eq!(page1["data"].as_array().map(Vec::len), Some(50));
    assert_eq!(page1["data"][0]["client_number"], "C-1", "oldest first");
    let (_, page2) = app.get("/v1/clients?current_page=2", &org).await;
    assert_eq!(page2["current_page"], 2);
    assert_eq!(page2["data"].as_array().map(Vec::len), Some(2));
    let (status, body) = app.get("/v1/clients?current_page=zero", &org).await;
    assert_error(status, &body, "BadRequest", 400);
    assert_eq!(body["param"], "current_page");
}

#[tokio::test]
async fn client_numbers_are_unique_per_organization() {
    let app = spawn_app().await;
    let acme = app.org("acme").await;
    let globex = app.org("globex").await;
    assert_eq!(
        app.post(
            "/v1/clients",
            &acme,
            json!({"client_number": "C-1", "name": "a"})
        )
        .await
        .0,
        StatusCode::CREATED
    );
    let (status, body) = app
        .post(
            "/v1/clients",
            &acme,
            json!({"client_number": "C-1", "name": "b"}),
        )
        .await;
    assert_error(status, &body, "Conflict", 409);
    assert_eq!(body["param"], "client_number");
    assert_eq!(
        app.post(
            "/v1/clients",
            &globex,
            json!({"client_number": "C-1", "name": "c"})
        )
        .await
        .0,
        StatusCode::CREATED
    );

    let (_, second) = app
        .post(
            "/v1/clients",
            &acme,
            json!({"client_number": "C-2", "name": "d"}),
        )
        .await;
    let (status, body) = app
        .patch(
            &format!("/v1/clients/{}", second["id"].as_str().expect("id")),
            &acme,
            json!({"client_number": "C-1"}),
        )
        .await;
    assert_error(status, &body, "Conflict", 409);
}

#[tokio::test]
async fn client_validation_names_the_field() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    for (body, param) in [
        (json!({"client_number": "", "name": "x"}), "client_number"),
        (json!({"client_number": "C", "name": " "}), "name"),
        (
            json!({"client_number": "C", "name": "x", "email": "nope"}),
            "email",
        ),
        (
            json!({"client_number": "C", "name": "x", "status": "gone"}),
            "status",
        ),
        (
            json!({"client_number": "C".repeat(65), "name": "x"}),
            "client_number",
        ),
    ] {
        let (status, answer) = app.post("/v1/clients", &org, body).await;
        assert_error(status, &answer, "UnprocessableEntity", 422);
        assert_eq!(answer["param"], param);
    }
}
