//! Payments as the event log records them and `/v1` answers them.

use super::datetime;
use crate::wire::Amount;
use quittance_store::repo::payments::PaymentRecord;
use serde::Serialize;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MethodSummary {
    /// `card` or `ach`.
    #[serde(rename = "type")]
    pub method_type: String,
    pub brand: Option<String>,
    pub last4: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AllocationResponse {
    pub sub_account_id: String,
    #[schema(value_type = f64)]
    pub amount: Amount,
    #[schema(value_type = f64)]
    pub captured: Amount,
    #[schema(value_type = f64)]
    pub refunded: Amount,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PaymentResponse {
    pub id: String,
    pub account_id: String,
    pub payment_method_id: Option<String>,
    /// pending, authorized, captured, declined, voided, refunded, partially_refunded,
    /// returned, charged_back, settled, error or unknown.
    pub status: String,
    #[schema(value_type = f64, example = 100.5)]
    pub amount: Amount,
    #[schema(value_type = f64)]
    pub amount_captured: Amount,
    #[schema(value_type = f64)]
    pub amount_refunded: Amount,
    pub currency: String,
    pub capture: bool,
    pub method: MethodSummary,
    pub description: Option<String>,
    /// Why the processor declined or failed it (`card_declined`, `insufficient_funds`,
    /// `processing_error`), or an ACH return code (`R01`).
    pub decline_code: Option<String>,
    pub processor_reference: Option<String>,
    pub allocations: Vec<AllocationResponse>,
    /// The master account's balance right after the capture.
    #[schema(value_type = Option<f64>)]
    pub account_balance_after: Option<Amount>,
    pub settlement_id: Option<String>,
    /// The payment plan installment this payment charged, when the scheduler made it.
    pub installment_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<PaymentRecord> for PaymentResponse {
    fn from(p: PaymentRecord) -> Self {
        let c = p.currency;
        PaymentResponse {
            id: p.id.to_string(),
            account_id: p.account_id.to_string(),
            payment_method_id: p.payment_method_id.map(|m| m.to_string()),
            status: p.status.as_str().to_owned(),
            amount: Amount::new(p.amount, c),
            amount_captured: Amount::new(p.amount_captured, c),
            amount_refunded: Amount::new(p.amount_refunded, c),
            currency: c.code().to_owned(),
            capture: p.capture,
            method: MethodSummary {
                method_type: p.method_type.as_str().to_owned(),
                brand: p.brand.map(|b| b.as_str().to_owned()),
                last4: p.last4,
            },
            description: p.description,
            decline_code: p.decline_code,
            processor_reference: p.processor_reference,
            allocations: p
                .allocations
                .into_iter()
                .map(|a| AllocationResponse {
                    sub_account_id: a.sub_account_id.to_string(),
                    amount: Amount::new(a.amount, c),
                    captured: Amount::new(a.captured, c),
                    refunded: Amount::new(a.refunded, c),
                })
                .collect(),
            account_balance_after: p.account_balance_after.map(|b| Amount::new(b, c)),
            settlement_id: p.settlement_id.map(|s| s.to_string()),
            installment_id: p.installment_id.map(|i| i.to_string()),
            created_at: datetime(p.created_at),
            updated_at: datetime(p.updated_at),
        }
    }
}
