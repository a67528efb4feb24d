//! Quittance's services: what the faces (`quittance-server`) call and the workers run. A
//! service speaks domain and store types and its own results; it never imports a face, and
//! the compiler holds it to that, since this crate does not depend on the server.

pub mod app;
pub mod bulk_import;
pub mod config;
pub mod credentials;
pub mod error;
pub mod events;
#[cfg(test)]
mod fuzzing;
pub mod housekeeping;
pub mod ingo;
pub mod payments;
pub mod pricing;
pub mod processor;
pub mod resources;
pub mod scheduler;
pub mod statements;
pub mod stop;
pub mod vault;
pub mod webhooks;
pub mod wire;
pub mod workers;

pub use app::App;
