//! SQLite through rusqlite: one writer thread with group commit, a small read-only pool.

use crate::{Backend, Param, Row, Script, StoreError, Tx, Value};
use futures_util::future::BoxFuture;
use rusqlite::{Connection, OpenFlags, types::ValueRef};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use tokio::sync::{Notify, Semaphore, oneshot};

/// Scripts queued while a commit is in flight are committed together, up to this many.
const MAX_GROUP: usize = 256;
/// Read-only connections kept open.
const READERS: usize = 4;
/// Prepared statements kept per connection.
const STATEMENT_CACHE: usize = 256;
/// How long a statement waits for another process's lock (a CLI import, say) before failing.
const BUSY_TIMEOUT_MS: u32 = 10_000;

/// Run by the writer thread inside a transaction; says whether to roll its savepoint back and
/// how to answer its caller once the group's commit is known.
struct Finish {
    rollback: bool,
    /// The script asked for the outbox signal after its commit.
    signal: bool,
    reply: Box<dyn FnOnce(Result<(), StoreError>) + Send>,
}

/// Given the connection (or why there is none), a queued write runs and returns its [`Finish`].
type WriteJob = Box<dyn FnOnce(Result<&mut Connection, StoreError>) -> Finish + Send>;

pub struct SqliteDb {
    path: PathBuf,
    jobs: Mutex<Option<mpsc::Sender<WriteJob>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    readers: Arc<Mutex<Vec<Connection>>>,
    read_slots: Arc<Semaphore>,
    pub(crate) outbox: Arc<Notify>,
}

fn backend_error(e: rusqlite::Error) -> StoreError {
    match &e {
        rusqlite::Error::SqliteFailure(failure, message) => match failure.code {
            rusqlite::ErrorCode::ConstraintViolation
                if message.as_deref().is_some_and(|m| m.starts_with("UNIQUE")) =>
            {
                StoreError::Conflict(message.clone().unwrap_or_default())
            }
            rusqlite::ErrorCode::CannotOpen | rusqlite::ErrorCode::NotADatabase => {
                StoreError::Unavailable(e.to_string())
            }
            _ => StoreError::Backend(e.to_string()),
        },
        _ => StoreError::Backend(e.to_string()),
    }
}

fn open_connection(
    path: &Path,
    flags: OpenFlags,
    cache_kib: i64,
) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(path, flags)
        .map_err(|e| StoreError::Unavailable(format!("cannot open {}: {e}", path.display())))?;
    conn.busy_timeout(std::time::Duration::from_millis(u64::from(BUSY_TIMEOUT_MS)))
        .map_err(backend_error)?;
    conn.execute_batch(&format!("PRAGMA cache_size = -{cache_kib};"))
        .map_err(backend_error)?;
    // Plans never depend on bound values. Without this, a statement whose plan could use a
    // parameter (a `LIMIT ?`, a `LIKE ?`) is marked to re-prepare when its bindings change, and
    // rusqlite clears bindings each time a cached statement goes back to its cache: every
    // run of such a statement was parsed and planned afresh.
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )
    .map_err(backend_error)?;
    // Every script's statements stay prepared (rusqlite keeps 16 by default; the writer alone
    // serves every kind of write).
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}

impl SqliteDb {
    pub fn open(path: &Path) -> Result<SqliteDb, StoreError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            crate::create_private_dir(parent).map_err(|e| {
                StoreError::Unavailable(format!("cannot create {}: {e}", parent.display()))
            })?;
        }
        let writer = open_connection(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            65_536,
        )?;
        // Account holders' data lives here: owner-only, and SQLite gives the -wal and -shm
        // files the database file's mode.
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(
                |e| StoreError::Unavailable(format!("cannot restrict {}: {e}", path.display())),
            )?;
        }
        // Durable commits: WAL with a full fsync at each (group) commit.
        // Wide text keys (prefixed ids, organization first in every index) fit better in 8 KiB
        // pages: fewer B-tree levels and splits. It only takes effect on a new database.
        writer
            .execute_batch("PRAGMA page_size = 8192;")
            .map_err(backend_error)?;
        let mode: String = writer
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(backend_error)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Unavailable(format!(
                "{} cannot use WAL journaling",
                path.display()
            )));
        }
        // Savepoint sub-journals in memory, and a WAL checkpoint every 20,000 pages (about
        // 160 MiB) rather than SQLite's 1,000: bulk writes copy hot index pages back less often.
        writer
            .execute_batch("PRAGMA synchronous = FULL; PRAGMA temp_store = MEMORY; PRAGMA wal_autocheckpoint = 20000;")
            .map_err(backend_error)?;
        let (sender, receiver) = mpsc::channel::<WriteJob>();
        let outbox = Arc::new(Notify::new());
        let signal = outbox.clone();
        let handle = std::thread::Builder::new()
            .name("sqlite-writer".to_owned())
            .spawn(move || run_writer(writer, receiver, &signal))
            .map_err(|e| StoreError::Backend(format!("cannot start the writer thread: {e}")))?;
        Ok(SqliteDb {
            path: path.to_owned(),
            jobs: Mutex::new(Some(sender)),
            writer: Mutex::new(Some(handle)),
            readers: Arc::new(Mutex::new(Vec::new())),
            read_slots: Arc::new(Semaphore::new(READERS)),
            outbox,
        })
    }

    pub async fn write<T, E>(&self, script: Script<T, E>) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel::<Result<T, E>>();
        let job: WriteJob = Box::new(move |conn| {
            let (result, signal) = match conn {
                Err(e) => (Err(E::from(e)), false),
                Ok(conn) => run_script(conn, script),
            };
            Finish {
                rollback: result.is_err(),
                signal: signal && result.is_ok(),
                reply: Box::new(move |commit| {
                    let outcome = match (result, commit) {
                        (Err(e), _) => Err(e),
                        (Ok(_), Err(e)) => Err(E::from(e)),
                        (Ok(v), Ok(())) => Ok(v),
                    };
                    // The caller may have gone away (a dropped request); the write stands.
                    let _ = answer.send(outcome);
                }),
            }
        });
        let queued = {
            let jobs = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
            jobs.as_ref().map(|s| s.send(job).is_ok()).unwrap_or(false)
        };
        if !queued {
            return Err(E::from(StoreError::Unavailable(
                "the database is closed".to_owned(),
            )));
        }
        answered.await.unwrap_or_else(|_| {
            Err(E::from(StoreError::Unavailable(
                "the writer stopped".to_owned(),
            )))
        })
    }

    pub async fn read<T, E>(&self, script: Script<T, E>) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        if self
            .jobs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_none()
        {
            return Err(E::from(StoreError::Unavailable(
                "the database is closed".to_owned(),
            )));
        }
        let permit =
            self.read_slots.clone().acquire_owned().await.map_err(|_| {
                E::from(StoreError::Unavailable("the database is closed".to_owned()))
            })?;
        let readers = self.readers.clone();
        let path = self.path.clone();
        let joined = tokio::task::spawn_blocking(move || {
            let pooled = readers.lock().unwrap_or_else(|p| p.into_inner()).pop();
            let mut conn = match pooled {
                Some(conn) => conn,
                None => open_connection(
                    &path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                    16_384,
                )?,
            };
            conn.execute_batch("BEGIN").map_err(backend_error)?;
            let (result, _) = run_script(&mut conn, script);
            // A read-only transaction has nothing to keep; ending it releases the snapshot.
            let ended = conn.execute_batch("ROLLBACK").map_err(backend_error);
            if ended.is_ok() {
                readers.lock().unwrap_or_else(|p| p.into_inner()).push(conn);
            }
            drop(permit);
            result
        })
        .await;
        match joined {
            Ok(result) => result,
            Err(e) => Err(E::from(StoreError::Backend(format!(
                "read task failed: {e}"
            )))),
        }
    }

    pub fn close(&self) {
        drop(self.jobs.lock().unwrap_or_else(|p| p.into_inner()).take());
        if let Some(handle) = self.writer.lock().unwrap_or_else(|p| p.into_inner()).take() {
            // The writer finishes and answers what is queued, then exits.
            let _ = handle.join();
        }
        self.readers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

/// Runs `script`; also says whether it asked for the outbox signal.
fn run_script<T, E: From<StoreError>>(
    conn: &mut Connection,
    script: Script<T, E>,
) -> (Result<T, E>, bool) {
    let mut tx = SqliteTx {
        conn,
        signal: false,
    };
    let result = match catch_unwind(AssertUnwindSafe(|| {
        futures_executor::block_on(script(&mut tx))
    })) {
        Ok(result) => result,
        Err(_) => Err(E::from(StoreError::Backend(
            "a database script panicked".to_owned(),
        ))),
    };
    (result, tx.signal)
}

fn run_writer(mut conn: Connection, jobs: mpsc::Receiver<WriteJob>, outbox: &Notify) {
    while let Ok(first) = jobs.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
            let e = backend_error(e);
            for job in group {
                (job(Err(e.clone())).reply)(Err(e.clone()));
            }
            continue;
        }
        // A lone script needs no savepoint: if it fails, the whole transaction is rolled back.
        // (A savepoint makes SQLite copy every page it touches to a sub-journal first.)
        if group.len() == 1 {
            if let Some(job) = group.pop() {
                let finish = job(Ok(&mut conn));
                let end = if finish.rollback {
                    "ROLLBACK"
                } else {
                    "COMMIT"
                };
                let ended = conn.execute_batch(end).map_err(backend_error);
                if ended.is_err() {
                    let _ = conn.execute_batch("ROLLBACK");
                } else if finish.signal {
                    outbox.notify_one();
                }
                (finish.reply)(ended);
            }
            continue;
        }
        let mut finishes = Vec::with_capacity(group.len());
        for job in group {
            let finish = match conn.execute_batch("SAVEPOINT script") {
                Ok(()) => {
                    let finish = job(Ok(&mut conn));
                    let end = if finish.rollback {
                        "ROLLBACK TO script; RELEASE script"
                    } else {
                        "RELEASE script"
                    };
                    match conn.execute_batch(end) {
                        Ok(()) => finish,
                        Err(e) => Finish {
                            rollback: true,
                            signal: false,
                            reply: failing(finish.reply, backend_error(e)),
                        },
                    }
                }
                Err(e) => job(Err(backend_error(e))),
            };
            finishes.push(finish);
        }
        let commit = conn.execute_batch("COMMIT").map_err(backend_error);
        if commit.is_err() {
            let _ = conn.execute_batch("ROLLBACK");
        } else if finishes.iter().any(|f| f.signal) {
            outbox.notify_one();
        }
        for finish in finishes {
            (finish.reply)(commit.clone());
        }
    }
}

/// A reply that reports `error` whatever the commit did.
fn failing(
    reply: Box<dyn FnOnce(Result<(), StoreError>) + Send>,
    error: StoreError,
) -> Box<dyn FnOnce(Result<(), StoreError>) + Send> {
    Box::new(move |_| reply(Err(error)))
}

struct SqliteTx<'c> {
    conn: &'c mut Connection,
    signal: bool,
}

const PLACEHOLDERS: [&str; 32] = [
    "$1", "$2", "$3", "$4", "$5", "$6", "$7", "$8", "$9", "$10", "$11", "$12", "$13", "$14", "$15",
    "$16", "$17", "$18", "$19", "$20", "$21", "$22", "$23", "$24", "$25", "$26", "$27", "$28",
    "$29", "$30", "$31", "$32",
];

impl SqliteTx<'_> {
    fn prepare<'s>(
        &'s self,
        sql: &str,
        params: &[Param],
    ) -> Result<rusqlite::CachedStatement<'s>, StoreError> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(backend_error)?;
        if params.len() > PLACEHOLDERS.len() || stmt.parameter_count() != params.len() {
            return Err(StoreError::Backend(format!(
                "statement takes {} parameters, {} given",
                stmt.parameter_count(),
                params.len()
            )));
        }
        for (param, name) in params.iter().zip(PLACEHOLDERS) {
            // SQLite reads `$1` as a named parameter; bind by name so order in the text is free.
            let index = stmt
                .parameter_index(name)
                .map_err(backend_error)?
                .ok_or_else(|| StoreError::Backend(format!("statement has no parameter {name}")))?;
            let bound = match param {
                Param::Int(Some(v)) => stmt.raw_bind_parameter(index, v),
                Param::Text(Some(v)) => stmt.raw_bind_parameter(index, v),
                Param::Bool(Some(v)) => stmt.raw_bind_parameter(index, i64::from(*v)),
                Param::Bytes(Some(v)) => stmt.raw_bind_parameter(index, v),
                Param::Int(None) | Param::Text(None) | Param::Bool(None) | Param::Bytes(None) => {
                    stmt.raw_bind_parameter(index, rusqlite::types::Null)
                }
            };
            bound.map_err(backend_error)?;
        }
        Ok(stmt)
    }

    fn run_query(&self, sql: &str, params: &[Param]) -> Result<Vec<Row>, StoreError> {
        let mut stmt = self.prepare(sql, params)?;
        let columns = stmt.column_count();
        let mut rows = stmt.raw_query();
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(backend_error)? {
            let mut values = Vec::with_capacity(columns);
            for i in 0..columns {
                values.push(match row.get_ref(i).map_err(backend_error)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(v) => Value::Int(v),
                    ValueRef::Text(bytes) => Value::Text(
                        String::from_utf8(bytes.to_vec())
                            .map_err(|e| StoreError::Decode(e.to_string()))?,
                    ),
                    ValueRef::Blob(bytes) => Value::Bytes(bytes.to_vec()),
                    ValueRef::Real(_) => {
                        return Err(StoreError::Decode(format!(
                            "column {i} holds a value of an unused type"
                        )));
                    }
                });
            }
            out.push(Row(values));
        }
        Ok(out)
    }

    fn run_execute(&self, sql: &str, params: &[Param]) -> Result<u64, StoreError> {
        let mut stmt = self.prepare(sql, params)?;
        let changed = stmt.raw_execute().map_err(backend_error)?;
        u64::try_from(changed).map_err(|e| StoreError::Backend(e.to_string()))
    }
}

impl Tx for SqliteTx<'_> {
    fn query<'a>(
        &'a mut self,
        sql: &'a str,
        params: &'a [Param],
    ) -> BoxFuture<'a, Result<Vec<Row>, StoreError>> {
        let result = self.run_query(sql, params);
        Box::pin(std::future::ready(result))
    }

    fn execute<'a>(
        &'a mut self,
        sql: &'a str,
        params: &'a [Param],
    ) -> BoxFuture<'a, Result<u64, StoreError>> {
        let result = self.run_execute(sql, params);
        Box::pin(std::future::ready(result))
    }

    fn batch<'a>(&'a mut self, sql: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        let result = self.conn.execute_batch(sql).map_err(backend_error);
        Box::pin(std::future::ready(result))
    }

    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    fn signal_outbox(&mut self) {
        self.signal = true;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn connections_keep_plans_stable_across_bindings() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open_connection(
            &dir.path().join("q.db"),
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
            1024,
        )
        .unwrap();
        assert!(
            conn.db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG)
                .unwrap()
        );
        // A LIMIT parameter used to mark the statement for re-preparing on every new binding;
        // with stable plans the cached statement runs again as prepared.
        conn.execute_batch(
            "CREATE TABLE t (a INTEGER PRIMARY KEY); INSERT INTO t VALUES (1), (2), (3);",
        )
        .unwrap();
        for limit in [1i64, 2, 3] {
            let mut stmt = conn
                .prepare_cached("SELECT a FROM t ORDER BY a LIMIT ?1")
                .unwrap();
            let rows: Vec<i64> = stmt
                .query_map([limit], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            assert_eq!(rows.len() as i64, limit);
        }
    }
}
