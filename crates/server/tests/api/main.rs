//! API tests: each test spawns the real application on 127.0.0.1:0 with a fresh database
//! (SQLite, or PostgreSQL when QUITTANCE_TEST_POSTGRES_URL is set) and talks HTTP to it.

mod auth;
mod bulk_import;
mod clients;
mod connections;
mod errors;
mod events;
mod helpers;
mod idempotency;
mod import;
mod ingo_funding;
mod ingo_hosted;
mod ingo_sessions;
mod isoamp_pricing;
mod mutual_tls;
mod ops;
mod payments;
mod plans;
mod receivables;
mod statement_analyses;
mod tenancy;
mod webhooks;
