//! The background workers of a process (`serve`'s, or `quittance worker`'s) and how they stop.
//! A stop is asked for once; each worker finishes the round it is in (so what it claimed is
//! written back and no lease is left held) and returns. One still busy when the grace period
//! ends is aborted, which is as safe as a crash: its leases run out and another takes the work
//! up.

use crate::App;
use crate::stop::Stop;
use std::future::Future;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Which workers a process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// `serve`: housekeeping always, the others as the configuration says.
    Configured,
    /// `quittance worker`: all of them, whatever the configuration says.
    All,
}

/// The running workers of this process.
pub struct Workers {
    stop: watch::Sender<bool>,
    tasks: Vec<(&'static str, JoinHandle<()>)>,
}

impl Workers {
    pub fn start(app: &App, which: Which) -> Workers {
        let (stop, asked) = watch::channel(false);
        let wanted = |on: bool| which == Which::All || on;
        let stop_of = || Stop::new(asked.clone());
        let mut tasks = vec![(
            "housekeeping",
            tokio::spawn(crate::housekeeping::run_until(app.clone(), stop_of())),
        )];
        if wanted(app.config.scheduler) {
            let task = tokio::spawn(crate::scheduler::run_until(app.clone(), stop_of()));
            tasks.push(("scheduler", task));
        }
        if wanted(app.config.webhooks) {
            let task = tokio::spawn(crate::webhooks::delivery::run_until(
                app.clone(),
                String::new(),
                stop_of(),
                |_| {},
            ));
            tasks.push(("webhook delivery", task));
        }
        if wanted(app.config.statements) {
            let task = tokio::spawn(crate::statements::run_until(app.clone(), stop_of()));
            tasks.push(("statement analysis", task));
        }
        Workers { stop, tasks }
    }

    /// Asks every worker to stop after its round and waits for them, up to `grace`; aborts
    /// those still running then. Returns the names of the ones aborted.
    pub async fn stop(self, grace: Duration) -> Vec<&'static str> {
        self.stop.send_replace(true);
        let deadline = tokio::time::Instant::now() + grace;
        let mut aborted = Vec::new();
        for (name, mut task) in self.tasks {
            if tokio::time::timeout_at(deadline, &mut task).await.is_err() {
                task.abort();
                aborted.push(name);
            }
        }
        if !aborted.is_empty() {
            tracing::warn!(
                ?aborted,
                grace_seconds = grace.as_secs(),
                "workers still busy when the shutdown grace ended were stopped; what they held is taken up again when its lease runs out"
            );
        }
        aborted
    }
}

/// `quittance worker`: the plan scheduler, webhook delivery, statement analysis, the reconciler
/// and the rest of housekeeping, without the HTTP server, until `shutdown` completes; then
/// they stop as [`Workers::stop`] says.
pub async fn work(app: App, shutdown: impl Future<Output = ()>) {
    let grace = Duration::from_secs(app.config.shutdown_grace_seconds);
    let workers = Workers::start(&app, Which::All);
    shutdown.await;
    workers.stop(grace).await;
}
