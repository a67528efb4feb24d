use crate::helpers::spawn_app;
use reqwest::StatusCode;
use serde_json::{Value, json};

const HEADER: &str = "account_number,first_name,last_name,email,reference,client_number,original_balance,balance,service_date";

#[tokio::test]
async fn a_csv_import_applies_good_rows_and_reports_bad_ones_by_row_and_column() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let csv = format!(
        "{HEADER}\n\
         A-1,Jane,Doe,jane@example.com,V-1,C-1,125.5,,2026-01-01\n\
         A-1,Jane,Doe,jane@example.com,V-2,C-1,74.50,70,\n\
         A-2,John,Roe,not-an-email,V-1,C-2,10,,\n\
         A-3,Ann,Lee,,V-1,C-1,1.001,,\n\
         A-3,Ann,Lee,,V-2,C-1,5,,2026-02-30\n\
         A-4,Bo,Chu,,V-1,,3,,\n"
    );
    let job = app.bulk_import(&org, "text/csv", csv.clone()).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(job["format"], "csv");
    assert_eq!(
        (job["rows_read"].as_i64(), job["rows_rejected"].as_i64()),
        (Some(6), Some(3))
    );
    assert_eq!(
        (
            job["accounts_created"].as_i64(),
            job["sub_accounts_created"].as_i64()
        ),
        (Some(2), Some(3))
    );
    assert_eq!(
        job["rejections"],
        json!([
            {"row": 4, "field": "email", "reason": "must be an e-mail address"},
            {"row": 5, "field": "original_balance", "reason": "has more decimal places than USD allows (2)"},
            {"row": 6, "field": "service_date", "reason": "must be a date in the YYYY-MM-DD format"}
        ])
    );
    assert!(
        app.get_text("/v1/accounts?account_number=A-1", &org)
            .await
            .contains(r#""balance":195.50"#)
    );
    assert_eq!(
        app.get("/v1/accounts?account_number=A-3", &org).await.1["total"],
        0,
        "a bad row is never half-written"
    );

    let again = app.bulk_import(&org, "text/csv", csv).await;
    assert_eq!(again["status"], "completed");
    assert_eq!(
        again["rows_unchanged"], 3,
        "re-importing the file changes nothing"
    );
    assert_eq!(
        (
            again["accounts_created"].as_i64(),
            again["accounts_updated"].as_i64()
        ),
        (Some(0), Some(0))
    );
    assert_eq!(
        (
            again["sub_accounts_created"].as_i64(),
            again["sub_accounts_updated"].as_i64()
        ),
        (Some(0), Some(0))
    );
}

#[tokio::test]
async fn a_row_refused_by_the_stored_data_is_rejected_alone() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    app.import(&org, json!({"account_number": "A-1", "currency": "EUR", "sub_accounts": [{"reference": "V-0", "original_balance": 1}]})).await;
    let csv = "account_number,currency,reference,original_balance\nA-1,EUR,V-1,2\nA-1,USD,V-2,3\nA-1,EUR,V-3,4\n";
    let job = app.bulk_import(&org, "text/csv", csv).await;
    assert_eq!(job["rows_rejected"], 1, "{job}");
    assert_eq!(job["rejections"][0]["row"], 3);
    assert_eq!(job["rejections"][0]["field"], "currency");
    assert_eq!(job["sub_accounts_created"], 2);
}

#[tokio::test]
async fn an_ndjson_import_takes_one_document_per_line() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let lines = [
        json!({"account_number": "N-1", "sub_accounts": [{"reference": "V-1", "original_balance": 1.5}]}).to_string(),
        String::new(),
        r#"{"account_number": "N-2", "sub_accounts": [{"reference": "V-1", "original_balance": true}]}"#.to_owned(),
        r#"{"account_number": "N-3", "sub_accounts": []}"#.to_owned(),
        "{ not json".to_owned(),
        json!({"account_number": "N-4", "currency": "CAD", "sub_accounts": [{"reference": "V-1", "original_balance": "2"}, {"reference": "V-2", "original_balance": 3}]}).to_string(),
    ];
    let job = app
        .bulk_import(&org, "application/x-ndjson", lines.join("\n"))
        .await;
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(
        (job["rows_read"].as_i64(), job["rows_rejected"].as_i64()),
        (Some(5), Some(3))
    );
    let rows: Vec<(i64, Value)> = job["rejections"]
        .as_array()
        .expect("list")
        .iter()
        .map(|r| (r["row"].as_i64().expect("row"), r["field"].clone()))
        .collect();
    assert_eq!(
        rows,
        vec![
            (3, json!("sub_accounts[0].original_balance")),
            (4, json!("sub_accounts")),
            (5, Value::Null)
        ]
    );
    assert_eq!(job["sub_accounts_created"], 3);
    let n4 = app.get_text("/v1/accounts?account_number=N-4", &org).await;
    assert!(n4.contains(r#""currency":"CAD","balance":5.00"#), "{n4}");
}

#[tokio::test]
async fn the_first_thousand_rejections_are_listed_and_all_are_counted() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let mut csv = String::from("account_number,reference,original_balance\n");
    for i in 0..1200 {
        csv.push_str(&format!("B-{i},V,not-money\n"));
    }
    csv.push_str("G-1,V,1\n");
    let job = app.bulk_import(&org, "text/csv", csv).await;
    assert_eq!(job["rows_rejected"], 1200);
    assert_eq!(job["rejections"].as_array().map(Vec::len), Some(1000));
    assert_eq!(job["rejections"][999]["row"], 1001);
    assert_eq!(job["accounts_created"], 1);
}

#[tokio::test]
async fn a_large_file_is_streamed_and_applied_across_many_transactions() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let mut csv =
        String::from("account_number,last_name,reference,client_number,original_balance\n");
    for account in 0..4000 {
        for sub in 0..5 {
            csv.push_str(&format!(
                "L-{account:06},Name{account},V-{sub},C-{},{}.{:02}\n",
                account % 7,
                account % 500,
                sub * 7
            ));
        }
    }
    let job = app.bulk_import(&org, "text/csv", csv).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(
        (job["rows_read"].as_i64(), job["rows_rejected"].as_i64()),
        (Some(20_000), Some(0))
    );
    assert_eq!(
        (
            job["accounts_created"].as_i64(),
            job["sub_accounts_created"].as_i64()
        ),
        (Some(4000), Some(20_000))
    );
    assert_eq!(app.get("/v1/accounts", &org).await.1["total"], 4000);
    assert_eq!(app.get("/v1/clients", &org).await.1["total"], 7);
    let one = app
        .get_text("/v1/accounts?account_number=L-001234", &org)
        .await;
    assert!(
        one.contains(r#""balance":1170.70"#),
        "5 × 234 + (0+7+14+21+28) cents: {one}"
    );
}

#[tokio::test]
async fn bad_uploads_are_refused_before_a_job_starts() {
    let app = spawn_app().await;
    let org = app.org("acme").await;
    let (status, body) = crate::helpers::send(
        app.request(reqwest::Method::POST, "/v1/imports", &org)
            .body("a,b\n"),
    )
    .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{body}");
    let (status, body) = crate::helpers::send(
        app.request(reqwest::Method::POST, "/v1/imports?format=xml", &org)
            .body("a"),
    )
    .await;
    assert_eq!(
        (status, body["param"].as_str()),
        (StatusCode::BAD_REQUEST, Some("format"))
    );
    let (status, _) = crate::helpers::send(
        app.request(reqwest::Method::POST, "/v1/imports?format=csv", &org)
            .body(""),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let job = app
        .bulk_import(
            &org,
            "text/csv",
            "account_number,reference,original_balance,colour\nA,V,1,red\n",
        )
        .await;
    assert_eq!(job["status"], "failed");
    assert!(
        job["error"]
            .as_str()
            .is_some_and(|e| e.contains("column 4 is not a known column") && !e.contains("colour")),
        "{job}"
    );
    // A file without its header: the first data cell (a card number) is not echoed, kept or
    // logged.
    let job = app
        .bulk_import(&org, "text/csv", "4111111111111111,V,1\nA,V,2\n")
        .await;
    assert_eq!(job["status"], "failed");
    let error = job["error"].as_str().expect("error");
    assert!(
        error.contains("column 1") && !error.contains("4111111111111111"),
        "{error}"
    );
    crate::helpers::assert_not_in_database_files(&app, "4111111111111111");
}

#[tokio::test]
async fn housekeeping_fails_a_stalled_import_and_removes_its_upload() {
    use quittance_domain::Clock as _;
    use quittance_domain::ids::ImportId;
    use quittance_domain::import::ImportFormat;
    let app = spawn_app().await;
    let org = app.org("acme").await;
    // A job left running by a process that stopped, with its upload still on disk.
    let id = ImportId::generate();
    let (job, org_id, now) = (
        id.clone(),
        org.creds.organization_id.clone(),
        app.clock.now(),
    );
    app.state
        .db
        .write(move |tx| {
            Box::pin(async move {
                quittance_store::repo::imports::insert_import(
                    tx,
                    &org_id,
                    &job,
                    ImportFormat::Csv,
                    now,
                )
                .await
            })
        })
        .await
        .expect("job");
    let spool = quittance_services::bulk_import::spool_path(
        &app.state.config.data_dir,
        &id,
        ImportFormat::Csv,
    );
    std::fs::create_dir_all(spool.parent().expect("dir")).expect("dir");
    std::fs::write(&spool, "account_number,reference,original_balance\n").expect("spool");

    assert_eq!(
        quittance_services::housekeeping::housekeeping_once(&app.state)
            .await
            .expect("sweep")
            .stalled_imports,
        0,
        "a fresh job is left alone"
    );
    assert!(spool.exists());
    app.clock.advance(chrono::Duration::minutes(6));
    let swept = quittance_services::housekeeping::housekeeping_once(&app.state)
        .await
        .expect("sweep");
    assert_eq!(swept.stalled_imports, 1);
    assert!(!spool.exists(), "the upload of the failed job is removed");
    let (_, job) = app.get(&format!("/v1/imports/{id}"), &org).await;
    assert_eq!(job["status"], "failed");
}
