//! Proposals, as seed 001 documents them: `GET /api/v1/proposals` (`limit`,
//! `start_after_id`), `GET /api/v1/proposals/{id}` and `POST /api/v1/proposals/simple`, which
//! spreads a total VMD volume over card types with the prospect's merchant type (or the
//! organization's default) and prices every fee line of the program. The Visa credit/debit
//! split the fee lines need is kept with the proposal, though `merchant_activity` shows only
//! brands, as the seed's does. Fee lines are listed in the program's order.

use super::documents::{self as docs, Stored, find_in, get_in};
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{AppJson, AppQuery};
use crate::http::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use quittance_domain::ids::OrganizationId;
use quittance_pricing::{
    Activity, ActivityType, CostModel, Decimal, fee_text, items_from_avg_ticket, parse_decimal,
};
use quittance_services::pricing::merchant_types::StoredMerchantType;
use quittance_services::pricing::programs::{Feature, StoredProgram};
use quittance_services::pricing::proposals::{ActivityRow, StoredProposal, priced_proposal};
use quittance_services::pricing::prospects::StoredProspect;
use quittance_services::pricing::settings::{cost_model, schedule_a_in};
use quittance_services::wire::AmountText;
use quittance_store::StoreError;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProposedFee {
    pub name: String,
    pub internal_name: String,
    pub amount: String,
    /// A numeric string; the bare number 0 for a line that does not apply (a PIN debit
    /// monthly fee without PIN debit activity), as the seed prints it.
    #[schema(value_type = Object)]
    pub monthly_amount: Value,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Proposal {
    pub id: String,
    /// Null for a proposal a statement analysis made.
    pub prospect_id: Option<String>,
    /// Only on a proposal a statement analysis made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statement_analysis_id: Option<String>,
    /// ISO 8601, with milliseconds.
    pub created_at: String,
    /// Always `proposal`.
    pub object: &'static str,
    pub program_id: String,
    pub merchant_activity: Vec<ActivityRow>,
    pub program_features: Vec<Feature>,
    pub proposed_fees: Vec<ProposedFee>,
    /// What the merchant pays now, when given.
    pub total_fees: Option<String>,
}

impl From<Stored<StoredProposal>> for Proposal {
    fn from(s: Stored<StoredProposal>) -> Self {
        let b = s.body;
        Proposal {
            id: s.id,
            prospect_id: b.prospect_id,
            statement_analysis_id: b.statement_analysis_id,
            created_at: docs::timestamp(s.created_at),
            object: "proposal",
            program_id: b.program_id,
            merchant_activity: b.merchant_activity,
            program_features: b.program_features,
            proposed_fees: b
                .proposed_fees
                .into_iter()
                .map(|f| ProposedFee {
                    monthly_amount: if f.applies {
                        Value::String(f.monthly_amount)
                    } else {
                        Value::from(0)
                    },
                    name: f.name,
                    internal_name: f.internal_name,
                    amount: f.amount,
                })
                .collect(),
            total_fees: b.total_fees,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProposalList {
    /// Always `list`.
    pub object: &'static str,
    pub data: Vec<Proposal>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct SimpleProposalBody {
    pub prospect_id: Option<String>,
    /// Total VMD volume in dollars (a numeric string or a number).
    #[schema(value_type = Option<String>)]
    pub total_volume: Option<AmountText>,
    /// Average VMD ticket in dollars; or give `num_transactions`.
    #[schema(value_type = Option<String>)]
    pub avg_ticket: Option<AmountText>,
    /// Number of VMD transactions; or give `avg_ticket`.
    #[schema(value_type = Option<String>)]
    pub num_transactions: Option<AmountText>,
    pub preferred_program_id: Option<String>,
    /// What the merchant pays now, in dollars.
    #[schema(value_type = Option<String>)]
    pub total_fees: Option<AmountText>,
}

/// A non-negative decimal from a body field, 422 naming it.
pub fn decimal(field: &str, text: &AmountText) -> ApiResult<Decimal> {
    let value =
        parse_decimal(&text.0).map_err(|e| ApiError::unprocessable(field, e.to_string()))?;
    if value.is_sign_negative() && !value.is_zero() {
        return Err(ApiError::unprocessable(
            field,
            format!("{field} must not be negative"),
        ));
    }
    Ok(value)
}

/// A whole, non-negative count ("10" or "10.0").
pub fn count(field: &str, text: &AmountText) -> ApiResult<u64> {
    let value = decimal(field, text)?;
    if !value.fract().is_zero() {
        return Err(ApiError::unprocessable(
            field,
            format!("{field} must be a whole number"),
        ));
    }
    u64::try_from(value)
        .map_err(|_| ApiError::unprocessable(field, format!("{field} is too large")))
}

/// All proposals, oldest first.
#[utoipa::path(get, path = "/api/v1/proposals", tag = "iso-amp",
    params(
        ("limit" = Option<i64>, Query, description = "1 to 100 (default 10)"),
        ("start_after_id" = Option<String>, Query, description = "Only proposals created after this UUID"),
    ),
    responses((status = 200, body = ProposalList)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    AppQuery(q): AppQuery<docs::ListQuery>,
) -> ApiResult<Json<ProposalList>> {
    let page = q.page()?;
    let found = docs::list::<StoredProposal>(&state, caller.organization(), page).await?;
    Ok(Json(ProposalList {
        object: "list",
        data: found.into_iter().map(Proposal::from).collect(),
    }))
}

/// A specific proposal.
#[utoipa::path(get, path = "/api/v1/proposals/{id}", tag = "iso-amp",
    params(("id" = String, Path, description = "The proposal's UUID")),
    responses((status = 200, body = Proposal), (status = 404, body = ErrorBody)))]
pub async fn retrieve(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Proposal>> {
    let found = docs::load::<StoredProposal>(&state, caller.organization(), &id).await?;
    Ok(Json(found.into()))
}

/// The prospect, its merchant type (or the default) and the program to propose.
async fn inputs(
    state: &AppState,
    org: &OrganizationId,
    prospect_id: String,
    preferred: Option<String>,
) -> ApiResult<(StoredMerchantType, Stored<StoredProgram>, CostModel)> {
    let org = org.clone();
    let found = state
        .db
        .read(move |tx| {
            Box::pin(async move {
                let prospect = match get_in::<StoredProspect>(tx, &org, &prospect_id).await {
                    Ok(p) => p,
                    Err(StoreError::NotFound) => return Ok(None),
                    Err(e) => return Err(e),
                };
                let mut merchant_type = match &prospect.body.merchant_type_id {
                    Some(id) => get_in::<StoredMerchantType>(tx, &org, id).await.ok(),
                    None => None,
                };
                let mut program = match &preferred {
                    Some(id) => get_in::<StoredProgram>(tx, &org, id).await.ok(),
                    None => None,
                };
                if merchant_type.is_none() {
                    merchant_type = find_in::<StoredMerchantType>(tx, &org, |t| t.default).await?;
                }
                if program.is_none() {
                    program = find_in::<StoredProgram>(tx, &org, |p| p.default).await?;
                }
                let schedule_a = schedule_a_in(tx, &org).await?;
                Ok::<_, StoreError>(Some((merchant_type, program, schedule_a)))
            })
        })
        .await?;
    match found {
        None => Err(ApiError::unprocessable(
            "prospect_id",
            "prospect_id names no prospect of this organization",
        )),
        Some((Some(merchant_type), Some(program), schedule_a)) => {
            Ok((merchant_type.body, program, cost_model(schedule_a)?))
        }
        Some(_) => Err(ApiError::internal(
            "the organization has no default merchant type or program",
        )),
    }
}

/// Create a simple proposal: `prospect_id` and `total_volume`, with `avg_ticket` or
/// `num_transactions`.
#[utoipa::path(post, path = "/api/v1/proposals/simple", tag = "iso-amp", request_body = SimpleProposalBody,
    responses((status = 200, body = Proposal), (status = 422, body = ErrorBody)))]
pub async fn create_simple(
    State(state): State<AppState>,
    caller: Caller,
    AppJson(req): AppJson<SimpleProposalBody>,
) -> ApiResult<Json<Proposal>> {
    let prospect_id = req
        .prospect_id
        .ok_or_else(|| ApiError::unprocessable("prospect_id", "prospect_id is required"))?;
    let prospect_id = docs::canonical_id(&prospect_id)
        .ok_or_else(|| ApiError::unprocessable("prospect_id", "prospect_id must be a UUID"))?;
    let total_volume = req
        .total_volume
        .as_ref()
        .ok_or_else(|| ApiError::unprocessable("total_volume", "total_volume is required"))
        .and_then(|t| decimal("total_volume", t))?;
    let items = match (&req.num_transactions, &req.avg_ticket) {
        (Some(n), _) => count("num_transactions", n)?,
        (None, Some(ticket)) => {
            let ticket = decimal("avg_ticket", ticket)?;
            items_from_avg_ticket(total_volume, ticket)
                .map_err(|e| ApiError::unprocessable("avg_ticket", e.to_string()))?
        }
        (None, None) => {
            return Err(ApiError::unprocessable(
                "avg_ticket",
                "avg_ticket or num_transactions is required",
            ));
        }
    };
    let total_fees = req
        .total_fees
        .as_ref()
        .map(|t| decimal("total_fees", t).map(fee_text))
        .transpose()?;
    let preferred = req
        .preferred_program_id
        .as_deref()
        .and_then(docs::canonical_id);
    let (merchant_type, program, costs) = inputs(
        &state,
        caller.organization(),
        prospect_id.clone(),
        preferred,
    )
    .await?;
    let activity = Activity::from_lines(
        &[(ActivityType::Vmd, total_volume, items)],
        &merchant_type.mix()?,
    )
    .map_err(|e| ApiError::unprocessable("total_volume", e.to_string()))?;
    let body = StoredProposal {
        prospect_id: Some(prospect_id),
        ..priced_proposal(&program, &activity, &costs, total_fees)?
    };
    let created = docs::create(&state, caller.organization(), body).await?;
    Ok(Json(created.into()))
}
