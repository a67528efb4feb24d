//! Statement analysis, run the way seed 001's curl examples run: create, upload the PDF as the
//! raw body, start; then the worker inside the server reads the statements, prices a proposal
//! and records the events, which reach webhooks. Statements are synthetic PDFs rendered by
//! quittance-statement-fixtures.

use crate::helpers::{Org, TestApp, assert_error, iso_raw, spawn_app, spawn_app_with, test_config};
use crate::webhooks::Receiver;
use quittance_pricing::statements::{Layout, Statement, StatementSummary};
use quittance_pricing::{Activity, CostModel, Mix, default_program, fee_text, price};
use quittance_services::webhooks::delivery;
use quittance_statement_fixtures::{Options, encrypted, image_only, render, truncated};
use quittance_store::repo::statements as store;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// A POST as the seed's curl examples send it, with any body and content type.
async fn curl(
    app: &TestApp,
    org: &Org,
    path: &str,
    content_type: Option<&str>,
    body: Option<Vec<u8>>,
) -> (StatusCode, String) {
    iso_raw(app, org, reqwest::Method::POST, path, content_type, body).await
}

async fn get(app: &TestApp, org: &Org, path: &str) -> Value {
    let response = app
        .http
        .get(format!("{}{path}", app.base))
        .header("Authorization", org.creds.api_key.expose())
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.json().await.expect("json")
}

/// Creates an analysis with the seed's body; its id.
async fn create(app: &TestApp, org: &Org) -> String {
    let (status, text) = curl(
        app,
        org,
        "/api/statement_analyses",
        Some("application/json"),
        Some(
            br#"{ "userId": 12345, "name": "Sept 2021", "merchantName": "Fancy Burgers" }"#
                .to_vec(),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let created: Value = serde_json::from_str(&text).expect("json");
    let object = created.as_object().expect("object");
    assert_eq!(object.keys().collect::<Vec<_>>(), ["id"]);
    let id = created["id"].as_str().expect("id").to_owned();
    assert!(uuid::Uuid::try_parse(&id).is_ok(), "{id}");
    id
}

async fn upload(app: &TestApp, org: &Org, id: &str, filename: &str, pdf: Vec<u8>) {
    let (status, text) = curl(
        app,
        org,
        &format!("/api/statement_analyses/{id}/files?filename={filename}"),
        Some("application/pdf"),
        Some(pdf),
    )
    .await;
    assert_eq!((status, text.as_str()), (StatusCode::OK, ""));
}

async fn start(app: &TestApp, org: &Org, id: &str) {
    let (status, text) = curl(
        app,
        org,
        &format!("/api/statement_analyses/{id}/start"),
        None,
        None,
    )
    .await;
    assert_eq!((status, text.as_str()), (StatusCode::ACCEPTED, ""));
}

/// The analysis once the server's worker has finished it (bounded: a minute at most).
async fn finished(app: &TestApp, org: &Org, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let analysis = get(app, org, &format!("/api/statement_analyses/{id}")).await;
        if analysis["status"] == "completed" || analysis["status"] == "rejected" {
            return analysis;
        }
        assert!(Instant::now() < deadline, "still {analysis}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The statements an analysis shows, read back (amounts compare by value: "0.0030" is 0.003).
fn statements_of(analysis: &Value) -> Vec<Statement> {
    serde_json::from_value(analysis["statements"].clone()).expect("statements")
}

/// The proposal the fee model makes of these statements with the default program and merchant
/// type: each fee line's name and monthly amount.
fn expected_fees(statements: &[Statement]) -> Vec<(String, String, bool)> {
    let summary = StatementSummary::of(statements);
    let activity =
        Activity::from_lines(&summary.activity_lines, &Mix::seed_default()).expect("activity");
    let costs = CostModel::shipped()
        .expect("model")
        .estimate(&activity)
        .expect("estimate");
    price(&default_program(), &activity, &costs)
        .expect("priced")
        .into_iter()
        .map(|f| (f.name, fee_text(f.monthly_amount), f.applies))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_three_steps_make_a_proposal_with_events_and_webhooks() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let receiver = Receiver::start().await;
    let (status, text) = curl(
        &app,
        &org,
        "/api/webhooks",
        Some("application/json"),
        Some(
            json!({"url": format!("{}/hook", receiver.url), "eventTypes": ["analysis.requested", "statement_analysis.completed"]})
                .to_string()
                .into_bytes(),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{text}");

    let processing = render(Layout::FirstData, 7, &Options::default());
    let amex = render(Layout::Amex, 7, &Options::default());
    let id = create(&app, &org).await;
    upload(&app, &org, &id, "statement.pdf", processing.pdf.clone()).await;
    upload(&app, &org, &id, "amex.pdf", amex.pdf.clone()).await;
    let before = get(&app, &org, &format!("/api/statement_analyses/{id}")).await;
    assert_eq!(before["status"], "created");
    assert_eq!(before["files"][0]["filename"], "statement.pdf");
    assert_eq!(before["files"][1]["size"], amex.pdf.len());
    start(&app, &org, &id).await;
    // Starting again changes nothing.
    start(&app, &org, &id).await;

    let analysis = finished(&app, &org, &id).await;
    assert_eq!(analysis["status"], "completed", "{analysis}");
    assert_eq!(analysis["object"], "statement_analysis");
    assert_eq!(analysis["userId"], 12345);
    assert_eq!(analysis["merchantName"], "Fancy Burgers");
    assert_eq!(analysis["rejectionReason"], Value::Null);
    let expected = [processing.expected.clone(), amex.expected.clone()];
    assert_eq!(statements_of(&analysis), expected);
    let summary = StatementSummary::of(&expected);
    assert_eq!(
        analysis["summary"]["currentFees"],
        fee_text(summary.current_fees)
    );
    assert_eq!(
        analysis["summary"]["salesVolume"],
        fee_text(summary.sales_volume)
    );
    assert!(analysis["summary"]["effectiveRate"].is_string());

    // The proposal: the fee model's lines for the statements' activity, and what the
    // merchant pays now.
    let proposal_id = analysis["proposalId"].as_str().expect("proposal");
    let proposal = get(&app, &org, &format!("/api/v1/proposals/{proposal_id}")).await;
    assert_eq!(proposal["statement_analysis_id"], id.as_str());
    assert_eq!(proposal["prospect_id"], Value::Null);
    assert_eq!(proposal["total_fees"], fee_text(summary.current_fees));
    let lines: Vec<(String, String, bool)> = proposal["proposed_fees"]
        .as_array()
        .expect("fees")
        .iter()
        .map(|f| {
            let monthly = &f["monthly_amount"];
            (
                f["name"].as_str().expect("name").to_owned(),
                monthly.as_str().unwrap_or("0").to_owned(),
                monthly.is_string(),
            )
        })
        .collect();
    let mut model = expected_fees(&expected);
    for line in &mut model {
        if !line.2 {
            line.1 = "0".to_owned();
        }
    }
    assert_eq!(lines, model);

    // The events, as GET /api/events shows them.
    let events = get(&app, &org, "/api/events").await;
    let data = events["data"].as_array().expect("events");
    let of_type = |t: &str| {
        data.iter()
            .filter(|e| e["type"] == t)
            .map(|e| e["data"].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        of_type("statement_analysis.requested"),
        [json!({"statementAnalysisId": id, "agentId": 12345, "name": "Sept 2021"})]
    );
    assert_eq!(
        of_type("statement_analysis.completed"),
        [json!({"statementAnalysisId": id, "proposalId": proposal_id})]
    );

    // And through the webhook.
    delivery::deliver_due(&app.state, "", &mut |_| {})
        .await
        .expect("deliveries");
    let delivered: Vec<Value> = receiver
        .received()
        .iter()
        .map(|r| serde_json::from_slice(&r.body).expect("json"))
        .collect();
    // Both, each once (deliveries go out side by side, in any order).
    let mut types: Vec<&str> = delivered
        .iter()
        .map(|e| e["type"].as_str().expect("type"))
        .collect();
    types.sort_unstable();
    assert_eq!(
        types,
        [
            "statement_analysis.completed",
            "statement_analysis.requested"
        ]
    );
    let completed = delivered
        .iter()
        .find(|e| e["type"] == "statement_analysis.completed")
        .expect("completed");
    assert_eq!(completed["data"]["proposalId"], proposal_id);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_layout_is_read_exactly() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    for layout in Layout::ALL {
        let fixture = render(*layout, 11, &Options::default());
        let id = create(&app, &org).await;
        upload(&app, &org, &id, "statement.pdf", fixture.pdf).await;
        start(&app, &org, &id).await;
        let analysis = finished(&app, &org, &id).await;
        assert_eq!(analysis["status"], "completed", "{layout}: {analysis}");
        assert_eq!(statements_of(&analysis), [fixture.expected], "{layout}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn statements_that_cannot_be_read_are_rejected_with_the_reason() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let broken = render(
        Layout::Tsys,
        3,
        &Options {
            break_fee_total: true,
            ..Options::default()
        },
    );
    let computed: quittance_pricing::Decimal = broken.expected.fees.iter().map(|f| f.amount).sum();
    let printed = broken.expected.total_fees;
    let idle = render(
        Layout::Worldpay,
        3,
        &Options {
            zero_activity: true,
            ..Options::default()
        },
    );
    let cases: [(&str, Vec<u8>, Vec<String>); 5] = [
        (
            "broken.pdf",
            broken.pdf,
            vec![
                "fee rows add up to".to_owned(),
                computed.to_string(),
                printed.to_string(),
            ],
        ),
        ("idle.pdf", idle.pdf, vec!["no card sales".to_owned()]),
        (
            "locked.pdf",
            encrypted(),
            vec!["password-protected".to_owned()],
        ),
        ("scan.pdf", image_only(), vec!["no text layer".to_owned()]),
        (
            "cut.pdf",
            truncated(Layout::FirstData, 3),
            vec!["cut.pdf: ".to_owned()],
        ),
    ];
    for (filename, pdf, wanted) in cases {
        let id = create(&app, &org).await;
        upload(&app, &org, &id, filename, pdf).await;
        start(&app, &org, &id).await;
        let analysis = finished(&app, &org, &id).await;
        assert_eq!(analysis["status"], "rejected", "{filename}: {analysis}");
        assert_eq!(analysis["proposalId"], Value::Null);
        let reason = analysis["rejectionReason"].as_str().expect("reason");
        assert!(reason.starts_with(&format!("{filename}: ")), "{reason}");
        for part in &wanted {
            assert!(reason.contains(part.as_str()), "{filename}: {reason}");
        }
        let events = get(&app, &org, "/api/events").await;
        let rejected: Vec<&Value> = events["data"]
            .as_array()
            .expect("events")
            .iter()
            .filter(|e| {
                e["type"] == "statement_analysis.rejected"
                    && e["data"]["statementAnalysisId"] == id.as_str()
            })
            .collect();
        assert_eq!(rejected.len(), 1, "{filename}");
        assert_eq!(rejected[0]["data"]["reason"], reason);
    }
}

/// POSTs a PDF upload over a raw connection, with `framing` (the header that says how long
/// the body is) and `body` exactly as given; the status and the response body.
async fn raw_upload(
    app: &TestApp,
    org: &Org,
    path: &str,
    framing: &str,
    body: &[u8],
) -> (StatusCode, String) {
    let address = app.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: {}\r\nContent-Type: application/pdf\r\n{framing}\r\nConnection: close\r\n\r\n",
        org.creds.api_key.expose(),
    );
    stream.write_all(head.as_bytes()).await.expect("write");
    stream.write_all(body).await.expect("write");
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
        .await
        .expect("an answer in time")
        .expect("read");
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse::<u16>().ok())
        .and_then(|code| StatusCode::from_u16(code).ok())
        .expect("a status line");
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    (status, body)
}

#[tokio::test(flavor = "multi_thread")]
async fn uploads_and_starts_refuse_what_they_cannot_take() {
    let app = spawn_app_with(quittance_services::config::Config {
        max_statement_bytes: 64 * 1024,
        ..test_config()
    })
    .await;
    let org = app.org("acme").await;
    let id = create(&app, &org).await;
    let files = format!("/api/statement_analyses/{id}/files?filename=s.pdf");
    let pdf = b"%PDF-1.7\n".to_vec();
    let refused = |status: StatusCode, text: &str, class: &str, param: &str| {
        let body: Value = serde_json::from_str(text).expect("json");
        assert_error(status, &body, class, status.as_u16());
        assert_eq!(body["param"], param, "{text}");
    };

    let (status, text) = curl(&app, &org, &files, Some("text/plain"), Some(pdf.clone())).await;
    refused(status, &text, "UnsupportedMediaType", "Content-Type");
    let (status, text) = raw_upload(&app, &org, &files, "Content-Length: 0", b"").await;
    refused(status, &text, "UnprocessableEntity", "body");
    assert!(text.contains("empty"), "{text}");
    let (status, text) = curl(
        &app,
        &org,
        &files,
        Some("application/pdf"),
        Some(b"<html>".to_vec()),
    )
    .await;
    refused(status, &text, "UnprocessableEntity", "body");
    assert!(text.contains("not a PDF"), "{text}");
    // Refused on its declared length, before any of it is read (so none is sent here: a
    // client still sending when the refusal closes the connection may see a reset instead).
    let (status, text) = raw_upload(&app, &org, &files, "Content-Length: 65537", b"").await;
    refused(status, &text, "PayloadTooLarge", "body");
    let (status, text) = curl(
        &app,
        &org,
        &format!("/api/statement_analyses/{id}/files"),
        Some("application/pdf"),
        Some(pdf.clone()),
    )
    .await;
    refused(status, &text, "UnprocessableEntity", "filename");
    // A chunked body carries no Content-Length (sent by hand: the client always sets one).
    let mut chunked = format!("{:x}\r\n", pdf.len()).into_bytes();
    chunked.extend_from_slice(&pdf);
    chunked.extend_from_slice(b"\r\n0\r\n\r\n");
    let (status, text) =
        raw_upload(&app, &org, &files, "Transfer-Encoding: chunked", &chunked).await;
    refused(status, &text, "LengthRequired", "Content-Length");

    // Starting with no file, then uploading after the start.
    let (status, text) = curl(
        &app,
        &org,
        &format!("/api/statement_analyses/{id}/start"),
        None,
        None,
    )
    .await;
    assert_error(
        status,
        &serde_json::from_str(&text).expect("json"),
        "Conflict",
        409,
    );
    assert!(text.contains("upload a statement file"), "{text}");
    upload(&app, &org, &id, "s.pdf", pdf.clone()).await;
    start(&app, &org, &id).await;
    let (status, text) = curl(&app, &org, &files, Some("application/pdf"), Some(pdf)).await;
    assert_error(
        status,
        &serde_json::from_str(&text).expect("json"),
        "Conflict",
        409,
    );

    // Creating: the seed's required attributes, each named.
    for (body, field) in [
        (r#"{"name": "n", "merchantName": "m"}"#, "userId"),
        (
            r#"{"userId": "nobody", "name": "n", "merchantName": "m"}"#,
            "userId",
        ),
        (
            r#"{"userId": -1, "name": "n", "merchantName": "m"}"#,
            "userId",
        ),
        (
            r#"{"userId": "0190a0a0-0000-7000-8000-000000000000", "name": "n", "merchantName": "m"}"#,
            "userId",
        ),
        (r#"{"userId": 1, "merchantName": "m"}"#, "name"),
        (r#"{"userId": 1, "name": "n"}"#, "merchantName"),
    ] {
        let (status, text) = curl(
            &app,
            &org,
            "/api/statement_analyses",
            Some("application/json"),
            Some(body.as_bytes().to_vec()),
        )
        .await;
        refused(status, &text, "UnprocessableEntity", field);
    }
    // A user's UUID is accepted as userId.
    let user = app
        .http
        .post(format!("{}/api/users", app.base))
        .header("Authorization", org.creds.api_key.expose())
        .json(&json!({"email": "a@example.com", "name": "Agent", "userName": "agent"}))
        .send()
        .await
        .expect("user")
        .json::<Value>()
        .await
        .expect("json");
    let (status, text) = curl(
        &app,
        &org,
        "/api/statement_analyses",
        Some("application/json"),
        Some(
            json!({"userId": user["id"], "name": "n", "merchantName": "m"})
                .to_string()
                .into_bytes(),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{text}");
}

async fn claim(app: &TestApp, owner: &str) -> Vec<store::Claimed> {
    let now = app.state.clock.now();
    let owner = owner.to_owned();
    app.state
        .db
        .write(move |tx| {
            Box::pin(async move {
                store::claim_due(tx, now, now + chrono::Duration::seconds(60), &owner, 4).await
            })
        })
        .await
        .expect("claim")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stopped_worker_loses_nothing_and_makes_nothing_twice() {
    let app = spawn_app_with(quittance_services::config::Config {
        statements: false,
        ..test_config()
    })
    .await;
    let org = app.org("acme").await;
    let id = create(&app, &org).await;
    let fixture = render(Layout::Worldpay, 5, &Options::default());
    upload(&app, &org, &id, "statement.pdf", fixture.pdf).await;
    start(&app, &org, &id).await;

    // Worker a claims it and stops before writing anything.
    let held = claim(&app, "worker-a").await;
    assert_eq!(held.len(), 1);
    let round =
        |owner: &'static str| quittance_services::statements::analyze_due(&app.state, owner);
    assert_eq!(
        round("worker-b").await.expect("round"),
        0,
        "a's lease holds"
    );
    app.clock.advance(chrono::Duration::seconds(61));
    assert_eq!(
        round("worker-b").await.expect("round"),
        1,
        "the lease lapsed"
    );
    let analysis = get(&app, &org, &format!("/api/statement_analyses/{id}")).await;
    assert_eq!(analysis["status"], "completed");

    // Worker a comes back with a result: it no longer holds the analysis.
    let late = store::Outcome::Rejected {
        reason: "late".to_owned(),
        result: None,
    };
    let (org_id, claimed, now) = (
        org.creds.organization_id.clone(),
        held[0].clone(),
        app.state.clock.now(),
    );
    let written = app
        .state
        .db
        .write(move |tx| {
            Box::pin(
                async move { store::finish(tx, &org_id, &claimed, "worker-a", &late, now).await },
            )
        })
        .await
        .expect("finish");
    assert!(!written);
    let proposals = get(&app, &org, "/api/v1/proposals").await;
    assert_eq!(proposals["data"].as_array().expect("list").len(), 1);
    let events = get(&app, &org, "/api/events").await;
    let finished = events["data"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["type"] != "statement_analysis.requested")
        .count();
    assert_eq!(finished, 1);

    // An analysis whose every claim stops is rejected after MAX_ATTEMPTS of them.
    let id = create(&app, &org).await;
    upload(
        &app,
        &org,
        &id,
        "statement.pdf",
        render(Layout::Tsys, 5, &Options::default()).pdf,
    )
    .await;
    start(&app, &org, &id).await;
    for _ in 0..quittance_services::statements::MAX_ATTEMPTS {
        assert_eq!(claim(&app, "crashing").await.len(), 1);
        app.clock.advance(chrono::Duration::seconds(61));
    }
    assert_eq!(round("worker-b").await.expect("round"), 1);
    let analysis = get(&app, &org, &format!("/api/statement_analyses/{id}")).await;
    assert_eq!(analysis["status"], "rejected");
    assert!(
        analysis["rejectionReason"]
            .as_str()
            .expect("reason")
            .contains("stopped before finishing 3 times"),
        "{analysis}"
    );
}
