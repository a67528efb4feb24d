//! Webhooks: what deliveries look like ([`payload`], [`signing`]), where they may go
//! ([`address`], [`outbound`]) and the worker that sends them ([`delivery`]). The endpoints'
//! configuration is served by `v1::webhooks`, `v1::webhook_access_setups` and
//! `isoamp::webhooks`.

pub mod address;
pub mod delivery;
pub mod outbound;
pub mod payload;
pub mod sample;
pub mod signing;
