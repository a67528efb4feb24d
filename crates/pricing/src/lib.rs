//! Quittance's merchant-pricing fee math for the ISO Amp face. Pure: no I/O, no async.
//!
//! - [`ActivityType`], [`Leaf`], [`Scope`]: the card cells activity is kept in and fees apply to.
//! - [`Mix`] and [`Activity`]: a merchant type's card mix and a month's activity per leaf,
//!   spread with the largest-remainder method so parts add up exactly.
//! - [`FeeLine`], [`FeeBasis`], [`default_program`], [`price`]: a program's fee lines priced on
//!   activity, rounded half-up to cents.
//! - [`RateTable`], [`CostModel`], [`CostEstimate`], [`margin`]: the shipped interchange and
//!   card-brand fee tables, Schedule A, and the statement-summary estimate.
//! - [`fee_text`], [`activity_text`], [`plain_text`], [`parse_decimal`]: decimal text as the
//!   ISO Amp face prints and reads it.
//! - [`statements`]: card-processing statements read from their text lines
//!   ([`read_statement`]), reconciled with their printed totals, and added up
//!   ([`StatementSummary`]).
//!
//! Every amount is a `rust_decimal::Decimal`; nothing here uses floating point. See
//! docs/pricing.md.

mod activity;
mod cost;
mod fees;
mod leaf;
pub mod statements;
mod tables;
mod text;

pub use activity::mix::{MAX_SHARE_DECIMALS, Mix, MixError, ShareKind, items_from_avg_ticket};
pub use activity::{Activity, ActivityError, BrandRow, LeafActivity};
pub use cost::{CostEstimate, CostKind, CostModel, PricingError, ScheduleA, margin, round_cents};
pub use fees::{FeeBasis, FeeBasisError, FeeLine, PricedFee, default_program, price};
pub use leaf::{ActivityType, LEAF_COUNT, Leaf, Scope};
pub use statements::{
    Statement, StatementError, StatementSummary, TextLine, TextSpan, read_statement,
};
pub use tables::{EffectiveDate, HEADER, RateRow, RateTable, TableError, TableErrorKind};
pub use text::{
    DecimalError, MAX_FRACTION_DIGITS, activity_text, fee_text, parse_decimal, plain_text,
};

pub use rust_decimal::Decimal;
