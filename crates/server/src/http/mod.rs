//! The HTTP plumbing below the faces: authentication, body and query extractors, the JSON
//! error shape, idempotency keys, request telemetry and the state handlers reach.

pub mod auth;
pub mod error;
pub mod extract;
pub mod idempotency;
pub mod listener;
pub mod metrics;
pub mod request_id;
pub mod state;
pub mod telemetry;
