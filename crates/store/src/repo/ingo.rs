//! IngoPay hosted sessions (seed 003): participants, sessions with their idempotency keys,
//! the one-use authorized URLs and the browser cookies they become, the signatures seen (for
//! replay refusal) and the accounts captured on the hosted page.

use super::{instant, micros, opt_instant};
use crate::{Row, StoreError, Tx, params};
use chrono::{DateTime, Utc};
use quittance_domain::ids::OrganizationId;

/// A participant as stored. The secret is sealed (`key_id:ciphertext`) for `id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Participant {
    pub id: String,
    pub organization_id: OrganizationId,
    pub participant_id: i64,
    pub username: String,
    pub sealed_secret: String,
    /// The allow-list, in order; the first is the default `host_uri`.
    pub host_uris: Vec<String>,
    pub paypal_enabled: bool,
    pub thresholds: Thresholds,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Failed verification attempts allowed: per feature, and for the whole session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    pub recipient: i64,
    pub account: i64,
    pub session: i64,
}

const PARTICIPANT_COLUMNS: &str = "id, organization_id, participant_id, username, sealed_secret, host_uris, \
     paypal_enabled, recipient_attempts, account_attempts, session_attempts, created_at, updated_at";

fn participant(row: &Row) -> Result<Participant, StoreError> {
    let org = row.str(1)?;
    Ok(Participant {
        id: row.string(0)?,
        organization_id: OrganizationId::parse(org)
            .ok_or_else(|| StoreError::Decode(format!("bad organization id {org:?}")))?,
        participant_id: row.i64(2)?,
        username: row.string(3)?,
        sealed_secret: row.string(4)?,
        host_uris: row.str(5)?.lines().map(str::to_owned).collect(),
        paypal_enabled: row.bool(6)?,
        thresholds: Thresholds {
            recipient: row.i64(7)?,
            account: row.i64(8)?,
            session: row.i64(9)?,
        },
        created_at: instant(row, 10)?,
        updated_at: instant(row, 11)?,
    })
}

/// The numbers participants are given start above this one.
const FIRST_PARTICIPANT_ID: i64 = 100_000;

/// Inserts a participant under the next free `participant_id` and returns it. A concurrent
/// creation taking the same number is a `Conflict` (rolled back; the caller may retry).
pub async fn insert_participant(tx: &mut dyn Tx, p: &Participant) -> Result<i64, StoreError> {
    let next = tx
        .query_one(
            "SELECT COALESCE(MAX(participant_id), $1) + 1 FROM ingo_participants",
            &params![FIRST_PARTICIPANT_ID],
        )
        .await?
        .i64(0)?;
    tx.execute(
        &format!(
            "INSERT INTO ingo_participants ({PARTICIPANT_COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        ),
        &params![
            &p.id,
            p.organization_id.as_str(),
            next,
            &p.username,
            &p.sealed_secret,
            p.host_uris.join("\n"),
            p.paypal_enabled,
            p.thresholds.recipient,
            p.thresholds.account,
            p.thresholds.session,
            micros(p.created_at),
            micros(p.updated_at)
        ],
    )
    .await?;
    Ok(next)
}

/// Every participant of `org` (all organizations' when `None`), by number.
pub async fn list_participants(
    tx: &mut dyn Tx,
    org: Option<&OrganizationId>,
) -> Result<Vec<Participant>, StoreError> {
    let rows = match org {
        Some(org) => {
            tx.query(
                &format!(
                    "SELECT {PARTICIPANT_COLUMNS} FROM ingo_participants WHERE organization_id = $1
                     ORDER BY participant_id"
                ),
                &params![org.as_str()],
            )
            .await?
        }
        None => {
            tx.query(
                &format!(
                    "SELECT {PARTICIPANT_COLUMNS} FROM ingo_participants ORDER BY participant_id"
                ),
                &[],
            )
            .await?
        }
    };
    rows.iter().map(participant).collect()
}

/// The participant signing as `username`, of whichever organization.
pub async fn participant_by_username(
    tx: &mut dyn Tx,
    username: &str,
) -> Result<Option<Participant>, StoreError> {
    tx.query_opt(
        &format!("SELECT {PARTICIPANT_COLUMNS} FROM ingo_participants WHERE username = $1"),
        &params![username],
    )
    .await?
    .as_ref()
    .map(participant)
    .transpose()
}

/// Participant `number` of `org`; another organization's is `NotFound`.
pub async fn get_participant(
    tx: &mut dyn Tx,
    org: Option<&OrganizationId>,
    number: i64,
) -> Result<Participant, StoreError> {
    let row = tx
        .query_one(
            &format!(
                "SELECT {PARTICIPANT_COLUMNS} FROM ingo_participants WHERE participant_id = $1"
            ),
            &params![number],
        )
        .await?;
    let found = participant(&row)?;
    match org {
        Some(org) if *org != found.organization_id => Err(StoreError::NotFound),
        _ => Ok(found),
    }
}

/// Saves a participant's changeable fields: its allow-list, PayPal, thresholds and secret.
pub async fn update_participant(tx: &mut dyn Tx, p: &Participant) -> Result<(), StoreError> {
    let changed = tx
        .execute(
            "UPDATE ingo_participants SET host_uris = $3, paypal_enabled = $4, recipient_attempts = $5,
                 account_attempts = $6, session_attempts = $7, sealed_secret = $8, updated_at = $9
             WHERE organization_id = $1 AND participant_id = $2",
            &params![
                p.organization_id.as_str(),
                p.participant_id,
                p.host_uris.join("\n"),
                p.paypal_enabled,
                p.thresholds.recipient,
                p.thresholds.account,
                p.thresholds.session,
                &p.sealed_secret,
                micros(p.updated_at)
            ],
        )
        .await?;
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Deletes a participant; its sessions and accounts stay, as records.
pub async fn delete_participant(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    number: i64,
) -> Result<(), StoreError> {
    let changed = tx
        .execute(
            "DELETE FROM ingo_participants WHERE organization_id = $1 AND participant_id = $2",
            &params![org.as_str(), number],
        )
        .await?;
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Records a signature; `false` when it was seen already (a replay).
pub async fn record_signature(
    tx: &mut dyn Tx,
    signature: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let inserted = tx
        .execute(
            "INSERT INTO ingo_signatures (signature, seen_at) VALUES ($1, $2)
             ON CONFLICT (signature) DO NOTHING",
            &params![signature, micros(now)],
        )
        .await?;
    Ok(inserted == 1)
}

/// A session as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: String,
    pub organization_id: OrganizationId,
    pub participant_id: i64,
    pub idempotency_key: Option<String>,
    pub idempotency_expires_at: Option<DateTime<Utc>>,
    pub fingerprint: String,
    pub participant_unique_id1: String,
    pub participant_unique_id2: String,
    pub host_uri: String,
    pub locale: String,
    pub sealed_recipient: String,
    pub tracer_token: String,
    pub status: String,
    pub recipient_failures: i64,
    pub account_failures: i64,
    pub session_failures: i64,
    pub locked: bool,
    pub customer_account_token: Option<String>,
    pub funding_destination: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const SESSION_COLUMNS: &str = "id, organization_id, participant_id, idempotency_key, idempotency_expires_at, \
     fingerprint, participant_unique_id1, participant_unique_id2, host_uri, locale, sealed_recipient, \
     tracer_token, status, recipient_failures, account_failures, session_failures, locked, \
     customer_account_token, funding_destination, created_at, updated_at";

fn session(row: &Row) -> Result<Session, StoreError> {
    let org = row.str(1)?;
    Ok(Session {
        id: row.string(0)?,
        organization_id: OrganizationId::parse(org)
            .ok_or_else(|| StoreError::Decode(format!("bad organization id {org:?}")))?,
        participant_id: row.i64(2)?,
        idempotency_key: row.opt_string(3)?,
        idempotency_expires_at: opt_instant(row, 4)?,
        fingerprint: row.string(5)?,
        participant_unique_id1: row.string(6)?,
        participant_unique_id2: row.string(7)?,
        host_uri: row.string(8)?,
        locale: row.string(9)?,
        sealed_recipient: row.string(10)?,
        tracer_token: row.string(11)?,
        status: row.string(12)?,
        recipient_failures: row.i64(13)?,
        account_failures: row.i64(14)?,
        session_failures: row.i64(15)?,
        locked: row.bool(16)?,
        customer_account_token: row.opt_string(17)?,
        funding_destination: row.opt_string(18)?,
        created_at: instant(row, 19)?,
        updated_at: instant(row, 20)?,
    })
}

/// Inserts a session. With an idempotency key another live session holds for the
/// participant, it is a `Conflict`.
pub async fn insert_session(tx: &mut dyn Tx, s: &Session) -> Result<(), StoreError> {
    tx.execute(
        &format!(
            "INSERT INTO ingo_sessions ({SESSION_COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)"
        ),
        &params![
            &s.id,
            s.organization_id.as_str(),
            s.participant_id,
            &s.idempotency_key,
            s.idempotency_expires_at.map(micros),
            &s.fingerprint,
            &s.participant_unique_id1,
            &s.participant_unique_id2,
            &s.host_uri,
            &s.locale,
            &s.sealed_recipient,
            &s.tracer_token,
            &s.status,
            s.recipient_failures,
            s.account_failures,
            s.session_failures,
            s.locked,
            &s.customer_account_token,
            &s.funding_destination,
            micros(s.created_at),
            micros(s.updated_at)
        ],
    )
    .await
    .map(drop)
}

/// The live session the participant's idempotency key names. A key past its two hours is
/// pruned here first, so it names nothing and may make a new session.
pub async fn session_by_key(
    tx: &mut dyn Tx,
    participant_id: i64,
    key: &str,
    now: DateTime<Utc>,
) -> Result<Option<Session>, StoreError> {
    tx.execute(
        "UPDATE ingo_sessions SET idempotency_key = NULL, idempotency_expires_at = NULL
         WHERE participant_id = $1 AND idempotency_key = $2 AND idempotency_expires_at <= $3",
        &params![participant_id, key, micros(now)],
    )
    .await?;
    tx.query_opt(
        &format!(
            "SELECT {SESSION_COLUMNS} FROM ingo_sessions WHERE participant_id = $1 AND idempotency_key = $2"
        ),
        &params![participant_id, key],
    )
    .await?
    .as_ref()
    .map(session)
    .transpose()
}

/// A session by its identifier, of the participant when one is given.
pub async fn get_session(
    tx: &mut dyn Tx,
    participant_id: Option<i64>,
    id: &str,
) -> Result<Session, StoreError> {
    let found = session(
        &tx.query_one(
            &format!("SELECT {SESSION_COLUMNS} FROM ingo_sessions WHERE id = $1"),
            &params![id],
        )
        .await?,
    )?;
    match participant_id {
        Some(p) if p != found.participant_id => Err(StoreError::NotFound),
        _ => Ok(found),
    }
}

/// Saves a session's progress: status, counters, lock and the captured account.
pub async fn save_session(tx: &mut dyn Tx, s: &Session) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE ingo_sessions SET status = $2, recipient_failures = $3, account_failures = $4,
             session_failures = $5, locked = $6, customer_account_token = $7, funding_destination = $8,
             updated_at = $9
         WHERE id = $1",
        &params![
            &s.id,
            &s.status,
            s.recipient_failures,
            s.account_failures,
            s.session_failures,
            s.locked,
            &s.customer_account_token,
            &s.funding_destination,
            micros(s.updated_at)
        ],
    )
    .await
    .map(drop)
}

/// Records a new authorized URL for the session; `false` when the session has one with these
/// ticks already (two made in the same 100 ns).
pub async fn insert_link(
    tx: &mut dyn Tx,
    session_id: &str,
    ticks: i64,
    expires_at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let inserted = tx
        .execute(
            "INSERT INTO ingo_session_links (session_id, ticks, expires_at) VALUES ($1, $2, $3)
             ON CONFLICT (session_id, ticks) DO NOTHING",
            &params![session_id, ticks, micros(expires_at)],
        )
        .await?;
    Ok(inserted == 1)
}

/// Uses the URL `(session, ticks)` once: it must exist, be unused and unexpired. Its browser
/// cookie (as a keyed hash) is kept until `browser_expires_at`. `false` when it cannot be used.
pub async fn use_link(
    tx: &mut dyn Tx,
    session_id: &str,
    ticks: i64,
    browser_token_hash: &str,
    browser_expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let changed = tx
        .execute(
            "UPDATE ingo_session_links SET used_at = $3, browser_token_hash = $4, browser_expires_at = $5
             WHERE session_id = $1 AND ticks = $2 AND used_at IS NULL AND expires_at > $3",
            &params![
                session_id,
                ticks,
                micros(now),
                browser_token_hash,
                micros(browser_expires_at)
            ],
        )
        .await?;
    Ok(changed == 1)
}

/// The session a live browser cookie belongs to.
pub async fn session_of_browser(
    tx: &mut dyn Tx,
    browser_token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<String>, StoreError> {
    match tx
        .query_opt(
            "SELECT session_id FROM ingo_session_links
             WHERE browser_token_hash = $1 AND browser_expires_at > $2",
            &params![browser_token_hash, micros(now)],
        )
        .await?
    {
        Some(row) => Ok(Some(row.string(0)?)),
        None => Ok(None),
    }
}

/// Ends every browser cookie of a session (a newer URL replaces them, or the session ended).
pub async fn end_browsers(
    tx: &mut dyn Tx,
    session_id: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE ingo_session_links SET browser_expires_at = $2
         WHERE session_id = $1 AND browser_expires_at > $2",
        &params![session_id, micros(now)],
    )
    .await
    .map(drop)
}

/// An account captured on the hosted page. `id` is the `customer_account_token`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapturedAccount {
    pub id: String,
    pub organization_id: OrganizationId,
    pub participant_id: i64,
    pub session_id: String,
    pub funding_destination: String,
    pub sealed_number: String,
    pub last4: String,
    pub brand: Option<String>,
    pub routing_number: Option<String>,
    pub exp_month: Option<i64>,
    pub exp_year: Option<i64>,
    pub created_at: DateTime<Utc>,
}

const ACCOUNT_COLUMNS: &str = "id, organization_id, participant_id, session_id, funding_destination, \
     sealed_number, last4, brand, routing_number, exp_month, exp_year, created_at";

pub async fn insert_account(tx: &mut dyn Tx, a: &CapturedAccount) -> Result<(), StoreError> {
    tx.execute(
        &format!(
            "INSERT INTO ingo_accounts ({ACCOUNT_COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        ),
        &params![
            &a.id,
            a.organization_id.as_str(),
            a.participant_id,
            &a.session_id,
            &a.funding_destination,
            &a.sealed_number,
            &a.last4,
            &a.brand,
            &a.routing_number,
            a.exp_month,
            a.exp_year,
            micros(a.created_at)
        ],
    )
    .await
    .map(drop)
}

/// A captured account of the participant.
pub async fn get_account(
    tx: &mut dyn Tx,
    participant_id: i64,
    token: &str,
) -> Result<CapturedAccount, StoreError> {
    let row = tx
        .query_one(
            &format!(
                "SELECT {ACCOUNT_COLUMNS} FROM ingo_accounts WHERE id = $1 AND participant_id = $2"
            ),
            &params![token, participant_id],
        )
        .await?;
    let org = row.str(1)?;
    Ok(CapturedAccount {
        id: row.string(0)?,
        organization_id: OrganizationId::parse(org)
            .ok_or_else(|| StoreError::Decode(format!("bad organization id {org:?}")))?,
        participant_id: row.i64(2)?,
        session_id: row.string(3)?,
        funding_destination: row.string(4)?,
        sealed_number: row.string(5)?,
        last4: row.string(6)?,
        brand: row.opt_string(7)?,
        routing_number: row.opt_string(8)?,
        exp_month: row.opt_i64(9)?,
        exp_year: row.opt_i64(10)?,
        created_at: instant(&row, 11)?,
    })
}

/// Housekeeping: forgets signatures older than `seen_before`, idempotency keys past their
/// expiry and URLs and cookies past theirs. Returns how many rows went.
pub async fn prune(
    tx: &mut dyn Tx,
    seen_before: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let signatures = tx
        .execute(
            "DELETE FROM ingo_signatures WHERE seen_at < $1",
            &params![micros(seen_before)],
        )
        .await?;
    let keys = tx
        .execute(
            "UPDATE ingo_sessions SET idempotency_key = NULL, idempotency_expires_at = NULL
             WHERE idempotency_expires_at <= $1",
            &params![micros(now)],
        )
        .await?;
    let links = tx
        .execute(
            "DELETE FROM ingo_session_links
             WHERE expires_at <= $1 AND (browser_expires_at IS NULL OR browser_expires_at <= $1)",
            &params![micros(now)],
        )
        .await?;
    Ok(signatures + keys + links)
}
