//! Operations endpoints: liveness, readiness (the database answers) and Prometheus metrics.

use crate::http::error::{ApiError, ApiResult, ErrorClass};
use crate::http::state::AppState;
use axum::Json;
use axum::extract::{Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::net::{IpAddr, SocketAddr};
use subtle::ConstantTimeEq;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok` or `ready`.
    pub status: &'static str,
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// The database answers.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, body = Health), (status = 503, body = crate::http::error::ErrorBody)))]
pub async fn readyz(State(state): State<AppState>) -> ApiResult<Json<Health>> {
    state.db.ping().await.map_err(|e| {
        tracing::warn!(error = %e, "readiness check failed");
        ApiError::new(
            ErrorClass::ServiceUnavailable,
            "the database is not reachable",
        )
    })?;
    Ok(Json(Health { status: "ready" }))
}

/// Who may read `/metrics`: with `metrics_token` set, a request bearing it; unset, a client on
/// loopback (a scraper on the same machine).
fn metrics_allowed(
    token: Option<&str>,
    authorization: Option<&str>,
    peer: Option<IpAddr>,
) -> Result<(), ApiError> {
    match token {
        Some(token) => {
            let given = authorization
                .and_then(|a| a.strip_prefix("Bearer "))
                .unwrap_or_default();
            if bool::from(given.as_bytes().ct_eq(token.as_bytes())) {
                Ok(())
            } else {
                Err(ApiError::new(
                    ErrorClass::Unauthorized,
                    "send the metrics_token setting's value as a bearer token",
                ))
            }
        }
        None if peer.is_some_and(|p| p.is_loopback()) => Ok(()),
        None => Err(ApiError::new(
            ErrorClass::Forbidden,
            "metrics are served to loopback clients only; set metrics_token to read them from elsewhere",
        )),
    }
}

/// Request counts and latencies in the Prometheus text format.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, content_type = "text/plain", body = String),
        (status = 401, description = "metrics_token is set and the request does not bear it", body = crate::http::error::ErrorBody),
        (status = 403, description = "metrics_token is unset and the client is not on loopback", body = crate::http::error::ErrorBody)))]
pub async fn metrics(State(state): State<AppState>, request: Request) -> ApiResult<Response> {
    let peer = request
        .extensions()
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    metrics_allowed(state.config.metrics_token.as_deref(), authorization, peer)?;
    Ok((
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_need_the_token_or_a_loopback_client() {
        let (local, remote) = (
            Some(IpAddr::from([127, 0, 0, 1])),
            Some(IpAddr::from([192, 0, 2, 7])),
        );
        assert!(metrics_allowed(None, None, local).is_ok());
        assert!(metrics_allowed(None, None, Some("::1".parse().expect("ip"))).is_ok());
        assert!(metrics_allowed(None, None, remote).is_err());
        assert!(metrics_allowed(None, None, None).is_err());
        assert!(metrics_allowed(Some("t0k"), Some("Bearer t0k"), remote).is_ok());
        for wrong in [None, Some("Bearer t0"), Some("t0k"), Some("Bearer t0kk")] {
            assert!(
                metrics_allowed(Some("t0k"), wrong, local).is_err(),
                "{wrong:?}"
            );
        }
    }
}
