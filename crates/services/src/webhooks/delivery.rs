//! The delivery worker. It claims due deliveries with a lease (one write transaction), sends
//! them with no transaction open, up to `webhook_concurrency` at a time, and records each
//! attempt with what follows it: delivered, tried again later, failed, or the endpoint
//! disabled. A worker that stops mid-send lets its lease run out and another sends the
//! delivery again, so every delivery is sent at least once; receivers dedupe on `webhook-id`.
//!
//! Batches are claimed in creation order and sent concurrently, so deliveries to one endpoint
//! start in order but may finish out of it, and a retry goes behind newer events.

use super::outbound::{ClientCertificate, LOGGED_BODY_BYTES, TokenGrant, describe, refused_url};
use super::{payload, signing};
use crate::App;
use crate::error::{ServiceError, ServiceResult};
use crate::resources::events::EventResponse;
use crate::resources::events::IsoAmpEvent;
use chrono::{DateTime, Utc};
use futures_util::StreamExt as _;
use quittance_domain::events::EventType;
use quittance_domain::ids::{AttemptId, EventId, WebhookId};
use quittance_domain::webhooks::{
    AccessType, AfterFailure, DeliveryStatus, Failure, KeyTransfer, PayloadFormat, WebhookApi,
};
use quittance_store::repo::webhooks::{
    self as store, AccessSetupRecord, AttemptRecord, Claimed, Outcome, WebhookRecord,
};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::Serialize;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Deliveries claimed per transaction.
const BATCH: i64 = 1024;

/// Results recorded per transaction, in waves of `webhook_concurrency`: what a process killed
/// mid-claim sent but had not recorded (and so is sent again) is at most two of these.
const RECORD_WAVES: usize = 8;

/// What one round of delivery did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Round {
    pub delivered: u64,
    pub retrying: u64,
    pub failed: u64,
    pub disabled: u64,
}

/// One attempt, for whoever watches the worker (`quittance webhooks listen` prints them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub event_id: EventId,
    pub event_type: EventType,
    pub webhook_id: WebhookId,
    pub status: DeliveryStatus,
    pub response_status: Option<i64>,
    pub error: Option<String>,
    /// The event as the endpoint received it (its JSON form).
    pub event_json: String,
}

/// An attempt made, not yet recorded.
struct Attempted {
    claimed: Claimed,
    log: AttemptRecord,
    success: bool,
    gone: bool,
    timed_out: bool,
    retry_after: Option<i64>,
    event_json: String,
}

/// Sends every delivery of `queue` that is due now ('' for the server's workers), until none
/// is left; `watch` sees each attempt once it is recorded. Tests call it to drive delivery
/// without waiting.
pub async fn deliver_due(
    state: &App,
    queue: &str,
    watch: &mut (dyn FnMut(&Sent) + Send),
) -> ServiceResult<Round> {
    let lease = seconds(state.config.webhook_lease_seconds);
    let concurrency = state.config.webhook_concurrency.max(1);
    let timeout = Duration::from_secs(state.config.webhook_timeout_seconds.max(1));
    let lease_length = Duration::from_secs(state.config.webhook_lease_seconds);
    let mut round = Round::default();
    // The previous results are recorded while the next ones are sent.
    let mut recording: Option<tokio::task::JoinHandle<ServiceResult<Recorded>>> = None;
    loop {
        let now = state.clock.now();
        // Each claim has its own name: its results are recorded while the next claim is sent,
        // and a claim's rows are found again by that name.
        let owner = uuid::Uuid::now_v7().simple().to_string();
        let (q, o) = (queue.to_owned(), owner.clone());
        let batch = state
            .db
            .write(move |tx| {
                Box::pin(async move { store::claim_due(tx, &q, now, now + lease, &o, BATCH).await })
            })
            .await?;
        if batch.is_empty() {
            break;
        }
        // A send started after this could outlast the lease (and be sent again by another
        // worker): the claim's first wave always goes, the rest only while time allows. What
        // is left waits, unsent, for its lease to pass.
        let start_by = Instant::now() + lease_length.saturating_sub(2 * timeout);
        let mut results = futures_util::stream::iter(batch.into_iter().enumerate())
            .take_while(|(i, _)| std::future::ready(*i < concurrency || Instant::now() < start_by))
            .map(|(_, claimed)| attempt(state, claimed))
            .buffer_unordered(concurrency)
            .chunks(concurrency.saturating_mul(RECORD_WAVES));
        while let Some(attempted) = results.next().await {
            if let Some(previous) = recording.take() {
                merge(&mut round, joined(previous).await?, watch);
            }
            recording = Some(tokio::spawn(record(
                state.clone(),
                attempted,
                owner.clone(),
            )));
        }
    }
    if let Some(previous) = recording {
        merge(&mut round, joined(previous).await?, watch);
    }
    Ok(round)
}

/// A configured number of seconds as a duration, saturating rather than overflowing.
fn seconds(value: u64) -> chrono::Duration {
    chrono::Duration::try_seconds(i64::try_from(value).unwrap_or(i64::MAX))
        .unwrap_or(chrono::Duration::MAX)
}

/// A recorded batch: its counts and its attempts.
type Recorded = (Round, Vec<Sent>);

async fn joined(task: tokio::task::JoinHandle<ServiceResult<Recorded>>) -> ServiceResult<Recorded> {
    task.await
        .map_err(|e| ServiceError::internal(format!("recording deliveries failed: {e}")))?
}

fn merge(into: &mut Round, (from, sent): Recorded, watch: &mut (dyn FnMut(&Sent) + Send)) {
    into.delivered += from.delivered;
    into.retrying += from.retrying;
    into.failed += from.failed;
    into.disabled += from.disabled;
    sent.iter().for_each(watch);
}

/// The worker inside `serve` (or `quittance worker`): delivers at once when this process
/// queues a delivery, and otherwise every `webhook_poll_interval_ms` (retries falling due,
/// deliveries queued by other processes), until a stop is asked for.
pub async fn run_until(
    state: App,
    queue: String,
    mut stop: crate::stop::Stop,
    mut watch: impl FnMut(&Sent) + Send,
) {
    let signal = state.db.outbox_signal();
    let interval = Duration::from_millis(state.config.webhook_poll_interval_ms.max(10));
    loop {
        match deliver_due(&state, &queue, &mut watch).await {
            Ok(round) if round != Round::default() => tracing::debug!(?round, "webhook deliveries"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e.message(), "webhook delivery round failed"),
        }
        tokio::select! {
            _ = tokio::time::timeout(interval, signal.notified()) => {}
            () = stop.requested() => return,
        }
    }
}

/// The event as an endpoint of `api` receives it, as JSON text: the ISO Amp face's shape for
/// ISO Amp endpoints, `/v1`'s for the others.
fn event_json(api: WebhookApi, claimed: &Claimed) -> ServiceResult<String> {
    let event = claimed.event.clone();
    let text = match api {
        WebhookApi::IsoAmp => serde_json::to_string(&IsoAmpEvent::new(event)?),
        WebhookApi::V1 | WebhookApi::Listener => serde_json::to_string(&EventResponse::new(event)?),
    };
    text.map_err(|e| ServiceError::internal(format!("cannot serialize an event: {e}")))
}

fn open(state: &App, record: &str, stored: &str) -> ServiceResult<String> {
    state
        .vault
        .open_stored(record, stored)
        .map_err(|e| ServiceError::internal(format!("{record}: {e}")))
}

/// How a delivery authenticates, with its secrets opened.
enum Credentials {
    None,
    Basic {
        user: String,
        password: String,
    },
    ApiKey {
        name: String,
        key: String,
        transfer: KeyTransfer,
    },
    OAuth2 {
        grant_url: String,
        client_id: String,
        secret: String,
        scope: Option<String>,
    },
}

fn credentials(state: &App, setup: &AccessSetupRecord) -> ServiceResult<Credentials> {
    let id = setup.id.as_str();
    let secret = || match &setup.sealed_secret {
        Some(stored) => open(state, id, stored),
        None => Err(ServiceError::internal(format!(
            "{id}: the secret is missing"
        ))),
    };
    Ok(match setup.access_type {
        AccessType::Basic => Credentials::Basic {
            user: setup.client_id.clone().unwrap_or_default(),
            password: secret()?,
        },
        AccessType::ApiKey => Credentials::ApiKey {
            name: setup.key_name.clone(),
            key: secret()?,
            transfer: setup.transfer.unwrap_or(KeyTransfer::Header),
        },
        AccessType::OAuth2 => Credentials::OAuth2 {
            grant_url: setup.token_url.clone().unwrap_or_default(),
            client_id: setup.client_id.clone().unwrap_or_default(),
            secret: secret()?,
            scope: setup.scope.clone(),
        },
        AccessType::MutualTls => Credentials::None,
    })
}

/// One request, ready to send (and to log).
struct Prepared {
    method: reqwest::Method,
    url: reqwest::Url,
    headers: HeaderMap,
    body: Option<Vec<u8>>,
    event_json: String,
}

fn header(headers: &mut HeaderMap, name: &str, value: &str) -> ServiceResult<()> {
    let name = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| ServiceError::internal(format!("{name:?} is not a header name")))?;
    let value = HeaderValue::from_str(value).map_err(|_| {
        ServiceError::internal(format!("the {name} header's value is not printable"))
    })?;
    headers.insert(name, value);
    Ok(())
}

/// Builds the request: the event in the endpoint's format and method, an API key where the
/// setup puts it, and the signatures over exactly what is sent.
fn prepare(
    state: &App,
    claimed: &Claimed,
    credentials: &Credentials,
    now: DateTime<Utc>,
) -> ServiceResult<Prepared> {
    let webhook = &claimed.webhook;
    let event_json = event_json(webhook.api, claimed)?;
    let body_key = match credentials {
        Credentials::ApiKey {
            name,
            key,
            transfer: KeyTransfer::Body,
        } => Some((name.as_str(), key.as_str())),
        _ => None,
    };
    let mut url = refused_url(&webhook.url, state.outbound.allowed())
        .map_err(|e| ServiceError::conflict(format!("the endpoint's URL {e}")))?;
    let value = || -> ServiceResult<serde_json::Value> {
        serde_json::from_str(&event_json)
            .map_err(|e| ServiceError::internal(format!("an event is not JSON: {e}")))
    };
    let mut headers = HeaderMap::new();
    let signed: Vec<u8>;
    let body = if webhook.method.in_query() {
        let mut pairs = payload::flatten(&value()?);
        if let Some((name, key)) = body_key {
            pairs.push((name.to_owned(), key.to_owned()));
        }
        let query = serde_urlencoded::to_string(&pairs)
            .map_err(|e| ServiceError::internal(format!("cannot encode a query: {e}")))?;
        // Receivers of GET and DELETE verify the signature over the query the event added.
        signed = query.clone().into_bytes();
        let joined = match url.query() {
            Some(existing) if !existing.is_empty() => format!("{existing}&{query}"),
            _ => query,
        };
        url.set_query(Some(&joined));
        None
    } else {
        let bytes = match (webhook.format, body_key) {
            // JSON keeps the event's field order; an API key goes in first.
            (PayloadFormat::Json, None) => event_json.clone().into_bytes(),
            (PayloadFormat::Json, Some((name, key))) => {
                let pair = serde_json::to_string(&serde_json::json!({ name: key }))
                    .map_err(|e| ServiceError::internal(e.to_string()))?;
                let rest = event_json.strip_prefix('{').unwrap_or(&event_json);
                format!("{},{rest}", pair.trim_end_matches('}')).into_bytes()
            }
            (format, None) => payload::render(&value()?, format),
            (format, Some((name, key))) => {
                let mut value = value()?;
                if let Some(object) = value.as_object_mut() {
                    object.insert(name.to_owned(), serde_json::Value::from(key));
                }
                payload::render(&value, format)
            }
        };
        header(&mut headers, "content-type", webhook.format.content_type())?;
        signed = bytes.clone();
        Some(bytes)
    };
    let id = match webhook.api {
        WebhookApi::IsoAmp => claimed.event.id.uuid().hyphenated().to_string(),
        WebhookApi::V1 | WebhookApi::Listener => claimed.event.id.to_string(),
    };
    let timestamp = now.timestamp();
    let secret = open(state, webhook.id.as_str(), &webhook.sealed_secret)?;
    let mut signatures = vec![signing::standard_signature(
        &secret, &id, timestamp, &signed,
    )];
    if let (Some(previous), Some(until)) = (
        &webhook.sealed_previous_secret,
        webhook.previous_secret_expires_at,
    ) && until > now
    {
        let previous = open(state, webhook.id.as_str(), previous)?;
        signatures.push(signing::standard_signature(
            &previous, &id, timestamp, &signed,
        ));
    }
    header(&mut headers, "webhook-id", &id)?;
    header(&mut headers, "webhook-timestamp", &timestamp.to_string())?;
    header(&mut headers, "webhook-signature", &signatures.join(" "))?;
    if webhook.api == WebhookApi::IsoAmp {
        header(
            &mut headers,
            "isoamp-signature",
            &signing::isoamp_signature(&secret, timestamp, &signed),
        )?;
    }
    match credentials {
        Credentials::Basic { user, password } => {
            use base64::Engine as _;
            let token =
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            header(&mut headers, "authorization", &format!("Basic {token}"))?;
        }
        Credentials::ApiKey {
            name,
            key,
            transfer: KeyTransfer::Header,
        } => header(&mut headers, name, key)?,
        Credentials::ApiKey { .. } | Credentials::OAuth2 { .. } | Credentials::None => {}
    }
    let method = match webhook.method {
        quittance_domain::webhooks::RequestMethod::Post => reqwest::Method::POST,
        quittance_domain::webhooks::RequestMethod::Put => reqwest::Method::PUT,
        quittance_domain::webhooks::RequestMethod::Get => reqwest::Method::GET,
        quittance_domain::webhooks::RequestMethod::Delete => reqwest::Method::DELETE,
    };
    Ok(Prepared {
        method,
        url,
        headers,
        body,
        event_json,
    })
}

/// The request as the log keeps it: the configured URL (a GET's query holds the event, and
/// perhaps an API key), and the headers with credentials masked.
#[derive(Serialize)]
struct LoggedRequest<'a> {
    method: &'a str,
    url: &'a str,
    headers: Vec<(String, String)>,
}

fn logged_request(
    prepared: &Prepared,
    webhook: &WebhookRecord,
    secret_header: Option<&str>,
) -> String {
    let headers = prepared
        .headers
        .iter()
        .map(|(name, value)| {
            let masked = name == "authorization" || Some(name.as_str()) == secret_header;
            let shown = if masked {
                "***".to_owned()
            } else {
                value.to_str().unwrap_or("?").to_owned()
            };
            (name.as_str().to_owned(), shown)
        })
        .collect();
    serde_json::to_string(&LoggedRequest {
        method: prepared.method.as_str(),
        url: &webhook.url,
        headers,
    })
    .unwrap_or_default()
}

/// The HTTP answer, as far as the log and the retry rules need it.
struct Answer {
    status: Option<u16>,
    retry_after: Option<i64>,
    body: Option<String>,
    error: Option<String>,
    timed_out: bool,
}

async fn send(client: &reqwest::Client, prepared: &Prepared, bearer: Option<&str>) -> Answer {
    let mut request = client
        .request(prepared.method.clone(), prepared.url.clone())
        .headers(prepared.headers.clone());
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    if let Some(body) = &prepared.body {
        request = request.body(body.clone());
    }
    match request.send().await {
        Err(e) => Answer {
            status: None,
            retry_after: None,
            body: None,
            error: Some(describe(&e)),
            timed_out: e.is_timeout(),
        },
        Ok(mut response) => {
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| retry_after_seconds(v, Utc::now()));
            let mut kept = Vec::new();
            let mut error = None;
            let mut timed_out = false;
            while kept.len() < LOGGED_BODY_BYTES {
                match response.chunk().await {
                    Ok(Some(chunk)) => kept.extend_from_slice(&chunk),
                    Ok(None) => break,
                    Err(e) => {
                        timed_out = e.is_timeout();
                        error = Some(describe(&e));
                        break;
                    }
                }
            }
            kept.truncate(LOGGED_BODY_BYTES);
            Answer {
                status: Some(status),
                retry_after,
                body: Some(String::from_utf8_lossy(&kept).into_owned()),
                error,
                timed_out,
            }
        }
    }
}

/// `Retry-After` as seconds from `now`: delta-seconds or an HTTP date.
fn retry_after_seconds(value: &str, now: DateTime<Utc>) -> Option<i64> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<i64>() {
        return Some(seconds.max(0));
    }
    DateTime::parse_from_rfc2822(value)
        .ok()
        .map(|at| (at.with_timezone(&Utc) - now).num_seconds().max(0))
}

async fn attempt(state: &App, claimed: Claimed) -> Attempted {
    let attempted_at = state.clock.now();
    let started = Instant::now();
    let (answer, request, event_json) = match try_attempt(state, &claimed, attempted_at).await {
        Ok(done) => done,
        Err(e) => (
            Answer {
                status: None,
                retry_after: None,
                body: None,
                error: Some(e.message().to_owned()),
                timed_out: false,
            },
            serde_json::json!({"url": claimed.webhook.url}).to_string(),
            String::new(),
        ),
    };
    let status = answer.status;
    Attempted {
        log: AttemptRecord {
            id: AttemptId::generate(),
            delivery_id: claimed.delivery.clone(),
            attempted_at,
            request,
            response_status: status.map(i64::from),
            response_body: answer.body,
            latency_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
            error: answer.error.clone(),
        },
        success: status.is_some_and(|s| (200..300).contains(&s)) && answer.error.is_none(),
        gone: status == Some(410),
        timed_out: answer.timed_out,
        retry_after: answer.retry_after,
        event_json,
        claimed,
    }
}

async fn try_attempt(
    state: &App,
    claimed: &Claimed,
    now: DateTime<Utc>,
) -> ServiceResult<(Answer, String, String)> {
    let setup = claimed.access_setup.as_ref();
    let credentials = match setup {
        Some(setup) => credentials(state, setup)?,
        None => Credentials::None,
    };
    let prepared = prepare(state, claimed, &credentials, now)?;
    let private_key = match setup.and_then(|s| s.sealed_private_key.as_ref().map(|k| (s, k))) {
        Some((s, stored)) => Some((s, open(state, s.id.as_str(), stored)?)),
        None => None,
    };
    let client = state
        .outbound
        .client(private_key.as_ref().and_then(|(s, key)| {
            Some(ClientCertificate {
                setup: &s.id,
                version: s.updated_at.timestamp_micros(),
                certificate_pem: s.certificate_pem.as_deref()?,
                private_key_pem: key,
            })
        }))
        .map_err(ServiceError::conflict)?;
    let secret_header = match &credentials {
        Credentials::ApiKey {
            name,
            transfer: KeyTransfer::Header,
            ..
        } => Some(name.to_ascii_lowercase()),
        _ => None,
    };
    let log = logged_request(&prepared, &claimed.webhook, secret_header.as_deref());
    let answer = match (&credentials, setup) {
        (
            Credentials::OAuth2 {
                grant_url,
                client_id,
                secret,
                scope,
            },
            Some(setup),
        ) => {
            let grant = TokenGrant {
                token_url: grant_url,
                client_id,
                client_secret: secret,
                scope: scope.as_deref(),
            };
            let token = state
                .outbound
                .access_token(&client, &setup.id, &grant)
                .await
                .map_err(ServiceError::conflict)?;
            let answer = send(&client, &prepared, Some(&token)).await;
            if answer.status == Some(401) {
                // The receiver no longer takes the cached token: fetch a new one, once.
                state.outbound.forget_token(&setup.id);
                let token = state
                    .outbound
                    .access_token(&client, &setup.id, &grant)
                    .await
                    .map_err(ServiceError::conflict)?;
                send(&client, &prepared, Some(&token)).await
            } else {
                answer
            }
        }
        _ => send(&client, &prepared, None).await,
    };
    Ok((answer, log, prepared.event_json))
}

/// Records a batch of attempts in one transaction, with the endpoints' health.
async fn record(state: App, attempted: Vec<Attempted>, owner: String) -> ServiceResult<Recorded> {
    let now = state.clock.now();
    let disable_after = seconds(state.config.webhook_disable_after_seconds);
    let mut round = Round::default();
    let mut sent = Vec::with_capacity(attempted.len());
    let mut outcomes = Vec::with_capacity(attempted.len());
    // Per endpoint: whether any attempt in the batch succeeded, and what a failure disables.
    let mut health: HashMap<WebhookId, (WebhookRecord, bool, Option<String>)> = HashMap::new();
    for a in attempted {
        let attempts = a.claimed.attempts + 1;
        let timeouts = a.claimed.timeouts + i64::from(a.timed_out);
        let (status, next) = if a.success {
            (DeliveryStatus::Delivered, None)
        } else if a.gone {
            (DeliveryStatus::Failed, None)
        } else {
            let jitter = i64::try_from(uuid::Uuid::now_v7().as_u128() % 1000).unwrap_or(0);
            let failure = Failure {
                attempts,
                timeouts,
                retry_after: a.retry_after,
            };
            match a.claimed.webhook.retry.after_failure(failure, now, jitter) {
                AfterFailure::RetryAt(at) => (DeliveryStatus::PendingRetry, Some(at)),
                AfterFailure::GiveUp => (DeliveryStatus::Failed, None),
            }
        };
        match status {
            DeliveryStatus::Delivered => round.delivered += 1,
            DeliveryStatus::PendingRetry => round.retrying += 1,
            DeliveryStatus::Failed | DeliveryStatus::Pending => round.failed += 1,
        }
        let entry = health
            .entry(a.claimed.webhook.id.clone())
            .or_insert_with(|| (a.claimed.webhook.clone(), false, None));
        entry.1 |= a.success;
        if a.gone {
            entry.2 = Some("the receiver answered 410 Gone".to_owned());
        }
        sent.push(Sent {
            event_id: a.claimed.event.id.clone(),
            event_type: a.claimed.event.event_type,
            webhook_id: a.claimed.webhook.id.clone(),
            status,
            response_status: a.log.response_status,
            error: a.log.error.clone(),
            event_json: a.event_json,
        });
        outcomes.push(Outcome {
            attempt: a.log,
            status,
            attempts,
            timeouts,
            next_attempt_at: next,
        });
    }
    let disabled = state
        .db
        .write(move |tx| {
            Box::pin(async move {
                for outcome in &outcomes {
                    store::record_outcome(tx, outcome, &owner).await?;
                }
                let mut disabled = 0u64;
                for (id, (webhook, any_success, gone)) in health {
                    let reason = if any_success {
                        store::mark_webhook_healthy(tx, &id).await?;
                        continue;
                    } else if let Some(reason) = gone {
                        reason
                    } else {
                        match store::mark_webhook_failing(tx, &id, now).await? {
                            Some(since) if now - since >= disable_after => format!(
                                "every delivery has failed since {}",
                                crate::resources::datetime(since)
                            ),
                            _ => continue,
                        }
                    };
                    if store::disable_webhook(tx, &id, &reason, now).await? {
                        disabled += 1;
                        crate::events::record(
                            tx,
                            &webhook.organization_id,
                            EventType::WebhookDisabled,
                            &serde_json::json!({
                                "webhook_id": id.as_str(),
                                "url": webhook.url,
                                "reason": reason,
                            }),
                            now,
                        )
                        .await?;
                    }
                }
                Ok::<_, ServiceError>(disabled)
            })
        })
        .await?;
    round.disabled = disabled;
    Ok((round, sent))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = DateTime::parse_from_rfc3339("2026-11-21T10:00:00Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default();
        assert_eq!(retry_after_seconds("120", now), Some(120));
        assert_eq!(retry_after_seconds(" 0 ", now), Some(0));
        assert_eq!(
            retry_after_seconds("Sat, 21 Nov 2026 10:01:30 GMT", now),
            Some(90)
        );
        assert_eq!(
            retry_after_seconds("Sat, 21 Nov 2026 09:00:00 GMT", now),
            Some(0)
        );
        assert_eq!(retry_after_seconds("soon", now), None);
    }
}
