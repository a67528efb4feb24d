//! The sandbox processor: a test mode that behaves like a card and ACH processor, on by
//! default. It keeps its books in Quittance's database (`sandbox_operations`), so it remembers
//! every answer across restarts and never moves money twice for one reference.
//!
//! Test numbers (any future expiry, any CVV of the right length):
//!
//! | number | outcome |
//! |---|---|
//! | 4242424242424242, 5555555555554444, 378282246310005, 6011111111111117, 3566002020360505, 36227206271667, and any other valid card | approved |
//! | 4000000000000002 | declined, `card_declined` |
//! | 4000000000009995 | declined, `insufficient_funds` |
//! | 4000000000000119 | processing error, `processing_error` |
//! | 4000000000000408 | approved, but the answer times out: the payment is `unknown` until the reconciler asks again |
//!
//! ACH (routing number 110000000 or any valid one): every account settles, except account
//! number 000222222227, which comes back returned (`R01`) after settlement.
//!
//! Account verification (hosted pages, before an account is tokenized): card
//! 4000000000000002 and bank account number 000111111116 fail it; every other valid account
//! passes.
//!
//! Disbursements (IngoPay funding) follow the account behind the `customer_account_token`:
//! card 4000000000009995 is refused (`insufficient_funds`), card 4000000000000119 too
//! (`processing_error`), card 4000000000000408 is paid but its first answer times out, bank
//! account 000222222227 is paid and comes back returned (`R01`) when its return window is
//! checked; every other card, bank account and PayPal address is paid.

use super::{
    AuthorizeRequest, DisburseRequest, Instrument, Outcome, Payee, Payout, Processor,
    ProcessorError, ProcessorResult,
};
use quittance_domain::Clock;
use quittance_domain::MinorUnits;
use quittance_domain::ids::{DisbursementId, PaymentId, RefundId};
use quittance_store::repo::sandbox;
use quittance_store::{Db, StoreError};
use std::sync::Arc;

pub const DECLINE_CARD: &str = "4000000000000002";
pub const INSUFFICIENT_FUNDS_CARD: &str = "4000000000009995";
pub const PROCESSING_ERROR_CARD: &str = "4000000000000119";
pub const TIMEOUT_CARD: &str = "4000000000000408";
pub const RETURNED_ACH_ACCOUNT: &str = "000222222227";
pub const UNVERIFIABLE_ACH_ACCOUNT: &str = "000111111116";

pub struct SandboxProcessor {
    db: Db,
    clock: Arc<dyn Clock>,
}

impl SandboxProcessor {
    pub fn new(db: Db, clock: Arc<dyn Clock>) -> Self {
        Self { db, clock }
    }

    async fn record_once(
        &self,
        reference: &str,
        operation: &'static str,
        outcome: String,
        amount: MinorUnits,
    ) -> Result<sandbox::Recorded, ProcessorError> {
        let (reference, now) = (reference.to_owned(), self.clock.now());
        self.db
            .write(move |tx| {
                Box::pin(async move {
                    sandbox::record_once(tx, &reference, operation, &outcome, amount.get(), now)
                        .await
                })
            })
            .await
            .map_err(unavailable)
    }

    async fn lookup_operation(
        &self,
        reference: &str,
        operation: &'static str,
    ) -> Result<Option<sandbox::Recorded>, ProcessorError> {
        let reference = reference.to_owned();
        self.db
            .read(move |tx| {
                Box::pin(async move { sandbox::lookup(tx, &reference, operation).await })
            })
            .await
            .map_err(unavailable)
    }
}

fn unavailable(e: StoreError) -> ProcessorError {
    ProcessorError::Unavailable(e.to_string())
}

/// The sandbox's verdict for an instrument, as stored: `approved`, `approved;return=R01`,
/// `declined:<code>` or `failed:<code>`.
fn verdict(instrument: &Instrument<'_>) -> &'static str {
    match instrument {
        Instrument::Card(card) => match card.number.expose() {
            DECLINE_CARD => "declined:card_declined",
            INSUFFICIENT_FUNDS_CARD => "declined:insufficient_funds",
            PROCESSING_ERROR_CARD => "failed:processing_error",
            _ => "approved",
        },
        Instrument::Bank(bank) if bank.account_number.expose() == RETURNED_ACH_ACCOUNT => {
            "approved;return=R01"
        }
        Instrument::Bank(_) => "approved",
    }
}

/// The sandbox's verdict for a disbursement's payee, stored as [`verdict`] writes it.
fn payout_verdict(payee: &Payee<'_>) -> &'static str {
    match payee {
        Payee::Card(card) => verdict(&Instrument::Card(card)),
        Payee::Bank(bank) => verdict(&Instrument::Bank(bank)),
        Payee::PayPal(_) => "approved",
    }
}

fn stored_payout(reference: &str, stored: &str) -> Payout {
    match stored_outcome(reference, stored) {
        Outcome::Approved {
            processor_reference,
            ..
        } => Payout::Paid {
            processor_reference,
        },
        Outcome::Declined { code } | Outcome::Failed { code } => Payout::Refused { code },
    }
}

/// The return code in a stored verdict (`approved;return=R01`).
fn return_code(stored: &str) -> Option<String> {
    stored
        .split(';')
        .find_map(|part| part.strip_prefix("return="))
        .map(str::to_owned)
}

/// Reads a stored verdict back: `<verdict>;<sale|authorization>[;return=R01]`.
fn stored_outcome(reference: &str, stored: &str) -> Outcome {
    let verdict = stored.split(';').next().unwrap_or_default();
    if let Some(code) = verdict.strip_prefix("declined:") {
        Outcome::Declined {
            code: code.to_owned(),
        }
    } else if let Some(code) = verdict.strip_prefix("failed:") {
        Outcome::Failed {
            code: code.to_owned(),
        }
    } else {
        Outcome::Approved {
            processor_reference: format!(
                "sbx_{}",
                reference.rsplit('_').next().unwrap_or(reference)
            ),
            captured: stored.split(';').any(|part| part == "sale"),
        }
    }
}

impl Processor for SandboxProcessor {
    fn authorize<'a>(&'a self, request: AuthorizeRequest<'a>) -> ProcessorResult<'a, Outcome> {
        Box::pin(async move {
            let reference = request.reference.as_str();
            let kind = if request.capture {
                "sale"
            } else {
                "authorization"
            };
            let recorded = self
                .record_once(
                    reference,
                    "authorization",
                    format!("{};{kind}", verdict(&request.instrument)),
                    request.amount,
                )
                .await?;
            let timeout_card = matches!(request.instrument,
                Instrument::Card(card) if card.number.expose() == TIMEOUT_CARD);
            if timeout_card && recorded.attempts == 1 {
                // The money moved, but the answer is lost on the way back.
                return Err(ProcessorError::Timeout);
            }
            Ok(stored_outcome(reference, &recorded.outcome))
        })
    }

    fn capture<'a>(
        &'a self,
        payment: &'a PaymentId,
        amount: MinorUnits,
    ) -> ProcessorResult<'a, MinorUnits> {
        Box::pin(async move {
            let recorded = self
                .record_once(payment.as_str(), "capture", "captured".to_owned(), amount)
                .await?;
            Ok(MinorUnits::new(recorded.amount))
        })
    }

    fn void<'a>(&'a self, payment: &'a PaymentId) -> ProcessorResult<'a, ()> {
        Box::pin(async move {
            self.record_once(
                payment.as_str(),
                "void",
                "voided".to_owned(),
                MinorUnits::ZERO,
            )
            .await
            .map(drop)
        })
    }

    fn refund<'a>(
        &'a self,
        _payment: &'a PaymentId,
        refund: &'a RefundId,
        amount: MinorUnits,
    ) -> ProcessorResult<'a, bool> {
        Box::pin(async move {
            self.record_once(refund.as_str(), "refund", "refunded".to_owned(), amount)
                .await
                .map(|_| true)
        })
    }

    fn lookup<'a>(&'a self, payment: &'a PaymentId) -> ProcessorResult<'a, Option<Outcome>> {
        Box::pin(async move {
            Ok(self
                .lookup_operation(payment.as_str(), "authorization")
                .await?
                .map(|r| stored_outcome(payment.as_str(), &r.outcome)))
        })
    }

    fn verify_account<'a>(&'a self, instrument: Instrument<'a>) -> ProcessorResult<'a, bool> {
        let verified = match instrument {
            Instrument::Card(card) => card.number.expose() != DECLINE_CARD,
            Instrument::Bank(bank) => bank.account_number.expose() != UNVERIFIABLE_ACH_ACCOUNT,
        };
        Box::pin(async move { Ok(verified) })
    }

    fn ach_return<'a>(&'a self, payment: &'a PaymentId) -> ProcessorResult<'a, Option<String>> {
        Box::pin(async move {
            Ok(self
                .lookup_operation(payment.as_str(), "authorization")
                .await?
                .and_then(|r| return_code(&r.outcome)))
        })
    }

    fn disburse<'a>(&'a self, request: DisburseRequest<'a>) -> ProcessorResult<'a, Payout> {
        Box::pin(async move {
            let reference = request.reference.as_str();
            let recorded = self
                .record_once(
                    reference,
                    "disbursement",
                    payout_verdict(&request.payee).to_owned(),
                    request.amount,
                )
                .await?;
            let timeout_card = matches!(request.payee,
                Payee::Card(card) if card.number.expose() == TIMEOUT_CARD);
            if timeout_card && recorded.attempts == 1 {
                return Err(ProcessorError::Timeout);
            }
            Ok(stored_payout(reference, &recorded.outcome))
        })
    }

    fn payout_lookup<'a>(
        &'a self,
        disbursement: &'a DisbursementId,
    ) -> ProcessorResult<'a, Option<Payout>> {
        Box::pin(async move {
            Ok(self
                .lookup_operation(disbursement.as_str(), "disbursement")
                .await?
                .map(|r| stored_payout(disbursement.as_str(), &r.outcome)))
        })
    }

    fn payout_return<'a>(
        &'a self,
        disbursement: &'a DisbursementId,
    ) -> ProcessorResult<'a, Option<String>> {
        Box::pin(async move {
            Ok(self
                .lookup_operation(disbursement.as_str(), "disbursement")
                .await?
                .and_then(|r| return_code(&r.outcome)))
        })
    }
}
