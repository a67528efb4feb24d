//! Authentication of HTTP requests: the OAuth 2.0 token endpoint and the caller extractor.
//! The hashing of secrets and the lockouts are `quittance_services::credentials`.

use crate::http::error::{ApiError, ApiResult, ErrorClass};
use crate::http::extract::{is_json, parse_json, read_body};
use crate::http::state::AppState;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{HeaderMap, HeaderValue, header, request::Parts};
use axum::response::{IntoResponse, Response};
use quittance_domain::ids::OrganizationId;
use quittance_domain::secret::random_hex;
use quittance_store::repo::access::{self, LockoutPolicy, Principal};
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, SocketAddr};

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
    let Ok(value) = value.to_str() else {
        return Ok(None);
    };
    quittance_services::credentials::basic_credentials(value).map_err(|_| {
        ApiError::unauthorized("malformed HTTP Basic credentials").with_basic_challenge()
    })
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
        (status = 400, description = "Missing or unsupported parameter", body = crate::http::error::ErrorBody),
        (status = 401, description = "Unknown client or wrong secret", body = crate::http::error::ErrorBody),
        (status = 429, description = "Locked after repeated failures; see Retry-After", body = crate::http::error::ErrorBody)
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
        Some(_) => {
            return Err(ApiError::bad_request(
                "grant_type is not supported: only client_credentials is",
            )
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
    fn basic_credentials_are_decoded() {
        use base64::Engine as _;
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
