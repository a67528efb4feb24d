//! Proposals: a program priced fee line by fee line for a month of card activity.

use super::documents::{Kind, Stored};
use super::programs::{Feature, StoredProgram};
use crate::error::{ServiceError, ServiceResult};
use quittance_pricing::{Activity, CostModel, Decimal, Leaf, activity_text, fee_text, price};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ActivityRow {
    /// Visa, Mastercard, Discover, American Express or PIN Debit.
    #[serde(rename = "type")]
    pub brand: String,
    pub volume: String,
    pub transactions: String,
}

/// One leaf's activity, kept for the fee lines (the credit/debit split).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LeafRow {
    pub leaf: String,
    pub volume: String,
    pub items: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PricedRow {
    pub name: String,
    pub internal_name: String,
    pub amount: String,
    pub monthly_amount: String,
    pub applies: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredProposal {
    /// The prospect a simple proposal was made for; none for a statement analysis's.
    pub prospect_id: Option<String>,
    /// The statement analysis that made it, if one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statement_analysis_id: Option<String>,
    pub program_id: String,
    pub merchant_activity: Vec<ActivityRow>,
    pub leaves: Vec<LeafRow>,
    pub program_features: Vec<Feature>,
    pub proposed_fees: Vec<PricedRow>,
    pub total_fees: Option<String>,
}

impl Kind for StoredProposal {
    const KIND: &'static str = "proposal";
    const NAME: &'static str = "proposal";
}

/// A proposal of `program` for a month of `activity`.
pub fn priced_proposal(
    program: &Stored<StoredProgram>,
    activity: &Activity,
    costs: &CostModel,
    total_fees: Option<String>,
) -> ServiceResult<StoredProposal> {
    let costs = costs
        .estimate(activity)
        .map_err(|e| ServiceError::unprocessable("total_volume", e.to_string()))?;
    let priced = price(&program.body.lines()?, activity, &costs)
        .map_err(|e| ServiceError::unprocessable("total_volume", e.to_string()))?;
    Ok(StoredProposal {
        prospect_id: None,
        statement_analysis_id: None,
        program_id: program.id.clone(),
        merchant_activity: activity
            .brand_rows()
            .iter()
            .map(|row| ActivityRow {
                brand: row.name.to_owned(),
                volume: activity_text(row.volume),
                transactions: activity_text(Decimal::from(row.items)),
            })
            .collect(),
        leaves: Leaf::ALL
            .iter()
            .map(|&leaf| LeafRow {
                leaf: leaf.as_str().to_owned(),
                volume: fee_text(activity.leaf(leaf).volume),
                items: activity.leaf(leaf).items,
            })
            .collect(),
        program_features: Vec::new(),
        proposed_fees: priced
            .into_iter()
            .map(|f| PricedRow {
                name: f.name,
                internal_name: f.internal_name,
                amount: fee_text(f.amount),
                monthly_amount: fee_text(f.monthly_amount),
                applies: f.applies,
            })
            .collect(),
        total_fees,
    })
}
