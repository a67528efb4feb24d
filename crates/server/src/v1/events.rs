//! `GET /v1/events`: the event log, oldest first, with cursor pagination.

use super::datetime;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody, OrNotFound};
use crate::extract::AppQuery;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use quittance_domain::events::EventType;
use quittance_domain::ids::EventId;
use quittance_store::repo::events::{self as store, Event, EventFilter};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventResponse {
    /// `evt_…`; the ISO Amp face shows the same event with the UUID inside.
    pub id: String,
    /// Always `event`.
    pub object: &'static str,
    /// `master_account.changed`, `master_account.deleted`, …
    #[serde(rename = "type")]
    pub event_type: String,
    pub created_at: String,
    /// The event's data; for account events, the account as in `GET /v1/accounts/{id}`.
    #[schema(value_type = Object)]
    pub data: Box<RawValue>,
}

/// An event's stored data as raw JSON (it was written from a serialized object).
pub fn raw_data(event: &Event) -> ApiResult<Box<RawValue>> {
    RawValue::from_string(event.data.clone())
        .map_err(|e| ApiError::internal(format!("stored event data is not JSON: {e}")))
}

impl EventResponse {
    pub(crate) fn new(event: Event) -> ApiResult<Self> {
        Ok(EventResponse {
            data: raw_data(&event)?,
            id: event.id.to_string(),
            object: "event",
            event_type: event.event_type.as_str().to_owned(),
            created_at: datetime(event.created_at),
        })
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventList {
    /// Always `list`.
    pub object: &'static str,
    pub data: Vec<EventResponse>,
    /// More events follow the last one: pass its id as `starting_after`.
    pub has_more: bool,
}

#[derive(Debug, Deserialize)]
pub struct EventQuery {
    limit: Option<String>,
    starting_after: Option<String>,
    #[serde(rename = "type")]
    event_type: Option<String>,
    since: Option<String>,
    until: Option<String>,
}

/// `limit` for event lists: 1 to 100, `default` when absent.
pub fn event_limit(param: &str, value: Option<&str>, default: i64) -> ApiResult<i64> {
    match value {
        None => Ok(default),
        Some(text) => text
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=100).contains(n))
            .ok_or_else(|| {
                ApiError::bad_request(format!("{param} must be an integer from 1 to 100"))
                    .with_param(param)
            }),
    }
}

fn instant(param: &str, value: Option<&str>) -> ApiResult<Option<DateTime<Utc>>> {
    value
        .map(|text| {
            DateTime::parse_from_rfc3339(text.trim())
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| {
                    ApiError::bad_request(format!("{param} must be an ISO-8601 datetime"))
                        .with_param(param)
                })
        })
        .transpose()
}

/// List events, oldest first.
#[utoipa::path(get, path = "/v1/events", tag = "events",
    params(
        ("limit" = Option<i64>, Query, description = "1 to 100 (default 25)"),
        ("starting_after" = Option<String>, Query, description = "An event id: list the events after it"),
        ("type" = Option<String>, Query, description = "Only events of this type"),
        ("since" = Option<String>, Query, description = "Only events created at or after this ISO-8601 datetime"),
        ("until" = Option<String>, Query, description = "Only events created at or before this ISO-8601 datetime"),
    ),
    responses((status = 200, body = EventList)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    AppQuery(q): AppQuery<EventQuery>,
) -> ApiResult<Json<EventList>> {
    let limit = event_limit("limit", q.limit.as_deref(), 25)?;
    let filter = EventFilter {
        event_type: q
            .event_type
            .as_deref()
            .map(|t| {
                EventType::parse(t).ok_or_else(|| {
                    ApiError::bad_request(format!("type must be one of {}", EventType::choices()))
                        .with_param("type")
                })
            })
            .transpose()?,
        since: instant("since", q.since.as_deref())?,
        until: instant("until", q.until.as_deref())?,
        after: q
            .starting_after
            .as_deref()
            .map(|id| {
                EventId::parse(id).ok_or_else(|| {
                    ApiError::bad_request(format!("{id:?} is not an event id"))
                        .with_param("starting_after")
                })
            })
            .transpose()?,
    };
    let org = caller.organization().clone();
    let (events, has_more) = state
        .db
        .read(move |tx| Box::pin(async move { store::list_events(tx, &org, &filter, limit).await }))
        .await?;
    Ok(Json(EventList {
        object: "list",
        data: events
            .into_iter()
            .map(EventResponse::new)
            .collect::<ApiResult<_>>()?,
        has_more,
    }))
}

/// Retrieve an event.
#[utoipa::path(get, path = "/v1/events/{id}", tag = "events", params(("id" = String, Path)),
    responses((status = 200, body = EventResponse), (status = 404, body = ErrorBody)))]
pub async fn retrieve(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<EventResponse>> {
    let (org, event) = (
        caller.organization().clone(),
        EventId::parse(&id).ok_or_else(|| ApiError::not_found("event", &id))?,
    );
    let found = state
        .db
        .read(move |tx| Box::pin(async move { store::get_event(tx, &org, &event).await }))
        .await
        .or_not_found("event", &id)?;
    Ok(Json(EventResponse::new(found)?))
}
