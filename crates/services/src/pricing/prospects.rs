//! Prospects: merchants an agent is pricing, with the stage they are at.

use super::documents::Kind;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredProspect {
    pub business_name: Option<String>,
    pub contact_name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub mcc: Option<String>,
    pub source_type: String,
    pub user_id: String,
    pub merchant_type_id: Option<String>,
    pub prospect_stage_id: String,
}

impl Kind for StoredProspect {
    const KIND: &'static str = "prospect";
    const NAME: &'static str = "prospect";
}
