//! Merchant types: the card mix a kind of merchant runs, stored as pricing documents.

use super::documents::Kind;
use crate::error::{ServiceError, ServiceResult};
use quittance_pricing::{Decimal, Leaf, Mix, parse_decimal, plain_text};
use serde::{Deserialize, Serialize};

/// One leaf's shares, as numeric strings.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CardShare {
    /// visa_credit, visa_check, mastercard_credit, mastercard_check, discover_credit,
    /// discover_check, amex or pin_debit.
    #[serde(rename = "type")]
    pub leaf: String,
    /// Share of card volume, 0 to 1.
    pub volume_share: String,
    /// Share of transactions, 0 to 1.
    pub transactions_share: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StoredMerchantType {
    pub name: String,
    pub mccs: Vec<String>,
    /// The organization's default: used for prospects without a merchant type.
    pub default: bool,
    pub card_mix: Vec<CardShare>,
}

impl Kind for StoredMerchantType {
    const KIND: &'static str = "merchant_type";
    const NAME: &'static str = "merchant type";
}

impl StoredMerchantType {
    /// The default merchant type: the mix behind the seed's simple proposal.
    pub fn default_type() -> StoredMerchantType {
        let mix = Mix::seed_default();
        StoredMerchantType {
            name: "Default".to_owned(),
            mccs: Vec::new(),
            default: true,
            card_mix: Leaf::ALL
                .iter()
                .map(|&leaf| CardShare {
                    leaf: leaf.as_str().to_owned(),
                    volume_share: plain_text(mix.volume_share(leaf)),
                    transactions_share: plain_text(mix.item_share(leaf)),
                })
                .collect(),
        }
    }

    /// The stored mix (checked when it was saved).
    pub fn mix(&self) -> ServiceResult<Mix> {
        mix_of(&self.card_mix)
    }
}

/// A card mix from its shares; leaves not listed have no share. 422 naming `card_mix`.
pub fn mix_of(shares: &[CardShare]) -> ServiceResult<Mix> {
    let bad = |message: String| ServiceError::unprocessable("card_mix", message);
    let mut volume = Vec::with_capacity(shares.len());
    let mut items = Vec::with_capacity(shares.len());
    for share in shares {
        let leaf = Leaf::parse(&share.leaf).ok_or_else(|| {
            bad(format!(
                "unknown card type {:?}; one of {}",
                share.leaf,
                Leaf::choices()
            ))
        })?;
        let number = |text: &str, what: &str| -> ServiceResult<Decimal> {
            parse_decimal(text).map_err(|e| bad(format!("{what} of {}: {e}", share.leaf)))
        };
        volume.push((leaf, number(&share.volume_share, "volume_share")?));
        items.push((
            leaf,
            number(&share.transactions_share, "transactions_share")?,
        ));
    }
    Mix::new(&volume, &items).map_err(|e| bad(e.to_string()))
}
