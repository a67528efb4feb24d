//! Participants: who may create hosted sessions. Each has a numeric `participant_id`, an HMAC
//! `username` and `secret` (shown once; sealed by the vault, since verifying a signature needs
//! it), an ordered allow-list of host URIs (the first is the default `host_uri`), whether
//! PayPal is offered, and the verification attempt thresholds.

use crate::App;
use crate::error::{ErrorClass, OrNotFound, ServiceError, ServiceResult};
use quittance_domain::ids::OrganizationId;
use quittance_domain::secret::{Secret, random_hex};
use quittance_store::StoreError;
use quittance_store::repo::ingo::{self, Participant, Thresholds};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Failed attempts allowed when none are given: three per verification feature, five for the
/// whole session.
pub const DEFAULT_THRESHOLDS: Thresholds = Thresholds {
    recipient: 3,
    account: 3,
    session: 5,
};

/// The most host URIs one participant may list.
const MAX_HOST_URIS: usize = 20;

/// A participant with its secret opened, as a signed request needs it.
pub struct Verifier {
    pub participant: Participant,
    pub secret: Secret,
}

/// How long a participant is kept in [`ParticipantCache`].
pub const CACHE_LIFETIME: Duration = Duration::from_secs(1);
/// The most participants kept; past it the cache starts again empty.
const CACHE_CAPACITY: usize = 4096;

/// Participants by username, kept for [`CACHE_LIFETIME`]: every signed request needs one,
/// and reading it and opening its secret each time costs a database read and a decryption.
/// A change made through this process forgets them at once; one made by another process (the
/// CLI, another server) is seen within the lifetime.
#[derive(Default)]
pub struct ParticipantCache(Mutex<HashMap<String, (Instant, Arc<Verifier>)>>);

impl ParticipantCache {
    pub fn get(&self, username: &str) -> Option<Arc<Verifier>> {
        self.get_at(username, Instant::now())
    }

    fn get_at(&self, username: &str, now: Instant) -> Option<Arc<Verifier>> {
        let cache = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        cache
            .get(username)
            .filter(|(at, _)| now.saturating_duration_since(*at) < CACHE_LIFETIME)
            .map(|(_, v)| v.clone())
    }

    pub fn put(&self, verifier: Arc<Verifier>) {
        let mut cache = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if cache.len() >= CACHE_CAPACITY {
            cache.clear();
        }
        cache.insert(
            verifier.participant.username.clone(),
            (Instant::now(), verifier),
        );
    }

    /// After any change to a participant (changes are rare: all are forgotten).
    pub fn forget_all(&self) {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }
}

/// A participant as shown (never its secret).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ParticipantView {
    pub participant_id: i64,
    pub username: String,
    /// The allow-list, in order; the first is the default `host_uri`.
    pub host_uris: Vec<String>,
    pub paypal_enabled: bool,
    pub recipient_verification_attempts: i64,
    pub account_verification_attempts: i64,
    pub session_attempts: i64,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&Participant> for ParticipantView {
    fn from(p: &Participant) -> Self {
        ParticipantView {
            participant_id: p.participant_id,
            username: p.username.clone(),
            host_uris: p.host_uris.clone(),
            paypal_enabled: p.paypal_enabled,
            recipient_verification_attempts: p.thresholds.recipient,
            account_verification_attempts: p.thresholds.account,
            session_attempts: p.thresholds.session,
            created_at: crate::resources::datetime(p.created_at),
            updated_at: crate::resources::datetime(p.updated_at),
        }
    }
}

/// A new participant, or a new secret: the secret is shown this once.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IssuedParticipant {
    #[serde(flatten)]
    pub participant: ParticipantView,
    #[schema(value_type = String)]
    #[serde(serialize_with = "expose")]
    pub secret: Secret,
}

fn expose<S: serde::Serializer>(secret: &Secret, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(secret.expose())
}

/// What may be set on a participant; `None` leaves a field as it is (or its default, when
/// creating).
#[derive(Debug, Clone, Default)]
pub struct ParticipantChanges {
    pub host_uris: Option<Vec<String>>,
    pub paypal_enabled: Option<bool>,
    pub recipient_attempts: Option<i64>,
    pub account_attempts: Option<i64>,
    pub session_attempts: Option<i64>,
}

/// A host URI in the form compared against: `scheme://host[:port]`, lowercase, no path.
/// HTTPS, or HTTP for this machine only (`localhost`, `127.0.0.1`, `[::1]`), for testing.
pub fn normalize_host_uri(text: &str) -> Option<String> {
    let text = text.trim();
    let (scheme, rest) = text.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let authority = rest.strip_suffix('/').unwrap_or(rest).to_ascii_lowercase();
    let well_formed = !authority.is_empty()
        && authority.len() <= 190
        && authority
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b));
    if !well_formed {
        return None;
    }
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    let local = matches!(host, "localhost" | "127.0.0.1" | "::1");
    match scheme.as_str() {
        "https" => Some(format!("https://{authority}")),
        "http" if local => Some(format!("http://{authority}")),
        _ => None,
    }
}

fn checked(
    changes: &ParticipantChanges,
    current: Option<&Participant>,
) -> ServiceResult<(Vec<String>, bool, Thresholds)> {
    let host_uris = match &changes.host_uris {
        Some(given) => {
            if given.is_empty() || given.len() > MAX_HOST_URIS {
                return Err(ServiceError::unprocessable(
                    "host_uris",
                    format!("host_uris: give 1 to {MAX_HOST_URIS} host URIs"),
                ));
            }
            let mut uris = Vec::new();
            for (i, uri) in given.iter().enumerate() {
                let uri = normalize_host_uri(uri).ok_or_else(|| {
                    ServiceError::unprocessable(
                        format!("host_uris[{i}]"),
                        format!("host_uris[{i}]: {uri:?} is not an https:// origin (scheme and host, no path; http:// only for localhost)"),
                    )
                })?;
                if !uris.contains(&uri) {
                    uris.push(uri);
                }
            }
            uris
        }
        None => match current {
            Some(p) => p.host_uris.clone(),
            None => {
                return Err(ServiceError::unprocessable(
                    "host_uris",
                    "host_uris: a participant needs at least one host URI",
                ));
            }
        },
    };
    let base = current.map_or(DEFAULT_THRESHOLDS, |p| p.thresholds);
    let threshold = |field: &str, given: Option<i64>, default: i64| -> ServiceResult<i64> {
        match given {
            None => Ok(default),
            Some(n) if (1..=100).contains(&n) => Ok(n),
            Some(_) => Err(ServiceError::unprocessable(
                field,
                format!("{field}: must be 1 to 100"),
            )),
        }
    };
    let thresholds = Thresholds {
        recipient: threshold(
            "recipient_verification_attempts",
            changes.recipient_attempts,
            base.recipient,
        )?,
        account: threshold(
            "account_verification_attempts",
            changes.account_attempts,
            base.account,
        )?,
        session: threshold("session_attempts", changes.session_attempts, base.session)?,
    };
    let paypal = changes
        .paypal_enabled
        .unwrap_or(current.is_some_and(|p| p.paypal_enabled));
    Ok((host_uris, paypal, thresholds))
}

/// Creates a participant of `org`.
pub async fn create(
    app: &App,
    org: &OrganizationId,
    changes: &ParticipantChanges,
) -> ServiceResult<IssuedParticipant> {
    let (host_uris, paypal_enabled, thresholds) = checked(changes, None)?;
    let now = app.clock.now();
    let secret = Secret::new(random_hex(32));
    for _ in 0..3 {
        let id = format!("ipt_{}", uuid::Uuid::now_v7().simple());
        let mut record = Participant {
            sealed_secret: app.vault.seal(&id, secret.expose()).to_stored(),
            id,
            organization_id: org.clone(),
            participant_id: 0,
            username: format!("ingo_{}", random_hex(8)),
            host_uris: host_uris.clone(),
            paypal_enabled,
            thresholds,
            created_at: now,
            updated_at: now,
        };
        let inserted = record.clone();
        match app
            .db
            .write(move |tx| Box::pin(async move { ingo::insert_participant(tx, &inserted).await }))
            .await
        {
            Ok(number) => {
                record.participant_id = number;
                return Ok(IssuedParticipant {
                    participant: ParticipantView::from(&record),
                    secret,
                });
            }
            // Another creation took the same number at the same moment: take the next.
            Err(StoreError::Conflict(_)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ServiceError::new(
        ErrorClass::Conflict,
        "participant numbers are being taken concurrently; try again",
    ))
}

pub async fn list(app: &App, org: Option<&OrganizationId>) -> ServiceResult<Vec<ParticipantView>> {
    let org = org.cloned();
    let all = app
        .db
        .read(move |tx| Box::pin(async move { ingo::list_participants(tx, org.as_ref()).await }))
        .await?;
    Ok(all.iter().map(ParticipantView::from).collect())
}

async fn load(app: &App, org: &OrganizationId, number: i64) -> ServiceResult<Participant> {
    let org = org.clone();
    app.db
        .read(move |tx| {
            Box::pin(async move { ingo::get_participant(tx, Some(&org), number).await })
        })
        .await
        .or_not_found("participant", &number.to_string())
}

async fn store(app: &App, record: Participant) -> ServiceResult<()> {
    let number = record.participant_id;
    let stored = app
        .db
        .write(move |tx| Box::pin(async move { ingo::update_participant(tx, &record).await }))
        .await
        .or_not_found("participant", &number.to_string());
    app.ingo_participants.forget_all();
    stored
}

pub async fn get(app: &App, org: &OrganizationId, number: i64) -> ServiceResult<ParticipantView> {
    Ok(ParticipantView::from(&load(app, org, number).await?))
}

pub async fn update(
    app: &App,
    org: &OrganizationId,
    number: i64,
    changes: &ParticipantChanges,
) -> ServiceResult<ParticipantView> {
    let mut record = load(app, org, number).await?;
    let (host_uris, paypal_enabled, thresholds) = checked(changes, Some(&record))?;
    record.host_uris = host_uris;
    record.paypal_enabled = paypal_enabled;
    record.thresholds = thresholds;
    record.updated_at = app.clock.now();
    let view = ParticipantView::from(&record);
    store(app, record).await?;
    Ok(view)
}

/// A new secret; the old one stops working at once here, and within [`CACHE_LIFETIME`] on
/// other servers.
pub async fn rotate_secret(
    app: &App,
    org: &OrganizationId,
    number: i64,
) -> ServiceResult<IssuedParticipant> {
    let mut record = load(app, org, number).await?;
    let secret = Secret::new(random_hex(32));
    record.sealed_secret = app.vault.seal(&record.id, secret.expose()).to_stored();
    record.updated_at = app.clock.now();
    let participant = ParticipantView::from(&record);
    store(app, record).await?;
    Ok(IssuedParticipant {
        participant,
        secret,
    })
}

pub async fn delete(app: &App, org: &OrganizationId, number: i64) -> ServiceResult<()> {
    let org = org.clone();
    let deleted = app
        .db
        .write(move |tx| Box::pin(async move { ingo::delete_participant(tx, &org, number).await }))
        .await
        .or_not_found("participant", &number.to_string());
    app.ingo_participants.forget_all();
    deleted
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verifier(username: &str) -> Arc<Verifier> {
        let now = chrono::Utc::now();
        Arc::new(Verifier {
            participant: Participant {
                id: format!("ip_{username}"),
                organization_id: OrganizationId::generate(),
                participant_id: 100_001,
                username: username.to_owned(),
                sealed_secret: String::new(),
                host_uris: vec!["https://host.example".to_owned()],
                paypal_enabled: false,
                thresholds: DEFAULT_THRESHOLDS,
                created_at: now,
                updated_at: now,
            },
            secret: Secret::new("s3cret"),
        })
    }

    #[test]
    fn the_cache_keeps_a_participant_for_a_second_and_forgets_on_change() {
        let cache = ParticipantCache::default();
        assert!(cache.get("alice").is_none());
        cache.put(verifier("alice"));
        let hit = cache.get("alice").expect("cached");
        assert_eq!(hit.secret.expose(), "s3cret");
        assert!(cache.get("bob").is_none());
        let later = Instant::now() + CACHE_LIFETIME;
        assert!(cache.get_at("alice", later).is_none(), "expired");
        cache.forget_all();
        assert!(cache.get("alice").is_none());
        for n in 0..=CACHE_CAPACITY {
            cache.put(verifier(&format!("u{n}")));
        }
        assert!(cache.get("u0").is_none(), "started again when full");
        assert!(cache.get(&format!("u{CACHE_CAPACITY}")).is_some());
    }

    #[test]
    fn host_uris_are_https_origins() {
        assert_eq!(
            normalize_host_uri("https://DigitalPay.ingo.money/").as_deref(),
            Some("https://digitalpay.ingo.money")
        );
        assert_eq!(
            normalize_host_uri("http://127.0.0.1:4000").as_deref(),
            Some("http://127.0.0.1:4000")
        );
        assert_eq!(normalize_host_uri("http://example.com"), None);
        assert_eq!(normalize_host_uri("https://example.com/pay"), None);
        assert_eq!(normalize_host_uri("example.com"), None);
        assert_eq!(normalize_host_uri("https://"), None);
    }
}
