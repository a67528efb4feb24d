//! `Idempotency-Key`: replays, mismatches, concurrency, scope, expiry and resuming after a
//! request's process stopped; and no card number in anything Quittance keeps.

use crate::helpers::{Org, TestApp, spawn_app};
use crate::payments::{VISA, account_with_debts, card, save_card};
use quittance_store::repo::{idempotency, sandbox};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn post_with_key(
    app: &TestApp,
    org: &Org,
    key: &str,
    body: &Value,
) -> (StatusCode, Option<String>, String) {
    let response = app
        .request(Method::POST, "/v1/payments", org)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .expect("request");
    let replayed = response
        .headers()
        .get("Idempotent-Replayed")
        .map(|v| v.to_str().expect("ascii").to_owned());
    (
        response.status(),
        replayed,
        response.text().await.expect("body"),
    )
}

async fn payment_count(app: &TestApp, org: &Org) -> i64 {
    app.get("/v1/payments", org).await.1["total"]
        .as_i64()
        .expect("total")
}

async fn authorizations(app: &TestApp) -> (i64, i64) {
    let tally = app
        .state
        .db
        .read(|tx| Box::pin(async move { sandbox::tally(tx).await }))
        .await
        .expect("tally");
    tally
        .iter()
        .find(|(op, _, _)| op == "authorization")
        .map_or((0, 0), |(_, refs, calls)| (*refs, *calls))
}

#[tokio::test]
async fn a_replay_is_byte_for_byte_and_moves_no_money() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let (account, _) = account_with_debts(&app, &org, "A-1").await;
    let method = save_card(&app, &org, &account, VISA).await;
    let body = json!({"account_id": account, "amount": "12.34", "payment_method_id": method});
    let (status, replayed, first) = post_with_key(&app, &org, "order-1", &body).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(replayed, None);
    for _ in 0..4 {
        let (status, replayed, again) = post_with_key(&app, &org, "order-1", &body).await;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(replayed.as_deref(), Some("true"));
        assert_eq!(again, first, "byte for byte");
    }
    assert_eq!(payment_count(&app, &org).await, 1);
    assert_eq!(authorizations(&app).await, (1, 1), "one processor call");

    // The same key with another body: 422, naming the header.
    let mut other = body.clone();
    other["amount"] = json!("12.35");
    let (status, _, error) = post_with_key(&app, &org, "order-1", &other).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(error.contains(r#""param":"Idempotency-Key""#), "{error}");
    // Another path with the same key is another scope.
    let response = app
        .request(
            Method::POST,
            &format!("/v1/accounts/{account}/sub_accounts"),
            &org,
        )
        .header("Idempotency-Key", "order-1")
        .json(&json!({"reference": "V-9", "original_balance": 5}))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::CREATED);
    // Malformed keys are refused before anything runs.
    for key in ["", &"k".repeat(256)] {
        let (status, _, error) = post_with_key(&app, &org, key, &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{key:?}");
        assert!(error.contains(r#""param":"Idempotency-Key""#));
    }
    assert_eq!(payment_count(&app, &org).await, 1);
}

#[tokio::test]
async fn refusals_are_not_kept_so_a_corrected_retry_runs() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let (account, _) = account_with_debts(&app, &org, "A-1").await;
    let bad = json!({"account_id": account, "amount": "1.001", "card": card(VISA)});
    let (status, _, _) = post_with_key(&app, &org, "retry-me", &bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // Unauthenticated: 401 before the key is looked at.
    let response = app
        .http
        .post(format!("{}/v1/payments", app.base))
        .header("Idempotency-Key", "retry-me")
        .header("Authorization", "Bearer qt_wrong")
        .json(&bad)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let good = json!({"account_id": account, "amount": "1.00", "card": card(VISA)});
    let (status, replayed, _) = post_with_key(&app, &org, "retry-me", &good).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(replayed, None);
}

#[tokio::test]
async fn keys_are_scoped_per_organization_and_expire() {
    let app = spawn_app().await;
    let acme = app.org("acme").await;
    let globex = app.org("globex").await;
    let (a, _) = account_with_debts(&app, &acme, "A-1").await;
    let (g, _) = account_with_debts(&app, &globex, "A-1").await;
    let (s1, _, p1) = post_with_key(
        &app,
        &acme,
        "same",
        &json!({"account_id": a, "amount": "1.00", "card": card(VISA)}),
    )
    .await;
    let (s2, replayed, p2) = post_with_key(
        &app,
        &globex,
        "same",
        &json!({"account_id": g, "amount": "1.00", "card": card(VISA)}),
    )
    .await;
    assert_eq!((s1, s2), (StatusCode::CREATED, StatusCode::CREATED));
    assert_eq!(replayed, None, "no replay across organizations");
    assert_ne!(p1, p2);
    // A day and a second later the key is new again (and the token too).
    app.clock
        .advance(chrono::Duration::hours(24) + chrono::Duration::seconds(1));
    let acme = app.org("acme").await;
    let swept = quittance_services::housekeeping::housekeeping_once(&app.state)
        .await
        .expect("purge");
    assert_eq!(swept.expired_idempotency_keys, 2);
    let (status, replayed, _) = post_with_key(
        &app,
        &acme,
        "same",
        &json!({"account_id": a, "amount": "2.00", "card": card(VISA)}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(replayed, None);
}

#[tokio::test]
async fn fifty_concurrent_requests_with_one_key_make_one_payment() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let (account, _) = account_with_debts(&app, &org, "A-1").await;
    let body = json!({"account_id": account, "amount": "7.00", "card": card(VISA)});
    let answers =
        futures_util::future::join_all((0..50).map(|_| post_with_key(&app, &org, "burst", &body)))
            .await;
    let created: Vec<&String> = answers
        .iter()
        .filter(|(s, _, _)| *s == StatusCode::CREATED)
        .map(|(_, _, b)| b)
        .collect();
    assert!(!created.is_empty());
    assert!(
        created.iter().all(|b| *b == created[0]),
        "every 201 is the same payment"
    );
    assert!(
        answers
            .iter()
            .all(|(s, _, _)| *s == StatusCode::CREATED || *s == StatusCode::CONFLICT),
        "the rest are told the first is still running"
    );
    assert_eq!(payment_count(&app, &org).await, 1);
    assert_eq!(authorizations(&app).await, (1, 1));
}

/// Claims `/v1/payments` under `stored_key` (the key as the database keeps it) for `body`, as
/// a process that then stopped would have: its lease runs 60 s.
async fn claim_as_a_stopped_process(
    app: &TestApp,
    org: &Org,
    stored_key: String,
    body: &Value,
) -> idempotency::Claim {
    let scope = idempotency::KeyScope {
        organization_id: org.creds.organization_id.clone(),
        credential_id: org.creds.credential_id.clone(),
        method: "POST".into(),
        path: "/v1/payments".into(),
        key: stored_key,
    };
    let now = app.clock_now();
    let fingerprint = app.state.hasher.hash_bytes(body.to_string().as_bytes());
    app.state
        .db
        .write(move |tx| {
            Box::pin(async move {
                idempotency::claim(
                    tx,
                    &scope,
                    &fingerprint,
                    now,
                    now + chrono::Duration::seconds(60),
                    now + chrono::Duration::hours(24),
                )
                .await
            })
        })
        .await
        .expect("claim")
}

#[tokio::test]
async fn a_retry_after_the_first_process_stopped_resumes_its_payment() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let (account, _) = account_with_debts(&app, &org, "A-1").await;
    // A process claimed the key and stopped before answering: the lease still runs.
    let body = json!({"account_id": account, "amount": "3.00", "card": card(VISA)});
    let stored = quittance_server::http::idempotency::stored_key(&app.state.hasher, "crashed");
    let claimed = claim_as_a_stopped_process(&app, &org, stored, &body).await;
    assert!(matches!(claimed, idempotency::Claim::Run(_)), "{claimed:?}");
    let (status, _, error) = post_with_key(&app, &org, "crashed", &body).await;
    assert_eq!(status, StatusCode::CONFLICT, "{error}");
    app.clock.advance(chrono::Duration::seconds(61));
    let (status, _, _) = post_with_key(&app, &org, "crashed", &body).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "the lease ran out: the retry runs"
    );
    assert_eq!(payment_count(&app, &org).await, 1);
}

#[tokio::test]
async fn no_card_number_is_kept_anywhere() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let (account, _) = account_with_debts(&app, &org, "A-1").await;
    let numbers = ["4242424242424242", "5555555555554444", "4000000000000002"];
    for (i, number) in numbers.iter().enumerate() {
        let method = save_card(&app, &org, &account, number).await;
        let key = format!("k{i}");
        let (status, _, _) = post_with_key(
            &app,
            &org,
            &key,
            &json!({"account_id": account, "amount": "1.00", "payment_method_id": method}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED);
        let (status, _, _) = post_with_key(
            &app,
            &org,
            &format!("inline-{i}"),
            &json!({"account_id": account, "amount": "1.00", "card": card(number)}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let (status, _, _) = post_with_key(&app, &org, "ach", &json!({"account_id": account, "amount": "1.00", "ach": {"routing_number": "110000000", "account_number": "000123456789", "account_type": "savings", "holder_name": "J"}})).await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, payments) = app.get("/v1/payments", &org).await;
    let first = payments["data"][0]["id"].as_str().expect("id").to_owned();
    app.post(&format!("/v1/payments/{first}/refunds"), &org, json!({}))
        .await;
    // What the database holds, on either backend: every text the API keeps or answers.
    let kept = app
        .state
        .db
        .read(|tx| {
            Box::pin(async move {
                let mut text = String::new();
                for sql in [
                    "SELECT COALESCE(response_body, '') || fingerprint FROM idempotency_keys",
                    "SELECT data FROM events",
                    "SELECT last4 || number_ciphertext FROM payment_methods",
                    "SELECT last4 || COALESCE(processor_reference, '') FROM payments",
                ] {
                    for row in tx.query(sql, &[]).await? {
                        text.push_str(row.str(0)?);
                        text.push('\n');
                    }
                }
                Ok::<_, quittance_store::StoreError>(text)
            })
        })
        .await
        .expect("read");
    assert!(kept.contains("4242"), "the last four are kept");
    let pages = [
        app.get_text("/v1/payments", &org).await,
        app.get_text("/v1/reports/payments", &org).await,
        app.get_text("/v1/events", &org).await,
    ];
    for number in numbers.iter().chain(&["000123456789"]) {
        assert!(!kept.contains(number), "{number} kept in the database");
        for page in &pages {
            assert!(!page.contains(number), "{number} answered");
        }
    }
    // On SQLite the files themselves (database, WAL, shared memory) hold no number either.
    let dir = &app.state.config.data_dir;
    for entry in std::fs::read_dir(dir).expect("data dir") {
        let path = entry.expect("entry").path();
        if path.is_file() {
            let bytes = std::fs::read(&path).expect("read");
            for number in numbers.iter().chain(&["000123456789"]) {
                assert!(
                    !bytes.windows(number.len()).any(|w| w == number.as_bytes()),
                    "{number} found in {}",
                    path.display()
                );
            }
        }
    }
}

#[tokio::test]
async fn an_idempotency_key_is_kept_only_as_a_keyed_hash() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let (account, _) = account_with_debts(&app, &org, "A-1").await;
    let body = json!({"account_id": account, "amount": "10.00", "card": card(VISA)});
    // A client that puts a card number in its key.
    let key = "order-5105105105105100";
    let (status, replayed, first) = post_with_key(&app, &org, key, &body).await;
    assert_eq!((status, replayed), (StatusCode::CREATED, None), "{first}");
    let (status, replayed, again) = post_with_key(&app, &org, key, &body).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(replayed.as_deref(), Some("true"));
    assert_eq!(first, again, "replayed byte for byte");
    assert_eq!(payment_count(&app, &org).await, 1);
    crate::helpers::assert_not_in_database_files(&app, "5105105105105100");
}

#[tokio::test]
async fn a_key_an_older_version_stored_as_sent_is_honoured_until_it_expires() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let (account, _) = account_with_debts(&app, &org, "A-1").await;
    let body = json!({"account_id": account, "amount": "3.00", "card": card(VISA)});
    // As an upgrade finds it: a key kept as sent, its request still running, and the horizon
    // the migration wrote.
    let horizon = quittance_domain::clock::to_micros(app.clock_now() + chrono::Duration::hours(24));
    app.state
        .db
        .write(move |tx| {
            Box::pin(async move {
                tx.execute(
                    "UPDATE idempotency_legacy_horizon SET expires_before = $1",
                    &quittance_store::params![horizon],
                )
                .await
            })
        })
        .await
        .expect("horizon");
    claim_as_a_stopped_process(&app, &org, "legacy-key".into(), &body).await;
    let (status, _, answer) = post_with_key(&app, &org, "legacy-key", &body).await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "the legacy key is found: {answer}"
    );
    assert_eq!(payment_count(&app, &org).await, 0);
    // A key the older version never saw is kept hashed as usual.
    let (status, _, _) = post_with_key(&app, &org, "new-key", &body).await;
    assert_eq!(status, StatusCode::CREATED);
}
