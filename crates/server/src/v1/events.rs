//! `GET /v1/events`: the event log, oldest first, with cursor pagination.

use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult, ErrorBody, OrNotFound};
use crate::http::extract::{AppQuery, event_limit};
use crate::http::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use quittance_domain::events::EventType;
use quittance_domain::ids::EventId;
pub use quittance_services::resources::events::{EventResponse, raw_data};
use quittance_store::repo::events::{self as store, EventFilter};
use serde::{Deserialize, Serialize};

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
                    ApiError::bad_request("starting_after is not an event id")
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
            .collect::<Result<_, _>>()?,
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
