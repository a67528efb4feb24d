//! Merchant pricing: the records behind proposals (programs, merchant types, prospect stages,
//! the organization's Schedule A) and the pricing of a proposal, on `quittance-pricing`'s fee
//! model. The ISO Amp face (`/api`) and the statement-analysis worker both use it.

pub mod defaults;
pub mod documents;
pub mod merchant_types;
pub mod programs;
pub mod proposals;
pub mod prospects;
pub mod settings;
pub mod stages;
pub mod users;
