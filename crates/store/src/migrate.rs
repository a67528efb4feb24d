//! Schema migrations, embedded in the binary. Each backend has its own folder with identical
//! file names (a test checks), applied in order inside one transaction.

use crate::{Backend, Db, StoreError, Tx, params};

/// `(version, name, SQLite text, PostgreSQL text)`, in order.
pub const MIGRATIONS: &[(i64, &str, &str, &str)] = &[
    (
        1,
        "0001_foundation",
        include_str!("../migrations/sqlite/0001_foundation.sql"),
        include_str!("../migrations/postgres/0001_foundation.sql"),
    ),
    (
        2,
        "0002_events",
        include_str!("../migrations/sqlite/0002_events.sql"),
        include_str!("../migrations/postgres/0002_events.sql"),
    ),
    (
        3,
        "0003_payments",
        include_str!("../migrations/sqlite/0003_payments.sql"),
        include_str!("../migrations/postgres/0003_payments.sql"),
    ),
    (
        4,
        "0004_plans",
        include_str!("../migrations/sqlite/0004_plans.sql"),
        include_str!("../migrations/postgres/0004_plans.sql"),
    ),
    (
        5,
        "0005_webhooks",
        include_str!("../migrations/sqlite/0005_webhooks.sql"),
        include_str!("../migrations/postgres/0005_webhooks.sql"),
    ),
    (
        6,
        "0006_pricing",
        include_str!("../migrations/sqlite/0006_pricing.sql"),
        include_str!("../migrations/postgres/0006_pricing.sql"),
    ),
    (
        7,
        "0007_statement_analyses",
        include_str!("../migrations/sqlite/0007_statement_analyses.sql"),
        include_str!("../migrations/postgres/0007_statement_analyses.sql"),
    ),
    (
        8,
        "0008_ingo",
        include_str!("../migrations/sqlite/0008_ingo.sql"),
        include_str!("../migrations/postgres/0008_ingo.sql"),
    ),
    (
        9,
        "0009_ingo_disbursements",
        include_str!("../migrations/sqlite/0009_ingo_disbursements.sql"),
        include_str!("../migrations/postgres/0009_ingo_disbursements.sql"),
    ),
    (
        10,
        "0010_webhook_numbers_per_organization",
        include_str!("../migrations/sqlite/0010_webhook_numbers_per_organization.sql"),
        include_str!("../migrations/postgres/0010_webhook_numbers_per_organization.sql"),
    ),
];

/// Applies every migration not yet applied; returns the names it applied. Refuses a database
/// migrated by a newer Quittance.
pub async fn migrate(db: &Db) -> Result<Vec<&'static str>, StoreError> {
    migrate_to(db, i64::MAX).await
}

/// [`migrate`], stopping after migration `last`: how a test makes the database an older
/// Quittance left, to see a later migration carry its data over.
pub async fn migrate_to(db: &Db, last: i64) -> Result<Vec<&'static str>, StoreError> {
    db.write(move |tx| Box::pin(apply(tx, last))).await
}

async fn apply(tx: &mut dyn Tx, last: i64) -> Result<Vec<&'static str>, StoreError> {
    if tx.backend() == Backend::Postgres {
        // Two servers starting together on one PostgreSQL take turns.
        tx.execute("SELECT pg_advisory_xact_lock(7170616)", &[])
            .await?;
    }
    tx.batch(
        "CREATE TABLE IF NOT EXISTS quittance_migrations (
            version BIGINT PRIMARY KEY,
            name TEXT NOT NULL,
            applied_at BIGINT NOT NULL
        )",
    )
    .await?;
    let applied = tx
        .query(
            "SELECT version FROM quittance_migrations ORDER BY version",
            &[],
        )
        .await?;
    let applied: Vec<i64> = applied.iter().map(|r| r.i64(0)).collect::<Result<_, _>>()?;
    let newest_known = MIGRATIONS.last().map_or(0, |m| m.0);
    if let Some(unknown) = applied.iter().find(|v| **v > newest_known) {
        return Err(StoreError::Backend(format!(
            "the database has migration {unknown}, newer than this Quittance knows ({newest_known}); upgrade Quittance"
        )));
    }
    let now = chrono::Utc::now().timestamp_micros();
    let mut done = Vec::new();
    for (version, name, sqlite, postgres) in MIGRATIONS {
        if applied.contains(version) || *version > last {
            continue;
        }
        tx.batch(if tx.backend() == Backend::Sqlite {
            sqlite
        } else {
            postgres
        })
        .await?;
        tx.execute(
            "INSERT INTO quittance_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
            &params![*version, *name, now],
        )
        .await?;
        done.push(*name);
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &str) -> Vec<String> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations")
            .join(dir);
        let mut names: Vec<String> = std::fs::read_dir(&path)
            .expect("migrations folder")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn both_backends_have_the_same_migration_files_and_all_are_listed() {
        let sqlite = names("sqlite");
        assert_eq!(sqlite, names("postgres"));
        let listed: Vec<String> = MIGRATIONS.iter().map(|m| format!("{}.sql", m.1)).collect();
        assert_eq!(sqlite, listed);
        let versions: Vec<i64> = MIGRATIONS.iter().map(|m| m.0).collect();
        let expected: Vec<i64> = (1..=i64::try_from(MIGRATIONS.len()).expect("small")).collect();
        assert_eq!(versions, expected, "versions count up from 1 without gaps");
    }

    /// Migrations that change a constraint SQLite cannot alter, so its side makes the table
    /// again while PostgreSQL's alters it: their column types are not comparable word for word.
    const SQLITE_REBUILDS: &[&str] = &["0010_webhook_numbers_per_organization"];

    #[test]
    fn column_types_match_across_backends() {
        // Only BIGINT, TEXT, BOOLEAN and bytes columns (SQLite's BLOB is PostgreSQL's BYTEA):
        // strip identifiers and compare the type words.
        for (_, name, sqlite, postgres) in MIGRATIONS {
            let types = |sql: &str| -> Vec<String> {
                sql.split_whitespace()
                    .map(|w| {
                        match w
                            .trim_matches(|c: char| !c.is_ascii_alphanumeric())
                            .to_ascii_uppercase()
                            .as_str()
                        {
                            "BYTEA" => "BLOB".to_owned(),
                            other => other.to_owned(),
                        }
                    })
                    .filter(|w| {
                        [
                            "BIGINT",
                            "TEXT",
                            "BOOLEAN",
                            "INTEGER",
                            "REAL",
                            "BLOB",
                            "TIMESTAMPTZ",
                            "NUMERIC",
                            "SERIAL",
                            "BIGSERIAL",
                        ]
                        .contains(&w.as_str())
                    })
                    .collect()
            };
            if SQLITE_REBUILDS.contains(name) {
                continue;
            }
            assert_eq!(types(sqlite), types(postgres), "{name}");
        }
    }
}
