//! Webhooks: access setups (how to authenticate to a receiver), endpoints with their
//! subscriptions, and the delivery outbox. [`queue_deliveries`] runs in the transaction that
//! records an event, so a delivery exists exactly when its event does; workers claim due
//! deliveries with a lease, send them outside any transaction, and record each attempt.

use super::events::Event;
use super::{PageRequest, Paged, decode_enum, instant, micros, opt_instant, opt_parsed, parsed};
use crate::{Backend, Row, StoreError, Tx, params};
use chrono::{DateTime, Utc};
use quittance_domain::events::EventType;
use quittance_domain::ids::{
    AccessSetupId, AttemptId, DeliveryId, EventId, OrganizationId, WebhookId,
};
use quittance_domain::webhooks::{
    AccessType, DeliveryStatus, KeyTransfer, PayloadFormat, RequestMethod, RetryPolicy,
    RetrySchedule, WebhookApi,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessSetupRecord {
    pub id: AccessSetupId,
    pub organization_id: OrganizationId,
    pub access_type: AccessType,
    pub key_name: String,
    pub api_name: String,
    pub client_id: Option<String>,
    pub transfer: Option<KeyTransfer>,
    pub token_url: Option<String>,
    pub scope: Option<String>,
    pub certificate_pem: Option<String>,
    /// The client secret or API key, sealed (`key_id:ciphertext`).
    pub sealed_secret: Option<String>,
    /// The mutual TLS private key, sealed.
    pub sealed_private_key: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const SETUP_COLUMNS: &str = "id, organization_id, type, key_name, api_name, client_id, transfer, \
    token_url, scope, certificate_pem, sealed_secret, sealed_private_key, created_at, updated_at";

/// Decodes an access setup from `row`'s columns starting at `at`.
fn decode_setup(row: &Row, at: usize) -> Result<AccessSetupRecord, StoreError> {
    Ok(AccessSetupRecord {
        id: parsed(row, at, AccessSetupId::parse, "access setup id")?,
        organization_id: parsed(row, at + 1, OrganizationId::parse, "organization id")?,
        access_type: decode_enum(row, at + 2, AccessType::parse)?,
        key_name: row.string(at + 3)?,
        api_name: row.string(at + 4)?,
        client_id: row.opt_string(at + 5)?,
        transfer: opt_parsed(row, at + 6, KeyTransfer::parse)?,
        token_url: row.opt_string(at + 7)?,
        scope: row.opt_string(at + 8)?,
        certificate_pem: row.opt_string(at + 9)?,
        sealed_secret: row.opt_string(at + 10)?,
        sealed_private_key: row.opt_string(at + 11)?,
        created_at: instant(row, at + 12)?,
        updated_at: instant(row, at + 13)?,
    })
}

pub async fn insert_access_setup(tx: &mut dyn Tx, s: &AccessSetupRecord) -> Result<(), StoreError> {
    tx.execute(
        &format!(
            "INSERT INTO webhook_access_setups ({SETUP_COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
        ),
        &params![
            s.id.as_str(),
            s.organization_id.as_str(),
            s.access_type.as_str(),
            &s.key_name,
            &s.api_name,
            &s.client_id,
            s.transfer.map(KeyTransfer::as_str),
            &s.token_url,
            &s.scope,
            &s.certificate_pem,
            &s.sealed_secret,
            &s.sealed_private_key,
            micros(s.created_at),
            micros(s.updated_at)
        ],
    )
    .await
    .map(drop)
}

/// Writes every field of `s` (found by organization and id).
pub async fn update_access_setup(tx: &mut dyn Tx, s: &AccessSetupRecord) -> Result<(), StoreError> {
    let changed = tx
        .execute(
            "UPDATE webhook_access_setups SET type = $3, key_name = $4, api_name = $5,
                 client_id = $6, transfer = $7, token_url = $8, scope = $9, certificate_pem = $10,
                 sealed_secret = $11, sealed_private_key = $12, updated_at = $13
             WHERE organization_id = $1 AND id = $2",
            &params![
                s.organization_id.as_str(),
                s.id.as_str(),
                s.access_type.as_str(),
                &s.key_name,
                &s.api_name,
                &s.client_id,
                s.transfer.map(KeyTransfer::as_str),
                &s.token_url,
                &s.scope,
                &s.certificate_pem,
                &s.sealed_secret,
                &s.sealed_private_key,
                micros(s.updated_at)
            ],
        )
        .await?;
    found(changed)
}

fn found(changed: u64) -> Result<(), StoreError> {
    if changed == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

pub async fn get_access_setup(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    id: &AccessSetupId,
) -> Result<AccessSetupRecord, StoreError> {
    let row = tx
        .query_one(
            &format!(
                "SELECT {SETUP_COLUMNS} FROM webhook_access_setups
                 WHERE organization_id = $1 AND id = $2"
            ),
            &params![org.as_str(), id.as_str()],
        )
        .await?;
    decode_setup(&row, 0)
}

pub async fn list_access_setups(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    page: PageRequest,
) -> Result<Paged<AccessSetupRecord>, StoreError> {
    let rows = tx
        .query(
            &format!(
                "SELECT {SETUP_COLUMNS} FROM webhook_access_setups WHERE organization_id = $1
                 ORDER BY id LIMIT $2 OFFSET $3"
            ),
            &params![org.as_str(), page.per_page, page.offset()],
        )
        .await?;
    let total = tx
        .query_one(
            "SELECT COUNT(*) FROM webhook_access_setups WHERE organization_id = $1",
            &params![org.as_str()],
        )
        .await?
        .i64(0)?;
    Ok(Paged {
        items: rows
            .iter()
            .map(|r| decode_setup(r, 0))
            .collect::<Result<_, _>>()?,
        total,
    })
}

/// A webhook that authenticates with the setup, if any does.
pub async fn webhook_using_setup(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    id: &AccessSetupId,
) -> Result<Option<WebhookId>, StoreError> {
    tx.query_opt(
        "SELECT id FROM webhooks WHERE organization_id = $1 AND access_setup_id = $2 LIMIT 1",
        &params![org.as_str(), id.as_str()],
    )
    .await?
    .map(|row| parsed(&row, 0, WebhookId::parse, "webhook id"))
    .transpose()
}

pub async fn delete_access_setup(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    id: &AccessSetupId,
) -> Result<(), StoreError> {
    let changed = tx
        .execute(
            "DELETE FROM webhook_access_setups WHERE organization_id = $1 AND id = $2",
            &params![org.as_str(), id.as_str()],
        )
        .await?;
    found(changed)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookRecord {
    pub id: WebhookId,
    /// The ISO Amp face's integer id.
    pub number: Option<i64>,
    pub organization_id: OrganizationId,
    pub api: WebhookApi,
    pub url: String,
    pub method: RequestMethod,
    pub format: PayloadFormat,
    /// The event types as the caller wrote them (`analysis.completed` stays so).
    pub event_types: Vec<String>,
    pub access_setup_id: Option<AccessSetupId>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub retry: RetryPolicy,
    /// The signing secret, sealed (`key_id:ciphertext`).
    pub sealed_secret: String,
    pub sealed_previous_secret: Option<String>,
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    pub failing_since: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const WEBHOOK_COLUMNS: &str = "id, number, organization_id, api, url, method, format, \
    event_types, access_setup_id, enabled, disabled_reason, retry_schedule, \
    retry_interval_seconds, max_attempts, sealed_secret, sealed_previous_secret, \
    previous_secret_expires_at, failing_since, expires_at, created_at, updated_at";
const WEBHOOK_WIDTH: usize = 21;

fn decode_webhook(row: &Row, at: usize) -> Result<WebhookRecord, StoreError> {
    Ok(WebhookRecord {
        id: parsed(row, at, WebhookId::parse, "webhook id")?,
        number: row.opt_i64(at + 1)?,
        organization_id: parsed(row, at + 2, OrganizationId::parse, "organization id")?,
        api: decode_enum(row, at + 3, WebhookApi::parse)?,
        url: row.string(at + 4)?,
        method: decode_enum(row, at + 5, RequestMethod::parse)?,
        format: decode_enum(row, at + 6, PayloadFormat::parse)?,
        event_types: row
            .str(at + 7)?
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
        access_setup_id: opt_parsed(row, at + 8, AccessSetupId::parse)?,
        enabled: row.bool(at + 9)?,
        disabled_reason: row.opt_string(at + 10)?,
        retry: RetryPolicy {
            schedule: decode_enum(row, at + 11, RetrySchedule::parse)?,
            interval_seconds: row.i64(at + 12)?,
            max_attempts: row.i64(at + 13)?,
        },
        sealed_secret: row.string(at + 14)?,
        sealed_previous_secret: row.opt_string(at + 15)?,
        previous_secret_expires_at: opt_instant(row, at + 16)?,
        failing_since: opt_instant(row, at + 17)?,
        expires_at: opt_instant(row, at + 18)?,
        created_at: instant(row, at + 19)?,
        updated_at: instant(row, at + 20)?,
    })
}

/// The next ISO Amp webhook number of `org`; concurrent callers wait on its counter's row.
/// Numbers start at 1001 in each organization.
pub async fn next_iso_amp_number(tx: &mut dyn Tx, org: &OrganizationId) -> Result<i64, StoreError> {
    tx.query_one(
        "INSERT INTO counters (name, value) VALUES ($1, 1001)
         ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value",
        &params![format!("iso_amp_webhook:{}", org.as_str())],
    )
    .await?
    .i64(0)
}

pub async fn insert_webhook(
    tx: &mut dyn Tx,
    w: &WebhookRecord,
    subscriptions: &[EventType],
) -> Result<(), StoreError> {
    tx.execute(
        &format!(
            "INSERT INTO webhooks ({WEBHOOK_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,
                 $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)"
        ),
        &params![
            w.id.as_str(),
            w.number,
            w.organization_id.as_str(),
            w.api.as_str(),
            &w.url,
            w.method.as_str(),
            w.format.as_str(),
            w.event_types.join(" "),
            w.access_setup_id.as_ref().map(AccessSetupId::as_str),
            w.enabled,
            &w.disabled_reason,
            w.retry.schedule.as_str(),
            w.retry.interval_seconds,
            w.retry.max_attempts,
            &w.sealed_secret,
            &w.sealed_previous_secret,
            w.previous_secret_expires_at.map(micros),
            w.failing_since.map(micros),
            w.expires_at.map(micros),
            micros(w.created_at),
            micros(w.updated_at)
        ],
    )
    .await?;
    subscribe(tx, w, subscriptions).await
}

async fn subscribe(
    tx: &mut dyn Tx,
    w: &WebhookRecord,
    subscriptions: &[EventType],
) -> Result<(), StoreError> {
    for event_type in subscriptions {
        tx.execute(
            "INSERT INTO webhook_subscriptions (organization_id, event_type, webhook_id)
             VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            &params![
                w.organization_id.as_str(),
                event_type.as_str(),
                w.id.as_str()
            ],
        )
        .await?;
    }
    Ok(())
}

/// Writes every field of `w` (found by organization and id); `subscriptions`, when given,
/// replace the endpoint's.
pub async fn update_webhook(
    tx: &mut dyn Tx,
    w: &WebhookRecord,
    subscriptions: Option<&[EventType]>,
) -> Result<(), StoreError> {
    let changed = tx
        .execute(
            "UPDATE webhooks SET url = $3, method = $4, format = $5, event_types = $6,
                 access_setup_id = $7, enabled = $8, disabled_reason = $9, retry_schedule = $10,
                 retry_interval_seconds = $11, max_attempts = $12, sealed_secret = $13,
                 sealed_previous_secret = $14, previous_secret_expires_at = $15,
                 failing_since = $16, expires_at = $17, updated_at = $18
             WHERE organization_id = $1 AND id = $2",
            &params![
                w.organization_id.as_str(),
                w.id.as_str(),
                &w.url,
                w.method.as_str(),
                w.format.as_str(),
                w.event_types.join(" "),
                w.access_setup_id.as_ref().map(AccessSetupId::as_str),
                w.enabled,
                &w.disabled_reason,
                w.retry.schedule.as_str(),
                w.retry.interval_seconds,
                w.retry.max_attempts,
                &w.sealed_secret,
                &w.sealed_previous_secret,
                w.previous_secret_expires_at.map(micros),
                w.failing_since.map(micros),
                w.expires_at.map(micros),
                micros(w.updated_at)
            ],
        )
        .await?;
    found(changed)?;
    if let Some(subscriptions) = subscriptions {
        tx.execute(
            "DELETE FROM webhook_subscriptions WHERE webhook_id = $1",
            &params![w.id.as_str()],
        )
        .await?;
        subscribe(tx, w, subscriptions).await?;
    }
    Ok(())
}

pub async fn get_webhook(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    id: &WebhookId,
) -> Result<WebhookRecord, StoreError> {
    let row = tx
        .query_one(
            &format!(
                "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE organization_id = $1 AND id = $2"
            ),
            &params![org.as_str(), id.as_str()],
        )
        .await?;
    decode_webhook(&row, 0)
}

/// An ISO Amp webhook by its integer id.
pub async fn get_webhook_by_number(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    number: i64,
) -> Result<WebhookRecord, StoreError> {
    let row = tx
        .query_one(
            &format!(
                "SELECT {WEBHOOK_COLUMNS} FROM webhooks
                 WHERE organization_id = $1 AND number = $2 AND api = 'iso_amp'"
            ),
            &params![org.as_str(), number],
        )
        .await?;
    decode_webhook(&row, 0)
}

/// The organization's webhooks, oldest first; `api` narrows them to one face's.
pub async fn list_webhooks(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    api: Option<WebhookApi>,
    page: PageRequest,
) -> Result<Paged<WebhookRecord>, StoreError> {
    let mut w = super::Conditions::new("organization_id = ?", org.as_str().into());
    if let Some(api) = api {
        w.and("api = ?", api.as_str().into());
    }
    let count = format!("SELECT COUNT(*) FROM webhooks WHERE {}", w.sql());
    let total = tx.query_one(&count, &w.args).await?.i64(0)?;
    let limit = w.bind(page.per_page.into());
    let offset = w.bind(page.offset().into());
    let sql = format!(
        "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE {} ORDER BY id LIMIT {limit} OFFSET {offset}",
        w.sql()
    );
    let rows = tx.query(&sql, &w.args).await?;
    Ok(Paged {
        items: rows
            .iter()
            .map(|r| decode_webhook(r, 0))
            .collect::<Result<_, _>>()?,
        total,
    })
}

/// Deletes an endpoint with its subscriptions, deliveries and their log.
pub async fn delete_webhook(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    id: &WebhookId,
) -> Result<(), StoreError> {
    let args = params![org.as_str(), id.as_str()];
    tx.execute(
        "DELETE FROM webhook_attempts WHERE delivery_id IN
             (SELECT id FROM webhook_deliveries WHERE organization_id = $1 AND webhook_id = $2)",
        &args,
    )
    .await?;
    tx.execute(
        "DELETE FROM webhook_deliveries WHERE organization_id = $1 AND webhook_id = $2",
        &args,
    )
    .await?;
    tx.execute(
        "DELETE FROM webhook_subscriptions WHERE organization_id = $1 AND webhook_id = $2",
        &args,
    )
    .await?;
    let changed = tx
        .execute(
            "DELETE FROM webhooks WHERE organization_id = $1 AND id = $2",
            &args,
        )
        .await?;
    found(changed)
}

/// Keeps a listener endpoint until `expires_at`, touching nothing else about it.
pub async fn renew_listener(
    tx: &mut dyn Tx,
    id: &WebhookId,
    expires_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let changed = tx
        .execute(
            "UPDATE webhooks SET expires_at = $2 WHERE id = $1 AND api = 'listener'",
            &params![id.as_str(), micros(expires_at)],
        )
        .await?;
    found(changed)
}

/// Listener endpoints whose `expires_at` has passed (their `listen` stopped without cleaning
/// up).
pub async fn expired_listeners(
    tx: &mut dyn Tx,
    now: DateTime<Utc>,
) -> Result<Vec<(OrganizationId, WebhookId)>, StoreError> {
    let rows = tx
        .query(
            "SELECT organization_id, id FROM webhooks WHERE api = 'listener' AND expires_at < $1",
            &params![micros(now)],
        )
        .await?;
    rows.iter()
        .map(|row| {
            Ok((
                parsed(row, 0, OrganizationId::parse, "organization id")?,
                parsed(row, 1, WebhookId::parse, "webhook id")?,
            ))
        })
        .collect()
}

/// A delivery claimed by a worker, with all it needs to send it.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub delivery: DeliveryId,
    pub attempts: i64,
    pub timeouts: i64,
    pub event: Event,
    pub webhook: WebhookRecord,
    pub access_setup: Option<AccessSetupRecord>,
}

/// Claims up to `limit` deliveries of `queue` due at `now`, oldest first, until
/// `lease_until`, under the name `owner`. A delivery another worker holds is skipped.
pub async fn claim_due(
    tx: &mut dyn Tx,
    queue: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    owner: &str,
    limit: i64,
) -> Result<Vec<Claimed>, StoreError> {
    // PostgreSQL: SKIP LOCKED lets several workers claim side by side, each re-checking the
    // lease on the rows it locks. SQLite has one writer, so the plain UPDATE is already alone.
    let lock = match tx.backend() {
        Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    tx.execute(
        &format!(
            "UPDATE webhook_deliveries SET lease_until = $3, lease_owner = $4
             WHERE id IN (SELECT id FROM webhook_deliveries
                          WHERE queue = $1 AND next_attempt_at <= $2
                            AND (lease_until IS NULL OR lease_until < $2)
                          ORDER BY next_attempt_at, id LIMIT $5 {lock})
               AND (lease_until IS NULL OR lease_until < $2)"
        ),
        &params![queue, micros(now), micros(lease_until), owner, limit],
    )
    .await?;
    let webhook_columns = prefixed("w", WEBHOOK_COLUMNS);
    let setup_columns = prefixed("s", SETUP_COLUMNS);
    let rows = tx
        .query(
            &format!(
                "SELECT d.id, d.attempts, d.timeouts, e.id, e.organization_id, e.type, e.data,
                     e.created_at, {webhook_columns}, {setup_columns}
                 FROM webhook_deliveries d
                 JOIN events e ON e.id = d.event_id
                 JOIN webhooks w ON w.id = d.webhook_id
                 LEFT JOIN webhook_access_setups s ON s.id = w.access_setup_id
                 WHERE d.queue = $1 AND d.next_attempt_at <= $2 AND d.lease_owner = $3
                   AND d.lease_until = $4
                 ORDER BY d.next_attempt_at, d.id"
            ),
            &params![queue, micros(now), owner, micros(lease_until)],
        )
        .await?;
    rows.iter()
        .map(|row| {
            let setup_at = 8 + WEBHOOK_WIDTH;
            Ok(Claimed {
                delivery: parsed(row, 0, DeliveryId::parse, "delivery id")?,
                attempts: row.i64(1)?,
                timeouts: row.i64(2)?,
                event: Event {
                    id: parsed(row, 3, EventId::parse, "event id")?,
                    organization_id: parsed(row, 4, OrganizationId::parse, "organization id")?,
                    event_type: decode_enum(row, 5, EventType::parse)?,
                    data: row.string(6)?,
                    created_at: instant(row, 7)?,
                },
                webhook: decode_webhook(row, 8)?,
                access_setup: match row.opt_string(setup_at)? {
                    None => None,
                    Some(_) => Some(decode_setup(row, setup_at)?),
                },
            })
        })
        .collect()
}

/// `a, b` as `p.a, p.b`.
fn prefixed(table: &str, columns: &str) -> String {
    columns
        .split(',')
        .map(|c| format!("{table}.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One attempt, as the delivery log keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRecord {
    pub id: AttemptId,
    pub delivery_id: DeliveryId,
    pub attempted_at: DateTime<Utc>,
    /// Method, URL and headers as JSON, credentials masked.
    pub request: String,
    pub response_status: Option<i64>,
    /// The first 1 KiB of the response body.
    pub response_body: Option<String>,
    pub latency_ms: i64,
    pub error: Option<String>,
}

const ATTEMPT_COLUMNS: &str =
    "id, delivery_id, attempted_at, request, response_status, response_body, latency_ms, error";

fn decode_attempt(row: &Row) -> Result<AttemptRecord, StoreError> {
    Ok(AttemptRecord {
        id: parsed(row, 0, AttemptId::parse, "attempt id")?,
        delivery_id: parsed(row, 1, DeliveryId::parse, "delivery id")?,
        attempted_at: instant(row, 2)?,
        request: row.string(3)?,
        response_status: row.opt_i64(4)?,
        response_body: row.opt_string(5)?,
        latency_ms: row.i64(6)?,
        error: row.opt_string(7)?,
    })
}

/// Where a delivery stands after an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub attempt: AttemptRecord,
    pub status: DeliveryStatus,
    pub attempts: i64,
    pub timeouts: i64,
    /// When to try again; `None` once delivered or failed.
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// Logs the attempt and, if `owner` still holds the delivery, moves it on and frees it.
/// Returns whether the delivery was still held.
pub async fn record_outcome(
    tx: &mut dyn Tx,
    outcome: &Outcome,
    owner: &str,
) -> Result<bool, StoreError> {
    let a = &outcome.attempt;
    tx.execute(
        &format!("INSERT INTO webhook_attempts ({ATTEMPT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"),
        &params![
            a.id.as_str(),
            a.delivery_id.as_str(),
            micros(a.attempted_at),
            &a.request,
            a.response_status,
            &a.response_body,
            a.latency_ms,
            &a.error
        ],
    )
    .await?;
    let changed = tx
        .execute(
            "UPDATE webhook_deliveries SET status = $3, attempts = $4, timeouts = $5,
                 next_attempt_at = $6, lease_until = NULL, lease_owner = NULL,
                 last_attempt_at = $7, last_response_status = $8, last_error = $9, updated_at = $7
             WHERE id = $1 AND lease_owner = $2",
            &params![
                a.delivery_id.as_str(),
                owner,
                outcome.status.as_str(),
                outcome.attempts,
                outcome.timeouts,
                outcome.next_attempt_at.map(micros),
                micros(a.attempted_at),
                a.response_status,
                &a.error
            ],
        )
        .await?;
    Ok(changed > 0)
}

/// The endpoint answered well: it is no longer failing.
pub async fn mark_webhook_healthy(tx: &mut dyn Tx, id: &WebhookId) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE webhooks SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL",
        &params![id.as_str()],
    )
    .await
    .map(drop)
}

/// The endpoint failed at `now`: returns since when it has been failing, if it still exists
/// and is enabled.
pub async fn mark_webhook_failing(
    tx: &mut dyn Tx,
    id: &WebhookId,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    tx.query_opt(
        "UPDATE webhooks SET failing_since = COALESCE(failing_since, $2)
         WHERE id = $1 AND enabled RETURNING failing_since",
        &params![id.as_str(), micros(now)],
    )
    .await?
    .map(|row| instant(&row, 0))
    .transpose()
}

/// Turns an enabled endpoint off and fails its open deliveries with `reason`. Returns whether
/// it was enabled.
pub async fn disable_webhook(
    tx: &mut dyn Tx,
    id: &WebhookId,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let changed = tx
        .execute(
            "UPDATE webhooks SET enabled = FALSE, disabled_reason = $2, updated_at = $3
             WHERE id = $1 AND enabled",
            &params![id.as_str(), reason, micros(now)],
        )
        .await?;
    if changed > 0 {
        fail_open_deliveries(tx, id, reason, now).await?;
    }
    Ok(changed > 0)
}

/// Fails every open delivery of an endpoint that was turned off, with `reason`.
pub async fn fail_open_deliveries(
    tx: &mut dyn Tx,
    id: &WebhookId,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    tx.execute(
        "UPDATE webhook_deliveries SET status = 'failed', next_attempt_at = NULL,
             lease_until = NULL, lease_owner = NULL, last_error = $2, updated_at = $3
         WHERE webhook_id = $1 AND next_attempt_at IS NOT NULL",
        &params![id.as_str(), reason, micros(now)],
    )
    .await
}

/// A delivery as the log shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRecord {
    pub id: DeliveryId,
    pub webhook_id: WebhookId,
    pub event_id: EventId,
    pub event_type: EventType,
    pub status: DeliveryStatus,
    pub attempts: i64,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub last_response_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Every attempt, oldest first.
    pub log: Vec<AttemptRecord>,
}

const DELIVERY_COLUMNS: &str = "d.id, d.webhook_id, d.event_id, e.type, d.status, d.attempts, \
    d.next_attempt_at, d.last_attempt_at, d.last_response_status, d.last_error, d.created_at, \
    d.updated_at";

async fn decode_delivery(tx: &mut dyn Tx, row: &Row) -> Result<DeliveryRecord, StoreError> {
    let id = parsed(row, 0, DeliveryId::parse, "delivery id")?;
    let log = tx
        .query(
            &format!(
                "SELECT {ATTEMPT_COLUMNS} FROM webhook_attempts WHERE delivery_id = $1 ORDER BY id"
            ),
            &params![id.as_str()],
        )
        .await?
        .iter()
        .map(decode_attempt)
        .collect::<Result<_, _>>()?;
    Ok(DeliveryRecord {
        id,
        webhook_id: parsed(row, 1, WebhookId::parse, "webhook id")?,
        event_id: parsed(row, 2, EventId::parse, "event id")?,
        event_type: decode_enum(row, 3, EventType::parse)?,
        status: decode_enum(row, 4, DeliveryStatus::parse)?,
        attempts: row.i64(5)?,
        next_attempt_at: opt_instant(row, 6)?,
        last_attempt_at: opt_instant(row, 7)?,
        last_response_status: row.opt_i64(8)?,
        last_error: row.opt_string(9)?,
        created_at: instant(row, 10)?,
        updated_at: instant(row, 11)?,
        log,
    })
}

/// Whose deliveries to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveriesOf {
    Webhook(WebhookId),
    Event(EventId),
}

/// Up to `limit` deliveries, newest first, older than `before` when given; and whether more
/// follow.
pub async fn list_deliveries(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    of: &DeliveriesOf,
    before: Option<&DeliveryId>,
    limit: i64,
) -> Result<(Vec<DeliveryRecord>, bool), StoreError> {
    let mut w = super::Conditions::new("d.organization_id = ?", org.as_str().into());
    match of {
        DeliveriesOf::Webhook(id) => w.and("d.webhook_id = ?", id.as_str().into()),
        DeliveriesOf::Event(id) => w.and("d.event_id = ?", id.as_str().into()),
    }
    if let Some(before) = before {
        w.and("d.id < ?", before.as_str().into());
    }
    let limit_at = w.bind((limit + 1).into());
    let sql = format!(
        "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries d JOIN events e ON e.id = d.event_id
         WHERE {} ORDER BY d.id DESC LIMIT {limit_at}",
        w.sql()
    );
    let rows = tx.query(&sql, &w.args).await?;
    let has_more = rows.len() > usize::try_from(limit).unwrap_or(0);
    let mut out = Vec::with_capacity(rows.len());
    for row in rows.iter().take(usize::try_from(limit).unwrap_or(0)) {
        out.push(decode_delivery(tx, row).await?);
    }
    Ok((out, has_more))
}

pub async fn get_delivery(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    id: &DeliveryId,
) -> Result<DeliveryRecord, StoreError> {
    let row = tx
        .query_one(
            &format!(
                "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries d
                 JOIN events e ON e.id = d.event_id WHERE d.organization_id = $1 AND d.id = $2"
            ),
            &params![org.as_str(), id.as_str()],
        )
        .await?;
    decode_delivery(tx, &row).await
}

/// Makes a delivery due now with a fresh set of attempts, unless a worker holds it (`false`).
pub async fn requeue_delivery(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    id: &DeliveryId,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let changed = tx
        .execute(
            "UPDATE webhook_deliveries SET status = 'pending_retry', attempts = 0, timeouts = 0,
                 next_attempt_at = $3, updated_at = $3
             WHERE organization_id = $1 AND id = $2 AND (lease_until IS NULL OR lease_until < $3)",
            &params![org.as_str(), id.as_str(), micros(now)],
        )
        .await?;
    if changed > 0 {
        tx.signal_outbox();
    }
    Ok(changed > 0)
}

/// Makes every failed delivery of the endpoint created at or after `since` due now, with a
/// fresh set of attempts; returns how many.
pub async fn requeue_failed_since(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    webhook: &WebhookId,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let changed = tx
        .execute(
            "UPDATE webhook_deliveries SET status = 'pending_retry', attempts = 0, timeouts = 0,
                 next_attempt_at = $4, updated_at = $4
             WHERE organization_id = $1 AND webhook_id = $2 AND status = 'failed'
               AND created_at >= $3",
            &params![org.as_str(), webhook.as_str(), micros(since), micros(now)],
        )
        .await?;
    if changed > 0 {
        tx.signal_outbox();
    }
    Ok(changed)
}
