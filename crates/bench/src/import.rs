//! `import`: 1,000,000 sub-accounts from CSV through `quittance import`, against sqlite3 `.import`.

use crate::Options;
use crate::support::{measure, open_sqlite, rate};
use quittance_domain::ids::ImportId;
use quittance_domain::import::ImportFormat;
use quittance_domain::{Clock, SystemClock};
use quittance_services::bulk_import::{self, Progress};
use quittance_store::repo::{access, imports};
use std::io::{BufWriter, Write as _};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

pub const FIRST: [&str; 8] = [
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda",
];
pub const LAST: [&str; 8] = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
];
pub const STREETS: [&str; 6] = [
    "Main St", "Oak Ave", "Pine Rd", "Maple Dr", "Cedar Ln", "Elm St",
];
pub const CITIES: [(&str, &str); 6] = [
    ("Reno", "NV"),
    ("Austin", "TX"),
    ("Denver", "CO"),
    ("Tampa", "FL"),
    ("Boise", "ID"),
    ("Omaha", "NE"),
];

/// Writes `accounts × subs` rows in random account order (a bijection scatters the numbers).
pub fn generate_csv(path: &Path, accounts: u64, subs: u64) -> Result<u64, String> {
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

/// The measured side of the import benchmark: the same code path as `quittance import`.
pub async fn import_child(csv: &Path, dir: &Path) -> Result<(), String> {
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

pub async fn import_bench(options: &Options) -> Result<(), String> {
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
