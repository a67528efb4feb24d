//! `quittance backup` and `quittance restore`: a consistent copy of the embedded database,
//! taken while the server runs, and put back into a data directory that has none. The key
//! files are not in the copy (a database backup must not carry the keys that open it); the
//! report says where they are, and docs/operations.md how to keep them.

use crate::settings::{CommonArgs, load};
use quittance_services::config::Config;
use quittance_store::DatabaseLocation;
use quittance_store::backup::{self, Copied};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The embedded database's file, or why there is none to copy.
fn sqlite_file(config: &Config) -> Result<PathBuf, String> {
    match DatabaseLocation::parse(config.database_url.as_deref(), &config.data_dir)? {
        DatabaseLocation::Sqlite(path) => Ok(path),
        DatabaseLocation::Postgres(_) => Err(
            "the database is PostgreSQL: back it up with pg_dump and restore it with pg_restore, or use point-in-time recovery (docs/operations.md, \"Backups\")"
                .to_owned(),
        ),
    }
}

/// The two keys the copy needs, each as a line of the report and whether it is in place.
fn key_files(config: &Config) -> [(String, bool); 2] {
    let vault = config
        .vault_key_file
        .clone()
        .unwrap_or_else(|| config.data_dir.join(quittance_services::vault::KEY_FILE));
    let vault = (
        format!(
            "the vault key file: {} (without it saved cards and bank accounts cannot be used)",
            vault.display()
        ),
        vault.exists(),
    );
    let hash_key = match &config.credential_hash_key {
        Some(_) => (
            "the credential hash key: set in the configuration (credential_hash_key)".to_owned(),
            true,
        ),
        None => {
            let file = config
                .data_dir
                .join(quittance_services::credentials::HASH_KEY_FILE);
            (
                format!(
                    "the credential hash key: {} (without it no API key or client secret verifies)",
                    file.display()
                ),
                file.exists(),
            )
        }
    };
    [vault, hash_key]
}

/// Runs one of the store's copies off the async threads and reports it.
async fn copy(
    verb: &str,
    from: &Path,
    to: &Path,
    how: fn(&Path, &Path) -> Result<Copied, quittance_store::StoreError>,
) -> Result<(), String> {
    let started = Instant::now();
    let (source, target) = (from.to_owned(), to.to_owned());
    let copied = tokio::task::spawn_blocking(move || how(&source, &target))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    println!(
        "{verb} {} to {}: {} bytes, migration {}, in {:.2} s",
        from.display(),
        to.display(),
        copied.bytes,
        copied.migration,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

pub async fn backup(common: CommonArgs, to: PathBuf) -> Result<(), String> {
    let config = load(&common, None)?;
    let database = sqlite_file(&config)?;
    copy("Copied", &database, &to, backup::backup_sqlite).await?;
    println!("Not in the copy; keep copies of them apart from it:");
    for (line, _) in key_files(&config) {
        println!("  {line}");
    }
    Ok(())
}

pub async fn restore(common: CommonArgs, from: PathBuf) -> Result<(), String> {
    let config = load(&common, None)?;
    let database = sqlite_file(&config)?;
    copy("Restored", &from, &database, backup::restore_sqlite).await?;
    let missing: Vec<String> = key_files(&config)
        .into_iter()
        .filter(|(_, present)| !present)
        .map(|(line, _)| line)
        .collect();
    if missing.is_empty() {
        println!(
            "The key files are in place; `quittance serve` applies any newer migrations on start."
        );
    } else {
        println!("Put these back from their own copies before `quittance serve`:");
        for line in missing {
            println!("  {line}");
        }
    }
    Ok(())
}
