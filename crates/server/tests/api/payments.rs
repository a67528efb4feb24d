//! Payment methods, payments, refunds, settlement, the sandbox's test numbers, the ledger and
//! the payments report, through the API as an integrator calls it.

use crate::helpers::{Org, TestApp, sample_document, spawn_app};
use quittance_domain::Clock as _;
use quittance_store::repo::{ledger, sandbox};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

pub const VISA: &str = "4242424242424242";

/// Imports the sample account (V-1 owes 125.50, V-2 owes 70.00) and returns its id and its
/// sub-accounts' ids, oldest first.
pub async fn account_with_debts(app: &TestApp, org: &Org, number: &str) -> (String, Vec<String>) {
    let imported = app.import(org, sample_document(number)).await;
    let account = imported["account"]["id"].as_str().expect("id").to_owned();
    let subs = imported["sub_accounts"]
        .as_array()
        .expect("subs")
        .iter()
        .map(|s| s["id"].as_str().expect("id").to_owned())
        .collect();
    (account, subs)
}

pub fn card(number: &str) -> Value {
    json!({"number": number, "exp_month": 12, "exp_year": 2031, "cvv": "123", "holder_name": "Jane Doe", "billing_zip": "89501"})
}

pub async fn save_card(app: &TestApp, org: &Org, account: &str, number: &str) -> String {
    let (status, method) = app
        .post(
            "/v1/payment_methods",
            org,
            json!({"account_id": account, "card": card(number)}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{method}");
    method["payment_method_id"].as_str().expect("id").to_owned()
}

/// Saves a Visa and pays `amount` with it; returns the method's and the payment's ids.
pub async fn saved_card_payment(
    app: &TestApp,
    org: &Org,
    account: &str,
    amount: &str,
) -> (String, String) {
    let method = save_card(app, org, account, VISA).await;
    let (status, payment) = app
        .post(
            "/v1/payments",
            org,
            json!({"account_id": account, "amount": amount, "payment_method_id": method}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{payment}");
    (method, payment["id"].as_str().expect("id").to_owned())
}

async fn balance_text(app: &TestApp, org: &Org, account: &str) -> String {
    let text = app.get_text(&format!("/v1/accounts/{account}"), org).await;
    let at = text.find("\"balance\":").expect("balance") + "\"balance\":".len();
    text[at..]
        .split([',', '}'])
        .next()
        .expect("value")
        .to_owned()
}

pub async fn assert_ledger_verifies(app: &TestApp) {
    let v = app
        .state
        .db
        .read(|tx| Box::pin(async move { ledger::verify(tx).await }))
        .await
        .expect("verify");
    assert!(v.breaks.is_empty(), "{:?}", v.breaks);
}

#[tokio::test]
async fn a_saved_card_pays_oldest_first_and_lowers_the_balances() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let (account, subs) = account_with_debts(&app, &org, "A-1").await;
    let (status, method) = app
        .post(
            "/v1/payment_methods",
            &org,
            json!({"account_id": account, "card": card("4242 4242 4242 4242")}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{method}");
    assert_eq!(method["type"], "card");
    assert_eq!(method["brand"], "visa");
    assert_eq!(method["last4"], "4242");
    assert_eq!(method["exp_month"], 12);
    assert_eq!(method["exp_year"], 2031);
    assert!(!method.to_string().contains("424242424242"), "{method}");
    let pm = method["payment_method_id"].as_str().expect("id");
    assert!(pm.starts_with("pm_"));

    let (status, text) = app
        .post_text(
            "/v1/payments",
            &org,
            &json!({"account_id": account, "amount": "130.25", "payment_method_id": pm, "description": "January"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{text}");
    assert!(text.contains(r#""status":"captured""#), "{text}");
    assert!(text.contains(r#""amount":130.25"#), "{text}");
    assert!(
        text.contains(&format!(
            r#"{{"sub_account_id":"{}","amount":125.50,"captured":125.50,"refunded":0.00}}"#,
            subs[0]
        )),
        "oldest first: {text}"
    );
    assert!(text.contains(r#""amount":4.75,"captured":4.75"#), "{text}");
    assert!(text.contains(r#""account_balance_after":65.25"#), "{text}");
    assert!(text.contains(r#""method":{"type":"card","brand":"visa","last4":"4242"}"#));
    assert_eq!(balance_text(&app, &org, &account).await, "65.25");
    let sub = app
        .get_text(&format!("/v1/sub_accounts/{}", subs[0]), &org)
        .await;
    assert!(sub.contains(r#""balance":0.00"#), "{sub}");

    let (_, list) = app
        .get(&format!("/v1/accounts/{account}/payment_methods"), &org)
        .await;
    assert_eq!(list["total"], 1);
    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/v1/payment_methods/{pm}"),
            &org,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app.get(&format!("/v1/payment_methods/{pm}"), &org).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, events) = app.get("/v1/events?type=payment.approved", &org).await;
    assert_eq!(
        events["data"].as_array().expect("events").len(),
        1,
        "{events}"
    );
    let (status, e) = app
        .call(
            Method::DELETE,
            &format!("/v1/accounts/{account}"),
            &org,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "payments are kept: {e}");
    assert_ledger_verifies(&app).await;
}

#[tokio::test]
async fn bad_cards_and_bank_accounts_are_refused_naming_the_field() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let (account, _) = account_with_debts(&app, &org, "A-1").await;
    let mut expired = card(VISA);
    expired["exp_year"] = json!(2020);
    let mut short_cvv = card(VISA);
    short_cvv["cvv"] = json!("12");
    for (body, param) in [
        (
            json!({"account_id": account, "card": card("4242424242424241")}),
            "card.number",
        ),
        (
            json!({"account_id": account, "card": expired}),
            "card.exp_year",
        ),
        (
            json!({"account_id": account, "card": short_cvv}),
            "card.cvv",
        ),
        (
            json!({"account_id": account, "ach": {"routing_number": "110000001", "account_number": "000123456789", "account_type": "checking", "holder_name": "Jane"}}),
            "ach.routing_number",
        ),
        (
            json!({"account_id": account, "ach": {"routing_number": "110000000", "account_number": "000123456789", "account_type": "brokerage", "holder_name": "Jane"}}),
            "ach.account_type",
        ),
        (json!({"account_id": account}), "card"),
        (
            json!({"account_id": "acct_nonsense", "card": card(VISA)}),
            "account_id",
        ),
    ] {
        let (status, error) = app.post("/v1/payment_methods", &org, body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{param}: {error}");
        assert_eq!(error["param"], param, "{error}");
        assert!(!error.to_string().contains("424242424242"), "{error}");
    }
    // A card number sent as a JSON number: the type error must not echo it.
    let (status, error) = app
        .post(
            "/v1/payment_methods",
            &org,
            json!({"account_id": account, "card": {"number": 4242424242424242_u64, "exp_month": 1, "exp_year": 2031, "holder_name": "J"}}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["param"], "card.number");
    assert!(!error.to_string().contains("4242424242424242"), "{error}");
    let (status, error) = app
        .post(
            "/v1/payment_methods",
            &org,
            json!({"account_id": format!("acct_{}", "0".repeat(32)), "card": card(VISA)}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{error}");
    assert_eq!(error["param"], "account_id");
}

#[tokio::test]
async fn allocations_must_add_up_and_never_pay_a_sub_account_below_zero() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let (account, subs) = account_with_debts(&app, &org, "A-1").await;
    let pay = |body: Value| app.post("/v1/payments", &org, body);
    let base = |allocations: Value, amount: &str| json!({"account_id": account, "amount": amount, "card": card(VISA), "allocations": allocations});
    let (status, e) = pay(base(
        json!([{"sub_account_id": subs[0], "amount": "10.00"}, {"sub_account_id": subs[1], "amount": "5.00"}]),
        "16.00",
    ))
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["param"], "allocations");
    let (status, e) = pay(base(
        json!([{"sub_account_id": subs[1], "amount": "70.01"}]),
        "70.01",
    ))
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["param"], "allocations[0].amount", "{e}");
    let (status, e) =
        pay(json!({"account_id": account, "amount": "195.51", "card": card(VISA)})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["param"], "amount");
    let (status, e) =
        pay(json!({"account_id": account, "amount": "1.005", "card": card(VISA)})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["param"], "amount");
    let (status, e) = pay(json!({"account_id": account, "amount": "1.00"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["param"], "payment_method_id");

    // Two allocations, paid exactly.
    let (status, text) = app
        .post_text(
            "/v1/payments",
            &org,
            &base(
                json!([{"sub_account_id": subs[1], "amount": "70.00"}, {"sub_account_id": subs[0], "amount": "0.50"}]),
                "70.50",
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{text}");
    assert_eq!(balance_text(&app, &org, &account).await, "125.00");
    // V-2 is paid off: nothing more can go to it.
    let (status, e) = pay(base(
        json!([{"sub_account_id": subs[1], "amount": "0.01"}]),
        "0.01",
    ))
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_ledger_verifies(&app).await;
}

#[tokio::test]
async fn the_sandbox_declines_fails_and_times_out_on_its_test_numbers() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let (account, _) = account_with_debts(&app, &org, "A-1").await;
    for (number, status, code) in [
        ("4000000000000002", "declined", "card_declined"),
        ("4000000000009995", "declined", "insufficient_funds"),
        ("4000000000000119", "error", "processing_error"),
    ] {
        let (http, p) = app
            .post(
                "/v1/payments",
                &org,
                json!({"account_id": account, "amount": "50.00", "card": card(number)}),
            )
            .await;
        assert_eq!(http, StatusCode::CREATED, "{p}");
        assert_eq!(p["status"], status, "{number}");
        assert_eq!(p["decline_code"], code, "{number}");
    }
    assert_eq!(
        balance_text(&app, &org, &account).await,
        "195.50",
        "nothing was taken and nothing stays held"
    );
    let (_, p) = app
        .post(
            "/v1/payments",
            &org,
            json!({"account_id": account, "amount": "195.50", "card": card("4000000000000408")}),
        )
        .await;
    assert_eq!(p["status"], "unknown", "{p}");
    // The held amount is not payable meanwhile.
    let (status, _) = app
        .post(
            "/v1/payments",
            &org,
            json!({"account_id": account, "amount": "0.01", "card": card(VISA)}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    app.clock.advance(chrono::Duration::minutes(2));
    let swept = quittance_services::housekeeping::housekeeping_once(&app.state)
        .await
        .expect("reconcile");
    assert_eq!(swept.reconciled.payments, 1);
    let (_, p) = app
        .get(
            &format!("/v1/payments/{}", p["id"].as_str().expect("id")),
            &org,
        )
        .await;
    assert_eq!(
        p["status"], "captured",
        "the reconciler learned the truth: {p}"
    );
    assert_eq!(balance_text(&app, &org, &account).await, "0.00");
    let tally = app
        .state
        .db
        .read(|tx| Box::pin(async move { sandbox::tally(tx).await }))
        .await
        .expect("tally");
    assert_eq!(
        tally,
        vec![("authorization".to_owned(), 4, 4)],
        "one authorization per payment; the reconciler only looked"
    );
    assert_ledger_verifies(&app).await;
}

#[tokio::test]
async fn authorize_capture_void_and_refund_follow_the_status_machine() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let (account, _) = account_with_debts(&app, &org, "A-1").await;
    let method = save_card(&app, &org, &account, "5555555555554444").await;
    let (_, auth) = app
        .post(
            "/v1/payments",
            &org,
            json!({"account_id": account, "amount": "100.00", "payment_method_id": method, "capture": false}),
        )
        .await;
    assert_eq!(auth["status"], "authorized", "{auth}");
    assert_eq!(auth["method"]["brand"], "mastercard");
    let id = auth["id"].as_str().expect("id");
    assert_eq!(
        balance_text(&app, &org, &account).await,
        "195.50",
        "an authorization only holds"
    );
    let (status, e) = app
        .post(&format!("/v1/payments/{id}/refunds"), &org, json!({}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(e["message"], "cannot refund a payment that is authorized");
    let (status, e) = app
        .post(
            &format!("/v1/payments/{id}/capture"),
            &org,
            json!({"amount": "100.01"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["param"], "amount");
    let (status, text) = app
        .post_text(
            &format!("/v1/payments/{id}/capture"),
            &org,
            &json!({"amount": "60.00"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(
        text.contains(r#""status":"captured""#) && text.contains(r#""amount_captured":60.00"#),
        "{text}"
    );
    assert_eq!(
        balance_text(&app, &org, &account).await,
        "135.50",
        "the rest is released"
    );
    let (status, e) = app
        .post(&format!("/v1/payments/{id}/capture"), &org, json!({}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(e["message"], "cannot capture a payment that is captured");

    let (status, refund) = app
        .post(
            &format!("/v1/payments/{id}/refunds"),
            &org,
            json!({"amount": "20.00", "reason": "duplicate"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{refund}");
    assert_eq!(refund["status"], "succeeded");
    let (_, p) = app.get(&format!("/v1/payments/{id}"), &org).await;
    assert_eq!(p["status"], "partially_refunded");
    let (status, e) = app
        .post(
            "/v1/refunds",
            &org,
            json!({"payment_id": id, "amount": "40.01"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let (status, refund) = app
        .post("/v1/refunds", &org, json!({"payment_id": id}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{refund}");
    let (_, p) = app.get(&format!("/v1/payments/{id}"), &org).await;
    assert_eq!(p["status"], "refunded");
    assert_eq!(balance_text(&app, &org, &account).await, "195.50");
    let (_, refunds) = app.get(&format!("/v1/payments/{id}/refunds"), &org).await;
    assert_eq!(refunds.as_array().expect("list").len(), 2);
    let (status, e) = app
        .post(&format!("/v1/payments/{id}/void"), &org, json!({}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(e["message"], "cannot void a payment that is refunded");

    // A sale voided before settlement gives everything back; after settlement it cannot be.
    let (_, sale) = app
        .post(
            "/v1/payments",
            &org,
            json!({"account_id": account, "amount": "10.00", "payment_method_id": method}),
        )
        .await;
    let sale_id = sale["id"].as_str().expect("id");
    let (status, voided) = app
        .post(&format!("/v1/payments/{sale_id}/void"), &org, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(voided["status"], "voided");
    assert_eq!(balance_text(&app, &org, &account).await, "195.50");
    let (_, sale) = app
        .post(
            "/v1/payments",
            &org,
            json!({"account_id": account, "amount": "10.00", "payment_method_id": method}),
        )
        .await;
    let sale_id = sale["id"].as_str().expect("id");
    let (status, batches) = app.post("/v1/settlements", &org, json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{batches}");
    assert_eq!(batches["data"][0]["payment_count"], 1, "{batches}");
    let (_, p) = app.get(&format!("/v1/payments/{sale_id}"), &org).await;
    assert_eq!(p["status"], "settled");
    let (status, e) = app
        .post(&format!("/v1/payments/{sale_id}/void"), &org, json!({}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(e["message"], "cannot void a payment that is settled");
    let (status, p) = app
        .post(
            &format!("/v1/sandbox/payments/{sale_id}/chargeback"),
            &org,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{p}");
    assert_eq!(p["status"], "charged_back");
    assert_eq!(balance_text(&app, &org, &account).await, "195.50");
    assert_ledger_verifies(&app).await;
}

#[tokio::test]
async fn an_ach_debit_settles_and_the_r01_account_comes_back_returned() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let (account, _) = account_with_debts(&app, &org, "A-1").await;
    let ach = |number: &str| json!({"routing_number": "110000000", "account_number": number, "account_type": "checking", "holder_name": "Jane Doe"});
    let (status, good) = app
        .post(
            "/v1/payments",
            &org,
            json!({"account_id": account, "amount": "20.00", "ach": ach("000123456789")}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{good}");
    assert_eq!(
        good["method"],
        json!({"type": "ach", "brand": null, "last4": "6789"})
    );
    let (_, bad) = app
        .post(
            "/v1/payments",
            &org,
            json!({"account_id": account, "amount": "30.00", "ach": ach("000222222227")}),
        )
        .await;
    assert_eq!(bad["status"], "captured");
    // Partly refunded before the close: the return takes back only what is left.
    let (status, _) = app
        .post(
            &format!("/v1/payments/{}/refunds", bad["id"].as_str().expect("id")),
            &org,
            json!({"amount": "5.00"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(balance_text(&app, &org, &account).await, "150.50");
    // The daily close does it on its own after midnight UTC (a day on, with a fresh token).
    app.clock.advance(chrono::Duration::days(1));
    let org = app.org("acme").await;
    let swept = quittance_services::housekeeping::housekeeping_once(&app.state)
        .await
        .expect("close");
    assert_eq!(swept.settlement_batches, 1);
    let (_, good) = app
        .get(
            &format!("/v1/payments/{}", good["id"].as_str().expect("id")),
            &org,
        )
        .await;
    assert_eq!(good["status"], "settled");
    let (_, bad) = app
        .get(
            &format!("/v1/payments/{}", bad["id"].as_str().expect("id")),
            &org,
        )
        .await;
    assert_eq!(bad["status"], "returned", "{bad}");
    assert_eq!(bad["decline_code"], "R01");
    assert_eq!(balance_text(&app, &org, &account).await, "175.50");
    let (_, events) = app.get("/v1/events?type=payment.returned", &org).await;
    assert_eq!(events["data"].as_array().expect("events").len(), 1);
    // A card payment cannot be "returned".
    let (_, card_payment) = saved_card_payment(&app, &org, &account, "1.00").await;
    let (status, _) = app
        .post(
            &format!("/v1/sandbox/payments/{card_payment}/ach_return"),
            &org,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_ledger_verifies(&app).await;
}

#[tokio::test]
async fn a_stranger_cannot_pay_with_another_organizations_method_or_account() {
    let app = spawn_app().await;
    let owner = app.org("acme").await;
    let stranger = app.org("globex").await;
    let (account, _) = account_with_debts(&app, &owner, "A-1").await;
    let method = save_card(&app, &owner, &account, VISA).await;
    let (their_account, _) = account_with_debts(&app, &stranger, "A-1").await;
    let (status, e) = app
        .post(
            "/v1/payments",
            &stranger,
            json!({"account_id": their_account, "amount": "1.00", "payment_method_id": method}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{e}");
    assert_eq!(e["param"], "payment_method_id");
    let (status, e) = app
        .post(
            "/v1/payments",
            &stranger,
            json!({"account_id": account, "amount": "1.00", "card": card(VISA)}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(e["param"], "account_id");
    // The owner's own method on another of the owner's accounts is refused too.
    let (other, _) = account_with_debts(&app, &owner, "A-2").await;
    let (status, e) = app
        .post(
            "/v1/payments",
            &owner,
            json!({"account_id": other, "amount": "1.00", "payment_method_id": method}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["param"], "payment_method_id");
}

#[tokio::test]
async fn concurrent_refunds_and_captures_never_exceed_their_limits() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let (account, _) = account_with_debts(&app, &org, "A-1").await;
    let (_, id) = saved_card_payment(&app, &org, &account, "100.00").await;
    let path = format!("/v1/payments/{id}/refunds");
    let refunds = (0..100).map(|_| app.post(&path, &org, json!({"amount": "3.00"})));
    let answers = futures_util::future::join_all(refunds).await;
    let ok = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .count();
    assert_eq!(ok, 33, "33 × 3.00 fit in 100.00, the 34th does not");
    assert!(
        answers
            .iter()
            .all(|(s, _)| *s == StatusCode::CREATED || *s == StatusCode::UNPROCESSABLE_ENTITY)
    );
    let text = app.get_text(&format!("/v1/payments/{id}"), &org).await;
    assert!(text.contains(r#""amount_refunded":99.00"#), "{text}");

    let method = save_card(&app, &org, &account, VISA).await;
    let (_, auth) = app
        .post("/v1/payments", &org, json!({"account_id": account, "amount": "50.00", "payment_method_id": method, "capture": false}))
        .await;
    let auth_id = auth["id"].as_str().expect("id");
    let path = format!("/v1/payments/{auth_id}/capture");
    let captures =
        (0..100).map(|i| app.post(&path, &org, json!({"amount": format!("{}.00", 1 + i % 50)})));
    let answers = futures_util::future::join_all(captures).await;
    let ok: Vec<&Value> = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::OK)
        .map(|(_, b)| b)
        .collect();
    assert_eq!(ok.len(), 1, "one capture wins; the rest are 409");
    let captured = ok[0]["amount_captured"].clone();
    let (_, p) = app.get(&format!("/v1/payments/{auth_id}"), &org).await;
    assert_eq!(p["amount_captured"], captured);
    assert_ledger_verifies(&app).await;
}

#[tokio::test]
async fn the_payments_report_filters_and_streams_csv() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let (account, _) = account_with_debts(&app, &org, "A-1").await;
    saved_card_payment(&app, &org, &account, "25.00").await;
    let (_, declined) = app
        .post(
            "/v1/payments",
            &org,
            json!({"account_id": account, "amount": "5.00", "card": card("4000000000000002")}),
        )
        .await;
    let (_, page) = app.get("/v1/reports/payments?status=captured", &org).await;
    assert_eq!(page["total"], 1, "{page}");
    let row = &page["data"][0];
    assert_eq!(row["account_number"], "A-1");
    assert_eq!(row["owner_name"], "Jane Doe");
    assert_eq!(row["clients"], json!(["Mercy Hospital"]));
    assert_eq!(row["sub_accounts"], json!(["V-1"]));
    assert_eq!(row["method"], "visa ****4242");
    let (_, page) = app.get("/v1/reports/payments?method_type=ach", &org).await;
    assert_eq!(page["total"], 0);
    let (status, e) = app.get("/v1/reports/payments?status=lost", &org).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(e["param"], "status");
    let (status, e) = app
        .get("/v1/reports/payments?created_from=yesterday", &org)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(e["param"], "created_from");
    let today = app.clock.now().format("%Y-%m-%d").to_string();
    let response = app
        .request(
            Method::GET,
            &format!("/v1/reports/payments?format=csv&created_from={today}&created_to={today}"),
            &org,
        )
        .send()
        .await
        .expect("csv");
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    let csv = response.text().await.expect("body");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(
        lines[0]
            .starts_with("payment_id,date,account_number,owner_name,clients,sub_accounts,amount")
    );
    assert!(
        lines[1].contains(",A-1,Jane Doe,Mercy Hospital,V-1,25.00,USD,visa ****4242,captured,"),
        "{csv}"
    );
    assert!(lines[1].ends_with(",170.50"), "{csv}");
    assert!(
        lines[2].starts_with(declined["id"].as_str().expect("id")),
        "{csv}"
    );
}

#[tokio::test]
async fn rotating_the_vault_key_reseals_every_number_and_saved_cards_still_pay() {
    use quittance_services::vault::reseal_all;
    use quittance_store::repo::payment_methods::{count_by_key, reseal, sealed_under_other_keys};
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let (account, _) = account_with_debts(&app, &org, "A-1").await;
    let mut methods = Vec::new();
    for number in [VISA, "5555555555554444", "6011111111111117"] {
        methods.push(save_card(&app, &org, &account, number).await);
    }
    let vault = app.state.vault.clone();
    assert_eq!(vault.add_key().expect("rotate"), "k2");
    // A rotation interrupted after one record: what it did stays done, the rest follows.
    let (first_id, old) = app
        .state
        .db
        .read(|tx| Box::pin(async move { sealed_under_other_keys(tx, "k2", 1).await }))
        .await
        .expect("stale")
        .remove(0);
    let plain = vault.open(first_id.as_str(), &old).expect("open");
    let new = vault.seal(first_id.as_str(), &plain);
    let done = app
        .state
        .db
        .write(move |tx| Box::pin(async move { reseal(tx, &first_id, &old, &new).await }))
        .await
        .expect("reseal one");
    assert!(done);
    let resumed = reseal_all(&vault, &app.state.db, 2).await.expect("resume");
    assert_eq!(resumed.records, 2);
    assert_eq!(
        reseal_all(&vault, &app.state.db, 2)
            .await
            .expect("again")
            .records,
        0
    );
    let counts = app
        .state
        .db
        .read(|tx| Box::pin(async move { count_by_key(tx).await }))
        .await
        .expect("counts");
    assert_eq!(counts, vec![("k2".to_owned(), 3)]);
    for method in &methods {
        let (status, p) = app
            .post(
                "/v1/payments",
                &org,
                json!({"account_id": account, "amount": "1.00", "payment_method_id": method}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{p}");
        assert_eq!(p["status"], "captured");
    }
}

#[tokio::test]
async fn ledger_verify_finds_a_tampered_balance_or_an_over_refund() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let (account, subs) = account_with_debts(&app, &org, "A-1").await;
    let (_, payment) = saved_card_payment(&app, &org, &account, "10.00").await;
    assert_ledger_verifies(&app).await;
    let sub = subs[0].clone();
    app.state
        .db
        .write(move |tx| {
            Box::pin(async move {
                tx.execute(
                    "UPDATE sub_accounts SET ledger_total = ledger_total + 1 WHERE id = $1",
                    &quittance_store::params![sub.as_str()],
                )
                .await?;
                tx.execute(
                    "UPDATE payments SET amount_refunded = amount_captured + 1 WHERE id = $1",
                    &quittance_store::params![payment.as_str()],
                )
                .await
            })
        })
        .await
        .expect("tamper");
    let v = app
        .state
        .db
        .read(|tx| Box::pin(async move { ledger::verify(tx).await }))
        .await
        .expect("verify");
    let rules: Vec<&str> = v.breaks.iter().map(|b| b.rule).collect();
    assert!(
        rules.contains(&"every cached balance equals the sum of its entries"),
        "{rules:?}"
    );
    assert!(
        rules.contains(&"captured <= authorized and refunded <= captured"),
        "{rules:?}"
    );
}
