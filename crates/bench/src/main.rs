//! Benchmarks that print figures, each beside the ceiling it is measured against.
//!
//! ```text
//! cargo run --release -p quittance-bench -- import     # 1,000,000 sub-accounts from CSV vs sqlite3 .import
//! cargo run --release -p quittance-bench -- accounts   # GET /v1/accounts pages with 1,000,000 accounts
//! cargo run --release -p quittance-bench -- tokens     # POST /oauth/token per second
//! cargo run --release -p quittance-bench -- payments   # POST /v1/payments vs one-row SQLite commits
//! scripts/with-postgres cargo run --release -p quittance-bench -- payments  # … vs pgbench TPC-B
//! cargo run --release -p quittance-bench -- plans      # the scheduler on 100,000 due installments vs POST /v1/payments
//! cargo run --release -p quittance-bench -- webhooks   # deliveries/s vs a bare HTTP client; commit-to-attempt latency
//! cargo run --release -p quittance-bench -- pricing    # proposals and estimates per second vs a bare HTTP POST
//! cargo run --release -p quittance-bench -- statements # statement analyses end to end, 5-page PDFs; peak RSS
//! cargo run --release -p quittance-bench -- all
//! ```
//! Options: `--accounts N`, `--subs K`, `--seconds S`, `--concurrency C`.

use quittance_domain::events::EventType;
use quittance_domain::ids::ImportId;
use quittance_domain::ids::OrganizationId;
use quittance_domain::import::ImportFormat;
use quittance_domain::{Clock, SystemClock};
use quittance_server::http::state::AppState;
use quittance_services::bulk_import::{self, Progress};
use quittance_services::config::Config;
use quittance_services::credentials::{SecretHasher, issue_credentials};
use quittance_services::webhooks::{delivery, sample};
use quittance_store::repo::{access, imports};
use quittance_store::{DatabaseLocation, Db};
use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

struct Options {
    accounts: u64,
    subs: u64,
    seconds: u64,
    concurrency: usize,
}

fn option(args: &[String], name: &str, default: u64) -> Result<u64, String> {
    match args.iter().position(|a| a == name) {
        None => Ok(default),
        Some(i) => args
            .get(i + 1)
            .and_then(|v| v.replace('_', "").parse().ok())
            .ok_or_else(|| format!("{name} takes a number")),
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = run(&args).await;
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("quittance-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: &[String]) -> Result<(), String> {
    let command = args.first().map(String::as_str).unwrap_or("all");
    if command == "import-child" {
        let csv = args.get(1).ok_or("import-child CSV DATA_DIR")?;
        let dir = args.get(2).ok_or("import-child CSV DATA_DIR")?;
        return import_child(Path::new(csv), Path::new(dir)).await;
    }
    let options = Options {
        accounts: option(args, "--accounts", 0)?,
        subs: option(args, "--subs", 5)?,
        seconds: option(args, "--seconds", 10)?,
        concurrency: usize::try_from(option(args, "--concurrency", 64)?)
            .map_err(|e| e.to_string())?,
    };
    machine();
    match command {
        "import" => import_bench(&options).await,
        "accounts" => accounts_bench(&options).await,
        "tokens" => tokens_bench(&options).await,
        "payments" => payments_bench(&options).await,
        "plans" => plans_bench(&options).await,
        "webhooks" => webhooks_bench(&options).await,
        "pricing" => pricing_bench(&options).await,
        "statements" => statements_bench(&options).await,
        "all" => {
            import_bench(&options).await?;
            accounts_bench(&options).await?;
            tokens_bench(&options).await?;
            payments_bench(&options).await?;
            plans_bench(&options).await?;
            webhooks_bench(&options).await?;
            pricing_bench(&options).await?;
            statements_bench(&options).await
        }
        other => Err(format!(
            "unknown benchmark {other:?}: import, accounts, tokens, payments, plans, webhooks, pricing, statements or all"
        )),
    }
}

fn machine() {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    println!("machine: {cores} cores, {cpu}");
}

/// The high-water mark of a process's resident memory, in MiB, from /proc.
fn peak_rss_mib(pid: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kib / 1024.0)
}

/// Runs a command to its end; returns its wall time and peak RSS (sampled every 20 ms).
fn measure(command: &mut Command) -> Result<(Duration, f64, String), String> {
    let started = Instant::now();
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| e.to_string())?;
    let pid = child.id().to_string();
    let mut peak: f64 = 0.0;
    loop {
        if let Some(rss) = peak_rss_mib(&pid) {
            peak = peak.max(rss);
        }
        if child.try_wait().map_err(|e| e.to_string())?.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let elapsed = started.elapsed();
    let output = child.wait_with_output().map_err(|e| e.to_string())?;
    if !output.status.success() {
        return Err(format!("{command:?} failed"));
    }
    Ok((
        elapsed,
        peak,
        String::from_utf8_lossy(&output.stdout).into_owned(),
    ))
}

const FIRST: [&str; 8] = [
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda",
];
const LAST: [&str; 8] = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
];
const STREETS: [&str; 6] = [
    "Main St", "Oak Ave", "Pine Rd", "Maple Dr", "Cedar Ln", "Elm St",
];
const CITIES: [(&str, &str); 6] = [
    ("Reno", "NV"),
    ("Austin", "TX"),
    ("Denver", "CO"),
    ("Tampa", "FL"),
    ("Boise", "ID"),
    ("Omaha", "NE"),
];

/// Writes `accounts × subs` rows in random account order (a bijection scatters the numbers).
fn generate_csv(path: &Path, accounts: u64, subs: u64) -> Result<u64, String> {
    let file = std::fs::File::create(path).map_err(|e| e.to_string())?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let w = |out: &mut BufWriter<std::fs::File>, line: String| {
        out.write_all(line.as_bytes()).map_err(|e| e.to_string())
    };
    w(&mut out, "account_number,first_name,last_name,address_line1,city,state,postal_code,reference,client_number,original_balance\n".to_owned())?;
    const SPAN: u64 = 900_000_000_000;
    let mut state: u64 = 42;
    for i in 0..accounts {
        let number = 100_000_000_000 + (i.wrapping_mul(7_919_000_003) % SPAN);
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let pick = usize::try_from(state % 48).unwrap_or(0);
        let (city, st) = CITIES[pick % CITIES.len()];
        for s in 0..subs {
            w(
                &mut out,
                format!(
                    "{number},{},{},{} {},{city},{st},{:05},V-{s},C-{},{}.{:02}\n",
                    FIRST[pick % FIRST.len()],
                    LAST[(pick / 6) % LAST.len()],
                    (state % 9999) + 1,
                    STREETS[pick % STREETS.len()],
                    10_000 + state % 89_999,
                    state % 40,
                    (state >> 8) % 5000,
                    (state >> 20) % 100
                ),
            )?;
        }
    }
    out.flush().map_err(|e| e.to_string())?;
    Ok(accounts * subs)
}

async fn open_sqlite(dir: &Path) -> Result<Db, String> {
    let db = Db::open(&DatabaseLocation::Sqlite(
        dir.join(quittance_store::SQLITE_FILE_NAME),
    ))
    .await
    .map_err(|e| e.to_string())?;
    quittance_store::migrate(&db)
        .await
        .map_err(|e| e.to_string())?;
    Ok(db)
}

/// The measured side of the import benchmark: the same code path as `quittance import`.
async fn import_child(csv: &Path, dir: &Path) -> Result<(), String> {
    let db = open_sqlite(dir).await?;
    let now = SystemClock.now();
    let org = db
        .write(move |tx| {
            Box::pin(async move { access::ensure_organization(tx, "bench", now).await })
        })
        .await
        .map_err(|e| e.to_string())?;
    let id = ImportId::generate();
    let (job, job_org) = (id.clone(), org.clone());
    db.write(move |tx| {
        Box::pin(
            async move { imports::insert_import(tx, &job_org, &job, ImportFormat::Csv, now).await },
        )
    })
    .await
    .map_err(|e| e.to_string())?;
    let tally = bulk_import::run(
        &db,
        &org,
        &id,
        csv,
        ImportFormat::Csv,
        Arc::new(SystemClock),
        Arc::new(Progress::default()),
    )
    .await?;
    db.close().await;
    if tally.rows_rejected > 0 {
        return Err(format!("{} rows were rejected", tally.rows_rejected));
    }
    println!("{}", tally.sub_accounts_created);
    Ok(())
}

fn rate(rows: u64, elapsed: Duration) -> f64 {
    rows as f64 / elapsed.as_secs_f64()
}

async fn import_bench(options: &Options) -> Result<(), String> {
    let accounts = if options.accounts == 0 {
        200_000
    } else {
        options.accounts
    };
    let work = tempfile::tempdir().map_err(|e| e.to_string())?;
    let csv = work.path().join("accounts.csv");
    let rows = generate_csv(&csv, accounts, options.subs)?;
    let size = std::fs::metadata(&csv).map_err(|e| e.to_string())?.len();
    println!(
        "\n## Bulk import: {rows} sub-accounts ({accounts} accounts × {}), CSV {:.0} MB",
        options.subs,
        size as f64 / 1e6
    );

    let baseline_db = work.path().join("baseline.db");
    let create = "CREATE TABLE sub_accounts (account_number TEXT, first_name TEXT, last_name TEXT, address_line1 TEXT, city TEXT, \
        state TEXT, postal_code TEXT, reference TEXT, client_number TEXT, original_balance TEXT, PRIMARY KEY (account_number, reference));";
    let made = Command::new("sqlite3")
        .arg(&baseline_db)
        .arg(create)
        .status();
    let baseline = match made {
        Ok(status) if status.success() => {
            let import = format!(".import --skip 1 {} sub_accounts", csv.display());
            let (elapsed, peak, _) = measure(
                Command::new("sqlite3")
                    .arg(&baseline_db)
                    .args([".mode csv", &import]),
            )?;
            println!(
                "sqlite3 .import (one table, primary key):  {:>9.0} rows/s  {:>6.2} s  peak RSS {peak:.0} MiB",
                rate(rows, elapsed),
                elapsed.as_secs_f64()
            );
            Some(rate(rows, elapsed))
        }
        _ => {
            println!(
                "sqlite3 not found: install it (apt-get install sqlite3) for the side-by-side figure"
            );
            None
        }
    };
    let data = work.path().join("quittance");
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let (elapsed, peak, printed) =
        measure(Command::new(exe).arg("import-child").arg(&csv).arg(&data))?;
    let created: u64 = printed
        .trim()
        .parse()
        .map_err(|_| format!("unexpected child output {printed:?}"))?;
    if created != rows {
        return Err(format!("created {created} sub-accounts, expected {rows}"));
    }
    let ours = rate(rows, elapsed);
    println!(
        "quittance import (accounts, sub-accounts, clients, indexes, counters): {ours:>9.0} rows/s  {:>6.2} s  peak RSS {peak:.0} MiB",
        elapsed.as_secs_f64()
    );
    if let Some(base) = baseline {
        println!(
            "ratio: {:.2} of sqlite3's rate (goal ≥ 0.50); peak RSS goal < 200 MiB",
            ours / base
        );
    }
    Ok(())
}

struct Served {
    base: String,
    db: Db,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn serve(dir: &Path) -> Result<(Served, AppState), String> {
    serve_on(open_sqlite(dir).await?, dir).await
}

async fn serve_on(db: Db, dir: &Path) -> Result<(Served, AppState), String> {
    // The benchmarks drive the plan scheduler and the webhook worker themselves.
    let config = Config {
        data_dir: dir.to_path_buf(),
        scheduler: false,
        webhooks: false,
        webhook_allowed_networks: vec!["127.0.0.1/32".to_owned()],
        ..Config::default()
    };
    let hasher = SecretHasher::load_or_create(None, dir)?;
    let vault =
        quittance_services::vault::Vault::load_or_create(None, dir).map_err(|e| e.to_string())?;
    let state = AppState::from(quittance_services::App::new(
        db.clone(),
        config,
        Arc::new(SystemClock),
        hasher,
        vault,
    )?);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = state.clone();
    tokio::spawn(async move {
        let _ = quittance_server::serve(listener, served, async move {
            let _ = stopped.await;
        })
        .await;
    });
    Ok((
        Served {
            base: format!("http://{addr}"),
            db,
            stop: Some(stop),
        },
        state,
    ))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(index).copied().unwrap_or_default()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn accounts_bench(options: &Options) -> Result<(), String> {
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

async fn tokens_bench(options: &Options) -> Result<(), String> {
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

/// The SQLite ceiling: one-row transactions committed one by one through rusqlite, with the
/// server's settings (WAL, synchronous=FULL), on the same disk, for `seconds`.
fn sqlite_commits_per_second(dir: &Path, seconds: u64) -> Result<f64, String> {
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
fn pgbench_tps(url: &str, seconds: u64, clients: usize) -> Result<f64, String> {
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
async fn drive_payments(
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

/// A fresh database for a benchmark: SQLite in `dir`, or a new database on the PostgreSQL
/// named by QUITTANCE_TEST_POSTGRES_URL (kept alive by the returned handle).
async fn bench_database(
    dir: &Path,
) -> Result<(Db, Option<quittance_store::testing::TestDatabase>), String> {
    match std::env::var(quittance_store::testing::POSTGRES_URL_VAR)
        .ok()
        .filter(|u| !u.is_empty())
    {
        None => Ok((open_sqlite(dir).await?, None)),
        Some(_) => {
            let t = quittance_store::testing::TestDatabase::new().await;
            Ok((t.db.clone(), Some(t)))
        }
    }
}

fn backend_name(db: &Db) -> &'static str {
    match db.backend() {
        quittance_store::Backend::Sqlite => "SQLite, synchronous=FULL",
        quittance_store::Backend::Postgres => "PostgreSQL",
    }
}

type Target = (String, String, [String; 2]);

/// One account per client, with two large sub-accounts and a saved Visa, made through the API.
async fn payment_targets(base: &str, key: &str, clients: usize) -> Result<Vec<Target>, String> {
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

async fn payments_bench(options: &Options) -> Result<(), String> {
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

/// `plans` active payment plans, each with one installment due now, written straight to the
/// store (accounts through the bulk import); then one scheduler round charges them all,
/// through the same payment path as the API. Beside it, in the same run, `POST /v1/payments`
/// for `--seconds` with 64 connections.
async fn plans_bench(options: &Options) -> Result<(), String> {
    use quittance_domain::ids::{InstallmentId, PaymentMethodId, PaymentPlanId, SubAccountId};
    use quittance_domain::instruments::{CardBrand, MethodType};
    use quittance_domain::plans::{Frequency, InstallmentStatus, PlanStatus};
    use quittance_domain::{Currency, MinorUnits};
    use quittance_store::repo::payment_methods::{StoredPaymentMethod, insert_payment_method};
    use quittance_store::repo::plans::{
        InstallmentRecord, PlanRecord, hold_sub_accounts, insert_plan,
    };
    let plans = if options.accounts == 0 {
        100_000
    } else {
        options.accounts
    };
    let work = tempfile::tempdir().map_err(|e| e.to_string())?;
    let (db, _keep) = bench_database(work.path()).await?;
    println!(
        "\n## Plan scheduler: {plans} active plans with an installment due now ({})",
        backend_name(&db)
    );
    let csv = work.path().join("plans.csv");
    generate_csv(&csv, plans, 1)?;
    let (served, state) = serve_on(db.clone(), work.path()).await?;
    let issued = issue_credentials(&db, &state.hasher, "bench", SystemClock.now())
        .await
        .map_err(|e| e.to_string())?;
    let org = issued.organization_id.clone();
    let id = ImportId::generate();
    let (job, job_org, now) = (id.clone(), org.clone(), SystemClock.now());
    db.write(move |tx| {
        Box::pin(
            async move { imports::insert_import(tx, &job_org, &job, ImportFormat::Csv, now).await },
        )
    })
    .await
    .map_err(|e| e.to_string())?;
    bulk_import::run(
        &db,
        &org,
        &id,
        &csv,
        ImportFormat::Csv,
        Arc::new(SystemClock),
        Arc::new(Progress::default()),
    )
    .await?;
    let o = org.clone();
    let rows = db
        .read(move |tx| {
            Box::pin(async move {
                tx.query(
                    "SELECT a.id, s.id, s.balance FROM accounts a JOIN sub_accounts s ON s.account_id = a.id
                     WHERE a.organization_id = $1 AND s.balance > 0",
                    &quittance_store::params![o.as_str()],
                )
                .await
            })
        })
        .await
        .map_err(|e| e.to_string())?;
    let started = Instant::now();
    let mut made = 0usize;
    for chunk in rows.chunks(1000) {
        let mut batch = Vec::with_capacity(chunk.len());
        for r in chunk {
            let account =
                quittance_domain::ids::AccountId::parse(r.str(0).map_err(|e| e.to_string())?)
                    .ok_or("bad account id")?;
            let sub =
                SubAccountId::parse(r.str(1).map_err(|e| e.to_string())?).ok_or("bad sub id")?;
            let amount = MinorUnits::new((r.i64(2).map_err(|e| e.to_string())? / 2).clamp(1, 1000));
            let method_id = PaymentMethodId::generate();
            let method = StoredPaymentMethod {
                id: method_id.clone(),
                organization_id: org.clone(),
                account_id: account.clone(),
                method_type: MethodType::Card,
                brand: Some(CardBrand::Visa),
                last4: "4242".into(),
                exp_month: Some(12),
                exp_year: Some(2035),
                holder_name: "Bench".into(),
                billing_zip: None,
                routing_number: None,
                account_type: None,
                number: state.vault.seal(method_id.as_str(), "4242424242424242"),
                created_at: now,
            };
            let plan_id = PaymentPlanId::generate();
            let plan = PlanRecord {
                id: plan_id.clone(),
                organization_id: org.clone(),
                account_id: account,
                payment_method_id: method_id,
                status: PlanStatus::Active,
                currency: Currency::from_code("USD").ok_or("currency")?,
                total_amount: MinorUnits::new(amount.get() * 2),
                installment_amount: None,
                installment_count: Some(2),
                frequency: Frequency::Monthly,
                start_date: now.date_naive(),
                down_payment: None,
                missed: 0,
                sub_account_ids: vec![sub],
                created_at: now,
                updated_at: now,
            };
            // Two installments: one due now, the next in a month (the plan goes on).
            let due = |seq: i64, days: i64| InstallmentRecord {
                id: InstallmentId::generate(),
                plan_id: plan_id.clone(),
                seq,
                kind: "installment".into(),
                due_date: (now + chrono::Duration::days(days)).date_naive(),
                due_at: now + chrono::Duration::days(days),
                amount,
                status: InstallmentStatus::Scheduled,
                attempts: 0,
                payment_id: None,
                updated_at: now,
            };
            let installments = vec![due(1, 0), due(2, 30)];
            batch.push((method, plan, installments));
        }
        made += batch.len();
        db.write(move |tx| {
            Box::pin(async move {
                for (method, plan, installments) in &batch {
                    insert_payment_method(tx, method).await?;
                    insert_plan(tx, plan, installments).await?;
                    hold_sub_accounts(tx, plan).await?;
                }
                Ok::<_, quittance_store::StoreError>(())
            })
        })
        .await
        .map_err(|e| e.to_string())?;
    }
    println!(
        "set up {made} plans in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let round = quittance_services::scheduler::run_due(&state, None)
        .await
        .map_err(|e| e.message().to_owned())?;
    let elapsed = started.elapsed();
    let key = issued.api_key.expose().to_owned();
    let targets = Arc::new(payment_targets(&served.base, &key, options.concurrency).await?);
    let (api_rate, _) = drive_payments(
        &served.base,
        &key,
        targets,
        options.concurrency,
        options.seconds,
        None,
        "api",
    )
    .await?;
    let rate = round.paid as f64 / elapsed.as_secs_f64();
    if round.paid < made {
        return Err(format!(
            "only {} of {made} installments were paid: {round:?}",
            round.paid
        ));
    }
    println!(
        "scheduler: {} of {made} installments paid in {:.1} s = {rate:.0} installments/s (goal ≥ POST /v1/payments in the same run: {api_rate:.0}/s; measured {:.2}×)",
        round.paid,
        elapsed.as_secs_f64(),
        rate / api_rate
    );
    Ok(())
}

/// What the benchmark receiver saw: a count, and when each `webhook-id` first arrived.
#[derive(Default)]
struct Arrivals {
    count: AtomicU64,
    first_seen: std::sync::Mutex<std::collections::HashMap<String, Instant>>,
    record_times: std::sync::atomic::AtomicBool,
    sample_body: std::sync::Mutex<Option<Vec<u8>>>,
}

/// A receiver on 127.0.0.1 that answers 200 at once.
async fn webhook_receiver(arrivals: Arc<Arrivals>) -> Result<String, String> {
    async fn hook(
        axum::extract::State(arrivals): axum::extract::State<Arc<Arrivals>>,
        headers: axum::http::HeaderMap,
        body: axum::body::Bytes,
    ) -> &'static str {
        arrivals.count.fetch_add(1, Ordering::Relaxed);
        if arrivals.record_times.load(Ordering::Relaxed)
            && let Some(id) = headers.get("webhook-id").and_then(|v| v.to_str().ok())
        {
            let mut seen = arrivals
                .first_seen
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            seen.entry(id.to_owned()).or_insert_with(Instant::now);
        }
        let mut sample = arrivals
            .sample_body
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if sample.is_none() {
            *sample = Some(body.to_vec());
        }
        "ok"
    }
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(hook))
        .with_state(arrivals);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let url = format!(
        "http://{}/hook",
        listener.local_addr().map_err(|e| e.to_string())?
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(url)
}

/// Records `count` sample events, 500 per transaction.
async fn record_events(state: &AppState, org: &OrganizationId, count: u64) -> Result<(), String> {
    let mut left = count;
    while left > 0 {
        let batch = left.min(500);
        left -= batch;
        let (org, now) = (org.clone(), state.clock.now());
        state
            .db
            .write(move |tx| {
                Box::pin(async move {
                    for _ in 0..batch {
                        quittance_services::events::record(
                            tx,
                            &org,
                            EventType::PaymentApproved,
                            &sample::sample_data(EventType::PaymentApproved),
                            now,
                        )
                        .await?;
                    }
                    Ok::<_, quittance_store::StoreError>(())
                })
            })
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

async fn webhooks_bench(options: &Options) -> Result<(), String> {
    let concurrency = options.concurrency;
    let events = if options.accounts == 0 {
        50_000
    } else {
        options.accounts
    };
    let work = tempfile::tempdir().map_err(|e| e.to_string())?;
    let (db, _test_db) = bench_database(work.path()).await?;
    println!(
        "\n## Webhook deliveries: {events} events to a local receiver answering 200, {concurrency} in flight ({})",
        backend_name(&db)
    );
    let arrivals = Arc::new(Arrivals::default());
    let url = webhook_receiver(arrivals.clone()).await?;
    let (served, state) = serve_on(db, work.path()).await?;
    let issued = issue_credentials(&served.db, &state.hasher, "bench", SystemClock.now())
        .await
        .map_err(|e| e.to_string())?;
    let http = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(concurrency)
        .build()
        .map_err(|e| e.to_string())?;
    let created = http
        .post(format!("{}/v1/webhooks", served.base))
        .header("Authorization", issued.api_key.expose())
        .json(&serde_json::json!({"url": url, "event_types": ["payment.approved"]}))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if created.status() != reqwest::StatusCode::CREATED {
        return Err(format!(
            "creating the webhook answered {}",
            created.status()
        ));
    }
    let org = issued.organization_id.clone();

    // Quittance: signing, sending and the delivery log, draining what is queued.
    record_events(&state, &org, events).await?;
    let started = Instant::now();
    let round = delivery::deliver_due(&state, "", &mut |_| {})
        .await
        .map_err(|e| e.message().to_owned())?;
    let elapsed = started.elapsed();
    if round.delivered != events {
        return Err(format!(
            "{} of {events} delivered: {round:?}",
            round.delivered
        ));
    }
    let quittance_rate = events as f64 / elapsed.as_secs_f64();

    // The bare client: the same bodies to the same receiver, nothing else.
    let body = arrivals
        .sample_body
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone()
        .ok_or("the receiver got nothing")?;
    let sent = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (http, url, body, sent) = (http.clone(), url.clone(), body.clone(), sent.clone());
        tasks.push(tokio::spawn(async move {
            while sent.fetch_add(1, Ordering::Relaxed) < events {
                let _ = http
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await;
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    let bare_rate = events as f64 / started.elapsed().as_secs_f64();
    println!(
        "{quittance_rate:.0} deliveries/s with signing and the delivery log; bare HTTP client {bare_rate:.0}/s (goal ≥ 0.25×, measured {:.2}×)",
        quittance_rate / bare_rate
    );

    // Latency: events committed one at a time while the worker runs, as in `serve`.
    arrivals.record_times.store(true, Ordering::Relaxed);
    let worker = tokio::spawn(delivery::run_forever(
        state.app.clone(),
        String::new(),
        |_| {},
    ));
    let mut committed = Vec::new();
    for _ in 0..1000 {
        let id = sample::trigger(&state, &org, EventType::PaymentApproved)
            .await
            .map_err(|e| e.message().to_owned())?;
        committed.push((id.to_string(), Instant::now()));
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    worker.abort();
    let seen = arrivals
        .first_seen
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let mut latencies: Vec<Duration> = committed
        .iter()
        .filter_map(|(id, at)| {
            seen.get(id)
                .map(|arrived| arrived.saturating_duration_since(*at))
        })
        .collect();
    if latencies.len() != committed.len() {
        return Err(format!(
            "{} of {} events reached the receiver",
            latencies.len(),
            committed.len()
        ));
    }
    latencies.sort();
    println!(
        "commit to first attempt: p50 {:.2} ms  p99 {:.2} ms  (goal p50 < 50 ms, p99 < 250 ms; 1,000 events, one every 5 ms)",
        percentile(&latencies, 0.50).as_secs_f64() * 1000.0,
        percentile(&latencies, 0.99).as_secs_f64() * 1000.0
    );
    Ok(())
}

/// One kind of request a closed-loop client repeats.
struct Repeated {
    method: reqwest::Method,
    url: String,
    /// The `Authorization` header, if any.
    key: Option<String>,
    /// A JSON body.
    body: String,
}

/// What `drive` measured: successful requests per second and their sorted latencies.
struct Driven {
    rate: f64,
    latencies: Vec<Duration>,
}

/// `clients` loops sending `request` back to back for `seconds`; any answer but a 2xx is an error.
async fn drive(
    http: &reqwest::Client,
    request: &Repeated,
    clients: usize,
    seconds: u64,
) -> Result<Driven, String> {
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let http = http.clone();
        let (method, url, key, body) = (
            request.method.clone(),
            request.url.clone(),
            request.key.clone(),
            request.body.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let sent = Instant::now();
                let mut request = http
                    .request(method.clone(), &url)
                    .header("content-type", "application/json")
                    .body(body.clone());
                if let Some(key) = &key {
                    request = request.header("Authorization", key);
                }
                let response = request.send().await.map_err(|e| e.to_string())?;
                let status = response.status();
                let answer = response.bytes().await.map_err(|e| e.to_string())?;
                if !status.is_success() {
                    return Err(format!(
                        "{url} answered {status}: {}",
                        String::from_utf8_lossy(&answer)
                    ));
                }
                latencies.push(sent.elapsed());
            }
            Ok::<_, String>(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.map_err(|e| e.to_string())??);
    }
    let elapsed = started.elapsed();
    latencies.sort();
    Ok(Driven {
        rate: latencies.len() as f64 / elapsed.as_secs_f64(),
        latencies,
    })
}

/// The ceiling for a JSON POST: an axum server on loopback that parses the body and answers
/// a small JSON object, with nothing behind it.
async fn bare_post_server() -> Result<String, String> {
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

/// A served app with one organization (and its ISO Amp defaults): its API key, and a client
/// keeping up to `pool` idle connections.
async fn serve_with_key(
    dir: &Path,
    pool: usize,
) -> Result<(Served, String, reqwest::Client), String> {
    let (served, state) = serve(dir).await?;
    let issued = issue_credentials(&served.db, &state.hasher, "bench", SystemClock.now())
        .await
        .map_err(|e| e.to_string())?;
    let http = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(pool)
        .build()
        .map_err(|e| e.to_string())?;
    Ok((served, issued.api_key.expose().to_owned(), http))
}

/// `POST /api/v1/proposals/simple` and `POST /api/estimate_statement_summary` per second,
/// beside a bare JSON POST to a server that does nothing.
async fn pricing_bench(options: &Options) -> Result<(), String> {
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

/// Statement analyses end to end: a five-page First Data statement created, uploaded and
/// started over HTTP and read by the server's own worker, one after another, each timed until
/// the analysis is `completed` (its `statement_analysis.completed` event is written in the same
/// transaction); then the reading alone, in process; and the process's peak RSS.
async fn statements_bench(options: &Options) -> Result<(), String> {
    use quittance_statement_fixtures::{Layout, Options as Render, render};
    let count = if options.accounts == 0 {
        100
    } else {
        options.accounts
    };
    let fixture = render(
        Layout::FirstData,
        1,
        &Render {
            pages_at_least: 5,
            ..Render::default()
        },
    );
    let work = tempfile::tempdir().map_err(|e| e.to_string())?;
    let (served, key, http) = serve_with_key(work.path(), 1).await?;
    println!(
        "\n## Statement analysis: {count} analyses of a {}-page First Data statement ({} KiB, {} fee rows), one at a time (SQLite)",
        fixture.pages,
        fixture.pdf.len() / 1024,
        fixture.expected.fees.len()
    );
    let api = |path: &str| format!("{}/api/statement_analyses{path}", served.base);
    let mut latencies = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
    let started = Instant::now();
    for _ in 0..count {
        let began = Instant::now();
        let created: serde_json::Value = http
            .post(api(""))
            .header("Authorization", &key)
            .json(
                &serde_json::json!({"userId": 1, "name": "bench", "merchantName": "Bench Burgers"}),
            )
            .send()
            .await
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        let id = created["id"].as_str().ok_or("no analysis id")?;
        let uploaded = http
            .post(api(&format!("/{id}/files?filename=statement.pdf")))
            .header("Authorization", &key)
            .header("Content-Type", "application/pdf")
            .body(fixture.pdf.clone())
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let started_one = http
            .post(api(&format!("/{id}/start")))
            .header("Authorization", &key)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if uploaded.status() != 200 || started_one.status() != 202 {
            return Err(format!(
                "upload answered {}, start {}",
                uploaded.status(),
                started_one.status()
            ));
        }
        loop {
            let analysis: serde_json::Value = http
                .get(api(&format!("/{id}")))
                .header("Authorization", &key)
                .send()
                .await
                .map_err(|e| e.to_string())?
                .json()
                .await
                .map_err(|e| e.to_string())?;
            match analysis["status"].as_str() {
                Some("completed") => break,
                Some("created" | "queued") => tokio::time::sleep(Duration::from_millis(1)).await,
                _ => return Err(format!("the analysis ended {analysis}")),
            }
        }
        latencies.push(began.elapsed());
    }
    let elapsed = started.elapsed();
    latencies.sort();
    println!(
        "{:.1} analyses/s  p50 {:.1} ms  p99 {:.1} ms  max {:.1} ms per statement, upload to completed (goal < 200 ms)",
        count as f64 / elapsed.as_secs_f64(),
        ms(percentile(&latencies, 0.5)),
        ms(percentile(&latencies, 0.99)),
        ms(latencies.last().copied().unwrap_or_default())
    );
    let limits = quittance_statement_pdf::Limits::default();
    let mut reading = Vec::new();
    for _ in 0..count {
        let began = Instant::now();
        let lines = quittance_statement_pdf::text_lines(&fixture.pdf, &limits)
            .map_err(|e| e.to_string())?;
        quittance_pricing::statements::read_statement(&lines).map_err(|e| e.to_string())?;
        reading.push(began.elapsed());
    }
    reading.sort();
    println!(
        "reading alone (PDF text, then the statement): p50 {:.1} ms  p99 {:.1} ms",
        ms(percentile(&reading, 0.5)),
        ms(percentile(&reading, 0.99))
    );
    println!(
        "peak RSS of the whole process (server, worker, client, SQLite cache): {:.0} MiB (goal < 100 MB while parsing)",
        peak_rss_mib("self").unwrap_or(f64::NAN)
    );
    Ok(())
}
