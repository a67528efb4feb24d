//! `/api/pricing_settings`: an organization's own pricing figures. Today that is Schedule A
//! (the processor's cost to the ISO, a rate on volume plus a fee per item), which the
//! statement-summary estimate, proposals' margins and statement analyses use. An organization
//! that never set it gets 0.12% + $0.02, the figures behind the seed's `scheduleACost`.

use super::documents::{self as docs, find_in, insert_in, replace_in};
use super::proposals::decimal;
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::AppJson;
use crate::http::state::AppState;
use axum::Json;
use axum::extract::State;
use quittance_pricing::{Decimal, ScheduleA, plain_text};
use quittance_services::pricing::settings::{StoredPricingSettings, schedule_a_in};
use quittance_services::wire::AmountText;
use quittance_store::StoreError;
use serde::{Deserialize, Serialize};

/// The largest Schedule A fee per item accepted, in dollars: far above any real one, so a
/// misplaced decimal point is caught.
const MAX_PER_ITEM: Decimal = Decimal::from_parts(100, 0, 0, false, 0);

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleAChange {
    /// Fraction of card volume, below 1: "0.0012" is 0.12%.
    #[schema(value_type = Option<String>)]
    pub rate: Option<AmountText>,
    /// Dollars per transaction, at most 100.
    #[schema(value_type = Option<String>)]
    pub per_item: Option<AmountText>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PricingSettingsBody {
    /// Either part may be left out to keep its value.
    pub schedule_a: Option<ScheduleAChange>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleAFigures {
    /// Fraction of card volume as a numeric string.
    pub rate: String,
    /// Dollars per transaction as a numeric string.
    pub per_item: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PricingSettings {
    /// Always `pricing_settings`.
    pub object: &'static str,
    pub schedule_a: ScheduleAFigures,
}

impl From<ScheduleA> for PricingSettings {
    fn from(schedule_a: ScheduleA) -> Self {
        PricingSettings {
            object: "pricing_settings",
            schedule_a: ScheduleAFigures {
                rate: plain_text(schedule_a.rate),
                per_item: plain_text(schedule_a.per_item),
            },
        }
    }
}

/// A figure from the body: a non-negative decimal no greater than `max` (exclusive when
/// `below`).
fn figure(field: &str, text: &AmountText, max: Decimal, below: bool) -> ApiResult<Decimal> {
    let value = decimal(field, text)?;
    if (below && value >= max) || (!below && value > max) {
        let bound = if below { "less than" } else { "at most" };
        return Err(ApiError::unprocessable(
            field,
            format!("{field} must be {bound} {}", plain_text(max)),
        ));
    }
    Ok(value)
}

/// The organization's pricing settings.
#[utoipa::path(get, path = "/api/pricing_settings", tag = "iso-amp",
    responses((status = 200, body = PricingSettings)))]
pub async fn retrieve(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<PricingSettings>> {
    let org = caller.organization().clone();
    let schedule_a = state
        .db
        .read(move |tx| Box::pin(async move { schedule_a_in(tx, &org).await }))
        .await?;
    Ok(Json(schedule_a.into()))
}

/// Change the organization's Schedule A: `scheduleA.rate` (a fraction of volume, below 1) and
/// `scheduleA.perItem` (dollars, at most 100).
#[utoipa::path(patch, path = "/api/pricing_settings", tag = "iso-amp",
    request_body = PricingSettingsBody,
    responses((status = 200, body = PricingSettings), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    AppJson(req): AppJson<PricingSettingsBody>,
) -> ApiResult<Json<PricingSettings>> {
    let change = req.schedule_a.unwrap_or_default();
    let rate = change
        .rate
        .as_ref()
        .map(|t| figure("scheduleA.rate", t, Decimal::ONE, true))
        .transpose()?;
    let per_item = change
        .per_item
        .as_ref()
        .map(|t| figure("scheduleA.perItem", t, MAX_PER_ITEM, false))
        .transpose()?;
    let (org, now) = (caller.organization().clone(), state.clock.now());
    let saved = state
        .db
        .write(move |tx| {
            Box::pin(async move {
                let found = find_in::<StoredPricingSettings>(tx, &org, |_| true).await?;
                let current = match &found {
                    Some(f) => f.body.schedule_a()?,
                    None => ScheduleA::default(),
                };
                let next = ScheduleA {
                    rate: rate.unwrap_or(current.rate),
                    per_item: per_item.unwrap_or(current.per_item),
                };
                let body = StoredPricingSettings::of(next);
                match found {
                    Some(f) => replace_in(tx, &org, &f.id, &body, now).await?,
                    None => insert_in(tx, &org, &docs::new_id(), &body, now).await?,
                }
                Ok(next)
            })
        })
        .await
        .map_err(|e| match e {
            // Two first changes at once: the other one's insert won.
            StoreError::Conflict(_) => {
                ApiError::conflict("the pricing settings changed at the same time; try again")
            }
            other => other.into(),
        })?;
    Ok(Json(saved.into()))
}
