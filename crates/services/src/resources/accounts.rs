//! Master accounts and sub-accounts as the event log records them and `/v1` answers them.

use super::{date, datetime};
use crate::wire::Amount;
use quittance_domain::receivables::{Account, SubAccount};
use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressBody {
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    /// ISO 3166 country code, as you keep it.
    pub country: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AccountResponse {
    pub id: String,
    pub account_number: String,
    /// `active`, `inactive` or `closed`.
    pub status: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// `YYYY-MM-DD`.
    pub date_of_birth: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: AddressBody,
    pub currency: String,
    /// The sum of the sub-accounts' balances, with the currency's decimals.
    #[schema(value_type = f64, example = 125.5)]
    pub balance: Amount,
    pub created_at: String,
    pub updated_at: String,
}

impl From<Account> for AccountResponse {
    fn from(a: Account) -> Self {
        let h = a.holder;
        AccountResponse {
            id: a.id.to_string(),
            account_number: a.account_number,
            status: a.status.as_str().to_owned(),
            first_name: h.first_name,
            last_name: h.last_name,
            date_of_birth: date(h.date_of_birth),
            email: h.email,
            phone: h.phone,
            address: AddressBody {
                line1: h.address.line1,
                line2: h.address.line2,
                city: h.address.city,
                state: h.address.state,
                postal_code: h.address.postal_code,
                country: h.address.country,
            },
            currency: a.currency.code().to_owned(),
            balance: Amount::new(a.balance, a.currency),
            created_at: datetime(a.created_at),
            updated_at: datetime(a.updated_at),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SubAccountResponse {
    pub id: String,
    pub account_id: String,
    /// Your reference for this debt or visit; unique within its account.
    pub reference: String,
    pub client_id: Option<String>,
    #[schema(value_type = f64, example = 200.0)]
    pub original_balance: Amount,
    #[schema(value_type = f64, example = 125.5)]
    pub balance: Amount,
    pub currency: String,
    pub service_date: Option<String>,
    pub placement_date: Option<String>,
    pub description: Option<String>,
    /// `open`, `disputed` or `closed`.
    pub status: String,
    pub created_at: String,
    pub updated_at: String,
}

impl From<SubAccount> for SubAccountResponse {
    fn from(s: SubAccount) -> Self {
        SubAccountResponse {
            id: s.id.to_string(),
            account_id: s.account_id.to_string(),
            reference: s.reference,
            client_id: s.client_id.map(|c| c.to_string()),
            original_balance: Amount::new(s.original_balance, s.currency),
            balance: Amount::new(s.balance, s.currency),
            currency: s.currency.code().to_owned(),
            service_date: date(s.service_date),
            placement_date: date(s.placement_date),
            description: s.description,
            status: s.status.as_str().to_owned(),
            created_at: datetime(s.created_at),
            updated_at: datetime(s.updated_at),
        }
    }
}
