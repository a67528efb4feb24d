//! The receivables API under `/v1` (seed 000): snake_case fields, `YYYY-MM-DD` dates,
//! ISO-8601 UTC datetimes, exact decimal amounts, `current_page` pagination with 50 per page.

pub mod accounts;
pub mod clients;
pub mod events;
pub mod import;
pub mod imports;
pub mod ingo_participants;
pub mod payment_methods;
pub mod payment_plans;
pub mod payments;
pub mod reports;
pub mod settings;
pub mod webhook_access_setups;
pub mod webhooks;

use crate::http::extract::PER_PAGE;
use crate::http::state::AppState;
use quittance_store::repo::{PageRequest, Paged};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(clients::create, clients::list))
        .routes(routes!(clients::retrieve, clients::update))
        .routes(routes!(accounts::list))
        .routes(routes!(
            accounts::retrieve,
            accounts::update,
            accounts::delete
        ))
        .routes(routes!(
            accounts::create_sub_account,
            accounts::list_sub_accounts
        ))
        .routes(routes!(
            accounts::retrieve_sub_account,
            accounts::update_sub_account
        ))
        .routes(routes!(import::import))
        .routes(routes!(imports::create))
        .routes(routes!(imports::retrieve))
        .routes(routes!(events::list))
        .routes(routes!(events::retrieve))
        .routes(routes!(payment_methods::create))
        .routes(routes!(payment_methods::retrieve, payment_methods::delete))
        .routes(routes!(payment_methods::list_for_account))
        .routes(routes!(payments::create, payments::list))
        .routes(routes!(payments::retrieve))
        .routes(routes!(payments::capture))
        .routes(routes!(payments::void))
        .routes(routes!(payments::create_refund, payments::list_refunds))
        .routes(routes!(payments::simple_refund))
        .routes(routes!(payments::settle))
        .routes(routes!(payments::sandbox_chargeback))
        .routes(routes!(payments::sandbox_ach_return))
        .routes(routes!(reports::payments))
        .routes(routes!(payment_plans::create, payment_plans::list))
        .routes(routes!(payment_plans::preview))
        .routes(routes!(payment_plans::retrieve, payment_plans::update))
        .routes(routes!(payment_plans::activate))
        .routes(routes!(payment_plans::cancel))
        .routes(routes!(payment_plans::installments))
        .routes(routes!(payment_plans::history))
        .routes(routes!(settings::retrieve, settings::update))
        .routes(routes!(settings::test_clock))
        .routes(routes!(settings::advance))
        .routes(routes!(
            webhook_access_setups::create,
            webhook_access_setups::list
        ))
        .routes(routes!(
            webhook_access_setups::retrieve,
            webhook_access_setups::update,
            webhook_access_setups::delete
        ))
        .routes(routes!(webhooks::create, webhooks::list))
        .routes(routes!(
            webhooks::retrieve,
            webhooks::update,
            webhooks::delete
        ))
        .routes(routes!(webhooks::rotate_secret))
        .routes(routes!(webhooks::webhook_deliveries))
        .routes(routes!(webhooks::event_deliveries))
        .routes(routes!(webhooks::retry))
        .routes(routes!(webhooks::recover))
        .routes(routes!(ingo_participants::create, ingo_participants::list))
        .routes(routes!(
            ingo_participants::retrieve,
            ingo_participants::update,
            ingo_participants::delete
        ))
        .routes(routes!(ingo_participants::rotate_secret))
}

/// One page of a list: `{"data":[…],"current_page","per_page","total","total_pages"}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ListPage<T> {
    pub data: Vec<T>,
    pub current_page: i64,
    pub per_page: i64,
    pub total: i64,
    pub total_pages: i64,
}

impl<T> ListPage<T> {
    pub fn new<S>(paged: Paged<S>, page: PageRequest, convert: impl FnMut(S) -> T) -> Self {
        ListPage {
            data: paged.items.into_iter().map(convert).collect(),
            current_page: page.number,
            per_page: PER_PAGE,
            total: paged.total,
            total_pages: (paged.total + PER_PAGE - 1) / PER_PAGE,
        }
    }
}

pub use quittance_services::resources::{date, datetime};
