//! Webhook endpoints (seed 000's "Webhooks" tab): request method, event types, access setup,
//! target URL, payload format, enabled flag and retry schedule; the delivery log; manual
//! retries and recovery; signing secret rotation. The ISO Amp face's webhooks are listed here
//! too (`api: "iso_amp"`), with their integer id.

use super::{ListPage, datetime};
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult, ErrorBody, OrNotFound};
use crate::http::extract::event_limit;
use crate::http::extract::{AppJson, AppQuery, page, parse_json};
use crate::http::state::AppState;
use crate::v1::accounts::DeletedResponse;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use quittance_domain::FieldError;
use quittance_domain::ids::{AccessSetupId, DeliveryId, EventId, WebhookId};
use quittance_domain::webhooks::{
    PayloadFormat, RequestMethod, RetryPolicy, RetrySchedule, WebhookApi,
};
use quittance_services::webhooks::endpoints::{
    DISABLED_BY_REQUEST, event_types, insert, new_record, save, target,
};
use quittance_services::webhooks::signing;
use quittance_services::wire::nullable;
use quittance_store::repo::webhooks::{
    self as store, AttemptRecord, DeliveriesOf, DeliveryRecord, WebhookRecord,
};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// How long the previous secret stays valid after a rotation, unless the request says.
const DEFAULT_OVERLAP_SECONDS: i64 = 24 * 60 * 60;
const MAX_OVERLAP_SECONDS: i64 = 7 * 24 * 60 * 60;

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetryPolicyBody {
    /// `fixed` (the same wait each time) or `exponential` (doubling, with jitter, up to a day).
    pub schedule: Option<String>,
    /// Seconds between attempts (fixed) or before the first retry (exponential), 1–86400.
    pub interval_seconds: Option<i64>,
    /// Attempts in all, 1–20.
    pub max_attempts: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WebhookResponse {
    pub id: String,
    /// Always `webhook`.
    pub object: &'static str,
    /// The face that created it: `v1`, `iso_amp` or `listener` (`quittance webhooks listen`).
    pub api: String,
    /// The ISO Amp face's integer id.
    pub iso_amp_id: Option<i64>,
    pub url: String,
    /// `POST`, `PUT`, `GET` or `DELETE`; GET and DELETE carry the event in the query string.
    pub method: String,
    /// `json`, `xml` or `nvp`.
    pub format: String,
    pub event_types: Vec<String>,
    pub access_setup_id: Option<String>,
    pub enabled: bool,
    /// Why it was turned off (a 410 answer, days of failures, a request).
    pub disabled_reason: Option<String>,
    pub retry_policy: RetryPolicyBody,
    /// Until when the previous signing secret still signs deliveries, after a rotation.
    pub previous_secret_expires_at: Option<String>,
    /// The signing secret (`whsec_…`): shown only when created and when rotated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<WebhookRecord> for WebhookResponse {
    fn from(w: WebhookRecord) -> Self {
        WebhookResponse {
            id: w.id.to_string(),
            object: "webhook",
            api: w.api.as_str().to_owned(),
            iso_amp_id: w.number,
            url: w.url,
            method: w.method.as_str().to_owned(),
            format: w.format.as_str().to_owned(),
            event_types: w.event_types,
            access_setup_id: w.access_setup_id.map(|a| a.to_string()),
            enabled: w.enabled,
            disabled_reason: w.disabled_reason,
            retry_policy: RetryPolicyBody {
                schedule: Some(w.retry.schedule.as_str().to_owned()),
                interval_seconds: Some(w.retry.interval_seconds),
                max_attempts: Some(w.retry.max_attempts),
            },
            previous_secret_expires_at: w.previous_secret_expires_at.map(datetime),
            secret: None,
            created_at: datetime(w.created_at),
            updated_at: datetime(w.updated_at),
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookRequest {
    /// Where deliveries go (http or https). Private, loopback and metadata addresses are
    /// refused unless the server's `webhook_allowed_networks` permits them.
    pub url: String,
    /// The event types to deliver; `analysis.*` is accepted for `statement_analysis.*`.
    pub event_types: Vec<String>,
    /// `POST` (default), `PUT`, `GET` or `DELETE`.
    pub method: Option<String>,
    /// `json` (default), `xml` or `nvp`.
    pub format: Option<String>,
    /// How Quittance authenticates to the receiver.
    pub access_setup_id: Option<String>,
    /// Default `true`.
    pub enabled: Option<bool>,
    /// Default: every 30 minutes, 5 attempts (seed 002).
    pub retry_policy: Option<RetryPolicyBody>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhookRequest {
    pub url: Option<String>,
    pub event_types: Option<Vec<String>>,
    pub method: Option<String>,
    pub format: Option<String>,
    /// `null` removes it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub access_setup_id: Option<Option<String>>,
    /// `true` turns a disabled endpoint back on; `false` turns it off and fails its open
    /// deliveries (recover them later with `/recover`).
    pub enabled: Option<bool>,
    pub retry_policy: Option<RetryPolicyBody>,
}

fn retry_policy(current: RetryPolicy, body: &RetryPolicyBody) -> Result<RetryPolicy, FieldError> {
    let mut policy = current;
    if let Some(schedule) = &body.schedule {
        policy.schedule = RetrySchedule::parse_field("retry_policy.schedule", schedule)?;
    }
    if let Some(interval) = body.interval_seconds {
        if !(1..=86_400).contains(&interval) {
            return Err(FieldError::new(
                "retry_policy.interval_seconds",
                "must be from 1 to 86400",
            ));
        }
        policy.interval_seconds = interval;
    }
    if let Some(attempts) = body.max_attempts {
        if !(1..=20).contains(&attempts) {
            return Err(FieldError::new(
                "retry_policy.max_attempts",
                "must be from 1 to 20",
            ));
        }
        policy.max_attempts = attempts;
    }
    Ok(policy)
}

fn access_setup(text: &str) -> ApiResult<AccessSetupId> {
    AccessSetupId::parse(text).ok_or_else(|| {
        ApiError::not_found("webhook access setup", text).with_param("access_setup_id")
    })
}

/// Create a webhook endpoint. The answer carries its signing secret, shown this once.
#[utoipa::path(post, path = "/v1/webhooks", tag = "webhooks", request_body = CreateWebhookRequest,
    responses((status = 201, body = WebhookResponse), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    AppJson(req): AppJson<CreateWebhookRequest>,
) -> ApiResult<(StatusCode, Json<WebhookResponse>)> {
    let subscriptions = event_types("event_types", &req.event_types)?;
    let url = target(&state, "url", &req.url).await?;
    let secret = signing::new_endpoint_secret();
    let mut record = new_record(
        &state,
        caller.organization(),
        WebhookApi::V1,
        url,
        req.event_types,
        &secret,
    );
    if let Some(method) = &req.method {
        record.method = RequestMethod::parse_field("method", method)?;
    }
    if let Some(format) = &req.format {
        record.format = PayloadFormat::parse_field("format", format)?;
    }
    if let Some(policy) = &req.retry_policy {
        record.retry = retry_policy(record.retry, policy)?;
    }
    record.enabled = req.enabled.unwrap_or(true);
    record.access_setup_id = req
        .access_setup_id
        .as_deref()
        .map(access_setup)
        .transpose()?;
    let stored = insert(&state, record, subscriptions).await?;
    let mut response = WebhookResponse::from(stored);
    response.secret = Some(secret);
    Ok((StatusCode::CREATED, Json(response)))
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    current_page: Option<String>,
}

/// List webhook endpoints (every face's).
#[utoipa::path(get, path = "/v1/webhooks", tag = "webhooks",
    params(("current_page" = Option<i64>, Query, description = "1-based page of 50")),
    responses((status = 200, body = ListPage<WebhookResponse>)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    AppQuery(q): AppQuery<ListQuery>,
) -> ApiResult<Json<ListPage<WebhookResponse>>> {
    let page = page(q.current_page.as_deref())?;
    let org = caller.organization().clone();
    let found = state
        .db
        .read(move |tx| Box::pin(async move { store::list_webhooks(tx, &org, None, page).await }))
        .await?;
    Ok(Json(ListPage::new(found, page, WebhookResponse::from)))
}

fn webhook_id(id: &str) -> ApiResult<WebhookId> {
    WebhookId::parse(id).ok_or_else(|| ApiError::not_found("webhook", id))
}

async fn load(state: &AppState, caller: &Caller, id: &str) -> ApiResult<WebhookRecord> {
    let (org, webhook) = (caller.organization().clone(), webhook_id(id)?);
    state
        .db
        .read(move |tx| Box::pin(async move { store::get_webhook(tx, &org, &webhook).await }))
        .await
        .or_not_found("webhook", id)
}

/// Retrieve a webhook endpoint.
#[utoipa::path(get, path = "/v1/webhooks/{id}", tag = "webhooks", params(("id" = String, Path)),
    responses((status = 200, body = WebhookResponse), (status = 404, body = ErrorBody)))]
pub async fn retrieve(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<WebhookResponse>> {
    Ok(Json(load(&state, &caller, &id).await?.into()))
}

/// Update a webhook endpoint: the fields given replace the stored ones.
#[utoipa::path(patch, path = "/v1/webhooks/{id}", tag = "webhooks", params(("id" = String, Path)),
    request_body = UpdateWebhookRequest,
    responses((status = 200, body = WebhookResponse), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    AppJson(req): AppJson<UpdateWebhookRequest>,
) -> ApiResult<Json<WebhookResponse>> {
    let mut record = load(&state, &caller, &id).await?;
    let subscriptions = req
        .event_types
        .as_deref()
        .map(|types| event_types("event_types", types))
        .transpose()?;
    if let Some(types) = req.event_types {
        record.event_types = types;
    }
    if let Some(url) = &req.url {
        record.url = target(&state, "url", url).await?;
    }
    if let Some(method) = &req.method {
        record.method = RequestMethod::parse_field("method", method)?;
    }
    if let Some(format) = &req.format {
        record.format = PayloadFormat::parse_field("format", format)?;
    }
    if let Some(policy) = &req.retry_policy {
        record.retry = retry_policy(record.retry, policy)?;
    }
    if let Some(setup) = &req.access_setup_id {
        record.access_setup_id = setup.as_deref().map(access_setup).transpose()?;
    }
    let turned_off = req.enabled == Some(false) && record.enabled;
    match req.enabled {
        Some(true) => {
            record.enabled = true;
            record.disabled_reason = None;
            record.failing_since = None;
        }
        Some(false) if turned_off => {
            record.enabled = false;
            record.disabled_reason = Some(DISABLED_BY_REQUEST.to_owned());
        }
        Some(false) | None => {}
    }
    record.updated_at = state.clock.now();
    save(&state, record.clone(), subscriptions, turned_off).await?;
    Ok(Json(record.into()))
}

/// Delete a webhook endpoint with its delivery log.
#[utoipa::path(delete, path = "/v1/webhooks/{id}", tag = "webhooks", params(("id" = String, Path)),
    responses((status = 200, body = DeletedResponse), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<DeletedResponse>> {
    let (org, webhook) = (caller.organization().clone(), webhook_id(&id)?);
    state
        .db
        .write(move |tx| Box::pin(async move { store::delete_webhook(tx, &org, &webhook).await }))
        .await
        .or_not_found("webhook", &id)?;
    Ok(Json(DeletedResponse { id, deleted: true }))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateSecretRequest {
    /// How long the previous secret keeps signing beside the new one, in seconds (default
    /// 86400, at most 604800; 0 retires it at once).
    pub overlap_seconds: Option<i64>,
}

/// Rotate the signing secret. Until the overlap ends, deliveries carry a signature with each
/// secret (`webhook-signature: v1,… v1,…`). The answer shows the new secret, this once.
#[utoipa::path(post, path = "/v1/webhooks/{id}/rotate_secret", tag = "webhooks", params(("id" = String, Path)),
    request_body(content = Option<RotateSecretRequest>, description = "Optional"),
    responses((status = 200, body = WebhookResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn rotate_secret(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<WebhookResponse>> {
    let req: RotateSecretRequest = if body.iter().all(u8::is_ascii_whitespace) {
        RotateSecretRequest::default()
    } else {
        parse_json(&body)?
    };
    let overlap = req.overlap_seconds.unwrap_or(DEFAULT_OVERLAP_SECONDS);
    if !(0..=MAX_OVERLAP_SECONDS).contains(&overlap) {
        return Err(FieldError::new(
            "overlap_seconds",
            format!("must be from 0 to {MAX_OVERLAP_SECONDS}"),
        )
        .into());
    }
    let mut record = load(&state, &caller, &id).await?;
    if record.api == WebhookApi::IsoAmp {
        return Err(ApiError::conflict(
            "an ISO Amp webhook keeps its hmacSecret; create a new webhook to change it",
        ));
    }
    let now = state.clock.now();
    let secret = signing::new_endpoint_secret();
    record.sealed_previous_secret = (overlap > 0).then(|| record.sealed_secret.clone());
    record.previous_secret_expires_at =
        (overlap > 0).then(|| now + chrono::Duration::seconds(overlap));
    record.sealed_secret = state.vault.seal(record.id.as_str(), &secret).to_stored();
    record.updated_at = now;
    save(&state, record.clone(), None, false).await?;
    let mut response = WebhookResponse::from(record);
    response.secret = Some(secret);
    Ok(Json(response))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AttemptResponse {
    pub id: String,
    pub attempted_at: String,
    /// `{"method","url","headers"}` as sent, credentials masked.
    #[schema(value_type = Object)]
    pub request: Box<RawValue>,
    pub response_status: Option<i64>,
    /// The first 1 KiB of the response body.
    pub response_body: Option<String>,
    pub latency_ms: i64,
    /// Why no answer came (a timeout, a refused address, a TLS failure).
    pub error: Option<String>,
}

impl AttemptResponse {
    fn new(a: AttemptRecord) -> ApiResult<Self> {
        Ok(AttemptResponse {
            id: a.id.to_string(),
            attempted_at: datetime(a.attempted_at),
            request: RawValue::from_string(a.request)
                .map_err(|e| ApiError::internal(format!("a logged request is not JSON: {e}")))?,
            response_status: a.response_status,
            response_body: a.response_body,
            latency_ms: a.latency_ms,
            error: a.error,
        })
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeliveryResponse {
    pub id: String,
    /// Always `webhook_delivery`.
    pub object: &'static str,
    pub webhook_id: String,
    pub event_id: String,
    pub event_type: String,
    /// `pending`, `pending_retry`, `delivered` or `failed`.
    pub status: String,
    pub next_attempt_at: Option<String>,
    pub last_attempt_at: Option<String>,
    pub last_response_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// Every attempt, oldest first.
    pub attempts: Vec<AttemptResponse>,
}

impl DeliveryResponse {
    fn new(d: DeliveryRecord) -> ApiResult<Self> {
        Ok(DeliveryResponse {
            id: d.id.to_string(),
            object: "webhook_delivery",
            webhook_id: d.webhook_id.to_string(),
            event_id: d.event_id.to_string(),
            event_type: d.event_type.as_str().to_owned(),
            status: d.status.as_str().to_owned(),
            next_attempt_at: d.next_attempt_at.map(datetime),
            last_attempt_at: d.last_attempt_at.map(datetime),
            last_response_status: d.last_response_status,
            last_error: d.last_error,
            created_at: datetime(d.created_at),
            updated_at: datetime(d.updated_at),
            attempts: d
                .log
                .into_iter()
                .map(AttemptResponse::new)
                .collect::<ApiResult<_>>()?,
        })
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeliveryList {
    /// Always `list`.
    pub object: &'static str,
    /// Newest first.
    pub data: Vec<DeliveryResponse>,
    /// More follow: pass the last id as `starting_after`.
    pub has_more: bool,
}

#[derive(Debug, Deserialize)]
pub struct DeliveryQuery {
    limit: Option<String>,
    starting_after: Option<String>,
}

/// The delivery log of `of` (an endpoint or an event, shown as `id`), newest first; 404 when
/// the organization has no such endpoint or event.
async fn deliveries(
    state: &AppState,
    caller: &Caller,
    of: DeliveriesOf,
    id: &str,
    q: DeliveryQuery,
) -> ApiResult<DeliveryList> {
    let limit = event_limit("limit", q.limit.as_deref(), 25)?;
    let before = q
        .starting_after
        .as_deref()
        .map(|id| {
            DeliveryId::parse(id).ok_or_else(|| {
                ApiError::bad_request("starting_after is not a delivery id")
                    .with_param("starting_after")
            })
        })
        .transpose()?;
    let (org, shown) = (caller.organization().clone(), id.to_owned());
    let (found, has_more) = state
        .db
        .read(move |tx| {
            Box::pin(async move {
                match &of {
                    DeliveriesOf::Webhook(webhook) => store::get_webhook(tx, &org, webhook)
                        .await
                        .map(drop)
                        .or_not_found("webhook", &shown)?,
                    DeliveriesOf::Event(event) => {
                        quittance_store::repo::events::get_event(tx, &org, event)
                            .await
                            .map(drop)
                            .or_not_found("event", &shown)?
                    }
                }
                Ok::<_, ApiError>(
                    store::list_deliveries(tx, &org, &of, before.as_ref(), limit).await?,
                )
            })
        })
        .await?;
    Ok(DeliveryList {
        object: "list",
        data: found
            .into_iter()
            .map(DeliveryResponse::new)
            .collect::<ApiResult<_>>()?,
        has_more,
    })
}

/// An endpoint's delivery log: each delivery with every attempt.
#[utoipa::path(get, path = "/v1/webhooks/{id}/deliveries", tag = "webhooks",
    params(("id" = String, Path),
        ("limit" = Option<i64>, Query, description = "1 to 100 (default 25)"),
        ("starting_after" = Option<String>, Query, description = "A delivery id: list older ones")),
    responses((status = 200, body = DeliveryList), (status = 404, body = ErrorBody)))]
pub async fn webhook_deliveries(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    AppQuery(q): AppQuery<DeliveryQuery>,
) -> ApiResult<Json<DeliveryList>> {
    let webhook = webhook_id(&id)?;
    Ok(Json(
        deliveries(&state, &caller, DeliveriesOf::Webhook(webhook), &id, q).await?,
    ))
}

/// An event's deliveries, to every endpoint it went to.
#[utoipa::path(get, path = "/v1/events/{id}/deliveries", tag = "webhooks",
    params(("id" = String, Path),
        ("limit" = Option<i64>, Query, description = "1 to 100 (default 25)"),
        ("starting_after" = Option<String>, Query, description = "A delivery id: list older ones")),
    responses((status = 200, body = DeliveryList), (status = 404, body = ErrorBody)))]
pub async fn event_deliveries(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    AppQuery(q): AppQuery<DeliveryQuery>,
) -> ApiResult<Json<DeliveryList>> {
    let event = EventId::parse(&id).ok_or_else(|| ApiError::not_found("event", &id))?;
    Ok(Json(
        deliveries(&state, &caller, DeliveriesOf::Event(event), &id, q).await?,
    ))
}

/// Send one delivery again now, with a fresh set of attempts (whatever its status).
#[utoipa::path(post, path = "/v1/webhook_deliveries/{id}/retry", tag = "webhooks", params(("id" = String, Path)),
    responses((status = 202, body = DeliveryResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn retry(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<DeliveryResponse>)> {
    let delivery =
        DeliveryId::parse(&id).ok_or_else(|| ApiError::not_found("webhook delivery", &id))?;
    let (org, now, shown) = (caller.organization().clone(), state.clock.now(), id.clone());
    let requeued = state
        .db
        .write(move |tx| {
            Box::pin(async move {
                let found = store::get_delivery(tx, &org, &delivery)
                    .await
                    .or_not_found("webhook delivery", &shown)?;
                let webhook = store::get_webhook(tx, &org, &found.webhook_id).await?;
                if !webhook.enabled {
                    return Err(ApiError::conflict(format!(
                        "webhook {} is disabled; enable it first",
                        webhook.id
                    )));
                }
                if !store::requeue_delivery(tx, &org, &delivery, now).await? {
                    return Err(ApiError::conflict("the delivery is being sent right now"));
                }
                Ok(store::get_delivery(tx, &org, &delivery).await?)
            })
        })
        .await?;
    Ok((StatusCode::ACCEPTED, Json(DeliveryResponse::new(requeued)?)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecoverRequest {
    /// Re-send the failed deliveries created at or after this ISO-8601 datetime.
    pub since: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RecoverResponse {
    /// Always `webhook_recovery`.
    pub object: &'static str,
    pub webhook_id: String,
    pub since: String,
    /// Failed deliveries queued again.
    pub requeued: u64,
}

/// Re-send every failed delivery of the endpoint since a time.
#[utoipa::path(post, path = "/v1/webhooks/{id}/recover", tag = "webhooks", params(("id" = String, Path)),
    request_body = RecoverRequest,
    responses((status = 202, body = RecoverResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn recover(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    AppJson(req): AppJson<RecoverRequest>,
) -> ApiResult<(StatusCode, Json<RecoverResponse>)> {
    let since = DateTime::parse_from_rfc3339(req.since.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| FieldError::new("since", "must be an ISO-8601 datetime"))?;
    let webhook = load(&state, &caller, &id).await?;
    if !webhook.enabled {
        return Err(ApiError::conflict(format!(
            "webhook {} is disabled; enable it first",
            webhook.id
        )));
    }
    let (org, now, target) = (
        caller.organization().clone(),
        state.clock.now(),
        webhook.id.clone(),
    );
    let requeued = state
        .db
        .write(move |tx| {
            Box::pin(
                async move { store::requeue_failed_since(tx, &org, &target, since, now).await },
            )
        })
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(RecoverResponse {
            object: "webhook_recovery",
            webhook_id: webhook.id.to_string(),
            since: datetime(since),
            requeued,
        }),
    ))
}
