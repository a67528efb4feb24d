//! Sample events, for `quittance webhooks trigger TYPE`: an event of any type with made-up
//! data, recorded (and delivered) like a real one, so a receiver can be tried out.

use crate::App;
use crate::error::ServiceResult;
use quittance_domain::events::EventType;
use quittance_domain::ids::{EventId, OrganizationId};
use serde_json::{Value, json};

/// The sample data of `event_type`: seed 001's fields for statement analysis events, a
/// marked sample object for the others.
pub fn sample_data(event_type: EventType) -> Value {
    let analysis = "477966ab-69b7-4253-a1c6-dd8700de6bd5";
    match event_type {
        EventType::StatementAnalysisRequested => json!({
            "statementAnalysisId": analysis, "agentId": 12345, "name": "Sample statement"
        }),
        EventType::StatementAnalysisCompleted => json!({
            "statementAnalysisId": analysis, "proposalId": "059036f7-2f35-43c5-b968-46dc082ecf33"
        }),
        EventType::StatementAnalysisRejected => json!({ "statementAnalysisId": analysis }),
        _ => json!({
            "sample": true,
            "object": event_type.as_str().split('.').next().unwrap_or_default(),
            "description": format!("A sample {} event", event_type.as_str()),
        }),
    }
}

/// Records a sample event of `event_type` for `org` now; its deliveries are queued with it.
pub async fn trigger(
    state: &App,
    org: &OrganizationId,
    event_type: EventType,
) -> ServiceResult<EventId> {
    let (org, now) = (org.clone(), state.clock.now());
    state
        .db
        .write(move |tx| {
            Box::pin(async move {
                crate::events::record(tx, &org, event_type, &sample_data(event_type), now).await
            })
        })
        .await
        .map_err(Into::into)
}
