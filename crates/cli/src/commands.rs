//! What each subcommand does.

use crate::settings::{CommonArgs, init_logging, load};
use indicatif::{ProgressBar, ProgressStyle};
use quittance_domain::ids::{CredentialId, ImportId};
use quittance_domain::import::ImportFormat;
use quittance_domain::{Clock, SystemClock};
use quittance_services::App;
use quittance_services::bulk_import::{self, Progress};
use quittance_services::config::Config;
use quittance_services::credentials::{SecretHasher, issue_credentials};
use quittance_services::stop::Stop;
use quittance_services::vault::Vault;
use quittance_store::repo::access;
use quittance_store::repo::imports;
use quittance_store::{DatabaseLocation, Db, StoreError};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Opens and migrates the configured database.
async fn open(config: &Config) -> Result<Db, String> {
    let location = DatabaseLocation::parse(config.database_url.as_deref(), &config.data_dir)?;
    let db = Db::open(&location)
        .await
        .map_err(|e| format!("cannot open the database {}: {e}", location.describe()))?;
    let applied = quittance_store::migrate(&db)
        .await
        .map_err(|e| format!("cannot migrate {}: {e}", location.describe()))?;
    for name in applied {
        tracing::info!(migration = name, "applied migration");
    }
    quittance_services::pricing::defaults::seed_missing(&db, chrono::Utc::now())
        .await
        .map_err(|e| format!("cannot set up pricing defaults: {e}"))?;
    Ok(db)
}

fn open_vault(config: &Config) -> Result<Vault, String> {
    Vault::load_or_create(config.vault_key_file.as_deref(), &config.data_dir)
        .map_err(|e| e.to_string())
}

/// The application state for a command that runs Quittance's own code without serving.
pub(crate) async fn state_for(config: Config) -> Result<(Db, App), String> {
    let db = open(&config).await?;
    let hasher =
        SecretHasher::load_or_create(config.credential_hash_key.as_deref(), &config.data_dir)?;
    let vault = open_vault(&config)?;
    let state = App::new(db.clone(), config, Arc::new(SystemClock), hasher, vault)?;
    Ok((db, state))
}

pub async fn worker(common: CommonArgs) -> Result<(), String> {
    let config = load(&common, None)?;
    init_logging(config.log_format);
    let (db, state) = state_for(config).await?;
    tracing::info!(backend = ?db.backend(), "Quittance worker running the plan scheduler and housekeeping");
    quittance_services::workers::work(state, shutdown_signal()).await;
    db.close().await;
    Ok(())
}

#[derive(clap::Subcommand)]
pub enum TestClockAction {
    /// Move an organization's sandbox clock forward, a day at a time, charging every
    /// installment that comes due on the way.
    Advance {
        #[command(flatten)]
        common: CommonArgs,
        #[arg(long, default_value = "default")]
        organization: String,
        #[arg(long, default_value_t = 0)]
        days: i64,
        #[arg(long, default_value_t = 0)]
        seconds: i64,
    },
}

pub async fn test_clock(action: TestClockAction) -> Result<(), String> {
    let TestClockAction::Advance {
        common,
        organization,
        days,
        seconds,
    } = action;
    let config = load(&common, None)?;
    init_logging(config.log_format);
    let (db, state) = state_for(config).await?;
    let name = organization.clone();
    let org = db
        .read(move |tx| Box::pin(async move { access::find_organization(tx, &name).await }))
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no organization named {organization:?}"))?;
    let advanced = quittance_services::scheduler::advance_clock(&state, &org, days, seconds).await;
    db.close().await;
    let (_, clock, charged) = advanced.map_err(|e| e.message().to_owned())?;
    println!(
        "{organization}: now {} ({} in its time zone); {charged} installment(s) charged",
        quittance_services::resources::datetime(clock.now),
        clock.today().format("%Y-%m-%d"),
    );
    Ok(())
}

pub async fn serve(common: CommonArgs, listen: Option<std::net::SocketAddr>) -> Result<(), String> {
    let mut config = load(&common, listen)?;
    init_logging(config.log_format);
    let db = open(&config).await?;
    let hasher =
        SecretHasher::load_or_create(config.credential_hash_key.as_deref(), &config.data_dir)?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    tracing::info!(backend = ?db.backend(), "Quittance listening on http://{address} (docs at http://{address}/docs)");
    // Hosted pages' URLs name the address actually bound (a `--listen` port 0 included).
    config
        .public_base_url
        .get_or_insert_with(|| format!("http://{address}"));
    fit_connections_to_open_files(&mut config);
    let vault = open_vault(&config)?;
    let state = App::new(db.clone(), config, Arc::new(SystemClock), hasher, vault)?;
    let served = quittance_server::serve(listener, state.into(), shutdown_signal()).await;
    db.close().await;
    served.map_err(|e| format!("the server stopped: {e}"))
}

/// Raises this process's open-file limit to the hard limit, and keeps `max_connections` under
/// it with room for the database, logs and outbound calls: a connection over the cap is
/// answered 503, where one over the file limit would not be accepted at all.
fn fit_connections_to_open_files(config: &mut Config) {
    use rustix::process::{Resource, getrlimit, setrlimit};
    const SPARE: u64 = 256;
    let mut limit = getrlimit(Resource::Nofile);
    // None is unlimited.
    let below_hard = match (limit.current, limit.maximum) {
        (Some(soft), Some(hard)) => soft < hard,
        (Some(_), None) => true,
        (None, _) => false,
    };
    if below_hard {
        limit.current = limit.maximum;
        if let Err(e) = setrlimit(Resource::Nofile, limit) {
            tracing::warn!(error = %e, "cannot raise the open-file limit");
        }
    }
    let Some(files) = getrlimit(Resource::Nofile).current else {
        return; // Unlimited.
    };
    let room = usize::try_from(files.saturating_sub(SPARE).max(1)).unwrap_or(usize::MAX);
    if config.max_connections > room {
        tracing::warn!(
            max_connections = config.max_connections,
            open_file_limit = files,
            "max_connections lowered to fit the open-file limit"
        );
        config.max_connections = room;
    }
}

async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("shutting down");
}

pub async fn migrate(common: CommonArgs) -> Result<(), String> {
    let config = load(&common, None)?;
    init_logging(config.log_format);
    let db = open(&config).await?;
    db.close().await;
    println!("the database is up to date");
    Ok(())
}

#[derive(clap::Subcommand)]
pub enum CredentialsAction {
    /// Create an OAuth client id and secret and an API key (and the organization, if new).
    /// The secrets are printed once and stored only as hashes.
    Create {
        #[command(flatten)]
        common: CommonArgs,
        /// The organization ("portal") the credentials act for.
        #[arg(long, default_value = "default")]
        organization: String,
        /// Print one JSON object: organization_id, client_id, client_secret, api_key.
        #[arg(long)]
        json: bool,
    },
    /// List credentials (never their secrets).
    List {
        #[command(flatten)]
        common: CommonArgs,
        /// Print a JSON array.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a credential: its API key and every token issued to it stop working at once.
    Revoke {
        #[command(flatten)]
        common: CommonArgs,
        /// The credential's id (cred_…), as `credentials list` shows it.
        id: String,
    },
}

pub async fn credentials(action: CredentialsAction) -> Result<(), String> {
    match action {
        CredentialsAction::Create {
            common,
            organization,
            json,
        } => {
            let config = load(&common, None)?;
            init_logging(config.log_format);
            let name = organization.trim();
            if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
                return Err("--organization must be 1 to 100 printable characters".to_owned());
            }
            let db = open(&config).await?;
            let hasher = SecretHasher::load_or_create(
                config.credential_hash_key.as_deref(),
                &config.data_dir,
            )?;
            let issued = issue_credentials(&db, &hasher, name, SystemClock.now())
                .await
                .map_err(|e| e.to_string())?;
            db.close().await;
            if json {
                println!(
                    "{}",
                    serde_json::to_string(&issued).map_err(|e| e.to_string())?
                );
            } else {
                println!("Organization:   {name} ({})", issued.organization_id);
                println!("Credential:     {}", issued.credential_id);
                println!("Client ID:      {}", issued.client_id);
                println!("Client secret:  {}", issued.client_secret.expose());
                println!("API key:        {}", issued.api_key.expose());
                println!();
                println!(
                    "The secret and the API key are shown only now: Quittance keeps only their hashes."
                );
            }
            Ok(())
        }
        CredentialsAction::List { common, json } => {
            let config = load(&common, None)?;
            init_logging(config.log_format);
            let db = open(&config).await?;
            let list = db
                .read(|tx| Box::pin(access::list_credentials(tx)))
                .await
                .map_err(|e| e.to_string())?;
            db.close().await;
            if json {
                let rows: Vec<serde_json::Value> = list
                    .iter()
                    .map(|c| {
                        serde_json::json!({
                            "id": c.id.as_str(),
                            "organization_id": c.organization_id.as_str(),
                            "organization": c.organization_name,
                            "client_id": c.client_id,
                            "api_key_hint": c.api_key_hint,
                            "created_at": c.created_at.to_rfc3339(),
                            "revoked_at": c.revoked_at.map(|t| t.to_rfc3339()),
                        })
                    })
                    .collect();
                println!("{}", serde_json::Value::Array(rows));
            } else {
                println!(
                    "{:<38} {:<20} {:<36} {:<12} {:<20} STATUS",
                    "ID", "ORGANIZATION", "CLIENT ID", "API KEY", "CREATED"
                );
                for c in list {
                    let status = if c.revoked_at.is_some() {
                        "revoked"
                    } else {
                        "active"
                    };
                    println!(
                        "{:<38} {:<20} {:<36} {:<12} {:<20} {status}",
                        c.id.as_str(),
                        c.organization_name,
                        c.client_id,
                        format!("{}…", c.api_key_hint),
                        c.created_at.format("%Y-%m-%d %H:%M:%S")
                    );
                }
            }
            Ok(())
        }
        CredentialsAction::Revoke { common, id } => {
            let config = load(&common, None)?;
            init_logging(config.log_format);
            let credential = CredentialId::parse(&id)
                .ok_or_else(|| format!("{id:?} is not a credential id (cred_…)"))?;
            let db = open(&config).await?;
            let now = SystemClock.now();
            let target = credential.clone();
            let revoked = db
                .write(move |tx| {
                    Box::pin(async move { access::revoke_credential(tx, &target, now).await })
                })
                .await;
            db.close().await;
            match revoked {
                Ok(()) => {
                    println!("revoked {credential}");
                    Ok(())
                }
                Err(StoreError::NotFound) => Err(format!("no credential {credential}")),
                Err(e) => Err(e.to_string()),
            }
        }
    }
}

pub async fn import(
    common: CommonArgs,
    file: PathBuf,
    organization: String,
    format: Option<String>,
) -> Result<(), String> {
    let config = load(&common, None)?;
    init_logging(config.log_format);
    let format = match format.as_deref() {
        Some(f) => ImportFormat::parse(f)
            .ok_or_else(|| format!("--format must be one of {}", ImportFormat::choices()))?,
        None => match file
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("csv") => ImportFormat::Csv,
            Some("ndjson" | "jsonl") => ImportFormat::Ndjson,
            _ => return Err(
                "cannot tell the format from the file name: pass --format csv or --format ndjson"
                    .to_owned(),
            ),
        },
    };
    let size = std::fs::metadata(&file)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?
        .len();
    let db = open(&config).await?;
    let name = organization.clone();
    let org = db
        .read(move |tx| Box::pin(async move { access::find_organization(tx, &name).await }))
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no organization named {organization:?} (quittance credentials create --organization … makes one)"))?;
    let id = ImportId::generate();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let (job, job_org, now) = (id.clone(), org.clone(), clock.now());
    db.write(move |tx| {
        Box::pin(async move { imports::insert_import(tx, &job_org, &job, format, now).await })
    })
    .await
    .map_err(|e| e.to_string())?;

    let progress = Arc::new(Progress::default());
    let bar = ProgressBar::new(size);
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:40} {bytes}/{total_bytes} ({bytes_per_sec}, eta {eta})")
            .map_err(|e| e.to_string())?,
    );
    let ticker = {
        let (bar, progress) = (bar.clone(), progress.clone());
        tokio::spawn(async move {
            loop {
                bar.set_position(progress.bytes_read.load(Ordering::Relaxed));
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let started = Instant::now();
    let outcome = bulk_import::run(&db, &org, &id, &file, format, clock, progress).await;
    ticker.abort();
    bar.finish_and_clear();
    let elapsed = started.elapsed();
    let job = id.clone();
    let rejections = db
        .read(move |tx| Box::pin(async move { imports::list_rejections(tx, &job).await }))
        .await
        .map_err(|e| e.to_string())?;
    db.close().await;
    let tally = outcome?;
    let seconds = elapsed.as_secs_f64().max(f64::EPSILON);
    println!(
        "Imported {} in {:.1} s ({:.0} rows/s) as import {id}",
        file.display(),
        seconds,
        tally.rows_read as f64 / seconds
    );
    println!("  rows read             {:>12}", tally.rows_read);
    println!("  rows rejected         {:>12}", tally.rows_rejected);
    println!("  rows unchanged        {:>12}", tally.rows_unchanged);
    println!("  accounts created      {:>12}", tally.accounts_created);
    println!("  accounts updated      {:>12}", tally.accounts_updated);
    println!("  sub-accounts created  {:>12}", tally.sub_accounts_created);
    println!("  sub-accounts updated  {:>12}", tally.sub_accounts_updated);
    for r in rejections.iter().take(20) {
        println!(
            "  row {}: {}{}",
            r.row_number,
            r.field
                .as_deref()
                .map(|f| format!("{f}: "))
                .unwrap_or_default(),
            r.reason
        );
    }
    if tally.rows_rejected > 20 {
        println!(
            "  … {} more rejected rows: GET /v1/imports/{id} lists the first 1,000",
            tally.rows_rejected - 20
        );
    }
    Ok(())
}

pub fn config(common: CommonArgs) -> Result<(), String> {
    let mut config = load(&common, None)?;
    if config
        .database_url
        .as_deref()
        .is_some_and(|u| u.contains('@'))
    {
        let location = DatabaseLocation::parse(config.database_url.as_deref(), &config.data_dir)?;
        config.database_url = Some(location.describe());
    }
    if config.credential_hash_key.is_some() {
        config.credential_hash_key = Some("***".to_owned());
    }
    if config.metrics_token.is_some() {
        config.metrics_token = Some("***".to_owned());
    }
    println!(
        "{}",
        serde_json::to_string_pretty(&config).map_err(|e| e.to_string())?
    );
    Ok(())
}

#[derive(clap::Subcommand)]
pub enum KeysAction {
    /// Add a new vault key and re-seal every stored secret under it (card and bank account
    /// numbers, webhook signing secrets and receivers' credentials).
    /// Interrupted, it loses nothing: run it again with --resume to finish without adding
    /// another key. Servers pick the new key up when they meet it; restart them so that new
    /// records are sealed under it too.
    Rotate {
        #[command(flatten)]
        common: CommonArgs,
        /// Finish an interrupted rotation: re-seal what is left, add no key.
        #[arg(long)]
        resume: bool,
    },
    /// Show the current key and how many records each key seals.
    Status {
        #[command(flatten)]
        common: CommonArgs,
    },
}

pub async fn keys(action: KeysAction) -> Result<(), String> {
    match action {
        KeysAction::Rotate { common, resume } => {
            let config = load(&common, None)?;
            init_logging(config.log_format);
            let db = open(&config).await?;
            let vault = open_vault(&config)?;
            if !resume {
                let id = vault.add_key().map_err(|e| e.to_string())?;
                println!("added vault key {id}");
            }
            let done = quittance_services::vault::reseal_all(&vault, &db, 500).await;
            db.close().await;
            let done = done?;
            println!(
                "re-sealed {} record(s) under {}",
                done.records,
                vault.current_key_id()
            );
            Ok(())
        }
        KeysAction::Status { common } => {
            let config = load(&common, None)?;
            let db = open(&config).await?;
            let vault = open_vault(&config)?;
            let counts = quittance_services::vault::count_by_key(&db).await;
            db.close().await;
            println!("current key: {}", vault.current_key_id());
            for (key, count) in counts? {
                println!("{key}: {count} record(s)");
            }
            Ok(())
        }
    }
}

#[derive(clap::Subcommand)]
pub enum LedgerAction {
    /// Check, on either database: every ledger transaction sums to zero per currency; every
    /// cached balance equals the sum of its entries; holds match open payments; captured <=
    /// authorized and refunded <= captured; no sub-account below zero. Prints what it
    /// checked; exits non-zero on any break.
    Verify {
        #[command(flatten)]
        common: CommonArgs,
    },
}

pub async fn ledger(action: LedgerAction) -> Result<(), String> {
    let LedgerAction::Verify { common } = action;
    let config = load(&common, None)?;
    let db = open(&config).await?;
    let verified = db
        .read(|tx| Box::pin(async move { quittance_store::repo::ledger::verify(tx).await }))
        .await
        .map_err(|e| e.to_string());
    db.close().await;
    let v = verified?;
    println!(
        "checked {} ledger transaction(s), {} entr(ies), {} sub-account(s), {} payment(s), {} disbursement(s)",
        v.transactions, v.entries, v.sub_accounts, v.payments, v.disbursements
    );
    if v.breaks.is_empty() {
        println!("ledger verified: no breaks");
        return Ok(());
    }
    for b in &v.breaks {
        println!("BREAK [{}] {}", b.rule, b.detail);
    }
    Err(format!("the ledger has {} break(s)", v.breaks.len()))
}

#[derive(clap::Subcommand)]
pub enum WebhooksAction {
    /// Subscribe a temporary endpoint that forwards each event to a local URL, printing each
    /// as it arrives, until interrupted (the endpoint is removed then, or by housekeeping
    /// ten minutes after this command stops).
    Listen {
        #[command(flatten)]
        common: CommonArgs,
        #[arg(long, default_value = "default")]
        organization: String,
        /// Where to send the events, e.g. http://127.0.0.1:4000/hook (allowed even if private).
        #[arg(long)]
        forward_to: String,
        /// Comma-separated event types [default: every type].
        #[arg(long, value_delimiter = ',')]
        events: Vec<String>,
    },
    /// Record a sample event of TYPE (e.g. payment.approved), delivered to the endpoints
    /// subscribed to it.
    Trigger {
        #[command(flatten)]
        common: CommonArgs,
        #[arg(long, default_value = "default")]
        organization: String,
        /// The event type; `analysis.*` is accepted for `statement_analysis.*`.
        event_type: String,
    },
}

pub(crate) async fn organization_named(
    db: &Db,
    name: &str,
) -> Result<quittance_domain::ids::OrganizationId, String> {
    let wanted = name.to_owned();
    db.read(move |tx| Box::pin(async move { access::find_organization(tx, &wanted).await }))
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no organization named {name:?}"))
}

/// How long a listener's endpoint outlives its last renewal.
const LISTENER_LEASE: chrono::Duration = chrono::Duration::minutes(10);

pub async fn webhooks(action: WebhooksAction) -> Result<(), String> {
    use quittance_domain::events::EventType;
    use quittance_services::webhooks::{delivery, sample, signing};
    match action {
        WebhooksAction::Trigger {
            common,
            organization,
            event_type,
        } => {
            let config = load(&common, None)?;
            init_logging(config.log_format);
            let kind = EventType::parse_subscription(&event_type).ok_or_else(|| {
                format!(
                    "{event_type:?} is not an event type; one of {}",
                    EventType::choices()
                )
            })?;
            let (db, state) = state_for(config).await?;
            let org = organization_named(&db, &organization).await?;
            let recorded = sample::trigger(&state, &org, kind).await;
            db.close().await;
            let id = recorded.map_err(|e| e.message().to_owned())?;
            println!("{id} {} recorded for {organization}", kind.as_str());
            Ok(())
        }
        WebhooksAction::Listen {
            common,
            organization,
            forward_to,
            events,
        } => {
            let mut config = load(&common, None)?;
            init_logging(config.log_format);
            // The person at the console chose this target: permit its addresses.
            let target = reqwest::Url::parse(&forward_to)
                .map_err(|e| format!("--forward-to {forward_to:?} is not a URL: {e}"))?;
            let host = target
                .host_str()
                .unwrap_or_default()
                .trim_matches(['[', ']'])
                .to_owned();
            let port = target.port_or_known_default().unwrap_or(80);
            let found = tokio::net::lookup_host((host.as_str(), port))
                .await
                .map_err(|e| format!("cannot resolve {host}: {e}"))?;
            config
                .webhook_allowed_networks
                .extend(found.map(|a| a.ip().to_string()));
            if !matches!(target.scheme(), "http" | "https") {
                return Err("--forward-to must be an http or https URL".to_owned());
            }
            let kinds: Vec<EventType> = if events.is_empty() {
                EventType::ALL.to_vec()
            } else {
                events
                    .iter()
                    .map(|e| {
                        EventType::parse_subscription(e.trim())
                            .ok_or_else(|| format!("{e:?} is not an event type"))
                    })
                    .collect::<Result<_, _>>()?
            };
            let (db, state) = state_for(config).await?;
            let org = organization_named(&db, &organization).await?;
            let secret = signing::new_endpoint_secret();
            let mut record = quittance_services::webhooks::endpoints::new_record(
                &state,
                &org,
                quittance_domain::webhooks::WebhookApi::Listener,
                forward_to.clone(),
                kinds.iter().map(|k| k.as_str().to_owned()).collect(),
                &secret,
            );
            record.expires_at = Some(state.clock.now() + LISTENER_LEASE);
            let record = quittance_services::webhooks::endpoints::insert(&state, record, kinds)
                .await
                .map_err(|e| e.message().to_owned())?;
            println!(
                "Forwarding {organization}'s events to {forward_to} (endpoint {}, signing secret {secret}). Ctrl-C stops.",
                record.id
            );
            let queue = record.id.to_string();
            let worker = tokio::spawn(delivery::run_until(
                state.clone(),
                queue,
                Stop::never(),
                |sent| {
                    let outcome = match (&sent.response_status, &sent.error) {
                        (_, Some(error)) => error.clone(),
                        (Some(status), None) => format!("[{status}]"),
                        (None, None) => String::new(),
                    };
                    println!(
                        "{} {} {outcome}\n{}",
                        sent.event_type.as_str(),
                        sent.event_id,
                        sent.event_json
                    );
                },
            ));
            let renew = {
                let (state, id) = (state.clone(), record.id.clone());
                tokio::spawn(async move {
                    let mut tick = tokio::time::interval(Duration::from_secs(60));
                    loop {
                        tick.tick().await;
                        let (id, until) = (id.clone(), state.clock.now() + LISTENER_LEASE);
                        let renewed = state
                            .db
                            .write(move |tx| {
                                Box::pin(async move {
                                    quittance_store::repo::webhooks::renew_listener(tx, &id, until)
                                        .await
                                })
                            })
                            .await;
                        if let Err(e) = renewed {
                            tracing::warn!(error = %e, "cannot renew the listener");
                        }
                    }
                })
            };
            shutdown_signal().await;
            worker.abort();
            renew.abort();
            let (org, id) = (record.organization_id.clone(), record.id.clone());
            let removed = db
                .write(move |tx| {
                    Box::pin(async move {
                        quittance_store::repo::webhooks::delete_webhook(tx, &org, &id).await
                    })
                })
                .await;
            db.close().await;
            removed.map_err(|e| format!("cannot remove the listener's endpoint: {e}"))
        }
    }
}
