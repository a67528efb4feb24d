//! `payments`: `POST /v1/payments` against one-row SQLite commits, or pgbench TPC-B on PostgreSQL.

use crate::Options;
use crate::support::{backend_name, bench_database, ms, peak_rss_mib, percentile, serve_on};
use quittance_domain::{Clock, SystemClock};
use quittance_services::credentials::issue_credentials;
use quittance_store::DatabaseLocation;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The SQLite ceiling: one-row transactions committed one by one through rusqlite, with the
/// server's settings (WAL, synchronous=FULL), on the same disk, for `seconds`.
pub fn sqlite_commits_per_second(dir: &Path, seconds: u64) -> Result<f64, String> {
    let conn = rusqlite::Connection::open(dir.join("ceiling.db")).map_err(|e| e.to_string())?;
    conn.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;
         CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL);",
    )
    .map_err(|e| e.to_string())?;
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut n = 0u64;
    while Instant::now() < deadline {
        conn.execute("INSERT INTO t (v) VALUES ('x')", [])
            .map_err(|e| e.to_string())?;
        n += 1;
    }
    Ok(n as f64 / started.elapsed().as_secs_f64())
}

/// The PostgreSQL ceiling: pgbench's TPC-B-like transactions per second, 64 clients, on the
/// same server.
pub fn pgbench_tps(url: &str, seconds: u64, clients: usize) -> Result<f64, String> {
    let pgbench = ["pgbench", "/usr/lib/postgresql/15/bin/pgbench"]
        .into_iter()
        .find(|p| Command::new(p).arg("--version").output().is_ok())
        .ok_or("pgbench not found")?;
    let init = Command::new(pgbench)
        .args(["-i", "-q", "-s", "10", url])
        .output()
        .map_err(|e| e.to_string())?;
    if !init.status.success() {
        return Err(format!(
            "pgbench -i: {}",
            String::from_utf8_lossy(&init.stderr)
        ));
    }
    let run = Command::new(pgbench)
        .args([
            "-c",
            &clients.to_string(),
            "-j",
            "2",
            "-T",
            &seconds.to_string(),
            "-b",
            "tpcb-like",
            url,
        ])
        .output()
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&run.stdout);
    text.lines()
        .find_map(|l| l.strip_prefix("tps = "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("no tps in pgbench's output: {text}"))
}

/// Runs `clients` loops of saved-card payments (two allocations, a fresh Idempotency-Key
/// each) for `seconds`; with `pace`, each client waits for its next slot so that all of them
/// together send `pace` requests per second. Returns payments/s and the sorted latencies.
pub async fn drive_payments(
    base: &str,
    key: &str,
    targets: Arc<Vec<(String, String, [String; 2])>>,
    clients: usize,
    seconds: u64,
    pace: Option<f64>,
    run: &str,
) -> Result<(f64, Vec<Duration>), String> {
    let http = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(clients)
        .build()
        .map_err(|e| e.to_string())?;
    let url = format!("{base}/v1/payments");
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let failures = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (http, url, key, targets, failures, run) = (
            http.clone(),
            url.clone(),
            key.to_owned(),
            targets.clone(),
            failures.clone(),
            run.to_owned(),
        );
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let interval = pace.map(|rate| Duration::from_secs_f64(clients as f64 / rate));
            let mut next_slot = started + interval.map_or(Duration::ZERO, |i| i.mul_f64(c as f64 / clients as f64));
            let mut n = 0u64;
            while Instant::now() < deadline {
                if let Some(interval) = interval {
                    tokio::time::sleep_until(next_slot.into()).await;
                    next_slot += interval;
                }
                let (account, method, subs) = &targets[c % targets.len()];
                let body = serde_json::json!({"account_id": account, "amount": "0.02", "payment_method_id": method,
                    "allocations": [{"sub_account_id": subs[0], "amount": "0.01"}, {"sub_account_id": subs[1], "amount": "0.01"}]});
                let sent = Instant::now();
                let ok = match http
                    .post(&url)
                    .header("Authorization", &key)
                    .header("Idempotency-Key", format!("{run}-{c}-{n}"))
                    .json(&body)
                    .send()
                    .await
                {
                    Ok(r) => r.status() == 201 && r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                n += 1;
                if ok {
                    latencies.push(sent.elapsed());
                } else {
                    failures.fetch_add(1, Ordering::Relaxed);
                }
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.map_err(|e| e.to_string())?);
    }
    let elapsed = started.elapsed();
    let failed = failures.load(Ordering::Relaxed);
    if failed > 0 {
        return Err(format!("{failed} payments failed"));
    }
    latencies.sort();
    Ok((latencies.len() as f64 / elapsed.as_secs_f64(), latencies))
}

/// A payer: the account id, its saved method, and its two sub-accounts.
pub type Target = (String, String, [String; 2]);

/// One account per client, with two large sub-accounts and a saved Visa, made through the API.
pub async fn payment_targets(base: &str, key: &str, clients: usize) -> Result<Vec<Target>, String> {
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .map_err(|e| e.to_string())?;
    let mut targets = Vec::new();
    for a in 0..clients {
        let post = |path: &str, body: serde_json::Value| {
            http.post(format!("{base}{path}"))
                .header("Authorization", key)
                .json(&body)
                .send()
        };
        let imported: serde_json::Value = post("/v1/import", serde_json::json!({"account_number": format!("B-{a}"),
                "sub_accounts": [{"reference": "V-1", "original_balance": "10000000.00"}, {"reference": "V-2", "original_balance": "10000000.00"}]}))
            .await
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        let account = imported["account"]["id"]
            .as_str()
            .ok_or("import failed")?
            .to_owned();
        let subs = [
            imported["sub_accounts"][0]["id"]
                .as_str()
                .ok_or("no sub-account")?
                .to_owned(),
            imported["sub_accounts"][1]["id"]
                .as_str()
                .ok_or("no sub-account")?
                .to_owned(),
        ];
        let method: serde_json::Value = post("/v1/payment_methods", serde_json::json!({"account_id": account,
                "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2035, "holder_name": "Bench"}}))
            .await
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        let method = method["payment_method_id"]
            .as_str()
            .ok_or("no method")?
            .to_owned();
        targets.push((account, method, subs));
    }
    Ok(targets)
}

pub async fn payments_bench(options: &Options) -> Result<(), String> {
    let clients = options.concurrency;
    let work = tempfile::tempdir().map_err(|e| e.to_string())?;
    let (db, test_db) = bench_database(work.path()).await?;
    let (ceiling_name, ceiling) = match &test_db {
        None => (
            "one-row commits/s of a bare rusqlite loop (synchronous=FULL)",
            sqlite_commits_per_second(work.path(), options.seconds)?,
        ),
        Some(t) => {
            let DatabaseLocation::Postgres(url) = &t.location else {
                return Err("expected PostgreSQL".into());
            };
            (
                "pgbench TPC-B-like transactions/s (64 clients, scale 10)",
                pgbench_tps(url, options.seconds, clients)?,
            )
        }
    };
    println!(
        "\n## POST /v1/payments: saved card, Idempotency-Key, two allocations; {clients} connections, {} s ({})",
        options.seconds,
        backend_name(&db)
    );
    let (served, state) = serve_on(db, work.path()).await?;
    let issued = issue_credentials(&served.db, &state.hasher, "bench", SystemClock.now())
        .await
        .map_err(|e| e.to_string())?;
    let key = issued.api_key.expose().to_owned();
    let targets = payment_targets(&served.base, &key, clients).await?;
    let targets = Arc::new(targets);
    let (max_rate, latencies) = drive_payments(
        &served.base,
        &key,
        targets.clone(),
        clients,
        options.seconds,
        None,
        "max",
    )
    .await?;
    println!(
        "{max_rate:.0} payments/s at full load (ceiling: {ceiling:.0} {ceiling_name}; goal ≥ 1.0×, measured {:.2}×)  p50 {:.2} ms  p99 {:.2} ms",
        max_rate / ceiling,
        ms(percentile(&latencies, 0.5)),
        ms(percentile(&latencies, 0.99))
    );
    let half = max_rate / 2.0;
    let (rate, latencies) = drive_payments(
        &served.base,
        &key,
        targets,
        clients,
        options.seconds,
        Some(half),
        "half",
    )
    .await?;
    println!(
        "{rate:.0} payments/s paced at half the maximum: p50 {:.2} ms  p99 {:.2} ms (goal p99 < 20 ms)",
        ms(percentile(&latencies, 0.5)),
        ms(percentile(&latencies, 0.99))
    );
    let verified = served
        .db
        .read(|tx| Box::pin(async move { quittance_store::repo::ledger::verify(tx).await }))
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "peak RSS {:.0} MiB (server and load generator in one process; goal < 150 MB); ledger verify: {} breaks over {} payments",
        peak_rss_mib("self").unwrap_or(0.0),
        verified.breaks.len(),
        verified.payments
    );
    Ok(())
}
