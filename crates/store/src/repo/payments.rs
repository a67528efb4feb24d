//! Payments, their allocations over sub-accounts, and refunds.
//!
//! Every script that changes a payment first locks its row (an `UPDATE` that changes nothing
//! takes PostgreSQL's row lock until commit; SQLite has one writer), then reads it, asks the
//! domain's status machine, and writes. So concurrent captures, voids and refunds of one
//! payment take turns, and limits hold.

use super::ledger;
use super::{
    Conditions, PageRequest, Paged, currency, decode_enum, instant, micros, opt_parsed, parsed,
};
use crate::{Param, Row, StoreError, Tx, params};
use chrono::{DateTime, Utc};
use quittance_domain::ids::{
    AccountId, ClientId, InstallmentId, OrganizationId, PaymentId, PaymentMethodId, RefundId,
    SettlementId, SubAccountId,
};
use quittance_domain::instruments::{CardBrand, MethodType};
use quittance_domain::payments::{
    Allocation, InvalidTransition, Payable, PaymentAction, PaymentStatus, collection_postings,
    reversal_postings, settlement_postings, spread_in_order,
};
use quittance_domain::{Currency, FieldError, MinorUnits};

/// Why a payment write was refused.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PaymentError {
    #[error(transparent)]
    Field(#[from] FieldError),
    #[error(transparent)]
    Transition(#[from] InvalidTransition),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllocationRecord {
    pub sub_account_id: SubAccountId,
    pub amount: MinorUnits,
    pub captured: MinorUnits,
    pub refunded: MinorUnits,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRecord {
    pub id: PaymentId,
    pub organization_id: OrganizationId,
    pub account_id: AccountId,
    pub payment_method_id: Option<PaymentMethodId>,
    pub method_type: MethodType,
    pub brand: Option<CardBrand>,
    pub last4: String,
    pub currency: Currency,
    pub amount: MinorUnits,
    pub amount_captured: MinorUnits,
    pub amount_refunded: MinorUnits,
    pub capture: bool,
    pub status: PaymentStatus,
    pub description: Option<String>,
    pub decline_code: Option<String>,
    pub processor_reference: Option<String>,
    pub account_balance_after: Option<MinorUnits>,
    pub settlement_id: Option<SettlementId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The plan installment the scheduler charged with this payment.
    pub installment_id: Option<InstallmentId>,
    pub allocations: Vec<AllocationRecord>,
}

impl PaymentRecord {
    /// Each allocation's captured amount less what was already given back.
    fn unrefunded_shares(&self) -> Vec<(SubAccountId, MinorUnits)> {
        self.allocations
            .iter()
            .map(|a| {
                (
                    a.sub_account_id.clone(),
                    MinorUnits::new(a.captured.get() - a.refunded.get()),
                )
            })
            .collect()
    }
}

/// A payment about to be sent to the processor.
#[derive(Debug, Clone)]
pub struct NewPayment {
    pub id: PaymentId,
    pub organization_id: OrganizationId,
    pub account_id: AccountId,
    pub payment_method_id: Option<PaymentMethodId>,
    pub method_type: MethodType,
    pub brand: Option<CardBrand>,
    pub last4: String,
    pub amount: MinorUnits,
    pub capture: bool,
    pub description: Option<String>,
    pub idempotency_ref: Option<String>,
    /// Explicit allocations, or `None` for oldest open sub-account first.
    pub allocations: Option<Vec<Allocation>>,
    pub installment_id: Option<InstallmentId>,
}

const COLUMNS: &str = "id, organization_id, account_id, payment_method_id, method_type, brand, last4, currency, \
    amount, amount_captured, amount_refunded, capture, status, description, decline_code, processor_reference, \
    account_balance_after, settlement_id, created_at, updated_at, installment_id";

fn decode(row: &Row) -> Result<PaymentRecord, StoreError> {
    Ok(PaymentRecord {
        id: parsed(row, 0, PaymentId::parse, "payment id")?,
        organization_id: parsed(row, 1, OrganizationId::parse, "organization id")?,
        account_id: parsed(row, 2, AccountId::parse, "account id")?,
        payment_method_id: opt_parsed(row, 3, PaymentMethodId::parse)?,
        method_type: decode_enum(row, 4, MethodType::parse)?,
        brand: opt_parsed(row, 5, CardBrand::parse)?,
        last4: row.string(6)?,
        currency: currency(row, 7)?,
        amount: MinorUnits::new(row.i64(8)?),
        amount_captured: MinorUnits::new(row.i64(9)?),
        amount_refunded: MinorUnits::new(row.i64(10)?),
        capture: row.bool(11)?,
        status: decode_enum(row, 12, PaymentStatus::parse)?,
        description: row.opt_string(13)?,
        decline_code: row.opt_string(14)?,
        processor_reference: row.opt_string(15)?,
        account_balance_after: row.opt_i64(16)?.map(MinorUnits::new),
        settlement_id: opt_parsed(row, 17, SettlementId::parse)?,
        created_at: instant(row, 18)?,
        updated_at: instant(row, 19)?,
        installment_id: opt_parsed(row, 20, InstallmentId::parse)?,
        allocations: Vec::new(),
    })
}

async fn with_allocations(
    tx: &mut dyn Tx,
    mut p: PaymentRecord,
) -> Result<PaymentRecord, StoreError> {
    let rows = tx
        .query(
            "SELECT sub_account_id, amount, captured, refunded FROM payment_allocations
             WHERE payment_id = $1 ORDER BY position",
            &params![p.id.as_str()],
        )
        .await?;
    p.allocations = rows
        .iter()
        .map(|r| {
            Ok(AllocationRecord {
                sub_account_id: parsed(r, 0, SubAccountId::parse, "sub-account id")?,
                amount: MinorUnits::new(r.i64(1)?),
                captured: MinorUnits::new(r.i64(2)?),
                refunded: MinorUnits::new(r.i64(3)?),
            })
        })
        .collect::<Result<_, StoreError>>()?;
    Ok(p)
}

pub async fn get_payment(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    id: &PaymentId,
) -> Result<PaymentRecord, StoreError> {
    let row = tx
        .query_one(
            &format!("SELECT {COLUMNS} FROM payments WHERE organization_id = $1 AND id = $2"),
            &params![org.as_str(), id.as_str()],
        )
        .await?;
    with_allocations(tx, decode(&row)?).await
}

/// The payment a request with this idempotency reference created, if it got that far.
pub async fn find_by_idempotency_ref(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    reference: &str,
) -> Result<Option<PaymentRecord>, StoreError> {
    let row = tx
        .query_opt(
            &format!(
                "SELECT {COLUMNS} FROM payments WHERE organization_id = $1 AND idempotency_ref = $2"
            ),
            &params![org.as_str(), reference],
        )
        .await?;
    match row {
        None => Ok(None),
        Some(row) => Ok(Some(with_allocations(tx, decode(&row)?).await?)),
    }
}

/// Locks the payment's row for the rest of the transaction and reads it.
async fn lock(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    id: &PaymentId,
) -> Result<PaymentRecord, StoreError> {
    let touched = tx
        .execute(
            "UPDATE payments SET updated_at = updated_at WHERE organization_id = $1 AND id = $2",
            &params![org.as_str(), id.as_str()],
        )
        .await?;
    if touched == 0 {
        return Err(StoreError::NotFound);
    }
    get_payment(tx, org, id).await
}

/// The account's open sub-accounts, oldest first, with what each can still be paid.
pub async fn payables(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    account: &AccountId,
) -> Result<Vec<(Payable, Currency)>, StoreError> {
    let rows = tx
        .query(
            "SELECT id, balance - held, currency FROM sub_accounts
             WHERE organization_id = $1 AND account_id = $2 AND status = 'open'
             ORDER BY created_at, id",
            &params![org.as_str(), account.as_str()],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok((
                Payable {
                    sub_account_id: parsed(r, 0, SubAccountId::parse, "sub-account id")?,
                    available: MinorUnits::new(r.i64(1)?),
                },
                currency(r, 2)?,
            ))
        })
        .collect()
}

/// Writes a pending payment and holds its allocations against the sub-accounts, refusing any
/// that would take a sub-account below zero (counting what other open payments hold).
pub async fn insert_pending(
    tx: &mut dyn Tx,
    new: &NewPayment,
    now: DateTime<Utc>,
) -> Result<PaymentRecord, PaymentError> {
    let org = &new.organization_id;
    let payables = payables(tx, org, &new.account_id).await?;
    let allocations = match &new.allocations {
        Some(given) => given.clone(),
        None => {
            let open: Vec<Payable> = payables.iter().map(|(p, _)| p.clone()).collect();
            quittance_domain::payments::allocate_oldest_first(new.amount, &open)?
        }
    };
    let mut payment_currency = None;
    for (i, a) in allocations.iter().enumerate() {
        let Some((payable, cur)) = payables
            .iter()
            .find(|(p, _)| p.sub_account_id == a.sub_account_id)
        else {
            return Err(FieldError::new(
                format!("allocations[{i}].sub_account_id"),
                "is not an open sub-account of this account",
            )
            .into());
        };
        if a.amount > payable.available {
            return Err(FieldError::new(
                format!("allocations[{i}].amount"),
                format!(
                    "is more than the sub-account's payable balance ({})",
                    payable.available.format(*cur)
                ),
            )
            .into());
        }
        if payment_currency.is_some_and(|c| c != *cur) {
            return Err(FieldError::new(
                "allocations",
                "name sub-accounts in different currencies",
            )
            .into());
        }
        payment_currency = Some(*cur);
    }
    let Some(currency) = payment_currency else {
        return Err(FieldError::new("amount", "must be greater than zero").into());
    };
    tx.execute(
        &format!(
            "INSERT INTO payments ({COLUMNS}, idempotency_ref) VALUES
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, 0, $10, 'pending', $11, NULL, NULL, NULL, NULL, $12, $12, $14, $13)"
        ),
        &params![
            new.id.as_str(),
            org.as_str(),
            new.account_id.as_str(),
            new.payment_method_id.as_ref().map(PaymentMethodId::as_str),
            new.method_type.as_str(),
            new.brand.map(CardBrand::as_str),
            &new.last4,
            currency.code(),
            new.amount.get(),
            new.capture,
            &new.description,
            micros(now),
            &new.idempotency_ref,
            new.installment_id.as_ref().map(InstallmentId::as_str)
        ],
    )
    .await?;
    for (position, a) in allocations.iter().enumerate() {
        // The conditional update is the guard: under concurrency it is what refuses.
        let held = tx
            .execute(
                "UPDATE sub_accounts SET held = held + $3
                 WHERE organization_id = $1 AND id = $2 AND balance - held >= $3",
                &params![org.as_str(), a.sub_account_id.as_str(), a.amount.get()],
            )
            .await?;
        if held == 0 {
            return Err(FieldError::new(
                format!("allocations[{position}].amount"),
                "is more than the sub-account's payable balance",
            )
            .into());
        }
        tx.execute(
            "INSERT INTO payment_allocations (payment_id, position, organization_id, sub_account_id, amount)
             VALUES ($1, $2, $3, $4, $5)",
            &params![
                new.id.as_str(),
                position as i64,
                org.as_str(),
                a.sub_account_id.as_str(),
                a.amount.get()
            ],
        )
        .await?;
    }
    Ok(get_payment(tx, org, &new.id).await?)
}

async fn release_holds(tx: &mut dyn Tx, p: &PaymentRecord) -> Result<(), StoreError> {
    for a in &p.allocations {
        tx.execute(
            "UPDATE sub_accounts SET held = held - $2 WHERE id = $1",
            &params![a.sub_account_id.as_str(), a.amount.get()],
        )
        .await?;
    }
    Ok(())
}

/// Turns `captured` of the payment's money into collected money: allocations are paid in
/// order, holds released, balances lowered through the ledger.
async fn collect(
    tx: &mut dyn Tx,
    p: &PaymentRecord,
    captured: MinorUnits,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    release_holds(tx, p).await?;
    let limits: Vec<MinorUnits> = p.allocations.iter().map(|a| a.amount).collect();
    let shares = spread_in_order(captured, &limits);
    let mut paid = Vec::new();
    for (position, (a, share)) in p.allocations.iter().zip(&shares).enumerate() {
        tx.execute(
            "UPDATE payment_allocations SET captured = $3 WHERE payment_id = $1 AND position = $2",
            &params![p.id.as_str(), position as i64, share.get()],
        )
        .await?;
        paid.push((a.sub_account_id.clone(), *share));
    }
    ledger::post(
        tx,
        &p.organization_id,
        "capture",
        Some(&p.id),
        p.currency,
        &collection_postings(&paid),
        now,
    )
    .await?;
    let balance = tx
        .query_one(
            "SELECT balance FROM accounts WHERE id = $1",
            &params![p.account_id.as_str()],
        )
        .await?
        .i64(0)?;
    tx.execute(
        "UPDATE payments SET amount_captured = $2, account_balance_after = $3 WHERE id = $1",
        &params![p.id.as_str(), captured.get(), balance],
    )
    .await?;
    Ok(())
}

async fn set_status(
    tx: &mut dyn Tx,
    id: &PaymentId,
    status: PaymentStatus,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE payments SET status = $2, updated_at = $3 WHERE id = $1",
        &params![id.as_str(), status.as_str(), micros(now)],
    )
    .await
    .map(drop)
}

/// What the processor said to an authorization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationResult {
    /// `Authorize`, `AuthorizeAndCapture`, `Decline`, `Fail` or `LoseTrack`.
    pub action: PaymentAction,
    pub processor_reference: Option<String>,
    pub decline_code: Option<String>,
}

/// Records the processor's answer to the authorization. A payment whose outcome is already
/// known (another process or an earlier attempt recorded it) is returned unchanged, with
/// `false`.
pub async fn record_authorization(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    id: &PaymentId,
    result: &AuthorizationResult,
    now: DateTime<Utc>,
) -> Result<(PaymentRecord, bool), PaymentError> {
    let p = lock(tx, org, id).await?;
    if !matches!(p.status, PaymentStatus::Pending | PaymentStatus::Unknown) {
        return Ok((p, false));
    }
    let next = p.status.apply(result.action)?;
    if next == p.status {
        return Ok((p, false));
    }
    match next {
        PaymentStatus::Captured => collect(tx, &p, p.amount, now).await?,
        PaymentStatus::Declined | PaymentStatus::Error => release_holds(tx, &p).await?,
        _ => {}
    }
    tx.execute(
        "UPDATE payments SET processor_reference = COALESCE($2, processor_reference), decline_code = $3
         WHERE id = $1",
        &params![
            id.as_str(),
            &result.processor_reference,
            &result.decline_code
        ],
    )
    .await?;
    set_status(tx, id, next, now).await?;
    Ok((get_payment(tx, org, id).await?, true))
}

/// Checks that the payment can be captured for `amount` (default: all of it), before the
/// processor is asked.
pub fn capturable(
    p: &PaymentRecord,
    amount: Option<MinorUnits>,
) -> Result<MinorUnits, PaymentError> {
    p.status.apply(PaymentAction::Capture)?;
    let amount = amount.unwrap_or(p.amount);
    if amount.get() <= 0 || amount > p.amount {
        return Err(FieldError::new(
            "amount",
            format!(
                "must be more than zero and at most the authorized {}",
                p.amount.format(p.currency)
            ),
        )
        .into());
    }
    Ok(amount)
}

/// Records a capture the processor confirmed for `amount`.
pub async fn record_capture(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    id: &PaymentId,
    amount: MinorUnits,
    now: DateTime<Utc>,
) -> Result<PaymentRecord, PaymentError> {
    let p = lock(tx, org, id).await?;
    let amount = capturable(&p, Some(amount))?;
    let next = p.status.apply(PaymentAction::Capture)?;
    collect(tx, &p, amount, now).await?;
    set_status(tx, id, next, now).await?;
    Ok(get_payment(tx, org, id).await?)
}

/// Checks that the payment can be voided: authorized, or captured, unsettled and unrefunded.
pub fn voidable(p: &PaymentRecord) -> Result<(), PaymentError> {
    p.status.apply(PaymentAction::Void)?;
    if p.amount_refunded.get() > 0 {
        return Err(InvalidTransition {
            from: PaymentStatus::PartiallyRefunded,
            action: PaymentAction::Void,
        }
        .into());
    }
    Ok(())
}

/// Records a void the processor confirmed: holds released, or collected money given back.
pub async fn record_void(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    id: &PaymentId,
    now: DateTime<Utc>,
) -> Result<PaymentRecord, PaymentError> {
    let p = lock(tx, org, id).await?;
    voidable(&p)?;
    let next = p.status.apply(PaymentAction::Void)?;
    if p.status == PaymentStatus::Authorized {
        release_holds(tx, &p).await?;
    } else {
        give_back(tx, &p, "void", &p.unrefunded_shares(), now).await?;
    }
    set_status(tx, id, next, now).await?;
    Ok(get_payment(tx, org, id).await?)
}

/// Restores the sub-accounts' balances by `shares` through the ledger.
async fn give_back(
    tx: &mut dyn Tx,
    p: &PaymentRecord,
    kind: &str,
    shares: &[(SubAccountId, MinorUnits)],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    ledger::post(
        tx,
        &p.organization_id,
        kind,
        Some(&p.id),
        p.currency,
        &reversal_postings(shares),
        now,
    )
    .await
    .map(drop)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRecord {
    pub id: RefundId,
    pub payment_id: PaymentId,
    pub amount: MinorUnits,
    pub currency: Currency,
    pub reason: Option<String>,
    /// `pending` until the processor confirms, then `succeeded` or `failed`.
    pub status: String,
    pub created_at: DateTime<Utc>,
}

/// Reserves a refund before the processor is asked: the refunded total rises at once (so
/// concurrent refunds can never exceed what was captured), balances are restored, and the
/// refund waits as `pending` for the processor's answer.
pub async fn reserve_refund(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    payment_id: &PaymentId,
    refund_id: &RefundId,
    amount: Option<MinorUnits>,
    reason: Option<String>,
    now: DateTime<Utc>,
) -> Result<(PaymentRecord, RefundRecord), PaymentError> {
    let p = lock(tx, org, payment_id).await?;
    let left = MinorUnits::new(p.amount_captured.get() - p.amount_refunded.get());
    let amount = amount.unwrap_or(left);
    let next = p.status.apply(PaymentAction::Refund {
        leaves_nothing: amount == left,
    })?;
    if amount.get() <= 0 || amount > left {
        return Err(FieldError::new(
            "amount",
            format!(
                "must be more than zero and at most the {} not yet refunded",
                left.format(p.currency)
            ),
        )
        .into());
    }
    // Given back from the last allocation first.
    let shares = p.unrefunded_shares();
    let limits: Vec<MinorUnits> = shares.iter().rev().map(|(_, a)| *a).collect();
    let spread: Vec<MinorUnits> = spread_in_order(amount, &limits).into_iter().rev().collect();
    let mut refunded = Vec::new();
    for (position, ((sub, _), share)) in shares.iter().zip(&spread).enumerate() {
        if share.get() > 0 {
            tx.execute(
                "UPDATE payment_allocations SET refunded = refunded + $3 WHERE payment_id = $1 AND position = $2",
                &params![payment_id.as_str(), position as i64, share.get()],
            )
            .await?;
            refunded.push((sub.clone(), *share));
        }
    }
    tx.execute(
        "UPDATE payments SET amount_refunded = amount_refunded + $2 WHERE id = $1",
        &params![payment_id.as_str(), amount.get()],
    )
    .await?;
    give_back(tx, &p, "refund", &refunded, now).await?;
    set_status(tx, payment_id, next, now).await?;
    let shares_text = refunded
        .iter()
        .map(|(sub, a)| format!("{sub}:{}", a.get()))
        .collect::<Vec<_>>()
        .join(",");
    tx.execute(
        "INSERT INTO refunds (id, organization_id, payment_id, amount, reason, status, shares, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $7)",
        &params![
            refund_id.as_str(),
            org.as_str(),
            payment_id.as_str(),
            amount.get(),
            &reason,
            shares_text,
            micros(now)
        ],
    )
    .await?;
    let refund = get_refund(tx, org, refund_id).await?;
    Ok((get_payment(tx, org, payment_id).await?, refund))
}

/// Records the processor's answer to a reserved refund. A refused refund is taken back
/// exactly: the refunded totals fall again and the balances it restored are collected again.
pub async fn settle_refund(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    refund_id: &RefundId,
    succeeded: bool,
    now: DateTime<Utc>,
) -> Result<RefundRecord, StoreError> {
    let refund = get_refund(tx, org, refund_id).await?;
    if refund.status != "pending" {
        return Ok(refund);
    }
    let p = lock(tx, org, &refund.payment_id).await?;
    if !succeeded {
        let shares_text = tx
            .query_one(
                "SELECT shares FROM refunds WHERE id = $1",
                &params![refund_id.as_str()],
            )
            .await?
            .string(0)?;
        let mut shares = Vec::new();
        for part in shares_text.split(',').filter(|s| !s.is_empty()) {
            let (sub, amount) = part
                .split_once(':')
                .and_then(|(s, a)| Some((SubAccountId::parse(s)?, a.parse::<i64>().ok()?)))
                .ok_or_else(|| StoreError::Decode(format!("bad refund share {part:?}")))?;
            tx.execute(
                "UPDATE payment_allocations SET refunded = refunded - $3 WHERE payment_id = $1 AND sub_account_id = $2",
                &params![p.id.as_str(), sub.as_str(), amount],
            )
            .await?;
            shares.push((sub, MinorUnits::new(amount)));
        }
        ledger::post(
            tx,
            org,
            "refund_refused",
            Some(&p.id),
            p.currency,
            &collection_postings(&shares),
            now,
        )
        .await?;
        let refunded = p.amount_refunded.get() - refund.amount.get();
        // Taking a refund back is not a new event in the payment's life: it restores the
        // status the refund replaced.
        let status = match (refunded, &p.settlement_id) {
            (0, Some(_)) => PaymentStatus::Settled,
            (0, None) => PaymentStatus::Captured,
            _ => PaymentStatus::PartiallyRefunded,
        };
        tx.execute(
            "UPDATE payments SET amount_refunded = $2 WHERE id = $1",
            &params![p.id.as_str(), refunded],
        )
        .await?;
        set_status(tx, &p.id, status, now).await?;
    }
    tx.execute(
        "UPDATE refunds SET status = $2, updated_at = $3 WHERE id = $1",
        &params![
            refund_id.as_str(),
            if succeeded { "succeeded" } else { "failed" },
            micros(now)
        ],
    )
    .await?;
    get_refund(tx, org, refund_id).await
}

const REFUND_COLUMNS: &str =
    "r.id, r.payment_id, r.amount, p.currency, r.reason, r.status, r.created_at";

fn decode_refund(row: &Row) -> Result<RefundRecord, StoreError> {
    Ok(RefundRecord {
        id: parsed(row, 0, RefundId::parse, "refund id")?,
        payment_id: parsed(row, 1, PaymentId::parse, "payment id")?,
        amount: MinorUnits::new(row.i64(2)?),
        currency: currency(row, 3)?,
        reason: row.opt_string(4)?,
        status: row.string(5)?,
        created_at: instant(row, 6)?,
    })
}

pub async fn get_refund(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    id: &RefundId,
) -> Result<RefundRecord, StoreError> {
    let row = tx
        .query_one(
            &format!(
                "SELECT {REFUND_COLUMNS} FROM refunds r JOIN payments p ON p.id = r.payment_id
                 WHERE r.organization_id = $1 AND r.id = $2"
            ),
            &params![org.as_str(), id.as_str()],
        )
        .await?;
    decode_refund(&row)
}

pub async fn list_refunds(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    payment: &PaymentId,
) -> Result<Vec<RefundRecord>, StoreError> {
    let rows = tx
        .query(
            &format!(
                "SELECT {REFUND_COLUMNS} FROM refunds r JOIN payments p ON p.id = r.payment_id
                 WHERE r.organization_id = $1 AND r.payment_id = $2 ORDER BY r.id"
            ),
            &params![org.as_str(), payment.as_str()],
        )
        .await?;
    rows.iter().map(decode_refund).collect()
}

/// Money the processor took back after the fact (an ACH return or a chargeback): what was
/// captured and not refunded goes back to the sub-accounts.
pub async fn record_reversal(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    id: &PaymentId,
    action: PaymentAction,
    code: Option<&str>,
    now: DateTime<Utc>,
) -> Result<PaymentRecord, PaymentError> {
    let p = lock(tx, org, id).await?;
    let next = p.status.apply(action)?;
    let kind = if action == PaymentAction::Return {
        "ach_return"
    } else {
        "chargeback"
    };
    give_back(tx, &p, kind, &p.unrefunded_shares(), now).await?;
    tx.execute(
        "UPDATE payments SET decline_code = COALESCE($2, decline_code) WHERE id = $1",
        &params![id.as_str(), code],
    )
    .await?;
    set_status(tx, id, next, now).await?;
    Ok(get_payment(tx, org, id).await?)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettlementRecord {
    pub id: SettlementId,
    pub currency: Currency,
    pub payment_count: i64,
    pub amount: MinorUnits,
    pub created_at: DateTime<Utc>,
    pub payments: Vec<PaymentId>,
}

/// Closes a settlement batch per currency: every captured (or partly refunded) payment not
/// yet settled and captured before `cutoff` moves to settled, and the net amount moves from
/// processor clearing to settled funds.
pub async fn settle(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    cutoff: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<SettlementRecord>, StoreError> {
    let rows = tx
        .query(
            "SELECT id, currency, amount_captured - amount_refunded, status FROM payments
             WHERE organization_id = $1 AND settlement_id IS NULL AND created_at < $2
               AND status IN ('captured', 'partially_refunded')
             ORDER BY currency, id",
            &params![org.as_str(), micros(cutoff)],
        )
        .await?;
    let mut batches: Vec<SettlementRecord> = Vec::new();
    for r in &rows {
        let (id, cur) = (
            parsed(r, 0, PaymentId::parse, "payment id")?,
            currency(r, 1)?,
        );
        let net = r.i64(2)?;
        let status = decode_enum(r, 3, PaymentStatus::parse)?;
        if batches.last().is_none_or(|b| b.currency != cur) {
            batches.push(SettlementRecord {
                id: SettlementId::generate(),
                currency: cur,
                payment_count: 0,
                amount: MinorUnits::ZERO,
                created_at: now,
                payments: Vec::new(),
            });
        }
        let Some(batch) = batches.last_mut() else {
            continue;
        };
        batch.payment_count += 1;
        batch.amount = MinorUnits::new(batch.amount.get() + net);
        // A partly refunded payment keeps its status (the refund is the news); it is settled
        // all the same.
        let next = match status.apply(PaymentAction::Settle) {
            Ok(next) if status == PaymentStatus::Captured => next,
            _ => status,
        };
        tx.execute(
            "UPDATE payments SET settlement_id = $2, status = $3, updated_at = $4 WHERE id = $1",
            &params![id.as_str(), batch.id.as_str(), next.as_str(), micros(now)],
        )
        .await?;
        batch.payments.push(id);
    }
    for b in &batches {
        tx.execute(
            "INSERT INTO settlements (id, organization_id, currency, payment_count, amount, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &params![
                b.id.as_str(),
                org.as_str(),
                b.currency.code(),
                b.payment_count,
                b.amount.get(),
                micros(now)
            ],
        )
        .await?;
        ledger::post(
            tx,
            org,
            "settlement",
            None,
            b.currency,
            &settlement_postings(b.amount),
            now,
        )
        .await?;
    }
    Ok(batches)
}

/// Organizations with captured payments waiting for a settlement before `cutoff`.
pub async fn organizations_to_settle(
    tx: &mut dyn Tx,
    cutoff: DateTime<Utc>,
) -> Result<Vec<OrganizationId>, StoreError> {
    let rows = tx
        .query(
            "SELECT DISTINCT organization_id FROM payments
             WHERE settlement_id IS NULL AND status IN ('captured', 'partially_refunded') AND created_at < $1",
            &params![micros(cutoff)],
        )
        .await?;
    rows.iter()
        .map(|r| parsed(r, 0, OrganizationId::parse, "organization id"))
        .collect()
}

/// Payments whose authorization outcome is still open after `before`: a crash between the
/// processor call and the write, or an unknown answer. The reconciler asks again.
pub async fn unresolved_payments(
    tx: &mut dyn Tx,
    before: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<(OrganizationId, PaymentId)>, StoreError> {
    let rows = tx
        .query(
            "SELECT organization_id, id FROM payments
             WHERE status IN ('pending', 'unknown') AND updated_at < $1 ORDER BY updated_at LIMIT $2",
            &params![micros(before), limit],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok((
                parsed(r, 0, OrganizationId::parse, "organization id")?,
                parsed(r, 1, PaymentId::parse, "payment id")?,
            ))
        })
        .collect()
}

/// Refunds still waiting for the processor's answer after `before`.
pub async fn unresolved_refunds(
    tx: &mut dyn Tx,
    before: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<(OrganizationId, RefundRecord)>, StoreError> {
    let rows = tx
        .query(
            &format!(
                "SELECT {REFUND_COLUMNS}, r.organization_id FROM refunds r JOIN payments p ON p.id = r.payment_id
                 WHERE r.status = 'pending' AND r.updated_at < $1 ORDER BY r.updated_at LIMIT $2"
            ),
            &params![micros(before), limit],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok((
                parsed(r, 7, OrganizationId::parse, "organization id")?,
                decode_refund(r)?,
            ))
        })
        .collect()
}

/// Filters for the payments list and report.
#[derive(Debug, Clone, Default)]
pub struct PaymentFilter {
    pub account_id: Option<AccountId>,
    pub client_id: Option<ClientId>,
    pub status: Option<PaymentStatus>,
    pub method_type: Option<MethodType>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_before: Option<DateTime<Utc>>,
}

fn conditions(org: &OrganizationId, f: &PaymentFilter) -> Conditions {
    let mut c = Conditions::new("p.organization_id = ?", org.as_str().into());
    if let Some(a) = &f.account_id {
        c.and("p.account_id = ?", a.as_str().into());
    }
    if let Some(client) = &f.client_id {
        c.and(
            "EXISTS (SELECT 1 FROM payment_allocations a JOIN sub_accounts s ON s.id = a.sub_account_id
                     WHERE a.payment_id = p.id AND s.client_id = ?)",
            client.as_str().into(),
        );
    }
    if let Some(s) = f.status {
        c.and("p.status = ?", s.as_str().into());
    }
    if let Some(m) = f.method_type {
        c.and("p.method_type = ?", m.as_str().into());
    }
    if let Some(t) = f.created_from {
        c.and("p.created_at >= ?", micros(t).into());
    }
    if let Some(t) = f.created_before {
        c.and("p.created_at < ?", micros(t).into());
    }
    c
}

/// How many payments match.
pub async fn count_payments(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    filter: &PaymentFilter,
) -> Result<i64, StoreError> {
    let c = conditions(org, filter);
    tx.query_one(
        &format!("SELECT COUNT(*) FROM payments p WHERE {}", c.sql()),
        &c.args,
    )
    .await?
    .i64(0)
}

/// One page of payments, oldest first.
pub async fn list_payments(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    filter: &PaymentFilter,
    page: PageRequest,
) -> Result<Paged<PaymentRecord>, StoreError> {
    let total = count_payments(tx, org, filter).await?;
    let mut c = conditions(org, filter);
    let limit = c.bind(Param::from(page.per_page));
    let offset = c.bind(Param::from(page.offset()));
    let columns = prefixed(COLUMNS);
    let rows = tx
        .query(
            &format!(
                "SELECT {columns} FROM payments p WHERE {} ORDER BY p.id LIMIT {limit} OFFSET {offset}",
                c.sql()
            ),
            &c.args,
        )
        .await?;
    let mut items = Vec::with_capacity(rows.len());
    for row in &rows {
        items.push(with_allocations(tx, decode(row)?).await?);
    }
    Ok(Paged { items, total })
}

fn prefixed(columns: &str) -> String {
    columns
        .split(',')
        .map(|c| format!("p.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A payments report row: the payment with its account's number and owner, and the
/// sub-accounts and clients it paid.
#[derive(Debug, Clone)]
pub struct ReportRow {
    pub payment: PaymentRecord,
    pub account_number: String,
    pub owner_name: String,
    pub sub_account_references: Vec<String>,
    pub client_names: Vec<String>,
}

/// Report rows after `after` (by payment id), up to `limit`: the CSV export walks the
/// whole selection this way without holding it in memory.
pub async fn report_rows(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    filter: &PaymentFilter,
    after: Option<&PaymentId>,
    page: Option<PageRequest>,
    limit: i64,
) -> Result<Vec<ReportRow>, StoreError> {
    let mut c = conditions(org, filter);
    if let Some(after) = after {
        c.and("p.id > ?", after.as_str().into());
    }
    let limit = c.bind(Param::from(limit));
    let offset = c.bind(Param::from(page.map_or(0, PageRequest::offset)));
    let columns = prefixed(COLUMNS);
    let rows = tx
        .query(
            &format!(
                "SELECT {columns}, acc.account_number,
                        TRIM(COALESCE(acc.first_name, '') || ' ' || COALESCE(acc.last_name, ''))
                 FROM payments p JOIN accounts acc ON acc.id = p.account_id
                 WHERE {} ORDER BY p.id LIMIT {limit} OFFSET {offset}",
                c.sql()
            ),
            &c.args,
        )
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let payment = with_allocations(tx, decode(row)?).await?;
        let paid = tx
            .query(
                "SELECT s.reference, cl.name FROM payment_allocations a
                 JOIN sub_accounts s ON s.id = a.sub_account_id
                 LEFT JOIN clients cl ON cl.id = s.client_id
                 WHERE a.payment_id = $1 ORDER BY a.position",
                &params![payment.id.as_str()],
            )
            .await?;
        let mut sub_account_references = Vec::new();
        let mut client_names: Vec<String> = Vec::new();
        for r in &paid {
            sub_account_references.push(r.string(0)?);
            if let Some(name) = r.opt_string(1)?
                && !client_names.contains(&name)
            {
                client_names.push(name);
            }
        }
        out.push(ReportRow {
            account_number: row.string(21)?,
            owner_name: row.string(22)?,
            payment,
            sub_account_references,
            client_names,
        });
    }
    Ok(out)
}

/// Whether any payment was made on the account (such an account cannot be deleted).
pub async fn account_has_payments(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    account: &AccountId,
) -> Result<bool, StoreError> {
    Ok(tx
        .query_opt(
            "SELECT 1 FROM payments WHERE organization_id = $1 AND account_id = $2 LIMIT 1",
            &params![org.as_str(), account.as_str()],
        )
        .await?
        .is_some())
}
