//! Configuration layering: defaults, then a TOML file (`--config` or `QUITTANCE_CONFIG`),
//! then `QUITTANCE_*` environment variables, then flags.

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use quittance_services::config::{Config, LogFormat};
use serde::Serialize;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Options every command that touches the database takes.
#[derive(clap::Args, Debug, Clone)]
pub struct CommonArgs {
    /// A TOML configuration file.
    #[arg(long, env = "QUITTANCE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Directory for the embedded database and key files [default: ./quittance-data].
    #[arg(long, env = "QUITTANCE_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// postgres://… for PostgreSQL, or sqlite://PATH [default: the embedded database].
    #[arg(long, env = "QUITTANCE_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Log lines as text or json [default: text].
    #[arg(long, env = "QUITTANCE_LOG_FORMAT", value_parser = ["text", "json"])]
    pub log_format: Option<String>,
}

/// The options set on the command line (left-out flags are left out here too).
#[derive(Serialize)]
struct Flags {
    #[serde(skip_serializing_if = "Option::is_none")]
    data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    log_format: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    listen: Option<SocketAddr>,
}

/// The environment variables read, each `QUITTANCE_` + the option's name in capitals.
const ENV_OPTIONS: &[&str] = &[
    "listen",
    "public_base_url",
    "data_dir",
    "database_url",
    "log_format",
    "credential_hash_key",
    "metrics_token",
    "token_ttl_seconds",
    "lockout_max_failures",
    "lockout_window_seconds",
    "lockout_seconds",
    "token_ip_max_failures",
    "token_ip_window_seconds",
    "trust_forwarded_for",
    "max_json_body_bytes",
    "max_import_bytes",
    "vault_key_file",
    "idempotency_ttl_seconds",
    "idempotency_lease_seconds",
    "reconcile_after_seconds",
    "daily_settlement",
    "scheduler",
    "scheduler_interval_seconds",
    "scheduler_lease_seconds",
    "max_plan_installments",
    "webhooks",
    "webhook_timeout_seconds",
    "webhook_concurrency",
    "webhook_poll_interval_ms",
    "webhook_lease_seconds",
    "webhook_disable_after_seconds",
    "webhook_allowed_networks",
    "webhook_root_certificates",
    "statements",
    "max_statement_bytes",
    "max_statement_pages",
    "statement_read_seconds",
    "shutdown_grace_seconds",
    "http_header_timeout_seconds",
    "http_body_idle_seconds",
    "max_connections",
    "max_connections_per_client",
];

pub fn load(common: &CommonArgs, listen: Option<SocketAddr>) -> Result<Config, String> {
    let mut figment = Figment::from(Serialized::defaults(Config::default()));
    if let Some(path) = &common.config {
        if !path.is_file() {
            return Err(format!(
                "the configuration file {} does not exist",
                path.display()
            ));
        }
        figment = figment.merge(Toml::file(path));
    }
    figment = figment.merge(Env::prefixed("QUITTANCE_").only(ENV_OPTIONS));
    let flags = Flags {
        data_dir: common.data_dir.clone(),
        database_url: common.database_url.clone(),
        log_format: common.log_format.clone(),
        listen,
    };
    figment = figment.merge(Serialized::defaults(flags));
    figment
        .extract::<Config>()
        .map_err(|e| format!("invalid configuration: {e}"))
}

/// One log line per event on standard error (standard output stays clean for `--json`).
pub fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colour);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> CommonArgs {
        CommonArgs {
            config: None,
            data_dir: None,
            database_url: None,
            log_format: None,
        }
    }

    #[test]
    fn flags_beat_the_file_which_beats_the_defaults() {
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("quittance.toml");
        std::fs::write(
            &file,
            "token_ttl_seconds = 60\nlog_format = \"json\"\ndata_dir = \"from-file\"\n",
        )
        .expect("write");
        let mut common = args();
        common.config = Some(file);
        common.data_dir = Some(PathBuf::from("from-flag"));
        let config = load(&common, None).expect("valid");
        assert_eq!(config.token_ttl_seconds, 60);
        assert_eq!(config.log_format, LogFormat::Json);
        assert_eq!(config.data_dir, PathBuf::from("from-flag"));
        assert_eq!(
            config.listen,
            SocketAddr::from(([127, 0, 0, 1], 8080)),
            "untouched options keep their defaults"
        );
    }

    #[test]
    fn an_unknown_option_or_missing_file_is_refused() {
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("quittance.toml");
        std::fs::write(&file, "tokn_ttl = 5\n").expect("write");
        let mut common = args();
        common.config = Some(file);
        assert!(load(&common, None).expect_err("typo").contains("tokn_ttl"));
        common.config = Some(dir.path().join("missing.toml"));
        assert!(
            load(&common, None)
                .expect_err("missing")
                .contains("does not exist")
        );
    }
}
