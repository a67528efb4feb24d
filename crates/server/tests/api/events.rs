use crate::helpers::{assert_error, sample_document, send, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn types(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|e| e["type"].as_str().expect("type").to_owned())
        .collect()
}

#[tokio::test]
async fn account_changes_are_recorded_with_the_change_and_shown_on_both_faces() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let imported = app.import(&org, sample_document("A-1")).await;
    app.import(&org, sample_document("A-1")).await;
    app.import(&org, sample_document("A-2")).await;
    let (_, list) = app.get("/v1/events", &org).await;
    assert_eq!(
        list["data"],
        json!([]),
        "creating and re-importing unchanged accounts records nothing"
    );

    let id = imported["account"]["id"].as_str().expect("id").to_owned();
    assert_eq!(
        app.patch(
            &format!("/v1/accounts/{id}"),
            &org,
            json!({"first_name": "Janet"})
        )
        .await
        .0,
        StatusCode::OK
    );
    let (status, _) = app
        .patch(
            &format!("/v1/accounts/{id}"),
            &org,
            json!({"account_number": "A-2", "first_name": "Nope"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = app
        .post(
            &format!("/v1/accounts/{id}/sub_accounts"),
            &org,
            json!({"reference": "V-3", "original_balance": 4.5}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let mut changed = sample_document("A-1");
    changed["email"] = "janet@example.com".into();
    app.import(&org, changed).await;
    assert_eq!(
        app.call(Method::DELETE, &format!("/v1/accounts/{id}"), &org, None)
            .await
            .0,
        StatusCode::OK
    );

    let (status, list) = app.get("/v1/events", &org).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        types(&list),
        [
            "master_account.changed",
            "master_account.changed",
            "master_account.changed",
            "master_account.deleted"
        ],
        "the refused PATCH recorded nothing"
    );
    assert_eq!(
        (list["object"].as_str(), list["has_more"].as_bool()),
        (Some("list"), Some(false))
    );
    let events = list["data"].as_array().expect("events");
    assert_eq!(events[0]["data"]["first_name"], "Janet");
    assert_eq!(events[0]["data"]["id"], id.as_str());
    assert_eq!(
        events[1]["data"]["balance"], 200.0,
        "125.50 + 70.00 + the new 4.50"
    );
    assert_eq!(events[2]["data"]["email"], "janet@example.com");
    assert_eq!(events[3]["data"]["account_number"], "A-1");
    assert!(
        events[0]["id"]
            .as_str()
            .is_some_and(|e| e.starts_with("evt_"))
    );
    let (status, one) = app
        .get(
            &format!("/v1/events/{}", events[3]["id"].as_str().expect("id")),
            &org,
        )
        .await;
    assert_eq!((status, &one), (StatusCode::OK, &events[3]));

    // The ISO Amp face, with the API key sent bare as seed 001 does.
    let key = org.creds.api_key.expose();
    let (status, iso) = send(
        app.http
            .get(format!("{}/api/events", app.base))
            .header("Authorization", key),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{iso}");
    let keys: Vec<&str> = iso
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["data", "hasMore", "object"]);
    assert_eq!(
        (iso["object"].as_str(), iso["hasMore"].as_bool()),
        (Some("list"), Some(false))
    );
    let first = &iso["data"][0];
    let keys: Vec<&str> = first
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["data", "id", "object", "time", "type"]);
    let uuid = first["id"].as_str().expect("id");
    assert_eq!(uuid.len(), 36, "a bare hyphenated UUID: {uuid}");
    assert_eq!(
        uuid.replace('-', ""),
        events[0]["id"].as_str().expect("id")["evt_".len()..],
        "the same event on both faces"
    );
    assert_eq!(
        (first["object"].as_str(), first["type"].as_str()),
        (Some("event"), Some("master_account.changed"))
    );
    assert!(
        first["time"].as_i64().is_some_and(|t| t > 1_700_000_000),
        "Unix seconds"
    );
    assert_eq!(first["data"], events[0]["data"]);
    let text = app.get_text("/api/events", &org).await;
    assert!(
        text.starts_with(r#"{"object":"list","hasMore":false,"data":[{"id":""#),
        "the seed's field order: {text}"
    );
    assert!(text.contains(&format!(r#"{{"id":"{uuid}","object":"event","time":"#)));
    let (status, single) = send(
        app.http
            .get(format!("{}/api/events/{uuid}", app.base))
            .header("Authorization", key),
    )
    .await;
    assert_eq!((status, &single), (StatusCode::OK, first));
}

#[tokio::test]
async fn events_page_with_cursors_and_filter_by_time_and_type() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let imported = app.import(&org, sample_document("A-1")).await;
    let id = imported["account"]["id"].as_str().expect("id").to_owned();
    for n in 0..30 {
        if n == 20 {
            app.clock.advance(chrono::Duration::minutes(30));
        }
        assert_eq!(
            app.patch(
                &format!("/v1/accounts/{id}"),
                &org,
                json!({"first_name": format!("N{n}")})
            )
            .await
            .0,
            StatusCode::OK
        );
    }
    let key = org.creds.api_key.expose();
    let iso = |query: String| {
        send(
            app.http
                .get(format!("{}/api/events{query}", app.base))
                .header("Authorization", key),
        )
    };
    let (_, page1) = iso(String::new()).await;
    assert_eq!(
        (
            page1["data"].as_array().map(Vec::len),
            page1["hasMore"].as_bool()
        ),
        (Some(25), Some(true)),
        "25 by default"
    );
    let last = page1["data"][24]["id"].as_str().expect("id");
    let (_, page2) = iso(format!("?startAfterId={last}")).await;
    assert_eq!(
        (
            page2["data"].as_array().map(Vec::len),
            page2["hasMore"].as_bool()
        ),
        (Some(5), Some(false))
    );
    assert_eq!(page2["data"][0]["data"]["first_name"], "N25");
    let hour_mark = page1["data"][20]["time"].as_i64().expect("time");
    let (_, recent) = iso(format!("?startTime={hour_mark}&limit=100")).await;
    assert_eq!(
        recent["data"].as_array().map(Vec::len),
        Some(10),
        "only the events of the last half hour"
    );

    let (_, v1) = app.get("/v1/events?limit=10", &org).await;
    assert_eq!(
        (
            v1["data"].as_array().map(Vec::len),
            v1["has_more"].as_bool()
        ),
        (Some(10), Some(true))
    );
    let after = v1["data"][9]["id"].as_str().expect("id");
    let (_, next) = app
        .get(&format!("/v1/events?limit=10&starting_after={after}"), &org)
        .await;
    assert_eq!(next["data"][0]["data"]["first_name"], "N10");
    let since = v1["data"][0]["created_at"]
        .as_str()
        .expect("time")
        .to_owned();
    let (_, all) = app
        .get(
            &format!("/v1/events?limit=100&type=master_account.changed&since={since}"),
            &org,
        )
        .await;
    assert_eq!(all["data"].as_array().map(Vec::len), Some(30));
    let (_, none) = app
        .get("/v1/events?type=master_account.deleted", &org)
        .await;
    assert_eq!(none["data"], json!([]));
}

#[tokio::test]
async fn bad_event_queries_are_400_naming_the_parameter() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let key = org.creds.api_key.expose();
    for (query, param) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("startTime=yesterday", "startTime"),
        ("startAfterId=nope", "startAfterId"),
    ] {
        let (status, body) = send(
            app.http
                .get(format!("{}/api/events?{query}", app.base))
                .header("Authorization", key),
        )
        .await;
        assert_error(status, &body, "BadRequest", 400);
        assert_eq!(body["param"], param, "{query}");
    }
    for (query, param) in [
        ("type=payment.exploded", "type"),
        ("starting_after=evt_x", "starting_after"),
        ("since=monday", "since"),
        ("limit=500", "limit"),
    ] {
        let (status, body) = app.get(&format!("/v1/events?{query}"), &org).await;
        assert_error(status, &body, "BadRequest", 400);
        assert_eq!(body["param"], param, "{query}");
    }
    let (status, body) = send(
        app.http
            .get(format!("{}/api/events/not-a-uuid", app.base))
            .header("Authorization", key),
    )
    .await;
    assert_error(status, &body, "NotFound", 404);
}

#[tokio::test]
async fn a_bulk_import_records_a_change_for_each_existing_account_it_changes() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    app.import(&org, sample_document("A-1")).await;
    let csv = "account_number,reference,original_balance\nA-1,V-1,125.50\nA-1,V-9,1\nB-1,V-1,2\n";
    let job = app.bulk_import(&org, "text/csv", csv).await;
    assert_eq!(job["status"], "completed", "{job}");
    let (_, list) = app.get("/v1/events", &org).await;
    assert_eq!(
        types(&list),
        ["master_account.changed"],
        "A-1 gained V-9; B-1 is new"
    );
    assert_eq!(list["data"][0]["data"]["account_number"], "A-1");
}
