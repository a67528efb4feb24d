//! How money moves: each operation writes what it is about to do, asks the processor with no
//! database transaction open, then writes the answer with its ledger entries and event.
//!
//! A crash at any point loses nothing and charges nothing twice:
//! - a payment is written `pending` (with its holds) before the processor is asked, under the
//!   request's idempotency reference; a retry with the same key finds it and asks again, and
//!   the processor answers the first outcome for the same payment id;
//! - a refund is reserved before the processor is asked, so concurrent refunds cannot exceed
//!   the captured amount; one left pending is finished by the reconciler;
//! - a payment whose outcome stayed open (a crash, or a processor timeout: `unknown`) is asked
//!   about again by the reconciler, which learns the truth.

use crate::App;
use crate::error::{OrNotFound, ServiceError, ServiceResult};
use crate::events;
use crate::processor::{AuthorizeRequest, Instrument, Outcome, ProcessorError};
use crate::resources::payments::PaymentResponse;
use crate::wire::AmountText;
use chrono::{DateTime, Datelike, Utc};
use quittance_domain::events::EventType;
use quittance_domain::ids::{
    AccountId, InstallmentId, OrganizationId, PaymentId, PaymentMethodId, RefundId,
};
use quittance_domain::instruments::{
    BankAccount, BankAccountType, Card, CardBrand, MethodType, SensitiveDigits,
};
use quittance_domain::payments::{Allocation, PaymentAction, PaymentStatus};
use quittance_domain::{FieldError, MinorUnits};
use quittance_store::repo::payments::{
    self as store, AuthorizationResult, NewPayment, PaymentError, PaymentRecord, RefundRecord,
    SettlementRecord,
};
use quittance_store::repo::{accounts, payment_methods};
use quittance_store::{StoreError, Tx};

/// What pays: a saved method, or a card or bank account used once and not kept.
#[derive(Debug, Clone)]
pub enum Source {
    Saved(PaymentMethodId),
    Card(Card),
    Bank(BankAccount),
}

#[derive(Debug, Clone)]
pub struct PaymentRequest {
    pub account_id: AccountId,
    pub amount: MinorUnits,
    pub source: Source,
    pub allocations: Option<Vec<Allocation>>,
    pub capture: bool,
    pub description: Option<String>,
    /// Ties the payment to the request's `Idempotency-Key` (or the scheduler's try at an
    /// installment).
    pub idempotency_ref: Option<String>,
    pub installment_id: Option<InstallmentId>,
}

/// The instrument, opened from the vault when saved.
enum Opened {
    Card(Card),
    Bank(BankAccount),
}

impl Opened {
    fn instrument(&self) -> Instrument<'_> {
        match self {
            Opened::Card(c) => Instrument::Card(c),
            Opened::Bank(b) => Instrument::Bank(b),
        }
    }
}

/// Loads a saved method of `account` and opens its number.
async fn open_saved(
    state: &App,
    org: &OrganizationId,
    account: &AccountId,
    id: &PaymentMethodId,
) -> ServiceResult<Opened> {
    let (o, i) = (org.clone(), id.clone());
    let method = state
        .db
        .read(move |tx| {
            Box::pin(async move { payment_methods::get_payment_method(tx, &o, &i).await })
        })
        .await
        .or_not_found_in("payment method", id.as_str(), "payment_method_id")?;
    if &method.account_id != account {
        return Err(FieldError::new("payment_method_id", "belongs to another account").into());
    }
    let number = state
        .vault
        .open(method.id.as_str(), &method.number)
        .map_err(|e| ServiceError::internal(format!("vault: {e}")))?;
    Ok(match method.method_type {
        MethodType::Card => Opened::Card(Card {
            number: SensitiveDigits::new(number),
            brand: method.brand.unwrap_or(CardBrand::Visa),
            exp_month: u32::try_from(method.exp_month.unwrap_or(1)).unwrap_or(1),
            exp_year: i32::try_from(method.exp_year.unwrap_or(2000)).unwrap_or(2000),
            cvv: state.first_cvv.take(&method.id),
            holder_name: method.holder_name,
            billing_zip: method.billing_zip,
        }),
        MethodType::Ach => Opened::Bank(BankAccount {
            routing_number: method.routing_number.unwrap_or_default(),
            account_number: SensitiveDigits::new(number),
            account_type: method.account_type.unwrap_or(BankAccountType::Checking),
            holder_name: method.holder_name,
        }),
    })
}

/// `POST /v1/payments`: writes the payment pending, asks the processor, records the answer.
pub async fn create_payment(
    state: &App,
    org: &OrganizationId,
    request: PaymentRequest,
) -> ServiceResult<PaymentRecord> {
    let opened = match &request.source {
        Source::Saved(id) => open_saved(state, org, &request.account_id, id).await?,
        Source::Card(c) => Opened::Card(c.clone()),
        Source::Bank(b) => Opened::Bank(b.clone()),
    };
    let (method_type, brand, last4) = match &opened {
        Opened::Card(c) => (MethodType::Card, Some(c.brand), c.number.last4()),
        Opened::Bank(b) => (MethodType::Ach, None, b.account_number.last4()),
    };
    let new = NewPayment {
        id: PaymentId::generate(),
        organization_id: org.clone(),
        account_id: request.account_id.clone(),
        payment_method_id: match &request.source {
            Source::Saved(id) => Some(id.clone()),
            _ => None,
        },
        method_type,
        brand,
        last4,
        amount: request.amount,
        capture: request.capture,
        description: request.description.clone(),
        idempotency_ref: request.idempotency_ref.clone(),
        allocations: request.allocations.clone(),
        installment_id: request.installment_id.clone(),
    };
    let now = state.clock.now();
    let account_id = request.account_id.clone();
    let payment = state
        .db
        .write(move |tx| {
            Box::pin(async move {
                if let Some(reference) = &new.idempotency_ref
                    && let Some(existing) =
                        store::find_by_idempotency_ref(tx, &new.organization_id, reference).await?
                {
                    return Ok(existing);
                }
                accounts::get_account(tx, &new.organization_id, &new.account_id).await?;
                let p = store::insert_pending(tx, &new, now).await?;
                payment_event(tx, EventType::PaymentInitiated, &p, now).await?;
                Ok::<_, PaymentError>(p)
            })
        })
        .await
        .map_err(|e| match e {
            PaymentError::Store(StoreError::NotFound) => {
                ServiceError::not_found("account", account_id.as_str()).with_param("account_id")
            }
            other => other.into(),
        })?;
    if !matches!(
        payment.status,
        PaymentStatus::Pending | PaymentStatus::Unknown
    ) {
        return Ok(payment);
    }
    let answer = state
        .processor
        .authorize(AuthorizeRequest {
            reference: &payment.id,
            amount: payment.amount,
            currency: payment.currency,
            capture: payment.capture,
            instrument: opened.instrument(),
        })
        .await;
    record_answer(state, &payment, answer).await
}

/// Writes the processor's answer to an authorization, with its event.
async fn record_answer(
    state: &App,
    payment: &PaymentRecord,
    answer: Result<Outcome, ProcessorError>,
) -> ServiceResult<PaymentRecord> {
    let result = match answer {
        Ok(Outcome::Approved {
            processor_reference,
            captured,
        }) => AuthorizationResult {
            action: if captured {
                PaymentAction::AuthorizeAndCapture
            } else {
                PaymentAction::Authorize
            },
            processor_reference: Some(processor_reference),
            decline_code: None,
        },
        Ok(Outcome::Declined { code }) => AuthorizationResult {
            action: PaymentAction::Decline,
            processor_reference: None,
            decline_code: Some(code),
        },
        Ok(Outcome::Failed { code }) => AuthorizationResult {
            action: PaymentAction::Fail,
            processor_reference: None,
            decline_code: Some(code),
        },
        Err(e) => {
            tracing::warn!(payment = %payment.id, error = %e, "processor outcome unknown");
            AuthorizationResult {
                action: PaymentAction::LoseTrack,
                processor_reference: None,
                decline_code: None,
            }
        }
    };
    let (org, id, now) = (
        payment.organization_id.clone(),
        payment.id.clone(),
        state.clock.now(),
    );
    Ok(state
        .db
        .write(move |tx| {
            Box::pin(async move {
                let (p, changed) = store::record_authorization(tx, &org, &id, &result, now).await?;
                if changed {
                    let event = match p.status {
                        PaymentStatus::Authorized | PaymentStatus::Captured => {
                            Some(EventType::PaymentApproved)
                        }
                        PaymentStatus::Declined => Some(EventType::PaymentDeclined),
                        PaymentStatus::Error => Some(EventType::PaymentError),
                        _ => None,
                    };
                    if let Some(event) = event {
                        payment_event(tx, event, &p, now).await?;
                    }
                }
                Ok::<_, PaymentError>(p)
            })
        })
        .await?)
}

async fn payment_event(
    tx: &mut dyn Tx,
    event: EventType,
    p: &PaymentRecord,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    events::record(
        tx,
        &p.organization_id,
        event,
        &PaymentResponse::from(p.clone()),
        now,
    )
    .await
    .map(drop)
}

/// One payment of the organization; another's, or none, is a 404.
pub async fn get_payment(
    state: &App,
    org: &OrganizationId,
    id: &PaymentId,
) -> ServiceResult<PaymentRecord> {
    let (o, i) = (org.clone(), id.clone());
    state
        .db
        .read(move |tx| Box::pin(async move { store::get_payment(tx, &o, &i).await }))
        .await
        .or_not_found("payment", id.as_str())
}

fn unavailable(e: ProcessorError) -> ServiceError {
    ServiceError::new(
        crate::error::ErrorClass::ServiceUnavailable,
        format!("{e}; nothing was changed, retry the request"),
    )
}

/// `POST /v1/payments/{id}/capture`, for `amount` in the payment's currency (default: all).
pub async fn capture(
    state: &App,
    org: &OrganizationId,
    id: &PaymentId,
    amount: Option<&AmountText>,
) -> ServiceResult<PaymentRecord> {
    let p = get_payment(state, org, id).await?;
    let amount = amount
        .map(|a| a.to_minor("amount", p.currency))
        .transpose()?;
    let amount = store::capturable(&p, amount)?;
    let captured = state
        .processor
        .capture(id, amount)
        .await
        .map_err(unavailable)?;
    let (o, i, now) = (org.clone(), id.clone(), state.clock.now());
    let p = state
        .db
        .write(move |tx| {
            Box::pin(async move {
                let p = store::record_capture(tx, &o, &i, captured, now).await?;
                payment_event(tx, EventType::PaymentApproved, &p, now).await?;
                Ok::<_, PaymentError>(p)
            })
        })
        .await
        .map_err(|e| not_found_as(e, id))?;
    Ok(p)
}

fn not_found_as(e: PaymentError, id: &PaymentId) -> ServiceError {
    match e {
        PaymentError::Store(StoreError::NotFound) => {
            ServiceError::not_found("payment", id.as_str())
        }
        other => other.into(),
    }
}

/// `POST /v1/payments/{id}/void`.
pub async fn void(
    state: &App,
    org: &OrganizationId,
    id: &PaymentId,
) -> ServiceResult<PaymentRecord> {
    let p = get_payment(state, org, id).await?;
    store::voidable(&p)?;
    state.processor.void(id).await.map_err(unavailable)?;
    let (o, i, now) = (org.clone(), id.clone(), state.clock.now());
    state
        .db
        .write(move |tx| {
            Box::pin(async move {
                let p = store::record_void(tx, &o, &i, now).await?;
                payment_event(tx, EventType::PaymentVoided, &p, now).await?;
                Ok::<_, PaymentError>(p)
            })
        })
        .await
        .map_err(|e| not_found_as(e, id))
}

/// `POST /v1/payments/{id}/refunds` (and the simple refund, which refunds what is left).
pub async fn refund(
    state: &App,
    org: &OrganizationId,
    id: &PaymentId,
    amount: Option<MinorUnits>,
    reason: Option<String>,
) -> ServiceResult<RefundRecord> {
    let refund_id = RefundId::generate();
    let (o, i, r, now) = (
        org.clone(),
        id.clone(),
        refund_id.clone(),
        state.clock.now(),
    );
    let (payment, refund) = state
        .db
        .write(move |tx| {
            Box::pin(async move {
                let (p, refund) =
                    store::reserve_refund(tx, &o, &i, &r, amount, reason, now).await?;
                payment_event(tx, EventType::PaymentRefunded, &p, now).await?;
                Ok::<_, PaymentError>((p, refund))
            })
        })
        .await
        .map_err(|e| not_found_as(e, id))?;
    finish_refund(state, &payment.organization_id, &refund).await
}

/// Asks the processor for a reserved refund and records its answer. If the processor cannot
/// be reached the refund stays pending, for the reconciler.
async fn finish_refund(
    state: &App,
    org: &OrganizationId,
    refund: &RefundRecord,
) -> ServiceResult<RefundRecord> {
    let accepted = match state
        .processor
        .refund(&refund.payment_id, &refund.id, refund.amount)
        .await
    {
        Ok(accepted) => accepted,
        Err(e) => {
            tracing::warn!(refund = %refund.id, error = %e, "refund left pending for the reconciler");
            return Ok(refund.clone());
        }
    };
    let (o, r, now) = (org.clone(), refund.id.clone(), state.clock.now());
    Ok(state
        .db
        .write(move |tx| {
            Box::pin(async move { store::settle_refund(tx, &o, &r, accepted, now).await })
        })
        .await?)
}

/// The sandbox's chargeback and ACH return, and the return an ACH debit brings after
/// settlement: money taken back after the fact.
pub async fn reverse(
    state: &App,
    org: &OrganizationId,
    id: &PaymentId,
    action: PaymentAction,
    code: Option<String>,
) -> ServiceResult<PaymentRecord> {
    let event = if action == PaymentAction::Return {
        EventType::PaymentReturned
    } else {
        EventType::PaymentChargeback
    };
    let (o, i, now) = (org.clone(), id.clone(), state.clock.now());
    state
        .db
        .write(move |tx| {
            Box::pin(async move {
                let p = store::record_reversal(tx, &o, &i, action, code.as_deref(), now).await?;
                payment_event(tx, event, &p, now).await?;
                Ok::<_, PaymentError>(p)
            })
        })
        .await
        .map_err(|e| not_found_as(e, id))
}

/// Closes the organization's settlement batches for payments made before `cutoff`, then
/// applies the ACH returns the processor reports for the payments just settled.
pub async fn settle(
    state: &App,
    org: &OrganizationId,
    cutoff: DateTime<Utc>,
) -> ServiceResult<Vec<SettlementRecord>> {
    let (o, now) = (org.clone(), state.clock.now());
    let (batches, ach) = state
        .db
        .write(move |tx| {
            Box::pin(async move {
                let batches = store::settle(tx, &o, cutoff, now).await?;
                let mut ach = Vec::new();
                for id in batches.iter().flat_map(|b| &b.payments) {
                    let p = store::get_payment(tx, &o, id).await?;
                    payment_event(tx, EventType::PaymentSettled, &p, now).await?;
                    if p.method_type == MethodType::Ach {
                        ach.push(p.id);
                    }
                }
                Ok::<_, StoreError>((batches, ach))
            })
        })
        .await?;
    for id in &ach {
        // The batch is committed: a return that cannot be applied is logged, not the
        // settlement's failure.
        match state.processor.ach_return(id).await {
            Ok(Some(code)) => {
                if let Err(e) = reverse(state, org, id, PaymentAction::Return, Some(code)).await {
                    tracing::warn!(payment = %id, error = %e.message(), "could not apply an ACH return");
                }
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(payment = %id, error = %e, "could not ask for ACH returns"),
        }
    }
    Ok(batches)
}

/// What one reconciler round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Reconciled {
    pub payments: usize,
    pub refunds: usize,
}

/// One round of the reconciler: payments whose outcome stayed open and refunds still pending
/// after `reconcile_after_seconds` are asked about again. A payment the processor never saw
/// (its process stopped before asking) becomes `error`, releasing its holds: nothing was
/// charged.
pub async fn reconcile_once(state: &App) -> Result<Reconciled, ServiceError> {
    let now = state.clock.now();
    let before = now
        - chrono::Duration::seconds(
            i64::try_from(state.config.reconcile_after_seconds).unwrap_or(60),
        );
    let (payments, refunds) = state
        .db
        .read(move |tx| {
            Box::pin(async move {
                Ok::<_, StoreError>((
                    store::unresolved_payments(tx, before, 500).await?,
                    store::unresolved_refunds(tx, before, 500).await?,
                ))
            })
        })
        .await?;
    let mut done = Reconciled::default();
    for (org, id) in payments {
        let answer = match state.processor.lookup(&id).await {
            Ok(Some(outcome)) => Ok(outcome),
            Ok(None) => Ok(Outcome::Failed {
                code: "not_sent".to_owned(),
            }),
            Err(e) => {
                tracing::warn!(payment = %id, error = %e, "reconciler could not ask");
                continue;
            }
        };
        let p = get_payment(state, &org, &id).await?;
        record_answer(state, &p, answer).await?;
        done.payments += 1;
    }
    for (org, refund) in refunds {
        finish_refund(state, &org, &refund).await?;
        done.refunds += 1;
    }
    Ok(done)
}

/// The daily close: at each UTC midnight, payments captured before it are settled.
pub async fn settle_daily(state: &App) -> Result<usize, ServiceError> {
    let now = state.clock.now();
    let Some(midnight) = now.date_naive().and_hms_opt(0, 0, 0).map(|t| t.and_utc()) else {
        return Ok(0);
    };
    debug_assert_eq!(midnight.day(), now.day());
    let orgs = state
        .db
        .read(move |tx| Box::pin(async move { store::organizations_to_settle(tx, midnight).await }))
        .await?;
    let mut closed = 0;
    for org in orgs {
        closed += settle(state, &org, midnight).await?.len();
    }
    Ok(closed)
}
