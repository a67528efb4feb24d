//! `quittance`: the server and its operator commands.

mod backup;
mod commands;
mod ingo;
mod settings;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "quittance", version, about = "A self-hostable payments and receivables server", long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (SQLite under --data-dir unless --database-url says otherwise).
    Serve {
        #[command(flatten)]
        common: settings::CommonArgs,
        /// Address and port to listen on [default: 127.0.0.1:8080].
        #[arg(long, env = "QUITTANCE_LISTEN")]
        listen: Option<std::net::SocketAddr>,
    },
    /// Run the payment plan scheduler, webhook delivery, statement analysis and housekeeping
    /// without the HTTP server (several workers and servers on one PostgreSQL share the work).
    Worker {
        #[command(flatten)]
        common: settings::CommonArgs,
    },
    /// The sandbox's per-organization test clock.
    TestClock {
        #[command(subcommand)]
        action: commands::TestClockAction,
    },
    /// Apply database migrations and exit.
    Migrate {
        #[command(flatten)]
        common: settings::CommonArgs,
    },
    /// Issue, list and revoke API credentials.
    Credentials {
        #[command(subcommand)]
        action: commands::CredentialsAction,
    },
    /// Import a CSV (one row per sub-account) or NDJSON (one document per line) file.
    Import {
        #[command(flatten)]
        common: settings::CommonArgs,
        /// The file to import.
        file: std::path::PathBuf,
        /// The organization to import into.
        #[arg(long, default_value = "default")]
        organization: String,
        /// csv or ndjson [default: from the file's extension].
        #[arg(long)]
        format: Option<String>,
    },
    /// The vault's keys: rotate them, or see which key seals how many records.
    Keys {
        #[command(subcommand)]
        action: commands::KeysAction,
    },
    /// The ledger: verify that every rule money movement keeps still holds.
    Ledger {
        #[command(subcommand)]
        action: commands::LedgerAction,
    },
    /// Webhooks from the console: forward events to a local URL, or trigger a sample event.
    Webhooks {
        #[command(subcommand)]
        action: commands::WebhooksAction,
    },
    /// IngoPay (seed 003): participants that create hosted sessions.
    Ingo {
        #[command(subcommand)]
        action: ingo::IngoAction,
    },
    /// Copy the embedded database to FILE while the server runs (a consistent snapshot); the
    /// key files are not in the copy, and the report says where they are.
    Backup {
        #[command(flatten)]
        common: settings::CommonArgs,
        /// The copy to write; it must not exist yet.
        #[arg(long)]
        to: std::path::PathBuf,
    },
    /// Put a copy made by `backup` in place as the database of a data directory that has none.
    Restore {
        #[command(flatten)]
        common: settings::CommonArgs,
        /// The copy to restore.
        #[arg(long)]
        from: std::path::PathBuf,
    },
    /// Print the configuration in force (defaults, file, environment, flags), secrets masked.
    Config {
        #[command(flatten)]
        common: settings::CommonArgs,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("quittance: error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(async move {
        match cli.command {
            Command::Serve { common, listen } => commands::serve(common, listen).await,
            Command::Migrate { common } => commands::migrate(common).await,
            Command::Worker { common } => commands::worker(common).await,
            Command::TestClock { action } => commands::test_clock(action).await,
            Command::Credentials { action } => commands::credentials(action).await,
            Command::Import {
                common,
                file,
                organization,
                format,
            } => commands::import(common, file, organization, format).await,
            Command::Keys { action } => commands::keys(action).await,
            Command::Ledger { action } => commands::ledger(action).await,
            Command::Webhooks { action } => commands::webhooks(action).await,
            Command::Ingo { action } => ingo::ingo(action).await,
            Command::Backup { common, to } => backup::backup(common, to).await,
            Command::Restore { common, from } => backup::restore(common, from).await,
            Command::Config { common } => commands::config(common),
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("quittance: error: {message}");
            ExitCode::FAILURE
        }
    }
}
