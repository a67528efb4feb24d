//! Statement analyses and their uploaded files (the ISO Amp face). The server owns the JSON
//! shapes of `request` and `result`; here they are text.

use super::{instant, micros, opt_instant};
use crate::{Backend, StoreError, Tx, params};
use chrono::{DateTime, Utc};
use quittance_domain::ids::OrganizationId;

/// Where an analysis stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Files may be added.
    Created,
    /// Started: waiting for (or held by) a worker.
    Queued,
    Completed,
    Rejected,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Queued => "queued",
            Status::Completed => "completed",
            Status::Rejected => "rejected",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        [
            Status::Created,
            Status::Queued,
            Status::Completed,
            Status::Rejected,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Analysis {
    pub id: String,
    pub request: String,
    pub status: Status,
    pub attempts: i64,
    pub result: Option<String>,
    pub proposal_id: Option<String>,
    pub reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// An uploaded file, without its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    pub position: i64,
    pub filename: String,
    pub size: i64,
    pub sha256: String,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, request, status, attempts, result, proposal_id, reason, created_at, \
                       started_at, finished_at";

fn analysis(row: &crate::Row) -> Result<Analysis, StoreError> {
    Ok(Analysis {
        id: row.string(0)?,
        request: row.string(1)?,
        status: super::decode_enum(row, 2, Status::parse)?,
        attempts: row.i64(3)?,
        result: row.opt_string(4)?,
        proposal_id: row.opt_string(5)?,
        reason: row.opt_string(6)?,
        created_at: instant(row, 7)?,
        started_at: opt_instant(row, 8)?,
        finished_at: opt_instant(row, 9)?,
    })
}

pub async fn insert(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    id: &str,
    request: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO statement_analyses (organization_id, id, request, status, created_at)
         VALUES ($1, $2, $3, $4, $5)",
        &params![
            org.as_str(),
            id,
            request,
            Status::Created.as_str(),
            micros(now)
        ],
    )
    .await?;
    Ok(())
}

pub async fn get(tx: &mut dyn Tx, org: &OrganizationId, id: &str) -> Result<Analysis, StoreError> {
    let row = tx
        .query_opt(
            &format!(
                "SELECT {COLUMNS} FROM statement_analyses WHERE organization_id = $1 AND id = $2"
            ),
            &params![org.as_str(), id],
        )
        .await?
        .ok_or(StoreError::NotFound)?;
    analysis(&row)
}

/// The analysis, locked against concurrent changes on PostgreSQL (SQLite has one writer).
async fn get_for_update(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    id: &str,
) -> Result<Analysis, StoreError> {
    let lock = match tx.backend() {
        Backend::Postgres => "FOR UPDATE",
        Backend::Sqlite => "",
    };
    let row = tx
        .query_opt(
            &format!(
                "SELECT {COLUMNS} FROM statement_analyses
                 WHERE organization_id = $1 AND id = $2 {lock}"
            ),
            &params![org.as_str(), id],
        )
        .await?
        .ok_or(StoreError::NotFound)?;
    analysis(&row)
}

pub async fn files(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    id: &str,
) -> Result<Vec<FileInfo>, StoreError> {
    let rows = tx
        .query(
            "SELECT position, filename, size, sha256, created_at FROM statement_files
             WHERE organization_id = $1 AND analysis_id = $2 ORDER BY position",
            &params![org.as_str(), id],
        )
        .await?;
    rows.iter()
        .map(|row| {
            Ok(FileInfo {
                position: row.i64(0)?,
                filename: row.string(1)?,
                size: row.i64(2)?,
                sha256: row.string(3)?,
                created_at: instant(row, 4)?,
            })
        })
        .collect()
}

/// The files' names and contents, in upload order.
pub async fn contents(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    id: &str,
) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
    let rows = tx
        .query(
            "SELECT filename, content FROM statement_files
             WHERE organization_id = $1 AND analysis_id = $2 ORDER BY position",
            &params![org.as_str(), id],
        )
        .await?;
    rows.iter()
        .map(|row| Ok((row.string(0)?, row.bytes(1)?.to_vec())))
        .collect()
}

/// Why a file was not added or an analysis not started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// The analysis is past `created`.
    Started(Status),
    /// It already holds this many files.
    TooManyFiles(i64),
    /// Starting with no file.
    NoFiles,
}

/// A file to add.
#[derive(Debug, Clone, Copy)]
pub struct NewFile<'a> {
    pub filename: &'a str,
    pub content: &'a [u8],
    /// Hex SHA-256 of the content.
    pub sha256: &'a str,
}

/// Adds a file while the analysis is `created` and holds fewer than `max_files`.
pub async fn add_file(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    id: &str,
    file: NewFile<'_>,
    max_files: i64,
    now: DateTime<Utc>,
) -> Result<Result<FileInfo, Refused>, StoreError> {
    let NewFile {
        filename,
        content,
        sha256,
    } = file;
    let found = get_for_update(tx, org, id).await?;
    if found.status != Status::Created {
        return Ok(Err(Refused::Started(found.status)));
    }
    let held = files(tx, org, id).await?.len() as i64;
    if held >= max_files {
        return Ok(Err(Refused::TooManyFiles(held)));
    }
    let size = i64::try_from(content.len())
        .map_err(|_| StoreError::Backend("a file larger than i64".to_owned()))?;
    tx.execute(
        "INSERT INTO statement_files
         (organization_id, analysis_id, position, filename, size, sha256, content, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &params![
            org.as_str(),
            id,
            held + 1,
            filename,
            size,
            sha256,
            content,
            micros(now)
        ],
    )
    .await?;
    Ok(Ok(FileInfo {
        position: held + 1,
        filename: filename.to_owned(),
        size,
        sha256: sha256.to_owned(),
        created_at: now,
    }))
}

/// Queues a `created` analysis that holds at least one file. `Ok(true)` when this call
/// started it, `Ok(false)` when it had been started already.
pub async fn start(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    id: &str,
    now: DateTime<Utc>,
) -> Result<Result<bool, Refused>, StoreError> {
    let found = get_for_update(tx, org, id).await?;
    if found.status != Status::Created {
        return Ok(Ok(false));
    }
    if files(tx, org, id).await?.is_empty() {
        return Ok(Err(Refused::NoFiles));
    }
    tx.execute(
        "UPDATE statement_analyses SET status = $3, started_at = $4
         WHERE organization_id = $1 AND id = $2",
        &params![org.as_str(), id, Status::Queued.as_str(), micros(now)],
    )
    .await?;
    Ok(Ok(true))
}

/// An analysis a worker holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    pub organization_id: OrganizationId,
    pub id: String,
    /// Claims so far, this one included.
    pub attempts: i64,
}

/// Claims up to `limit` queued analyses whose lease is free or lapsed, oldest start first.
pub async fn claim_due(
    tx: &mut dyn Tx,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    owner: &str,
    limit: i64,
) -> Result<Vec<Claimed>, StoreError> {
    let lock = match tx.backend() {
        Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let rows = tx
        .query(
            &format!(
                "SELECT organization_id, id FROM statement_analyses
                 WHERE status = $1 AND (lease_until IS NULL OR lease_until < $2)
                 ORDER BY started_at, id LIMIT $3 {lock}"
            ),
            &params![Status::Queued.as_str(), micros(now), limit],
        )
        .await?;
    let mut claimed = Vec::with_capacity(rows.len());
    for row in rows {
        let org = super::parsed(&row, 0, OrganizationId::parse, "organization id")?;
        let id = row.string(1)?;
        let attempts = tx
            .query_opt(
                "UPDATE statement_analyses
                 SET lease_owner = $3, lease_until = $4, attempts = attempts + 1
                 WHERE organization_id = $1 AND id = $2 AND status = $5
                   AND (lease_until IS NULL OR lease_until < $6)
                 RETURNING attempts",
                &params![
                    org.as_str(),
                    &id,
                    owner,
                    micros(lease_until),
                    Status::Queued.as_str(),
                    micros(now)
                ],
            )
            .await?;
        if let Some(attempts) = attempts {
            claimed.push(Claimed {
                organization_id: org,
                id,
                attempts: attempts.i64(0)?,
            });
        }
    }
    Ok(claimed)
}

/// How an analysis ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Completed {
        result: String,
        proposal_id: String,
    },
    Rejected {
        reason: String,
        result: Option<String>,
    },
}

/// Records the outcome if `owner` still holds the analysis under the lease it claimed;
/// `false` when the lease was lost (another worker will finish it).
pub async fn finish(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    claimed: &Claimed,
    owner: &str,
    outcome: &Outcome,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let (status, result, proposal_id, reason) = match outcome {
        Outcome::Completed {
            result,
            proposal_id,
        } => (
            Status::Completed,
            Some(result.as_str()),
            Some(proposal_id.as_str()),
            None,
        ),
        Outcome::Rejected { reason, result } => (
            Status::Rejected,
            result.as_deref(),
            None,
            Some(reason.as_str()),
        ),
    };
    let changed = tx
        .execute(
            "UPDATE statement_analyses
             SET status = $4, result = $5, proposal_id = $6, reason = $7, finished_at = $8,
                 lease_owner = NULL, lease_until = NULL
             WHERE organization_id = $1 AND id = $2 AND lease_owner = $3 AND status = $9
               AND attempts = $10",
            &params![
                org.as_str(),
                &claimed.id,
                owner,
                status.as_str(),
                result,
                proposal_id,
                reason,
                micros(now),
                Status::Queued.as_str(),
                claimed.attempts
            ],
        )
        .await?;
    Ok(changed == 1)
}
