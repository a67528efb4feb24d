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
//! cargo run --release -p quittance-bench -- ingo       # signed IngoPay sessions/s vs an unsigned POST; URL to page
//! cargo run --release -p quittance-bench -- all
//! ```
//! Options: `--accounts N`, `--subs K`, `--seconds S`, `--concurrency C`.

mod accounts;
mod import;
mod ingo;
mod payments;
mod plans;
mod pricing;
mod statements;
mod support;
mod tokens;
mod webhooks;

use accounts::accounts_bench;
use import::{import_bench, import_child};
use ingo::ingo_bench;
use payments::payments_bench;
use plans::plans_bench;
use pricing::pricing_bench;
use statements::statements_bench;
use std::path::Path;
use std::process::ExitCode;
use tokens::tokens_bench;
use webhooks::webhooks_bench;

/// The command line's `--accounts`, `--subs`, `--seconds` and `--concurrency`.
pub struct Options {
    pub accounts: u64,
    pub subs: u64,
    pub seconds: u64,
    pub concurrency: usize,
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
        "ingo" => ingo_bench(&options).await,
        "all" => {
            import_bench(&options).await?;
            accounts_bench(&options).await?;
            tokens_bench(&options).await?;
            payments_bench(&options).await?;
            plans_bench(&options).await?;
            webhooks_bench(&options).await?;
            pricing_bench(&options).await?;
            statements_bench(&options).await?;
            ingo_bench(&options).await
        }
        other => Err(format!(
            "unknown benchmark {other:?}: import, accounts, tokens, payments, plans, webhooks, pricing, statements, ingo or all"
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
