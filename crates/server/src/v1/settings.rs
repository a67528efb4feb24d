//! The organization's settings for payment plans, and the sandbox's test clock.

use crate::http::auth::Caller;
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::AppJson;
use crate::http::state::AppState;
use axum::Json;
use axum::extract::State;
use quittance_domain::FieldError;
use quittance_domain::ids::OrganizationId;
use quittance_services::scheduler::{self, OrgClock};
use quittance_store::repo::plans::{self as store, OrgSettings};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SettingsResponse {
    /// The IANA time zone plan due dates are days in (`UTC` by default).
    pub time_zone: String,
    /// How many times a declined installment is tried again (default 3) ...
    pub plan_retries: i64,
    /// ... how many days apart (default 3).
    pub plan_retry_days: i64,
    /// Missed installments that default a plan (default 2).
    pub plan_missed_limit: i64,
}

impl From<OrgSettings> for SettingsResponse {
    fn from(s: OrgSettings) -> Self {
        SettingsResponse {
            time_zone: s.time_zone,
            plan_retries: s.plan_retries,
            plan_retry_days: s.plan_retry_days,
            plan_missed_limit: s.plan_missed_limit,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSettings {
    pub time_zone: Option<String>,
    pub plan_retries: Option<i64>,
    pub plan_retry_days: Option<i64>,
    pub plan_missed_limit: Option<i64>,
}

async fn settings(state: &AppState, org: &OrganizationId) -> ApiResult<OrgSettings> {
    let o = org.clone();
    Ok(state
        .db
        .read(move |tx| Box::pin(async move { store::get_settings(tx, &o).await }))
        .await?)
}

/// The organization's settings.
#[utoipa::path(get, path = "/v1/settings", tag = "settings",
    responses((status = 200, body = SettingsResponse)))]
pub async fn retrieve(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<SettingsResponse>> {
    Ok(Json(settings(&state, caller.organization()).await?.into()))
}

fn within(
    field: &str,
    value: Option<i64>,
    min: i64,
    max: i64,
    current: i64,
) -> Result<i64, FieldError> {
    match value {
        None => Ok(current),
        Some(v) if (min..=max).contains(&v) => Ok(v),
        Some(_) => Err(FieldError::new(field, format!("must be {min} to {max}"))),
    }
}

/// Change the organization's settings. A new time zone applies to plans created or changed
/// afterwards; existing due dates keep the instant they were given.
#[utoipa::path(patch, path = "/v1/settings", tag = "settings", request_body = UpdateSettings,
    responses((status = 200, body = SettingsResponse), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    AppJson(body): AppJson<UpdateSettings>,
) -> ApiResult<Json<SettingsResponse>> {
    let org = caller.organization().clone();
    let mut s = settings(&state, &org).await?;
    if let Some(zone) = &body.time_zone {
        let zone = zone.trim();
        zone.parse::<chrono_tz::Tz>().map_err(|_| {
            FieldError::new(
                "time_zone",
                "is not an IANA time zone name such as America/New_York",
            )
        })?;
        s.time_zone = zone.to_owned();
    }
    s.plan_retries = within("plan_retries", body.plan_retries, 0, 10, s.plan_retries)?;
    s.plan_retry_days = within(
        "plan_retry_days",
        body.plan_retry_days,
        1,
        30,
        s.plan_retry_days,
    )?;
    s.plan_missed_limit = within(
        "plan_missed_limit",
        body.plan_missed_limit,
        1,
        12,
        s.plan_missed_limit,
    )?;
    let saved = s.clone();
    state
        .db
        .write(move |tx| Box::pin(async move { store::update_settings(tx, &org, &saved).await }))
        .await?;
    Ok(Json(s.into()))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TestClockResponse {
    /// The organization's time now, ISO-8601 UTC.
    pub now: String,
    /// Its date in the organization's time zone.
    pub today: String,
    /// How far it runs ahead of the server's clock.
    pub advanced_seconds: i64,
    /// Installments the scheduler charged on the way (advance only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub installments_charged: Option<usize>,
}

fn clock_response(s: &OrgSettings, clock: &OrgClock, charged: Option<usize>) -> TestClockResponse {
    TestClockResponse {
        now: super::datetime(clock.now),
        today: clock.today().format("%Y-%m-%d").to_string(),
        advanced_seconds: s.test_clock_offset / 1_000_000,
        installments_charged: charged,
    }
}

/// The sandbox test clock: the organization's time.
#[utoipa::path(get, path = "/v1/test_clock", tag = "sandbox",
    responses((status = 200, body = TestClockResponse)))]
pub async fn test_clock(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<TestClockResponse>> {
    let (s, clock) = scheduler::org_clock(&state, caller.organization()).await?;
    Ok(Json(clock_response(&s, &clock, None)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdvanceClock {
    /// Days to move forward (0 to 3,660).
    pub days: Option<i64>,
    /// Seconds to move forward, added to `days`.
    pub seconds: Option<i64>,
}

/// Sandbox: move the organization's time forward and charge what comes due.
#[utoipa::path(post, path = "/v1/test_clock/advance", tag = "sandbox", request_body = AdvanceClock,
    responses((status = 200, body = TestClockResponse), (status = 422, body = ErrorBody)))]
pub async fn advance(
    State(state): State<AppState>,
    caller: Caller,
    AppJson(body): AppJson<AdvanceClock>,
) -> ApiResult<Json<TestClockResponse>> {
    let (s, clock, charged) = scheduler::advance_clock(
        &state,
        caller.organization(),
        body.days.unwrap_or(0),
        body.seconds.unwrap_or(0),
    )
    .await?;
    Ok(Json(clock_response(&s, &clock, Some(charged))))
}
