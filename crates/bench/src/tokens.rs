//! `tokens`: `POST /oauth/token` per second.

use crate::Options;
use crate::support::{Repeated, drive, ms, percentile, serve};
use quittance_domain::{Clock, SystemClock};
use quittance_services::credentials::issue_credentials;

pub async fn tokens_bench(options: &Options) -> Result<(), String> {
    let work = tempfile::tempdir().map_err(|e| e.to_string())?;
    let (served, state) = serve(work.path()).await?;
    let issued = issue_credentials(&served.db, &state.hasher, "bench", SystemClock.now())
        .await
        .map_err(|e| e.to_string())?;
    let body = serde_json::json!({"grant_type": "client_credentials", "client_id": issued.client_id, "client_secret": issued.client_secret.expose()});
    let http = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(options.concurrency)
        .build()
        .map_err(|e| e.to_string())?;
    let url = format!("{}/oauth/token", served.base);
    println!(
        "\n## POST /oauth/token, {} concurrent clients, {} s (SQLite, synchronous=FULL)",
        options.concurrency, options.seconds
    );
    let driven = drive(
        &http,
        &Repeated {
            method: reqwest::Method::POST,
            url,
            key: None,
            body: body.to_string(),
        },
        options.concurrency,
        options.seconds,
    )
    .await?;
    println!(
        "{:.0} tokens/s (goal ≥ 5,000)  p50 {:.2} ms  p99 {:.2} ms  ({} tokens; the load generator shares the 2 cores)",
        driven.rate,
        ms(percentile(&driven.latencies, 0.5)),
        ms(percentile(&driven.latencies, 0.99)),
        driven.latencies.len()
    );
    Ok(())
}
