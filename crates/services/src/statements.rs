//! The statement-analysis worker: claims started analyses under a lease, reads each file's
//! text (`quittance-statement-pdf`, on its own thread with size, page and time limits) and its
//! statement (`quittance_pricing::statements`), and writes one result: a proposal priced with
//! the organization's default program, the analysis `completed` and
//! `statement_analysis.completed`, all in one transaction; or the analysis `rejected` with its
//! reason and `statement_analysis.rejected`.
//!
//! No transaction is open while files are read. A worker that stops mid-analysis leaves its
//! lease to lapse and another worker starts the analysis over; the result is written only by
//! the claim that still holds it, so there is never a second proposal. An analysis whose
//! claims keep ending without a result (a file that brings its worker down) is rejected after
//! [`MAX_ATTEMPTS`] claims.

use crate::App;
use crate::error::{ServiceError, ServiceResult};
use crate::pricing::documents::{Kind, Stored, find_in, insert_in, new_id};
use crate::pricing::merchant_types::StoredMerchantType;
use crate::pricing::programs::StoredProgram;
use crate::pricing::proposals::{StoredProposal, priced_proposal};
use crate::pricing::settings::{cost_model, schedule_a_in};
use chrono::Duration as Span;
use quittance_domain::events::EventType;
use quittance_domain::ids::OrganizationId;
use quittance_pricing::statements::{Statement, StatementSummary, read_statement};
use quittance_pricing::{Activity, fee_text, plain_text};
use quittance_statement_pdf::{Limits, readers_alive, text_lines};
use quittance_store::StoreError;
use quittance_store::repo::statements::{self as store, Claimed, Outcome};
use serde::Serialize;
use serde_json::value::to_raw_value;
use std::time::Duration;

/// Claims that may end without a result before the analysis is rejected.
pub const MAX_ATTEMPTS: i64 = 3;
/// Files one analysis may have.
pub const MAX_FILES: i64 = 10;
/// Analyses claimed at once by one worker (read one after another).
const BATCH: i64 = 4;
/// Reader threads (abandoned ones included) past which a worker claims nothing more.
const MAX_READERS: usize = 4;
/// How often a worker looks for analyses started in other processes.
const POLL: Duration = Duration::from_secs(1);

/// What the analysis shows once its statements are read.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AnalysisResult {
    pub statements: Vec<Statement>,
    pub summary: Summary,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Gross card sales over all files.
    pub sales_volume: String,
    pub sales_count: u64,
    /// What the merchant paid in fees over all files.
    pub current_fees: String,
    /// Current fees ÷ sales volume, to 5 decimals.
    pub effective_rate: Option<String>,
    /// Per activity type, as the proposal was priced on.
    pub merchant_activity: Vec<ActivityLine>,
}

#[derive(Debug, Serialize)]
pub struct ActivityLine {
    #[serde(rename = "type")]
    pub activity_type: &'static str,
    pub volume: String,
    pub transactions: u64,
}

impl Summary {
    fn of(summary: &StatementSummary) -> Summary {
        Summary {
            sales_volume: fee_text(summary.sales_volume),
            sales_count: summary.activity_lines.iter().map(|l| l.2).sum(),
            current_fees: fee_text(summary.current_fees),
            effective_rate: summary.effective_rate.map(plain_text),
            merchant_activity: summary
                .activity_lines
                .iter()
                .map(|(ty, volume, count)| ActivityLine {
                    activity_type: ty.as_str(),
                    volume: fee_text(*volume),
                    transactions: *count,
                })
                .collect(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Completed<'a> {
    statement_analysis_id: &'a str,
    proposal_id: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rejected<'a> {
    statement_analysis_id: &'a str,
    reason: &'a str,
}

/// Runs until a stop is asked for: analyses started in this process begin at once, others
/// within a second.
pub async fn run_until(state: App, mut stop: crate::stop::Stop) {
    let owner = format!("statements-{}", new_id());
    loop {
        if stop.is_requested() {
            return;
        }
        match analyze_due(&state, &owner).await {
            Ok(0) => {}
            Ok(_) => continue,
            Err(e) => tracing::warn!(error = %e.message(), "statement analysis failed"),
        }
        tokio::select! {
            () = state.statements_queued.notified() => {}
            () = tokio::time::sleep(POLL) => {}
            () = stop.requested() => return,
        }
    }
}

/// One round: claims what is due and analyzes it; returns how many analyses it claimed.
/// Claims nothing while [`MAX_READERS`] reader threads are alive in this process (reads that
/// outlived their time limit run on until the PDF library returns).
pub async fn analyze_due(state: &App, owner: &str) -> ServiceResult<usize> {
    if readers_alive() >= MAX_READERS {
        tracing::warn!(
            readers = readers_alive(),
            "statement analysis waits: reads past their time limit are still running"
        );
        return Ok(0);
    }
    let now = state.clock.now();
    let lease = lease_for(state);
    let (holder, until) = (owner.to_owned(), now + lease);
    let claimed = state
        .db
        .write(move |tx| {
            Box::pin(async move { store::claim_due(tx, now, until, &holder, BATCH).await })
        })
        .await?;
    for claim in &claimed {
        analyze(state, owner, claim).await?;
    }
    Ok(claimed.len())
}

/// Long enough to read the most files an analysis may hold, each to its time limit.
fn lease_for(state: &App) -> Span {
    let seconds = state
        .config
        .statement_read_seconds
        .saturating_mul(MAX_FILES.unsigned_abs())
        .saturating_add(60);
    Span::seconds(i64::try_from(seconds).unwrap_or(i64::MAX / 1_000_000))
}

async fn analyze(state: &App, owner: &str, claim: &Claimed) -> ServiceResult<()> {
    let outcome = if claim.attempts > MAX_ATTEMPTS {
        Err(format!(
            "reading the statements stopped before finishing {MAX_ATTEMPTS} times; they cannot be analyzed"
        ))
    } else {
        read_and_price(state, claim).await?
    };
    let id = claim.id.as_str();
    let proposal_id = new_id();
    let (done, proposal, event_type, data) = match outcome {
        Ok((result, proposal)) => (
            Outcome::Completed {
                result,
                proposal_id: proposal_id.clone(),
            },
            Some(proposal),
            EventType::StatementAnalysisCompleted,
            to_raw_value(&Completed {
                statement_analysis_id: id,
                proposal_id: &proposal_id,
            }),
        ),
        Err(reason) => (
            Outcome::Rejected {
                result: None,
                reason: reason.clone(),
            },
            None,
            EventType::StatementAnalysisRejected,
            to_raw_value(&Rejected {
                statement_analysis_id: id,
                reason: &reason,
            }),
        ),
    };
    let data = data.map_err(|e| ServiceError::internal(format!("cannot encode an event: {e}")))?;
    let (org, claim, owner, now) = (
        claim.organization_id.clone(),
        claim.clone(),
        owner.to_owned(),
        state.clock.now(),
    );
    let finished = state
        .db
        .write(move |tx| {
            Box::pin(async move {
                if let Some(proposal) = &proposal {
                    insert_in(tx, &org, &proposal_id, proposal, now).await?;
                }
                if !store::finish(tx, &org, &claim, &owner, &done, now).await? {
                    // Another claim holds it now: leave everything to that one.
                    return Err(StoreError::Conflict("the lease was lost".to_owned()));
                }
                crate::events::record(tx, &org, event_type, &data, now).await?;
                Ok(())
            })
        })
        .await;
    match finished {
        Ok(()) | Err(StoreError::Conflict(_)) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// The result and its proposal, or why there is none. `Err` only for what may pass (the
/// database); a statement that cannot be read is an `Ok(Err(reason))`.
async fn read_and_price(
    state: &App,
    claim: &Claimed,
) -> ServiceResult<Result<(String, StoredProposal), String>> {
    let (org, id) = (claim.organization_id.clone(), claim.id.clone());
    let files = state
        .db
        .read(move |tx| Box::pin(async move { store::contents(tx, &org, &id).await }))
        .await?;
    let limits = Limits {
        max_bytes: usize::try_from(state.config.max_statement_bytes).unwrap_or(usize::MAX),
        max_pages: state.config.max_statement_pages,
        time: Duration::from_secs(state.config.statement_read_seconds),
    };
    let mut statements = Vec::with_capacity(files.len());
    for (filename, content) in files {
        let read = tokio::task::spawn_blocking(move || {
            text_lines(&content, &limits)
                .map_err(|e| e.to_string())
                .and_then(|lines| read_statement(&lines).map_err(|e| e.to_string()))
        })
        .await
        .map_err(|e| ServiceError::internal(format!("the statement reader stopped: {e}")))?;
        match read {
            Ok(statement) => statements.push(statement),
            Err(reason) => return Ok(Err(format!("{filename}: {reason}"))),
        }
    }
    let summary = StatementSummary::of(&statements);
    let (merchant_type, program, schedule_a) = defaults(state, &claim.organization_id).await?;
    let activity = match Activity::from_lines(&summary.activity_lines, &merchant_type.mix()?) {
        Ok(activity) => activity,
        Err(e) => {
            return Ok(Err(format!(
                "the statements' activity cannot be priced: {e}"
            )));
        }
    };
    let costs = cost_model(schedule_a)?;
    let proposal = match priced_proposal(
        &program,
        &activity,
        &costs,
        Some(fee_text(summary.current_fees)),
    ) {
        Ok(p) => StoredProposal {
            statement_analysis_id: Some(claim.id.clone()),
            ..p
        },
        Err(e) => {
            return Ok(Err(format!(
                "the proposal cannot be priced: {}",
                e.message()
            )));
        }
    };
    let result = AnalysisResult {
        summary: Summary::of(&summary),
        statements,
    };
    let text = serde_json::to_string(&result)
        .map_err(|e| ServiceError::internal(format!("cannot encode the analysis result: {e}")))?;
    Ok(Ok((text, proposal)))
}

/// The organization's default merchant type (to split brand-only activity), default program
/// and Schedule A.
async fn defaults(
    state: &App,
    org: &OrganizationId,
) -> ServiceResult<(
    StoredMerchantType,
    Stored<StoredProgram>,
    quittance_pricing::ScheduleA,
)> {
    let org = org.clone();
    let (merchant_type, program, schedule_a) = state
        .db
        .read(move |tx| {
            Box::pin(async move {
                let merchant_type = find_in::<StoredMerchantType>(tx, &org, |t| t.default).await?;
                let program = find_in::<StoredProgram>(tx, &org, |p| p.default).await?;
                let schedule_a = schedule_a_in(tx, &org).await?;
                Ok::<_, StoreError>((merchant_type, program, schedule_a))
            })
        })
        .await?;
    match (merchant_type, program) {
        (Some(t), Some(p)) => Ok((t.body, p, schedule_a)),
        _ => Err(ServiceError::internal(format!(
            "the organization has no default {} or {}",
            StoredMerchantType::NAME,
            StoredProgram::NAME
        ))),
    }
}
