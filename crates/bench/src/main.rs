//! Benchmarks that print figures, each beside the ceiling it is measured against.
//!
//! ```text
//! cargo run --release -p quittance-bench -- import     # 1,000,000 sub-accounts from CSV vs sqlite3 .import
//! cargo run --release -p quittance-bench -- accounts   # GET /v1/accounts pages with 1,000,000 accounts
//! cargo run --release -p quittance-bench -- tokens     # POST /oauth/token per second
//! cargo run --release -p quittance-bench -- payments   # POST /v1/payments vs one-row SQLite commits
//! scripts/with-postgres cargo run --release -p quittance-bench -- payments  # … vs pgbench TPC-B
//! cargo run --release -p quittance-bench -- all
//! ```
//! Options: `--accounts N`, `--subs K`, `--seconds S`, `--concurrency C`.

use quittance_domain::ids::ImportId;
use quittance_domain::import::ImportFormat;
use quittance_domain::{Clock, SystemClock};
use quittance_server::auth::{SecretHasher, issue_credentials};
use quittance_server::bulk_import::{self, Progress};
use quittance_server::config::Config;
use quittance_server::state::AppState;
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
        "all" => {
            import_bench(&options).await?;
            accounts_bench(&options).await?;
            tokens_bench(&options).await?;
            payments_bench(&options).await
        }
        other => Err(format!(
            "unknown benchmark {other:?}: import, accounts, tokens, payments or all"
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
    let config = Config {
        data_dir: dir.to_path_buf(),
        ..Config::default()
    };
    let hasher = SecretHasher::load_or_create(None, dir)?;
    let vault =
        quittance_server::vault::Vault::load_or_create(None, dir).map_err(|e| e.to_string())?;
    let state = AppState::new(db.clone(), config, Arc::new(SystemClock), hasher, vault);
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
    let deadline = Instant::now() + Duration::from_secs(options.seconds);
    let issued_count = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..options.concurrency {
        let (http, url, body, count) = (
            http.clone(),
            url.clone(),
            body.clone(),
            issued_count.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let started = Instant::now();
                let ok = match http.post(&url).json(&body).send().await {
                    Ok(response) => {
                        response.status().is_success() && response.bytes().await.is_ok()
                    }
                    Err(_) => false,
                };
                if ok {
                    count.fetch_add(1, Ordering::Relaxed);
                    latencies.push(started.elapsed());
                }
            }
            latencies
        }));
    }
    let started = Instant::now();
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.map_err(|e| e.to_string())?);
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let n = issued_count.load(Ordering::Relaxed);
    println!(
        "{:.0} tokens/s (goal ≥ 5,000)  p50 {:.2} ms  p99 {:.2} ms  ({n} tokens; the load generator shares the 2 cores)",
        n as f64 / elapsed.as_secs_f64(),
        ms(percentile(&latencies, 0.5)),
        ms(percentile(&latencies, 0.99))
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

async fn payments_bench(options: &Options) -> Result<(), String> {
    let clients = options.concurrency;
    let work = tempfile::tempdir().map_err(|e| e.to_string())?;
    let postgres = std::env::var(quittance_store::testing::POSTGRES_URL_VAR)
        .ok()
        .filter(|u| !u.is_empty());
    let test_db;
    let (db, ceiling_name, ceiling) = match &postgres {
        None => {
            let ceiling = sqlite_commits_per_second(work.path(), options.seconds)?;
            (
                open_sqlite(work.path()).await?,
                "one-row commits/s of a bare rusqlite loop (synchronous=FULL)",
                ceiling,
            )
        }
        Some(_) => {
            test_db = quittance_store::testing::TestDatabase::new().await;
            let DatabaseLocation::Postgres(url) = &test_db.location else {
                return Err("expected PostgreSQL".into());
            };
            let ceiling = pgbench_tps(url, options.seconds, clients)?;
            (
                test_db.db.clone(),
                "pgbench TPC-B-like transactions/s (64 clients, scale 10)",
                ceiling,
            )
        }
    };
    let backend = if postgres.is_some() {
        "PostgreSQL"
    } else {
        "SQLite, synchronous=FULL"
    };
    println!(
        "\n## POST /v1/payments: saved card, Idempotency-Key, two allocations; {clients} connections, {} s ({backend})",
        options.seconds
    );
    let (served, state) = serve_on(db, work.path()).await?;
    let issued = issue_credentials(&served.db, &state.hasher, "bench", SystemClock.now())
        .await
        .map_err(|e| e.to_string())?;
    let key = issued.api_key.expose().to_owned();
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .map_err(|e| e.to_string())?;
    let mut targets = Vec::new();
    for a in 0..clients {
        let post = |path: &str, body: serde_json::Value| {
            http.post(format!("{}{path}", served.base))
                .header("Authorization", &key)
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
