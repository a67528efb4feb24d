//! Configuration. Defaults, then a TOML file, then `QUITTANCE_*` environment variables, then
//! command-line flags (the CLI does the layering). Every option is documented in
//! docs/configuration.md, and `quittance config` prints the values in force.

use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address and port the HTTP server listens on.
    pub listen: SocketAddr,
    /// The address recipients' browsers reach this server at, for the hosted pages' URLs
    /// (IngoPay's `authorized_url`), e.g. `https://pay.example.com`. Unset: `http://` + `listen`.
    pub public_base_url: Option<String>,
    /// Directory for the embedded database, key files and import spools.
    pub data_dir: PathBuf,
    /// `postgres://…` for PostgreSQL, `sqlite://PATH` for a SQLite file elsewhere; unset for
    /// the embedded database in `data_dir`.
    pub database_url: Option<String>,
    /// `text` or `json` log lines.
    pub log_format: LogFormat,
    /// Hex key (64 digits) for hashing issued secrets. Unset: generated once into
    /// `data_dir/credential-hash.key`. Several servers on one PostgreSQL must share it.
    pub credential_hash_key: Option<String>,
    /// The bearer token `GET /metrics` requires. Unset: only clients on loopback may read it.
    pub metrics_token: Option<String>,
    /// Lifetime of an OAuth access token, in seconds.
    pub token_ttl_seconds: u64,
    /// Failed client secrets that lock an OAuth client ...
    pub lockout_max_failures: u32,
    /// ... when they happen within this many seconds ...
    pub lockout_window_seconds: u64,
    /// ... for this many seconds.
    pub lockout_seconds: u64,
    /// Failed token requests one source address may make within `token_ip_window_seconds`
    /// before it gets 429 for the rest of the window (0 turns this off). Kept in memory by
    /// each server process.
    pub token_ip_max_failures: u32,
    /// The window for `token_ip_max_failures`, in seconds.
    pub token_ip_window_seconds: u64,
    /// Take the source address from the first `X-Forwarded-For` entry. Only behind a proxy
    /// that sets that header: otherwise any caller could choose its own address.
    pub trust_forwarded_for: bool,
    /// Largest JSON request body, in bytes.
    pub max_json_body_bytes: usize,
    /// Largest bulk import upload, in bytes.
    pub max_import_bytes: u64,
    /// The vault's key file (`id:hex` lines, newest last). Unset: `data_dir/vault.keys`,
    /// generated owner-only on first start. Several servers on one PostgreSQL must share it.
    pub vault_key_file: Option<PathBuf>,
    /// How long an `Idempotency-Key` keeps its first answer, in seconds.
    pub idempotency_ttl_seconds: u64,
    /// How long a request holds its `Idempotency-Key` while it runs, in seconds: a retry
    /// meanwhile gets 409; after it (the first request's process stopped), the retry resumes
    /// the work.
    pub idempotency_lease_seconds: u64,
    /// A payment whose processor outcome is still open after this many seconds is asked about
    /// again by the reconciler.
    pub reconcile_after_seconds: u64,
    /// Close a settlement batch on its own each day (UTC midnight), as `POST /v1/settlements`
    /// does on request.
    pub daily_settlement: bool,
    /// Run the payment plan scheduler inside `serve` (`quittance worker` runs it alone).
    pub scheduler: bool,
    /// Seconds between scheduler rounds.
    pub scheduler_interval_seconds: u64,
    /// How long a scheduler holds an installment it is charging, in seconds; after a crash
    /// another scheduler takes it up once this has passed.
    pub scheduler_lease_seconds: u64,
    /// The most installments one payment plan may have.
    pub max_plan_installments: u32,
    /// Run the webhook delivery worker inside `serve` (`quittance worker` runs it too).
    pub webhooks: bool,
    /// How long a receiver has to answer a delivery, in seconds (seed 002: 20).
    pub webhook_timeout_seconds: u64,
    /// Deliveries in flight at once, per worker process.
    pub webhook_concurrency: usize,
    /// How often a worker looks for due retries and for deliveries queued by other processes,
    /// in milliseconds. Deliveries queued in the same process start at once.
    pub webhook_poll_interval_ms: u64,
    /// How long a worker holds a delivery it is sending, in seconds; after a crash another
    /// worker sends it once this has passed. Keep it above twice `webhook_timeout_seconds`:
    /// sends start only while two timeouts of the lease remain (the first wave always goes).
    pub webhook_lease_seconds: u64,
    /// An endpoint whose deliveries have all failed for this long is disabled (5 days).
    pub webhook_disable_after_seconds: u64,
    /// Networks webhook targets may resolve to even though they are private, loopback or
    /// otherwise refused (CIDR, e.g. `["127.0.0.1/32"]` for a receiver on this machine).
    pub webhook_allowed_networks: Vec<String>,
    /// A PEM file of extra certificate authorities trusted for HTTPS receivers (a private CA).
    pub webhook_root_certificates: Option<PathBuf>,
    /// Run the statement-analysis worker inside `serve` (`quittance worker` runs it too).
    pub statements: bool,
    /// Largest statement file accepted, in bytes (413 beyond; 20 MiB).
    pub max_statement_bytes: u64,
    /// Most pages read from one statement file.
    pub max_statement_pages: u32,
    /// How long reading one statement file may take, in seconds, before it is rejected.
    pub statement_read_seconds: u64,
    /// On SIGTERM or Ctrl-C: how long requests in flight may take to finish, in seconds, and
    /// then how long busy workers may take to finish their round.
    pub shutdown_grace_seconds: u64,
    /// How long a client has to send a request's headers, in seconds; also how long an idle
    /// keep-alive connection is kept waiting for its next request.
    pub http_header_timeout_seconds: u64,
    /// How long a request body may go without a byte arriving, in seconds.
    pub http_body_idle_seconds: u64,
    /// Most connections open at once; beyond, a new one is answered 503 and closed.
    pub max_connections: usize,
    /// Most connections open at once from one client address.
    pub max_connections_per_client: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_base_url: None,
            data_dir: PathBuf::from("quittance-data"),
            database_url: None,
            log_format: LogFormat::Text,
            credential_hash_key: None,
            metrics_token: None,
            token_ttl_seconds: 3600,
            lockout_max_failures: 10,
            lockout_window_seconds: 30 * 60,
            lockout_seconds: 30 * 60,
            token_ip_max_failures: 100,
            token_ip_window_seconds: 10 * 60,
            trust_forwarded_for: false,
            max_json_body_bytes: 2 * 1024 * 1024,
            max_import_bytes: 20 * 1024 * 1024 * 1024,
            vault_key_file: None,
            idempotency_ttl_seconds: 24 * 60 * 60,
            idempotency_lease_seconds: 60,
            reconcile_after_seconds: 60,
            daily_settlement: true,
            scheduler: true,
            scheduler_interval_seconds: 60,
            scheduler_lease_seconds: 300,
            max_plan_installments: 120,
            webhooks: true,
            webhook_timeout_seconds: 20,
            webhook_concurrency: 64,
            webhook_poll_interval_ms: 1000,
            webhook_lease_seconds: 60,
            webhook_disable_after_seconds: 5 * 24 * 60 * 60,
            webhook_allowed_networks: Vec::new(),
            webhook_root_certificates: None,
            statements: true,
            max_statement_bytes: 20 * 1024 * 1024,
            max_statement_pages: 100,
            statement_read_seconds: 20,
            shutdown_grace_seconds: 30,
            http_header_timeout_seconds: 10,
            http_body_idle_seconds: 30,
            max_connections: 8192,
            max_connections_per_client: 1024,
        }
    }
}

/// Hand-written so a database password or the hash key never reaches a log.
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field("database_url", &self.database_url.as_ref().map(|_| "***"))
            .field("log_format", &self.log_format)
            .field(
                "credential_hash_key",
                &self.credential_hash_key.as_ref().map(|_| "***"),
            )
            .field("metrics_token", &self.metrics_token.as_ref().map(|_| "***"))
            .field("token_ttl_seconds", &self.token_ttl_seconds)
            .field("lockout_max_failures", &self.lockout_max_failures)
            .field("lockout_window_seconds", &self.lockout_window_seconds)
            .field("lockout_seconds", &self.lockout_seconds)
            .field("token_ip_max_failures", &self.token_ip_max_failures)
            .field("token_ip_window_seconds", &self.token_ip_window_seconds)
            .field("trust_forwarded_for", &self.trust_forwarded_for)
            .field("max_json_body_bytes", &self.max_json_body_bytes)
            .field("max_import_bytes", &self.max_import_bytes)
            .field("vault_key_file", &self.vault_key_file)
            .field("idempotency_ttl_seconds", &self.idempotency_ttl_seconds)
            .field("idempotency_lease_seconds", &self.idempotency_lease_seconds)
            .field("reconcile_after_seconds", &self.reconcile_after_seconds)
            .field("daily_settlement", &self.daily_settlement)
            .field("scheduler", &self.scheduler)
            .field(
                "scheduler_interval_seconds",
                &self.scheduler_interval_seconds,
            )
            .field("scheduler_lease_seconds", &self.scheduler_lease_seconds)
            .field("max_plan_installments", &self.max_plan_installments)
            .field("webhooks", &self.webhooks)
            .field("webhook_timeout_seconds", &self.webhook_timeout_seconds)
            .field("webhook_concurrency", &self.webhook_concurrency)
            .field("webhook_poll_interval_ms", &self.webhook_poll_interval_ms)
            .field("webhook_lease_seconds", &self.webhook_lease_seconds)
            .field(
                "webhook_disable_after_seconds",
                &self.webhook_disable_after_seconds,
            )
            .field("webhook_allowed_networks", &self.webhook_allowed_networks)
            .field("webhook_root_certificates", &self.webhook_root_certificates)
            .field("statements", &self.statements)
            .field("max_statement_bytes", &self.max_statement_bytes)
            .field("max_statement_pages", &self.max_statement_pages)
            .field("statement_read_seconds", &self.statement_read_seconds)
            .field("shutdown_grace_seconds", &self.shutdown_grace_seconds)
            .field(
                "http_header_timeout_seconds",
                &self.http_header_timeout_seconds,
            )
            .field("http_body_idle_seconds", &self.http_body_idle_seconds)
            .field("max_connections", &self.max_connections)
            .field(
                "max_connections_per_client",
                &self.max_connections_per_client,
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_secrets() {
        let config = Config {
            database_url: Some("postgres://u:hunter2@h/db".into()),
            credential_hash_key: Some("ab".repeat(32)),
            metrics_token: Some("m3tr1cs-t0ken".into()),
            ..Config::default()
        };
        let text = format!("{config:?}");
        assert!(
            !text.contains("hunter2") && !text.contains("abab") && !text.contains("m3tr1cs"),
            "{text}"
        );
    }
}
