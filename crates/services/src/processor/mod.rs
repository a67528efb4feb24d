//! The processor boundary: what Quittance asks of whoever moves the money. Every call carries
//! Quittance's own id (the payment's, the refund's, or the disbursement's) as its idempotency
//! reference, so asking
//! twice never moves money twice. The sandbox processor is built in; real processors implement
//! the same trait.

pub mod sandbox;

use futures_util::future::BoxFuture;
use quittance_domain::ids::{DisbursementId, PaymentId, RefundId};
use quittance_domain::instruments::{BankAccount, Card};
use quittance_domain::{Currency, MinorUnits};

/// What is being charged.
#[derive(Debug, Clone, Copy)]
pub enum Instrument<'a> {
    Card(&'a Card),
    Bank(&'a BankAccount),
}

#[derive(Debug, Clone, Copy)]
pub struct AuthorizeRequest<'a> {
    pub reference: &'a PaymentId,
    pub amount: MinorUnits,
    pub currency: Currency,
    /// Capture at once (a sale) rather than authorize only.
    pub capture: bool,
    pub instrument: Instrument<'a>,
}

/// The processor's answer to an authorization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Approved {
        processor_reference: String,
        captured: bool,
    },
    Declined {
        code: String,
    },
    /// A processing error: nothing was charged.
    Failed {
        code: String,
    },
}

/// Where a disbursement (a push of money to a recipient) goes.
#[derive(Debug, Clone, Copy)]
pub enum Payee<'a> {
    Card(&'a Card),
    Bank(&'a BankAccount),
    /// A PayPal account, by its e-mail address.
    PayPal(&'a str),
}

#[derive(Debug, Clone, Copy)]
pub struct DisburseRequest<'a> {
    pub reference: &'a DisbursementId,
    pub amount: MinorUnits,
    pub currency: Currency,
    pub payee: Payee<'a>,
}

/// The processor's answer to a disbursement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payout {
    Paid {
        processor_reference: String,
    },
    /// Nothing was paid out.
    Refused {
        code: String,
    },
}

/// The call itself failed: the outcome is not known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProcessorError {
    #[error("the processor did not answer in time")]
    Timeout,
    #[error("the processor is unavailable: {0}")]
    Unavailable(String),
}

pub type ProcessorResult<'a, T> = BoxFuture<'a, Result<T, ProcessorError>>;

pub trait Processor: Send + Sync {
    /// Authorizes (and with `capture`, captures) a payment.
    fn authorize<'a>(&'a self, request: AuthorizeRequest<'a>) -> ProcessorResult<'a, Outcome>;
    /// Captures an authorized payment; answers the amount captured (a repeated call answers
    /// the first call's amount).
    fn capture<'a>(
        &'a self,
        payment: &'a PaymentId,
        amount: MinorUnits,
    ) -> ProcessorResult<'a, MinorUnits>;
    /// Cancels an authorization, or a capture not yet settled.
    fn void<'a>(&'a self, payment: &'a PaymentId) -> ProcessorResult<'a, ()>;
    /// Refunds part of a captured payment; `false` when the processor refuses.
    fn refund<'a>(
        &'a self,
        payment: &'a PaymentId,
        refund: &'a RefundId,
        amount: MinorUnits,
    ) -> ProcessorResult<'a, bool>;
    /// What became of an authorization, if the processor ever saw it.
    fn lookup<'a>(&'a self, payment: &'a PaymentId) -> ProcessorResult<'a, Option<Outcome>>;
    /// Verifies that an account exists and can be used (a zero-amount check), before it is
    /// tokenized on a hosted page; `false` when the account fails verification.
    fn verify_account<'a>(&'a self, instrument: Instrument<'a>) -> ProcessorResult<'a, bool>;
    /// The return code of an ACH debit that came back after settlement (`R01`), if it did.
    fn ach_return<'a>(&'a self, payment: &'a PaymentId) -> ProcessorResult<'a, Option<String>>;
    /// Pushes money to a recipient's account (a repeated call answers the first call's
    /// outcome and pays nothing more).
    fn disburse<'a>(&'a self, request: DisburseRequest<'a>) -> ProcessorResult<'a, Payout>;
    /// What became of a disbursement, if the processor ever saw it.
    fn payout_lookup<'a>(
        &'a self,
        disbursement: &'a DisbursementId,
    ) -> ProcessorResult<'a, Option<Payout>>;
    /// The return code of a disbursement that came back after it was paid out, if it did.
    fn payout_return<'a>(
        &'a self,
        disbursement: &'a DisbursementId,
    ) -> ProcessorResult<'a, Option<String>>;
}
