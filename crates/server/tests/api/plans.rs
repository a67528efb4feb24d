//! Payment plans: created inactive, activated, charged on time through the test clock,
//! retried, defaulted, completed, changed and canceled.

use crate::helpers::{Org, TestApp, spawn_app};
use crate::payments::{VISA, account_with_debts, save_card};
use quittance_domain::Clock as _;
use quittance_store::repo::sandbox;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn today(app: &TestApp) -> chrono::NaiveDate {
    app.clock.now().date_naive()
}

fn day(app: &TestApp, offset: i64) -> String {
    (today(app) + chrono::Duration::days(offset))
        .format("%Y-%m-%d")
        .to_string()
}

/// The sample account (195.50 owed over two sub-accounts) with a saved card.
async fn plan_setup(app: &TestApp, org: &Org, card: &str) -> (String, Vec<String>, String) {
    let (account, subs) = account_with_debts(app, org, "P-1").await;
    let method = save_card(app, org, &account, card).await;
    (account, subs, method)
}

async fn advance(app: &TestApp, org: &Org, days: i64) -> Value {
    let (status, clock) = app
        .post("/v1/test_clock/advance", org, json!({"days": days}))
        .await;
    assert_eq!(status, StatusCode::OK, "{clock}");
    clock
}

fn statuses(plan: &Value) -> Vec<String> {
    plan["installments"]
        .as_array()
        .expect("installments")
        .iter()
        .map(|i| i["status"].as_str().expect("status").to_owned())
        .collect()
}

async fn authorizations(app: &TestApp) -> i64 {
    app.state
        .db
        .read(|tx| Box::pin(async move { sandbox::tally(tx).await }))
        .await
        .expect("tally")
        .iter()
        .find(|(op, _, _)| op == "authorization")
        .map_or(0, |(_, refs, _)| *refs)
}

#[tokio::test]
async fn a_plan_is_created_inactive_and_activation_starts_its_charges() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let (account, subs, method) = plan_setup(&app, &org, VISA).await;
    let body = json!({"account_id": account, "payment_method_id": method, "installment_count": 4,
        "frequency": "monthly", "start_date": day(&app, 1), "down_payment": "15.50"});
    let (status, preview) = app
        .post("/v1/payment_plans/preview", &org, body.clone())
        .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(preview["id"], Value::Null);
    let (_, list) = app.get("/v1/payment_plans", &org).await;
    assert_eq!(list["total"], 0, "a preview writes nothing");

    let (status, text) = app.post_text("/v1/payment_plans", &org, &body).await;
    assert_eq!(status, StatusCode::CREATED, "{text}");
    assert!(
        text.contains(r#""total_amount":195.50"#),
        "the balance by default: {text}"
    );
    assert!(
        text.contains(r#""amount":45.00"#) && text.contains(r#""down_payment":15.50"#),
        "{text}"
    );
    let plan: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(plan["status"], "inactive");
    assert_eq!(plan["sub_account_ids"], json!(subs));
    let installments = plan["installments"].as_array().expect("list");
    assert_eq!(installments.len(), 5);
    assert_eq!(installments[0]["kind"], "down_payment");
    assert_eq!(installments[1]["due_date"], day(&app, 1));
    assert_eq!(preview["installments"].as_array().expect("list").len(), 5);
    let id = plan["id"].as_str().expect("id");

    // Inactive: time passes and nothing is charged.
    advance(&app, &org, 40).await;
    assert_eq!(authorizations(&app).await, 0);
    let (status, e) = app
        .post(&format!("/v1/payment_plans/{id}/activate"), &org, json!({}))
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "the start date has passed: {e}"
    );
    assert_eq!(e["param"], "start_date");
    let (status, changed) = app
        .patch(
            &format!("/v1/payment_plans/{id}"),
            &org,
            json!({"start_date": day(&app, 41)}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    let (status, active) = app
        .post(&format!("/v1/payment_plans/{id}/activate"), &org, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{active}");
    assert_eq!(active["status"], "active");
    assert_eq!(
        statuses(&active)[0],
        "paid",
        "the down payment is charged at activation"
    );
    let (status, e) = app
        .post(&format!("/v1/payment_plans/{id}/activate"), &org, json!({}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        e["message"],
        "cannot activate a payment plan that is active"
    );

    // Four months on: every installment charged once, the plan completed.
    advance(&app, &org, 130).await;
    let (_, done) = app.get(&format!("/v1/payment_plans/{id}"), &org).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert!(statuses(&done).iter().all(|s| s == "paid"), "{done}");
    assert_eq!(authorizations(&app).await, 5);
    let account_text = app.get_text(&format!("/v1/accounts/{account}"), &org).await;
    assert!(account_text.contains(r#""balance":0.00"#), "{account_text}");
    let (_, events) = app
        .get("/v1/events?type=payment_plan.completed", &org)
        .await;
    assert_eq!(events["data"].as_array().expect("events").len(), 1);
    let (_, history) = app
        .get(&format!("/v1/payment_plans/{id}/history"), &org)
        .await;
    let history = history.as_array().expect("history");
    assert!(
        history
            .iter()
            .any(|h| h["change"]["start_date"]["to"] == day(&app, 41)),
        "{history:?}"
    );
}

#[tokio::test]
async fn a_year_on_the_test_clock_charges_exactly_the_expected_installments() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let (account, _, method) = plan_setup(&app, &org, VISA).await;
    let (_, plan) = app
        .post(
            "/v1/payment_plans",
            &org,
            json!({"account_id": account, "payment_method_id": method,
            "installment_amount": "10.00", "frequency": "monthly", "start_date": day(&app, 0)}),
        )
        .await;
    let id = plan["id"].as_str().expect("id");
    assert_eq!(
        plan["installments"].as_array().expect("list").len(),
        20,
        "195.50 in 10.00s"
    );
    let (_, active) = app
        .post(&format!("/v1/payment_plans/{id}/activate"), &org, json!({}))
        .await;
    assert_eq!(statuses(&active)[0], "paid", "the first falls due today");
    let clock = advance(&app, &org, 365).await;
    assert!(
        clock["installments_charged"].as_i64().expect("n") >= 11,
        "{clock}"
    );
    let (_, plan) = app.get(&format!("/v1/payment_plans/{id}"), &org).await;
    // Day 0 and then one a month: 13 of the 20 fall within 365 days.
    let paid = statuses(&plan).iter().filter(|s| *s == "paid").count();
    let due_within = (0..20)
        .filter(|n| {
            let due = today(&app)
                .checked_add_months(chrono::Months::new(*n))
                .expect("date");
            due <= today(&app) + chrono::Duration::days(365)
        })
        .count();
    assert_eq!(paid, due_within, "{plan}");
    assert_eq!(authorizations(&app).await, due_within as i64, "never twice");
}

#[tokio::test]
async fn declines_are_retried_then_missed_then_the_plan_defaults() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let (status, settings) = app
        .patch(
            "/v1/settings",
            &org,
            json!({"plan_retries": 1, "plan_retry_days": 2, "time_zone": "America/New_York"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{settings}");
    let (status, e) = app
        .patch("/v1/settings", &org, json!({"time_zone": "Mars/Olympus"}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["param"], "time_zone");
    let (account, _, method) = plan_setup(&app, &org, "4000000000000002").await;
    let (_, clock) = app.get("/v1/test_clock", &org).await;
    let start = clock["today"].as_str().expect("today");
    let (_, plan) = app
        .post(
            "/v1/payment_plans",
            &org,
            json!({"account_id": account, "payment_method_id": method,
            "installment_count": 5, "frequency": "weekly", "start_date": start}),
        )
        .await;
    let id = plan["id"].as_str().expect("id");
    let (_, active) = app
        .post(&format!("/v1/payment_plans/{id}/activate"), &org, json!({}))
        .await;
    assert_eq!(statuses(&active)[0], "retry_scheduled", "{active}");
    assert_eq!(active["installments"][0]["attempts"], 1);
    advance(&app, &org, 2).await;
    let (_, plan) = app.get(&format!("/v1/payment_plans/{id}"), &org).await;
    assert_eq!(statuses(&plan)[0], "missed", "{plan}");
    assert_eq!(plan["missed_installments"], 1);
    advance(&app, &org, 7).await;
    let (_, plan) = app.get(&format!("/v1/payment_plans/{id}"), &org).await;
    assert_eq!(plan["status"], "defaulted", "{plan}");
    assert_eq!(&statuses(&plan)[2..], ["canceled", "canceled", "canceled"]);
    let (_, events) = app
        .get("/v1/events?type=payment_plan.defaulted", &org)
        .await;
    assert_eq!(events["data"].as_array().expect("events").len(), 1);
    let text = app.get_text(&format!("/v1/accounts/{account}"), &org).await;
    assert!(
        text.contains(r#""balance":195.50"#),
        "nothing was taken: {text}"
    );
}

#[tokio::test]
async fn one_active_plan_per_sub_account_and_payments_elsewhere_shrink_or_complete_it() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let (account, subs, method) = plan_setup(&app, &org, VISA).await;
    let create = |start: String| {
        json!({"account_id": account, "payment_method_id": method, "installment_count": 3,
            "frequency": "biweekly", "start_date": start, "sub_account_ids": [subs[0]]})
    };
    let (_, first) = app
        .post("/v1/payment_plans", &org, create(day(&app, 1)))
        .await;
    let (_, second) = app
        .post("/v1/payment_plans", &org, create(day(&app, 1)))
        .await;
    let first_id = first["id"].as_str().expect("id");
    let (status, _) = app
        .post(
            &format!("/v1/payment_plans/{first_id}/activate"),
            &org,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, e) = app
        .post(
            &format!(
                "/v1/payment_plans/{}/activate",
                second["id"].as_str().expect("id")
            ),
            &org,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{e}");
    // 125.50 in three: 41.83, 41.83, 41.84. A payment of 50.00 from elsewhere leaves 75.50:
    // the last installment shrinks to what is left after the next one.
    let (status, _) = app
        .post(
            "/v1/payments",
            &org,
            json!({"account_id": account, "amount": "50.00", "payment_method_id": method,
            "allocations": [{"sub_account_id": subs[0], "amount": "50.00"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    advance(&app, &org, 1).await;
    let (_, plan) = app
        .get(&format!("/v1/payment_plans/{first_id}"), &org)
        .await;
    let text = serde_json::to_string(&plan["installments"]).expect("json");
    assert_eq!(statuses(&plan), ["paid", "scheduled", "canceled"], "{text}");
    let (_, inst) = app
        .get(&format!("/v1/payment_plans/{first_id}/installments"), &org)
        .await;
    assert_eq!(
        inst[1]["amount"].as_f64(),
        Some(33.67),
        "75.50 - 41.83 is left for it"
    );
    // Paid off from elsewhere: completed, nothing more charged.
    let before = authorizations(&app).await;
    let (status, _) = app
        .post(
            "/v1/payments",
            &org,
            json!({"account_id": account, "amount": "33.67", "payment_method_id": method,
            "allocations": [{"sub_account_id": subs[0], "amount": "33.67"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    advance(&app, &org, 30).await;
    let (_, plan) = app
        .get(&format!("/v1/payment_plans/{first_id}"), &org)
        .await;
    assert_eq!(plan["status"], "completed", "{plan}");
    assert_eq!(
        authorizations(&app).await,
        before + 1,
        "only the outside payment"
    );
    // Now the second plan's sub-account is free, but it has nothing left to pay.
    let (status, e) = app
        .post("/v1/payment_plans", &org, create(day(&app, 1)))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
}

#[tokio::test]
async fn plans_are_validated_changed_with_history_and_canceled() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let (account, subs, method) = plan_setup(&app, &org, VISA).await;
    let base = json!({"account_id": account, "payment_method_id": method, "installment_count": 4,
        "frequency": "monthly", "start_date": day(&app, 1)});
    let with = |key: &str, value: Value| {
        let mut b = base.clone();
        if value.is_null() {
            b.as_object_mut().expect("object").remove(key);
        } else {
            b[key] = value;
        }
        b
    };
    for (body, param) in [
        (with("total_amount", json!("195.51")), "total_amount"),
        (with("total_amount", json!("0")), "total_amount"),
        (with("start_date", json!(day(&app, -1))), "start_date"),
        (with("installment_count", json!(121)), "installment_count"),
        (
            with("installment_amount", json!("10.00")),
            "installment_amount",
        ),
        (with("frequency", json!("daily")), "frequency"),
        (
            with("sub_account_ids", json!([subs[0], subs[0]])),
            "sub_account_ids[1]",
        ),
        (with("down_payment", json!("195.50")), "down_payment"),
    ] {
        let (status, e) = app.post("/v1/payment_plans", &org, body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{param}: {e}");
        assert_eq!(e["param"], param, "{e}");
    }
    let (status, e) = app
        .post(
            "/v1/payment_plans",
            &org,
            with("payment_method_id", json!(format!("pm_{}", "0".repeat(32)))),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(e["param"], "payment_method_id");

    let (_, plan) = app.post("/v1/payment_plans", &org, base.clone()).await;
    let id = plan["id"].as_str().expect("id");
    let (_, active) = app
        .post(&format!("/v1/payment_plans/{id}/activate"), &org, json!({}))
        .await;
    assert_eq!(active["status"], "active");
    advance(&app, &org, 1).await;
    let (status, changed) = app
        .patch(
            &format!("/v1/payment_plans/{id}"),
            &org,
            json!({"installment_amount": "50.00", "frequency": "weekly"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    let installments = changed["installments"].as_array().expect("list");
    assert_eq!(
        installments[0]["status"], "paid",
        "a paid installment never changes"
    );
    assert_eq!(installments[0]["amount"].as_f64(), Some(48.87));
    let waiting: Vec<f64> = installments[1..]
        .iter()
        .filter(|i| i["status"] == "scheduled")
        .map(|i| i["amount"].as_f64().expect("amount"))
        .collect();
    assert_eq!(waiting, vec![50.0, 50.0, 46.63], "{changed}");
    let (_, history) = app
        .get(&format!("/v1/payment_plans/{id}/history"), &org)
        .await;
    let last = history
        .as_array()
        .expect("history")
        .last()
        .expect("entry")
        .clone();
    assert_eq!(
        last["change"]["frequency"],
        json!({"from": "monthly", "to": "weekly"})
    );
    assert_eq!(last["change"]["installment_amount"]["to"], "50.00");

    let (status, canceled) = app
        .post(&format!("/v1/payment_plans/{id}/cancel"), &org, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(canceled["status"], "canceled");
    let (status, _) = app
        .post(&format!("/v1/payment_plans/{id}/cancel"), &org, json!({}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = app
        .patch(
            &format!("/v1/payment_plans/{id}"),
            &org,
            json!({"frequency": "monthly"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let before = authorizations(&app).await;
    advance(&app, &org, 60).await;
    assert_eq!(
        authorizations(&app).await,
        before,
        "a canceled plan charges nothing"
    );
    let (_, page) = app.get("/v1/payment_plans?status=canceled", &org).await;
    assert_eq!(page["total"], 1);
}

#[tokio::test]
async fn two_schedulers_running_at_once_charge_each_installment_once() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let mut plans = Vec::new();
    for n in 0..10 {
        let (account, _) = account_with_debts(&app, &org, &format!("S-{n}")).await;
        let method = save_card(&app, &org, &account, VISA).await;
        let (_, plan) = app
            .post(
                "/v1/payment_plans",
                &org,
                json!({"account_id": account, "payment_method_id": method,
                "installment_count": 3, "frequency": "weekly", "start_date": day(&app, 1)}),
            )
            .await;
        let id = plan["id"].as_str().expect("id").to_owned();
        let (status, _) = app
            .post(&format!("/v1/payment_plans/{id}/activate"), &org, json!({}))
            .await;
        assert_eq!(status, StatusCode::OK);
        plans.push(id);
    }
    app.clock.advance(chrono::Duration::days(15));
    let org = app.org("acme").await;
    let (a, b, c) = tokio::join!(
        quittance_services::scheduler::run_due(&app.state, None),
        quittance_services::scheduler::run_due(&app.state, None),
        quittance_services::scheduler::run_due(&app.state, None)
    );
    let charged = a.expect("a").charged + b.expect("b").charged + c.expect("c").charged;
    assert_eq!(
        charged, 30,
        "each installment charged by exactly one of them"
    );
    assert_eq!(authorizations(&app).await, 30);
    for id in plans {
        let (_, plan) = app.get(&format!("/v1/payment_plans/{id}"), &org).await;
        assert_eq!(plan["status"], "completed", "{plan}");
    }
}

#[tokio::test]
async fn a_plan_for_part_of_the_balance_completes_after_its_last_installment() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let (account, _, method) = plan_setup(&app, &org, VISA).await;
    let (_, plan) = app
        .post("/v1/payment_plans", &org, json!({"account_id": account, "payment_method_id": method,
            "total_amount": "60.00", "installment_count": 2, "frequency": "weekly", "start_date": day(&app, 1)}))
        .await;
    let id = plan["id"].as_str().expect("id");
    app.post(&format!("/v1/payment_plans/{id}/activate"), &org, json!({}))
        .await;
    advance(&app, &org, 8).await;
    let (_, plan) = app.get(&format!("/v1/payment_plans/{id}"), &org).await;
    assert_eq!(statuses(&plan), ["paid", "paid"]);
    assert_eq!(
        plan["status"], "completed",
        "nothing is left to charge: {plan}"
    );
    let text = app.get_text(&format!("/v1/accounts/{account}"), &org).await;
    assert!(text.contains(r#""balance":135.50"#), "{text}");
    // The sub-accounts are free for another plan.
    let (_, next) = app
        .post(
            "/v1/payment_plans",
            &org,
            json!({"account_id": account, "payment_method_id": method,
            "installment_count": 2, "frequency": "weekly", "start_date": day(&app, 10)}),
        )
        .await;
    let (status, _) = app
        .post(
            &format!(
                "/v1/payment_plans/{}/activate",
                next["id"].as_str().expect("id")
            ),
            &org,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}
