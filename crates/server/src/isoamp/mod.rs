//! The ISO Amp face (seed 001) under `/api`: its paths, camelCase fields and `"object"`
//! markers exactly as the seed prints them. Authenticated with an API key sent bare.

pub mod events;
pub mod webhooks;

use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(events::list))
        .routes(routes!(events::retrieve))
        .routes(routes!(webhooks::list, webhooks::create))
        .routes(routes!(
            webhooks::retrieve,
            webhooks::update,
            webhooks::delete
        ))
}
