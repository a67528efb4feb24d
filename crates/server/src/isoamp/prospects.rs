//! `/api/v1/prospects`, as seed 001 documents them. `prospect_stage_id`, `source_type` and
//! `user_id` are required; `business_name`, `contact_name`, `mcc`, `email`, `phone` and
//! `merchant_type_id` are optional. An unknown stage, user or merchant type is a 422 naming
//! the field. The seed also shows `GET /api/v1/prospect/{id}` and `POST /api/v1/users` (for
//! creating a prospect): both are served as well.

use super::documents::{self as docs, Stored, get_in};
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{AppJson, AppQuery};
use crate::http::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use quittance_domain::ids::OrganizationId;
use quittance_services::pricing::merchant_types::StoredMerchantType;
use quittance_services::pricing::prospects::StoredProspect;
use quittance_services::pricing::stages::StoredStage;
use quittance_services::pricing::users::StoredUser;
use quittance_services::wire::nullable;
use quittance_store::StoreError;
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Prospect {
    pub id: String,
    pub business_name: Option<String>,
    pub contact_name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub mcc: Option<String>,
    pub source_type: String,
    pub user_id: String,
    pub merchant_type_id: Option<String>,
    pub prospect_stage_id: String,
    /// ISO 8601, with milliseconds.
    pub created_at: String,
    /// Always `prospect`.
    pub object: &'static str,
}

impl From<Stored<StoredProspect>> for Prospect {
    fn from(s: Stored<StoredProspect>) -> Self {
        let b = s.body;
        Prospect {
            id: s.id,
            business_name: b.business_name,
            contact_name: b.contact_name,
            phone: b.phone,
            email: b.email,
            mcc: b.mcc,
            source_type: b.source_type,
            user_id: b.user_id,
            merchant_type_id: b.merchant_type_id,
            prospect_stage_id: b.prospect_stage_id,
            created_at: docs::timestamp(s.created_at),
            object: "prospect",
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProspectList {
    /// Always `list`.
    pub object: &'static str,
    pub data: Vec<Prospect>,
}

/// Create and update. On update, `null` clears an optional field.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProspectBody {
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub business_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub contact_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub mcc: Option<Option<String>>,
    pub source_type: Option<String>,
    pub user_id: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub merchant_type_id: Option<Option<String>>,
    pub prospect_stage_id: Option<String>,
}

const MAX_TEXT: usize = 300;

/// An optional text field as sent: absent keeps `current`, null clears it.
fn optional(
    field: &str,
    sent: Option<Option<String>>,
    current: Option<String>,
    check: fn(&str, String) -> ApiResult<String>,
) -> ApiResult<Option<String>> {
    match sent {
        None => Ok(current),
        Some(None) => Ok(None),
        Some(Some(value)) => check(field, value).map(Some),
    }
}

fn text(field: &str, value: String) -> ApiResult<String> {
    docs::checked(field, value, MAX_TEXT)
}

fn mcc(field: &str, value: String) -> ApiResult<String> {
    let value = value.trim().to_owned();
    if value.len() == 4 && value.chars().all(|c| c.is_ascii_digit()) {
        Ok(value)
    } else {
        Err(ApiError::unprocessable(
            field,
            "mcc must be a four-digit merchant category code",
        ))
    }
}

/// A referenced id: a UUID of an existing document of kind `T`, else 422 naming `field`.
fn reference(field: &'static str, value: String) -> ApiResult<String> {
    docs::canonical_id(&value)
        .ok_or_else(|| ApiError::unprocessable(field, format!("{field} must be a UUID")))
}

/// Checks that the stage, user and merchant type a prospect names exist.
async fn check_references(
    state: &AppState,
    org: &OrganizationId,
    prospect: &StoredProspect,
) -> ApiResult<()> {
    let (org, p) = (org.clone(), prospect.clone());
    let missing = state
        .db
        .read(move |tx| {
            Box::pin(async move {
                let exists = |r: Result<(), StoreError>| match r {
                    Ok(()) => Ok(true),
                    Err(StoreError::NotFound) => Ok(false),
                    Err(e) => Err(e),
                };
                if !exists(
                    get_in::<StoredStage>(tx, &org, &p.prospect_stage_id)
                        .await
                        .map(drop),
                )? {
                    return Ok(Some("prospect_stage_id"));
                }
                if !exists(get_in::<StoredUser>(tx, &org, &p.user_id).await.map(drop))? {
                    return Ok(Some("user_id"));
                }
                if let Some(id) = &p.merchant_type_id
                    && !exists(get_in::<StoredMerchantType>(tx, &org, id).await.map(drop))?
                {
                    return Ok(Some("merchant_type_id"));
                }
                Ok::<_, StoreError>(None)
            })
        })
        .await?;
    match missing {
        None => Ok(()),
        Some(field) => Err(ApiError::unprocessable(
            field,
            format!("{field} names no such record of this organization"),
        )),
    }
}

/// All prospects, by `created_at` ascending.
#[utoipa::path(get, path = "/api/v1/prospects", tag = "iso-amp",
    params(
        ("limit" = Option<i64>, Query, description = "1 to 100 (default 10)"),
        ("start_after_id" = Option<String>, Query, description = "Only prospects created after this UUID"),
    ),
    responses((status = 200, body = ProspectList)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    AppQuery(q): AppQuery<docs::ListQuery>,
) -> ApiResult<Json<ProspectList>> {
    let page = q.page()?;
    let found = docs::list::<StoredProspect>(&state, caller.organization(), page).await?;
    Ok(Json(ProspectList {
        object: "list",
        data: found.into_iter().map(Prospect::from).collect(),
    }))
}

/// A specific prospect.
#[utoipa::path(get, path = "/api/v1/prospects/{id}", tag = "iso-amp",
    params(("id" = String, Path, description = "The prospect's UUID")),
    responses((status = 200, body = Prospect), (status = 404, body = ErrorBody)))]
pub async fn retrieve(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Prospect>> {
    let found = docs::load::<StoredProspect>(&state, caller.organization(), &id).await?;
    Ok(Json(found.into()))
}

/// A specific prospect, at the singular path the seed's "HTTP Request" line shows.
#[utoipa::path(get, path = "/api/v1/prospect/{id}", tag = "iso-amp",
    params(("id" = String, Path, description = "The prospect's UUID")),
    responses((status = 200, body = Prospect), (status = 404, body = ErrorBody)))]
pub async fn retrieve_singular(
    state: State<AppState>,
    caller: Caller,
    id: Path<String>,
) -> ApiResult<Json<Prospect>> {
    retrieve(state, caller, id).await
}

/// Create a prospect: `prospect_stage_id`, `source_type` and `user_id` are required.
#[utoipa::path(post, path = "/api/v1/prospects", tag = "iso-amp", request_body = ProspectBody,
    responses((status = 200, body = Prospect), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    AppJson(req): AppJson<ProspectBody>,
) -> ApiResult<Json<Prospect>> {
    let required = |field: &'static str, value: Option<String>| {
        value.ok_or_else(|| ApiError::unprocessable(field, format!("{field} is required")))
    };
    let prospect_stage_id = reference(
        "prospect_stage_id",
        required("prospect_stage_id", req.prospect_stage_id)?,
    )?;
    let source_type = docs::required("source_type", req.source_type, MAX_TEXT)?;
    let user_id = reference("user_id", required("user_id", req.user_id)?)?;
    let merchant_type_id = req
        .merchant_type_id
        .flatten()
        .map(|id| reference("merchant_type_id", id))
        .transpose()?;
    let body = StoredProspect {
        business_name: optional("business_name", req.business_name, None, text)?,
        contact_name: optional("contact_name", req.contact_name, None, text)?,
        phone: optional("phone", req.phone, None, text)?,
        email: optional("email", req.email, None, docs::email)?,
        mcc: optional("mcc", req.mcc, None, mcc)?,
        source_type,
        user_id,
        merchant_type_id,
        prospect_stage_id,
    };
    check_references(&state, caller.organization(), &body).await?;
    let created = docs::create(&state, caller.organization(), body).await?;
    Ok(Json(created.into()))
}

/// Create a prospect at the path the seed's "HTTP Request" line for it shows.
#[utoipa::path(post, path = "/api/v1/users", tag = "iso-amp", request_body = ProspectBody,
    responses((status = 200, body = Prospect), (status = 422, body = ErrorBody)))]
pub async fn create_at_users_path(
    state: State<AppState>,
    caller: Caller,
    body: AppJson<ProspectBody>,
) -> ApiResult<Json<Prospect>> {
    create(state, caller, body).await
}

/// Update a prospect: any of its fields; `null` clears an optional one.
#[utoipa::path(patch, path = "/api/v1/prospects/{id}", tag = "iso-amp", request_body = ProspectBody,
    params(("id" = String, Path, description = "The prospect's UUID")),
    responses((status = 200, body = Prospect), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    AppJson(req): AppJson<ProspectBody>,
) -> ApiResult<Json<Prospect>> {
    let mut found = docs::load::<StoredProspect>(&state, caller.organization(), &id).await?;
    let b = found.body.clone();
    found.body = StoredProspect {
        business_name: optional("business_name", req.business_name, b.business_name, text)?,
        contact_name: optional("contact_name", req.contact_name, b.contact_name, text)?,
        phone: optional("phone", req.phone, b.phone, text)?,
        email: optional("email", req.email, b.email, docs::email)?,
        mcc: optional("mcc", req.mcc, b.mcc, mcc)?,
        source_type: match req.source_type {
            Some(v) => docs::checked("source_type", v, MAX_TEXT)?,
            None => b.source_type,
        },
        user_id: match req.user_id {
            Some(v) => reference("user_id", v)?,
            None => b.user_id,
        },
        merchant_type_id: match req.merchant_type_id {
            None => b.merchant_type_id,
            Some(None) => None,
            Some(Some(v)) => Some(reference("merchant_type_id", v)?),
        },
        prospect_stage_id: match req.prospect_stage_id {
            Some(v) => reference("prospect_stage_id", v)?,
            None => b.prospect_stage_id,
        },
    };
    check_references(&state, caller.organization(), &found.body).await?;
    docs::save(&state, caller.organization(), &found).await?;
    Ok(Json(found.into()))
}

/// Delete a prospect; answers 200 with no body. Its proposals are kept.
#[utoipa::path(delete, path = "/api/v1/prospects/{id}", tag = "iso-amp",
    params(("id" = String, Path, description = "The prospect's UUID")),
    responses((status = 200, description = "Deleted; no body"), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<()> {
    docs::remove::<StoredProspect>(&state, caller.organization(), &id).await?;
    Ok(())
}
