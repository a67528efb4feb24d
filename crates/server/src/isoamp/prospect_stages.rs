//! `/api/prospect_stages`: a new organization starts with the seed's five (Prospect, Quoted,
//! Contacted, Closed-Yes, Closed-No); they are listed and read, not changed.

use super::documents::{self as docs, Stored};
use crate::http::auth::Caller;
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use quittance_services::pricing::stages::StoredStage;
use serde::Serialize;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProspectStage {
    pub id: String,
    pub name: String,
    /// Always `prospect_stage`.
    pub object: &'static str,
}

impl From<Stored<StoredStage>> for ProspectStage {
    fn from(s: Stored<StoredStage>) -> Self {
        ProspectStage {
            id: s.id,
            name: s.body.name,
            object: "prospect_stage",
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProspectStageList {
    /// Always `list`.
    pub object: &'static str,
    pub data: Vec<ProspectStage>,
}

/// All prospect stages.
#[utoipa::path(get, path = "/api/prospect_stages", tag = "iso-amp",
    responses((status = 200, body = ProspectStageList)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<ProspectStageList>> {
    let page = docs::Page::first(100);
    let found = docs::list::<StoredStage>(&state, caller.organization(), page).await?;
    Ok(Json(ProspectStageList {
        object: "list",
        data: found.into_iter().map(ProspectStage::from).collect(),
    }))
}

/// A specific prospect stage.
#[utoipa::path(get, path = "/api/prospect_stages/{id}", tag = "iso-amp",
    params(("id" = String, Path, description = "The stage's UUID")),
    responses((status = 200, body = ProspectStage), (status = 404, body = ErrorBody)))]
pub async fn retrieve(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<ProspectStage>> {
    let found = docs::load::<StoredStage>(&state, caller.organization(), &id).await?;
    Ok(Json(found.into()))
}
