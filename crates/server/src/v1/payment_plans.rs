//! Payment plans (seed 000): an agreement to pay sub-accounts over time. A plan is created
//! `inactive` with its whole schedule; only activation starts it, and the scheduler then
//! charges each installment on its due date.

use super::{ListPage, datetime};
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult, ErrorBody, OrNotFound};
use crate::http::extract::{AppJson, AppQuery, body_id, exactly_one, page, query_param};
use crate::http::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::NaiveDate;
use quittance_domain::events::EventType;
use quittance_domain::ids::{
    AccountId, InstallmentId, OrganizationId, PaymentMethodId, PaymentPlanId, SubAccountId,
};
use quittance_domain::plans::{
    Frequency, InstallmentStatus, PlanAction, PlanStatus, Sizing, schedule,
};
use quittance_domain::{Currency, FieldError, MinorUnits};
use quittance_services::events;
pub use quittance_services::resources::plans::{
    InstallmentResponse, PlanResponse, installment_response,
};
use quittance_services::scheduler::{self, OrgClock, plan_event};
use quittance_services::wire::AmountText;
use quittance_store::StoreError;
use quittance_store::repo::plans::{self as store, InstallmentRecord, PlanFilter, PlanRecord};
use quittance_store::repo::{accounts, payment_methods, payments};
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePlan {
    pub account_id: String,
    pub payment_method_id: String,
    /// Default: every open sub-account of the account with a balance.
    pub sub_account_ids: Option<Vec<String>>,
    /// Default: the covered sub-accounts' balance; never more.
    #[schema(value_type = Option<f64>)]
    pub total_amount: Option<AmountText>,
    /// Give this or `installment_count`.
    #[schema(value_type = Option<f64>)]
    pub installment_amount: Option<AmountText>,
    pub installment_count: Option<i64>,
    /// `weekly`, `biweekly`, `semimonthly` or `monthly`.
    pub frequency: String,
    /// `YYYY-MM-DD`, today or later in the organization's time zone.
    pub start_date: String,
    /// Charged when the plan is activated; part of `total_amount`.
    #[schema(value_type = Option<f64>)]
    pub down_payment: Option<AmountText>,
}

fn parse_date(field: &str, text: &str) -> Result<NaiveDate, FieldError> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| FieldError::new(field, "must be a date YYYY-MM-DD"))
}

fn not_in_past(field: &str, d: NaiveDate, clock: &OrgClock) -> Result<(), FieldError> {
    if d < clock.today() {
        return Err(FieldError::new(
            field,
            format!(
                "is in the past (today is {} in the organization's time zone)",
                clock.today()
            ),
        ));
    }
    Ok(())
}

/// What a schedule is made of.
struct Terms {
    total: MinorUnits,
    sizing: Sizing,
    frequency: Frequency,
    start: NaiveDate,
}

/// The schedule's installments, seq from `first_seq`, due in the organization's time zone.
fn installments_for(
    state: &AppState,
    plan: &PaymentPlanId,
    terms: Terms,
    first_seq: i64,
    clock: &OrgClock,
) -> Result<Vec<InstallmentRecord>, FieldError> {
    let now = state.clock.now();
    let max = state.config.max_plan_installments;
    Ok(
        schedule(terms.total, terms.sizing, terms.frequency, terms.start, max)?
            .into_iter()
            .enumerate()
            .map(|(n, due)| InstallmentRecord {
                id: InstallmentId::generate(),
                plan_id: plan.clone(),
                seq: first_seq + n as i64,
                kind: "installment".to_owned(),
                due_date: due.date,
                due_at: clock.start_of(due.date),
                amount: due.amount,
                status: InstallmentStatus::Scheduled,
                attempts: 0,
                payment_id: None,
                updated_at: now,
            })
            .collect(),
    )
}

fn sizing(
    amount: &Option<AmountText>,
    count: Option<i64>,
    currency: Currency,
) -> Result<Sizing, FieldError> {
    exactly_one(&[
        ("installment_amount", amount.is_some()),
        ("installment_count", count.is_some()),
    ])?;
    match (amount, count) {
        (Some(a), _) => Ok(Sizing::Amount(a.to_minor("installment_amount", currency)?)),
        (None, Some(c)) => Ok(Sizing::Count(u32::try_from(c).map_err(|_| {
            FieldError::new("installment_count", "must be a positive whole number")
        })?)),
        (None, None) => unreachable!("exactly_one checked"),
    }
}

/// Validates a plan request against the stored account, method and sub-accounts and builds
/// the plan with its whole schedule (nothing written).
async fn build_plan(
    state: &AppState,
    org: &OrganizationId,
    body: &CreatePlan,
) -> ApiResult<(PlanRecord, Vec<InstallmentRecord>)> {
    let account_id = body_id("account_id", &body.account_id, AccountId::parse)?;
    let method_id = body_id(
        "payment_method_id",
        &body.payment_method_id,
        PaymentMethodId::parse,
    )?;
    let frequency = Frequency::parse_field("frequency", body.frequency.trim())?;
    let start = parse_date("start_date", &body.start_date)?;
    let wanted: Option<Vec<SubAccountId>> = match &body.sub_account_ids {
        None => None,
        Some(ids) => Some(
            ids.iter()
                .enumerate()
                .map(|(i, id)| body_id(&format!("sub_account_ids[{i}]"), id, SubAccountId::parse))
                .collect::<Result<_, _>>()?,
        ),
    };
    let (o, a, m) = (org.clone(), account_id.clone(), method_id.clone());
    let (account, method, payables) = state
        .db
        .read(move |tx| {
            Box::pin(async move {
                let account = accounts::get_account(tx, &o, &a).await.or_not_found_in(
                    "account",
                    a.as_str(),
                    "account_id",
                )?;
                let method = payment_methods::get_payment_method(tx, &o, &m)
                    .await
                    .or_not_found_in("payment method", m.as_str(), "payment_method_id")?;
                let payables = payments::payables(tx, &o, &a).await?;
                Ok::<_, ApiError>((account, method, payables))
            })
        })
        .await?;
    if method.account_id != account.id {
        return Err(FieldError::new("payment_method_id", "belongs to another account").into());
    }
    let covered: Vec<(SubAccountId, MinorUnits)> = match &wanted {
        None => payables
            .iter()
            .filter(|(p, _)| p.available.get() > 0)
            .map(|(p, _)| (p.sub_account_id.clone(), p.available))
            .collect(),
        Some(ids) => {
            let mut out = Vec::new();
            for (i, id) in ids.iter().enumerate() {
                let Some((p, _)) = payables.iter().find(|(p, _)| &p.sub_account_id == id) else {
                    return Err(FieldError::new(
                        format!("sub_account_ids[{i}]"),
                        "is not an open sub-account of this account",
                    )
                    .into());
                };
                if out.iter().any(|(s, _)| s == id) {
                    return Err(FieldError::new(
                        format!("sub_account_ids[{i}]"),
                        "is listed twice",
                    )
                    .into());
                }
                out.push((id.clone(), p.available));
            }
            out
        }
    };
    let balance: i64 = covered.iter().map(|(_, a)| a.get()).sum();
    if covered.is_empty() || balance <= 0 {
        return Err(FieldError::new("sub_account_ids", "cover no balance to pay").into());
    }
    let currency = account.currency;
    let total = match &body.total_amount {
        None => MinorUnits::new(balance),
        Some(t) => t.to_minor("total_amount", currency)?,
    };
    if total.get() <= 0 {
        return Err(FieldError::new("total_amount", "must be greater than zero").into());
    }
    if total.get() > balance {
        return Err(FieldError::new(
            "total_amount",
            format!(
                "is more than the covered sub-accounts' balance ({})",
                MinorUnits::new(balance).format(currency)
            ),
        )
        .into());
    }
    let down = match &body.down_payment {
        None => None,
        Some(d) => {
            let d = d.to_minor("down_payment", currency)?;
            if d.get() <= 0 || d >= total {
                return Err(FieldError::new(
                    "down_payment",
                    "must be more than zero and less than the total",
                )
                .into());
            }
            Some(d)
        }
    };
    let sizing = sizing(&body.installment_amount, body.installment_count, currency)?;
    let (_, clock) = scheduler::org_clock(state, org).await?;
    not_in_past("start_date", start, &clock)?;
    let now = state.clock.now();
    let id = PaymentPlanId::generate();
    let scheduled_total = MinorUnits::new(total.get() - down.map_or(0, MinorUnits::get));
    let mut installments = Vec::new();
    if let Some(d) = down {
        installments.push(InstallmentRecord {
            id: InstallmentId::generate(),
            plan_id: id.clone(),
            seq: 0,
            kind: "down_payment".to_owned(),
            due_date: clock.today(),
            due_at: clock.now,
            amount: d,
            status: InstallmentStatus::Scheduled,
            attempts: 0,
            payment_id: None,
            updated_at: now,
        });
    }
    let terms = Terms {
        total: scheduled_total,
        sizing,
        frequency,
        start,
    };
    installments.extend(installments_for(state, &id, terms, 1, &clock)?);
    let (installment_amount, installment_count) = match sizing {
        Sizing::Amount(a) => (Some(a), None),
        Sizing::Count(c) => (None, Some(i64::from(c))),
    };
    Ok((
        PlanRecord {
            id,
            organization_id: org.clone(),
            account_id: account.id,
            payment_method_id: method.id,
            status: PlanStatus::Inactive,
            currency,
            total_amount: total,
            installment_amount,
            installment_count,
            frequency,
            start_date: start,
            down_payment: down,
            missed: 0,
            sub_account_ids: covered.into_iter().map(|(s, _)| s).collect(),
            created_at: now,
            updated_at: now,
        },
        installments,
    ))
}

/// Create a payment plan. It answers `inactive` with its whole schedule; nothing is charged
/// until it is activated.
#[utoipa::path(post, path = "/v1/payment_plans", tag = "payment-plans", request_body = CreatePlan,
    responses((status = 201, body = PlanResponse), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    AppJson(body): AppJson<CreatePlan>,
) -> ApiResult<(StatusCode, Json<PlanResponse>)> {
    let org = caller.organization().clone();
    let (plan, installments) = build_plan(&state, &org, &body).await?;
    let (p, i, now) = (plan.clone(), installments.clone(), state.clock.now());
    state
        .db
        .write(move |tx| {
            Box::pin(async move {
                store::insert_plan(tx, &p, &i).await?;
                store::record_change(
                    tx,
                    &p.id,
                    &serde_json::json!({"status": "inactive", "created": true}).to_string(),
                    now,
                )
                .await?;
                events::record(
                    tx,
                    &p.organization_id,
                    EventType::PaymentPlanCreated,
                    &PlanResponse::new(p.clone(), i.clone()),
                    now,
                )
                .await
                .map(drop)
            })
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(PlanResponse::new(plan, installments)),
    ))
}

/// The schedule a plan would have, without creating it.
#[utoipa::path(post, path = "/v1/payment_plans/preview", tag = "payment-plans", request_body = CreatePlan,
    responses((status = 200, body = PlanResponse), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn preview(
    State(state): State<AppState>,
    caller: Caller,
    AppJson(body): AppJson<CreatePlan>,
) -> ApiResult<Json<PlanResponse>> {
    let (plan, installments) = build_plan(&state, caller.organization(), &body).await?;
    Ok(Json(PlanResponse::build(plan, installments, true)))
}

fn plan_id(id: &str) -> ApiResult<PaymentPlanId> {
    PaymentPlanId::parse(id).ok_or_else(|| ApiError::not_found("payment plan", id))
}

async fn load(state: &AppState, org: &OrganizationId, id: &str) -> ApiResult<PlanResponse> {
    let (o, p) = (org.clone(), plan_id(id)?);
    let (plan, installments) = state
        .db
        .read(move |tx| {
            Box::pin(async move {
                let plan = store::get_plan(tx, &o, &p).await?;
                let installments = store::list_installments(tx, &p).await?;
                Ok::<_, StoreError>((plan, installments))
            })
        })
        .await
        .or_not_found("payment plan", id)?;
    Ok(PlanResponse::new(plan, installments))
}

/// One payment plan, with its schedule.
#[utoipa::path(get, path = "/v1/payment_plans/{id}", tag = "payment-plans", params(("id" = String, Path)),
    responses((status = 200, body = PlanResponse), (status = 404, body = ErrorBody)))]
pub async fn retrieve(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<PlanResponse>> {
    Ok(Json(load(&state, caller.organization(), &id).await?))
}

/// A plan's installments, in order.
#[utoipa::path(get, path = "/v1/payment_plans/{id}/installments", tag = "payment-plans", params(("id" = String, Path)),
    responses((status = 200, body = Vec<InstallmentResponse>), (status = 404, body = ErrorBody)))]
pub async fn installments(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<InstallmentResponse>>> {
    Ok(Json(
        load(&state, caller.organization(), &id).await?.installments,
    ))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PlanChange {
    pub changed_at: String,
    /// What changed, as `{"field": {"from": …, "to": …}}`, or the new status.
    #[schema(value_type = Object)]
    pub change: serde_json::Value,
}

/// Every change to a plan, oldest first.
#[utoipa::path(get, path = "/v1/payment_plans/{id}/history", tag = "payment-plans", params(("id" = String, Path)),
    responses((status = 200, body = Vec<PlanChange>), (status = 404, body = ErrorBody)))]
pub async fn history(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<PlanChange>>> {
    let (o, p) = (caller.organization().clone(), plan_id(&id)?);
    let changes = state
        .db
        .read(move |tx| {
            Box::pin(async move {
                store::get_plan(tx, &o, &p).await?;
                store::list_changes(tx, &p).await
            })
        })
        .await
        .or_not_found("payment plan", &id)?;
    Ok(Json(
        changes
            .into_iter()
            .map(|(at, change)| PlanChange {
                changed_at: datetime(at),
                change: serde_json::from_str(&change).unwrap_or(serde_json::Value::String(change)),
            })
            .collect(),
    ))
}

#[derive(Debug, Deserialize)]
pub struct PlanListQuery {
    current_page: Option<String>,
    account_id: Option<String>,
    status: Option<String>,
}

/// List payment plans, oldest first (filters: `account_id`, `status`).
#[utoipa::path(get, path = "/v1/payment_plans", tag = "payment-plans",
    params(("current_page" = Option<i64>, Query), ("account_id" = Option<String>, Query), ("status" = Option<String>, Query)),
    responses((status = 200, body = ListPage<PlanResponse>)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    AppQuery(query): AppQuery<PlanListQuery>,
) -> ApiResult<Json<ListPage<PlanResponse>>> {
    let page = page(query.current_page.as_deref())?;
    let filter = PlanFilter {
        account_id: query_param("account_id", query.account_id.as_deref(), |f, t| {
            body_id(f, t, AccountId::parse)
        })?,
        status: query_param("status", query.status.as_deref(), PlanStatus::parse_field)?,
    };
    let org = caller.organization().clone();
    let (paged, schedules) = state
        .db
        .read(move |tx| {
            Box::pin(async move {
                let paged = store::list_plans(tx, &org, &filter, page).await?;
                let mut schedules = Vec::with_capacity(paged.items.len());
                for p in &paged.items {
                    schedules.push(store::list_installments(tx, &p.id).await?);
                }
                Ok::<_, StoreError>((paged, schedules))
            })
        })
        .await?;
    let mut schedules = schedules.into_iter();
    Ok(Json(ListPage::new(paged, page, |p| {
        PlanResponse::new(p, schedules.next().unwrap_or_default())
    })))
}

/// Activate a plan: from now on its installments are charged when due (a down payment at
/// once). A sub-account can be in one active plan only.
#[utoipa::path(post, path = "/v1/payment_plans/{id}/activate", tag = "payment-plans", params(("id" = String, Path)),
    responses((status = 200, body = PlanResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn activate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<PlanResponse>> {
    let org = caller.organization().clone();
    let pid = plan_id(&id)?;
    let (_, clock) = scheduler::org_clock(&state, &org).await?;
    let (o, p, now) = (org.clone(), pid.clone(), state.clock.now());
    state
        .db
        .write(move |tx| {
            Box::pin(async move {
                let mut plan = store::lock_plan(tx, &o, &p)
                    .await
                    .or_not_found("payment plan", p.as_str())?;
                plan.status = plan
                    .status
                    .apply(PlanAction::Activate)
                    .map_err(|e| ApiError::conflict(e.to_string()))?;
                let installments = store::list_installments(tx, &p).await?;
                if let Some(first) = installments.iter().find(|i| i.kind == "installment")
                    && first.due_date < clock.today()
                {
                    return Err(ApiError::unprocessable(
                        "start_date",
                        "start_date: the first installment's date has passed; change the plan's dates first",
                    ));
                }
                // The down payment falls due now.
                for mut i in installments.into_iter().filter(|i| i.kind == "down_payment") {
                    i.due_date = clock.today();
                    i.due_at = clock.now;
                    store::update_installment(tx, &i).await?;
                }
                plan.updated_at = now;
                store::update_plan(tx, &plan).await?;
                store::hold_sub_accounts(tx, &plan).await.map_err(|e| match e {
                    StoreError::Conflict(why) => ApiError::conflict(why),
                    other => other.into(),
                })?;
                store::record_change(tx, &p, &serde_json::json!({"status": "active"}).to_string(), now).await?;
                plan_event(tx, EventType::PaymentPlanActivated, &o, &p, now).await?;
                Ok::<_, ApiError>(())
            })
        })
        .await?;
    // Whatever is due now (a down payment, a first installment today) is charged at once.
    scheduler::run_due(&state, Some(&org)).await?;
    Ok(Json(load(&state, &org, &id).await?))
}

/// Cancel a plan: nothing more is charged.
#[utoipa::path(post, path = "/v1/payment_plans/{id}/cancel", tag = "payment-plans", params(("id" = String, Path)),
    responses((status = 200, body = PlanResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<PlanResponse>> {
    let org = caller.organization().clone();
    let pid = plan_id(&id)?;
    let current = load(&state, &org, &id).await?;
    let status = PlanStatus::parse(&current.status).unwrap_or(PlanStatus::Canceled);
    status
        .apply(PlanAction::Cancel)
        .map_err(|e| ApiError::conflict(e.to_string()))?;
    if !scheduler::end_plan(&state, &org, &pid, PlanAction::Cancel).await? {
        return Err(ApiError::conflict("the payment plan has already ended"));
    }
    Ok(Json(load(&state, &org, &id).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePlan {
    pub payment_method_id: Option<String>,
    #[schema(value_type = Option<f64>)]
    pub installment_amount: Option<AmountText>,
    pub installment_count: Option<i64>,
    pub frequency: Option<String>,
    /// The date the remaining installments start from.
    pub start_date: Option<String>,
}

/// Change a plan's payment method, installment size, frequency or the dates of its future
/// installments. Paid installments never change; every change is kept in the plan's history.
#[utoipa::path(patch, path = "/v1/payment_plans/{id}", tag = "payment-plans", params(("id" = String, Path)),
    request_body = UpdatePlan,
    responses((status = 200, body = PlanResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    AppJson(body): AppJson<UpdatePlan>,
) -> ApiResult<Json<PlanResponse>> {
    let org = caller.organization().clone();
    let pid = plan_id(&id)?;
    let (o, p) = (org.clone(), pid.clone());
    let (plan, installments) = state
        .db
        .read(move |tx| {
            Box::pin(async move {
                let plan = store::get_plan(tx, &o, &p).await?;
                let installments = store::list_installments(tx, &p).await?;
                Ok::<_, StoreError>((plan, installments))
            })
        })
        .await
        .or_not_found("payment plan", &id)?;
    plan.status
        .apply(PlanAction::Change)
        .map_err(|e| ApiError::conflict(e.to_string()))?;
    let (_, clock) = scheduler::org_clock(&state, &org).await?;
    let mut updated = plan.clone();
    let mut change = serde_json::Map::new();
    let mut note = |field: &str, from: String, to: String| {
        if from != to {
            change.insert(
                field.to_owned(),
                serde_json::json!({"from": from, "to": to}),
            );
        }
    };
    if let Some(m) = &body.payment_method_id {
        let method = body_id("payment_method_id", m, PaymentMethodId::parse)?;
        let (o, mm) = (org.clone(), method.clone());
        let stored = state
            .db
            .read(move |tx| {
                Box::pin(async move { payment_methods::get_payment_method(tx, &o, &mm).await })
            })
            .await
            .or_not_found_in("payment method", m, "payment_method_id")?;
        if stored.account_id != plan.account_id {
            return Err(FieldError::new("payment_method_id", "belongs to another account").into());
        }
        note(
            "payment_method_id",
            plan.payment_method_id.to_string(),
            method.to_string(),
        );
        updated.payment_method_id = method;
    }
    if let Some(f) = &body.frequency {
        updated.frequency = Frequency::parse_field("frequency", f.trim())?;
        note(
            "frequency",
            plan.frequency.as_str().into(),
            updated.frequency.as_str().into(),
        );
    }
    let waiting: Vec<&InstallmentRecord> = installments
        .iter()
        .filter(|i| {
            i.kind == "installment"
                && matches!(
                    i.status,
                    InstallmentStatus::Scheduled | InstallmentStatus::RetryScheduled
                )
        })
        .collect();
    let resize = body.installment_amount.is_some() || body.installment_count.is_some();
    let sizing = if resize {
        let s = sizing(
            &body.installment_amount,
            body.installment_count,
            plan.currency,
        )?;
        match s {
            Sizing::Amount(a) => {
                note(
                    "installment_amount",
                    plan.installment_amount
                        .map(|x| x.format(plan.currency))
                        .unwrap_or_default(),
                    a.format(plan.currency),
                );
                updated.installment_amount = Some(a);
                updated.installment_count = None;
            }
            Sizing::Count(c) => {
                note(
                    "installment_count",
                    plan.installment_count.unwrap_or(0).to_string(),
                    c.to_string(),
                );
                updated.installment_count = Some(i64::from(c));
                updated.installment_amount = None;
            }
        }
        s
    } else {
        match (plan.installment_amount, waiting.len()) {
            (Some(a), _) => Sizing::Amount(a),
            (None, n) => Sizing::Count(u32::try_from(n.max(1)).unwrap_or(1)),
        }
    };
    let start = match &body.start_date {
        Some(d) => {
            let d = parse_date("start_date", d)?;
            not_in_past("start_date", d, &clock)?;
            note("start_date", plan.start_date.to_string(), d.to_string());
            updated.start_date = d;
            d
        }
        None => waiting.first().map_or(plan.start_date, |i| i.due_date),
    };
    if change.is_empty() {
        return Ok(Json(PlanResponse::new(plan, installments)));
    }
    let now = state.clock.now();
    updated.updated_at = now;
    let remaining = MinorUnits::new(waiting.iter().map(|i| i.amount.get()).sum());
    let next_seq = installments.iter().map(|i| i.seq).max().unwrap_or(0) + 1;
    let replacements = if remaining.get() > 0
        && (resize || body.start_date.is_some() || body.frequency.is_some())
    {
        let start = if body.start_date.is_none() {
            start.max(clock.today())
        } else {
            start
        };
        let terms = Terms {
            total: remaining,
            sizing,
            frequency: updated.frequency,
            start,
        };
        Some(installments_for(&state, &pid, terms, next_seq, &clock)?)
    } else {
        None
    };
    let (o, p, before) = (org.clone(), pid.clone(), plan.updated_at);
    let change = serde_json::Value::Object(change).to_string();
    state
        .db
        .write(move |tx| {
            Box::pin(async move {
                let current = store::lock_plan(tx, &o, &p).await?;
                if current.updated_at != before || current.status.apply(PlanAction::Change).is_err()
                {
                    return Err(StoreError::Conflict(
                        "the payment plan changed meanwhile; retry".into(),
                    ));
                }
                store::update_plan(tx, &updated).await?;
                if let Some(r) = &replacements {
                    store::replace_waiting_installments(tx, &o, &p, r, now).await?;
                }
                store::record_change(tx, &p, &change, now).await?;
                plan_event(tx, EventType::PaymentPlanChanged, &o, &p, now).await
            })
        })
        .await
        .map_err(|e| match e {
            StoreError::Conflict(why) => ApiError::conflict(why),
            other => other.into(),
        })?;
    Ok(Json(load(&state, &org, &id).await?))
}
