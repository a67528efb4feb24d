//! `POST /api/v1/sessions/point-in-time/plugin` and the session's state, signed as every Ingo
//! API is (see `quittance_services::ingo::signing`).

use super::envelope::{self, create_error, respond, validation};
use super::signed::SignedCall;
use crate::http::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use quittance_services::ingo::sessions::{self, Created};
use std::collections::BTreeMap;

pub const PATH: &str = "/api/v1/sessions/point-in-time/plugin";

/// Stage a session for the hosted page (seed 003's Session_Management).
pub async fn create(State(state): State<AppState>, call: SignedCall) -> Response {
    let started = call.started;
    let json: serde_json::Value = match serde_json::from_slice(&call.body) {
        Ok(json) => json,
        Err(e) => {
            let mut errors = BTreeMap::new();
            errors.insert(
                "$",
                vec![format!("The request body is not valid JSON: {e}")],
            );
            return validation(errors, started);
        }
    };
    let key = call.idempotency_key();
    match sessions::create(&state, &call.signed, key.as_deref(), &json).await {
        Ok(Created::New(answer)) => respond(StatusCode::OK, 100, "Success", None, answer, started),
        Ok(Created::Idempotent(answer)) => respond(
            StatusCode::OK,
            101,
            "Success - Idempotent",
            None,
            answer,
            started,
        ),
        Err(e) => create_error(e, key.as_deref(), call.participant_id(), started),
    }
}

/// A session's state, for the participant that made it (signed, with an empty body).
pub async fn retrieve(
    State(state): State<AppState>,
    Path(id): Path<String>,
    call: SignedCall,
) -> Response {
    if let Err(refused) = call.remember(&state).await {
        return refused;
    }
    match sessions::get(&state, &call.signed.participant, &id).await {
        Ok(view) => respond(StatusCode::OK, 100, "Success", None, view, call.started),
        Err(e) => envelope::service_error(e, call.started),
    }
}
