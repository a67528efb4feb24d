//! IngoPay's hosted sessions (seed 003): participants and their signed requests, sessions and
//! their idempotency keys, the hosted page's verification and account capture, and funding
//! (disbursements to the captured accounts).

pub mod funding;
pub mod hosted;
pub mod participants;
pub mod sessions;
pub mod signing;
pub mod validation;
