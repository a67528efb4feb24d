//! Organizations, credentials, access tokens and failed-authentication bookkeeping.
//! Secrets arrive here already hashed; nothing in this module ever sees one in the clear.

use super::{micros, opt_instant};
use crate::{StoreError, Tx, params};
use chrono::{DateTime, Duration, Utc};
use quittance_domain::ids::{CredentialId, OrganizationId};

/// Who a request acts for, once its credential checks out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub credential_id: CredentialId,
    pub organization_id: OrganizationId,
    pub organization_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCredential {
    pub id: CredentialId,
    pub client_id: String,
    pub client_secret_hash: String,
    pub api_key_hash: String,
    /// The first characters of the API key, so an operator can tell keys apart.
    pub api_key_hint: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialSummary {
    pub id: CredentialId,
    pub organization_id: OrganizationId,
    pub organization_name: String,
    pub client_id: String,
    pub api_key_hint: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// What the token endpoint needs to judge a client id and secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthClient {
    pub credential_id: CredentialId,
    pub client_secret_hash: String,
    pub locked_until: Option<DateTime<Utc>>,
    pub revoked: bool,
}

/// The lockout rule: `max_failures` within `window` locks the client for `lock_for`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    pub max_failures: i64,
    pub window: Duration,
    pub lock_for: Duration,
}

fn organization_id(row: &crate::Row, index: usize) -> Result<OrganizationId, StoreError> {
    let text = row.str(index)?;
    OrganizationId::parse(text)
        .ok_or_else(|| StoreError::Decode(format!("bad organization id {text:?}")))
}

fn credential_id(row: &crate::Row, index: usize) -> Result<CredentialId, StoreError> {
    let text = row.str(index)?;
    CredentialId::parse(text)
        .ok_or_else(|| StoreError::Decode(format!("bad credential id {text:?}")))
}

/// The organization with this name, created if it does not exist yet.
pub async fn ensure_organization(
    tx: &mut dyn Tx,
    name: &str,
    now: DateTime<Utc>,
) -> Result<OrganizationId, StoreError> {
    if let Some(row) = tx
        .query_opt(
            "SELECT id FROM organizations WHERE name = $1",
            &params![name],
        )
        .await?
    {
        return organization_id(&row, 0);
    }
    let id = OrganizationId::generate();
    tx.execute(
        "INSERT INTO organizations (id, name, created_at) VALUES ($1, $2, $3)",
        &params![id.as_str(), name, micros(now)],
    )
    .await?;
    Ok(id)
}

pub async fn insert_credential(
    tx: &mut dyn Tx,
    organization: &OrganizationId,
    credential: &NewCredential,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO credentials (id, organization_id, client_id, client_secret_hash, api_key_hash, api_key_hint, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &params![
            credential.id.as_str(),
            organization.as_str(),
            &credential.client_id,
            &credential.client_secret_hash,
            &credential.api_key_hash,
            &credential.api_key_hint,
            micros(now)
        ],
    )
    .await
    .map(drop)
}

pub async fn list_credentials(tx: &mut dyn Tx) -> Result<Vec<CredentialSummary>, StoreError> {
    let rows = tx
        .query(
            "SELECT c.id, c.organization_id, o.name, c.client_id, c.api_key_hint, c.created_at, c.revoked_at
             FROM credentials c JOIN organizations o ON o.id = c.organization_id
             ORDER BY c.id",
            &[],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(CredentialSummary {
                id: credential_id(r, 0)?,
                organization_id: organization_id(r, 1)?,
                organization_name: r.string(2)?,
                client_id: r.string(3)?,
                api_key_hint: r.string(4)?,
                created_at: super::instant(r, 5)?,
                revoked_at: opt_instant(r, 6)?,
            })
        })
        .collect()
}

/// Revokes a credential and every token issued to it. `NotFound` if there is no such id.
pub async fn revoke_credential(
    tx: &mut dyn Tx,
    id: &CredentialId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let changed = tx
        .execute(
            "UPDATE credentials SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
            &params![id.as_str(), micros(now)],
        )
        .await?;
    if changed == 0 {
        let exists = tx
            .query_opt(
                "SELECT 1 FROM credentials WHERE id = $1",
                &params![id.as_str()],
            )
            .await?;
        if exists.is_none() {
            return Err(StoreError::NotFound);
        }
    }
    tx.execute(
        "DELETE FROM access_tokens WHERE credential_id = $1",
        &params![id.as_str()],
    )
    .await?;
    Ok(())
}

pub async fn find_oauth_client(
    tx: &mut dyn Tx,
    client_id: &str,
) -> Result<Option<OAuthClient>, StoreError> {
    let Some(row) = tx
        .query_opt(
            "SELECT id, client_secret_hash, locked_until, revoked_at FROM credentials WHERE client_id = $1",
            &params![client_id],
        )
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(OAuthClient {
        credential_id: credential_id(&row, 0)?,
        client_secret_hash: row.string(1)?,
        locked_until: opt_instant(&row, 2)?,
        revoked: row.opt_i64(3)?.is_some(),
    }))
}

/// Records a failed secret for this credential. Returns the lock's end when this failure
/// completes `max_failures` within the window, which locks the client.
pub async fn record_auth_failure(
    tx: &mut dyn Tx,
    credential: &CredentialId,
    now: DateTime<Utc>,
    policy: LockoutPolicy,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    tx.execute(
        "INSERT INTO auth_failures (credential_id, failed_at) VALUES ($1, $2)",
        &params![credential.as_str(), micros(now)],
    )
    .await?;
    tx.execute(
        "DELETE FROM auth_failures WHERE credential_id = $1 AND failed_at <= $2",
        &params![credential.as_str(), micros(now - policy.window)],
    )
    .await?;
    let recent = tx
        .query_one(
            "SELECT COUNT(*) FROM auth_failures WHERE credential_id = $1",
            &params![credential.as_str()],
        )
        .await?
        .i64(0)?;
    if recent < policy.max_failures {
        return Ok(None);
    }
    let until = now + policy.lock_for;
    tx.execute(
        "UPDATE credentials SET locked_until = $2 WHERE id = $1",
        &params![credential.as_str(), micros(until)],
    )
    .await?;
    tx.execute(
        "DELETE FROM auth_failures WHERE credential_id = $1",
        &params![credential.as_str()],
    )
    .await?;
    Ok(Some(until))
}

/// Stores a new access token (by hash) and forgets earlier failures of this client.
pub async fn insert_token(
    tx: &mut dyn Tx,
    credential: &CredentialId,
    token_hash: &str,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO access_tokens (token_hash, credential_id, expires_at, created_at) VALUES ($1, $2, $3, $4)",
        &params![token_hash, credential.as_str(), micros(expires_at), micros(now)],
    )
    .await?;
    tx.execute(
        "DELETE FROM auth_failures WHERE credential_id = $1",
        &params![credential.as_str()],
    )
    .await?;
    Ok(())
}

const PRINCIPAL: &str = "SELECT c.id, c.organization_id, o.name FROM credentials c
    JOIN organizations o ON o.id = c.organization_id";

fn principal(row: &crate::Row) -> Result<Principal, StoreError> {
    Ok(Principal {
        credential_id: credential_id(row, 0)?,
        organization_id: organization_id(row, 1)?,
        organization_name: row.string(2)?,
    })
}

/// The principal behind an unexpired token of an unrevoked credential.
pub async fn authenticate_token(
    tx: &mut dyn Tx,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<Principal>, StoreError> {
    let sql = format!(
        "{PRINCIPAL} JOIN access_tokens t ON t.credential_id = c.id
         WHERE t.token_hash = $1 AND t.expires_at > $2 AND c.revoked_at IS NULL"
    );
    tx.query_opt(&sql, &params![token_hash, micros(now)])
        .await?
        .as_ref()
        .map(principal)
        .transpose()
}

/// The principal behind an API key of an unrevoked credential.
pub async fn authenticate_api_key(
    tx: &mut dyn Tx,
    key_hash: &str,
) -> Result<Option<Principal>, StoreError> {
    let sql = format!("{PRINCIPAL} WHERE c.api_key_hash = $1 AND c.revoked_at IS NULL");
    tx.query_opt(&sql, &params![key_hash])
        .await?
        .as_ref()
        .map(principal)
        .transpose()
}

/// Deletes expired tokens; returns how many.
pub async fn purge_expired_tokens(tx: &mut dyn Tx, now: DateTime<Utc>) -> Result<u64, StoreError> {
    tx.execute(
        "DELETE FROM access_tokens WHERE expires_at <= $1",
        &params![micros(now)],
    )
    .await
}

/// The organization with this name, if any.
pub async fn find_organization(
    tx: &mut dyn Tx,
    name: &str,
) -> Result<Option<OrganizationId>, StoreError> {
    tx.query_opt(
        "SELECT id FROM organizations WHERE name = $1",
        &params![name],
    )
    .await?
    .map(|row| organization_id(&row, 0))
    .transpose()
}
