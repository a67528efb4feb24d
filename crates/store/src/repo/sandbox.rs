//! The sandbox processor's books. Each operation is keyed by Quittance's reference and the
//! operation's name: the first call records the outcome, every later call gets that same
//! outcome back (and is counted), so a retried call never moves money twice.

use super::micros;
use crate::{StoreError, Tx, params};
use chrono::{DateTime, Utc};

/// An operation as the sandbox recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub outcome: String,
    pub amount: i64,
    /// How many calls asked for it, this one included.
    pub attempts: i64,
}

/// Records `outcome` for `(reference, operation)` unless one is recorded; returns what is
/// recorded.
pub async fn record_once(
    tx: &mut dyn Tx,
    reference: &str,
    operation: &str,
    outcome: &str,
    amount: i64,
    now: DateTime<Utc>,
) -> Result<Recorded, StoreError> {
    let row = tx
        .query_one(
            "INSERT INTO sandbox_operations (reference, operation, outcome, amount, attempts, created_at)
             VALUES ($1, $2, $3, $4, 1, $5)
             ON CONFLICT (reference, operation) DO UPDATE SET attempts = sandbox_operations.attempts + 1
             RETURNING outcome, amount, attempts",
            &params![reference, operation, outcome, amount, micros(now)],
        )
        .await?;
    Ok(Recorded {
        outcome: row.string(0)?,
        amount: row.i64(1)?,
        attempts: row.i64(2)?,
    })
}

/// The recorded outcome of `(reference, operation)`, if any.
pub async fn lookup(
    tx: &mut dyn Tx,
    reference: &str,
    operation: &str,
) -> Result<Option<Recorded>, StoreError> {
    match tx
        .query_opt(
            "SELECT outcome, amount, attempts FROM sandbox_operations WHERE reference = $1 AND operation = $2",
            &params![reference, operation],
        )
        .await?
    {
        None => Ok(None),
        Some(row) => Ok(Some(Recorded {
            outcome: row.string(0)?,
            amount: row.i64(1)?,
            attempts: row.i64(2)?,
        })),
    }
}

/// Per operation: how many distinct references were recorded and how many calls came in.
pub async fn tally(tx: &mut dyn Tx) -> Result<Vec<(String, i64, i64)>, StoreError> {
    let rows = tx
        .query(
            "SELECT operation, COUNT(*), CAST(SUM(attempts) AS BIGINT) FROM sandbox_operations
             GROUP BY operation ORDER BY operation",
            &[],
        )
        .await?;
    rows.iter()
        .map(|r| Ok((r.string(0)?, r.i64(1)?, r.i64(2)?)))
        .collect()
}
