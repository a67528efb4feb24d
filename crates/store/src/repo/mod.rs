//! Transaction scripts, one module per resource. Each function takes the open transaction and
//! the organization it acts for: every query is scoped by organization, so another
//! organization's id is simply not found.

pub mod access;
pub mod accounts;
pub mod clients;
pub mod disbursements;
pub mod events;
pub mod idempotency;
pub mod imports;
pub mod ingo;
pub mod ledger;
pub mod payment_methods;
pub mod payments;
pub mod plans;
pub mod pricing;
pub mod sandbox;
pub mod sealed;
pub mod statements;
pub mod webhooks;

use crate::{Param, Row, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use quittance_domain::Currency;
use quittance_domain::clock::{from_micros, to_micros};

/// A `WHERE` clause built from optional filters: each condition's `?` becomes the next `$N`.
pub(crate) struct Conditions {
    terms: Vec<String>,
    pub(crate) args: Vec<Param>,
}

impl Conditions {
    pub(crate) fn new(first: &str, value: Param) -> Self {
        let mut c = Conditions {
            terms: Vec::new(),
            args: Vec::new(),
        };
        c.and(first, value);
        c
    }

    pub(crate) fn and(&mut self, condition: &str, value: Param) {
        self.args.push(value);
        self.terms
            .push(condition.replace('?', &format!("${}", self.args.len())));
    }

    /// Appends a parameter that is not a condition (a LIMIT, say) and returns its `$N`.
    pub(crate) fn bind(&mut self, value: Param) -> String {
        self.args.push(value);
        format!("${}", self.args.len())
    }

    pub(crate) fn sql(&self) -> String {
        self.terms.join(" AND ")
    }
}

/// A 1-based page of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub number: i64,
    pub per_page: i64,
}

impl PageRequest {
    pub(crate) fn offset(self) -> i64 {
        (self.number.max(1) - 1).saturating_mul(self.per_page)
    }
}

/// One page of results and how many there are in all.
#[derive(Debug, Clone, PartialEq)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub total: i64,
}

pub(crate) fn micros(t: DateTime<Utc>) -> i64 {
    to_micros(t)
}

pub(crate) fn instant(row: &Row, index: usize) -> Result<DateTime<Utc>, StoreError> {
    let value = row.i64(index)?;
    from_micros(value)
        .ok_or_else(|| StoreError::Decode(format!("column {index}: instant {value} out of range")))
}

pub(crate) fn opt_instant(row: &Row, index: usize) -> Result<Option<DateTime<Utc>>, StoreError> {
    match row.opt_i64(index)? {
        None => Ok(None),
        Some(_) => instant(row, index).map(Some),
    }
}

pub(crate) fn opt_date(row: &Row, index: usize) -> Result<Option<NaiveDate>, StoreError> {
    row.opt_string(index)?
        .map(|text| {
            NaiveDate::parse_from_str(&text, "%Y-%m-%d")
                .map_err(|_| StoreError::Decode(format!("column {index}: bad date {text:?}")))
        })
        .transpose()
}

pub(crate) fn date_text(date: Option<NaiveDate>) -> Option<String> {
    date.map(|d| d.format("%Y-%m-%d").to_string())
}

/// Decodes a stored enum through its `parse`; an unknown spelling is a decode error.
pub(crate) fn decode_enum<T>(
    row: &Row,
    index: usize,
    parse: fn(&str) -> Option<T>,
) -> Result<T, StoreError> {
    let text = row.str(index)?;
    parse(text).ok_or_else(|| StoreError::Decode(format!("column {index}: unknown value {text:?}")))
}

pub(crate) fn parsed<T>(
    row: &Row,
    index: usize,
    parse: fn(&str) -> Option<T>,
    what: &str,
) -> Result<T, StoreError> {
    let text = row.str(index)?;
    parse(text).ok_or_else(|| StoreError::Decode(format!("bad {what} {text:?}")))
}

pub(crate) fn currency(row: &Row, index: usize) -> Result<Currency, StoreError> {
    parsed(row, index, Currency::from_code, "currency")
}

/// A nullable column decoded through `parse` (an id or an enum's spelling): NULL is `None`,
/// text `parse` refuses a decode error.
pub(crate) fn opt_parsed<T>(
    row: &Row,
    index: usize,
    parse: fn(&str) -> Option<T>,
) -> Result<Option<T>, StoreError> {
    match row.opt_string(index)? {
        None => Ok(None),
        Some(_) => decode_enum(row, index, parse).map(Some),
    }
}
