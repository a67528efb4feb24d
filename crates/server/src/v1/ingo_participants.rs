//! IngoPay participants (seed 003), managed by the organization: who may create hosted
//! sessions, with which signing credentials, for which host pages. The secret is shown once,
//! on creation and on rotation.

use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::AppJson;
use crate::http::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use quittance_services::ingo::participants::{
    self, IssuedParticipant, ParticipantChanges, ParticipantView,
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ParticipantBody {
    /// HTTPS origins allowed to frame the hosted page, in order; the first is the default
    /// `host_uri`. Required when creating.
    pub host_uris: Option<Vec<String>>,
    /// Offer PayPal as a funding destination (and require `email_address` in sessions).
    pub paypal_enabled: Option<bool>,
    /// Failed recipient verifications allowed before the page locks (default 3).
    pub recipient_verification_attempts: Option<i64>,
    /// Failed account verifications allowed before the page locks (default 3).
    pub account_verification_attempts: Option<i64>,
    /// Failed verifications of either kind that end the session (default 5).
    pub session_attempts: Option<i64>,
}

impl From<ParticipantBody> for ParticipantChanges {
    fn from(b: ParticipantBody) -> Self {
        ParticipantChanges {
            host_uris: b.host_uris,
            paypal_enabled: b.paypal_enabled,
            recipient_attempts: b.recipient_verification_attempts,
            account_attempts: b.account_verification_attempts,
            session_attempts: b.session_attempts,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ParticipantList {
    pub data: Vec<ParticipantView>,
}

fn number(text: &str) -> ApiResult<i64> {
    text.parse::<i64>()
        .map_err(|_| ApiError::not_found("participant", text))
}

/// Create a participant. Its `username` and `secret` sign session requests; the secret is
/// shown only in this answer.
#[utoipa::path(post, path = "/v1/ingo/participants", tag = "ingopay", request_body = ParticipantBody,
    responses((status = 201, body = IssuedParticipant), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    AppJson(body): AppJson<ParticipantBody>,
) -> ApiResult<(StatusCode, Json<IssuedParticipant>)> {
    let issued = participants::create(&state, caller.organization(), &body.into()).await?;
    Ok((StatusCode::CREATED, Json(issued)))
}

/// The organization's participants (never their secrets).
#[utoipa::path(get, path = "/v1/ingo/participants", tag = "ingopay",
    responses((status = 200, body = ParticipantList)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<ParticipantList>> {
    let data = participants::list(&state, Some(caller.organization())).await?;
    Ok(Json(ParticipantList { data }))
}

/// One participant.
#[utoipa::path(get, path = "/v1/ingo/participants/{participant_id}", tag = "ingopay",
    params(("participant_id" = i64, Path)),
    responses((status = 200, body = ParticipantView), (status = 404, body = ErrorBody)))]
pub async fn retrieve(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<ParticipantView>> {
    Ok(Json(
        participants::get(&state, caller.organization(), number(&id)?).await?,
    ))
}

/// Change a participant's host URIs, PayPal or thresholds; fields left out stay.
#[utoipa::path(patch, path = "/v1/ingo/participants/{participant_id}", tag = "ingopay",
    params(("participant_id" = i64, Path)), request_body = ParticipantBody,
    responses((status = 200, body = ParticipantView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    AppJson(body): AppJson<ParticipantBody>,
) -> ApiResult<Json<ParticipantView>> {
    let n = number(&id)?;
    Ok(Json(
        participants::update(&state, caller.organization(), n, &body.into()).await?,
    ))
}

/// A new secret, shown once; the old one stops working at once.
#[utoipa::path(post, path = "/v1/ingo/participants/{participant_id}/rotate-secret", tag = "ingopay",
    params(("participant_id" = i64, Path)),
    responses((status = 200, body = IssuedParticipant), (status = 404, body = ErrorBody)))]
pub async fn rotate_secret(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<IssuedParticipant>> {
    let n = number(&id)?;
    Ok(Json(
        participants::rotate_secret(&state, caller.organization(), n).await?,
    ))
}

/// Delete a participant: its signatures stop working and its sessions' pages stop opening.
#[utoipa::path(delete, path = "/v1/ingo/participants/{participant_id}", tag = "ingopay",
    params(("participant_id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    participants::delete(&state, caller.organization(), number(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
