//! The plan scheduler: charges each installment on its due date through the same payment path
//! as `POST /v1/payments` (same holds, ledger and processor), then records what happened to
//! the installment and the plan.
//!
//! An installment is claimed with a lease before it is charged; its payment carries
//! `<installment id>:<declined tries so far>` as its idempotency reference. A scheduler that
//! stops mid-charge lets its lease run out, and the next claim finds the same payment and
//! asks the processor again under the same payment id: nothing is charged twice, with one
//! scheduler or several on one PostgreSQL.

use crate::App;
use crate::error::{ServiceError, ServiceResult};
use crate::events;
use crate::payments::{PaymentRequest, Source};
use crate::resources::plans::PlanResponse;
use chrono::{DateTime, NaiveDate, TimeZone as _, Utc};
use chrono_tz::Tz;
use futures_util::StreamExt as _;
use quittance_domain::FieldError;
use quittance_domain::MinorUnits;
use quittance_domain::events::EventType;
use quittance_domain::ids::{InstallmentId, OrganizationId, PaymentPlanId};
use quittance_domain::payments::{Allocation, Payable, PaymentStatus, allocate_oldest_first};
use quittance_domain::plans::{
    InstallmentStatus, PlanAction, PlanStatus, fit_to_balance, retry_date,
};
use quittance_store::repo::payments::{self as payment_store, PaymentRecord};
use quittance_store::repo::plans::{
    self as store, Claimed, InstallmentRecord, OrgSettings, PlanRecord,
};
use quittance_store::{StoreError, Tx};
use std::time::Duration;

/// An organization's clock: the server's time plus its sandbox test clock, in its time zone.
#[derive(Debug, Clone, Copy)]
pub struct OrgClock {
    pub now: DateTime<Utc>,
    pub zone: Tz,
}

impl OrgClock {
    pub fn of(settings: &OrgSettings, server_now: DateTime<Utc>) -> OrgClock {
        OrgClock {
            now: server_now + chrono::Duration::microseconds(settings.test_clock_offset),
            zone: settings.time_zone.parse().unwrap_or(Tz::UTC),
        }
    }

    pub fn today(&self) -> NaiveDate {
        self.now.with_timezone(&self.zone).date_naive()
    }

    /// The instant `date` begins in the organization's time zone.
    pub fn start_of(&self, date: NaiveDate) -> DateTime<Utc> {
        let midnight = date.and_hms_opt(0, 0, 0).unwrap_or_default();
        self.zone
            .from_local_datetime(&midnight)
            .earliest()
            .map_or_else(|| midnight.and_utc(), |t| t.with_timezone(&Utc))
    }
}

pub async fn org_clock(
    state: &App,
    org: &OrganizationId,
) -> ServiceResult<(OrgSettings, OrgClock)> {
    let o = org.clone();
    let settings = state
        .db
        .read(move |tx| Box::pin(async move { store::get_settings(tx, &o).await }))
        .await?;
    let clock = OrgClock::of(&settings, state.clock.now());
    Ok((settings, clock))
}

/// What one scheduler round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    pub charged: usize,
    pub paid: usize,
    pub failed: usize,
    pub completed: usize,
}

/// How many installments one round charges at once.
const IN_FLIGHT: usize = 128;
const BATCH: i64 = 256;

/// Runs everything due now (for one organization, or all): learns the outcome of
/// installments charged with an unknown answer, completes plans paid off elsewhere, then
/// charges every installment that has come due, until none is left.
pub async fn run_due(state: &App, org: Option<&OrganizationId>) -> ServiceResult<Round> {
    let mut round = Round::default();
    let resolved = state
        .db
        .read(|tx| Box::pin(async move { store::processing_resolved(tx, 1000).await }))
        .await?;
    for (o, id) in resolved {
        settle_processing(state, &o, &id).await?;
    }
    let paid_off = state
        .db
        .read(|tx| Box::pin(async move { store::paid_off_plans(tx, 1000).await }))
        .await?;
    for (o, plan) in paid_off {
        round.completed += usize::from(end_plan(state, &o, &plan, PlanAction::Complete).await?);
    }
    let lease = chrono::Duration::seconds(
        i64::try_from(state.config.scheduler_lease_seconds).unwrap_or(300),
    );
    loop {
        let now = state.clock.now();
        let org = org.cloned();
        let claimed = state
            .db
            .write(move |tx| {
                Box::pin(async move {
                    store::claim_due(tx, now, now + lease, org.as_ref(), BATCH).await
                })
            })
            .await?;
        if claimed.is_empty() {
            return Ok(round);
        }
        // Plans are charged side by side; one plan's installments (claimed together, in
        // order) in turn, so each sees what the one before it paid. Each organization's
        // settings are read once for the batch.
        let mut by_plan: Vec<(OrgSettings, Vec<Claimed>)> = Vec::new();
        let mut settings: Vec<(OrganizationId, OrgSettings)> = Vec::new();
        for group in claimed.chunk_by(|a, b| a.installment.plan_id == b.installment.plan_id) {
            let org = &group[0].organization_id;
            let org_settings = match settings.iter().find(|(o, _)| o == org) {
                Some((_, s)) => s.clone(),
                None => {
                    let (s, _) = org_clock(state, org).await?;
                    settings.push((org.clone(), s.clone()));
                    s
                }
            };
            by_plan.push((org_settings, group.to_vec()));
        }
        let outcomes: Vec<ServiceResult<Option<InstallmentStatus>>> =
            futures_util::stream::iter(by_plan)
                .map(|(org_settings, group)| async move {
                    let mut out = Vec::with_capacity(group.len());
                    for c in group {
                        out.push(charge(state, c, &org_settings).await);
                    }
                    futures_util::stream::iter(out)
                })
                .buffer_unordered(IN_FLIGHT)
                .flatten()
                .collect()
                .await;
        for outcome in outcomes {
            match outcome? {
                Some(InstallmentStatus::Paid) => {
                    round.charged += 1;
                    round.paid += 1;
                }
                Some(InstallmentStatus::RetryScheduled | InstallmentStatus::Missed) => {
                    round.charged += 1;
                    round.failed += 1;
                }
                Some(_) => round.charged += 1,
                // Paid off meanwhile, or held by payments still open.
                None => {}
            }
        }
    }
}

/// Charges one claimed installment; `None` when nothing was charged (the plan turned out to
/// be paid off, or what it owes is held by payments still open).
async fn charge(
    state: &App,
    claimed: Claimed,
    settings: &OrgSettings,
) -> ServiceResult<Option<InstallmentStatus>> {
    let org = claimed.organization_id;
    let installment = claimed.installment;
    let (o, plan_id) = (org.clone(), installment.plan_id.clone());
    let (plan, covered) = state
        .db
        .read(move |tx| {
            Box::pin(async move {
                let plan = store::get_plan(tx, &o, &plan_id).await?;
                let covered = store::covered(tx, &plan.id).await?;
                Ok::<_, StoreError>((plan, covered))
            })
        })
        .await?;
    let owed: i64 = covered.iter().map(|c| c.balance.get().max(0)).sum();
    if owed == 0 {
        // Paid off elsewhere: nothing more is charged.
        end_plan(state, &org, &plan.id, PlanAction::Complete).await?;
        return Ok(None);
    }
    let payables: Vec<Payable> = covered
        .iter()
        .map(|c| Payable {
            sub_account_id: c.sub_account_id.clone(),
            available: MinorUnits::new((c.balance.get() - c.held.get()).max(0)),
        })
        .collect();
    let available: i64 = payables.iter().map(|p| p.available.get()).sum();
    let amount = MinorUnits::new(installment.amount.get().min(available));
    if amount.get() <= 0 {
        // What is owed is held by payments still open: try again next round.
        release_lease(state, &installment).await?;
        return Ok(None);
    }
    let allocations: Vec<Allocation> =
        allocate_oldest_first(amount, &payables).map_err(ServiceError::from)?;
    let charged = crate::payments::create_payment(
        state,
        &org,
        PaymentRequest {
            account_id: plan.account_id.clone(),
            amount,
            source: Source::Saved(plan.payment_method_id.clone()),
            allocations: Some(allocations),
            capture: true,
            description: Some(format!(
                "Installment {} of payment plan {}",
                installment.seq, plan.id
            )),
            idempotency_ref: Some(format!("{}:{}", installment.id, installment.attempts)),
            installment_id: Some(installment.id.clone()),
        },
    )
    .await;
    let payment = match charged {
        Ok(p) => Some(p),
        Err(e) => {
            // The method was deleted, or the sub-accounts changed under the plan: a failed try.
            tracing::warn!(installment = %installment.id, error = %e.message(), "installment could not be charged");
            None
        }
    };
    record_outcome(state, &org, &installment.id, payment, settings)
        .await
        .map(Some)
}

async fn release_lease(state: &App, installment: &InstallmentRecord) -> ServiceResult<()> {
    let i = installment.clone();
    state
        .db
        .write(move |tx| Box::pin(async move { store::update_installment(tx, &i).await }))
        .await?;
    Ok(())
}

/// An installment charged with an unknown outcome, now resolved.
async fn settle_processing(
    state: &App,
    org: &OrganizationId,
    id: &InstallmentId,
) -> ServiceResult<()> {
    let (o, i) = (org.clone(), id.clone());
    let payment = state
        .db
        .read(move |tx| {
            Box::pin(async move {
                let inst = store::get_installment(tx, &i).await?;
                match inst.payment_id {
                    Some(p) => payment_store::get_payment(tx, &o, &p).await.map(Some),
                    None => Ok(None),
                }
            })
        })
        .await?;
    let (settings, _) = org_clock(state, org).await?;
    record_outcome(state, org, id, payment, &settings)
        .await
        .map(drop)
}

/// Records `event` with the plan as it now stands.
pub async fn plan_event(
    tx: &mut dyn Tx,
    event: EventType,
    org: &OrganizationId,
    plan: &PaymentPlanId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let p = store::get_plan(tx, org, plan).await?;
    let installments = store::list_installments(tx, plan).await?;
    events::record(tx, org, event, &PlanResponse::new(p, installments), now)
        .await
        .map(drop)
}

/// An installment's outcome, as its event carries it: the plan's id and status and the
/// installment as it now stands.
#[derive(serde::Serialize)]
struct InstallmentEvent {
    payment_plan_id: String,
    payment_plan_status: String,
    installment: crate::resources::plans::InstallmentResponse,
}

async fn installment_event(
    tx: &mut dyn Tx,
    event: EventType,
    org: &OrganizationId,
    plan: &PlanRecord,
    inst: &InstallmentRecord,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let data = InstallmentEvent {
        payment_plan_id: plan.id.to_string(),
        payment_plan_status: plan.status.as_str().to_owned(),
        installment: crate::resources::plans::installment_response(
            inst.clone(),
            plan.currency,
            false,
        ),
    };
    events::record(tx, org, event, &data, now).await.map(drop)
}

/// Ends the plan (completed, defaulted or canceled): waiting installments are canceled, the
/// sub-accounts freed, the event recorded. False when the plan had already ended.
pub async fn end_plan(
    state: &App,
    org: &OrganizationId,
    plan: &PaymentPlanId,
    action: PlanAction,
) -> ServiceResult<bool> {
    let (o, p, now) = (org.clone(), plan.clone(), state.clock.now());
    Ok(state
        .db
        .write(move |tx| Box::pin(async move { end_plan_in(tx, &o, &p, action, now).await }))
        .await?)
}

async fn end_plan_in(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    plan: &PaymentPlanId,
    action: PlanAction,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let mut p = store::lock_plan(tx, org, plan).await?;
    let Ok(next) = p.status.apply(action) else {
        return Ok(false);
    };
    p.status = next;
    p.updated_at = now;
    store::update_plan(tx, &p).await?;
    store::cancel_waiting_installments(tx, plan, now).await?;
    store::release_sub_accounts(tx, plan).await?;
    let event = match next {
        PlanStatus::Completed => EventType::PaymentPlanCompleted,
        PlanStatus::Defaulted => EventType::PaymentPlanDefaulted,
        _ => EventType::PaymentPlanCanceled,
    };
    store::record_change(
        tx,
        plan,
        &serde_json::json!({"status": next.as_str()}).to_string(),
        now,
    )
    .await?;
    plan_event(tx, event, org, plan, now).await?;
    Ok(true)
}

/// Records what a charge did to the installment and its plan.
async fn record_outcome(
    state: &App,
    org: &OrganizationId,
    id: &InstallmentId,
    payment: Option<PaymentRecord>,
    settings: &OrgSettings,
) -> ServiceResult<InstallmentStatus> {
    let clock = OrgClock::of(settings, state.clock.now());
    let settings = settings.clone();
    let (o, i, now) = (org.clone(), id.clone(), state.clock.now());
    Ok(state
        .db
        .write(move |tx| {
            Box::pin(async move {
                let mut inst = store::get_installment(tx, &i).await?;
                let plan = store::lock_plan(tx, &o, &inst.plan_id).await?;
                inst.updated_at = now;
                let status = payment.as_ref().map(|p| p.status);
                match status {
                    Some(PaymentStatus::Pending | PaymentStatus::Unknown) => {
                        inst.status = InstallmentStatus::Processing;
                        inst.payment_id = payment.as_ref().map(|p| p.id.clone());
                        store::update_installment(tx, &inst).await?;
                        return Ok::<_, StoreError>(inst.status);
                    }
                    Some(
                        PaymentStatus::Captured
                        | PaymentStatus::Settled
                        | PaymentStatus::Authorized,
                    ) => {
                        let paid = payment.as_ref().map_or(inst.amount, |p| p.amount);
                        inst.status = InstallmentStatus::Paid;
                        inst.amount = paid;
                        inst.payment_id = payment.as_ref().map(|p| p.id.clone());
                        store::update_installment(tx, &inst).await?;
                        installment_event(
                            tx,
                            EventType::PaymentPlanInstallmentPaid,
                            &o,
                            &plan,
                            &inst,
                            now,
                        )
                        .await?;
                        refit(tx, &o, &plan, now).await?;
                    }
                    _ => {
                        inst.attempts += 1;
                        inst.payment_id = payment.as_ref().map(|p| p.id.clone());
                        if plan.status != PlanStatus::Active {
                            // The plan ended while this was charged: no retry.
                            inst.status = InstallmentStatus::Canceled;
                            store::update_installment(tx, &inst).await?;
                            return Ok(inst.status);
                        }
                        if inst.attempts <= settings.plan_retries {
                            inst.status = InstallmentStatus::RetryScheduled;
                            let days = u32::try_from(settings.plan_retry_days).unwrap_or(3);
                            inst.due_date = retry_date(clock.today(), days);
                            inst.due_at = clock.start_of(inst.due_date);
                        } else {
                            inst.status = InstallmentStatus::Missed;
                        }
                        store::update_installment(tx, &inst).await?;
                        installment_event(
                            tx,
                            EventType::PaymentPlanInstallmentFailed,
                            &o,
                            &plan,
                            &inst,
                            now,
                        )
                        .await?;
                        if inst.status == InstallmentStatus::Missed {
                            let mut p = plan.clone();
                            p.missed += 1;
                            p.updated_at = now;
                            store::update_plan(tx, &p).await?;
                            if p.missed >= settings.plan_missed_limit {
                                end_plan_in(tx, &o, &p.id, PlanAction::Default, now).await?;
                            }
                        }
                        settle_if_nothing_left(tx, &o, &plan.id, now).await?;
                    }
                }
                store::touch_plan(tx, &plan.id, now).await?;
                Ok(inst.status)
            })
        })
        .await?)
}

/// After a payment: a plan whose sub-accounts owe nothing is completed; otherwise the waiting
/// installments (not those being charged right now) shrink to what is still payable, the
/// last ones first.
async fn refit(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    plan: &PlanRecord,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let covered = store::covered(tx, &plan.id).await?;
    let balance: i64 = covered.iter().map(|c| c.balance.get().max(0)).sum();
    if balance == 0 {
        end_plan_in(tx, org, &plan.id, PlanAction::Complete, now).await?;
        return Ok(());
    }
    let payable: i64 = covered
        .iter()
        .map(|c| (c.balance.get() - c.held.get()).max(0))
        .sum();
    let mut waiting = Vec::new();
    for i in store::list_installments(tx, &plan.id).await? {
        let open = matches!(
            i.status,
            InstallmentStatus::Scheduled | InstallmentStatus::RetryScheduled
        );
        if open && !store::is_leased(tx, &i.id, now).await? {
            waiting.push(i);
        }
    }
    let amounts: Vec<MinorUnits> = waiting.iter().map(|i| i.amount).collect();
    for (mut inst, fitted) in waiting
        .into_iter()
        .zip(fit_to_balance(&amounts, MinorUnits::new(payable)))
    {
        if fitted != inst.amount {
            inst.amount = fitted;
            if fitted.get() == 0 {
                inst.status = InstallmentStatus::Canceled;
            }
            inst.updated_at = now;
            store::update_installment(tx, &inst).await?;
        }
    }
    settle_if_nothing_left(tx, org, &plan.id, now).await
}

/// A plan with no installment left to charge ends: completed, or defaulted if it missed any.
async fn settle_if_nothing_left(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    plan: &PaymentPlanId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let installments = store::list_installments(tx, plan).await?;
    if installments.iter().any(|i| i.status.is_open()) {
        return Ok(());
    }
    let missed = installments
        .iter()
        .any(|i| i.status == InstallmentStatus::Missed);
    let action = if missed {
        PlanAction::Default
    } else {
        PlanAction::Complete
    };
    end_plan_in(tx, org, plan, action, now).await.map(drop)
}

/// The scheduler inside `serve` (or `quittance worker`): a round every
/// `scheduler_interval_seconds`, until a stop is asked for.
pub async fn run_until(state: App, mut stop: crate::stop::Stop) {
    let mut tick = tokio::time::interval(Duration::from_secs(
        state.config.scheduler_interval_seconds.max(1),
    ));
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = stop.requested() => return,
        }
        match run_due(&state, None).await {
            Ok(round) if round != Round::default() => tracing::info!(?round, "scheduler"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e.message(), "scheduler round failed"),
        }
    }
}

/// Moves the organization's time forward, one day at a time, and charges whatever comes due
/// on each day: a year of a plan in seconds. Time never moves back.
pub async fn advance_clock(
    state: &App,
    org: &OrganizationId,
    days: i64,
    seconds: i64,
) -> ServiceResult<(OrgSettings, OrgClock, usize)> {
    if !(0..=3660).contains(&days) {
        return Err(FieldError::new("days", "must be 0 to 3660").into());
    }
    if !(0..=86_400 * 3660).contains(&seconds) {
        return Err(FieldError::new("seconds", "must be 0 to 316224000").into());
    }
    let mut charged = 0;
    // Day by day, so retries and later installments fall due in their turn.
    let steps = std::iter::repeat_n(86_400i64, usize::try_from(days).unwrap_or(0))
        .chain((seconds > 0).then_some(seconds));
    for step in steps {
        let o = org.clone();
        state
            .db
            .write(move |tx| {
                Box::pin(async move {
                    let mut s = store::get_settings(tx, &o).await?;
                    s.test_clock_offset += step * 1_000_000;
                    store::update_settings(tx, &o, &s).await
                })
            })
            .await?;
        charged += run_due(state, Some(org)).await?.charged;
    }
    let (s, clock) = org_clock(state, org).await?;
    Ok((s, clock, charged))
}
