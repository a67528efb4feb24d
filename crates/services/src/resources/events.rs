//! Events as they are answered and delivered: `/v1`'s envelope (`evt_…` ids) and ISO Amp's
//! (bare UUIDs, Unix `time`), around the data the event log recorded.

use super::datetime;
use crate::error::{ServiceError, ServiceResult};
use quittance_store::repo::events::Event;
use serde::Serialize;
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
pub fn raw_data(event: &Event) -> ServiceResult<Box<RawValue>> {
    RawValue::from_string(event.data.clone())
        .map_err(|e| ServiceError::internal(format!("stored event data is not JSON: {e}")))
}

impl EventResponse {
    pub fn new(event: Event) -> ServiceResult<Self> {
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
pub struct IsoAmpEvent {
    pub id: String,
    /// Always `event`.
    pub object: &'static str,
    /// Unix time, in seconds.
    pub time: i64,
    #[serde(rename = "type")]
    pub event_type: String,
    #[schema(value_type = Object)]
    pub data: Box<RawValue>,
}

impl IsoAmpEvent {
    pub fn new(event: Event) -> ServiceResult<Self> {
        Ok(IsoAmpEvent {
            data: raw_data(&event)?,
            id: event.id.uuid().hyphenated().to_string(),
            object: "event",
            time: event.created_at.timestamp(),
            event_type: event.event_type.as_str().to_owned(),
        })
    }
}
