//! `accounts`: `GET /v1/accounts` pages with 1,000,000 accounts.

use crate::Options;
use crate::import::generate_csv;
use crate::support::{measure, ms, percentile, serve};
use quittance_domain::{Clock, SystemClock};
use quittance_services::credentials::issue_credentials;
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

pub async fn accounts_bench(options: &Options) -> Result<(), String> {
    let accounts = if options.accounts == 0 {
        1_000_000
    } else {
        options.accounts
    };
    let work = tempfile::tempdir().map_err(|e| e.to_string())?;
    let csv = work.path().join("accounts.csv");
    generate_csv(&csv, accounts, 1)?;
    let data: PathBuf = work.path().join("quittance");
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    println!("\n## GET /v1/accounts with {accounts} accounts (SQLite)");
    let (elapsed, _, _) = measure(Command::new(exe).arg("import-child").arg(&csv).arg(&data))?;
    println!(
        "loaded {accounts} accounts in {:.1} s",
        elapsed.as_secs_f64()
    );
    let (served, state) = serve(&data).await?;
    let issued = issue_credentials(&served.db, &state.hasher, "bench", SystemClock.now())
        .await
        .map_err(|e| e.to_string())?;
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .map_err(|e| e.to_string())?;
    let key = issued.api_key.expose().to_owned();
    let last_page = accounts.div_ceil(50);
    let mut pages = vec![1, 1000.min(last_page), last_page];
    pages.dedup();
    for page in pages {
        let url = format!("{}/v1/accounts?current_page={page}", served.base);
        let mut samples = Vec::with_capacity(200);
        for round in 0..220 {
            let started = Instant::now();
            let response = http
                .get(&url)
                .header("Authorization", &key)
                .send()
                .await
                .map_err(|e| e.to_string())?;
            let body = response.bytes().await.map_err(|e| e.to_string())?;
            if round >= 20 {
                samples.push(started.elapsed());
            }
            if body.len() < 100 {
                return Err(format!(
                    "page {page} answered {}",
                    String::from_utf8_lossy(&body)
                ));
            }
        }
        samples.sort();
        println!(
            "page {page:>6}: p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms  (200 sequential requests over HTTP; ceiling 10 ms)",
            ms(percentile(&samples, 0.5)),
            ms(percentile(&samples, 0.99)),
            ms(samples.last().copied().unwrap_or_default())
        );
    }
    Ok(())
}
