//! IngoPay funding: disbursements to captured accounts. A disbursement is written pending
//! before the processor is asked; its answer is written with the ledger transaction it makes,
//! once (a second answer for the same disbursement changes nothing).

use super::{currency, instant, ledger, micros, opt_instant};
use crate::{Row, StoreError, Tx, params};
use chrono::{DateTime, Utc};
use quittance_domain::ids::{DisbursementId, OrganizationId};
use quittance_domain::payments::disbursement_postings;
use quittance_domain::{Currency, MinorUnits};

/// Disbursement statuses, as stored and shown.
pub mod status {
    /// Written; the processor's answer is not known yet (the reconciler asks again).
    pub const PENDING: &str = "pending";
    /// Paid out.
    pub const SUCCEEDED: &str = "succeeded";
    /// The processor refused: nothing moved.
    pub const FAILED: &str = "failed";
    /// Paid out, then came back: the payout was reversed.
    pub const RETURNED: &str = "returned";
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disbursement {
    pub id: DisbursementId,
    pub organization_id: OrganizationId,
    pub participant_id: i64,
    pub customer_account_token: String,
    pub funding_destination: String,
    pub amount: MinorUnits,
    pub currency: Currency,
    pub description: Option<String>,
    pub idempotency_key: Option<String>,
    /// The keyed hash of the request's parameters, compared when its key comes again.
    pub fingerprint: String,
    pub status: String,
    pub failure_code: Option<String>,
    pub processor_reference: Option<String>,
    pub paid_transaction_id: Option<String>,
    pub return_transaction_id: Option<String>,
    pub checked_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, organization_id, participant_id, customer_account_token, funding_destination, \
     amount, currency, description, idempotency_key, fingerprint, status, failure_code, \
     processor_reference, paid_transaction_id, return_transaction_id, checked_at, created_at, updated_at";

fn decode(row: &Row) -> Result<Disbursement, StoreError> {
    let (id, org) = (row.str(0)?, row.str(1)?);
    Ok(Disbursement {
        id: DisbursementId::parse(id)
            .ok_or_else(|| StoreError::Decode(format!("bad disbursement id {id:?}")))?,
        organization_id: OrganizationId::parse(org)
            .ok_or_else(|| StoreError::Decode(format!("bad organization id {org:?}")))?,
        participant_id: row.i64(2)?,
        customer_account_token: row.string(3)?,
        funding_destination: row.string(4)?,
        amount: MinorUnits::new(row.i64(5)?),
        currency: currency(row, 6)?,
        description: row.opt_string(7)?,
        idempotency_key: row.opt_string(8)?,
        fingerprint: row.string(9)?,
        status: row.string(10)?,
        failure_code: row.opt_string(11)?,
        processor_reference: row.opt_string(12)?,
        paid_transaction_id: row.opt_string(13)?,
        return_transaction_id: row.opt_string(14)?,
        checked_at: opt_instant(row, 15)?,
        created_at: instant(row, 16)?,
        updated_at: instant(row, 17)?,
    })
}

/// Writes a new disbursement (pending). A second one with the participant's idempotency key
/// conflicts (the caller finds the first).
pub async fn insert(tx: &mut dyn Tx, d: &Disbursement) -> Result<(), StoreError> {
    tx.execute(
        &format!(
            "INSERT INTO ingo_disbursements ({COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)"
        ),
        &params![
            d.id.as_str(),
            d.organization_id.as_str(),
            d.participant_id,
            &d.customer_account_token,
            &d.funding_destination,
            d.amount.get(),
            d.currency.code(),
            &d.description,
            &d.idempotency_key,
            &d.fingerprint,
            &d.status,
            &d.failure_code,
            &d.processor_reference,
            &d.paid_transaction_id,
            &d.return_transaction_id,
            d.checked_at.map(micros),
            micros(d.created_at),
            micros(d.updated_at)
        ],
    )
    .await
    .map(drop)
}

/// The disbursement a participant's idempotency key names.
pub async fn by_key(
    tx: &mut dyn Tx,
    participant_id: i64,
    key: &str,
) -> Result<Option<Disbursement>, StoreError> {
    tx.query_opt(
        &format!(
            "SELECT {COLUMNS} FROM ingo_disbursements WHERE participant_id = $1 AND idempotency_key = $2"
        ),
        &params![participant_id, key],
    )
    .await?
    .as_ref()
    .map(decode)
    .transpose()
}

/// A disbursement, of `participant_id` when given.
pub async fn get(
    tx: &mut dyn Tx,
    participant_id: Option<i64>,
    id: &str,
) -> Result<Disbursement, StoreError> {
    let found = decode(
        &tx.query_one(
            &format!("SELECT {COLUMNS} FROM ingo_disbursements WHERE id = $1"),
            &params![id],
        )
        .await?,
    )?;
    match participant_id {
        Some(p) if p != found.participant_id => Err(StoreError::NotFound),
        _ => Ok(found),
    }
}

/// Moves `d` from status `from` to its new status, unless another writer did first (the row's
/// lock makes a concurrent claim wait, then find it moved): only the claim that moved it
/// writes the ledger transaction.
async fn claim(
    tx: &mut dyn Tx,
    d: &mut Disbursement,
    from: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    d.updated_at = now;
    let changed = tx
        .execute(
            "UPDATE ingo_disbursements SET status = $3, failure_code = $4, processor_reference = $5,
                 checked_at = $6, updated_at = $7
             WHERE id = $1 AND status = $2 AND checked_at IS NULL",
            &params![
                d.id.as_str(),
                from,
                &d.status,
                &d.failure_code,
                &d.processor_reference,
                d.checked_at.map(micros),
                micros(now)
            ],
        )
        .await?;
    Ok(changed == 1)
}

/// Writes the disbursement's ledger transaction (`returned`: its reversal) and notes it.
async fn post(
    tx: &mut dyn Tx,
    d: &mut Disbursement,
    returned: bool,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let (kind, column) = if returned {
        ("disbursement_return", "return_transaction_id")
    } else {
        ("disbursement", "paid_transaction_id")
    };
    let transaction = ledger::post(
        tx,
        &d.organization_id,
        kind,
        None,
        d.currency,
        &disbursement_postings(d.amount, returned),
        now,
    )
    .await?;
    tx.execute(
        &format!("UPDATE ingo_disbursements SET {column} = $2 WHERE id = $1"),
        &params![d.id.as_str(), transaction.as_str()],
    )
    .await?;
    let id = Some(transaction.as_str().to_owned());
    if returned {
        d.return_transaction_id = id;
    } else {
        d.paid_transaction_id = id;
    }
    Ok(())
}

/// What an answer did: the disbursement as it now stands, and whether this answer moved it
/// (an answer already recorded moves nothing, and makes no second event).
pub struct Recorded {
    pub disbursement: Disbursement,
    pub changed: bool,
}

async fn unchanged(tx: &mut dyn Tx, id: &DisbursementId) -> Result<Recorded, StoreError> {
    Ok(Recorded {
        disbursement: get(tx, None, id.as_str()).await?,
        changed: false,
    })
}

/// Records the processor's answer for a pending disbursement: paid out (with its balanced
/// ledger transaction) or refused with `failure_code`.
pub async fn record_answer(
    tx: &mut dyn Tx,
    id: &DisbursementId,
    answer: Result<String, String>,
    now: DateTime<Utc>,
) -> Result<Recorded, StoreError> {
    let mut d = get(tx, None, id.as_str()).await?;
    if d.status != status::PENDING {
        return unchanged(tx, id).await;
    }
    let paid = answer.is_ok();
    match answer {
        Ok(reference) => {
            d.status = status::SUCCEEDED.to_owned();
            d.processor_reference = Some(reference);
        }
        Err(code) => {
            d.status = status::FAILED.to_owned();
            d.failure_code = Some(code);
        }
    }
    if !claim(tx, &mut d, status::PENDING, now).await? {
        return unchanged(tx, id).await;
    }
    if paid {
        post(tx, &mut d, false, now).await?;
    }
    Ok(Recorded {
        disbursement: d,
        changed: true,
    })
}

/// Closes a paid-out disbursement's return window: with `return_code`, the payout came back
/// and is reversed in the ledger.
pub async fn record_return_check(
    tx: &mut dyn Tx,
    id: &DisbursementId,
    return_code: Option<String>,
    now: DateTime<Utc>,
) -> Result<Recorded, StoreError> {
    let mut d = get(tx, None, id.as_str()).await?;
    if d.status != status::SUCCEEDED || d.checked_at.is_some() {
        return unchanged(tx, id).await;
    }
    d.checked_at = Some(now);
    let returned = return_code.is_some();
    if let Some(code) = return_code {
        d.status = status::RETURNED.to_owned();
        d.failure_code = Some(code);
    }
    if !claim(tx, &mut d, status::SUCCEEDED, now).await? {
        return unchanged(tx, id).await;
    }
    if returned {
        post(tx, &mut d, true, now).await?;
    }
    Ok(Recorded {
        disbursement: d,
        changed: true,
    })
}

/// Pending disbursements written before `before`: their answer was lost (a crash, a timeout).
pub async fn unresolved(
    tx: &mut dyn Tx,
    before: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<DisbursementId>, StoreError> {
    ids_where(tx, status::PENDING, "", before, limit).await
}

/// Paid-out disbursements made before `before` whose return window is not closed yet.
pub async fn due_for_return_check(
    tx: &mut dyn Tx,
    before: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<DisbursementId>, StoreError> {
    ids_where(
        tx,
        status::SUCCEEDED,
        "AND checked_at IS NULL",
        before,
        limit,
    )
    .await
}

async fn ids_where(
    tx: &mut dyn Tx,
    wanted: &str,
    also: &str,
    before: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<DisbursementId>, StoreError> {
    let rows = tx
        .query(
            &format!(
                "SELECT id FROM ingo_disbursements WHERE status = $1 {also} AND created_at < $2
                 ORDER BY created_at LIMIT $3"
            ),
            &params![wanted, micros(before), limit],
        )
        .await?;
    rows.iter()
        .map(|r| {
            let id = r.str(0)?;
            DisbursementId::parse(id)
                .ok_or_else(|| StoreError::Decode(format!("bad disbursement id {id:?}")))
        })
        .collect()
}
