//! Webhook endpoints as every face keeps them: the subscription's event types, the target
//! URL's checks, a new endpoint's defaults, and storing one with its access setup checked.
//! `v1::webhooks` and `isoamp::webhooks` translate their own bodies into these.

use crate::App;
use crate::error::{OrNotFound, ServiceError, ServiceResult};
use crate::webhooks::outbound::check_target;
use quittance_domain::FieldError;
use quittance_domain::events::EventType;
use quittance_domain::ids::{OrganizationId, WebhookId};
use quittance_domain::webhooks::{PayloadFormat, RequestMethod, RetryPolicy, WebhookApi};
use quittance_store::Tx;
use quittance_store::repo::webhooks::{self as store, WebhookRecord};

/// The most event types one endpoint subscribes to.
const MAX_EVENT_TYPES: usize = 64;
/// Longest target URL.
const MAX_URL: usize = 2048;
/// The event types of a subscription, resolved (aliases included), with the list as written.
pub fn event_types(field: &str, given: &[String]) -> Result<Vec<EventType>, FieldError> {
    if given.is_empty() {
        return Err(FieldError::new(field, "must name at least one event type"));
    }
    if given.len() > MAX_EVENT_TYPES {
        return Err(FieldError::new(
            field,
            format!("must name at most {MAX_EVENT_TYPES} event types"),
        ));
    }
    given
        .iter()
        .enumerate()
        .map(|(i, name)| {
            EventType::parse_subscription(name).ok_or_else(|| {
                FieldError::new(
                    format!("{field}[{i}]"),
                    format!(
                        "{name:?} is not an event type; one of {}",
                        EventType::choices()
                    ),
                )
            })
        })
        .collect()
}

/// Checks a target URL (form, length, address rules) as it is saved.
pub async fn target(app: &App, field: &str, url: &str) -> Result<String, FieldError> {
    if url.len() > MAX_URL {
        return Err(FieldError::new(
            field,
            format!("must be at most {MAX_URL} characters"),
        ));
    }
    check_target(url, app.outbound.allowed())
        .await
        .map(|_| url.to_owned())
        .map_err(|e| FieldError::new(field, e))
}

/// A new endpoint of `api`, enabled, with the default retry policy and a fresh secret.
pub fn new_record(
    app: &App,
    org: &OrganizationId,
    api: WebhookApi,
    url: String,
    event_types: Vec<String>,
    secret: &str,
) -> WebhookRecord {
    let now = app.clock.now();
    let id = WebhookId::generate();
    WebhookRecord {
        sealed_secret: app.vault.seal(id.as_str(), secret).to_stored(),
        id,
        number: None,
        organization_id: org.clone(),
        api,
        url,
        method: RequestMethod::Post,
        format: PayloadFormat::Json,
        event_types,
        access_setup_id: None,
        enabled: true,
        disabled_reason: None,
        retry: RetryPolicy::default(),
        sealed_previous_secret: None,
        previous_secret_expires_at: None,
        failing_since: None,
        expires_at: None,
        created_at: now,
        updated_at: now,
    }
}

/// The endpoint's access setup, if it names one, belongs to its organization.
async fn access_setup_exists(tx: &mut dyn Tx, record: &WebhookRecord) -> ServiceResult<()> {
    if let Some(setup) = &record.access_setup_id {
        store::get_access_setup(tx, &record.organization_id, setup)
            .await
            .or_not_found_in("webhook access setup", setup.as_str(), "access_setup_id")?;
    }
    Ok(())
}

/// Stores a new endpoint, checking its access setup belongs to the organization.
pub async fn insert(
    app: &App,
    record: WebhookRecord,
    subscriptions: Vec<EventType>,
) -> ServiceResult<WebhookRecord> {
    let stored = record.clone();
    app.db
        .write(move |tx| {
            Box::pin(async move {
                let mut stored = stored;
                access_setup_exists(tx, &stored).await?;
                if stored.api == WebhookApi::IsoAmp {
                    stored.number =
                        Some(store::next_iso_amp_number(tx, &stored.organization_id).await?);
                }
                store::insert_webhook(tx, &stored, &subscriptions).await?;
                Ok::<_, ServiceError>(stored)
            })
        })
        .await
}

/// Why an endpoint turned off by request is off.
pub const DISABLED_BY_REQUEST: &str = "disabled by request";

/// Writes `record` (with new subscriptions, if given); turning it off fails its open
/// deliveries.
pub async fn save(
    app: &App,
    record: WebhookRecord,
    subscriptions: Option<Vec<EventType>>,
    turned_off: bool,
) -> ServiceResult<()> {
    let now = app.clock.now();
    let id = record.id.to_string();
    app.db
        .write(move |tx| {
            Box::pin(async move {
                access_setup_exists(tx, &record).await?;
                store::update_webhook(tx, &record, subscriptions.as_deref())
                    .await
                    .or_not_found("webhook", &id)?;
                if turned_off {
                    store::fail_open_deliveries(tx, &record.id, DISABLED_BY_REQUEST, now).await?;
                }
                Ok::<_, ServiceError>(())
            })
        })
        .await
}
