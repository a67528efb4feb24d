//! What every handler can reach: the database, the configuration, the clock, the secret
//! hasher and the metrics. It travels in axum's state, never in a global.

use crate::auth::{FailuresByAddress, SecretHasher};
use crate::config::Config;
use crate::telemetry::Metrics;
use quittance_domain::Clock;
use quittance_store::Db;
use std::ops::Deref;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub db: Db,
    pub config: Config,
    pub clock: Arc<dyn Clock>,
    pub hasher: SecretHasher,
    pub metrics: Metrics,
    pub token_failures: FailuresByAddress,
}

impl AppState {
    pub fn new(db: Db, config: Config, clock: Arc<dyn Clock>, hasher: SecretHasher) -> Self {
        AppState(Arc::new(Inner {
            db,
            config,
            clock,
            hasher,
            metrics: Metrics::default(),
            token_failures: FailuresByAddress::default(),
        }))
    }
}

impl Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}
