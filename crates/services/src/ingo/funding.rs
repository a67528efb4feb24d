//! IngoPay funding: a signed request pushes an amount to a `customer_account_token` captured on
//! the hosted page (a disbursement), through the processor, in three steps like a payment:
//! written pending (under the participant's idempotency key) before the processor is asked,
//! asked with no transaction open, then the answer written with its ledger transaction and
//! event. A crash between the steps leaves a pending disbursement; a retry with the same key
//! asks again, and so does the reconciler, and the processor answers the first outcome for the
//! same disbursement id: nothing is paid twice.

use super::hosted::destination;
use super::sessions::{CreateError, Signed, check_key, remember, stored_key};
use super::validation::{Checker, FieldErrors, display_name};
use crate::App;
use crate::error::{OrNotFound, ServiceError, ServiceResult};
use crate::processor::{DisburseRequest, Payee, Payout, ProcessorError};
use crate::wire::{Amount, AmountText};
use chrono::{DateTime, Duration, Utc};
use quittance_domain::events::EventType;
use quittance_domain::ids::{DisbursementId, OrganizationId};
use quittance_domain::instruments::{
    BankAccount, BankAccountType, Card, CardBrand, SensitiveDigits,
};
use quittance_domain::{Currency, MinorUnits};
use quittance_store::repo::disbursements::{self as store, Disbursement, Recorded, status};
use quittance_store::repo::ingo::{self, CapturedAccount};
use quittance_store::{StoreError, Tx};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The largest single disbursement: 1,000,000.00.
pub const MAX_AMOUNT: MinorUnits = MinorUnits::new(100_000_000);
/// How long after it is paid out a disbursement can still come back (an ACH return).
pub const RETURN_WINDOW: Duration = Duration::days(1);

/// A valid funding request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FundingRequest {
    pub customer_account_token: String,
    pub amount: MinorUnits,
    pub currency: Currency,
    pub description: Option<String>,
}

/// Only the amount, read from the body's exact text (never through a float).
#[derive(Deserialize)]
struct AmountField {
    #[serde(default)]
    amount: Option<AmountText>,
}

/// Checks a funding request's body; every failing field is reported at once.
pub fn validate(body: &[u8]) -> Result<FundingRequest, FieldErrors> {
    let mut c = Checker::default();
    let Ok(top) = serde_json::from_slice::<Map<String, Value>>(body) else {
        c.fail(
            "$",
            "The JSON value could not be converted to FundingRequest.".to_owned(),
        );
        return Err(c.errors);
    };
    let token = c.text(&top, "", "customer_account_token", true, 36);
    let currency = match c.text(&top, "", "currency", false, 3) {
        None => Some(Currency::USD),
        Some(code) if code.eq_ignore_ascii_case("USD") => Some(Currency::USD),
        Some(_) => {
            c.fail("currency", "The field Currency must be USD.".to_owned());
            None
        }
    };
    let description = c.text(&top, "", "description", false, 255);
    let amount = match serde_json::from_slice::<AmountField>(body) {
        Err(_) => {
            c.fail(
                "amount",
                "The JSON value could not be converted to System.Decimal. Path: $.amount"
                    .to_owned(),
            );
            None
        }
        Ok(AmountField { amount: None }) => {
            c.fail(
                "amount",
                format!("The {} field is required.", display_name("amount")),
            );
            None
        }
        Ok(AmountField { amount: Some(text) }) => match MinorUnits::parse(&text.0, Currency::USD) {
            Ok(minor) if minor.get() > 0 && minor <= MAX_AMOUNT => Some(minor),
            _ => {
                c.fail(
                        "amount",
                        format!(
                            "The field Amount must be between 0.01 and {} with at most 2 decimal places.",
                            MAX_AMOUNT.format(Currency::USD)
                        ),
                    );
                None
            }
        },
    };
    match (token, amount, currency) {
        (Some(customer_account_token), Some(amount), Some(currency)) if c.errors.is_empty() => {
            Ok(FundingRequest {
                customer_account_token,
                amount,
                currency,
                description,
            })
        }
        _ => Err(c.errors),
    }
}

/// A disbursement as the participant, its events and its webhooks see it.
#[derive(Debug, Clone, Serialize)]
pub struct DisbursementView {
    pub disbursement_identifier: String,
    pub participant_id: i64,
    pub customer_account_token: String,
    pub funding_destination: String,
    pub amount: Amount,
    pub currency: &'static str,
    pub description: Option<String>,
    /// pending, succeeded, failed or returned.
    pub status: String,
    /// Why it failed or came back (`insufficient_funds`, `R01`).
    pub failure_code: Option<String>,
    pub processor_reference: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&Disbursement> for DisbursementView {
    fn from(d: &Disbursement) -> Self {
        DisbursementView {
            disbursement_identifier: d.id.to_string(),
            participant_id: d.participant_id,
            customer_account_token: d.customer_account_token.clone(),
            funding_destination: d.funding_destination.clone(),
            amount: Amount::new(d.amount, d.currency),
            currency: d.currency.code(),
            description: d.description.clone(),
            status: d.status.clone(),
            failure_code: d.failure_code.clone(),
            processor_reference: d.processor_reference.clone(),
            created_at: crate::resources::datetime(d.created_at),
            updated_at: crate::resources::datetime(d.updated_at),
        }
    }
}

/// A new disbursement, or the one the idempotency key names (asked again if still pending).
pub enum Funded {
    New(DisbursementView),
    Idempotent(DisbursementView),
}

/// What the write before the processor call found.
enum Staged {
    New(Disbursement, Box<CapturedAccount>),
    Existing(Disbursement),
}

fn unknown_token() -> CreateError {
    let mut errors = FieldErrors::new();
    errors.insert(
        "customer_account_token".to_owned(),
        vec![
            "The CustomerAccountToken field does not name an account of this participant."
                .to_owned(),
        ],
    );
    CreateError::Invalid(errors)
}

/// Pushes the request's amount to its account, or answers what the key already did.
pub async fn create(
    app: &App,
    signed: &Signed,
    key: Option<&str>,
    request: &FundingRequest,
) -> Result<Funded, CreateError> {
    check_key(key)?;
    let participant = signed.participant.participant_id;
    let parameters = (
        &request.customer_account_token,
        request.amount.get(),
        request.currency.code(),
        &request.description,
    );
    let fingerprint = app.hasher.hash(
        &serde_json::to_string(&parameters).map_err(|e| ServiceError::internal(e.to_string()))?,
    );
    // Two requests with one new key at once (PostgreSQL): the second's insert conflicts, and
    // its retry finds the first's disbursement.
    let mut attempt = 0;
    let staged = loop {
        attempt += 1;
        let now = app.clock.now();
        let (signature, key_owned, request, fingerprint) = (
            signed.signature.clone(),
            stored_key(app, key),
            request.clone(),
            fingerprint.clone(),
        );
        let outcome = app
            .db
            .write(move |tx| {
                Box::pin(async move {
                    remember(tx, &signature, now).await?;
                    if let Some(key) = &key_owned
                        && let Some(existing) = store::by_key(tx, participant, key).await?
                    {
                        if existing.fingerprint != fingerprint {
                            return Err(CreateError::Mismatch);
                        }
                        return Ok(Staged::Existing(existing));
                    }
                    let account =
                        match ingo::get_account(tx, participant, &request.customer_account_token)
                            .await
                        {
                            Err(StoreError::NotFound) => return Err(unknown_token()),
                            other => other?,
                        };
                    let d = Disbursement {
                        id: DisbursementId::generate(),
                        organization_id: account.organization_id.clone(),
                        participant_id: participant,
                        customer_account_token: account.id.clone(),
                        funding_destination: account.funding_destination.clone(),
                        amount: request.amount,
                        currency: request.currency,
                        description: request.description.clone(),
                        idempotency_key: key_owned,
                        fingerprint,
                        status: status::PENDING.to_owned(),
                        failure_code: None,
                        processor_reference: None,
                        paid_transaction_id: None,
                        return_transaction_id: None,
                        checked_at: None,
                        created_at: now,
                        updated_at: now,
                    };
                    store::insert(tx, &d).await?;
                    Ok(Staged::New(d, Box::new(account)))
                })
            })
            .await;
        match outcome {
            Err(CreateError::Service(e))
                if attempt < 3
                    && e.class() == crate::error::ErrorClass::Conflict
                    && key.is_some() => {}
            other => break other?,
        }
    };
    let (d, account, new) = match staged {
        Staged::New(d, account) => (d, Some(*account), true),
        Staged::Existing(d) => (d, None, false),
    };
    let d = if d.status == status::PENDING {
        pay_out(app, &d, account).await?
    } else {
        d
    };
    let view = DisbursementView::from(&d);
    Ok(if new {
        Funded::New(view)
    } else {
        Funded::Idempotent(view)
    })
}

/// The account behind a token, opened from the vault as the processor's payee.
enum OpenedPayee {
    Card(Card),
    Bank(BankAccount),
    PayPal(String),
}

impl OpenedPayee {
    fn payee(&self) -> Payee<'_> {
        match self {
            OpenedPayee::Card(c) => Payee::Card(c),
            OpenedPayee::Bank(b) => Payee::Bank(b),
            OpenedPayee::PayPal(address) => Payee::PayPal(address),
        }
    }
}

fn open_payee(app: &App, account: &CapturedAccount) -> ServiceResult<OpenedPayee> {
    let number = app
        .vault
        .open_stored(&account.id, &account.sealed_number)
        .map_err(|e| ServiceError::internal(format!("captured account: {e}")))?;
    Ok(match account.funding_destination.as_str() {
        destination::PAYPAL => OpenedPayee::PayPal(number),
        destination::BANK_ACCOUNT => OpenedPayee::Bank(BankAccount {
            routing_number: account.routing_number.clone().unwrap_or_default(),
            account_number: SensitiveDigits::new(number),
            account_type: BankAccountType::Checking,
            holder_name: String::new(),
        }),
        _ => OpenedPayee::Card(Card {
            brand: account
                .brand
                .as_deref()
                .and_then(CardBrand::parse)
                .unwrap_or(CardBrand::Visa),
            number: SensitiveDigits::new(number),
            exp_month: u32::try_from(account.exp_month.unwrap_or(12)).unwrap_or(12),
            exp_year: i32::try_from(account.exp_year.unwrap_or(2099)).unwrap_or(2099),
            cvv: None,
            holder_name: String::new(),
            billing_zip: None,
        }),
    })
}

/// Asks the processor to pay a pending disbursement out and records the answer. When the call
/// itself fails (a timeout), the disbursement stays pending for the reconciler.
async fn pay_out(
    app: &App,
    d: &Disbursement,
    account: Option<CapturedAccount>,
) -> ServiceResult<Disbursement> {
    let account = match account {
        Some(a) => a,
        None => {
            let (participant, token) = (d.participant_id, d.customer_account_token.clone());
            app.db
                .read(move |tx| {
                    Box::pin(async move { ingo::get_account(tx, participant, &token).await })
                })
                .await?
        }
    };
    let payee = open_payee(app, &account)?;
    let answer = app
        .processor
        .disburse(DisburseRequest {
            reference: &d.id,
            amount: d.amount,
            currency: d.currency,
            payee: payee.payee(),
        })
        .await;
    match answer {
        Ok(payout) => record(app, &d.id, payout).await,
        Err(e @ (ProcessorError::Timeout | ProcessorError::Unavailable(_))) => {
            tracing::warn!(disbursement = %d.id, error = %e, "disbursement outcome not known yet");
            Ok(d.clone())
        }
    }
}

async fn event(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    kind: EventType,
    d: &Disbursement,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    crate::events::record(tx, org, kind, &DisbursementView::from(d), now)
        .await
        .map(drop)
}

/// Writes the processor's answer, its ledger transaction and its event, once.
async fn record(app: &App, id: &DisbursementId, payout: Payout) -> ServiceResult<Disbursement> {
    let (id, now) = (id.clone(), app.clock.now());
    let answer = match payout {
        Payout::Paid {
            processor_reference,
        } => Ok(processor_reference),
        Payout::Refused { code } => Err(code),
    };
    app.db
        .write(move |tx| {
            Box::pin(async move {
                let Recorded {
                    disbursement,
                    changed,
                } = store::record_answer(tx, &id, answer, now).await?;
                if changed {
                    let kind = if disbursement.status == status::SUCCEEDED {
                        EventType::DisbursementSucceeded
                    } else {
                        EventType::DisbursementFailed
                    };
                    event(tx, &disbursement.organization_id, kind, &disbursement, now).await?;
                }
                Ok::<_, StoreError>(disbursement)
            })
        })
        .await
        .map_err(Into::into)
}

/// A disbursement of the participant, as it stands.
pub async fn get(app: &App, participant_id: i64, id: &str) -> ServiceResult<DisbursementView> {
    let wanted = id.to_owned();
    let d = app
        .db
        .read(move |tx| {
            Box::pin(async move { store::get(tx, Some(participant_id), &wanted).await })
        })
        .await
        .or_not_found("disbursement", id)?;
    Ok(DisbursementView::from(&d))
}

/// What one round of the disbursement reconciler did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Reconciled {
    /// Pending disbursements whose outcome was learnt.
    pub resolved: usize,
    /// Paid-out disbursements whose return window was closed (returned or not).
    pub checked: usize,
}

/// One round: disbursements still pending after `reconcile_after_seconds` are asked about
/// again (one the processor never saw fails as `not_sent`: nothing was paid), and paid-out ones
/// older than [`RETURN_WINDOW`] are asked whether they came back.
pub async fn reconcile_once(app: &App) -> ServiceResult<Reconciled> {
    let now = app.clock.now();
    let pending_before =
        now - Duration::seconds(i64::try_from(app.config.reconcile_after_seconds).unwrap_or(60));
    let paid_before = now - RETURN_WINDOW;
    let (pending, paid) = app
        .db
        .read(move |tx| {
            Box::pin(async move {
                Ok::<_, StoreError>((
                    store::unresolved(tx, pending_before, 500).await?,
                    store::due_for_return_check(tx, paid_before, 500).await?,
                ))
            })
        })
        .await?;
    let mut done = Reconciled::default();
    for id in pending {
        let payout = match app.processor.payout_lookup(&id).await {
            Ok(Some(payout)) => payout,
            Ok(None) => Payout::Refused {
                code: "not_sent".to_owned(),
            },
            Err(e) => {
                tracing::warn!(disbursement = %id, error = %e, "reconciler could not ask");
                continue;
            }
        };
        record(app, &id, payout).await?;
        done.resolved += 1;
    }
    for id in paid {
        let code = match app.processor.payout_return(&id).await {
            Ok(code) => code,
            Err(e) => {
                tracing::warn!(disbursement = %id, error = %e, "could not ask for returns");
                continue;
            }
        };
        let now = app.clock.now();
        app.db
            .write(move |tx| {
                Box::pin(async move {
                    let Recorded {
                        disbursement,
                        changed,
                    } = store::record_return_check(tx, &id, code, now).await?;
                    if changed && disbursement.status == status::RETURNED {
                        let org = disbursement.organization_id.clone();
                        event(
                            tx,
                            &org,
                            EventType::DisbursementReturned,
                            &disbursement,
                            now,
                        )
                        .await?;
                    }
                    Ok::<_, StoreError>(())
                })
            })
            .await?;
        done.checked += 1;
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(body: &str) -> FieldErrors {
        validate(body.as_bytes()).expect_err("invalid")
    }

    #[test]
    fn amounts_are_read_exactly_from_numbers_and_strings() {
        let ok = |body: &str| validate(body.as_bytes()).expect("valid").amount.get();
        assert_eq!(ok(r#"{"customer_account_token":"t","amount":25.1}"#), 2_510);
        assert_eq!(ok(r#"{"customer_account_token":"t","amount":"0.01"}"#), 1);
        assert_eq!(
            ok(r#"{"customer_account_token":"t","amount":"1000000.00"}"#),
            100_000_000
        );
    }

    #[test]
    fn every_failing_field_is_reported_at_once() {
        let e = errors(r#"{"amount":"0.001","currency":"EUR"}"#);
        assert_eq!(
            e["customer_account_token"],
            ["The CustomerAccountToken field is required."]
        );
        assert_eq!(e["currency"], ["The field Currency must be USD."]);
        assert!(e["amount"][0].starts_with("The field Amount must be between 0.01"));
        for amount in ["0", "-5", "1000000.01", "\"ten\""] {
            let e = errors(&format!(
                r#"{{"customer_account_token":"t","amount":{amount}}}"#
            ));
            assert!(e.contains_key("amount"), "{amount}: {e:?}");
        }
        assert_eq!(
            errors(r#"{"customer_account_token":"t","amount":true}"#)["amount"],
            ["The JSON value could not be converted to System.Decimal. Path: $.amount"]
        );
        assert_eq!(
            errors(r#"{"customer_account_token":"t"}"#)["amount"],
            ["The Amount field is required."]
        );
        assert!(errors("[1]").contains_key("$"));
    }
}
