//! Pricing programs: named lists of fee lines, stored as pricing documents.

use super::documents::Kind;
use crate::error::{ServiceError, ServiceResult};
use quittance_pricing::{FeeBasis, FeeLine, default_program, fee_text, parse_decimal};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Fee {
    pub name: String,
    pub internal_name: String,
    /// A rate, a per-item fee, a monthly fee or a multiplier, by basis.
    pub amount: String,
    pub basis: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Feature {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StoredProgram {
    pub name: String,
    /// The organization's default: proposed when no preferred program is given.
    pub default: bool,
    pub fees: Vec<Fee>,
    pub features: Vec<Feature>,
}

impl Kind for StoredProgram {
    const KIND: &'static str = "program";
    const NAME: &'static str = "program";
}

impl StoredProgram {
    /// The default program: the seed's nineteen fee lines.
    pub fn default_program() -> StoredProgram {
        StoredProgram {
            name: "Default".to_owned(),
            default: true,
            fees: default_program()
                .into_iter()
                .map(|line| Fee {
                    amount: fee_text(line.amount),
                    basis: line.basis.to_string(),
                    name: line.name,
                    internal_name: line.internal_name,
                })
                .collect(),
            features: Vec::new(),
        }
    }

    /// The fee lines, as the pricing model takes them (checked when saved).
    pub fn lines(&self) -> ServiceResult<Vec<FeeLine>> {
        self.fees
            .iter()
            .enumerate()
            .map(|(i, fee)| {
                let at = |field: &str| format!("fees[{i}].{field}");
                let amount = parse_decimal(&fee.amount)
                    .map_err(|e| ServiceError::unprocessable(at("amount"), e.to_string()))?;
                let basis = FeeBasis::parse(&fee.basis)
                    .map_err(|e| ServiceError::unprocessable(at("basis"), e.to_string()))?;
                Ok(FeeLine::new(&fee.name, &fee.internal_name, amount, basis))
            })
            .collect()
    }
}
