//! Importing: apply one import document (an account with its sub-accounts) atomically and
//! idempotently, and keep a bulk import job's counters and rejected rows.

use super::accounts::{
    find_account_by_number, find_sub_account, insert_account, insert_sub_account,
    recompute_balance, update_account, update_sub_account,
};
use super::clients::{find_client_by_number, insert_client};
use super::{decode_enum, instant, micros, opt_instant};
use crate::{Row, StoreError, Tx, params};
use chrono::{DateTime, Utc};
use quittance_domain::ids::{AccountId, ClientId, ImportId, OrganizationId, SubAccountId};
use quittance_domain::import::{
    ClientRef, ImportDocument, ImportFormat, ImportStatus, SubAccountImport,
};
use quittance_domain::receivables::{
    Account, AccountStatus, Client, ClientStatus, SubAccount, SubAccountStatus,
};
use quittance_domain::{FieldError, MinorUnits};
use std::collections::HashMap;

/// Why a document was not applied: a rule about the stored data, or the database.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Field(#[from] FieldError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Created,
    Updated,
    Unchanged,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentOutcome {
    pub account_id: AccountId,
    pub account: Change,
    /// One entry per sub-account of the document, in its order.
    pub sub_accounts: Vec<(SubAccountId, Change)>,
}

impl DocumentOutcome {
    /// Nothing at all was written.
    pub fn is_unchanged(&self) -> bool {
        self.account == Change::Unchanged
            && self
                .sub_accounts
                .iter()
                .all(|(_, c)| *c == Change::Unchanged)
    }

    /// An account that existed before was changed (its data or its sub-accounts): the case
    /// for a `master_account.changed` event. A new account has no such event.
    pub fn changes_an_existing_account(&self) -> bool {
        self.account != Change::Created && !self.is_unchanged()
    }

    pub fn sub_accounts_with(&self, change: Change) -> i64 {
        let n = self
            .sub_accounts
            .iter()
            .filter(|(_, c)| *c == change)
            .count();
        i64::try_from(n).unwrap_or(i64::MAX)
    }
}

/// Client ids looked up or created by number during one import (valid for one transaction
/// and the ones after it; start afresh after a rollback).
#[derive(Debug, Default)]
pub struct ClientCache {
    known: HashMap<String, ClientId>,
}

async fn resolve_client(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    client: &ClientRef,
    now: DateTime<Utc>,
    cache: &mut ClientCache,
) -> Result<ClientId, StoreError> {
    if let Some(id) = cache.known.get(&client.client_number) {
        return Ok(id.clone());
    }
    let id = match find_client_by_number(tx, org, &client.client_number).await? {
        Some(found) => found.id,
        None => {
            let created = Client {
                id: ClientId::generate(),
                organization_id: org.clone(),
                client_number: client.client_number.clone(),
                name: client
                    .name
                    .clone()
                    .unwrap_or_else(|| client.client_number.clone()),
                email: None,
                phone: None,
                status: ClientStatus::Active,
                created_at: now,
                updated_at: now,
            };
            insert_client(tx, &created).await?;
            created.id
        }
    };
    cache.known.insert(client.client_number.clone(), id.clone());
    Ok(id)
}

/// Creates or updates the document's account and sub-accounts. Applying the same document
/// again writes nothing and reports every part `Unchanged`.
///
/// A refusal (`ImportError::Field`) concerns the whole account (its currency, its total) and is
/// decided before anything is written, so the caller may go on in the same transaction. A
/// `Store` error may leave partial writes: roll back.
pub async fn apply_document(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    doc: &ImportDocument,
    now: DateTime<Utc>,
    clients: &mut ClientCache,
) -> Result<DocumentOutcome, ImportError> {
    let existing = find_account_by_number(tx, org, &doc.account_number).await?;
    let (account, account_change) = match existing {
        None => {
            // A new account's sub-accounts are all new: its balance is known before any write.
            let mut balance = MinorUnits::ZERO;
            for sub in &doc.sub_accounts {
                balance = balance
                    .checked_add(sub.balance.unwrap_or(sub.original_balance))
                    .map_err(|_| {
                        FieldError::new(
                            "sub_accounts",
                            "the balances add up to more than an account can hold",
                        )
                    })?;
            }
            let account = Account {
                id: AccountId::generate(),
                organization_id: org.clone(),
                account_number: doc.account_number.clone(),
                status: doc.status.unwrap_or(AccountStatus::Active),
                holder: doc.holder.clone(),
                currency: doc.currency,
                balance,
                created_at: now,
                updated_at: now,
            };
            insert_account(tx, &account).await?;
            (account, Change::Created)
        }
        Some(current) => {
            if current.currency != doc.currency {
                return Err(FieldError::new(
                    "currency",
                    format!(
                        "account {} is in {}, not {}",
                        current.account_number, current.currency, doc.currency
                    ),
                )
                .into());
            }
            let updated = Account {
                status: doc.status.unwrap_or(current.status),
                holder: current.holder.merged_with(&doc.holder),
                ..current.clone()
            };
            if updated == current {
                (current, Change::Unchanged)
            } else {
                update_account(tx, &updated, now).await?;
                (updated, Change::Updated)
            }
        }
    };
    let mut sub_accounts = Vec::with_capacity(doc.sub_accounts.len());
    for input in &doc.sub_accounts {
        sub_accounts.push(
            apply_sub_account(
                tx,
                &account,
                account_change == Change::Created,
                input,
                now,
                clients,
            )
            .await?,
        );
    }
    let outcome = DocumentOutcome {
        account_id: account.id.clone(),
        account: account_change,
        sub_accounts,
    };
    let changed_sub_accounts = outcome
        .sub_accounts
        .iter()
        .any(|(_, c)| *c != Change::Unchanged);
    if account_change != Change::Created && changed_sub_accounts {
        recompute_balance(tx, &account.id, now).await?;
    }
    Ok(outcome)
}

async fn apply_sub_account(
    tx: &mut dyn Tx,
    account: &Account,
    account_is_new: bool,
    input: &SubAccountImport,
    now: DateTime<Utc>,
    clients: &mut ClientCache,
) -> Result<(SubAccountId, Change), StoreError> {
    let client_id = match &input.client {
        Some(client) => {
            Some(resolve_client(tx, &account.organization_id, client, now, clients).await?)
        }
        None => None,
    };
    // A brand-new account has no sub-accounts yet: skip the lookup.
    let existing = if account_is_new {
        None
    } else {
        find_sub_account(tx, &account.id, &input.reference).await?
    };
    match existing {
        None => {
            let sub = SubAccount {
                id: SubAccountId::generate(),
                organization_id: account.organization_id.clone(),
                account_id: account.id.clone(),
                reference: input.reference.clone(),
                client_id,
                original_balance: input.original_balance,
                balance: input.balance.unwrap_or(input.original_balance),
                currency: account.currency,
                service_date: input.service_date,
                placement_date: input.placement_date,
                description: input.description.clone(),
                status: input.status.unwrap_or(SubAccountStatus::Open),
                created_at: now,
                updated_at: now,
            };
            insert_sub_account(tx, &sub).await?;
            Ok((sub.id, Change::Created))
        }
        Some(current) => {
            let updated = SubAccount {
                client_id: client_id.or_else(|| current.client_id.clone()),
                original_balance: input.original_balance,
                balance: input.balance.unwrap_or(current.balance),
                service_date: input.service_date.or(current.service_date),
                placement_date: input.placement_date.or(current.placement_date),
                description: input
                    .description
                    .clone()
                    .or_else(|| current.description.clone()),
                status: input.status.unwrap_or(current.status),
                ..current.clone()
            };
            if updated == current {
                Ok((current.id, Change::Unchanged))
            } else {
                update_sub_account(tx, &updated, now).await?;
                Ok((updated.id, Change::Updated))
            }
        }
    }
}

/// A bulk import's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportTally {
    pub rows_read: i64,
    pub rows_rejected: i64,
    pub rows_unchanged: i64,
    pub accounts_created: i64,
    pub accounts_updated: i64,
    pub sub_accounts_created: i64,
    pub sub_accounts_updated: i64,
}

impl ImportTally {
    /// Adds another tally's counts to this one.
    pub fn add(&mut self, other: &ImportTally) {
        self.rows_read += other.rows_read;
        self.rows_rejected += other.rows_rejected;
        self.rows_unchanged += other.rows_unchanged;
        self.accounts_created += other.accounts_created;
        self.accounts_updated += other.accounts_updated;
        self.sub_accounts_created += other.sub_accounts_created;
        self.sub_accounts_updated += other.sub_accounts_updated;
    }

    /// Counts one applied document that covered `rows` input rows.
    pub fn add_document(&mut self, outcome: &DocumentOutcome, rows: i64) {
        match outcome.account {
            Change::Created => self.accounts_created += 1,
            Change::Updated => self.accounts_updated += 1,
            Change::Unchanged => {}
        }
        self.sub_accounts_created += outcome.sub_accounts_with(Change::Created);
        self.sub_accounts_updated += outcome.sub_accounts_with(Change::Updated);
        if outcome.is_unchanged() {
            self.rows_unchanged += rows;
        }
    }
}

/// One rejected input row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub row_number: i64,
    pub field: Option<String>,
    pub reason: String,
}

/// Rejected rows kept per import; the rest are only counted.
pub const MAX_STORED_REJECTIONS: i64 = 1000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportJob {
    pub id: ImportId,
    pub organization_id: OrganizationId,
    pub format: ImportFormat,
    pub status: ImportStatus,
    pub tally: ImportTally,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
}

const JOB_COLUMNS: &str = "id, organization_id, format, status, rows_read, rows_rejected, rows_unchanged, accounts_created, \
    accounts_updated, sub_accounts_created, sub_accounts_updated, error, created_at, updated_at, completed_at";

fn decode_job(row: &Row) -> Result<ImportJob, StoreError> {
    let id = row.str(0)?;
    let org = row.str(1)?;
    Ok(ImportJob {
        id: ImportId::parse(id)
            .ok_or_else(|| StoreError::Decode(format!("bad import id {id:?}")))?,
        organization_id: OrganizationId::parse(org)
            .ok_or_else(|| StoreError::Decode(format!("bad organization id {org:?}")))?,
        format: decode_enum(row, 2, ImportFormat::parse)?,
        status: decode_enum(row, 3, ImportStatus::parse)?,
        tally: ImportTally {
            rows_read: row.i64(4)?,
            rows_rejected: row.i64(5)?,
            rows_unchanged: row.i64(6)?,
            accounts_created: row.i64(7)?,
            accounts_updated: row.i64(8)?,
            sub_accounts_created: row.i64(9)?,
            sub_accounts_updated: row.i64(10)?,
        },
        error: row.opt_string(11)?,
        created_at: instant(row, 12)?,
        updated_at: instant(row, 13)?,
        completed_at: opt_instant(row, 14)?,
    })
}

pub async fn insert_import(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    id: &ImportId,
    format: ImportFormat,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO imports (id, organization_id, format, status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)",
        &params![id.as_str(), org.as_str(), format.as_str(), ImportStatus::Running.as_str(), micros(now)],
    )
    .await
    .map(drop)
}

pub async fn get_import(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    id: &ImportId,
) -> Result<ImportJob, StoreError> {
    let row = tx
        .query_one(
            &format!("SELECT {JOB_COLUMNS} FROM imports WHERE organization_id = $1 AND id = $2"),
            &params![org.as_str(), id.as_str()],
        )
        .await?;
    decode_job(&row)
}

/// The stored rejected rows, in row order (at most [`MAX_STORED_REJECTIONS`]).
pub async fn list_rejections(tx: &mut dyn Tx, id: &ImportId) -> Result<Vec<Rejection>, StoreError> {
    let rows = tx
        .query(
            "SELECT row_number, field, reason FROM import_rejections WHERE import_id = $1 ORDER BY row_number",
            &params![id.as_str()],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Rejection {
                row_number: r.i64(0)?,
                field: r.opt_string(1)?,
                reason: r.string(2)?,
            })
        })
        .collect()
}

/// Adds a chunk's counters and rejections to the job, in the chunk's own transaction.
pub async fn record_progress(
    tx: &mut dyn Tx,
    id: &ImportId,
    delta: &ImportTally,
    rejections: &[Rejection],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let already = tx
        .query_one(
            "SELECT rows_rejected FROM imports WHERE id = $1",
            &params![id.as_str()],
        )
        .await?
        .i64(0)?;
    let room = usize::try_from((MAX_STORED_REJECTIONS - already).max(0)).unwrap_or(0);
    for rejection in rejections.iter().take(room) {
        tx.execute(
            "INSERT INTO import_rejections (import_id, row_number, field, reason) VALUES ($1, $2, $3, $4)",
            &params![id.as_str(), rejection.row_number, &rejection.field, &rejection.reason],
        )
        .await?;
    }
    tx.execute(
        "UPDATE imports SET rows_read = rows_read + $2, rows_rejected = rows_rejected + $3,
            rows_unchanged = rows_unchanged + $4, accounts_created = accounts_created + $5,
            accounts_updated = accounts_updated + $6, sub_accounts_created = sub_accounts_created + $7,
            sub_accounts_updated = sub_accounts_updated + $8, updated_at = $9
         WHERE id = $1",
        &params![
            id.as_str(),
            delta.rows_read,
            delta.rows_rejected,
            delta.rows_unchanged,
            delta.accounts_created,
            delta.accounts_updated,
            delta.sub_accounts_created,
            delta.sub_accounts_updated,
            micros(now)
        ],
    )
    .await
    .map(drop)
}

/// Ends a job as completed, or failed with the reason.
pub async fn finish_import(
    tx: &mut dyn Tx,
    id: &ImportId,
    error: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let status = if error.is_some() {
        ImportStatus::Failed
    } else {
        ImportStatus::Completed
    };
    tx.execute(
        "UPDATE imports SET status = $2, error = $3, updated_at = $4, completed_at = $4 WHERE id = $1",
        &params![id.as_str(), status.as_str(), error, micros(now)],
    )
    .await
    .map(drop)
}

/// Marks jobs left running by a stopped process as failed; returns which, so their uploads
/// can be removed.
pub async fn fail_interrupted_imports(
    tx: &mut dyn Tx,
    running_before: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<(ImportId, ImportFormat)>, StoreError> {
    let rows = tx.query(
        "UPDATE imports SET status = $1, error = $2, updated_at = $3, completed_at = $3
         WHERE status = $4 AND updated_at < $5
         RETURNING id, format",
        &params![
            ImportStatus::Failed.as_str(),
            "interrupted before it finished; what it counted was committed, and submitting the same file again is safe because import is idempotent",
            micros(now),
            ImportStatus::Running.as_str(),
            micros(running_before)
        ],
    )
    .await?;
    rows.iter()
        .map(|row| {
            let id = row.str(0)?;
            let id = ImportId::parse(id)
                .ok_or_else(|| StoreError::Decode(format!("bad import id {id:?}")))?;
            Ok((id, decode_enum(row, 1, ImportFormat::parse)?))
        })
        .collect()
}
