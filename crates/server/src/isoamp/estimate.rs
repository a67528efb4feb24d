//! `POST /api/estimate_statement_summary`: pass-through costs, Schedule A and margin from a
//! statement's summary (see docs/pricing.md for the model and its sources). Combined activity
//! types (`vmd`, `vs`, `mc`, `ds`) are split with the organization's default merchant type.

use super::documents::find_in;
use super::proposals::{count, decimal};
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::AppJson;
use crate::http::state::AppState;
use axum::Json;
use axum::extract::State;
use quittance_pricing::{Activity, ActivityType, ScheduleA, margin, plain_text};
use quittance_services::pricing::merchant_types::StoredMerchantType;
use quittance_services::pricing::settings::{cost_model, schedule_a_in};
use quittance_services::wire::AmountText;
use quittance_store::StoreError;
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct MerchantActivity {
    /// vmd, vs, vs_credit, vs_check, mc, mc_credit, mc_check, ds, ds_credit, ds_check, amex
    /// or pin_debit.
    #[serde(rename = "type")]
    pub activity_type: Option<String>,
    /// Dollars (a numeric string or a number).
    #[schema(value_type = Option<String>)]
    pub volume: Option<AmountText>,
    #[schema(value_type = Option<i64>)]
    pub transactions: Option<AmountText>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EstimateRequest {
    pub merchant_activity: Option<Vec<MerchantActivity>>,
    #[schema(value_type = Option<String>)]
    pub total_current_fees: Option<AmountText>,
}

/// Numeric strings, or null where there is no such activity.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EstimateResponse {
    pub vmd_interchange: Option<String>,
    pub vmd_card_brand_fees: Option<String>,
    pub amex_opt_blue: Option<String>,
    pub pin_debit_network_fees: Option<String>,
    pub schedule_a_cost: Option<String>,
    pub margin: Option<String>,
}

/// Estimate fees from a statement summary.
#[utoipa::path(post, path = "/api/estimate_statement_summary", tag = "iso-amp",
    request_body = EstimateRequest,
    responses((status = 200, body = EstimateResponse), (status = 422, body = ErrorBody)))]
pub async fn estimate(
    State(state): State<AppState>,
    caller: Caller,
    AppJson(req): AppJson<EstimateRequest>,
) -> ApiResult<Json<EstimateResponse>> {
    let lines = req.merchant_activity.ok_or_else(|| {
        ApiError::unprocessable("merchantActivity", "merchantActivity is required")
    })?;
    let current = req
        .total_current_fees
        .as_ref()
        .ok_or_else(|| ApiError::unprocessable("totalCurrentFees", "totalCurrentFees is required"))
        .and_then(|t| decimal("totalCurrentFees", t))?;
    let mut parsed = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        let at = |field: &str| format!("merchantActivity[{i}].{field}");
        let kind = line
            .activity_type
            .as_deref()
            .ok_or_else(|| ApiError::unprocessable(at("type"), "type is required"))?;
        let kind = ActivityType::parse(kind).ok_or_else(|| {
            ApiError::unprocessable(
                at("type"),
                format!("unknown type {kind:?}; one of {}", ActivityType::choices()),
            )
        })?;
        let volume = line
            .volume
            .as_ref()
            .ok_or_else(|| ApiError::unprocessable(at("volume"), "volume is required"))
            .and_then(|v| decimal(&at("volume"), v))?;
        let transactions = line
            .transactions
            .as_ref()
            .ok_or_else(|| ApiError::unprocessable(at("transactions"), "transactions is required"))
            .and_then(|v| count(&at("transactions"), v))?;
        parsed.push((kind, volume, transactions));
    }
    let (merchant_type, schedule_a) = estimate_inputs(&state, caller.organization()).await?;
    let mix = merchant_type.mix()?;
    let activity = Activity::from_lines(&parsed, &mix)
        .map_err(|e| ApiError::unprocessable("merchantActivity", e.to_string()))?;
    let costs = cost_model(schedule_a)?
        .estimate(&activity)
        .map_err(|e| ApiError::unprocessable("merchantActivity", e.to_string()))?;
    let vmd_active = activity.is_active(quittance_pricing::Scope::Vmd);
    let vmd = |value| vmd_active.then(|| plain_text(value));
    Ok(Json(EstimateResponse {
        vmd_interchange: vmd(costs.vmd_interchange),
        vmd_card_brand_fees: vmd(costs.vmd_card_brand_fees),
        amex_opt_blue: costs.amex_optblue.map(plain_text),
        pin_debit_network_fees: costs.pin_debit_network_fees.map(plain_text),
        schedule_a_cost: Some(plain_text(costs.schedule_a_cost)),
        margin: margin(current, &costs, activity.total_volume()).map(plain_text),
    }))
}

/// The organization's default merchant type and its Schedule A.
async fn estimate_inputs(
    state: &AppState,
    org: &quittance_domain::ids::OrganizationId,
) -> ApiResult<(StoredMerchantType, ScheduleA)> {
    let org = org.clone();
    let (merchant_type, schedule_a) = state
        .db
        .read(move |tx| {
            Box::pin(async move {
                let merchant_type = find_in::<StoredMerchantType>(tx, &org, |t| t.default).await?;
                Ok::<_, StoreError>((merchant_type, schedule_a_in(tx, &org).await?))
            })
        })
        .await?;
    let merchant_type = merchant_type
        .ok_or_else(|| ApiError::internal("the organization has no default merchant type"))?;
    Ok((merchant_type.body, schedule_a))
}
