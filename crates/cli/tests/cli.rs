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
    for command in ["serve", "migrate", "credentials", "import", "config"] {
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
    let server = Server(
        quittance(&t, &["serve", "--listen", &listen, "--log-format", "json"])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn"),
    );
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let base = format!("http://{listen}");
    let mut up = false;
    for _ in 0..200 {
        if http
            .get(format!("{base}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(up, "the server did not become ready");
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
