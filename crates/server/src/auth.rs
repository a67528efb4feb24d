//! Credentials and authentication.
//!
//! Issued secrets (client secrets, API keys, access tokens) are random 256-bit values, so a
//! fast keyed hash (HMAC-SHA256 with a server key) protects them at rest; argon2 is for
//! human passwords. Only hashes are stored; a secret is shown once, when issued.

use crate::error::{ApiError, ApiResult, ErrorClass};
use crate::extract::{is_json, parse_json, read_body};
use crate::state::AppState;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{HeaderMap, HeaderValue, header, request::Parts};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use quittance_domain::ids::{CredentialId, OrganizationId};
use quittance_domain::secret::{Secret, random_hex};
use quittance_store::repo::access::{self, LockoutPolicy, NewCredential, Principal};
use quittance_store::{Db, StoreError};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::Mutex;
use subtle::ConstantTimeEq;

/// The file in the data directory holding the generated hash key.
pub const HASH_KEY_FILE: &str = "credential-hash.key";

/// HMAC-SHA256 under the server's key: how issued secrets are stored and looked up.
#[derive(Clone)]
pub struct SecretHasher {
    key: [u8; 32],
}

impl std::fmt::Debug for SecretHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretHasher(***)")
    }
}

impl SecretHasher {
    pub fn from_hex(hex_key: &str) -> Result<Self, String> {
        let bytes = hex::decode(hex_key.trim())
            .map_err(|_| "the credential hash key must be 64 hex digits".to_owned())?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| "the credential hash key must be 64 hex digits".to_owned())?;
        Ok(Self { key })
    }

    /// The configured key, or the one in `data_dir` (generated there, owner-only, on first use).
    pub fn load_or_create(configured: Option<&str>, data_dir: &Path) -> Result<Self, String> {
        if let Some(key) = configured {
            return Self::from_hex(key);
        }
        let path = data_dir.join(HASH_KEY_FILE);
        quittance_store::create_private_dir(data_dir)
            .map_err(|e| format!("cannot create {}: {e}", data_dir.display()))?;
        let created = {
            use std::io::Write as _;
            use std::os::unix::fs::OpenOptionsExt as _;
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
                .and_then(|mut file| {
                    file.write_all(random_hex(32).as_bytes())?;
                    file.sync_all()
                })
        };
        match created {
            Ok(()) => {
                tracing::warn!(path = %path.display(), "generated a new credential hash key; keep it with the data and back it up")
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(format!("cannot write {}: {e}", path.display())),
        }
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Self::from_hex(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn hash(&self, secret: &str) -> String {
        self.hash_bytes(secret.as_bytes())
    }

    /// The keyed hash of any bytes (a request body's fingerprint, say), as hex.
    pub fn hash_bytes(&self, bytes: &[u8]) -> String {
        #[allow(clippy::expect_used)]
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(bytes);
        hex::encode(mac.finalize().into_bytes())
    }

    /// Compares `secret` with a stored hash in constant time.
    pub fn verify(&self, secret: &str, stored_hash: &str) -> bool {
        self.hash(secret)
            .as_bytes()
            .ct_eq(stored_hash.as_bytes())
            .into()
    }
}

/// What `quittance credentials create` prints, once.
#[derive(Debug, Serialize)]
pub struct IssuedCredentials {
    pub organization_id: OrganizationId,
    #[serde(skip)]
    pub credential_id: CredentialId,
    pub client_id: String,
    #[serde(serialize_with = "expose")]
    pub client_secret: Secret,
    #[serde(serialize_with = "expose")]
    pub api_key: Secret,
}

fn expose<S: serde::Serializer>(secret: &Secret, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(secret.expose())
}

/// Creates the organization if needed and a new credential for it.
pub async fn issue_credentials(
    db: &Db,
    hasher: &SecretHasher,
    organization: &str,
    now: DateTime<Utc>,
) -> Result<IssuedCredentials, StoreError> {
    let client_secret = Secret::new(format!("qs_{}", random_hex(32)));
    let api_key = Secret::new(format!("qk_{}", random_hex(32)));
    let credential = NewCredential {
        id: CredentialId::generate(),
        client_id: format!("qc_{}", random_hex(16)),
        client_secret_hash: hasher.hash(client_secret.expose()),
        api_key_hash: hasher.hash(api_key.expose()),
        api_key_hint: api_key.expose().chars().take(9).collect(),
    };
    let name = organization.to_owned();
    let stored = credential.clone();
    let organization_id = db
        .write(move |tx| {
            Box::pin(async move {
                let org = access::ensure_organization(tx, &name, now).await?;
                crate::isoamp::defaults::seed(tx, &org, now).await?;
                access::insert_credential(tx, &org, &stored, now).await?;
                Ok::<_, StoreError>(org)
            })
        })
        .await?;
    Ok(IssuedCredentials {
        organization_id,
        credential_id: credential.id,
        client_id: credential.client_id,
        client_secret,
        api_key,
    })
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct TokenRequest {
    /// Must be `client_credentials`.
    pub grant_type: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    /// Accepted and ignored: every token carries its credential's full access.
    pub scope: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the token expires.
    pub expires_in: u64,
}

/// `Authorization: Basic base64(client_id:client_secret)`, when present.
fn basic_credentials(headers: &HeaderMap) -> ApiResult<Option<(String, String)>> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let Some(encoded) = value.to_str().ok().and_then(|v| {
        v.strip_prefix("Basic ")
            .or_else(|| v.strip_prefix("basic "))
    }) else {
        return Ok(None);
    };
    let malformed =
        || ApiError::unauthorized("malformed HTTP Basic credentials").with_basic_challenge();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| malformed())?;
    let text = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = text.split_once(':').ok_or_else(malformed)?;
    Ok(Some((id.to_owned(), secret.to_owned())))
}

/// `POST /oauth/token`: the OAuth 2.0 client-credentials grant.
#[utoipa::path(
    post,
    path = "/oauth/token",
    tag = "authentication",
    request_body(
        content(
            (TokenRequest = "application/json"),
            (TokenRequest = "application/x-www-form-urlencoded")
        ),
        description = "`grant_type=client_credentials` with `client_id` and `client_secret`, as JSON or a form; or the client id and secret as HTTP Basic credentials."
    ),
    responses(
        (status = 200, description = "A new access token", body = TokenResponse),
        (status = 400, description = "Missing or unsupported parameter", body = crate::error::ErrorBody),
        (status = 401, description = "Unknown client or wrong secret", body = crate::error::ErrorBody),
        (status = 429, description = "Locked after repeated failures; see Retry-After", body = crate::error::ErrorBody)
    )
)]
pub async fn token(State(state): State<AppState>, req: Request) -> ApiResult<Response> {
    let now = state.clock.now();
    let peer = req
        .extensions()
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let address = source_address(req.headers(), peer, state.config.trust_forwarded_for);
    let ip_window = seconds(state.config.token_ip_window_seconds);
    if let Some(wait) = address.and_then(|a| {
        state
            .token_failures
            .throttled(a, now, state.config.token_ip_max_failures, ip_window)
    }) {
        return Err(ApiError::new(
            ErrorClass::TooManyRequests,
            "too many failed attempts from this address: wait before trying again",
        )
        .with_retry_after(u64::try_from(wait.num_seconds() + 1).unwrap_or(1)));
    }
    let failed = |e: ApiError| {
        if let Some(a) = address.filter(|_| state.config.token_ip_max_failures > 0) {
            state.token_failures.record(a, now, ip_window);
        }
        e
    };
    let basic = basic_credentials(req.headers())?;
    let used_basic = basic.is_some();
    let form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    let json = is_json(req.headers());
    let body = read_body(req, &state).await?;
    let request: TokenRequest = if json {
        parse_json(&body)?
    } else if form {
        serde_urlencoded::from_bytes(&body)
            .map_err(|e| ApiError::bad_request(format!("malformed form body: {e}")))?
    } else if body.is_empty() {
        TokenRequest::default()
    } else {
        return Err(ApiError::new(
            ErrorClass::UnsupportedMediaType,
            "send application/json or application/x-www-form-urlencoded",
        ));
    };
    match request.grant_type.as_deref() {
        Some("client_credentials") => {}
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "unsupported grant_type {other:?}: only client_credentials is supported"
            ))
            .with_param("grant_type"));
        }
        None => {
            return Err(ApiError::bad_request("grant_type is required").with_param("grant_type"));
        }
    }
    let (client_id, client_secret) = match (basic, request.client_id, request.client_secret) {
        (Some((id, secret)), body_id, body_secret) => {
            if body_id.as_ref().is_some_and(|b| *b != id) || body_secret.is_some() {
                return Err(ApiError::bad_request(
                    "send the client credentials either as HTTP Basic or in the body, not both",
                ));
            }
            (id, secret)
        }
        (None, Some(id), Some(secret)) => (id, secret),
        (None, None, _) => {
            return Err(ApiError::bad_request("client_id is required").with_param("client_id"));
        }
        (None, Some(_), None) => {
            return Err(
                ApiError::bad_request("client_secret is required").with_param("client_secret")
            );
        }
    };
    // A wrong or unknown client counts against the source address too.
    let challenge = |e: ApiError| {
        failed(if used_basic {
            e.with_basic_challenge()
        } else {
            e
        })
    };
    let lookup_id = client_id.clone();
    let client = state
        .db
        .read(move |tx| Box::pin(async move { access::find_oauth_client(tx, &lookup_id).await }))
        .await?;
    let Some(client) = client.filter(|c| !c.revoked) else {
        // Hash anyway so an unknown client id takes as long as a known one.
        let _ = state.hasher.hash(&client_secret);
        return Err(challenge(ApiError::unauthorized(
            "invalid client credentials",
        )));
    };
    if let Some(until) = client.locked_until.filter(|until| *until > now) {
        let seconds = u64::try_from((until - now).num_seconds() + 1).unwrap_or(1);
        return Err(ApiError::new(
            ErrorClass::TooManyRequests,
            "too many failed attempts: this client is locked for now",
        )
        .with_retry_after(seconds));
    }
    if !state
        .hasher
        .verify(&client_secret, &client.client_secret_hash)
    {
        let policy = LockoutPolicy {
            max_failures: i64::from(state.config.lockout_max_failures),
            window: seconds(state.config.lockout_window_seconds),
            lock_for: seconds(state.config.lockout_seconds),
        };
        let id = client.credential_id.clone();
        let locked = state
            .db
            .write(move |tx| {
                Box::pin(async move { access::record_auth_failure(tx, &id, now, policy).await })
            })
            .await?;
        if locked.is_some() {
            tracing::warn!(
                client_id,
                "OAuth client locked after repeated failed secrets"
            );
        }
        return Err(challenge(ApiError::unauthorized(
            "invalid client credentials",
        )));
    }
    let access_token = format!("qt_{}", random_hex(32));
    let token_hash = state.hasher.hash(&access_token);
    let ttl = state.config.token_ttl_seconds;
    let id = client.credential_id.clone();
    let expires_at = now + seconds(ttl);
    state
        .db
        .write(move |tx| {
            Box::pin(
                async move { access::insert_token(tx, &id, &token_hash, now, expires_at).await },
            )
        })
        .await?;
    let mut response = axum::Json(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: ttl,
    })
    .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
        .headers_mut()
        .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    Ok(response)
}

fn seconds(s: u64) -> chrono::Duration {
    chrono::Duration::seconds(i64::try_from(s).unwrap_or(i64::MAX / 1000))
}

/// Failed token requests per source address, in this process's memory: a second line of
/// defence beside the per-client lockout, against one address trying many client ids.
#[derive(Default)]
pub struct FailuresByAddress {
    failures: Mutex<HashMap<IpAddr, VecDeque<DateTime<Utc>>>>,
}

/// Addresses remembered before expired ones are swept out.
const REMEMBERED_ADDRESSES: usize = 10_000;

impl FailuresByAddress {
    /// How long `address` must wait, if it has reached `max` failures within `window`.
    pub fn throttled(
        &self,
        address: IpAddr,
        now: DateTime<Utc>,
        max: u32,
        window: chrono::Duration,
    ) -> Option<chrono::Duration> {
        let failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let recent = failures.get(&address)?;
        let in_window: Vec<&DateTime<Utc>> = recent.iter().filter(|t| **t > now - window).collect();
        if max == 0 || in_window.len() < usize::try_from(max).unwrap_or(usize::MAX) {
            return None;
        }
        // Free again when the oldest failure that still counts leaves the window.
        let free_at =
            **in_window.get(in_window.len() - usize::try_from(max).unwrap_or(1))? + window;
        Some(free_at - now)
    }

    pub fn record(&self, address: IpAddr, now: DateTime<Utc>, window: chrono::Duration) {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if failures.len() >= REMEMBERED_ADDRESSES {
            failures.retain(|_, times| times.back().is_some_and(|t| *t > now - window));
        }
        let times = failures.entry(address).or_default();
        while times.front().is_some_and(|t| *t <= now - window) {
            times.pop_front();
        }
        times.push_back(now);
    }
}

/// The address a request comes from: the peer, or the first `X-Forwarded-For` entry when
/// the configuration trusts the proxy in front.
fn source_address(
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
    trust_forwarded_for: bool,
) -> Option<IpAddr> {
    if trust_forwarded_for {
        let forwarded = headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .and_then(|first| first.trim().parse::<IpAddr>().ok());
        if forwarded.is_some() {
            return forwarded;
        }
    }
    peer.map(|p| p.ip())
}

/// The header that names the organization ("portal") a request is for.
pub const PORTAL_HEADER: &str = "x-ic-intelligent-portal";

/// The authenticated caller: `Authorization: Bearer <token>`, `Bearer <api key>` or a bare
/// `<api key>` (the ISO Amp form). With `X-IC-intelligent-portal`, the named organization
/// (by id or name) must be the credential's own.
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

impl Caller {
    pub fn organization(&self) -> &OrganizationId {
        &self.0.organization_id
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Caller> {
        // Authenticated already (by the idempotency layer, which needs the credential first).
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
        let value = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or_else(|| ApiError::unauthorized("missing Authorization header"))?
            .to_str()
            .map_err(|_| ApiError::unauthorized("malformed Authorization header"))?
            .trim();
        let presented = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .unwrap_or(value)
            .trim()
            .to_owned();
        let hash = state.hasher.hash(&presented);
        let now = state.clock.now();
        let principal = if presented.starts_with("qt_") {
            state
                .db
                .read(move |tx| {
                    Box::pin(async move { access::authenticate_token(tx, &hash, now).await })
                })
                .await?
        } else if presented.starts_with("qk_") {
            state
                .db
                .read(move |tx| {
                    Box::pin(async move { access::authenticate_api_key(tx, &hash).await })
                })
                .await?
        } else {
            None
        };
        let principal = principal
            .ok_or_else(|| ApiError::unauthorized("invalid, expired or revoked credentials"))?;
        if let Some(portal) = parts.headers.get(PORTAL_HEADER) {
            let portal = portal.to_str().unwrap_or_default().trim();
            if portal != principal.organization_id.as_str() && portal != principal.organization_name
            {
                return Err(ApiError::forbidden(
                    "these credentials do not belong to the portal named in X-IC-intelligent-portal",
                ));
            }
        }
        Ok(Caller(principal))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_keyed_and_verify_in_constant_time() {
        let a = SecretHasher::from_hex(&"11".repeat(32)).expect("key");
        let b = SecretHasher::from_hex(&"22".repeat(32)).expect("key");
        assert_ne!(a.hash("qs_x"), b.hash("qs_x"), "the key changes the hash");
        assert!(a.verify("qs_x", &a.hash("qs_x")));
        assert!(!a.verify("qs_y", &a.hash("qs_x")));
        assert!(SecretHasher::from_hex("abc").is_err());
    }

    #[test]
    fn the_key_file_is_created_once_owner_only() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("dir");
        let first = SecretHasher::load_or_create(None, dir.path()).expect("created");
        let second = SecretHasher::load_or_create(None, dir.path()).expect("read back");
        assert_eq!(first.hash("x"), second.hash("x"));
        let mode = std::fs::metadata(dir.path().join(HASH_KEY_FILE))
            .expect("file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn basic_credentials_are_decoded() {
        let mut headers = HeaderMap::new();
        let encoded = base64::engine::general_purpose::STANDARD.encode("qc_1:qs_2");
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Basic {encoded}")).expect("header"),
        );
        assert_eq!(
            basic_credentials(&headers).expect("ok"),
            Some(("qc_1".into(), "qs_2".into()))
        );
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic !!"));
        assert!(basic_credentials(&headers).is_err());
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer qt_x"),
        );
        assert_eq!(basic_credentials(&headers).expect("ok"), None);
    }
}

#[cfg(test)]
mod throttle_tests {
    use super::*;

    #[test]
    fn an_address_is_throttled_until_its_oldest_counted_failure_leaves_the_window() {
        let throttle = FailuresByAddress::default();
        let address: IpAddr = [127, 0, 0, 1].into();
        let start = DateTime::from_timestamp(1_700_000_000, 0).expect("valid");
        let window = chrono::Duration::minutes(10);
        for minute in 0..3 {
            throttle.record(address, start + chrono::Duration::minutes(minute), window);
        }
        let now = start + chrono::Duration::minutes(3);
        assert_eq!(
            throttle.throttled(address, now, 4, window),
            None,
            "three failures are under a limit of four"
        );
        assert_eq!(
            throttle.throttled(address, now, 3, window),
            Some(chrono::Duration::minutes(7)),
            "free when the first leaves"
        );
        assert_eq!(
            throttle.throttled(address, now, 0, window),
            None,
            "0 turns it off"
        );
        assert_eq!(
            throttle.throttled([10, 0, 0, 2].into(), now, 1, window),
            None,
            "other addresses are apart"
        );
        let later = start + chrono::Duration::minutes(11);
        assert_eq!(throttle.throttled(address, later, 3, window), None);
    }

    #[test]
    fn the_forwarded_address_counts_only_when_trusted() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_static("203.0.113.7, 10.0.0.1"),
        );
        let peer = Some(SocketAddr::from(([10, 0, 0, 1], 4000)));
        assert_eq!(
            source_address(&headers, peer, false),
            Some([10, 0, 0, 1].into())
        );
        assert_eq!(
            source_address(&headers, peer, true),
            Some([203, 0, 113, 7].into())
        );
        headers.insert("x-forwarded-for", HeaderValue::from_static("garbage"));
        assert_eq!(
            source_address(&headers, peer, true),
            Some([10, 0, 0, 1].into()),
            "an unreadable header falls back to the peer"
        );
    }
}
