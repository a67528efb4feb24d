//! `/api/webhooks`, as seed 001 documents it: integer ids, `url`, `eventTypes` and a 64-hex
//! `hmacSecret`; PATCH and DELETE answer 200 with no body. Deliveries are JSON POSTs of the
//! event as `GET /api/events/{id}` shows it, signed with `Isoamp-Signature`.

use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult, ErrorBody, OrNotFound};
use crate::http::extract::AppJson;
use crate::http::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use quittance_domain::webhooks::WebhookApi;
use quittance_services::webhooks::endpoints::{event_types, insert, new_record, save, target};
use quittance_services::webhooks::signing;
use quittance_store::repo::PageRequest;
use quittance_store::repo::webhooks::{self as store, WebhookRecord};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IsoAmpWebhook {
    pub id: i64,
    /// Always `webhook`.
    pub object: &'static str,
    pub url: String,
    pub event_types: Vec<String>,
    pub hmac_secret: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IsoAmpWebhookList {
    /// Always `list`.
    pub object: &'static str,
    pub data: Vec<IsoAmpWebhook>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedWebhook {
    pub id: i64,
    pub hmac_secret: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookBody {
    /// URL to send webhook requests.
    pub url: Option<String>,
    /// Only events of these types are delivered (`statement_analysis.completed`, or its
    /// alias `analysis.completed`, …).
    pub event_types: Option<Vec<String>>,
}

fn shown(state: &AppState, w: WebhookRecord) -> ApiResult<IsoAmpWebhook> {
    let hmac_secret = state
        .vault
        .open_stored(w.id.as_str(), &w.sealed_secret)
        .map_err(|e| ApiError::internal(format!("{}: {e}", w.id)))?;
    Ok(IsoAmpWebhook {
        id: w.number.unwrap_or_default(),
        object: "webhook",
        url: w.url,
        event_types: w.event_types,
        hmac_secret,
    })
}

/// The organization's ISO Amp webhooks; there are few, so one list holds them all.
const ALL: PageRequest = PageRequest {
    number: 1,
    per_page: 10_000,
};

/// All webhooks.
#[utoipa::path(get, path = "/api/webhooks", tag = "iso-amp",
    responses((status = 200, body = IsoAmpWebhookList)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<IsoAmpWebhookList>> {
    let org = caller.organization().clone();
    let found = state
        .db
        .read(move |tx| {
            Box::pin(
                async move { store::list_webhooks(tx, &org, Some(WebhookApi::IsoAmp), ALL).await },
            )
        })
        .await?;
    Ok(Json(IsoAmpWebhookList {
        object: "list",
        data: found
            .items
            .into_iter()
            .map(|w| shown(&state, w))
            .collect::<Result<_, _>>()?,
    }))
}

async fn load(state: &AppState, caller: &Caller, id: &str) -> ApiResult<WebhookRecord> {
    let number = id
        .trim()
        .parse::<i64>()
        .map_err(|_| ApiError::not_found("webhook", id))?;
    let org = caller.organization().clone();
    state
        .db
        .read(move |tx| {
            Box::pin(async move { store::get_webhook_by_number(tx, &org, number).await })
        })
        .await
        .or_not_found("webhook", id)
}

/// A specific webhook.
#[utoipa::path(get, path = "/api/webhooks/{id}", tag = "iso-amp",
    params(("id" = i64, Path, description = "The webhook's integer id")),
    responses((status = 200, body = IsoAmpWebhook), (status = 404, body = ErrorBody)))]
pub async fn retrieve(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<IsoAmpWebhook>> {
    let found = load(&state, &caller, &id).await?;
    Ok(Json(shown(&state, found)?))
}

/// Create a webhook: `url` and `eventTypes` are required.
#[utoipa::path(post, path = "/api/webhooks", tag = "iso-amp", request_body = WebhookBody,
    responses((status = 200, body = CreatedWebhook), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    AppJson(req): AppJson<WebhookBody>,
) -> ApiResult<Json<CreatedWebhook>> {
    let url = req
        .url
        .ok_or_else(|| ApiError::unprocessable("url", "url is required"))?;
    let types = req
        .event_types
        .ok_or_else(|| ApiError::unprocessable("eventTypes", "eventTypes is required"))?;
    let subscriptions = event_types("eventTypes", &types)?;
    let url = target(&state, "url", &url).await?;
    let secret = signing::new_hmac_secret();
    let record = new_record(
        &state,
        caller.organization(),
        WebhookApi::IsoAmp,
        url,
        types,
        &secret,
    );
    let stored = insert(&state, record, subscriptions).await?;
    Ok(Json(CreatedWebhook {
        id: stored.number.unwrap_or_default(),
        hmac_secret: secret,
    }))
}

/// Update a webhook's `url` and `eventTypes`; answers 200 with no body.
#[utoipa::path(patch, path = "/api/webhooks/{id}", tag = "iso-amp",
    params(("id" = i64, Path, description = "The webhook's integer id")), request_body = WebhookBody,
    responses((status = 200, description = "Updated; no body"), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    AppJson(req): AppJson<WebhookBody>,
) -> ApiResult<()> {
    let mut record = load(&state, &caller, &id).await?;
    let subscriptions = req
        .event_types
        .as_deref()
        .map(|types| event_types("eventTypes", types))
        .transpose()?;
    if let Some(types) = req.event_types {
        record.event_types = types;
    }
    if let Some(url) = &req.url {
        record.url = target(&state, "url", url).await?;
    }
    record.updated_at = state.clock.now();
    save(&state, record, subscriptions, false).await?;
    Ok(())
}

/// Delete a webhook; answers 200 with no body.
#[utoipa::path(delete, path = "/api/webhooks/{id}", tag = "iso-amp",
    params(("id" = i64, Path, description = "The webhook's integer id")),
    responses((status = 200, description = "Deleted; no body"), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<()> {
    let record = load(&state, &caller, &id).await?;
    let org = caller.organization().clone();
    state
        .db
        .write(move |tx| Box::pin(async move { store::delete_webhook(tx, &org, &record.id).await }))
        .await
        .or_not_found("webhook", &id)
}
