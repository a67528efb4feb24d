//! What the benchmarks share: serving an app on loopback, databases, closed-loop drivers, timing and memory figures.

use quittance_domain::{Clock, SystemClock};
use quittance_server::http::state::AppState;
use quittance_services::config::Config;
use quittance_services::credentials::{SecretHasher, issue_credentials};
use quittance_store::{DatabaseLocation, Db};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The high-water mark of a process's resident memory, in MiB, from /proc.
pub fn peak_rss_mib(pid: &str) -> Option<f64> {
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
pub fn measure(command: &mut Command) -> Result<(Duration, f64, String), String> {
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

pub async fn open_sqlite(dir: &Path) -> Result<Db, String> {
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

pub fn rate(rows: u64, elapsed: Duration) -> f64 {
    rows as f64 / elapsed.as_secs_f64()
}

pub struct Served {
    pub base: String,
    pub db: Db,
    pub stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub async fn serve(dir: &Path) -> Result<(Served, AppState), String> {
    serve_on(open_sqlite(dir).await?, dir).await
}

pub async fn serve_on(db: Db, dir: &Path) -> Result<(Served, AppState), String> {
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

pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(index).copied().unwrap_or_default()
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A fresh database for a benchmark: SQLite in `dir`, or a new database on the PostgreSQL
/// named by QUITTANCE_TEST_POSTGRES_URL (kept alive by the returned handle).
pub async fn bench_database(
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

pub fn backend_name(db: &Db) -> &'static str {
    match db.backend() {
        quittance_store::Backend::Sqlite => "SQLite, synchronous=FULL",
        quittance_store::Backend::Postgres => "PostgreSQL",
    }
}

/// One kind of request a closed-loop client repeats.
pub struct Repeated {
    pub method: reqwest::Method,
    pub url: String,
    /// The `Authorization` header, if any.
    pub key: Option<String>,
    /// A JSON body.
    pub body: String,
}

/// What `drive` measured: successful requests per second and their sorted latencies.
pub struct Driven {
    pub rate: f64,
    pub latencies: Vec<Duration>,
}

/// `clients` loops sending `request` back to back for `seconds`; any answer but a 2xx is an error.
pub async fn drive(
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

/// A served app with one organization (and its ISO Amp defaults): its API key, and a client
/// keeping up to `pool` idle connections.
pub async fn serve_with_key(
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
