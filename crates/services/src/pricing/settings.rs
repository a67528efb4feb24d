//! An organization's pricing settings: its Schedule A, and the cost model built on it.

use super::documents::{Kind, find_in};
use crate::error::{ServiceError, ServiceResult};
use quittance_domain::ids::OrganizationId;
use quittance_pricing::{CostModel, ScheduleA, parse_decimal, plain_text};
use quittance_store::{StoreError, Tx};
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

/// The stored settings: decimal text, as the face prints it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredPricingSettings {
    pub schedule_a_rate: String,
    pub schedule_a_per_item: String,
}

impl Kind for StoredPricingSettings {
    const KIND: &'static str = "pricing_settings";
    const NAME: &'static str = "pricing settings";
    const UNIQUE_FIELD: &'static str = "organization";

    /// One document per organization.
    fn unique_key(&self) -> Option<String> {
        Some("settings".to_owned())
    }
}

impl StoredPricingSettings {
    pub fn of(schedule_a: ScheduleA) -> StoredPricingSettings {
        StoredPricingSettings {
            schedule_a_rate: plain_text(schedule_a.rate),
            schedule_a_per_item: plain_text(schedule_a.per_item),
        }
    }

    pub fn schedule_a(&self) -> Result<ScheduleA, StoreError> {
        let read = |text: &str| {
            parse_decimal(text)
                .map_err(|e| StoreError::Decode(format!("pricing settings {text:?}: {e}")))
        };
        Ok(ScheduleA {
            rate: read(&self.schedule_a_rate)?,
            per_item: read(&self.schedule_a_per_item)?,
        })
    }
}

/// The organization's Schedule A, or the default when it never set one.
pub async fn schedule_a_in(tx: &mut dyn Tx, org: &OrganizationId) -> Result<ScheduleA, StoreError> {
    match find_in::<StoredPricingSettings>(tx, org, |_| true).await? {
        Some(found) => found.body.schedule_a(),
        None => Ok(ScheduleA::default()),
    }
}

/// The shipped rate tables with an organization's Schedule A.
pub fn cost_model(schedule_a: ScheduleA) -> ServiceResult<CostModel> {
    static SHIPPED: OnceLock<Result<CostModel, String>> = OnceLock::new();
    SHIPPED
        .get_or_init(|| CostModel::shipped().map_err(|e| e.to_string()))
        .as_ref()
        .map(|model| model.clone().with_schedule_a(schedule_a))
        .map_err(|e| ServiceError::internal(format!("the shipped rate tables: {e}")))
}
