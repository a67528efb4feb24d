//! How a background worker learns it should stop: [`crate::workers::Workers`] asks once, and
//! each worker looks between its rounds.

use tokio::sync::watch;

/// A worker's side of the stop: asked between rounds whether to go on.
#[derive(Clone)]
pub struct Stop(watch::Receiver<bool>);

impl Stop {
    pub fn new(asked: watch::Receiver<bool>) -> Stop {
        Stop(asked)
    }

    /// A stop that never comes, for a worker that runs as long as its task does.
    pub fn never() -> Stop {
        Stop(watch::channel(false).1)
    }

    pub fn is_requested(&self) -> bool {
        *self.0.borrow()
    }

    /// Completes once a stop is asked for.
    pub async fn requested(&mut self) {
        if self.0.wait_for(|stop| *stop).await.is_err() {
            // Nobody can ask any more.
            std::future::pending::<()>().await;
        }
    }
}
