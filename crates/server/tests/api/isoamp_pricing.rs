//! The ISO Amp merchant-pricing face, run the way seed 001's curl examples run: the same
//! paths, bodies (with real ids in place of the seed's) and the `Authorization: <api key>`
//! header, asserting the documented shapes, formatting and status codes.

use crate::helpers::{Org, TestApp, iso, keys, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn json_of(
    app: &TestApp,
    org: &Org,
    method: Method,
    path: &str,
    body: Option<&str>,
) -> Value {
    let (status, text) = iso(app, org, method, path, body).await;
    assert_eq!(status, StatusCode::OK, "{path}: {text}");
    serde_json::from_str(&text).expect("json")
}

/// The stage named `name`, the default merchant type and a user, for building prospects.
async fn basics(app: &TestApp, org: &Org) -> (String, String, String) {
    let stages = json_of(app, org, Method::GET, "/api/prospect_stages", None).await;
    let stage = stages["data"][0]["id"].as_str().expect("stage").to_owned();
    let types = json_of(app, org, Method::GET, "/api/merchant_types", None).await;
    let merchant_type = types["data"][0]["id"].as_str().expect("type").to_owned();
    let user = json_of(
        app,
        org,
        Method::POST,
        "/api/users",
        Some(r#"{"email": "john@example.com", "userName": "john", "name": "John Smith", "admin": "false"}"#),
    )
    .await;
    (
        stage,
        merchant_type,
        user["id"].as_str().expect("user").to_owned(),
    )
}

async fn prospect(app: &TestApp, org: &Org) -> String {
    let (stage, merchant_type, user) = basics(app, org).await;
    let body = format!(
        r#"{{"user_id": "{user}", "merchant_type_id": "{merchant_type}", "prospect_stage_id": "{stage}", "business_name": "Fancy Burgers", "contact_name": "Sam", "phone": "555-5555", "email": "sam@example.com", "source_type": "search engine"}}"#
    );
    let created = json_of(app, org, Method::POST, "/api/v1/prospects", Some(&body)).await;
    created["id"].as_str().expect("id").to_owned()
}

const SIMPLE: &str =
    r#"{"prospect_id": "PROSPECT", "total_volume": "20000", "avg_ticket": "37.90"}"#;

/// One record of each pricing kind, for the tenancy test.
pub async fn owned_pricing(app: &TestApp, org: &Org) -> Value {
    let prospect = prospect(app, org).await;
    let proposal = json_of(
        app,
        org,
        Method::POST,
        "/api/v1/proposals/simple",
        Some(&SIMPLE.replace("PROSPECT", &prospect)),
    )
    .await;
    let link = json_of(
        app,
        org,
        Method::POST,
        "/api/proposal_handoff_links",
        Some(r#"{"label": "Start Application", "url_template": "https://apply.example.com/start?proposal={proposal_id}"}"#),
    )
    .await;
    let users = json_of(app, org, Method::GET, "/api/users", None).await;
    let analysis = json_of(
        app,
        org,
        Method::POST,
        "/api/statement_analyses",
        Some(r#"{"userId": 1, "name": "March", "merchantName": "Fancy Burgers"}"#),
    )
    .await;
    let stages = json_of(app, org, Method::GET, "/api/prospect_stages", None).await;
    let types = json_of(app, org, Method::GET, "/api/merchant_types", None).await;
    let programs = json_of(app, org, Method::GET, "/api/programs", None).await;
    json!({
        "user": users["data"][0]["id"],
        "prospect": prospect,
        "stage": stages["data"][0]["id"],
        "merchant_type": types["data"][0]["id"],
        "program": programs["data"][0]["id"],
        "proposal": proposal["id"],
        "handoff_link": link["id"],
        "statement_analysis": analysis["id"],
    })
}

#[tokio::test]
async fn users_work_as_the_seed_prints_them() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let body = r#"{"email": "john@example.com", "userName": "john", "name": "John Smith", "admin": "false"}"#;
    let created = json_of(&app, &org, Method::POST, "/api/users", Some(body)).await;
    assert_eq!(
        keys(&created),
        [
            "admin",
            "creationTime",
            "email",
            "id",
            "name",
            "object",
            "userName"
        ]
    );
    assert_eq!(created["admin"], false);
    assert_eq!(created["object"], "user");
    assert!(created["creationTime"].is_i64());
    assert!(!created.to_string().contains("password"));
    let id = created["id"].as_str().expect("id");
    let jane = json_of(
        &app,
        &org,
        Method::POST,
        "/api/users",
        Some(r#"{"email": "jane@example.com", "userName": "jane", "name": "Jane Doe", "admin": true, "password": "correct horse"}"#),
    )
    .await;
    assert_eq!(jane["admin"], true);
    let listed = json_of(&app, &org, Method::GET, "/api/users", None).await;
    assert_eq!(keys(&listed), ["data", "object"]);
    assert_eq!(listed["data"].as_array().expect("list").len(), 2);
    assert_eq!(listed["data"][0]["userName"], "john");
    let after = json_of(
        &app,
        &org,
        Method::GET,
        &format!("/api/users?limit=1&startAfterId={id}"),
        None,
    )
    .await;
    assert_eq!(after["data"][0]["userName"], "jane");
    let got = json_of(&app, &org, Method::GET, &format!("/api/users/{id}"), None).await;
    assert_eq!(got, created);
    let patched = json_of(
        &app,
        &org,
        Method::PATCH,
        &format!("/api/users/{id}"),
        Some(r#"{"email": "john@example.com", "userName": "john", "name": "John Smith", "admin": "false"}"#),
    )
    .await;
    assert_eq!(patched["name"], "John Smith");
    // Validation: 422 naming the field; a taken userName is a 409.
    for (bad, field) in [
        (
            r#"{"email": "x@example.com", "userName": "John", "name": "J"}"#,
            "userName",
        ),
        (
            r#"{"email": "x@example.com", "userName": "9lives", "name": "J"}"#,
            "userName",
        ),
        (
            r#"{"email": "not-an-email", "userName": "x", "name": "J"}"#,
            "email",
        ),
        (r#"{"userName": "x", "name": "J"}"#, "email"),
        (r#"{"email": "x@example.com", "userName": "x"}"#, "name"),
        (
            r#"{"email": "x@example.com", "userName": "x", "name": "J", "admin": "yes"}"#,
            "admin",
        ),
    ] {
        let (status, text) = iso(&app, &org, Method::POST, "/api/users", Some(bad)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {text}");
        let error: Value = serde_json::from_str(&text).expect("json");
        assert_eq!(error["param"], field, "{bad}: {text}");
    }
    let (status, text) = iso(&app, &org, Method::POST, "/api/users", Some(body)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{text}");
    let (status, text) = iso(
        &app,
        &org,
        Method::DELETE,
        &format!("/api/users/{id}"),
        None,
    )
    .await;
    assert_eq!((status, text.as_str()), (StatusCode::OK, ""));
    let (status, _) = iso(&app, &org, Method::GET, &format!("/api/users/{id}"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn prospects_and_stages_work_as_the_seed_prints_them() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let stages = json_of(&app, &org, Method::GET, "/api/prospect_stages", None).await;
    let names: Vec<&str> = stages["data"]
        .as_array()
        .expect("list")
        .iter()
        .map(|s| s["name"].as_str().expect("name"))
        .collect();
    assert_eq!(
        names,
        ["Prospect", "Quoted", "Contacted", "Closed-Yes", "Closed-No"]
    );
    let stage_id = stages["data"][4]["id"].as_str().expect("id");
    let stage = json_of(
        &app,
        &org,
        Method::GET,
        &format!("/api/prospect_stages/{stage_id}"),
        None,
    )
    .await;
    assert_eq!(
        stage,
        json!({"id": stage_id, "name": "Closed-No", "object": "prospect_stage"})
    );

    let (stage, merchant_type, user) = basics(&app, &org).await;
    let body = format!(
        r#"{{"user_id": "{user}", "merchant_type_id": "{merchant_type}", "prospect_stage_id": "{stage}", "business_name": "Fancy Burgers", "contact_name": "Sam", "phone": "555-5555", "email": "sam@example.com", "source_type": "search engine"}}"#
    );
    let created = json_of(&app, &org, Method::POST, "/api/v1/prospects", Some(&body)).await;
    for key in [
        "id",
        "business_name",
        "contact_name",
        "phone",
        "email",
        "source_type",
        "user_id",
        "merchant_type_id",
        "prospect_stage_id",
        "created_at",
        "object",
    ] {
        assert!(created.get(key).is_some(), "{key} missing: {created}");
    }
    assert_eq!(created["object"], "prospect");
    assert_eq!(created["source_type"], "search engine");
    let created_at = created["created_at"].as_str().expect("time");
    assert!(
        chrono::DateTime::parse_from_rfc3339(created_at).is_ok() && created_at.contains('.'),
        "{created_at}"
    );
    let id = created["id"].as_str().expect("id");
    let patched = json_of(
        &app,
        &org,
        Method::PATCH,
        &format!("/api/v1/prospects/{id}"),
        Some(r#"{"email": "john@example.com"}"#),
    )
    .await;
    assert_eq!(patched["email"], "john@example.com");
    assert_eq!(patched["business_name"], "Fancy Burgers");
    // Both paths the seed shows for one prospect, and for creating one.
    let plural = json_of(
        &app,
        &org,
        Method::GET,
        &format!("/api/v1/prospects/{id}"),
        None,
    )
    .await;
    let singular = json_of(
        &app,
        &org,
        Method::GET,
        &format!("/api/v1/prospect/{id}"),
        None,
    )
    .await;
    assert_eq!(plural, singular);
    assert_eq!(plural, patched);
    let other = json_of(&app, &org, Method::POST, "/api/v1/users", Some(&body)).await;
    assert_eq!(other["object"], "prospect");
    let listed = json_of(&app, &org, Method::GET, "/api/v1/prospects", None).await;
    assert_eq!(listed["data"].as_array().expect("list").len(), 2);
    assert_eq!(listed["data"][0]["id"], id);
    // A user who owns prospects stays.
    let (status, _) = iso(
        &app,
        &org,
        Method::DELETE,
        &format!("/api/users/{user}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    // Unknown references: 422 naming the field.
    let unknown = "1ae64c8a-66be-42f9-902c-5dc92bb70f3b";
    for field in ["prospect_stage_id", "user_id", "merchant_type_id"] {
        let mut bad: Value = serde_json::from_str(&body).expect("json");
        bad[field] = json!(unknown);
        let (status, text) = iso(
            &app,
            &org,
            Method::POST,
            "/api/v1/prospects",
            Some(&bad.to_string()),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{text}");
        assert_eq!(
            serde_json::from_str::<Value>(&text).expect("json")["param"],
            field
        );
    }
    for (patch, field) in [
        (json!({"email": "nope"}), "email"),
        (json!({"mcc": "58"}), "mcc"),
        (json!({"source_type": ""}), "source_type"),
    ] {
        let (status, text) = iso(
            &app,
            &org,
            Method::PATCH,
            &format!("/api/v1/prospects/{id}"),
            Some(&patch.to_string()),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{text}");
        assert_eq!(
            serde_json::from_str::<Value>(&text).expect("json")["param"],
            field
        );
    }
    let (status, text) = iso(
        &app,
        &org,
        Method::DELETE,
        &format!("/api/v1/prospects/{id}"),
        None,
    )
    .await;
    assert_eq!((status, text.as_str()), (StatusCode::OK, ""));
}

/// The seed's simple proposal: its activity and every fee line but VMD Interchange, which the
/// seed's text cannot explain (docs/pricing.md).
#[tokio::test]
async fn a_simple_proposal_reproduces_the_seeds() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let prospect = prospect(&app, &org).await;
    let proposal = json_of(
        &app,
        &org,
        Method::POST,
        "/api/v1/proposals/simple",
        Some(&SIMPLE.replace("PROSPECT", &prospect)),
    )
    .await;
    assert_eq!(proposal["object"], "proposal");
    assert_eq!(proposal["prospect_id"], prospect.as_str());
    assert_eq!(proposal["program_features"], json!([]));
    assert_eq!(
        proposal["merchant_activity"],
        json!([
            {"type": "Visa", "volume": "14959.34", "transactions": "401.0"},
            {"type": "Mastercard", "volume": "4932.77", "transactions": "122.0"},
            {"type": "Discover", "volume": "107.89", "transactions": "4.0"},
            {"type": "American Express", "volume": "0", "transactions": "0"},
            {"type": "PIN Debit", "volume": "0", "transactions": "0"}
        ])
    );
    let seed = [
        ("amex_optblue", "AMEX OptBlue", "1.0", json!("0.0")),
        ("amex_per_item", "AMEX Per Item", "0.15", json!("0.0")),
        ("amex_volume", "AMEX Volume", "0.004", json!("0.0")),
        (
            "debit_network_access",
            "Debit Network Access",
            "1.0",
            json!("0.0"),
        ),
        (
            "discover_assessment",
            "Discover Assessment",
            "0.0013",
            json!("0.14"),
        ),
        ("discover_nabu", "Discover NABU", "0.0195", json!("0.08")),
        (
            "mastercard_assessment",
            "Mastercard Assessment",
            "0.0012",
            json!("5.92"),
        ),
        (
            "mastercard_nabu",
            "Mastercard NABU",
            "0.0185",
            json!("2.26"),
        ),
        ("monthly_fee", "Monthly Fee", "9.95", json!("9.95")),
        ("pci_monthly", "PCI Monthly", "9.95", json!("9.95")),
        ("pin_debit_monthly", "PIN Debit Monthly", "9.95", json!(0)),
        (
            "pin_debit_per_item",
            "PIN Debit Per Item",
            "0.2",
            json!("0.0"),
        ),
        (
            "visa_check_assessment",
            "Visa Check Assessment",
            "0.0011",
            json!("12.63"),
        ),
        (
            "visa_check_nabu",
            "Visa Check NABU",
            "0.0155",
            json!("4.85"),
        ),
        (
            "visa_credit_assessment",
            "Visa Credit Assessment",
            "0.0013",
            json!("4.52"),
        ),
        (
            "visa_credit_nabu",
            "Visa Credit NABU",
            "0.0195",
            json!("1.72"),
        ),
        ("vmd_per_item", "VMD Per Item", "0.08", json!("42.16")),
        ("vmd_volume", "VMD Volume", "0.0025", json!("50.0")),
    ];
    let fees = proposal["proposed_fees"].as_array().expect("fees");
    assert_eq!(fees.len(), 19);
    for (internal, name, amount, monthly) in seed {
        let fee = fees
            .iter()
            .find(|f| f["internal_name"] == internal)
            .unwrap_or_else(|| panic!("{internal} missing"));
        assert_eq!(
            keys(fee),
            ["amount", "internal_name", "monthly_amount", "name"]
        );
        assert_eq!(fee["name"], name);
        assert_eq!(fee["amount"], amount, "{internal}");
        assert_eq!(fee["monthly_amount"], monthly, "{internal}");
    }
    let interchange = fees
        .iter()
        .find(|f| f["internal_name"] == "vmd_interchange")
        .expect("vmd_interchange");
    assert!(
        interchange["monthly_amount"]
            .as_str()
            .expect("text")
            .parse::<f64>()
            .is_ok()
    );
    let id = proposal["id"].as_str().expect("id");
    let got = json_of(
        &app,
        &org,
        Method::GET,
        &format!("/api/v1/proposals/{id}"),
        None,
    )
    .await;
    assert_eq!(got, proposal);
    let listed = json_of(&app, &org, Method::GET, "/api/v1/proposals", None).await;
    assert_eq!(listed["object"], "list");
    assert_eq!(listed["data"][0], proposal);
    // num_transactions instead of avg_ticket, as a number.
    let by_count = json_of(
        &app,
        &org,
        Method::POST,
        "/api/v1/proposals/simple",
        Some(&format!(
            r#"{{"prospect_id": "{prospect}", "total_volume": 20000, "num_transactions": "527"}}"#
        )),
    )
    .await;
    assert_eq!(by_count["merchant_activity"], proposal["merchant_activity"]);
    for (body, field) in [
        (
            json!({"total_volume": "1", "avg_ticket": "1"}),
            "prospect_id",
        ),
        (
            json!({"prospect_id": prospect, "avg_ticket": "1"}),
            "total_volume",
        ),
        (
            json!({"prospect_id": prospect, "total_volume": "1"}),
            "avg_ticket",
        ),
        (
            json!({"prospect_id": prospect, "total_volume": "abc", "avg_ticket": "1"}),
            "total_volume",
        ),
        (
            json!({"prospect_id": prospect, "total_volume": "100", "num_transactions": "1.5"}),
            "num_transactions",
        ),
        (
            json!({"prospect_id": "9136dff2-bc86-4f71-8f0e-84dbb33a4ed0", "total_volume": "1", "avg_ticket": "1"}),
            "prospect_id",
        ),
    ] {
        let (status, text) = iso(
            &app,
            &org,
            Method::POST,
            "/api/v1/proposals/simple",
            Some(&body.to_string()),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {text}");
        assert_eq!(
            serde_json::from_str::<Value>(&text).expect("json")["param"],
            field,
            "{body}"
        );
    }
}

#[tokio::test]
async fn the_estimate_example_answers_the_seeds_shape() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let body = r#"{ "merchantActivity": [ {"type": "vs", "volume": 8000, "transactions": 100}, {"type": "mc", "volume": 2000, "transactions": 30} ], "totalCurrentFees": 320 }"#;
    let (status, text) = iso(
        &app,
        &org,
        Method::POST,
        "/api/estimate_statement_summary",
        Some(body),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let answer: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(
        keys(&answer),
        [
            "amexOptBlue",
            "margin",
            "pinDebitNetworkFees",
            "scheduleACost",
            "vmdCardBrandFees",
            "vmdInterchange"
        ]
    );
    assert_eq!(answer["scheduleACost"], "14.6");
    assert_eq!(answer["amexOptBlue"], Value::Null);
    assert_eq!(answer["pinDebitNetworkFees"], Value::Null);
    // The margin follows from the other figures: (320 − costs) ÷ 10,000, to 5 decimals.
    let figure = |k: &str| {
        answer[k]
            .as_str()
            .expect(k)
            .parse::<quittance_pricing::Decimal>()
            .expect("decimal")
    };
    let costs = figure("vmdInterchange") + figure("vmdCardBrandFees") + figure("scheduleACost");
    let expected = ((quittance_pricing::Decimal::from(320) - costs)
        / quittance_pricing::Decimal::from(10_000))
    .round_dp(5);
    assert_eq!(figure("margin"), expected);
    let with_amex = r#"{"merchantActivity": [{"type": "amex", "volume": "1000.00", "transactions": 10}, {"type": "pin_debit", "volume": "500", "transactions": 20}], "totalCurrentFees": "50"}"#;
    let answer = json_of(
        &app,
        &org,
        Method::POST,
        "/api/estimate_statement_summary",
        Some(with_amex),
    )
    .await;
    assert!(
        answer["amexOptBlue"].is_string() && answer["pinDebitNetworkFees"].is_string(),
        "{answer}"
    );
    assert_eq!(answer["vmdInterchange"], Value::Null);
    for (bad, field) in [
        (
            r#"{"merchantActivity": [{"type": "visa", "volume": 1, "transactions": 1}], "totalCurrentFees": 1}"#,
            "merchantActivity[0].type",
        ),
        (
            r#"{"merchantActivity": [{"type": "vs", "volume": "x", "transactions": 1}], "totalCurrentFees": 1}"#,
            "merchantActivity[0].volume",
        ),
        (
            r#"{"merchantActivity": [{"type": "vs", "volume": 1, "transactions": 1.5}], "totalCurrentFees": 1}"#,
            "merchantActivity[0].transactions",
        ),
        (r#"{"merchantActivity": []}"#, "totalCurrentFees"),
    ] {
        let (status, text) = iso(
            &app,
            &org,
            Method::POST,
            "/api/estimate_statement_summary",
            Some(bad),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {text}");
        assert_eq!(
            serde_json::from_str::<Value>(&text).expect("json")["param"],
            field,
            "{bad}"
        );
    }
}

/// The seed's estimate example: `scheduleACost` alone.
async fn schedule_a_cost(app: &TestApp, org: &Org) -> Value {
    let body = r#"{ "merchantActivity": [ {"type": "vs", "volume": 8000, "transactions": 100}, {"type": "mc", "volume": 2000, "transactions": 30} ], "totalCurrentFees": 320 }"#;
    json_of(
        app,
        org,
        Method::POST,
        "/api/estimate_statement_summary",
        Some(body),
    )
    .await["scheduleACost"]
        .clone()
}

#[tokio::test]
async fn schedule_a_is_the_organizations_own() {
    let app = spawn_app().await;
    let (org, other) = (app.org("acme").await, app.org("globex").await);
    let settings = json_of(&app, &org, Method::GET, "/api/pricing_settings", None).await;
    assert_eq!(
        settings,
        json!({"object": "pricing_settings", "scheduleA": {"rate": "0.0012", "perItem": "0.02"}})
    );

    // 0.15% of 10,000 plus $0.05 on 130 items: 15 + 6.5.
    let body = r#"{"scheduleA": {"rate": "0.0015", "perItem": 0.05}}"#;
    let changed = json_of(
        &app,
        &org,
        Method::PATCH,
        "/api/pricing_settings",
        Some(body),
    )
    .await;
    assert_eq!(
        changed["scheduleA"],
        json!({"rate": "0.0015", "perItem": "0.05"})
    );
    assert_eq!(schedule_a_cost(&app, &org).await, "21.5");
    assert_eq!(schedule_a_cost(&app, &other).await, "14.6");

    // A part left out keeps its value.
    let body = r#"{"scheduleA": {"perItem": "0.03"}}"#;
    let changed = json_of(
        &app,
        &org,
        Method::PATCH,
        "/api/pricing_settings",
        Some(body),
    )
    .await;
    assert_eq!(
        changed["scheduleA"],
        json!({"rate": "0.0015", "perItem": "0.03"})
    );
    let read = json_of(&app, &org, Method::GET, "/api/pricing_settings", None).await;
    assert_eq!(read, changed);
    assert_eq!(schedule_a_cost(&app, &org).await, "18.9");

    for (bad, field) in [
        (r#"{"scheduleA": {"rate": "1"}}"#, "scheduleA.rate"),
        (r#"{"scheduleA": {"rate": "-0.001"}}"#, "scheduleA.rate"),
        (
            r#"{"scheduleA": {"perItem": "100.01"}}"#,
            "scheduleA.perItem",
        ),
        (r#"{"scheduleA": {"perItem": "two"}}"#, "scheduleA.perItem"),
    ] {
        let (status, text) = iso(
            &app,
            &org,
            Method::PATCH,
            "/api/pricing_settings",
            Some(bad),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {text}");
        let error: Value = serde_json::from_str(&text).expect("json");
        assert_eq!(error["param"], field, "{bad}");
    }
    // Refused changes left the figures as they were.
    assert_eq!(schedule_a_cost(&app, &org).await, "18.9");
}

#[tokio::test]
async fn handoff_links_render_for_a_proposal() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let owned = owned_pricing(&app, &org).await;
    let proposal = owned["proposal"].as_str().expect("id");
    let rendered = json_of(
        &app,
        &org,
        Method::GET,
        &format!("/api/v1/proposals/{proposal}/handoff_links"),
        None,
    )
    .await;
    assert_eq!(rendered["data"][0]["label"], "Start Application");
    assert_eq!(
        rendered["data"][0]["url"],
        format!("https://apply.example.com/start?proposal={proposal}")
    );
    assert_eq!(rendered["data"][0]["agent_view"], true);
    assert_eq!(rendered["data"][0]["merchant_view"], false);
    let (status, text) = iso(
        &app,
        &org,
        Method::POST,
        "/api/proposal_handoff_links",
        Some(r#"{"label": "Go", "url_template": "javascript:alert({proposal_id})"}"#),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{text}");
    assert_eq!(
        serde_json::from_str::<Value>(&text).expect("json")["param"],
        "url_template"
    );
    // Programs and merchant types: the defaults are there and checked when changed.
    let program = owned["program"].as_str().expect("id");
    let got = json_of(
        &app,
        &org,
        Method::GET,
        &format!("/api/programs/{program}"),
        None,
    )
    .await;
    assert_eq!(got["fees"].as_array().expect("fees").len(), 19);
    assert_eq!(
        got["fees"][0],
        json!({"name": "VMD Volume", "internal_name": "vmd_volume", "amount": "0.0025", "basis": "volume:vmd"})
    );
    let (status, text) = iso(&app, &org, Method::PATCH, &format!("/api/programs/{program}"),
        Some(r#"{"fees": [{"name": "X", "internal_name": "x", "amount": "1", "basis": "volume:nowhere"}]}"#)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{text}");
    assert_eq!(
        serde_json::from_str::<Value>(&text).expect("json")["param"],
        "fees[0].basis"
    );
    let (status, _) = iso(
        &app,
        &org,
        Method::DELETE,
        &format!("/api/programs/{program}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let merchant_type = owned["merchant_type"].as_str().expect("id");
    let (status, text) = iso(&app, &org, Method::PATCH, &format!("/api/merchant_types/{merchant_type}"),
        Some(r#"{"card_mix": [{"type": "visa_credit", "volume_share": "0.5", "transactions_share": "1"}]}"#)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{text}");
    assert_eq!(
        serde_json::from_str::<Value>(&text).expect("json")["param"],
        "card_mix"
    );
}
