//! `GET /api/events` and `GET /api/events/{id}`, as seed 001 documents them: bare UUID ids,
//! Unix-second times, `limit` (1–100, default 25), `startTime` and `startAfterId`.

use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult, ErrorBody, OrNotFound};
use crate::http::extract::AppQuery;
use crate::http::extract::event_limit;
use crate::http::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use chrono::DateTime;
use quittance_domain::ids::EventId;
pub use quittance_services::resources::events::IsoAmpEvent;
use quittance_store::repo::events::{self as store, EventFilter};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// `startTime`'s last accepted value: the end of year 9999.
pub const LAST_SECOND: i64 = 253_402_300_799;

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IsoAmpEventList {
    /// Always `list`.
    pub object: &'static str,
    /// More events follow: pass the last id as `startAfterId`.
    pub has_more: bool,
    pub data: Vec<IsoAmpEvent>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Query {
    limit: Option<String>,
    start_time: Option<String>,
    start_after_id: Option<String>,
}

/// All events, oldest first.
#[utoipa::path(get, path = "/api/events", tag = "iso-amp",
    params(
        ("limit" = Option<i64>, Query, description = "1 to 100 (default 25)"),
        ("startTime" = Option<i64>, Query, description = "Only events created at this Unix second or later"),
        ("startAfterId" = Option<String>, Query, description = "Only events after the event with this UUID"),
    ),
    responses((status = 200, body = IsoAmpEventList)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    AppQuery(q): AppQuery<Query>,
) -> ApiResult<Json<IsoAmpEventList>> {
    let limit = event_limit("limit", q.limit.as_deref(), 25)?;
    let since = q
        .start_time
        .as_deref()
        .map(|t| {
            t.trim()
                .parse::<i64>()
                .ok()
                .filter(|s| (0..=LAST_SECOND).contains(s))
                .and_then(|s| DateTime::from_timestamp(s, 0))
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "startTime must be an integer number of seconds since the Unix epoch",
                    )
                    .with_param("startTime")
                })
        })
        .transpose()?;
    let after = q
        .start_after_id
        .as_deref()
        .map(|id| {
            Uuid::try_parse(id.trim())
                .map(EventId::from_uuid)
                .map_err(|_| {
                    ApiError::bad_request("startAfterId must be a UUID").with_param("startAfterId")
                })
        })
        .transpose()?;
    let filter = EventFilter {
        since,
        after,
        ..EventFilter::default()
    };
    let org = caller.organization().clone();
    let (events, has_more) = state
        .db
        .read(move |tx| Box::pin(async move { store::list_events(tx, &org, &filter, limit).await }))
        .await?;
    Ok(Json(IsoAmpEventList {
        object: "list",
        has_more,
        data: events
            .into_iter()
            .map(IsoAmpEvent::new)
            .collect::<Result<_, _>>()?,
    }))
}

/// A specific event.
#[utoipa::path(get, path = "/api/events/{id}", tag = "iso-amp", params(("id" = String, Path, description = "The event's UUID")),
    responses((status = 200, body = IsoAmpEvent), (status = 404, body = ErrorBody)))]
pub async fn retrieve(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<IsoAmpEvent>> {
    let event = Uuid::try_parse(&id)
        .map(EventId::from_uuid)
        .map_err(|_| ApiError::not_found("event", &id))?;
    let org = caller.organization().clone();
    let found = state
        .db
        .read(move |tx| Box::pin(async move { store::get_event(tx, &org, &event).await }))
        .await
        .or_not_found("event", &id)?;
    Ok(Json(IsoAmpEvent::new(found)?))
}
