//! What every handler can reach: the services ([`App`]) and this server's request metrics.
//! It travels in axum's state, never in a global.

use crate::http::metrics::Metrics;
use quittance_services::App;
use std::ops::Deref;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub app: App,
    pub metrics: Arc<Metrics>,
}

impl From<App> for AppState {
    fn from(app: App) -> Self {
        AppState {
            app,
            metrics: Arc::default(),
        }
    }
}

impl Deref for AppState {
    type Target = App;

    fn deref(&self) -> &App {
        &self.app
    }
}
