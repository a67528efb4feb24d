//! The `quittance` binary as an operator runs it. On PostgreSQL when
//! QUITTANCE_TEST_POSTGRES_URL is set, like the rest of the suite.

use quittance_store::DatabaseLocation;
use quittance_store::testing::TestDatabase;
use serde_json::Value;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_quittance");

/// `quittance ARGS… --data-dir DIR [--database-url URL]` for the test's database.
fn quittance(t: &TestDatabase, args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command.args(args).arg("--data-dir").arg(t.dir.path());
    if let DatabaseLocation::Postgres(url) = &t.location {
        command.arg("--database-url").arg(url);
    }
    command
        .env_remove("QUITTANCE_DATABASE_URL")
        .env_remove("QUITTANCE_DATA_DIR")
        .env_remove("QUITTANCE_CONFIG");
    command
}

fn run(mut command: impl std::borrow::BorrowMut<Command>) -> Output {
    command.borrow_mut().output().expect("run quittance")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn create_credentials(t: &TestDatabase, organization: &str) -> Value {
    let output = run(quittance(
        t,
        &[
            "credentials",
            "create",
            "--organization",
            organization,
            "--json",
        ],
    ));
    assert!(output.status.success(), "{}", stderr(&output));
    serde_json::from_str(stdout(&output).trim()).expect("one JSON object on stdout")
}

#[tokio::test]
async fn credentials_are_created_listed_and_revoked() {
    let t = TestDatabase::new().await;
    let created = create_credentials(&t, "acme");
    let keys: Vec<&str> = created
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        ["api_key", "client_id", "client_secret", "organization_id"],
        "exactly these four"
    );
    let secret = created["client_secret"].as_str().expect("secret");
    let api_key = created["api_key"].as_str().expect("key");
    assert!(secret.starts_with("qs_") && secret.len() == 67);

    let listed = run(quittance(&t, &["credentials", "list", "--json"]));
    assert!(listed.status.success(), "{}", stderr(&listed));
    let text = stdout(&listed);
    assert!(
        !text.contains(secret) && !text.contains(api_key),
        "secrets are never printed again"
    );
    let list: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(list[0]["organization"], "acme");
    assert_eq!(list[0]["revoked_at"], Value::Null);
    let id = list[0]["id"].as_str().expect("id").to_owned();

    let revoked = run(quittance(&t, &["credentials", "revoke", &id]));
    assert!(revoked.status.success(), "{}", stderr(&revoked));
    let list: Value = serde_json::from_str(&stdout(&run(quittance(
        &t,
        &["credentials", "list", "--json"],
    ))))
    .expect("json");
    assert!(list[0]["revoked_at"].is_string());

    let again = run(quittance(
        &t,
        &[
            "credentials",
            "revoke",
            "cred_00000000000000000000000000000000",
        ],
    ));
    assert!(!again.status.success());
    assert!(stderr(&again).contains("no credential"));

    let text_form = run(quittance(
        &t,
        &["credentials", "create", "--organization", "acme"],
    ));
    assert!(stdout(&text_form).contains("shown only now"));
}

#[tokio::test]
async fn ingo_participants_are_created_listed_changed_rotated_and_deleted() {
    let t = TestDatabase::new().await;
    let made = run(quittance(
        &t,
        &[
            "ingo",
            "participants",
            "create",
            "--organization",
            "acme",
            "--host-uri",
            "https://pay.acme.example",
            "--paypal",
            "--session-attempts",
            "6",
            "--json",
        ],
    ));
    assert!(made.status.success(), "{}", stderr(&made));
    let made: Value = serde_json::from_str(&stdout(&made)).expect("json");
    let (number, secret) = (
        made["participant_id"].as_i64().expect("id"),
        made["secret"].as_str().expect("secret").to_owned(),
    );
    assert_eq!(
        made["host_uris"],
        serde_json::json!(["https://pay.acme.example"])
    );
    assert_eq!(
        (
            made["paypal_enabled"].as_bool(),
            made["session_attempts"].as_i64()
        ),
        (Some(true), Some(6))
    );
    let n = number.to_string();

    let listed = run(quittance(
        &t,
        &[
            "ingo",
            "participants",
            "list",
            "--organization",
            "acme",
            "--json",
        ],
    ));
    let text = stdout(&listed);
    assert!(
        text.contains(&n) && !text.contains(&secret),
        "the secret is never printed again: {text}"
    );

    let changed = run(quittance(
        &t,
        &[
            "ingo",
            "participants",
            "update",
            &n,
            "--organization",
            "acme",
            "--no-paypal",
            "--json",
        ],
    ));
    let changed: Value = serde_json::from_str(&stdout(&changed)).expect("json");
    assert_eq!(changed["paypal_enabled"], false);
    let refused = run(quittance(
        &t,
        &[
            "ingo",
            "participants",
            "update",
            &n,
            "--organization",
            "acme",
            "--host-uri",
            "http://example.com",
        ],
    ));
    assert!(
        !refused.status.success() && stderr(&refused).contains("host_uris[0]"),
        "{}",
        stderr(&refused)
    );

    let rotated = run(quittance(
        &t,
        &[
            "ingo",
            "participants",
            "rotate-secret",
            &n,
            "--organization",
            "acme",
            "--json",
        ],
    ));
    let rotated: Value = serde_json::from_str(&stdout(&rotated)).expect("json");
    assert_ne!(rotated["secret"].as_str(), Some(secret.as_str()));

    let deleted = run(quittance(
        &t,
        &[
            "ingo",
            "participants",
            "delete",
            &n,
            "--organization",
            "acme",
        ],
    ));
    assert!(deleted.status.success(), "{}", stderr(&deleted));
    let again = run(quittance(
        &t,
        &[
            "ingo",
            "participants",
            "delete",
            &n,
            "--organization",
            "acme",
        ],
    ));
    assert!(
        !again.status.success() && stderr(&again).contains("no such participant"),
        "{}",
        stderr(&again)
    );
}

#[test]
fn an_unknown_scheme_or_an_unreachable_database_fails_with_one_clear_line() {
    let dir = tempfile::tempdir().expect("dir");
    for (url, expected) in [
        (
            "mysql://localhost/q",
            "unsupported database URL scheme \"mysql\"",
        ),
        (
            "postgres://nobody@127.0.0.1:1/none",
            "cannot open the database postgres://nobody@127.0.0.1:1/none",
        ),
    ] {
        let output = Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path())
            .args(["--database-url", url])
            .output()
            .expect("run");
        assert!(!output.status.success());
        let err = stderr(&output);
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 1, "{err}");
        assert!(
            lines[0].starts_with("quittance: error: ") && lines[0].contains(expected),
            "{err}"
        );
        assert!(!err.contains("panicked"));
    }
}

#[test]
fn help_lists_the_commands() {
    let output = Command::new(BIN).arg("--help").output().expect("run");
    let text = stdout(&output);
    for command in [
        "serve",
        "migrate",
        "credentials",
        "import",
        "keys",
        "ledger",
        "ingo",
        "backup",
        "restore",
        "config",
    ] {
        assert!(text.contains(command), "{command} missing from --help");
    }
    let serve = stdout(
        &Command::new(BIN)
            .args(["serve", "--help"])
            .output()
            .expect("run"),
    );
    for option in [
        "--listen",
        "--data-dir",
        "--database-url",
        "QUITTANCE_DATABASE_URL",
        "--log-format",
        "--config",
    ] {
        assert!(serve.contains(option), "{option} missing from serve --help");
    }
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        // Ends only the process this test started, by its own handle.
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `quittance serve` for the test's database and waits (bounded) until it is ready.
async fn start_server(t: &TestDatabase, listen: &str, stderr: Stdio) -> Server {
    start_server_with(t, listen, stderr, &[]).await
}

/// The same, with `QUITTANCE_*` settings in its environment.
async fn start_server_with(
    t: &TestDatabase,
    listen: &str,
    stderr: Stdio,
    env: &[(&str, &str)],
) -> Server {
    let server = Server(
        quittance(t, &["serve", "--listen", listen, "--log-format", "json"])
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("spawn"),
    );
    wait_until_ready(listen).await;
    server
}

/// Waits (bounded) until the server on `listen` answers `/readyz`.
async fn wait_until_ready(listen: &str) {
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    for _ in 0..200 {
        if http
            .get(format!("http://{listen}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not become ready");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

#[tokio::test]
async fn serve_answers_and_credentials_can_be_created_while_it_runs() {
    let t = TestDatabase::new().await;
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let log_path = t.dir.path().join("serve.log");
    let log = std::fs::File::create(&log_path).expect("log file");
    let server = start_server(&t, &listen, Stdio::from(log)).await;
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let base = format!("http://{listen}");
    let created = create_credentials(&t, "acme");
    let token: Value = http
        .post(format!("{base}/oauth/token"))
        .json(&serde_json::json!({"grant_type": "client_credentials", "client_id": created["client_id"], "client_secret": created["client_secret"]}))
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("json");
    let listed = http
        .get(format!("{base}/v1/accounts"))
        .header(
            "Authorization",
            format!("Bearer {}", token["access_token"].as_str().expect("token")),
        )
        .send()
        .await
        .expect("list");
    assert_eq!(listed.status(), reqwest::StatusCode::OK);
    drop(server);
    let log = std::fs::read_to_string(&log_path).expect("log");
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
        .collect();
    let request = lines
        .iter()
        .find(|l| l["route"] == "/v1/accounts")
        .expect("the request's log line");
    assert_eq!(
        (request["method"].as_str(), request["status"].as_u64()),
        (Some("GET"), Some(200))
    );
    assert!(
        request["request_id"]
            .as_str()
            .is_some_and(|id| id.starts_with("req_"))
            && request["latency_ms"].is_number()
    );
    let access_token = token["access_token"].as_str().expect("token");
    for secret in [
        created["client_secret"].as_str().expect("secret"),
        created["api_key"].as_str().expect("key"),
        access_token,
    ] {
        assert!(!log.contains(secret), "a secret reached the log");
    }
}

#[tokio::test]
async fn import_reads_a_file_into_an_organization_and_summarizes() {
    let t = TestDatabase::new().await;
    create_credentials(&t, "acme");
    let file = t.dir.path().join("accounts.csv");
    std::fs::write(&file, "account_number,last_name,reference,original_balance\nA-1,Doe,V-1,10.50\nA-1,Doe,V-2,1\nA-2,Roe,V-1,oops\n")
        .expect("write");
    let output = run(quittance(&t, &["import"])
        .arg(&file)
        .args(["--organization", "acme"]));
    assert!(output.status.success(), "{}", stderr(&output));
    let summary = stdout(&output);
    for line in [
        "rows read                        3",
        "rows rejected                    1",
        "accounts created                 1",
        "sub-accounts created             2",
        "row 4: original_balance:",
    ] {
        assert!(summary.contains(line), "{line:?} not in:\n{summary}");
    }
    let again = stdout(&run(quittance(&t, &["import"])
        .arg(&file)
        .args(["--organization", "acme"])));
    assert!(
        again.contains("rows unchanged                   2"),
        "{again}"
    );

    let missing = run(quittance(&t, &["import"])
        .arg(&file)
        .args(["--organization", "nobody"]));
    assert!(!missing.status.success());
    assert!(stderr(&missing).contains("no organization named \"nobody\""));
}

#[tokio::test]
async fn migrate_brings_the_database_up_to_date_and_config_masks_secrets() {
    let t = TestDatabase::new().await;
    let output = run(quittance(&t, &["migrate"]));
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("up to date"));
    let config = run(quittance(&t, &["config"])
        .env("QUITTANCE_CREDENTIAL_HASH_KEY", "ab".repeat(32))
        .env("QUITTANCE_TOKEN_TTL_SECONDS", "120"));
    let text = stdout(&config);
    let parsed: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(
        parsed["token_ttl_seconds"], 120,
        "environment variables are read"
    );
    assert_eq!(parsed["credential_hash_key"], "***");
    assert!(!text.contains(&"ab".repeat(32)));
}

/// The import's job as the API reports it.
async fn job(http: &reqwest::Client, base: &str, key: &str, id: &str) -> Value {
    http.get(format!("{base}/v1/imports/{id}"))
        .header("Authorization", key)
        .send()
        .await
        .expect("job")
        .json()
        .await
        .expect("json")
}

/// The import job once it is no longer running, polled up to `polls` times `pause` apart;
/// as last seen if it is still running then.
async fn job_when_ended(
    http: &reqwest::Client,
    base: &str,
    key: &str,
    id: &str,
    polls: usize,
    pause: Duration,
) -> Value {
    let mut done = Value::Null;
    for _ in 0..polls {
        done = job(http, base, key, id).await;
        if done["status"] != "running" {
            break;
        }
        tokio::time::sleep(pause).await;
    }
    done
}

#[tokio::test]
async fn a_server_killed_mid_import_leaves_no_half_written_account_and_the_file_can_be_sent_again()
{
    let t = TestDatabase::new().await;
    let created = create_credentials(&t, "acme");
    let key = created["api_key"].as_str().expect("key").to_owned();
    let (accounts, subs) = (40_000, 5);
    let mut csv = String::from("account_number,reference,original_balance\n");
    for a in 0..accounts {
        for s in 0..subs {
            csv.push_str(&format!("K-{a:06},V-{s},{s}.25\n"));
        }
    }
    let listen = format!("127.0.0.1:{}", free_port());
    let base = format!("http://{listen}");
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let server = start_server(&t, &listen, Stdio::null()).await;
    let upload = |body: String| {
        http.post(format!("{base}/v1/imports"))
            .header("Authorization", &key)
            .header("Content-Type", "text/csv")
            .body(body)
            .send()
    };
    let first: Value = upload(csv.clone())
        .await
        .expect("upload")
        .json()
        .await
        .expect("json");
    let id = first["id"].as_str().expect("id").to_owned();
    // Kill the server once the first chunk has committed, long before the last. A debug build
    // on a loaded machine can take many seconds over a chunk, so the wait is bounded by time.
    let deadline = std::time::Instant::now() + Duration::from_secs(180);
    let mut seen = job(&http, &base, &key, &id).await;
    while seen["rows_read"].as_i64().unwrap_or(0) == 0 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
        seen = job(&http, &base, &key, &id).await;
    }
    assert!(
        seen["rows_read"].as_i64().unwrap_or(0) > 0 && seen["status"] == "running",
        "the first chunk must have committed, and the import still be running, when the server is killed: {seen}"
    );
    drop(server);

    let server = start_server(&t, &listen, Stdio::null()).await;
    let at_crash = job(&http, &base, &key, &id).await;
    let rows_read = at_crash["rows_read"].as_i64().expect("rows");
    assert!(rows_read > 0 && rows_read < accounts * subs, "{at_crash}");
    // What the job counted is exactly what is stored: progress commits with the rows.
    let listed: Value = http
        .get(format!("{base}/v1/accounts"))
        .header("Authorization", &key)
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    let stored = listed["total"].as_i64().expect("total");
    assert_eq!(
        stored,
        at_crash["accounts_created"].as_i64().expect("created"),
        "{at_crash}"
    );
    assert_eq!(
        at_crash["sub_accounts_created"].as_i64(),
        Some(stored * subs),
        "no account is half-written"
    );
    let last_page = (stored + 49) / 50;
    let page: Value = http
        .get(format!("{base}/v1/accounts?current_page={last_page}"))
        .header("Authorization", &key)
        .send()
        .await
        .expect("page")
        .json()
        .await
        .expect("json");
    for account in page["data"].as_array().expect("accounts") {
        assert_eq!(
            account["balance"], 11.25,
            "0.25 + 1.25 + 2.25 + 3.25 + 4.25: {account}"
        );
    }

    // Sending the same file again finishes the work; what was already there is unchanged.
    let second: Value = upload(csv)
        .await
        .expect("upload")
        .json()
        .await
        .expect("json");
    let second_id = second["id"].as_str().expect("id").to_owned();
    let done = job_when_ended(
        &http,
        &base,
        &key,
        &second_id,
        9000,
        Duration::from_millis(20),
    )
    .await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["accounts_created"].as_i64(), Some(accounts - stored));
    assert_eq!(done["rows_unchanged"].as_i64(), Some(stored * subs));
    let listed: Value = http
        .get(format!("{base}/v1/accounts"))
        .header("Authorization", &key)
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    assert_eq!(listed["total"], accounts);
    drop(server);
}

/// What one payment of the crash test is: its idempotency key and body.
fn crash_payment(i: usize, accounts: &[String]) -> (String, Value) {
    let account = &accounts[i % accounts.len()];
    let amount = format!("{}.{:02}", 1 + i % 20, i % 100);
    let body = if i.is_multiple_of(5) {
        serde_json::json!({"account_id": account, "amount": amount,
            "ach": {"routing_number": "110000000", "account_number": "000123456789", "account_type": "checking", "holder_name": "Crash Test"}})
    } else {
        serde_json::json!({"account_id": account, "amount": amount,
            "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2031, "cvv": "123", "holder_name": "Crash Test"}})
    };
    (format!("crash-{i}"), body)
}

/// The crash test: payments from several concurrent clients, each with its idempotency key,
/// while the server is SIGKILLed at random moments and restarted; every unanswered request is
/// retried with its key until it gets an answer. Then: every acknowledged payment exists
/// exactly once, no key made two, the sandbox authorized each payment at most once, `ledger
/// verify` passes, and no card number reached the log. At CI scale by default (2,000
/// payments, 10 kills); `QUITTANCE_CRASH_FULL=1` runs 10,000 payments and 50 kills. On
/// PostgreSQL too, like the rest of the suite.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn payments_survive_the_server_being_killed_at_random() {
    use std::collections::{HashMap, HashSet};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};
    let full = std::env::var("QUITTANCE_CRASH_FULL").is_ok_and(|v| v == "1");
    let (payments, kills, clients) = if full {
        (10_000, 50, 8)
    } else {
        (2_000, 10, 8)
    };
    let t = TestDatabase::new().await;
    let created = create_credentials(&t, "acme");
    let key = created["api_key"].as_str().expect("key").to_owned();
    let listen = format!("127.0.0.1:{}", free_port());
    let base = format!("http://{listen}");
    let log_path = t.dir.path().join("server.log");
    let open_log = || {
        Stdio::from(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&log_path)
                .expect("log"),
        )
    };
    // A short lease, so a retry after a kill resumes at once rather than waiting a minute.
    let env = [("QUITTANCE_IDEMPOTENCY_LEASE_SECONDS", "1")];
    let mut server = start_server_with(&t, &listen, open_log(), &env).await;
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let accounts = import_accounts(&http, &base, &key, "CR", 20).await;
    let accounts = Arc::new(accounts);
    let next = Arc::new(AtomicUsize::new(0));
    let acked = Arc::new(AtomicUsize::new(0));
    let answers: Arc<Mutex<HashMap<String, String>>> = Arc::default();
    let deadline = std::time::Instant::now() + Duration::from_secs(if full { 1800 } else { 600 });
    let mut workers = Vec::new();
    for _ in 0..clients {
        let (http, base, key) = (http.clone(), base.clone(), key.clone());
        let (next, acked, answers, accounts) = (
            next.clone(),
            acked.clone(),
            answers.clone(),
            accounts.clone(),
        );
        workers.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= payments {
                    return;
                }
                let (idem, body) = crash_payment(i, &accounts);
                loop {
                    assert!(
                        std::time::Instant::now() < deadline,
                        "{idem} got no answer in time"
                    );
                    let sent = http
                        .post(format!("{base}/v1/payments"))
                        .header("Authorization", &key)
                        .header("Idempotency-Key", &idem)
                        .json(&body)
                        .send()
                        .await;
                    let response = match sent {
                        Ok(r) => r,
                        Err(_) => {
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    };
                    let status = response.status();
                    let Ok(text) = response.text().await else {
                        continue;
                    };
                    if status == reqwest::StatusCode::CREATED {
                        let payment: Value = serde_json::from_str(&text).expect("json");
                        let id = payment["id"].as_str().expect("id").to_owned();
                        answers.lock().expect("answers").insert(idem, id);
                        acked.fetch_add(1, Ordering::SeqCst);
                        break;
                    }
                    assert!(
                        status == reqwest::StatusCode::CONFLICT || status.is_server_error(),
                        "{idem}: {status} {text}"
                    );
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }));
    }
    // Kill at random moments spread over the run: after each share of acknowledged
    // payments, a random pause, then SIGKILL and a restart.
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("time")
        .as_nanos() as u64
        | 1;
    let mut random = move |below: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % below
    };
    for k in 1..=kills {
        let threshold = payments * k / (kills + 1);
        while acked.load(Ordering::SeqCst) < threshold {
            assert!(std::time::Instant::now() < deadline, "no progress");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        tokio::time::sleep(Duration::from_millis(random(40))).await;
        drop(server);
        server = start_server_with(&t, &listen, open_log(), &env).await;
    }
    for w in workers {
        w.await.expect("worker");
    }
    let answers = answers.lock().expect("answers").clone();
    assert_eq!(answers.len(), payments, "every request got its answer");
    let distinct: HashSet<&String> = answers.values().collect();
    assert_eq!(distinct.len(), payments, "no two keys share a payment");
    // Every acknowledged payment exists exactly once, captured.
    let mut stored = HashMap::new();
    let mut page = 1;
    loop {
        let listed: Value = http
            .get(format!("{base}/v1/payments?current_page={page}"))
            .header("Authorization", &key)
            .send()
            .await
            .expect("list")
            .json()
            .await
            .expect("json");
        for p in listed["data"].as_array().expect("data") {
            let id = p["id"].as_str().expect("id").to_owned();
            assert!(
                stored
                    .insert(id, p["status"].as_str().expect("status").to_owned())
                    .is_none(),
                "listed twice"
            );
        }
        if page >= listed["total_pages"].as_i64().expect("pages") {
            break;
        }
        page += 1;
    }
    assert_eq!(
        stored.len(),
        payments,
        "no payment without its acknowledgement"
    );
    for id in answers.values() {
        assert_eq!(stored.get(id).map(String::as_str), Some("captured"), "{id}");
    }
    drop(server);
    // The sandbox's books: one authorization per payment, never a second.
    let tally =
        t.db.read(|tx| Box::pin(async move { quittance_store::repo::sandbox::tally(tx).await }))
            .await
            .expect("tally");
    let (_, references, calls) = tally
        .iter()
        .find(|(op, _, _)| op == "authorization")
        .expect("authorizations")
        .clone();
    assert_eq!(
        references as usize, payments,
        "at most one authorization per payment"
    );
    assert!(calls as usize >= payments);
    let verify = run(quittance(&t, &["ledger", "verify"]));
    assert!(
        verify.status.success(),
        "{}{}",
        stdout(&verify),
        stderr(&verify)
    );
    assert!(stdout(&verify).contains("no breaks"));
    let log = std::fs::read_to_string(&log_path).expect("log");
    assert!(
        !log.contains("4242424242424242"),
        "a card number reached the log"
    );
    eprintln!(
        "crash test: {payments} payments, {kills} kills, {} processor calls for {references} authorizations",
        calls
    );
}

#[tokio::test]
async fn keys_rotate_and_ledger_verify_report_what_they_did() {
    let t = TestDatabase::new().await;
    create_credentials(&t, "acme");
    let rotated = run(quittance(&t, &["keys", "rotate"]));
    assert!(rotated.status.success(), "{}", stderr(&rotated));
    assert!(
        stdout(&rotated).contains("added vault key k2"),
        "{}",
        stdout(&rotated)
    );
    assert!(stdout(&rotated).contains("re-sealed 0 record(s) under k2"));
    let resumed = run(quittance(&t, &["keys", "rotate", "--resume"]));
    assert!(resumed.status.success());
    assert!(!stdout(&resumed).contains("added"), "--resume adds no key");
    let status = run(quittance(&t, &["keys", "status"]));
    assert!(
        stdout(&status).contains("current key: k2"),
        "{}",
        stdout(&status)
    );

    let verified = run(quittance(&t, &["ledger", "verify"]));
    assert!(verified.status.success(), "{}", stderr(&verified));
    assert!(stdout(&verified).contains("ledger verified: no breaks"));
    // A ledger entry that does not balance is a break, and the exit code says so.
    t.db.write(|tx| {
        Box::pin(async move {
            let org = tx
                .query_one("SELECT id FROM organizations", &[])
                .await?
                .string(0)?;
            tx.execute(
                "INSERT INTO ledger_transactions (id, organization_id, kind, currency, created_at)
                 VALUES ('ltx_broken', $1, 'capture', 'USD', 0)",
                &quittance_store::params![org.as_str()],
            )
            .await?;
            tx.execute(
                "INSERT INTO ledger_entries (transaction_id, position, organization_id, account_code, currency, amount)
                 VALUES ('ltx_broken', 0, $1, 'processor_clearing', 'USD', 5)",
                &quittance_store::params![org.as_str()],
            )
            .await
        })
    })
    .await
    .expect("tamper");
    let broken = run(quittance(&t, &["ledger", "verify"]));
    assert!(!broken.status.success());
    assert!(
        stdout(&broken).contains(
            "BREAK [every transaction sums to zero per currency] ltx_broken USD sums to 5"
        ),
        "{}",
        stdout(&broken)
    );
}

/// Two `quittance worker` processes on one database share the due installments; one is
/// SIGKILLed mid-run and the other takes over its leases. Every installment is charged
/// exactly once and the ledger still verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_workers_share_the_installments_and_a_killed_one_charges_nothing_twice() {
    let t = TestDatabase::new().await;
    let created = create_credentials(&t, "acme");
    let key = created["api_key"].as_str().expect("key").to_owned();
    let listen = format!("127.0.0.1:{}", free_port());
    let base = format!("http://{listen}");
    let server = start_server_with(
        &t,
        &listen,
        Stdio::null(),
        &[("QUITTANCE_SCHEDULER", "false")],
    )
    .await;
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let post = |path: &str, body: Value| {
        http.post(format!("{base}{path}"))
            .header("Authorization", &key)
            .json(&body)
            .send()
    };
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1))
        .format("%Y-%m-%d")
        .to_string();
    let plans = 100;
    for n in 0..plans {
        let imported: Value = post(
            "/v1/import",
            serde_json::json!({"account_number": format!("W-{n}"),
                "sub_accounts": [{"reference": "V-1", "original_balance": "30.00"}]}),
        )
        .await
        .expect("import")
        .json()
        .await
        .expect("json");
        let account = imported["account"]["id"].as_str().expect("id").to_owned();
        let method: Value = post("/v1/payment_methods", serde_json::json!({"account_id": account,
                "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2035, "holder_name": "W"}}))
            .await.expect("method").json().await.expect("json");
        let plan: Value = post(
            "/v1/payment_plans",
            serde_json::json!({"account_id": account,
                "payment_method_id": method["payment_method_id"], "installment_count": 3,
                "frequency": "weekly", "start_date": tomorrow}),
        )
        .await
        .expect("plan")
        .json()
        .await
        .expect("json");
        let id = plan["id"].as_str().expect("plan id");
        let active = post(
            &format!("/v1/payment_plans/{id}/activate"),
            serde_json::json!({}),
        )
        .await
        .expect("activate");
        assert_eq!(active.status(), reqwest::StatusCode::OK);
    }
    drop(server);
    // Three weeks on for the organization: all 300 installments are due.
    t.db.write(|tx| {
        Box::pin(async move {
            tx.execute(
                "UPDATE organizations SET test_clock_offset = $1",
                &quittance_store::params![21i64 * 86_400 * 1_000_000],
            )
            .await
        })
    })
    .await
    .expect("advance");
    let worker = |t: &TestDatabase| {
        quittance(t, &["worker", "--log-format", "json"])
            .envs([
                ("QUITTANCE_SCHEDULER_INTERVAL_SECONDS", "1"),
                ("QUITTANCE_SCHEDULER_LEASE_SECONDS", "2"),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("worker")
    };
    let first = Server(worker(&t));
    let _second = Server(worker(&t));
    let paid = |t: &TestDatabase| {
        let db = t.db.clone();
        async move {
            db.read(|tx| {
                Box::pin(async move {
                    tx.query_one(
                        "SELECT COUNT(*) FROM installments WHERE status = 'paid'",
                        &[],
                    )
                    .await?
                    .i64(0)
                })
            })
            .await
            .expect("count")
        }
    };
    // Kill the first worker once the work is under way.
    for _ in 0..600 {
        if paid(&t).await > 20 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    drop(first);
    let mut done = 0;
    for _ in 0..600 {
        done = paid(&t).await;
        if done == plans * 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if done != plans * 3 {
        let states = t
            .db
            .read(|tx| {
                Box::pin(async move {
                    tx.query(
                        "SELECT i.status, COALESCE(p.status, '-'), i.attempts, COUNT(*) FROM installments i
                         LEFT JOIN payments p ON p.id = i.payment_id
                         GROUP BY i.status, p.status, i.attempts",
                        &[],
                    )
                    .await
                })
            })
            .await
            .expect("states");
        panic!("{done} of {} installments paid: {states:?}", plans * 3);
    }
    let (payments, authorizations, plans_done) =
        t.db.read(|tx| {
            Box::pin(async move {
                let payments = tx
                    .query_one(
                        "SELECT COUNT(*) FROM payments WHERE status = 'captured'",
                        &[],
                    )
                    .await?
                    .i64(0)?;
                let auths = tx
                    .query_one(
                        "SELECT COUNT(*) FROM sandbox_operations WHERE operation = 'authorization'",
                        &[],
                    )
                    .await?
                    .i64(0)?;
                let plans = tx
                    .query_one(
                        "SELECT COUNT(*) FROM payment_plans WHERE status = 'completed'",
                        &[],
                    )
                    .await?
                    .i64(0)?;
                Ok::<_, quittance_store::StoreError>((payments, auths, plans))
            })
        })
        .await
        .expect("counts");
    assert_eq!(payments, plans * 3, "one payment per installment");
    assert_eq!(
        authorizations,
        plans * 3,
        "one authorization per installment"
    );
    assert_eq!(plans_done, plans);
    let verify = run(quittance(&t, &["ledger", "verify"]));
    assert!(verify.status.success(), "{}", stdout(&verify));
}

type Kept = std::sync::Arc<std::sync::Mutex<Vec<String>>>;

/// A receiver on 127.0.0.1 that answers 200 after `pause` and keeps each event id it gets
/// (the `webhook-id` header) and each body.
async fn counting_receiver(pause: Duration) -> (String, Kept) {
    let (url, ids, _) = recording_receiver(pause).await;
    (url, ids)
}

async fn recording_receiver(pause: Duration) -> (String, Kept, Kept) {
    let (ids, bodies) = (Kept::default(), Kept::default());
    let (id_log, body_log) = (ids.clone(), bodies.clone());
    let app = axum::Router::new().fallback(move |headers: axum::http::HeaderMap, body: String| {
        let (id_log, body_log) = (id_log.clone(), body_log.clone());
        async move {
            tokio::time::sleep(pause).await;
            if let Some(id) = headers.get("webhook-id").and_then(|v| v.to_str().ok()) {
                id_log.lock().expect("lock").push(id.to_owned());
            }
            body_log.lock().expect("lock").push(body);
            "ok"
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, ids, bodies)
}

/// Delivery workers killed with SIGKILL mid-run: once a worker is running again every event
/// reaches the receiver, and every delivery ends delivered. At least once means what was sent
/// but not yet recorded at a kill is sent again, and nothing more.
#[tokio::test]
async fn deliveries_survive_workers_being_killed() {
    use quittance_domain::events::EventType;
    use quittance_domain::ids::OrganizationId;
    let t = TestDatabase::new().await;
    let created = create_credentials(&t, "acme");
    let key = created["api_key"].as_str().expect("key").to_owned();
    let org = OrganizationId::parse(created["organization_id"].as_str().expect("org")).expect("id");
    let (url, got) = counting_receiver(Duration::from_millis(5)).await;
    let networks = ("QUITTANCE_WEBHOOK_ALLOWED_NETWORKS", r#"["127.0.0.1/32"]"#);
    let listen = format!("127.0.0.1:{}", free_port());
    let server = start_server_with(
        &t,
        &listen,
        Stdio::null(),
        &[("QUITTANCE_WEBHOOKS", "false"), networks],
    )
    .await;
    let created = reqwest::Client::new()
        .post(format!("http://{listen}/v1/webhooks"))
        .header("Authorization", &key)
        .json(&serde_json::json!({"url": url, "event_types": ["payment.approved"]}))
        .send()
        .await
        .expect("create webhook");
    assert_eq!(created.status(), reqwest::StatusCode::CREATED);
    drop(server);
    let events: usize = 400;
    t.db.write(move |tx| {
        Box::pin(async move {
            for n in 0..events {
                let data = format!(r#"{{"n":{n}}}"#);
                quittance_store::repo::events::insert_event(
                    tx,
                    &org,
                    EventType::PaymentApproved,
                    &data,
                    chrono::Utc::now(),
                )
                .await?;
            }
            Ok::<_, quittance_store::StoreError>(())
        })
    })
    .await
    .expect("events");

    let worker = |t: &TestDatabase| {
        Server(
            quittance(t, &["worker", "--log-format", "json"])
                .envs([
                    networks,
                    ("QUITTANCE_SCHEDULER", "false"),
                    ("QUITTANCE_WEBHOOK_CONCURRENCY", "4"),
                    ("QUITTANCE_WEBHOOK_TIMEOUT_SECONDS", "1"),
                    ("QUITTANCE_WEBHOOK_LEASE_SECONDS", "3"),
                    ("QUITTANCE_WEBHOOK_POLL_INTERVAL_MS", "100"),
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("worker"),
        )
    };
    let received = || got.lock().expect("lock").len();
    // Two kills, each once the running worker has made progress.
    let mut kills = 0;
    for threshold in [150, 300] {
        let running = worker(&t);
        for _ in 0..1000 {
            if received() >= threshold {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        drop(running);
        kills += 1;
    }
    assert_eq!(kills, 2);
    assert!(
        received() < events,
        "the kills must land before the work is done"
    );
    let _last = worker(&t);
    let delivered = |t: &TestDatabase| {
        let db = t.db.clone();
        async move {
            db.read(|tx| {
                Box::pin(async move {
                    tx.query_one(
                        "SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'delivered'",
                        &[],
                    )
                    .await?
                    .i64(0)
                })
            })
            .await
            .expect("count")
        }
    };
    for _ in 0..600 {
        if delivered(&t).await == events as i64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(delivered(&t).await, events as i64);
    let ids = got.lock().expect("lock").clone();
    let distinct: std::collections::HashSet<&String> = ids.iter().collect();
    assert_eq!(distinct.len(), events, "every event reached the receiver");
    // A kill repeats at most what was sent but not yet recorded: the results being gathered
    // and the ones being recorded, eight waves of 4 each with these settings.
    let repeats = ids.len() - distinct.len();
    eprintln!("delivery crash test: {events} events, {kills} kills, {repeats} sent again");
    assert!(repeats <= kills * 2 * 32, "{repeats} repeats");
}

/// `webhooks listen` forwards what `webhooks trigger` records in another process, prints it,
/// and removes its temporary endpoint on Ctrl-C.
// Several threads: the test blocks reading the listener's output while the receiver answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_listen_forwards_a_triggered_event_and_cleans_up() {
    use std::io::{BufRead, BufReader};
    let t = TestDatabase::new().await;
    create_credentials(&t, "acme");
    let (url, got) = counting_receiver(Duration::from_millis(5)).await;
    let mut listener = Server(
        quittance(
            &t,
            &[
                "webhooks",
                "listen",
                "--organization",
                "acme",
                "--forward-to",
                &url,
                "--events",
                "payment.approved",
            ],
        )
        .env("QUITTANCE_WEBHOOK_POLL_INTERVAL_MS", "50")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("listen"),
    );
    // Its output, read on a thread so that each wait for a line is bounded.
    let (sender, lines) = std::sync::mpsc::channel();
    let stdout = listener.0.stdout.take().expect("stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    let next_line = || {
        lines
            .recv_timeout(Duration::from_secs(30))
            .expect("the listener prints a line")
    };
    let first = next_line();
    assert!(first.starts_with("Forwarding acme's events to"), "{first}");
    let triggered = run(quittance(
        &t,
        &[
            "webhooks",
            "trigger",
            "payment.approved",
            "--organization",
            "acme",
        ],
    ));
    assert!(triggered.status.success(), "{}", stderr(&triggered));
    let printed = next_line();
    assert!(printed.starts_with("payment.approved "), "{printed}");
    assert!(printed.ends_with("[200]"), "{printed}");
    assert_eq!(got.lock().expect("lock").len(), 1);
    // Ctrl-C, sent to the listener this test started, by its id.
    let interrupted = Command::new("kill")
        .args(["-INT", &listener.0.id().to_string()])
        .status()
        .expect("kill");
    assert!(interrupted.success());
    let status = listener.0.wait().expect("wait");
    assert!(status.success(), "{status:?}");
    let left =
        t.db.read(|tx| {
            Box::pin(async move {
                tx.query_one("SELECT COUNT(*) FROM webhooks WHERE api = 'listener'", &[])
                    .await?
                    .i64(0)
            })
        })
        .await
        .expect("count");
    assert_eq!(left, 0);
}

/// Imports `count` accounts, each with a large balance to pay against; returns their ids.
async fn import_accounts(
    http: &reqwest::Client,
    base: &str,
    key: &str,
    prefix: &str,
    count: usize,
) -> Vec<String> {
    let mut accounts = Vec::new();
    for a in 0..count {
        let imported: Value = http
            .post(format!("{base}/v1/import"))
            .header("Authorization", key)
            .json(
                &serde_json::json!({"account_number": format!("{prefix}-{a}"), "last_name": "Load",
                "sub_accounts": [{"reference": "V-1", "original_balance": "1000000.00"}]}),
            )
            .send()
            .await
            .expect("import")
            .json()
            .await
            .expect("json");
        accounts.push(imported["account"]["id"].as_str().expect("id").to_owned());
    }
    accounts
}

/// Every payment in `ids` is there (an acknowledged payment is never lost).
async fn assert_payments_exist(http: &reqwest::Client, base: &str, key: &str, ids: &[String]) {
    for id in ids {
        let found = http
            .get(format!("{base}/v1/payments/{id}"))
            .header("Authorization", key)
            .send()
            .await
            .expect("payment");
        assert_eq!(
            found.status(),
            reqwest::StatusCode::OK,
            "{id} was acknowledged"
        );
    }
}

/// Clients paying, each with its own idempotency keys, until told to stop or until the server
/// stops answering. Every 201 is kept: the payments the server acknowledged.
struct PaymentLoad {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    answered: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    clients: Vec<tokio::task::JoinHandle<()>>,
}

impl PaymentLoad {
    fn start(
        http: &reqwest::Client,
        base: &str,
        key: &str,
        accounts: Vec<String>,
        clients: usize,
        prefix: &str,
    ) -> PaymentLoad {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};
        let accounts = Arc::new(accounts);
        let next = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let answered: Arc<std::sync::Mutex<Vec<String>>> = Arc::default();
        let clients = (0..clients)
            .map(|_| {
                let (http, base, key, prefix) = (
                    http.clone(),
                    base.to_owned(),
                    key.to_owned(),
                    prefix.to_owned(),
                );
                let (next, stop, answered, accounts) = (
                    next.clone(),
                    stop.clone(),
                    answered.clone(),
                    accounts.clone(),
                );
                tokio::spawn(async move {
                    while !stop.load(Ordering::SeqCst) {
                        let (idem, body) =
                            crash_payment(next.fetch_add(1, Ordering::SeqCst), &accounts);
                        let sent = http
                            .post(format!("{base}/v1/payments"))
                            .header("Authorization", &key)
                            .header("Idempotency-Key", format!("{prefix}-{idem}"))
                            .json(&body)
                            .send()
                            .await;
                        let Ok(response) = sent else {
                            // The server has stopped answering.
                            stop.store(true, Ordering::SeqCst);
                            return;
                        };
                        let status = response.status();
                        let text = response.text().await.unwrap_or_default();
                        assert_eq!(status, reqwest::StatusCode::CREATED, "{text}");
                        let payment: Value = serde_json::from_str(&text).expect("json");
                        let id = payment["id"].as_str().expect("id").to_owned();
                        answered.lock().expect("answered").push(id);
                    }
                })
            })
            .collect();
        PaymentLoad {
            stop,
            answered,
            clients,
        }
    }

    /// The payments acknowledged so far.
    fn answered(&self) -> Vec<String> {
        self.answered.lock().expect("answered").clone()
    }

    /// Waits (bounded) until `count` payments have been acknowledged.
    async fn wait_for(&self, count: usize) {
        let deadline = std::time::Instant::now() + Duration::from_secs(120);
        while self.answered.lock().expect("answered").len() < count {
            assert!(
                std::time::Instant::now() < deadline,
                "the load did not reach {count} payments"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops the clients (or sees them stopped by the server) and returns every payment
    /// acknowledged.
    async fn finish(self) -> Vec<String> {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        for client in self.clients {
            client.await.expect("client");
        }
        self.answered.lock().expect("answered").clone()
    }
}

/// SIGTERM while clients pay and webhooks are being delivered: the server stops accepting,
/// finishes what is in flight, hands back nothing held, and exits 0 within its grace; every
/// payment it acknowledged is there after a restart, and `ledger verify` passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_under_load_loses_nothing_acknowledged_and_leaves_no_lease_held() {
    let t = TestDatabase::new().await;
    let created = create_credentials(&t, "acme");
    let key = created["api_key"].as_str().expect("key").to_owned();
    // Slow, so deliveries are being sent when the signal comes.
    let (hook_url, received) = counting_receiver(Duration::from_millis(300)).await;
    let listen = format!("127.0.0.1:{}", free_port());
    let base = format!("http://{listen}");
    let env = [
        ("QUITTANCE_WEBHOOK_ALLOWED_NETWORKS", r#"["127.0.0.1/32"]"#),
        ("QUITTANCE_SHUTDOWN_GRACE_SECONDS", "20"),
    ];
    let mut server = start_server_with(&t, &listen, Stdio::null(), &env).await;
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let hook = http
        .post(format!("{base}/v1/webhooks"))
        .header("Authorization", &key)
        .json(&serde_json::json!({"url": hook_url, "event_types": ["payment.approved"]}))
        .send()
        .await
        .expect("webhook");
    assert_eq!(hook.status(), reqwest::StatusCode::CREATED);
    let accounts = import_accounts(&http, &base, &key, "TERM", 8).await;
    let load = PaymentLoad::start(&http, &base, &key, accounts, 8, "term");
    // Terminate once payments are flowing and deliveries are under way.
    load.wait_for(200).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while received.lock().expect("lock").is_empty() {
        assert!(std::time::Instant::now() < deadline, "no delivery started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let pid = server.0.id().to_string();
    let asked = std::time::Instant::now();
    let signalled = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(signalled.success());
    let exit = loop {
        if let Some(status) = server.0.try_wait().expect("wait") {
            break status;
        }
        assert!(
            asked.elapsed() < Duration::from_secs(60),
            "the server did not stop within twice its grace"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let drained = asked.elapsed();
    assert!(exit.success(), "SIGTERM ends the server with 0: {exit:?}");
    let answered = load.finish().await;
    eprintln!(
        "SIGTERM after {} acknowledged payments: stopped in {} ms",
        answered.len(),
        drained.as_millis()
    );

    // Nothing held: no idempotency key still running, no delivery still leased.
    let held =
        t.db.read(|tx| {
            Box::pin(async move {
                let keys = tx
                    .query_one(
                        "SELECT COUNT(*) FROM idempotency_keys WHERE locked_until IS NOT NULL",
                        &[],
                    )
                    .await?
                    .i64(0)?;
                let deliveries = tx
                    .query_one(
                        "SELECT COUNT(*) FROM webhook_deliveries WHERE lease_until IS NOT NULL",
                        &[],
                    )
                    .await?
                    .i64(0)?;
                Ok::<_, quittance_store::StoreError>((keys, deliveries))
            })
        })
        .await
        .expect("leases");
    assert_eq!(
        held,
        (0, 0),
        "(running idempotency keys, leased deliveries)"
    );

    let _server = start_server_with(&t, &listen, Stdio::null(), &env).await;
    assert_payments_exist(&http, &base, &key, &answered).await;
    let verify = run(quittance(&t, &["ledger", "verify"]));
    assert!(verify.status.success(), "{}", stdout(&verify));
}

/// `backup` while clients pay, then `restore` into a fresh data directory: the server started
/// on the copy has every payment acknowledged before the backup began, and `ledger verify`
/// passes on it. On PostgreSQL the command points to pg_dump instead.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_taken_under_load_restores_to_a_server_with_every_earlier_payment() {
    let t = TestDatabase::new().await;
    let copy = t.dir.path().join("copy.db");
    let copy_arg = copy.to_str().expect("path");
    if let DatabaseLocation::Postgres(_) = t.location {
        let refused = run(quittance(&t, &["backup", "--to", copy_arg]));
        assert!(!refused.status.success());
        assert!(stderr(&refused).contains("pg_dump"), "{}", stderr(&refused));
        return;
    }
    let created = create_credentials(&t, "acme");
    let key = created["api_key"].as_str().expect("key").to_owned();
    let listen = format!("127.0.0.1:{}", free_port());
    let base = format!("http://{listen}");
    let server = start_server(&t, &listen, Stdio::null()).await;
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let accounts = import_accounts(&http, &base, &key, "BAK", 8).await;
    let load = PaymentLoad::start(&http, &base, &key, accounts, 4, "bak");
    load.wait_for(300).await;
    let before = load.answered();
    let started = std::time::Instant::now();
    let backed_up = {
        let command = quittance(&t, &["backup", "--to", copy_arg]);
        tokio::task::spawn_blocking(move || run(command))
            .await
            .expect("backup")
    };
    let backup_took = started.elapsed();
    assert!(backed_up.status.success(), "{}", stderr(&backed_up));
    let report = stdout(&backed_up);
    assert!(
        report.contains("vault.keys") && report.contains("credential-hash.key"),
        "{report}"
    );
    // The load went on through the backup.
    let during = load.answered().len();
    let all = load.finish().await;
    drop(server);
    assert!(all.len() >= during && during >= before.len());
    let again = run(quittance(&t, &["backup", "--to", copy_arg]));
    assert!(
        !again.status.success(),
        "an existing copy is never overwritten"
    );

    // Restore into a new data directory, put the keys back as docs/operations.md says, serve.
    let restored = tempfile::tempdir().expect("dir");
    let in_restored = |args: &[&str]| {
        let mut command = Command::new(BIN);
        command
            .args(args)
            .arg("--data-dir")
            .arg(restored.path())
            .env_remove("QUITTANCE_DATABASE_URL")
            .env_remove("QUITTANCE_DATA_DIR")
            .env_remove("QUITTANCE_CONFIG");
        command
    };
    let started = std::time::Instant::now();
    let put_back = run(in_restored(&["restore", "--from", copy_arg]));
    let restore_took = started.elapsed();
    assert!(put_back.status.success(), "{}", stderr(&put_back));
    assert!(
        stdout(&put_back).contains("Put these back"),
        "{}",
        stdout(&put_back)
    );
    for file in ["vault.keys", "credential-hash.key"] {
        std::fs::copy(t.dir.path().join(file), restored.path().join(file)).expect("key file");
    }
    let twice = run(in_restored(&["restore", "--from", copy_arg]));
    assert!(!twice.status.success(), "a database is never restored over");
    let verify = run(in_restored(&["ledger", "verify"]));
    assert!(verify.status.success(), "{}", stdout(&verify));
    let _restored_server = Server(
        in_restored(&["serve", "--listen", &listen])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve"),
    );
    wait_until_ready(&listen).await;
    assert_payments_exist(&http, &base, &key, &before).await;
    eprintln!(
        "backup of {} bytes under load ({} payments before, {} by the end) in {} ms; restore in {} ms",
        std::fs::metadata(&copy).expect("copy").len(),
        before.len(),
        all.len(),
        backup_took.as_millis(),
        restore_took.as_millis()
    );
}

/// Distinctive card numbers, CVVs, bank account and routing numbers and secrets written
/// through every input path (bodies accepted and refused, values of the wrong type, an
/// idempotency key, query strings, CSV and NDJSON files): not one copy is in the database's
/// files, the server's log or a webhook body. The CVVs and routing numbers a payment takes are
/// too short to search for among a database's bytes; their canaries go through the refused
/// paths, where an echo is the risk.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canaries_sent_through_every_input_path_are_found_nowhere() {
    use serde_json::json;
    const PAN: &str = "5555555555554444";
    const PAN_SPACED: &str = "4242 4242 4242 4242";
    const PAN_IN_KEY: &str = "6011111111111117";
    const PAN_IN_FILE: &str = "378282246310005";
    const BANK: &str = "86420975318642";
    const SECRET: &str = "canary-secret-7c1d9e";
    const LONG_CVV: i64 = 73_198_246;
    const LONG_ROUTING: i64 = 918_273_645_019;
    let canaries = [
        PAN.to_owned(),
        PAN_SPACED.replace(' ', ""),
        PAN_SPACED.to_owned(),
        PAN_IN_KEY.to_owned(),
        PAN_IN_FILE.to_owned(),
        BANK.to_owned(),
        SECRET.to_owned(),
        LONG_CVV.to_string(),
        LONG_ROUTING.to_string(),
    ];
    let t = TestDatabase::new().await;
    let created = create_credentials(&t, "acme");
    let key = created["api_key"].as_str().expect("key").to_owned();
    let log_path = t.dir.path().join("server.log");
    let log = std::fs::File::create(&log_path).expect("log");
    let listen = format!("127.0.0.1:{}", free_port());
    let base = format!("http://{listen}");
    let networks = ("QUITTANCE_WEBHOOK_ALLOWED_NETWORKS", r#"["127.0.0.1/32"]"#);
    let server = start_server_with(
        &t,
        &listen,
        Stdio::from(log),
        &[networks, ("QUITTANCE_WEBHOOK_POLL_INTERVAL_MS", "100")],
    )
    .await;
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let (hook, _, bodies) = recording_receiver(Duration::ZERO).await;
    let post = |path: &str, body: Value| {
        http.post(format!("{base}{path}"))
            .header("Authorization", &key)
            .json(&body)
    };
    let status = |r: reqwest::Response| r.status().as_u16();
    let webhook = post("/v1/webhooks", json!({"url": hook, "event_types": ["payment.initiated", "payment.approved", "payment.declined", "payment.error", "master_account.changed"]}))
        .send()
        .await
        .expect("webhook");
    assert_eq!(webhook.status().as_u16(), 201);
    let webhook_id = webhook.json::<Value>().await.expect("json")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let account = import_accounts(&http, &base, &key, "CAN", 1)
        .await
        .remove(0);
    let card = |number: &str| json!({"number": number, "exp_month": 12, "exp_year": 2031, "cvv": "123", "holder_name": "Jane Doe", "billing_zip": "89501"});
    let ach = json!({"routing_number": "110000000", "account_number": BANK, "account_type": "checking", "holder_name": "Jane Doe"});

    // Accepted: saved methods, one-off card and ACH payments, a payment under a key that
    // holds a card number, an access setup's secret.
    for (path, body) in [
        (
            "/v1/payment_methods",
            json!({"account_id": account, "card": card(PAN)}),
        ),
        (
            "/v1/payment_methods",
            json!({"account_id": account, "ach": ach}),
        ),
        (
            "/v1/payments",
            json!({"account_id": account, "amount": "10.00", "card": card(PAN_SPACED)}),
        ),
        (
            "/v1/payments",
            json!({"account_id": account, "amount": "11.00", "ach": ach}),
        ),
        (
            "/v1/webhook_access_setups",
            json!({"type": "basic", "authentication_key_name": "Ops",
            "api_name": "Ledger API", "client_id": "quittance", "client_secret": SECRET}),
        ),
    ] {
        let response = post(path, body).send().await.expect("post");
        assert_eq!(status(response), 201, "{path}");
    }
    let keyed = post(
        "/v1/payments",
        json!({"account_id": account, "amount": "12.00", "card": card(PAN)}),
    )
    .header("Idempotency-Key", format!("retry-{PAN_IN_KEY}"))
    .send()
    .await
    .expect("keyed");
    assert_eq!(status(keyed), 201);

    // Refused: values of the wrong type, failed checks, and values in query strings. None is
    // echoed; each answer is kept where the key makes it so.
    for (n, (path, body)) in [
        ("/v1/payment_methods", json!({"account_id": account, "card": {"number": PAN.parse::<u64>().expect("n"), "exp_month": 12, "exp_year": 2031}})),
        ("/v1/payment_methods", json!({"account_id": account, "card": {"number": PAN, "exp_month": 12, "exp_year": 2031, "cvv": LONG_CVV}})),
        ("/v1/payment_methods", json!({"account_id": account, "card": {"number": PAN, "exp_month": 12, "exp_year": 2031, "cvv": LONG_CVV.to_string()}})),
        ("/v1/payment_methods", json!({"account_id": account, "ach": {"routing_number": LONG_ROUTING, "account_number": BANK, "account_type": "checking", "holder_name": "J"}})),
        ("/v1/payment_methods", json!({"account_id": account, "ach": {"routing_number": LONG_ROUTING.to_string(), "account_number": BANK, "account_type": "checking", "holder_name": "J"}})),
        ("/v1/payment_methods", json!({"account_id": account, "ach": {"routing_number": "110000000", "account_number": BANK.parse::<u64>().expect("n"), "account_type": "checking", "holder_name": "J"}})),
        ("/v1/payments", json!({"account_id": account, "amount": {"v": PAN}, "card": card(PAN)})),
        ("/v1/payments", json!({"account_id": account, "amount": "1.00", "card": card(PAN), PAN: 1})),
        ("/v1/webhook_access_setups", json!({"type": SECRET, "client_secret": SECRET})),
        ("/v1/webhook_access_setups", json!({"type": "basic", "client_secret": [SECRET]})),
        ("/oauth/token", json!({"grant_type": SECRET})),
    ]
    .into_iter()
    .enumerate()
    {
        let response = post(path, body)
            .header("Idempotency-Key", format!("refused-{n}"))
            .send()
            .await
            .expect("post");
        let code = response.status().as_u16();
        let text = response.text().await.expect("text");
        assert!((400..500).contains(&code), "{path}: {code} {text}");
        for canary in &canaries {
            assert!(!text.contains(canary.as_str()), "{path} echoed {canary}: {text}");
        }
    }
    for query in [
        format!("/v1/events?starting_after={SECRET}"),
        format!("/v1/webhooks/{webhook_id}/deliveries?starting_after={PAN}"),
        format!("/v1/payments?current_page=x{PAN}"),
        format!("/v1/accounts?account_number={PAN}&{BANK}={SECRET}"),
    ] {
        let response = http
            .get(format!("{base}{query}"))
            .header("Authorization", &key)
            .send()
            .await
            .expect("get");
        let text = response.text().await.expect("text");
        for canary in &canaries {
            assert!(
                !text.contains(canary.as_str()),
                "{query} echoed {canary}: {text}"
            );
        }
    }

    // Files: a CSV without its header (the first cell a card number), an NDJSON line with a
    // bank account number in a field of the wrong type.
    for (content_type, file) in [
        ("text/csv", format!("{PAN_IN_FILE},V,1\nA,V,2\n")),
        (
            "application/x-ndjson",
            format!(
                "{}\n",
                json!({"account_number": "F-1", "last_name": "File",
                "sub_accounts": [{"reference": "V-1", "original_balance": BANK.parse::<u64>().expect("n"), "currency": PAN_IN_FILE}]})
            ),
        ),
    ] {
        let response = http
            .post(format!("{base}/v1/imports"))
            .header("Authorization", &key)
            .header("Content-Type", content_type)
            .body(file)
            .send()
            .await
            .expect("import");
        assert_eq!(response.status().as_u16(), 202);
        let id = response.json::<Value>().await.expect("json")["id"]
            .as_str()
            .expect("id")
            .to_owned();
        let done = job_when_ended(&http, &base, &key, &id, 600, Duration::from_millis(50)).await;
        assert_ne!(done["status"], "running", "{done}");
        assert!(
            done["rows_rejected"] == 1 || done["status"] == "failed",
            "{done}"
        );
        for canary in &canaries {
            assert!(
                !done.to_string().contains(canary.as_str()),
                "import kept {canary}: {done}"
            );
        }
    }

    // Every event reaches the receiver, then the server stops and its files are read.
    let events: Value = http
        .get(format!("{base}/v1/events"))
        .header("Authorization", &key)
        .send()
        .await
        .expect("events")
        .json()
        .await
        .expect("json");
    let expected = events["data"].as_array().expect("events").len();
    assert!(expected >= 4, "{events}");
    for _ in 0..300 {
        if bodies.lock().expect("lock").len() >= expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let bodies = bodies.lock().expect("lock").clone();
    assert!(
        bodies.len() >= expected,
        "{} of {expected} delivered",
        bodies.len()
    );
    drop(server);
    let logged = std::fs::read_to_string(&log_path).expect("log");
    assert!(
        logged.matches("\"request\"").count() >= 20,
        "the log is searched only if it holds the requests"
    );
    let mut files = vec![log_path.clone()];
    if let DatabaseLocation::Sqlite(_) = t.location {
        for entry in std::fs::read_dir(t.dir.path()).expect("dir") {
            let path = entry.expect("entry").path();
            if path.is_file() && path != log_path {
                files.push(path);
            }
        }
    }
    let mut report = Vec::new();
    for canary in &canaries {
        let mut hits = bodies
            .iter()
            .filter(|b| b.contains(canary.as_str()))
            .count();
        for file in &files {
            let bytes = std::fs::read(file).expect("read");
            hits += String::from_utf8_lossy(&bytes)
                .matches(canary.as_str())
                .count();
        }
        report.push(format!("{canary}: {hits}"));
        assert_eq!(hits, 0, "{canary} was found");
    }
    let names: Vec<String> = files
        .iter()
        .map(|f| f.file_name().expect("name").to_string_lossy().into_owned())
        .collect();
    eprintln!(
        "canaries: {} searched in {} webhook bodies and {names:?}: {}",
        canaries.len(),
        bodies.len(),
        report.join(", ")
    );
}
