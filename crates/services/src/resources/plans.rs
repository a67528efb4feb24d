//! Payment plans and their installments as the event log records them and `/v1` answers them.

use super::{date, datetime};
use crate::wire::Amount;
use quittance_domain::Currency;
use quittance_domain::plans::InstallmentStatus;
use quittance_store::repo::plans::{InstallmentRecord, PlanRecord};
use serde::Serialize;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InstallmentResponse {
    pub id: Option<String>,
    pub seq: i64,
    /// `down_payment` or `installment`.
    pub kind: String,
    /// `YYYY-MM-DD` in the organization's time zone. A down payment is due at activation.
    pub due_date: Option<String>,
    #[schema(value_type = f64)]
    pub amount: Amount,
    /// scheduled, retry_scheduled, processing, paid, missed or canceled.
    pub status: String,
    /// Declined tries so far.
    pub attempts: i64,
    pub payment_id: Option<String>,
}

pub fn installment_response(
    i: InstallmentRecord,
    currency: Currency,
    preview: bool,
) -> InstallmentResponse {
    InstallmentResponse {
        id: (!preview).then(|| i.id.to_string()),
        seq: i.seq,
        kind: i.kind.clone(),
        due_date: (i.kind != "down_payment"
            || i.status != InstallmentStatus::Scheduled
            || i.attempts > 0)
            .then(|| date(Some(i.due_date)))
            .flatten(),
        amount: Amount::new(i.amount, currency),
        status: i.status.as_str().to_owned(),
        attempts: i.attempts,
        payment_id: i.payment_id.map(|p| p.to_string()),
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PlanResponse {
    /// Absent in a preview.
    pub id: Option<String>,
    pub account_id: String,
    pub payment_method_id: String,
    /// inactive, active, completed, defaulted or canceled.
    pub status: String,
    pub currency: String,
    #[schema(value_type = f64)]
    pub total_amount: Amount,
    #[schema(value_type = Option<f64>)]
    pub installment_amount: Option<Amount>,
    pub installment_count: Option<i64>,
    pub frequency: String,
    pub start_date: String,
    #[schema(value_type = Option<f64>)]
    pub down_payment: Option<Amount>,
    pub sub_account_ids: Vec<String>,
    /// Installments missed so far (out of retries).
    pub missed_installments: i64,
    pub installments: Vec<InstallmentResponse>,
    pub created_at: String,
    pub updated_at: String,
}

impl PlanResponse {
    pub fn new(p: PlanRecord, installments: Vec<InstallmentRecord>) -> Self {
        Self::build(p, installments, false)
    }

    pub fn build(p: PlanRecord, installments: Vec<InstallmentRecord>, preview: bool) -> Self {
        let c = p.currency;
        PlanResponse {
            id: (!preview).then(|| p.id.to_string()),
            account_id: p.account_id.to_string(),
            payment_method_id: p.payment_method_id.to_string(),
            status: p.status.as_str().to_owned(),
            currency: c.code().to_owned(),
            total_amount: Amount::new(p.total_amount, c),
            installment_amount: p.installment_amount.map(|a| Amount::new(a, c)),
            installment_count: p.installment_count,
            frequency: p.frequency.as_str().to_owned(),
            start_date: p.start_date.format("%Y-%m-%d").to_string(),
            down_payment: p.down_payment.map(|a| Amount::new(a, c)),
            sub_account_ids: p.sub_account_ids.iter().map(ToString::to_string).collect(),
            missed_installments: p.missed,
            installments: installments
                .into_iter()
                .map(|i| installment_response(i, c, preview))
                .collect(),
            created_at: datetime(p.created_at),
            updated_at: datetime(p.updated_at),
        }
    }
}
