//! A fresh, migrated database for each test: SQLite in a temporary directory, or — when
//! `QUITTANCE_TEST_POSTGRES_URL` names a PostgreSQL server — a newly created database on it,
//! dropped again when the test ends.

use crate::{DatabaseLocation, Db, migrate_to};

/// The variable that switches tests to PostgreSQL.
pub const POSTGRES_URL_VAR: &str = "QUITTANCE_TEST_POSTGRES_URL";

pub struct TestDatabase {
    pub db: Db,
    pub location: DatabaseLocation,
    /// Holds the SQLite directory (and the data directory for keys) until the test ends.
    pub dir: tempfile::TempDir,
    postgres: Option<(String, String)>,
}

/// `url` with its database name replaced by `name`.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    format!("{base}/{name}{query}")
}

impl TestDatabase {
    /// Creates and migrates the database. Panics (failing the test) when it cannot.
    pub async fn new() -> TestDatabase {
        Self::migrated_to(i64::MAX).await
    }

    /// Creates the database as the Quittance that knew migrations up to `last` left it.
    pub async fn migrated_to(last: i64) -> TestDatabase {
        let dir = tempfile::tempdir().expect("temporary directory");
        let (location, postgres) = match std::env::var(POSTGRES_URL_VAR)
            .ok()
            .filter(|u| !u.is_empty())
        {
            None => (
                DatabaseLocation::Sqlite(dir.path().join("quittance.db")),
                None,
            ),
            Some(admin) => {
                let name = format!("quittance_test_{}", uuid::Uuid::now_v7().simple());
                let admin_db = Db::open(&DatabaseLocation::Postgres(admin.clone()))
                    .await
                    .expect("PostgreSQL for tests");
                if let Db::Postgres(pg) = &admin_db {
                    pg.create_database(&name).await.expect("CREATE DATABASE");
                }
                admin_db.close().await;
                (
                    DatabaseLocation::Postgres(with_database(&admin, &name)),
                    Some((admin, name)),
                )
            }
        };
        let db = Db::open(&location).await.expect("open test database");
        migrate_to(&db, last).await.expect("migrate test database");
        TestDatabase {
            db,
            location,
            dir,
            postgres,
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((admin, name)) = self.postgres.take() else {
            return;
        };
        // Drop cannot await, and the test's runtime is busy dropping us: a short-lived runtime
        // on its own thread drops the database. FORCE ends the test's own connections.
        let cleanup = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                if let Ok(Db::Postgres(admin_db)) =
                    Db::open(&DatabaseLocation::Postgres(admin)).await
                {
                    let _ = admin_db.drop_database(&name).await;
                    admin_db.close().await;
                }
            });
        });
        let _ = cleanup.join();
    }
}
