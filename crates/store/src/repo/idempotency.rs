//! Idempotency keys: the first completed answer to a request, kept to replay it.

use super::micros;
use crate::{StoreError, Tx, params};
use chrono::{DateTime, Utc};
use quittance_domain::ids::{CredentialId, OrganizationId};

/// The scope a key lives in: organization, credential, method and path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyScope {
    pub organization_id: OrganizationId,
    pub credential_id: CredentialId,
    pub method: String,
    pub path: String,
    pub key: String,
}

/// A stored answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: String,
}

/// What claiming a key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is new (or expired, or its holder's lease ran out): run the request. The
    /// number names this use of the key (the instant it was first claimed): a retry that
    /// resumes after a crash gets the same one, a reuse after expiry a new one.
    Run(i64),
    /// The same key came with a different request.
    Mismatch,
    /// The first request with this key is still running.
    InFlight,
    /// The first request finished: answer what it answered.
    Replay(StoredResponse),
}

/// Claims the key for a request whose body has `fingerprint`, for `lease` from `now`.
pub async fn claim(
    tx: &mut dyn Tx,
    scope: &KeyScope,
    fingerprint: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<Claim, StoreError> {
    let key = params![
        scope.organization_id.as_str(),
        scope.credential_id.as_str(),
        &scope.method,
        &scope.path,
        &scope.key
    ];
    let inserted = tx
        .execute(
            "INSERT INTO idempotency_keys (organization_id, credential_id, method, path, idempotency_key,
                 fingerprint, locked_until, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (organization_id, credential_id, method, path, idempotency_key) DO NOTHING",
            &[
                &key[..],
                &params![fingerprint, micros(lease_until), micros(now), micros(expires_at)],
            ]
            .concat(),
        )
        .await?;
    if inserted == 1 {
        return Ok(Claim::Run(micros(now)));
    }
    let row = tx
        .query_one(
            "SELECT fingerprint, locked_until, response_status, response_content_type, response_body, expires_at,
                    created_at
             FROM idempotency_keys
             WHERE organization_id = $1 AND credential_id = $2 AND method = $3 AND path = $4 AND idempotency_key = $5",
            &key,
        )
        .await?;
    let expired = row.i64(5)? <= micros(now);
    if expired {
        take_over(tx, scope, fingerprint, now, lease_until, expires_at).await?;
        return Ok(Claim::Run(micros(now)));
    }
    if row.str(0)? != fingerprint {
        return Ok(Claim::Mismatch);
    }
    if let Some(status) = row.opt_i64(2)? {
        return Ok(Claim::Replay(StoredResponse {
            status: u16::try_from(status)
                .map_err(|_| StoreError::Decode(format!("bad stored status {status}")))?,
            content_type: row.opt_string(3)?,
            body: row.opt_string(4)?.unwrap_or_default(),
        }));
    }
    match row.opt_i64(1)? {
        Some(lease) if lease > micros(now) => Ok(Claim::InFlight),
        // The request that held it stopped (a crash): this one resumes its work, under the
        // same use of the key.
        _ => {
            tx.execute(
                "UPDATE idempotency_keys SET locked_until = $6
                 WHERE organization_id = $1 AND credential_id = $2 AND method = $3 AND path = $4 AND idempotency_key = $5",
                &[&key[..], &params![micros(lease_until)]].concat(),
            )
            .await?;
            Ok(Claim::Run(row.i64(6)?))
        }
    }
}

/// Resets a key whose first use expired, for a new use by this request.
async fn take_over(
    tx: &mut dyn Tx,
    scope: &KeyScope,
    fingerprint: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<u64, StoreError> {
    tx.execute(
        "UPDATE idempotency_keys SET fingerprint = $6, locked_until = $7, created_at = $8, expires_at = $9,
             response_status = NULL, response_content_type = NULL, response_body = NULL
         WHERE organization_id = $1 AND credential_id = $2 AND method = $3 AND path = $4 AND idempotency_key = $5",
        &params![
            scope.organization_id.as_str(),
            scope.credential_id.as_str(),
            &scope.method,
            &scope.path,
            &scope.key,
            fingerprint,
            micros(lease_until),
            micros(now),
            micros(expires_at)
        ],
    )
    .await
}

/// Keeps the answer for replays.
pub async fn complete(
    tx: &mut dyn Tx,
    scope: &KeyScope,
    response: &StoredResponse,
) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE idempotency_keys SET response_status = $6, response_content_type = $7, response_body = $8,
             locked_until = NULL
         WHERE organization_id = $1 AND credential_id = $2 AND method = $3 AND path = $4 AND idempotency_key = $5",
        &params![
            scope.organization_id.as_str(),
            scope.credential_id.as_str(),
            &scope.method,
            &scope.path,
            &scope.key,
            i64::from(response.status),
            &response.content_type,
            &response.body
        ],
    )
    .await
    .map(drop)
}

/// Forgets the key (an answer that is not kept, such as a validation failure), so a corrected
/// retry runs.
pub async fn release(tx: &mut dyn Tx, scope: &KeyScope) -> Result<(), StoreError> {
    tx.execute(
        "DELETE FROM idempotency_keys
         WHERE organization_id = $1 AND credential_id = $2 AND method = $3 AND path = $4 AND idempotency_key = $5
           AND response_status IS NULL",
        &params![
            scope.organization_id.as_str(),
            scope.credential_id.as_str(),
            &scope.method,
            &scope.path,
            &scope.key
        ],
    )
    .await
    .map(drop)
}

/// Whether a key is kept under `scope` (live or not).
pub async fn exists(tx: &mut dyn Tx, scope: &KeyScope) -> Result<bool, StoreError> {
    Ok(tx
        .query_opt(
            "SELECT 1 FROM idempotency_keys
             WHERE organization_id = $1 AND credential_id = $2 AND method = $3 AND path = $4 AND idempotency_key = $5",
            &params![
                scope.organization_id.as_str(),
                scope.credential_id.as_str(),
                &scope.method,
                &scope.path,
                &scope.key
            ],
        )
        .await?
        .is_some())
}

/// Until when keys stored as sent (before keys were kept as keyed hashes) may still be live:
/// the latest expiry among them when the database was upgraded, `None` when there were none.
pub async fn legacy_horizon(tx: &mut dyn Tx) -> Result<Option<DateTime<Utc>>, StoreError> {
    match tx
        .query_opt("SELECT expires_before FROM idempotency_legacy_horizon", &[])
        .await?
    {
        Some(row) => super::opt_instant(&row, 0),
        None => Ok(None),
    }
}

/// Deletes expired keys; returns how many.
pub async fn purge_expired(tx: &mut dyn Tx, now: DateTime<Utc>) -> Result<u64, StoreError> {
    tx.execute(
        "DELETE FROM idempotency_keys WHERE expires_at <= $1",
        &params![micros(now)],
    )
    .await
}
