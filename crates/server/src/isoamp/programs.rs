//! `/api/programs`: pricing programs, each a list of fee lines (`name`, `internal_name`,
//! `amount` as a numeric string, and a `basis`: `volume:SCOPE`, `items:SCOPE`, `flat`,
//! `flat_if_active:SCOPE` or `pass_through:interchange|amex_optblue|debit_network`) and the
//! program's features. A new organization starts with a default program holding the seed's
//! nineteen fee lines; it can be changed but not deleted.

use super::documents::{self as docs, Stored};
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{AppJson, AppQuery};
use crate::http::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use quittance_pricing::{FeeBasis, fee_text, parse_decimal};
use quittance_services::pricing::programs::{Feature, Fee, StoredProgram};
use quittance_services::wire::AmountText;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Program {
    pub id: String,
    /// Always `program`.
    pub object: &'static str,
    #[serde(flatten)]
    pub body: StoredProgram,
    pub created_at: String,
}

impl From<Stored<StoredProgram>> for Program {
    fn from(s: Stored<StoredProgram>) -> Self {
        Program {
            id: s.id,
            object: "program",
            body: s.body,
            created_at: docs::timestamp(s.created_at),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProgramList {
    /// Always `list`.
    pub object: &'static str,
    pub data: Vec<Program>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeeBody {
    pub name: Option<String>,
    pub internal_name: Option<String>,
    #[schema(value_type = String)]
    pub amount: Option<AmountText>,
    pub basis: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeatureBody {
    pub name: Option<String>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProgramBody {
    pub name: Option<String>,
    pub fees: Option<Vec<FeeBody>>,
    pub features: Option<Vec<FeatureBody>>,
}

fn fees(bodies: Vec<FeeBody>) -> ApiResult<Vec<Fee>> {
    if bodies.is_empty() {
        return Err(ApiError::unprocessable(
            "fees",
            "a program needs at least one fee line",
        ));
    }
    let mut seen = HashSet::new();
    bodies
        .into_iter()
        .enumerate()
        .map(|(i, body)| {
            let at = |field: &str| format!("fees[{i}].{field}");
            let name = docs::required(&at("name"), body.name, 300)?;
            let internal_name = docs::required(&at("internal_name"), body.internal_name, 100)?;
            if !seen.insert(internal_name.clone()) {
                return Err(ApiError::unprocessable(
                    at("internal_name"),
                    format!("{internal_name} appears twice in the program"),
                ));
            }
            let amount = body
                .amount
                .ok_or_else(|| ApiError::unprocessable(at("amount"), "amount is required"))?;
            let amount = parse_decimal(&amount.0)
                .map_err(|e| ApiError::unprocessable(at("amount"), e.to_string()))?;
            let basis = body
                .basis
                .ok_or_else(|| ApiError::unprocessable(at("basis"), "basis is required"))?;
            let basis = FeeBasis::parse(basis.trim())
                .map_err(|e| ApiError::unprocessable(at("basis"), e.to_string()))?;
            Ok(Fee {
                name,
                internal_name,
                amount: fee_text(amount),
                basis: basis.to_string(),
            })
        })
        .collect()
}

fn features(bodies: Vec<FeatureBody>) -> ApiResult<Vec<Feature>> {
    bodies
        .into_iter()
        .enumerate()
        .map(|(i, body)| {
            Ok(Feature {
                id: docs::new_id(),
                name: docs::required(&format!("features[{i}].name"), body.name, 300)?,
            })
        })
        .collect()
}

/// All programs, oldest first.
#[utoipa::path(get, path = "/api/programs", tag = "iso-amp",
    params(
        ("limit" = Option<i64>, Query, description = "1 to 100 (default 10)"),
        ("start_after_id" = Option<String>, Query, description = "Only programs created after this UUID"),
    ),
    responses((status = 200, body = ProgramList)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    AppQuery(q): AppQuery<docs::ListQuery>,
) -> ApiResult<Json<ProgramList>> {
    let page = q.page()?;
    let found = docs::list::<StoredProgram>(&state, caller.organization(), page).await?;
    Ok(Json(ProgramList {
        object: "list",
        data: found.into_iter().map(Program::from).collect(),
    }))
}

/// A specific program.
#[utoipa::path(get, path = "/api/programs/{id}", tag = "iso-amp",
    params(("id" = String, Path, description = "The program's UUID")),
    responses((status = 200, body = Program), (status = 404, body = ErrorBody)))]
pub async fn retrieve(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Program>> {
    let found = docs::load::<StoredProgram>(&state, caller.organization(), &id).await?;
    Ok(Json(found.into()))
}

/// Create a program: `name` and `fees` are required; `features` is optional.
#[utoipa::path(post, path = "/api/programs", tag = "iso-amp", request_body = ProgramBody,
    responses((status = 200, body = Program), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    AppJson(req): AppJson<ProgramBody>,
) -> ApiResult<Json<Program>> {
    let body = StoredProgram {
        name: docs::required("name", req.name, 300)?,
        default: false,
        fees: fees(
            req.fees
                .ok_or_else(|| ApiError::unprocessable("fees", "fees is required"))?,
        )?,
        features: features(req.features.unwrap_or_default())?,
    };
    let created = docs::create(&state, caller.organization(), body).await?;
    Ok(Json(created.into()))
}

/// Update a program's `name`, `fees` (replaced whole) or `features` (replaced whole).
#[utoipa::path(patch, path = "/api/programs/{id}", tag = "iso-amp", request_body = ProgramBody,
    params(("id" = String, Path, description = "The program's UUID")),
    responses((status = 200, body = Program), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    AppJson(req): AppJson<ProgramBody>,
) -> ApiResult<Json<Program>> {
    let mut found = docs::load::<StoredProgram>(&state, caller.organization(), &id).await?;
    if let Some(name) = req.name {
        found.body.name = docs::checked("name", name, 300)?;
    }
    if let Some(bodies) = req.fees {
        found.body.fees = fees(bodies)?;
    }
    if let Some(bodies) = req.features {
        found.body.features = features(bodies)?;
    }
    docs::save(&state, caller.organization(), &found).await?;
    Ok(Json(found.into()))
}

/// Delete a program; answers 200 with no body. The default program is kept (409); proposals
/// made with a deleted program keep their fee lines.
#[utoipa::path(delete, path = "/api/programs/{id}", tag = "iso-amp",
    params(("id" = String, Path, description = "The program's UUID")),
    responses((status = 200, description = "Deleted; no body"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<()> {
    let found = docs::load::<StoredProgram>(&state, caller.organization(), &id).await?;
    if found.body.default {
        return Err(ApiError::conflict("the default program cannot be deleted"));
    }
    docs::remove::<StoredProgram>(&state, caller.organization(), &id).await?;
    Ok(())
}
