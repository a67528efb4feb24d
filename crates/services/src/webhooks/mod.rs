//! Webhooks: what deliveries look like ([`payload`], [`signing`]), where they may go
//! ([`address`], [`outbound`]) and the worker that sends them ([`delivery`]), and the endpoints themselves ([`endpoints`]).

pub mod address;
pub mod delivery;
pub mod endpoints;
pub mod outbound;
pub mod payload;
pub mod sample;
pub mod signing;
