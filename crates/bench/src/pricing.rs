//! `pricing`: proposals and estimates per second against a bare JSON POST.

use crate::Options;
use crate::support::{Repeated, drive, ms, percentile, serve_with_key};

/// The ceiling for a JSON POST: an axum server on loopback that parses the body and answers
/// a small JSON object, with nothing behind it.
pub async fn bare_post_server() -> Result<String, String> {
    async fn echo(
        axum::Json(body): axum::Json<serde_json::Value>,
    ) -> axum::Json<serde_json::Value> {
        axum::Json(
            serde_json::json!({"object": "echo", "fields": body.as_object().map_or(0, |o| o.len())}),
        )
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let app = axum::Router::new().route("/", axum::routing::post(echo));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(format!("http://{addr}/"))
}

/// `POST /api/v1/proposals/simple` and `POST /api/estimate_statement_summary` per second,
/// beside a bare JSON POST to a server that does nothing.
pub async fn pricing_bench(options: &Options) -> Result<(), String> {
    let (clients, seconds) = (options.concurrency, options.seconds);
    let work = tempfile::tempdir().map_err(|e| e.to_string())?;
    let (served, key, http) = serve_with_key(work.path(), clients).await?;
    let get = |path: &str| {
        http.get(format!("{}{path}", served.base))
            .header("Authorization", &key)
            .send()
    };
    let first_id = |list: serde_json::Value| {
        list["data"][0]["id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("an empty list: {list}"))
    };
    let json = |r: reqwest::Response| async move {
        r.json::<serde_json::Value>()
            .await
            .map_err(|e| e.to_string())
    };
    let stage = first_id(
        json(
            get("/api/prospect_stages")
                .await
                .map_err(|e| e.to_string())?,
        )
        .await?,
    )?;
    let user = json(
        http.post(format!("{}/api/users", served.base))
            .header("Authorization", &key)
            .json(&serde_json::json!({"email": "agent@example.com", "name": "Agent", "userName": "agent"}))
            .send()
            .await
            .map_err(|e| e.to_string())?,
    )
    .await?;
    let prospect = json(
        http.post(format!("{}/api/v1/prospects", served.base))
            .header("Authorization", &key)
            .json(&serde_json::json!({"prospect_stage_id": stage, "source_type": "bench", "user_id": user["id"]}))
            .send()
            .await
            .map_err(|e| e.to_string())?,
    )
    .await?;
    let prospect = prospect["id"].as_str().ok_or("no prospect")?;
    println!(
        "\n## ISO Amp pricing: {clients} concurrent clients, {seconds} s each (SQLite, synchronous=FULL)"
    );
    let bare = drive(
        &http,
        &Repeated {
            method: reqwest::Method::POST,
            url: bare_post_server().await?,
            key: None,
            body: r#"{"total_volume": "10000", "num_transactions": 200}"#.to_owned(),
        },
        clients,
        seconds,
    )
    .await?;
    println!(
        "bare JSON POST: {:.0}/s  p50 {:.2} ms  p99 {:.2} ms",
        bare.rate,
        ms(percentile(&bare.latencies, 0.5)),
        ms(percentile(&bare.latencies, 0.99))
    );
    let estimate = r#"{ "merchantActivity": [ {"type": "vs", "volume": 8000, "transactions": 100}, {"type": "mc", "volume": 2000, "transactions": 30} ], "totalCurrentFees": 320 }"#;
    let proposal = serde_json::json!({"prospect_id": prospect, "total_volume": "20000.00", "avg_ticket": "37.25"});
    // Each priced endpoint after its floor: the same API key check and the same kind of
    // transaction with no pricing in it, so the difference is what the math and its reads
    // cost.
    let runs = [
        (
            "GET /api/pricing_settings (the API key and one read: the estimate's floor)",
            reqwest::Method::GET,
            "/api/pricing_settings",
            String::new(),
        ),
        (
            "POST /api/estimate_statement_summary (the seed's example)",
            reqwest::Method::POST,
            "/api/estimate_statement_summary",
            estimate.to_owned(),
        ),
        (
            "PATCH /api/pricing_settings (the API key, one read and one write: a proposal's floor)",
            reqwest::Method::PATCH,
            "/api/pricing_settings",
            r#"{"scheduleA": {"rate": "0.0012"}}"#.to_owned(),
        ),
        (
            "POST /api/v1/proposals/simple (priced and stored)",
            reqwest::Method::POST,
            "/api/v1/proposals/simple",
            proposal.to_string(),
        ),
    ];
    let mut floor = None;
    for (name, method, path, body) in runs {
        let driven = drive(
            &http,
            &Repeated {
                method: method.clone(),
                url: format!("{}{path}", served.base),
                key: Some(key.clone()),
                body,
            },
            clients,
            seconds,
        )
        .await?;
        let against_floor = match floor.take() {
            Some(rate) if method == reqwest::Method::POST => {
                format!(", {:.2}× its floor", driven.rate / rate)
            }
            _ => {
                floor = Some(driven.rate);
                String::new()
            }
        };
        println!(
            "{name}: {:.0}/s  p50 {:.2} ms  p99 {:.2} ms  ({:.2}× the bare POST{against_floor})",
            driven.rate,
            ms(percentile(&driven.latencies, 0.5)),
            ms(percentile(&driven.latencies, 0.99)),
            driven.rate / bare.rate
        );
    }
    Ok(())
}
