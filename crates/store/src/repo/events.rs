//! The event log. Scripts that change state call [`insert_event`] in their own transaction,
//! so an event exists exactly when its change does, and so do its webhook deliveries.

use super::{decode_enum, instant, micros};
use crate::{Row, StoreError, Tx, params};
use chrono::{DateTime, Utc};
use quittance_domain::events::EventType;
use quittance_domain::ids::{DeliveryId, EventId, OrganizationId};
use quittance_domain::webhooks::WebhookApi;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub id: EventId,
    pub organization_id: OrganizationId,
    pub event_type: EventType,
    /// The event's data, a JSON object as text.
    pub data: String,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, organization_id, type, data, created_at";

fn decode(row: &Row) -> Result<Event, StoreError> {
    let id = row.str(0)?;
    let org = row.str(1)?;
    Ok(Event {
        id: EventId::parse(id).ok_or_else(|| StoreError::Decode(format!("bad event id {id:?}")))?,
        organization_id: OrganizationId::parse(org)
            .ok_or_else(|| StoreError::Decode(format!("bad organization id {org:?}")))?,
        event_type: decode_enum(row, 2, EventType::parse)?,
        data: row.string(3)?,
        created_at: instant(row, 4)?,
    })
}

/// Records an event; returns its id. `data` must be a JSON object.
pub async fn insert_event(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    event_type: EventType,
    data: &str,
    now: DateTime<Utc>,
) -> Result<EventId, StoreError> {
    let id = EventId::generate();
    tx.execute(
        &format!("INSERT INTO events ({COLUMNS}) VALUES ($1, $2, $3, $4, $5)"),
        &params![
            id.as_str(),
            org.as_str(),
            event_type.as_str(),
            data,
            micros(now)
        ],
    )
    .await?;
    queue_deliveries(tx, org, &id, event_type, now).await?;
    Ok(id)
}

/// Queues a delivery of the event to every enabled endpoint subscribed to its type, and asks
/// for the outbox signal. Part of
/// [`insert_event`], so the event and its deliveries commit together.
async fn queue_deliveries(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    event: &EventId,
    event_type: EventType,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let targets = tx
        .query(
            "SELECT s.webhook_id, w.api FROM webhook_subscriptions s
             JOIN webhooks w ON w.id = s.webhook_id
             WHERE s.organization_id = $1 AND s.event_type = $2 AND w.enabled",
            &params![org.as_str(), event_type.as_str()],
        )
        .await?;
    for target in &targets {
        let webhook = target.str(0)?;
        // A listener's deliveries go to its own queue, which only that `listen` serves.
        let queue = if target.str(1)? == WebhookApi::Listener.as_str() {
            webhook
        } else {
            ""
        };
        tx.execute(
            "INSERT INTO webhook_deliveries (id, organization_id, webhook_id, event_id, queue,
                 status, attempts, timeouts, next_attempt_at, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, 'pending', 0, 0, $6, $6, $6)",
            &params![
                DeliveryId::generate().as_str(),
                org.as_str(),
                webhook,
                event.as_str(),
                queue,
                micros(now)
            ],
        )
        .await?;
    }
    if !targets.is_empty() {
        tx.signal_outbox();
    }
    Ok(())
}

pub async fn get_event(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    id: &EventId,
) -> Result<Event, StoreError> {
    let row = tx
        .query_one(
            &format!("SELECT {COLUMNS} FROM events WHERE organization_id = $1 AND id = $2"),
            &params![org.as_str(), id.as_str()],
        )
        .await?;
    decode(&row)
}

/// Which events to list, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    pub event_type: Option<EventType>,
    /// Created at or after.
    pub since: Option<DateTime<Utc>>,
    /// Created at or before.
    pub until: Option<DateTime<Utc>>,
    /// Only events after this one (a cursor).
    pub after: Option<EventId>,
}

/// Up to `limit` events, and whether more follow.
pub async fn list_events(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    filter: &EventFilter,
    limit: i64,
) -> Result<(Vec<Event>, bool), StoreError> {
    let mut w = super::Conditions::new("organization_id = ?", org.as_str().into());
    if let Some(event_type) = filter.event_type {
        w.and("type = ?", event_type.as_str().into());
    }
    if let Some(since) = filter.since {
        w.and("created_at >= ?", micros(since).into());
    }
    if let Some(until) = filter.until {
        w.and("created_at <= ?", micros(until).into());
    }
    if let Some(after) = &filter.after {
        // Ids are time-ordered, so "after this event" is "a greater id".
        w.and("id > ?", after.as_str().into());
    }
    let limit_at = w.bind((limit + 1).into());
    let sql = format!(
        "SELECT {COLUMNS} FROM events WHERE {} ORDER BY id LIMIT {limit_at}",
        w.sql()
    );
    let rows = tx.query(&sql, &w.args).await?;
    let has_more = i64::try_from(rows.len()).unwrap_or(i64::MAX) > limit;
    let events = rows
        .iter()
        .take(usize::try_from(limit).unwrap_or(0))
        .map(decode)
        .collect::<Result<_, _>>()?;
    Ok((events, has_more))
}
