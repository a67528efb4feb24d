//! The IngoPay face (seed 003): the signed session API under `/api/v1/sessions`, answering in
//! the seed's envelope (`status`, `client_message`, `developer_message`, `data`, `time`).
//! The hosted page the sessions open is in `pages/`; funding pushes money to the accounts it
//! captures.

pub mod envelope;
pub mod funding;
pub mod sessions;
pub mod signed;

use crate::http::state::AppState;
use axum::Router;
use axum::routing::{get, post};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(sessions::PATH, post(sessions::create))
        .route(
            "/api/v1/sessions/point-in-time/plugin/{session_identifier}",
            get(sessions::retrieve),
        )
        .route(funding::PATH, post(funding::create))
        .route(
            "/api/v1/disbursements/{disbursement_identifier}",
            get(funding::retrieve),
        )
}
