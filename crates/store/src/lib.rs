//! Quittance's persistence.
//!
//! Every read and write is a *transaction script*: an async function over [`Tx`] that issues
//! SQL with `$1`-style placeholders. The same script runs on both backends:
//!
//! - **SQLite** (embedded default, through rusqlite): one writer thread owns the write
//!   connection and commits the scripts queued meanwhile together — each in its own savepoint,
//!   one fsync for the batch, each caller answered after the commit (group commit). Reads run
//!   on a small pool of read-only connections. Scripts on SQLite complete without suspending,
//!   so the writer thread drives them with a plain `block_on`.
//! - **PostgreSQL** (through sqlx): each script runs in its own transaction from a pool.
//!
//! So the SQL in `repo/` is written once, and the server never sees which backend it talks to.
//! Scripts must only await their `Tx`: no timers, no network.

pub mod backup;
mod migrate;
mod postgres;
pub mod repo;
mod sqlite;
#[cfg(feature = "testing")]
pub mod testing;
mod value;

pub use migrate::{MIGRATIONS, migrate, migrate_to};
pub use value::{Param, Row, Value};

use futures_util::future::BoxFuture;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What can go wrong talking to the database. A decode failure is `Decode` (a 500), never
/// `NotFound`.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error("record not found")]
    NotFound,
    /// A unique constraint refused the write; the text names the constraint or its columns.
    #[error("unique constraint violated: {0}")]
    Conflict(String),
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Backend(String),
    #[error("stored value could not be decoded: {0}")]
    Decode(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// One open transaction, as seen by a script.
pub trait Tx: Send {
    /// Runs a statement and returns every row it produced.
    fn query<'a>(
        &'a mut self,
        sql: &'a str,
        params: &'a [Param],
    ) -> BoxFuture<'a, Result<Vec<Row>, StoreError>>;
    /// Runs a statement and returns how many rows it changed.
    fn execute<'a>(
        &'a mut self,
        sql: &'a str,
        params: &'a [Param],
    ) -> BoxFuture<'a, Result<u64, StoreError>>;
    /// Runs several `;`-separated statements without parameters (migrations).
    fn batch<'a>(&'a mut self, sql: &'a str) -> BoxFuture<'a, Result<(), StoreError>>;
    fn backend(&self) -> Backend;
    /// Wakes the waiter on [`Db::outbox_signal`] once this transaction commits (it queued
    /// webhook deliveries). Nothing happens if it rolls back.
    fn signal_outbox(&mut self);
}

impl dyn Tx + '_ {
    /// The first row, if any.
    pub async fn query_opt(
        &mut self,
        sql: &str,
        params: &[Param],
    ) -> Result<Option<Row>, StoreError> {
        Ok(self.query(sql, params).await?.into_iter().next())
    }

    /// Exactly the first row; none is `NotFound`.
    pub async fn query_one(&mut self, sql: &str, params: &[Param]) -> Result<Row, StoreError> {
        self.query_opt(sql, params)
            .await?
            .ok_or(StoreError::NotFound)
    }
}

/// Where the data lives, chosen from `--database-url` (or its absence).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseLocation {
    Sqlite(PathBuf),
    Postgres(String),
}

/// The database file used when no URL is given.
pub const SQLITE_FILE_NAME: &str = "quittance.db";

impl DatabaseLocation {
    /// No URL: SQLite under `data_dir`. `sqlite://PATH` or `sqlite:PATH`: that file.
    /// `postgres://` or `postgresql://`: PostgreSQL. Anything else is refused with the reason.
    pub fn parse(url: Option<&str>, data_dir: &Path) -> Result<Self, String> {
        let Some(url) = url.map(str::trim).filter(|u| !u.is_empty()) else {
            return Ok(Self::Sqlite(data_dir.join(SQLITE_FILE_NAME)));
        };
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_owned()));
        }
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                return Err("the sqlite: database URL names no file".to_owned());
            }
            return Ok(Self::Sqlite(PathBuf::from(path)));
        }
        let scheme = url.split_once(':').map_or(url, |(s, _)| s);
        Err(format!(
            "unsupported database URL scheme {scheme:?}: use postgres://… or sqlite://PATH (or no URL for the embedded database)"
        ))
    }

    /// For logs: the file path, or the PostgreSQL URL without its password.
    pub fn describe(&self) -> String {
        match self {
            Self::Sqlite(path) => format!("sqlite:{}", path.display()),
            Self::Postgres(url) => redact_password(url),
        }
    }
}

fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

/// Creates `dir` and its missing parents readable by their owner only (0700). An existing
/// directory keeps its mode.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt as _;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

/// A handle on the database; cheap to clone.
#[derive(Clone)]
pub enum Db {
    Sqlite(Arc<sqlite::SqliteDb>),
    Postgres(postgres::PgDb),
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Db::Sqlite(_) => "Db::Sqlite",
            Db::Postgres(_) => "Db::Postgres",
        })
    }
}

/// A script's result: the error type is the caller's, so a script can fail with a business
/// error and have its writes rolled back.
pub type Script<T, E> =
    Box<dyn for<'a> FnOnce(&'a mut dyn Tx) -> BoxFuture<'a, Result<T, E>> + Send>;

impl Db {
    /// Opens (and for SQLite creates) the database. It does not migrate: call [`migrate`].
    pub async fn open(location: &DatabaseLocation) -> Result<Db, StoreError> {
        match location {
            DatabaseLocation::Sqlite(path) => {
                let path = path.clone();
                let db = tokio::task::spawn_blocking(move || sqlite::SqliteDb::open(&path))
                    .await
                    .map_err(|e| StoreError::Backend(e.to_string()))??;
                Ok(Db::Sqlite(Arc::new(db)))
            }
            DatabaseLocation::Postgres(url) => {
                Ok(Db::Postgres(postgres::PgDb::connect(url).await?))
            }
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Runs `script` in a write transaction: committed if it returns `Ok`, rolled back (to its
    /// savepoint, on SQLite) if it returns `Err`. The caller is answered after the commit.
    pub async fn write<T, E, F>(&self, script: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: for<'a> FnOnce(&'a mut dyn Tx) -> BoxFuture<'a, Result<T, E>> + Send + 'static,
    {
        match self {
            Db::Sqlite(db) => db.write(Box::new(script)).await,
            Db::Postgres(db) => db.write(script).await,
        }
    }

    /// Runs `script` in a read-only transaction (a consistent snapshot).
    pub async fn read<T, E, F>(&self, script: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: for<'a> FnOnce(&'a mut dyn Tx) -> BoxFuture<'a, Result<T, E>> + Send + 'static,
    {
        match self {
            Db::Sqlite(db) => db.read(Box::new(script)).await,
            Db::Postgres(db) => db.read(script).await,
        }
    }

    /// Notified after each commit that queued webhook deliveries in this process, so the
    /// delivery worker starts at once rather than at its next poll.
    pub fn outbox_signal(&self) -> Arc<tokio::sync::Notify> {
        match self {
            Db::Sqlite(db) => db.outbox.clone(),
            Db::Postgres(db) => db.outbox.clone(),
        }
    }

    /// Succeeds when the database answers a trivial query.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.read(|tx| Box::pin(async move { tx.query("SELECT 1", &[]).await.map(drop) }))
            .await
    }

    /// Closes connections; SQLite's writer thread finishes what is queued first.
    pub async fn close(&self) {
        match self {
            Db::Sqlite(db) => db.close(),
            Db::Postgres(db) => db.close().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_from_urls() {
        let dir = Path::new("data");
        assert_eq!(
            DatabaseLocation::parse(None, dir),
            Ok(DatabaseLocation::Sqlite(dir.join("quittance.db")))
        );
        assert_eq!(
            DatabaseLocation::parse(Some(" "), dir),
            Ok(DatabaseLocation::Sqlite(dir.join("quittance.db")))
        );
        assert_eq!(
            DatabaseLocation::parse(Some("sqlite:///tmp/x.db"), dir),
            Ok(DatabaseLocation::Sqlite(PathBuf::from("/tmp/x.db")))
        );
        assert_eq!(
            DatabaseLocation::parse(Some("postgresql://u:p@h/db"), dir),
            Ok(DatabaseLocation::Postgres(
                "postgresql://u:p@h/db".to_owned()
            ))
        );
        let err = DatabaseLocation::parse(Some("mysql://h/db"), dir).expect_err("refused");
        assert!(err.contains("\"mysql\""), "{err}");
        assert!(DatabaseLocation::parse(Some("sqlite:"), dir).is_err());
    }

    #[test]
    fn describe_hides_the_password() {
        let pg = DatabaseLocation::Postgres("postgres://app:hunter2@db:5432/q".to_owned());
        assert_eq!(pg.describe(), "postgres://app:***@db:5432/q");
        assert!(!pg.describe().contains("hunter2"));
    }
}
