//! Prospect stages: the five every organization starts with.

use super::documents::Kind;
use serde::{Deserialize, Serialize};

/// The stages every organization starts with, in order.
pub const DEFAULT_STAGES: [&str; 5] =
    ["Prospect", "Quoted", "Contacted", "Closed-Yes", "Closed-No"];

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredStage {
    pub name: String,
}

impl Kind for StoredStage {
    const KIND: &'static str = "prospect_stage";
    const NAME: &'static str = "prospect stage";
}
