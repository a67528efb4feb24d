//! Proposal handoff links (the seed's "Start Application" buttons): `/api/proposal_handoff_links`
//! with `label`, `url_template` (an http(s) URL where `{proposal_id}` is replaced by the
//! proposal's id), `agent_view` and `merchant_view`; and
//! `GET /api/v1/proposals/{id}/handoff_links`, the rendered buttons of one proposal.

use super::documents::{self as docs, Kind, Page, Stored};
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{AppJson, AppQuery};
use crate::http::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use quittance_services::pricing::proposals::StoredProposal;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StoredHandoffLink {
    /// The text of the button.
    pub label: String,
    /// `{proposal_id}` is replaced with the proposal's id.
    pub url_template: String,
    /// Shown on the agent's view of a proposal.
    pub agent_view: bool,
    /// Shown on the merchant's view of a proposal.
    pub merchant_view: bool,
}

impl Kind for StoredHandoffLink {
    const KIND: &'static str = "proposal_handoff_link";
    const NAME: &'static str = "proposal handoff link";
}

impl StoredHandoffLink {
    fn render(&self, proposal_id: &str) -> String {
        self.url_template.replace("{proposal_id}", proposal_id)
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HandoffLink {
    pub id: String,
    /// Always `proposal_handoff_link`.
    pub object: &'static str,
    #[serde(flatten)]
    pub body: StoredHandoffLink,
}

impl From<Stored<StoredHandoffLink>> for HandoffLink {
    fn from(s: Stored<StoredHandoffLink>) -> Self {
        HandoffLink {
            id: s.id,
            object: "proposal_handoff_link",
            body: s.body,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HandoffLinkList {
    /// Always `list`.
    pub object: &'static str,
    pub data: Vec<HandoffLink>,
}

/// A button of one proposal.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RenderedLink {
    pub id: String,
    pub label: String,
    pub url: String,
    pub agent_view: bool,
    pub merchant_view: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RenderedLinkList {
    /// Always `list`.
    pub object: &'static str,
    pub data: Vec<RenderedLink>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HandoffLinkBody {
    pub label: Option<String>,
    pub url_template: Option<String>,
    pub agent_view: Option<bool>,
    pub merchant_view: Option<bool>,
}

/// An http(s) URL once `{proposal_id}` is filled in.
fn url_template(value: String) -> ApiResult<String> {
    let value = docs::checked("url_template", value, 2000)?;
    let sample = value.replace("{proposal_id}", "00000000-0000-0000-0000-000000000000");
    match reqwest::Url::parse(&sample) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => Ok(value),
        _ => Err(ApiError::unprocessable(
            "url_template",
            "url_template must be an http or https URL",
        )),
    }
}

/// All handoff links, oldest first.
#[utoipa::path(get, path = "/api/proposal_handoff_links", tag = "iso-amp",
    params(
        ("limit" = Option<i64>, Query, description = "1 to 100 (default 10)"),
        ("start_after_id" = Option<String>, Query, description = "Only links created after this UUID"),
    ),
    responses((status = 200, body = HandoffLinkList)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    AppQuery(q): AppQuery<docs::ListQuery>,
) -> ApiResult<Json<HandoffLinkList>> {
    let page = q.page()?;
    let found = docs::list::<StoredHandoffLink>(&state, caller.organization(), page).await?;
    Ok(Json(HandoffLinkList {
        object: "list",
        data: found.into_iter().map(HandoffLink::from).collect(),
    }))
}

/// A specific handoff link.
#[utoipa::path(get, path = "/api/proposal_handoff_links/{id}", tag = "iso-amp",
    params(("id" = String, Path, description = "The link's UUID")),
    responses((status = 200, body = HandoffLink), (status = 404, body = ErrorBody)))]
pub async fn retrieve(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<HandoffLink>> {
    let found = docs::load::<StoredHandoffLink>(&state, caller.organization(), &id).await?;
    Ok(Json(found.into()))
}

/// Create a handoff link: `label` and `url_template` are required; `agent_view` defaults to
/// true and `merchant_view` to false.
#[utoipa::path(post, path = "/api/proposal_handoff_links", tag = "iso-amp", request_body = HandoffLinkBody,
    responses((status = 200, body = HandoffLink), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    AppJson(req): AppJson<HandoffLinkBody>,
) -> ApiResult<Json<HandoffLink>> {
    let body =
        StoredHandoffLink {
            label: docs::required("label", req.label, 100)?,
            url_template: url_template(req.url_template.ok_or_else(|| {
                ApiError::unprocessable("url_template", "url_template is required")
            })?)?,
            agent_view: req.agent_view.unwrap_or(true),
            merchant_view: req.merchant_view.unwrap_or(false),
        };
    let created = docs::create(&state, caller.organization(), body).await?;
    Ok(Json(created.into()))
}

/// Update a handoff link's `label`, `url_template`, `agent_view` or `merchant_view`.
#[utoipa::path(patch, path = "/api/proposal_handoff_links/{id}", tag = "iso-amp", request_body = HandoffLinkBody,
    params(("id" = String, Path, description = "The link's UUID")),
    responses((status = 200, body = HandoffLink), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    AppJson(req): AppJson<HandoffLinkBody>,
) -> ApiResult<Json<HandoffLink>> {
    let mut found = docs::load::<StoredHandoffLink>(&state, caller.organization(), &id).await?;
    if let Some(label) = req.label {
        found.body.label = docs::checked("label", label, 100)?;
    }
    if let Some(template) = req.url_template {
        found.body.url_template = url_template(template)?;
    }
    if let Some(v) = req.agent_view {
        found.body.agent_view = v;
    }
    if let Some(v) = req.merchant_view {
        found.body.merchant_view = v;
    }
    docs::save(&state, caller.organization(), &found).await?;
    Ok(Json(found.into()))
}

/// Delete a handoff link; answers 200 with no body.
#[utoipa::path(delete, path = "/api/proposal_handoff_links/{id}", tag = "iso-amp",
    params(("id" = String, Path, description = "The link's UUID")),
    responses((status = 200, description = "Deleted; no body"), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<()> {
    docs::remove::<StoredHandoffLink>(&state, caller.organization(), &id).await?;
    Ok(())
}

/// A proposal's buttons, with their URLs rendered.
#[utoipa::path(get, path = "/api/v1/proposals/{id}/handoff_links", tag = "iso-amp",
    params(("id" = String, Path, description = "The proposal's UUID")),
    responses((status = 200, body = RenderedLinkList), (status = 404, body = ErrorBody)))]
pub async fn for_proposal(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<RenderedLinkList>> {
    let proposal = docs::load::<StoredProposal>(&state, caller.organization(), &id).await?;
    let page = Page::first(100);
    let links = docs::list::<StoredHandoffLink>(&state, caller.organization(), page).await?;
    Ok(Json(RenderedLinkList {
        object: "list",
        data: links
            .into_iter()
            .map(|l| RenderedLink {
                url: l.body.render(&proposal.id),
                id: l.id,
                label: l.body.label,
                agent_view: l.body.agent_view,
                merchant_view: l.body.merchant_view,
            })
            .collect(),
    }))
}
