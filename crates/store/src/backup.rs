//! Copies of a SQLite database: one taken while the server runs (`VACUUM INTO`, which reads
//! one consistent snapshot and writes a compact file), and one put back into a data directory
//! that has no database. Neither ever leaves a half-written file under the name asked for: each
//! is written beside it, synced, then renamed. PostgreSQL has its own tools (docs/operations.md).

use crate::{MIGRATIONS, StoreError};
use rusqlite::{Connection, OpenFlags};
use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// What a copy holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copied {
    pub bytes: u64,
    /// The newest migration applied to the copied database.
    pub migration: i64,
}

/// Writes a consistent copy of the database at `database` to `to`, which must not exist yet.
/// Writers go on meanwhile; the copy holds every transaction committed before it began.
pub fn backup_sqlite(database: &Path, to: &Path) -> Result<Copied, StoreError> {
    if !database.is_file() {
        return Err(unavailable(format!(
            "there is no database at {}",
            database.display()
        )));
    }
    let partial = beside(to)?;
    let copied = (|| {
        let source = open_read_only(database)?;
        let target = partial
            .to_str()
            .ok_or_else(|| unavailable(format!("{} is not a UTF-8 path", partial.display())))?;
        source
            .execute("VACUUM INTO ?1", [target])
            .map_err(|e| unavailable(format!("cannot copy {}: {e}", database.display())))?;
        finish(&partial, to)
    })();
    if copied.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    copied
}

/// Puts the copy at `from` in place as the database at `database`, which must not exist. The
/// copy is checked first: a SQLite file that passes its integrity check, made by a Quittance
/// no newer than this one.
pub fn restore_sqlite(from: &Path, database: &Path) -> Result<Copied, StoreError> {
    if !from.is_file() {
        return Err(unavailable(format!(
            "there is no backup at {}",
            from.display()
        )));
    }
    if database.exists() {
        return Err(unavailable(format!(
            "{} already exists; restore into a data directory without a database",
            database.display()
        )));
    }
    let copy = describe(from)?;
    let newest = MIGRATIONS.last().map_or(0, |m| m.0);
    if copy.migration > newest {
        return Err(unavailable(format!(
            "{} was made by a newer Quittance (migration {}; this one knows {newest}): restore it with that version",
            from.display(),
            copy.migration
        )));
    }
    if let Some(parent) = database.parent().filter(|p| !p.as_os_str().is_empty()) {
        crate::create_private_dir(parent)
            .map_err(|e| unavailable(format!("cannot create {}: {e}", parent.display())))?;
    }
    let partial = beside(database)?;
    let copied = (|| {
        let mut source = File::open(from)
            .map_err(|e| unavailable(format!("cannot read {}: {e}", from.display())))?;
        let mut target = OpenOptions::new()
            .write(true)
            .open(&partial)
            .map_err(|e| unavailable(format!("cannot write {}: {e}", partial.display())))?;
        std::io::copy(&mut source, &mut target)
            .map_err(|e| unavailable(format!("cannot copy {}: {e}", from.display())))?;
        finish(&partial, database)
    })();
    if copied.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    copied
}

/// The size and migration of a database file, once its integrity check passes.
fn describe(path: &Path) -> Result<Copied, StoreError> {
    let conn = open_read_only(path)?;
    let not_ours = |e: rusqlite::Error| {
        unavailable(format!(
            "{} is not a Quittance database: {e}",
            path.display()
        ))
    };
    let check: String = conn
        .query_row("PRAGMA quick_check", [], |r| r.get(0))
        .map_err(not_ours)?;
    if check != "ok" {
        return Err(unavailable(format!(
            "{} fails its integrity check: {check}",
            path.display()
        )));
    }
    let migration: i64 = conn
        .query_row("SELECT MAX(version) FROM quittance_migrations", [], |r| {
            r.get(0)
        })
        .map_err(not_ours)?;
    let bytes = std::fs::metadata(path)
        .map_err(|e| unavailable(format!("{}: {e}", path.display())))?
        .len();
    Ok(Copied { bytes, migration })
}

fn open_read_only(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| unavailable(format!("cannot open {}: {e}", path.display())))?;
    conn.busy_timeout(std::time::Duration::from_secs(30))
        .map_err(|e| unavailable(e.to_string()))?;
    Ok(conn)
}

/// An empty owner-only file beside `path` to write into, refusing when `path` exists.
fn beside(path: &Path) -> Result<PathBuf, StoreError> {
    if path.exists() {
        return Err(unavailable(format!("{} already exists", path.display())));
    }
    let mut name = path.as_os_str().to_owned();
    name.push(".partial");
    let partial = PathBuf::from(name);
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&partial)
        .map_err(|e| unavailable(format!("cannot create {}: {e}", partial.display())))?;
    Ok(partial)
}

/// Syncs the written copy, checks it, and gives it its name.
fn finish(partial: &Path, path: &Path) -> Result<Copied, StoreError> {
    File::open(partial)
        .and_then(|f| f.sync_all())
        .map_err(|e| unavailable(format!("cannot sync {}: {e}", partial.display())))?;
    let copied = describe(partial)?;
    std::fs::rename(partial, path)
        .map_err(|e| unavailable(format!("cannot name {}: {e}", path.display())))?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        // The new name itself survives a crash only once its directory is synced.
        let _ = File::open(parent).and_then(|d| d.sync_all());
    }
    Ok(copied)
}

fn unavailable(message: String) -> StoreError {
    StoreError::Unavailable(message)
}
