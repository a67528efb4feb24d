//! Funding: `POST /api/v1/disbursements` pushes an amount to a `customer_account_token` the
//! hosted page captured, and `GET /api/v1/disbursements/{id}` reads it back; both signed as
//! every Ingo API is, answering in seed 003's envelope.

use super::envelope::create_error;
use super::envelope::{DISBURSEMENT, respond, service_error_about, validation};
use super::signed::SignedCall;
use crate::http::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use quittance_services::ingo::funding::{self, DisbursementView, Funded};
use quittance_store::repo::disbursements::status;
use std::time::Instant;

pub const PATH: &str = "/api/v1/disbursements";

/// The envelope a disbursement is answered in: its status decides the code, and a repeat of
/// a paid-out one is `101`.
fn answer(view: DisbursementView, repeat: bool, started: Instant) -> Response {
    match view.status.as_str() {
        status::PENDING => respond(
            StatusCode::ACCEPTED,
            102,
            "Accepted - the outcome is not known yet",
            Some("outcome_pending"),
            view,
            started,
        ),
        status::FAILED => respond(
            StatusCode::PAYMENT_REQUIRED,
            13402,
            "Funding refused - See data element for the failure code",
            Some("funding_refused"),
            view,
            started,
        ),
        _ if repeat => respond(
            StatusCode::OK,
            101,
            "Success - Idempotent",
            None,
            view,
            started,
        ),
        _ => respond(StatusCode::OK, 100, "Success", None, view, started),
    }
}

/// Pushes money to a captured account.
pub async fn create(State(state): State<AppState>, call: SignedCall) -> Response {
    let request = match funding::validate(&call.body) {
        Ok(request) => request,
        Err(errors) => return validation(errors, call.started),
    };
    let key = call.idempotency_key();
    match funding::create(&state, &call.signed, key.as_deref(), &request).await {
        Ok(Funded::New(view)) => answer(view, false, call.started),
        Ok(Funded::Idempotent(view)) => answer(view, true, call.started),
        Err(e) => create_error(e, key.as_deref(), call.participant_id(), call.started),
    }
}

/// A disbursement of the participant (signed, with an empty body).
pub async fn retrieve(
    State(state): State<AppState>,
    Path(id): Path<String>,
    call: SignedCall,
) -> Response {
    if let Err(refused) = call.remember(&state).await {
        return refused;
    }
    match funding::get(&state, call.participant_id(), &id).await {
        Ok(view) => respond(StatusCode::OK, 100, "Success", None, view, call.started),
        Err(e) => service_error_about(e, DISBURSEMENT, call.started),
    }
}
