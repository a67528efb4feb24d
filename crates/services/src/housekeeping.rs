//! Housekeeping: what expires, what stalled, and what the processor has not answered yet.

use crate::App;
use crate::error::ServiceError;
use crate::stop::Stop;
use std::time::Duration;

/// An import not updated for this long belongs to a process that stopped.
const STALLED_IMPORT: chrono::Duration = chrono::Duration::minutes(5);

/// A round of housekeeping a minute until a stop is asked for.
pub async fn run_until(state: App, mut stop: Stop) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = stop.requested() => return,
        }
        match housekeeping_once(&state).await {
            Ok(done) if done != Housekeeping::default() => {
                tracing::info!(?done, "housekeeping")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e.message(), "housekeeping failed"),
        }
    }
}

/// What one round of housekeeping did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Housekeeping {
    pub expired_tokens: u64,
    pub stalled_imports: u64,
    pub expired_idempotency_keys: u64,
    pub expired_listeners: u64,
    /// IngoPay: signatures past the skew window, idempotency keys past two hours, used URLs.
    pub ingo_pruned: u64,
    pub reconciled: crate::payments::Reconciled,
    /// IngoPay funding: disbursements resolved, and return windows closed.
    pub disbursements: crate::ingo::funding::Reconciled,
    pub settlement_batches: usize,
}

/// One round of housekeeping: deletes expired tokens, idempotency keys and abandoned
/// `webhooks listen` endpoints; marks failed the
/// imports no process has advanced for five minutes, removing their uploads kept here; runs
/// the payment and disbursement reconcilers; and, when enabled, the daily settlement close.
pub async fn housekeeping_once(state: &App) -> Result<Housekeeping, ServiceError> {
    let now = state.clock.now();
    let (tokens, stalled, keys, listeners, ingo_pruned) = state
        .db
        .write(move |tx| {
            Box::pin(async move {
                let tokens = quittance_store::repo::access::purge_expired_tokens(tx, now).await?;
                let stalled = quittance_store::repo::imports::fail_interrupted_imports(
                    tx,
                    now - STALLED_IMPORT,
                    now,
                )
                .await?;
                let keys = quittance_store::repo::idempotency::purge_expired(tx, now).await?;
                let listeners = quittance_store::repo::webhooks::expired_listeners(tx, now).await?;
                for (org, webhook) in &listeners {
                    quittance_store::repo::webhooks::delete_webhook(tx, org, webhook).await?;
                }
                let listeners = u64::try_from(listeners.len()).unwrap_or(u64::MAX);
                let seen_before = now - crate::ingo::signing::MAX_SKEW * 2;
                let ingo_pruned = quittance_store::repo::ingo::prune(tx, seen_before, now).await?;
                Ok::<_, quittance_store::StoreError>((
                    tokens,
                    stalled,
                    keys,
                    listeners,
                    ingo_pruned,
                ))
            })
        })
        .await?;
    for (id, format) in &stalled {
        // Another server's job has its upload on that server; here there is nothing to remove.
        let _ = std::fs::remove_file(crate::bulk_import::spool_path(
            &state.config.data_dir,
            id,
            *format,
        ));
    }
    let reconciled = crate::payments::reconcile_once(state).await?;
    let disbursements = crate::ingo::funding::reconcile_once(state).await?;
    let settlement_batches = if state.config.daily_settlement {
        crate::payments::settle_daily(state).await?
    } else {
        0
    };
    Ok(Housekeeping {
        expired_tokens: tokens,
        stalled_imports: u64::try_from(stalled.len()).unwrap_or(u64::MAX),
        expired_idempotency_keys: keys,
        expired_listeners: listeners,
        ingo_pruned,
        reconciled,
        disbursements,
        settlement_batches,
    })
}
