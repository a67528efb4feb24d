//! Payment plans, their installments and change history, the organization's plan settings and
//! test clock, and the scheduler's claims.
//!
//! Statements about one plan's installments write `status || ''` and `due_at + 0`: that keeps
//! the databases on the plan's index rather than the due-date index, which would visit every
//! installment due.
//!
//! The scheduler claims installments with a lease: an `UPDATE … WHERE lease_until IS NULL OR
//! lease_until < now`, which PostgreSQL re-checks after taking each row's lock, so two
//! schedulers never hold one installment; one that stops mid-charge lets its lease run out.

use super::{
    PageRequest, Paged, currency, decode_enum, instant, micros, opt_date, opt_parsed, parsed,
};
use crate::{Param, Row, StoreError, Tx, params};
use chrono::{DateTime, NaiveDate, Utc};
use quittance_domain::ids::{
    AccountId, InstallmentId, OrganizationId, PaymentId, PaymentMethodId, PaymentPlanId,
    SubAccountId,
};
use quittance_domain::plans::{Frequency, InstallmentStatus, PlanStatus};
use quittance_domain::{Currency, MinorUnits};

/// An organization's plan settings and sandbox test clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgSettings {
    /// An IANA time zone name (`America/New_York`); due dates are days there.
    pub time_zone: String,
    pub plan_retries: i64,
    pub plan_retry_days: i64,
    pub plan_missed_limit: i64,
    /// How far the organization's sandbox clock runs ahead, in microseconds.
    pub test_clock_offset: i64,
}

pub async fn get_settings(
    tx: &mut dyn Tx,
    org: &OrganizationId,
) -> Result<OrgSettings, StoreError> {
    let r = tx
        .query_one(
            "SELECT time_zone, plan_retries, plan_retry_days, plan_missed_limit, test_clock_offset
             FROM organizations WHERE id = $1",
            &params![org.as_str()],
        )
        .await?;
    Ok(OrgSettings {
        time_zone: r.string(0)?,
        plan_retries: r.i64(1)?,
        plan_retry_days: r.i64(2)?,
        plan_missed_limit: r.i64(3)?,
        test_clock_offset: r.i64(4)?,
    })
}

pub async fn update_settings(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    s: &OrgSettings,
) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE organizations SET time_zone = $2, plan_retries = $3, plan_retry_days = $4,
             plan_missed_limit = $5, test_clock_offset = $6
         WHERE id = $1",
        &params![
            org.as_str(),
            &s.time_zone,
            s.plan_retries,
            s.plan_retry_days,
            s.plan_missed_limit,
            s.test_clock_offset
        ],
    )
    .await
    .map(drop)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanRecord {
    pub id: PaymentPlanId,
    pub organization_id: OrganizationId,
    pub account_id: AccountId,
    pub payment_method_id: PaymentMethodId,
    pub status: PlanStatus,
    pub currency: Currency,
    pub total_amount: MinorUnits,
    pub installment_amount: Option<MinorUnits>,
    pub installment_count: Option<i64>,
    pub frequency: Frequency,
    pub start_date: NaiveDate,
    pub down_payment: Option<MinorUnits>,
    pub missed: i64,
    pub sub_account_ids: Vec<SubAccountId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallmentRecord {
    pub id: InstallmentId,
    pub plan_id: PaymentPlanId,
    pub seq: i64,
    /// `down_payment` or `installment`.
    pub kind: String,
    pub due_date: NaiveDate,
    pub due_at: DateTime<Utc>,
    pub amount: MinorUnits,
    pub status: InstallmentStatus,
    pub attempts: i64,
    pub payment_id: Option<PaymentId>,
    pub updated_at: DateTime<Utc>,
}

const PLAN_COLUMNS: &str = "id, organization_id, account_id, payment_method_id, status, currency, total_amount, \
    installment_amount, installment_count, frequency, start_date, down_payment, missed, created_at, updated_at";

fn decode_plan(r: &Row) -> Result<PlanRecord, StoreError> {
    Ok(PlanRecord {
        id: parsed(r, 0, PaymentPlanId::parse, "plan id")?,
        organization_id: parsed(r, 1, OrganizationId::parse, "organization id")?,
        account_id: parsed(r, 2, AccountId::parse, "account id")?,
        payment_method_id: parsed(r, 3, PaymentMethodId::parse, "payment method id")?,
        status: decode_enum(r, 4, PlanStatus::parse)?,
        currency: currency(r, 5)?,
        total_amount: MinorUnits::new(r.i64(6)?),
        installment_amount: r.opt_i64(7)?.map(MinorUnits::new),
        installment_count: r.opt_i64(8)?,
        frequency: decode_enum(r, 9, Frequency::parse)?,
        start_date: opt_date(r, 10)?
            .ok_or_else(|| StoreError::Decode("plan without a start date".into()))?,
        down_payment: r.opt_i64(11)?.map(MinorUnits::new),
        missed: r.i64(12)?,
        sub_account_ids: Vec::new(),
        created_at: instant(r, 13)?,
        updated_at: instant(r, 14)?,
    })
}

const INSTALLMENT_COLUMNS: &str =
    "id, plan_id, seq, kind, due_date, due_at, amount, status, attempts, payment_id, updated_at";

fn decode_installment(r: &Row) -> Result<InstallmentRecord, StoreError> {
    Ok(InstallmentRecord {
        id: parsed(r, 0, InstallmentId::parse, "installment id")?,
        plan_id: parsed(r, 1, PaymentPlanId::parse, "plan id")?,
        seq: r.i64(2)?,
        kind: r.string(3)?,
        due_date: opt_date(r, 4)?
            .ok_or_else(|| StoreError::Decode("installment without a due date".into()))?,
        due_at: instant(r, 5)?,
        amount: MinorUnits::new(r.i64(6)?),
        status: decode_enum(r, 7, InstallmentStatus::parse)?,
        attempts: r.i64(8)?,
        payment_id: opt_parsed(r, 9, PaymentId::parse)?,
        updated_at: instant(r, 10)?,
    })
}

fn date_param(d: NaiveDate) -> Param {
    Param::from(d.format("%Y-%m-%d").to_string())
}

/// Writes a new plan with its covered sub-accounts and its installments.
pub async fn insert_plan(
    tx: &mut dyn Tx,
    p: &PlanRecord,
    installments: &[InstallmentRecord],
) -> Result<(), StoreError> {
    tx.execute(
        &format!(
            "INSERT INTO payment_plans ({PLAN_COLUMNS}) VALUES
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
        ),
        &[
            Param::from(p.id.as_str()),
            p.organization_id.as_str().into(),
            p.account_id.as_str().into(),
            p.payment_method_id.as_str().into(),
            p.status.as_str().into(),
            p.currency.code().into(),
            p.total_amount.get().into(),
            p.installment_amount.map(MinorUnits::get).into(),
            p.installment_count.into(),
            p.frequency.as_str().into(),
            date_param(p.start_date),
            p.down_payment.map(MinorUnits::get).into(),
            p.missed.into(),
            micros(p.created_at).into(),
            micros(p.updated_at).into(),
        ],
    )
    .await?;
    for (position, sub) in p.sub_account_ids.iter().enumerate() {
        tx.execute(
            "INSERT INTO payment_plan_sub_accounts (plan_id, position, sub_account_id) VALUES ($1, $2, $3)",
            &params![p.id.as_str(), position as i64, sub.as_str()],
        )
        .await?;
    }
    insert_installments(tx, &p.organization_id, installments).await
}

async fn insert_installments(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    installments: &[InstallmentRecord],
) -> Result<(), StoreError> {
    for i in installments {
        tx.execute(
            &format!(
                "INSERT INTO installments ({INSTALLMENT_COLUMNS}, organization_id) VALUES
                 ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
            ),
            &[
                Param::from(i.id.as_str()),
                i.plan_id.as_str().into(),
                i.seq.into(),
                i.kind.as_str().into(),
                date_param(i.due_date),
                micros(i.due_at).into(),
                i.amount.get().into(),
                i.status.as_str().into(),
                i.attempts.into(),
                i.payment_id.as_ref().map(PaymentId::as_str).into(),
                micros(i.updated_at).into(),
                org.as_str().into(),
            ],
        )
        .await?;
    }
    Ok(())
}

pub async fn get_plan(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    id: &PaymentPlanId,
) -> Result<PlanRecord, StoreError> {
    let r = tx
        .query_one(
            &format!(
                "SELECT {PLAN_COLUMNS} FROM payment_plans WHERE organization_id = $1 AND id = $2"
            ),
            &params![org.as_str(), id.as_str()],
        )
        .await?;
    with_subs(tx, decode_plan(&r)?).await
}

async fn with_subs(tx: &mut dyn Tx, mut p: PlanRecord) -> Result<PlanRecord, StoreError> {
    let rows = tx
        .query(
            "SELECT sub_account_id FROM payment_plan_sub_accounts WHERE plan_id = $1 ORDER BY position",
            &params![p.id.as_str()],
        )
        .await?;
    p.sub_account_ids = rows
        .iter()
        .map(|r| parsed(r, 0, SubAccountId::parse, "sub-account id"))
        .collect::<Result<_, _>>()?;
    Ok(p)
}

/// Locks the plan's row for the rest of the transaction and reads it.
pub async fn lock_plan(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    id: &PaymentPlanId,
) -> Result<PlanRecord, StoreError> {
    let touched = tx
        .execute(
            "UPDATE payment_plans SET updated_at = updated_at WHERE organization_id = $1 AND id = $2",
            &params![org.as_str(), id.as_str()],
        )
        .await?;
    if touched == 0 {
        return Err(StoreError::NotFound);
    }
    get_plan(tx, org, id).await
}

#[derive(Debug, Clone, Default)]
pub struct PlanFilter {
    pub account_id: Option<AccountId>,
    pub status: Option<PlanStatus>,
}

pub async fn list_plans(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    filter: &PlanFilter,
    page: PageRequest,
) -> Result<Paged<PlanRecord>, StoreError> {
    let mut c = super::Conditions::new("organization_id = ?", org.as_str().into());
    if let Some(a) = &filter.account_id {
        c.and("account_id = ?", a.as_str().into());
    }
    if let Some(s) = filter.status {
        c.and("status = ?", s.as_str().into());
    }
    let total = tx
        .query_one(
            &format!("SELECT COUNT(*) FROM payment_plans WHERE {}", c.sql()),
            &c.args,
        )
        .await?
        .i64(0)?;
    let limit = c.bind(Param::from(page.per_page));
    let offset = c.bind(Param::from(page.offset()));
    let rows = tx
        .query(
            &format!(
                "SELECT {PLAN_COLUMNS} FROM payment_plans WHERE {} ORDER BY id LIMIT {limit} OFFSET {offset}",
                c.sql()
            ),
            &c.args,
        )
        .await?;
    let mut items = Vec::with_capacity(rows.len());
    for r in &rows {
        items.push(with_subs(tx, decode_plan(r)?).await?);
    }
    Ok(Paged { items, total })
}

pub async fn list_installments(
    tx: &mut dyn Tx,
    plan: &PaymentPlanId,
) -> Result<Vec<InstallmentRecord>, StoreError> {
    let rows = tx
        .query(
            &format!(
                "SELECT {INSTALLMENT_COLUMNS} FROM installments WHERE plan_id = $1 ORDER BY seq"
            ),
            &params![plan.as_str()],
        )
        .await?;
    rows.iter().map(decode_installment).collect()
}

pub async fn get_installment(
    tx: &mut dyn Tx,
    id: &InstallmentId,
) -> Result<InstallmentRecord, StoreError> {
    let r = tx
        .query_one(
            &format!("SELECT {INSTALLMENT_COLUMNS} FROM installments WHERE id = $1"),
            &params![id.as_str()],
        )
        .await?;
    decode_installment(&r)
}

/// Writes the plan's changeable fields and status.
pub async fn update_plan(tx: &mut dyn Tx, p: &PlanRecord) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE payment_plans SET payment_method_id = $2, status = $3, installment_amount = $4,
             installment_count = $5, frequency = $6, start_date = $7, missed = $8, updated_at = $9
         WHERE id = $1",
        &[
            Param::from(p.id.as_str()),
            p.payment_method_id.as_str().into(),
            p.status.as_str().into(),
            p.installment_amount.map(MinorUnits::get).into(),
            p.installment_count.into(),
            p.frequency.as_str().into(),
            date_param(p.start_date),
            p.missed.into(),
            micros(p.updated_at).into(),
        ],
    )
    .await
    .map(drop)
}

/// Marks the plan's covered sub-accounts as in this active plan; a sub-account already in
/// another active plan is a `Conflict`.
pub async fn hold_sub_accounts(tx: &mut dyn Tx, p: &PlanRecord) -> Result<(), StoreError> {
    for sub in &p.sub_account_ids {
        let taken = tx
            .execute(
                "INSERT INTO active_plan_sub_accounts (sub_account_id, plan_id) VALUES ($1, $2)
                 ON CONFLICT (sub_account_id) DO NOTHING",
                &params![sub.as_str(), p.id.as_str()],
            )
            .await?;
        if taken == 0 {
            return Err(StoreError::Conflict(format!(
                "sub-account {sub} is already in an active payment plan"
            )));
        }
    }
    Ok(())
}

/// Frees the covered sub-accounts when the plan ends.
pub async fn release_sub_accounts(tx: &mut dyn Tx, plan: &PaymentPlanId) -> Result<(), StoreError> {
    tx.execute(
        "DELETE FROM active_plan_sub_accounts WHERE plan_id = $1",
        &params![plan.as_str()],
    )
    .await
    .map(drop)
}

/// Deletes the regular installments still waiting (scheduled or retry-scheduled, and not
/// being charged right now) and writes `replacements` in their place: a change never
/// touches what was paid or is being charged, nor the down payment.
pub async fn replace_waiting_installments(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    plan: &PaymentPlanId,
    replacements: &[InstallmentRecord],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    tx.execute(
        "DELETE FROM installments
         WHERE plan_id = $1 AND kind = 'installment' AND status || '' IN ('scheduled', 'retry_scheduled')
           AND (lease_until IS NULL OR lease_until < $2)",
        &params![plan.as_str(), micros(now)],
    )
    .await?;
    insert_installments(tx, org, replacements).await
}

/// Cancels every installment still waiting (the plan ended). One a scheduler is charging
/// right now is left to it: its outcome is recorded when the charge returns.
pub async fn cancel_waiting_installments(
    tx: &mut dyn Tx,
    plan: &PaymentPlanId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE installments SET status = 'canceled', lease_until = NULL, updated_at = $2
         WHERE plan_id = $1 AND status || '' IN ('scheduled', 'retry_scheduled')
           AND (lease_until IS NULL OR lease_until < $2)",
        &params![plan.as_str(), micros(now)],
    )
    .await
    .map(drop)
}

/// Writes an installment's new state and frees its lease.
pub async fn update_installment(tx: &mut dyn Tx, i: &InstallmentRecord) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE installments SET due_date = $2, due_at = $3, amount = $4, status = $5, attempts = $6,
             payment_id = $7, lease_until = NULL, updated_at = $8
         WHERE id = $1",
        &[
            Param::from(i.id.as_str()),
            date_param(i.due_date),
            micros(i.due_at).into(),
            i.amount.get().into(),
            i.status.as_str().into(),
            i.attempts.into(),
            i.payment_id.as_ref().map(PaymentId::as_str).into(),
            micros(i.updated_at).into(),
        ],
    )
    .await
    .map(drop)
}

/// Appends an entry to the plan's history.
pub async fn record_change(
    tx: &mut dyn Tx,
    plan: &PaymentPlanId,
    change: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO payment_plan_changes (plan_id, seq, changed_at, change)
         VALUES ($1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM payment_plan_changes WHERE plan_id = $1), $2, $3)",
        &params![plan.as_str(), micros(now), change],
    )
    .await
    .map(drop)
}

/// The plan's history, oldest first: `(when, the change as JSON text)`.
pub async fn list_changes(
    tx: &mut dyn Tx,
    plan: &PaymentPlanId,
) -> Result<Vec<(DateTime<Utc>, String)>, StoreError> {
    let rows = tx
        .query(
            "SELECT changed_at, change FROM payment_plan_changes WHERE plan_id = $1 ORDER BY seq",
            &params![plan.as_str()],
        )
        .await?;
    rows.iter()
        .map(|r| Ok((instant(r, 0)?, r.string(1)?)))
        .collect()
}

/// An installment a scheduler now holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    pub organization_id: OrganizationId,
    pub installment: InstallmentRecord,
}

/// Claims the due installments of up to `limit` plans, until `lease_until`: installments due
/// by their organization's time (`now` plus its test clock). A plan's due installments are
/// claimed together, and only when no other scheduler holds one of them, so one plan's
/// installments are always charged in turn. With `org`, only that organization's.
pub async fn claim_due(
    tx: &mut dyn Tx,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    org: Option<&OrganizationId>,
    limit: i64,
) -> Result<Vec<Claimed>, StoreError> {
    let latest = tx
        .query_one(
            "SELECT COALESCE(MAX(test_clock_offset), 0) FROM organizations",
            &[],
        )
        .await?
        .i64(0)?;
    let plans = tx
        .query(
            "SELECT DISTINCT i.plan_id, i.organization_id, o.test_clock_offset FROM installments i
             JOIN organizations o ON o.id = i.organization_id
             JOIN payment_plans pp ON pp.id = i.plan_id AND pp.status = 'active'
             WHERE i.status IN ('scheduled', 'retry_scheduled') AND i.due_at <= $1
               AND i.due_at <= $2 + o.test_clock_offset
               AND (i.lease_until IS NULL OR i.lease_until < $2)
               AND ($3 = '' OR i.organization_id = $3)
             LIMIT $4",
            &params![
                micros(now) + latest,
                micros(now),
                org.map_or("", OrganizationId::as_str),
                limit
            ],
        )
        .await?;
    let mut claimed = Vec::new();
    for r in &plans {
        let plan = parsed(r, 0, PaymentPlanId::parse, "plan id")?;
        let organization_id = parsed(r, 1, OrganizationId::parse, "organization id")?;
        let org_now = micros(now) + r.i64(2)?;
        // All of the plan's due installments at once, and none while another scheduler
        // holds one of them. Two schedulers racing here both aim at the same rows; the
        // second finds them leased when it gets their locks, and takes none.
        let rows = tx
            .query(
                &format!(
                    "UPDATE installments SET lease_until = $2
                     WHERE plan_id = $1 AND status || '' IN ('scheduled', 'retry_scheduled') AND due_at + 0 <= $3
                       AND (lease_until IS NULL OR lease_until < $4)
                       AND NOT EXISTS (SELECT 1 FROM installments j WHERE j.plan_id = $1 AND j.lease_until >= $4)
                     RETURNING {INSTALLMENT_COLUMNS}"
                ),
                &params![plan.as_str(), micros(lease_until), org_now, micros(now)],
            )
            .await?;
        let mut rows: Vec<InstallmentRecord> = rows
            .iter()
            .map(decode_installment)
            .collect::<Result<_, _>>()?;
        rows.sort_by_key(|i| i.seq);
        claimed.extend(rows.into_iter().map(|installment| Claimed {
            organization_id: organization_id.clone(),
            installment,
        }));
    }
    Ok(claimed)
}

/// Whether a scheduler is charging one of the plan's installments right now.
pub async fn being_charged(
    tx: &mut dyn Tx,
    plan: &PaymentPlanId,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    Ok(tx
        .query_one(
            "SELECT COUNT(*) FROM installments WHERE plan_id = $1 AND lease_until >= $2",
            &params![plan.as_str(), micros(now)],
        )
        .await?
        .i64(0)?
        > 0)
}

/// Whether a scheduler holds this installment right now.
pub async fn is_leased(
    tx: &mut dyn Tx,
    id: &InstallmentId,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    Ok(tx
        .query_opt(
            "SELECT 1 FROM installments WHERE id = $1 AND lease_until >= $2",
            &params![id.as_str(), micros(now)],
        )
        .await?
        .is_some())
}

/// Bumps the plan's `updated_at`: an installment's outcome changed it.
pub async fn touch_plan(
    tx: &mut dyn Tx,
    plan: &PaymentPlanId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE payment_plans SET updated_at = $2 WHERE id = $1",
        &params![plan.as_str(), micros(now)],
    )
    .await
    .map(drop)
}

/// Installments charged with an unknown outcome whose payment has since been resolved.
pub async fn processing_resolved(
    tx: &mut dyn Tx,
    limit: i64,
) -> Result<Vec<(OrganizationId, InstallmentId)>, StoreError> {
    let rows = tx
        .query(
            "SELECT i.organization_id, i.id FROM installments i JOIN payments p ON p.id = i.payment_id
             WHERE i.status = 'processing' AND p.status NOT IN ('pending', 'unknown') LIMIT $1",
            &params![limit],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok((
                parsed(r, 0, OrganizationId::parse, "organization id")?,
                parsed(r, 1, InstallmentId::parse, "installment id")?,
            ))
        })
        .collect()
}

/// Active plans whose covered sub-accounts owe nothing any more, whatever paid them.
pub async fn paid_off_plans(
    tx: &mut dyn Tx,
    limit: i64,
) -> Result<Vec<(OrganizationId, PaymentPlanId)>, StoreError> {
    let rows = tx
        .query(
            "SELECT p.organization_id, p.id FROM payment_plans p
             WHERE p.status = 'active' AND NOT EXISTS (
                 SELECT 1 FROM payment_plan_sub_accounts ps JOIN sub_accounts s ON s.id = ps.sub_account_id
                 WHERE ps.plan_id = p.id AND s.balance > 0)
             LIMIT $1",
            &params![limit],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok((
                parsed(r, 0, OrganizationId::parse, "organization id")?,
                parsed(r, 1, PaymentPlanId::parse, "plan id")?,
            ))
        })
        .collect()
}

/// One covered sub-account: what it owes, and what open payments hold of that.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Covered {
    pub sub_account_id: SubAccountId,
    pub balance: MinorUnits,
    pub held: MinorUnits,
}

/// The plan's covered sub-accounts, oldest first.
pub async fn covered(tx: &mut dyn Tx, plan: &PaymentPlanId) -> Result<Vec<Covered>, StoreError> {
    let rows = tx
        .query(
            "SELECT s.id, s.balance, s.held FROM payment_plan_sub_accounts ps
             JOIN sub_accounts s ON s.id = ps.sub_account_id
             WHERE ps.plan_id = $1 ORDER BY s.created_at, s.id",
            &params![plan.as_str()],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Covered {
                sub_account_id: parsed(r, 0, SubAccountId::parse, "sub-account id")?,
                balance: MinorUnits::new(r.i64(1)?),
                held: MinorUnits::new(r.i64(2)?),
            })
        })
        .collect()
}
