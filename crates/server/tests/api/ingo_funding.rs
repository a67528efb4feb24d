//! IngoPay funding: disbursements to the accounts the hosted page captured, signed, once per
//! idempotency key, in the ledger as their own balanced transactions, and finished by the
//! reconciler when an answer was lost.

use crate::helpers::{TestApp, spawn_app};
use crate::ingo_hosted::{event_types, tokenize};
use crate::ingo_sessions::{Participant, participant};
use crate::payments::assert_ledger_verifies;
use quittance_services::housekeeping::housekeeping_once;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const PATH: &str = "/api/v1/disbursements";

fn card(number: &'static str) -> Vec<(&'static str, &'static str)> {
    vec![
        ("funding_destination", "debit_card"),
        ("card_number", number),
        ("exp_month", "12"),
        ("exp_year", "2031"),
        ("cvv", "123"),
        ("name_on_account", "Jack Frost"),
    ]
}

fn bank(account: &'static str) -> Vec<(&'static str, &'static str)> {
    vec![
        ("funding_destination", "bank_account"),
        ("name_on_account", "Jack Frost"),
        ("routing_number", "110000000"),
        ("account_number", account),
        ("account_number_confirmation", account),
        ("account_type", "checking"),
    ]
}

async fn fund(
    app: &TestApp,
    p: &Participant,
    body: &Value,
    key: Option<&str>,
) -> (StatusCode, Value) {
    p.call(app, Method::POST, PATH, Some(body), key).await
}

async fn read(app: &TestApp, p: &Participant, id: &str) -> (StatusCode, Value) {
    p.call(app, Method::GET, &format!("{PATH}/{id}"), None, None)
        .await
}

/// The `disbursements` ledger account's balance: what was paid out and not returned.
async fn paid_out(app: &TestApp) -> i64 {
    app.state
        .db
        .read(|tx| {
            Box::pin(async move {
                tx.query_one(
                    "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM ledger_entries
                     WHERE account_code = 'disbursements'",
                    &[],
                )
                .await?
                .i64(0)
            })
        })
        .await
        .expect("sum")
}

/// How many disbursements the sandbox saw, and how many calls asked for them.
async fn sandbox_payouts(app: &TestApp) -> (i64, i64) {
    let tally = app
        .state
        .db
        .read(|tx| Box::pin(async move { quittance_store::repo::sandbox::tally(tx).await }))
        .await
        .expect("tally");
    tally
        .iter()
        .find(|(op, _, _)| op == "disbursement")
        .map_or((0, 0), |(_, refs, calls)| (*refs, *calls))
}

#[tokio::test]
async fn a_captured_card_is_funded_once_per_key_with_a_balanced_ledger_transaction() {
    let app = spawn_app().await;
    let p = participant(&app, "fund-card", false).await;
    let token = tokenize(&app, &p, "s1", &card("4242424242424242")).await;
    let body = json!({"customer_account_token": token, "amount": 25.10, "description": "Claim 7"});
    let (status, paid) = fund(&app, &p, &body, Some("payout-1")).await;
    assert_eq!(status, StatusCode::OK, "{paid}");
    assert_eq!(paid["status"], 100);
    assert_eq!(paid["client_message"], "Success");
    let data = &paid["data"];
    let id = data["disbursement_identifier"].as_str().expect("id");
    assert!(id.starts_with("dsb_"), "{id}");
    assert_eq!(data["customer_account_token"], token.as_str());
    assert_eq!(data["funding_destination"], "debit_card");
    assert_eq!(data["status"], "succeeded");
    assert_eq!(data["currency"], "USD");
    assert_eq!(data["description"], "Claim 7");
    assert!(data["failure_code"].is_null());
    // The amount comes back with its cents, never through a float.
    app.clock.advance(chrono::Duration::seconds(1));
    let text = p
        .signed_with(
            &app,
            Method::GET,
            &format!("{PATH}/{id}"),
            b"",
            app.clock_now(),
            p.issued.secret.expose(),
        )
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("text");
    assert!(text.contains("\"amount\":25.10,"), "{text}");

    // The same request again: the same disbursement, nothing paid twice.
    let (status, again) = fund(&app, &p, &body, Some("payout-1")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["status"], 101);
    assert_eq!(again["client_message"], "Success - Idempotent");
    assert_eq!(again["data"]["disbursement_identifier"], id);
    // The key with other parameters: refused, in seed 003's words.
    let other = json!({"customer_account_token": token, "amount": "25.11"});
    let (status, mismatch) = fund(&app, &p, &other, Some("payout-1")).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(mismatch["status"], 13723);
    assert_eq!(
        mismatch["client_message"],
        format!(
            "Idempotency Key payout-1 for ParticipantId {} does not match the original request",
            p.issued.participant.participant_id
        )
    );
    assert_eq!(sandbox_payouts(&app).await, (1, 1));
    assert_eq!(paid_out(&app).await, 2_510);
    assert_ledger_verifies(&app).await;

    let (status, view) = read(&app, &p, id).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(view["data"]["status"], "succeeded");
    let events = event_types(&app, "fund-card").await;
    let (_, event) = events
        .iter()
        .find(|(t, _)| t == "disbursement.succeeded")
        .expect("disbursement.succeeded");
    assert_eq!(event["disbursement_identifier"], id);
    assert!(!event.to_string().contains("4242424242424242"));

    // Twenty at once with a new key: one disbursement.
    let body = json!({"customer_account_token": token, "amount": "5.00"});
    let bytes = serde_json::to_vec(&body).expect("json");
    let now = app.clock_now();
    let mut racing = Vec::new();
    for i in 0..20 {
        let request = p
            .signed_with(
                &app,
                Method::POST,
                PATH,
                &bytes,
                now - chrono::Duration::seconds(i),
                p.issued.secret.expose(),
            )
            .header("Idempotency-Key", "race");
        racing.push(tokio::spawn(crate::ingo_sessions::envelope(request)));
    }
    let mut ids = std::collections::BTreeSet::new();
    for r in racing {
        let (status, body) = r.await.expect("joined");
        assert_eq!(status, StatusCode::OK, "{body}");
        ids.insert(body["data"]["disbursement_identifier"].to_string());
    }
    assert_eq!(ids.len(), 1);
    assert_eq!(sandbox_payouts(&app).await.0, 2);
    assert_eq!(paid_out(&app).await, 3_010);
    assert_ledger_verifies(&app).await;
}

#[tokio::test]
async fn refused_and_returned_payouts_follow_the_sandbox_test_accounts() {
    let app = spawn_app().await;
    let p = participant(&app, "fund-outcomes", false).await;
    let refused = tokenize(&app, &p, "s1", &card("4000000000009995")).await;
    let (status, body) = fund(
        &app,
        &p,
        &json!({"customer_account_token": refused, "amount": "10.00"}),
        Some("refused"),
    )
    .await;
    assert_eq!(status, StatusCode::PAYMENT_REQUIRED, "{body}");
    assert_eq!(body["status"], 13402);
    assert_eq!(body["developer_message"], "funding_refused");
    assert_eq!(body["data"]["status"], "failed");
    assert_eq!(body["data"]["failure_code"], "insufficient_funds");
    assert_eq!(paid_out(&app).await, 0);

    let returned = tokenize(&app, &p, "s2", &bank("000222222227")).await;
    let kept = tokenize(&app, &p, "s3", &bank("000123456789")).await;
    let mut ids = Vec::new();
    for (token, key) in [(&returned, "r"), (&kept, "k")] {
        let (status, body) = fund(
            &app,
            &p,
            &json!({"customer_account_token": token, "amount": "40.00"}),
            Some(key),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["funding_destination"], "bank_account");
        ids.push(
            body["data"]["disbursement_identifier"]
                .as_str()
                .expect("id")
                .to_owned(),
        );
    }
    assert_eq!(paid_out(&app).await, 8_000);
    // Inside the return window nothing is checked; past it, the return comes back.
    let early = housekeeping_once(&app.state).await.expect("housekeeping");
    assert_eq!(early.disbursements.checked, 0);
    app.clock
        .advance(chrono::Duration::days(1) + chrono::Duration::minutes(1));
    let late = housekeeping_once(&app.state).await.expect("housekeeping");
    assert_eq!(late.disbursements.checked, 2);
    let (_, back) = read(&app, &p, &ids[0]).await;
    assert_eq!(back["data"]["status"], "returned");
    assert_eq!(back["data"]["failure_code"], "R01");
    let (_, still) = read(&app, &p, &ids[1]).await;
    assert_eq!(still["data"]["status"], "succeeded");
    assert_eq!(paid_out(&app).await, 4_000);
    let again = housekeeping_once(&app.state).await.expect("housekeeping");
    assert_eq!(again.disbursements.checked, 0, "a window is closed once");
    assert_ledger_verifies(&app).await;

    let types: Vec<String> = event_types(&app, "fund-outcomes")
        .await
        .into_iter()
        .map(|(t, _)| t)
        .filter(|t| t.starts_with("disbursement."))
        .collect();
    for wanted in [
        "disbursement.failed",
        "disbursement.succeeded",
        "disbursement.returned",
    ] {
        assert!(types.iter().any(|t| t == wanted), "{wanted}: {types:?}");
    }
    assert_eq!(types.len(), 4, "{types:?}");
}

#[tokio::test]
async fn a_lost_answer_stays_pending_until_the_reconciler_learns_it() {
    let app = spawn_app().await;
    let p = participant(&app, "fund-timeout", false).await;
    let token = tokenize(&app, &p, "s1", &card("4000000000000408")).await;
    let body = json!({"customer_account_token": token, "amount": "12.00"});
    let (status, pending) = fund(&app, &p, &body, Some("slow")).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{pending}");
    assert_eq!(pending["status"], 102);
    assert_eq!(pending["data"]["status"], "pending");
    let id = pending["data"]["disbursement_identifier"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(paid_out(&app).await, 0);
    // Too early for the reconciler.
    let early = housekeeping_once(&app.state).await.expect("housekeeping");
    assert_eq!(early.disbursements.resolved, 0);
    app.clock.advance(chrono::Duration::seconds(61));
    let late = housekeeping_once(&app.state).await.expect("housekeeping");
    assert_eq!(late.disbursements.resolved, 1);
    let (_, view) = read(&app, &p, &id).await;
    assert_eq!(view["data"]["status"], "succeeded");
    // A retry with the key finds it paid: the sandbox paid once, asked twice at most.
    let (status, again) = fund(&app, &p, &body, Some("slow")).await;
    assert_eq!(
        (status, again["status"].as_i64()),
        (StatusCode::OK, Some(101))
    );
    assert_eq!(sandbox_payouts(&app).await.0, 1);
    assert_eq!(paid_out(&app).await, 1_200);

    // A process that stopped after writing a disbursement and before asking: the processor
    // never saw it, so the reconciler fails it and nothing is paid.
    let written = {
        let (status, body) = fund(
            &app,
            &p,
            &json!({"customer_account_token": token, "amount": "1.00"}),
            Some("crash"),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::ACCEPTED,
            "the timeout card again: {body}"
        );
        body["data"]["disbursement_identifier"]
            .as_str()
            .expect("id")
            .to_owned()
    };
    app.state
        .db
        .write(move |tx| {
            Box::pin(async move {
                tx.execute(
                    "DELETE FROM sandbox_operations WHERE reference = $1",
                    &quittance_store::params![written.as_str()],
                )
                .await
            })
        })
        .await
        .expect("forget");
    app.clock.advance(chrono::Duration::seconds(61));
    let swept = housekeeping_once(&app.state).await.expect("housekeeping");
    assert_eq!(swept.disbursements.resolved, 1);
    assert_eq!(paid_out(&app).await, 1_200);
    assert_ledger_verifies(&app).await;
}

#[tokio::test]
async fn funding_is_signed_validated_and_scoped_to_the_participant() {
    let app = spawn_app().await;
    let p = participant(&app, "fund-scope", false).await;
    let token = tokenize(&app, &p, "s1", &card("4242424242424242")).await;

    let unsigned = app
        .http
        .post(format!("{}{PATH}", app.base))
        .json(&json!({"customer_account_token": token, "amount": "1.00"}))
        .send()
        .await
        .expect("send");
    assert_eq!(unsigned.status(), StatusCode::UNAUTHORIZED);

    let (status, invalid) = fund(
        &app,
        &p,
        &json!({"amount": "1.005", "currency": "CAD"}),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(invalid["status"], 13400);
    assert_eq!(invalid["developer_message"], "invalid_request_fields");
    for field in ["customer_account_token", "amount", "currency"] {
        assert!(invalid["data"][field].is_array(), "{field}: {invalid}");
    }

    // Another participant neither uses the token nor reads the disbursement.
    let q = participant(&app, "fund-scope-2", false).await;
    let (status, theirs) = fund(
        &app,
        &q,
        &json!({"customer_account_token": token, "amount": "1.00"}),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        theirs["data"]["customer_account_token"][0],
        "The CustomerAccountToken field does not name an account of this participant."
    );
    // Keys are kept only as keyed hashes, even one with a card number in it.
    let (_, mine) = fund(
        &app,
        &p,
        &json!({"customer_account_token": token, "amount": "1.00"}),
        Some("payout-5105105105105100"),
    )
    .await;
    crate::helpers::assert_not_in_database_files(&app, "5105105105105100");
    let id = mine["data"]["disbursement_identifier"]
        .as_str()
        .expect("id");
    let (status, hidden) = read(&app, &q, id).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(hidden["status"], 13404);
    assert_eq!(hidden["client_message"], "Disbursement not found");
    assert_eq!(sandbox_payouts(&app).await, (1, 1));
}
