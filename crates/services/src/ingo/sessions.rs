//! Point-in-time sessions (seed 003): made by a signed request, found again by the
//! participant's idempotency key for two hours, and opened by the recipient through a
//! one-use `authorized_url` that lives thirty seconds.

use super::participants::{Verifier, normalize_host_uri};
use super::signing::{self, Refusal, SignedRequest};
use super::validation::{FieldErrors, Recipient, validate};
use crate::App;
use crate::error::{OrNotFound, ServiceError, ServiceResult};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Duration, Utc};
use quittance_domain::events::EventType;
use quittance_domain::secret::Secret;
use quittance_store::repo::ingo::{self, Participant, Session};
use quittance_store::{StoreError, Tx};
use serde::Serialize;
use std::sync::Arc;

/// How long an `authorized_url` can be opened (once).
pub const LINK_LIFETIME: Duration = Duration::seconds(30);
/// How long an idempotency key names its session.
pub const KEY_LIFETIME: Duration = Duration::hours(2);
/// The longest `Idempotency-Key`.
pub const MAX_KEY_LENGTH: usize = 250;

/// .NET ticks (100 ns since 0001-01-01) at the Unix epoch.
const EPOCH_TICKS: i64 = 621_355_968_000_000_000;

/// Session statuses, as stored and shown.
pub mod status {
    /// Waiting for the recipient to verify who they are.
    pub const OPEN: &str = "open";
    /// Verified; waiting for an account.
    pub const VERIFIED: &str = "verified";
    /// An account was captured: `customer_account_token` is set.
    pub const TOKENIZED: &str = "tokenized";
    /// The recipient canceled.
    pub const CANCELED: &str = "canceled";
    /// The session's attempt threshold was reached (terminal).
    pub const FAILED: &str = "failed";
}

/// A request whose signature checked out, from `participant`.
pub struct Signed {
    pub participant: Participant,
    pub signature: String,
}

/// Why a signed request did not get through.
pub enum AuthError {
    Refused(Refusal),
    Service(ServiceError),
}

impl From<ServiceError> for AuthError {
    fn from(e: ServiceError) -> Self {
        AuthError::Service(e)
    }
}

impl From<StoreError> for AuthError {
    fn from(e: StoreError) -> Self {
        AuthError::Service(e.into())
    }
}

/// Checks a signed request and finds its participant. The signature is remembered (refused if
/// seen again) by the write that acts on the request: [`remember`].
pub async fn authenticate(app: &App, request: &SignedRequest<'_>) -> Result<Signed, AuthError> {
    let auth = signing::precheck(request, app.clock.now()).map_err(AuthError::Refused)?;
    let verifier = match app.ingo_participants.get(&auth.username) {
        Some(known) => known,
        None => {
            let username = auth.username.clone();
            let found = app
                .db
                .read(move |tx| {
                    Box::pin(async move { ingo::participant_by_username(tx, &username).await })
                })
                .await?;
            let Some(participant) = found else {
                return Err(AuthError::Refused(Refusal::Signature));
            };
            let secret = app
                .vault
                .open_stored(&participant.id, &participant.sealed_secret)
                .map_err(|e| ServiceError::internal(format!("participant secret: {e}")))?;
            let verifier = Arc::new(Verifier {
                participant,
                secret: Secret::new(secret),
            });
            app.ingo_participants.put(verifier.clone());
            verifier
        }
    };
    signing::check_signature(&auth, request, verifier.secret.expose())
        .map_err(AuthError::Refused)?;
    Ok(Signed {
        participant: verifier.participant.clone(),
        signature: auth.signature,
    })
}

/// Inside the write a signed request makes: refuses the signature if seen before.
pub async fn remember(
    tx: &mut dyn Tx,
    signature: &str,
    now: DateTime<Utc>,
) -> Result<(), CreateError> {
    if ingo::record_signature(tx, signature, now).await? {
        Ok(())
    } else {
        Err(CreateError::Refused(Refusal::Replay))
    }
}

/// A GET's signature: remembered in a write of its own.
pub async fn remember_alone(app: &App, signature: &str) -> Result<(), CreateError> {
    let (signature, now) = (signature.to_owned(), app.clock.now());
    app.db
        .write(move |tx| Box::pin(async move { remember(tx, &signature, now).await }))
        .await
}

/// What a session request answers on success.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionAnswer {
    pub session_identifier: String,
    pub authorized_url: String,
    pub authorized_url_expiration_utc: String,
    pub participant_unique_id1: String,
    pub participant_unique_id2: String,
}

/// A new session (`status: 100`) or the one an idempotency key names (`status: 101`).
pub enum Created {
    New(SessionAnswer),
    Idempotent(SessionAnswer),
}

pub enum CreateError {
    Invalid(FieldErrors),
    /// `host_uri` is not on the participant's allow-list.
    HostNotAllowed,
    /// The idempotency key was used with other parameters.
    Mismatch,
    Refused(Refusal),
    Service(ServiceError),
}

impl From<StoreError> for CreateError {
    fn from(e: StoreError) -> Self {
        CreateError::Service(e.into())
    }
}

impl From<ServiceError> for CreateError {
    fn from(e: ServiceError) -> Self {
        CreateError::Service(e)
    }
}

/// .NET ticks of an instant: the `t` of an authorized URL.
pub fn ticks(t: DateTime<Utc>) -> i64 {
    t.timestamp() * 10_000_000 + i64::from(t.timestamp_subsec_nanos() / 100) + EPOCH_TICKS
}

/// ISO 8601 with seven fractional digits, as seed 003 prints `authorized_url_expiration_utc`.
pub fn seven_digit_utc(t: DateTime<Utc>) -> String {
    format!(
        "{}.{:07}Z",
        t.format("%Y-%m-%dT%H:%M:%S"),
        t.timestamp_subsec_nanos() / 100
    )
}

/// The `h` of an authorized URL: a keyed hash of the session and `t`, base64.
pub fn link_hash(app: &App, session: &str, ticks: i64) -> String {
    let hex_mac = app.hasher.hash(&format!("ingo-link:{session}:{ticks}"));
    STANDARD.encode(hex::decode(hex_mac).unwrap_or_default())
}

/// base64 percent-encoded the way seed 003 prints it (`%2f`, `%3d`: lowercase, as .NET does).
fn url_encode(text: &str) -> String {
    text.replace('+', "%2b")
        .replace('/', "%2f")
        .replace('=', "%3d")
}

/// Where recipients' browsers reach this server.
pub fn public_base(app: &App) -> String {
    match &app.config.public_base_url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => format!("http://{}", app.config.listen),
    }
}

/// A new authorized URL for `session`, recorded in `tx`.
async fn issue_link(
    tx: &mut dyn Tx,
    app: &App,
    session: &str,
    now: DateTime<Utc>,
) -> Result<(String, String), StoreError> {
    let expires = now + LINK_LIFETIME;
    let mut t = ticks(expires);
    // Each URL of a session has its own `t`: one made in the same 100 ns takes the next tick.
    while !ingo::insert_link(tx, session, t, expires).await? {
        t += 1;
    }
    Ok(link_text(app, session, t, expires))
}

/// An authorized URL and its expiry text.
fn link_text(app: &App, session: &str, t: i64, expires: DateTime<Utc>) -> (String, String) {
    let url = format!(
        "{}/session/{session}?t={t}&h={}",
        public_base(app),
        url_encode(&link_hash(app, session, t))
    );
    (url, seven_digit_utc(expires))
}

fn answer(s: &Session, (authorized_url, expiration): (String, String)) -> SessionAnswer {
    SessionAnswer {
        session_identifier: s.id.clone(),
        authorized_url,
        authorized_url_expiration_utc: expiration,
        participant_unique_id1: s.participant_unique_id1.clone(),
        participant_unique_id2: s.participant_unique_id2.clone(),
    }
}

/// The recipient as events and webhooks show them: initials, state and ZIP prefix only.
#[derive(Debug, Clone, Serialize)]
pub struct MaskedRecipient {
    pub first_name: String,
    pub last_name: String,
    pub state: String,
    pub zip_code: String,
    pub email_address: Option<String>,
}

fn initial(text: &str) -> String {
    text.chars()
        .next()
        .map(|c| format!("{c}***"))
        .unwrap_or_default()
}

impl From<&Recipient> for MaskedRecipient {
    fn from(r: &Recipient) -> Self {
        MaskedRecipient {
            first_name: initial(&r.first_name),
            last_name: initial(&r.last_name),
            state: r.state.clone(),
            zip_code: format!("{}**", r.zip_code.get(..3).unwrap_or_default()),
            email_address: r.email_address.as_ref().map(|e| match e.split_once('@') {
                Some((_, domain)) => format!("***@{domain}"),
                None => "***".to_owned(),
            }),
        }
    }
}

/// A session as the participant, its events and its webhooks see it.
#[derive(Debug, Clone, Serialize)]
pub struct SessionView {
    pub session_identifier: String,
    pub participant_id: i64,
    pub participant_unique_id1: String,
    pub participant_unique_id2: String,
    /// open, verified, tokenized, canceled or failed.
    pub status: String,
    pub host_uri: String,
    pub language_locale_code: String,
    pub tracer_token: String,
    pub recipient_verification_failures: i64,
    pub account_verification_failures: i64,
    pub session_failures: i64,
    /// A feature's attempt threshold was reached: a new authorized_url (an idempotent repeat)
    /// lets the recipient try again.
    pub locked: bool,
    pub customer_account_token: Option<String>,
    pub funding_destination: Option<String>,
    pub recipient: MaskedRecipient,
    pub created_at: String,
    pub updated_at: String,
}

impl SessionView {
    pub fn new(s: &Session, recipient: &Recipient) -> Self {
        SessionView {
            session_identifier: s.id.clone(),
            participant_id: s.participant_id,
            participant_unique_id1: s.participant_unique_id1.clone(),
            participant_unique_id2: s.participant_unique_id2.clone(),
            status: s.status.clone(),
            host_uri: s.host_uri.clone(),
            language_locale_code: s.locale.clone(),
            tracer_token: s.tracer_token.clone(),
            recipient_verification_failures: s.recipient_failures,
            account_verification_failures: s.account_failures,
            session_failures: s.session_failures,
            locked: s.locked,
            customer_account_token: s.customer_account_token.clone(),
            funding_destination: s.funding_destination.clone(),
            recipient: MaskedRecipient::from(recipient),
            created_at: crate::resources::datetime(s.created_at),
            updated_at: crate::resources::datetime(s.updated_at),
        }
    }
}

/// The recipient a session was made for.
pub fn recipient_of(app: &App, s: &Session) -> ServiceResult<Recipient> {
    let json = app
        .vault
        .open_stored(&s.id, &s.sealed_recipient)
        .map_err(|e| ServiceError::internal(format!("session recipient: {e}")))?;
    serde_json::from_str(&json)
        .map_err(|e| ServiceError::internal(format!("session recipient: {e}")))
}

/// Records a session event, with the recipient masked.
pub async fn record_event(
    tx: &mut dyn Tx,
    s: &Session,
    recipient: &Recipient,
    event: EventType,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    crate::events::record(
        tx,
        &s.organization_id,
        event,
        &SessionView::new(s, recipient),
        now,
    )
    .await
    .map(drop)
}

/// An `Idempotency-Key`, when given, is 1 to 250 characters.
pub fn check_key(key: Option<&str>) -> Result<(), CreateError> {
    match key {
        Some(key) if key.is_empty() || key.chars().count() > MAX_KEY_LENGTH => {
            let mut errors = FieldErrors::new();
            errors.insert(
                "Idempotency-Key".to_owned(),
                vec![format!("The field Idempotency-Key must be a string with a minimum length of 1 and a maximum length of {MAX_KEY_LENGTH}.")],
            );
            Err(CreateError::Invalid(errors))
        }
        _ => Ok(()),
    }
}

/// An `Idempotency-Key` as the database keeps it: a keyed hash (a client that puts a card
/// number in its key does not leave it there).
pub fn stored_key(app: &App, key: Option<&str>) -> Option<String> {
    key.map(|k| app.hasher.hash(&format!("ingo-idempotency-key:{k}")))
}

/// Creates a session, or with a known idempotency key answers the session it names with a
/// new authorized URL. A request that fails stores nothing, so its key can be used again.
pub async fn create(
    app: &App,
    signed: &Signed,
    key: Option<&str>,
    body: &serde_json::Value,
) -> Result<Created, CreateError> {
    let participant = &signed.participant;
    let mut request = validate(body, participant.paypal_enabled).map_err(CreateError::Invalid)?;
    check_key(key)?;
    let host_uri = match &request.host_uri {
        None => participant
            .host_uris
            .first()
            .cloned()
            .ok_or(CreateError::HostNotAllowed)?,
        Some(given) => normalize_host_uri(given)
            .filter(|uri| participant.host_uris.contains(uri))
            .ok_or(CreateError::HostNotAllowed)?,
    };
    request.host_uri = Some(host_uri.clone());
    let request_json =
        serde_json::to_string(&request).map_err(|e| ServiceError::internal(e.to_string()))?;
    let fingerprint = app.hasher.hash(&request_json);
    let recipient_json = serde_json::to_string(&request.recipient_information)
        .map_err(|e| ServiceError::internal(e.to_string()))?;
    // Two requests with one new key at once (PostgreSQL): the second's insert conflicts, and
    // its retry finds the first's session.
    let mut attempt = 0;
    loop {
        attempt += 1;
        let now = app.clock.now();
        // Time-ordered (UUIDv7): sessions are inserted in key order, not scattered over the index.
        let id = uuid::Uuid::now_v7().to_string();
        let session = Session {
            sealed_recipient: app.vault.seal(&id, &recipient_json).to_stored(),
            id,
            organization_id: participant.organization_id.clone(),
            participant_id: participant.participant_id,
            idempotency_key: stored_key(app, key),
            idempotency_expires_at: key.map(|_| now + KEY_LIFETIME),
            fingerprint: fingerprint.clone(),
            participant_unique_id1: request.participant_unique_id1.clone(),
            participant_unique_id2: request.participant_unique_id2.clone().unwrap_or_default(),
            host_uri: host_uri.clone(),
            locale: request.language_locale_code.clone(),
            tracer_token: uuid::Uuid::new_v4().to_string(),
            status: status::OPEN.to_owned(),
            recipient_failures: 0,
            account_failures: 0,
            session_failures: 0,
            locked: false,
            customer_account_token: None,
            funding_destination: None,
            created_at: now,
            updated_at: now,
        };
        // A new session's first URL and its event are made before the write: the single
        // writer runs only the statements.
        let expires = now + LINK_LIFETIME;
        let first_ticks = ticks(expires);
        let first_link = link_text(app, &session.id, first_ticks, expires);
        let created =
            serde_json::to_string(&SessionView::new(&session, &request.recipient_information))
                .map_err(|e| ServiceError::internal(e.to_string()))?;
        let (app2, signature) = (app.clone(), signed.signature.clone());
        let outcome = app
            .db
            .write(move |tx| {
                Box::pin(async move {
                    remember(tx, &signature, now).await?;
                    if let Some(key) = &session.idempotency_key
                        && let Some(mut existing) =
                            ingo::session_by_key(tx, session.participant_id, key, now).await?
                    {
                        if existing.fingerprint != session.fingerprint {
                            return Err(CreateError::Mismatch);
                        }
                        if existing.status != status::FAILED {
                            // Seed 003's scenario 2: the recipient gets back in and the feature
                            // counters start again; the session's own counter does not.
                            existing.locked = false;
                            existing.recipient_failures = 0;
                            existing.account_failures = 0;
                            existing.updated_at = now;
                            ingo::save_session(tx, &existing).await?;
                        }
                        ingo::end_browsers(tx, &existing.id, now).await?;
                        let link = issue_link(tx, &app2, &existing.id, now).await?;
                        return Ok(Created::Idempotent(answer(&existing, link)));
                    }
                    ingo::insert_session(tx, &session).await?;
                    // A new session has no URL yet, so its first `t` is free.
                    let link = if ingo::insert_link(tx, &session.id, first_ticks, expires).await? {
                        first_link
                    } else {
                        issue_link(tx, &app2, &session.id, now).await?
                    };
                    quittance_store::repo::events::insert_event(
                        tx,
                        &session.organization_id,
                        EventType::SessionCreated,
                        &created,
                        now,
                    )
                    .await?;
                    Ok(Created::New(answer(&session, link)))
                })
            })
            .await;
        match outcome {
            Err(CreateError::Service(e))
                if attempt < 3
                    && e.class() == crate::error::ErrorClass::Conflict
                    && key.is_some() =>
            {
                continue;
            }
            other => return other,
        }
    }
}

/// A session of the participant, as it stands.
pub async fn get(app: &App, participant: &Participant, id: &str) -> ServiceResult<SessionView> {
    let (number, wanted) = (participant.participant_id, id.to_owned());
    let session = app
        .db
        .read(move |tx| Box::pin(async move { ingo::get_session(tx, Some(number), &wanted).await }))
        .await
        .or_not_found("session", id)?;
    let recipient = recipient_of(app, &session)?;
    Ok(SessionView::new(&session, &recipient))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_and_expiry_text_follow_dotnet() {
        let t = DateTime::parse_from_rfc3339("2020-01-02T20:30:30.8347861Z")
            .expect("date")
            .with_timezone(&Utc);
        assert_eq!(seven_digit_utc(t), "2020-01-02T20:30:30.8347861Z");
        assert_eq!(ticks(t), 637_135_938_308_347_861);
        assert_eq!(url_encode("rpSb//Ae+="), "rpSb%2f%2fAe%2b%3d");
    }
}
