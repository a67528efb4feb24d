//! The ISO Amp face (seed 001) under `/api`: its paths, camelCase fields and `"object"`
//! markers exactly as the seed prints them. Authenticated with an API key sent bare.

pub mod documents;
pub mod estimate;
pub mod events;
pub mod handoff_links;
pub mod merchant_types;
pub mod pricing_settings;
pub mod programs;
pub mod proposals;
pub mod prospect_stages;
pub mod prospects;
pub mod statement_analyses;
pub mod users;
pub mod webhooks;

use crate::http::state::AppState;
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
        .routes(routes!(users::list, users::create))
        .routes(routes!(users::retrieve, users::update, users::delete))
        .routes(routes!(prospects::list, prospects::create))
        .routes(routes!(
            prospects::retrieve,
            prospects::update,
            prospects::delete
        ))
        .routes(routes!(prospects::retrieve_singular))
        .routes(routes!(prospects::create_at_users_path))
        .routes(routes!(prospect_stages::list))
        .routes(routes!(prospect_stages::retrieve))
        .routes(routes!(merchant_types::list, merchant_types::create))
        .routes(routes!(
            merchant_types::retrieve,
            merchant_types::update,
            merchant_types::delete
        ))
        .routes(routes!(programs::list, programs::create))
        .routes(routes!(
            programs::retrieve,
            programs::update,
            programs::delete
        ))
        .routes(routes!(proposals::list))
        .routes(routes!(proposals::retrieve))
        .routes(routes!(proposals::create_simple))
        .routes(routes!(handoff_links::list, handoff_links::create))
        .routes(routes!(
            handoff_links::retrieve,
            handoff_links::update,
            handoff_links::delete
        ))
        .routes(routes!(handoff_links::for_proposal))
        .routes(routes!(estimate::estimate))
        .routes(routes!(
            pricing_settings::retrieve,
            pricing_settings::update
        ))
        .routes(routes!(statement_analyses::create))
        .routes(routes!(statement_analyses::upload))
        .routes(routes!(statement_analyses::start))
        .routes(routes!(statement_analyses::retrieve))
}
