//! `/api/merchant_types`: a name, its MCCs, and the card mix that spreads a total volume over
//! card types (each leaf's share of volume and of transactions). A new organization starts
//! with a default merchant type whose mix reproduces the seed's simple proposal; it can be
//! changed but not deleted.

use super::documents::{self as docs, Stored};
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{AppJson, AppQuery};
use crate::http::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use quittance_services::pricing::merchant_types::{CardShare, StoredMerchantType, mix_of};
use serde::{Deserialize, Serialize};

fn mccs(values: Vec<String>) -> ApiResult<Vec<String>> {
    values
        .into_iter()
        .map(|m| {
            let m = m.trim().to_owned();
            if m.len() == 4 && m.chars().all(|c| c.is_ascii_digit()) {
                Ok(m)
            } else {
                Err(ApiError::unprocessable(
                    "mccs",
                    format!("{m:?} is not a merchant category code (four digits)"),
                ))
            }
        })
        .collect()
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MerchantType {
    pub id: String,
    /// Always `merchant_type`.
    pub object: &'static str,
    #[serde(flatten)]
    pub body: StoredMerchantType,
    pub created_at: String,
}

impl From<Stored<StoredMerchantType>> for MerchantType {
    fn from(s: Stored<StoredMerchantType>) -> Self {
        MerchantType {
            id: s.id,
            object: "merchant_type",
            body: s.body,
            created_at: docs::timestamp(s.created_at),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MerchantTypeList {
    /// Always `list`.
    pub object: &'static str,
    pub data: Vec<MerchantType>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MerchantTypeBody {
    pub name: Option<String>,
    pub mccs: Option<Vec<String>>,
    pub card_mix: Option<Vec<CardShare>>,
}

/// All merchant types, oldest first.
#[utoipa::path(get, path = "/api/merchant_types", tag = "iso-amp",
    params(
        ("limit" = Option<i64>, Query, description = "1 to 100 (default 10)"),
        ("start_after_id" = Option<String>, Query, description = "Only merchant types created after this UUID"),
    ),
    responses((status = 200, body = MerchantTypeList)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    AppQuery(q): AppQuery<docs::ListQuery>,
) -> ApiResult<Json<MerchantTypeList>> {
    let page = q.page()?;
    let found = docs::list::<StoredMerchantType>(&state, caller.organization(), page).await?;
    Ok(Json(MerchantTypeList {
        object: "list",
        data: found.into_iter().map(MerchantType::from).collect(),
    }))
}

/// A specific merchant type.
#[utoipa::path(get, path = "/api/merchant_types/{id}", tag = "iso-amp",
    params(("id" = String, Path, description = "The merchant type's UUID")),
    responses((status = 200, body = MerchantType), (status = 404, body = ErrorBody)))]
pub async fn retrieve(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<MerchantType>> {
    let found = docs::load::<StoredMerchantType>(&state, caller.organization(), &id).await?;
    Ok(Json(found.into()))
}

/// Create a merchant type: `name` and `card_mix` are required; `mccs` is optional.
#[utoipa::path(post, path = "/api/merchant_types", tag = "iso-amp", request_body = MerchantTypeBody,
    responses((status = 200, body = MerchantType), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    AppJson(req): AppJson<MerchantTypeBody>,
) -> ApiResult<Json<MerchantType>> {
    let name = docs::required("name", req.name, 300)?;
    let card_mix = req
        .card_mix
        .ok_or_else(|| ApiError::unprocessable("card_mix", "card_mix is required"))?;
    mix_of(&card_mix)?;
    let body = StoredMerchantType {
        name,
        mccs: mccs(req.mccs.unwrap_or_default())?,
        default: false,
        card_mix,
    };
    let created = docs::create(&state, caller.organization(), body).await?;
    Ok(Json(created.into()))
}

/// Update a merchant type's `name`, `mccs` or `card_mix`.
#[utoipa::path(patch, path = "/api/merchant_types/{id}", tag = "iso-amp", request_body = MerchantTypeBody,
    params(("id" = String, Path, description = "The merchant type's UUID")),
    responses((status = 200, body = MerchantType), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    AppJson(req): AppJson<MerchantTypeBody>,
) -> ApiResult<Json<MerchantType>> {
    let mut found = docs::load::<StoredMerchantType>(&state, caller.organization(), &id).await?;
    if let Some(name) = req.name {
        found.body.name = docs::checked("name", name, 300)?;
    }
    if let Some(values) = req.mccs {
        found.body.mccs = mccs(values)?;
    }
    if let Some(card_mix) = req.card_mix {
        mix_of(&card_mix)?;
        found.body.card_mix = card_mix;
    }
    docs::save(&state, caller.organization(), &found).await?;
    Ok(Json(found.into()))
}

/// Delete a merchant type; answers 200 with no body. The default one, and one that
/// prospects use, is kept (409).
#[utoipa::path(delete, path = "/api/merchant_types/{id}", tag = "iso-amp",
    params(("id" = String, Path, description = "The merchant type's UUID")),
    responses((status = 200, description = "Deleted; no body"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<()> {
    let found = docs::load::<StoredMerchantType>(&state, caller.organization(), &id).await?;
    if found.body.default {
        return Err(ApiError::conflict(
            "the default merchant type cannot be deleted",
        ));
    }
    docs::refuse_if_referred::<quittance_services::pricing::prospects::StoredProspect>(
        &state,
        caller.organization(),
        "merchant_type_id",
        &found.id,
    )
    .await?;
    docs::remove::<StoredMerchantType>(&state, caller.organization(), &id).await?;
    Ok(())
}
