//! Recording events inside the transaction of the change they describe (the outbox), so an
//! event exists exactly when its change does.

use crate::resources::accounts::AccountResponse;
use chrono::{DateTime, Utc};
use quittance_domain::events::EventType;
use quittance_domain::ids::{AccountId, EventId, OrganizationId};
use quittance_store::repo::{accounts, events};
use quittance_store::{StoreError, Tx};
use serde::Serialize;

/// Records `data` (serialized to a JSON object) as an event of `event_type`.
pub async fn record(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    event_type: EventType,
    data: &impl Serialize,
    now: DateTime<Utc>,
) -> Result<EventId, StoreError> {
    let json = serde_json::to_string(data)
        .map_err(|e| StoreError::Backend(format!("cannot serialize an event: {e}")))?;
    events::insert_event(tx, org, event_type, &json, now).await
}

/// `master_account.changed`, with the account as it now stands (its data or any of its
/// sub-accounts changed).
pub async fn account_changed(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    account: &AccountId,
    now: DateTime<Utc>,
) -> Result<EventId, StoreError> {
    let current = accounts::get_account(tx, org, account).await?;
    record(
        tx,
        org,
        EventType::MasterAccountChanged,
        &AccountResponse::from(current),
        now,
    )
    .await
}
