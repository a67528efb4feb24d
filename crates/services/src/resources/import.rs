//! An import document (one master account with its sub-accounts) as `/v1/import` and every
//! line of a bulk import take it, and its check into the domain's import types.

use super::accounts::AddressBody;
use crate::wire::AmountText;
use quittance_domain::FieldError;
use quittance_domain::import::{ClientRef, ImportDocument, SubAccountImport};
use quittance_domain::receivables::{
    AccountHolder, AccountStatus, Address, MAX_KEY, MAX_TEXT, SubAccountStatus, currency_or_usd,
    non_negative_amount, optional_date, optional_email, optional_text, required_text,
};
use serde::Deserialize;
use std::collections::HashSet;

/// One master account and its sub-accounts. On an existing account (found by
/// `account_number`), only the fields given change.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportDocumentRequest {
    pub account_number: String,
    /// `active` (default for a new account), `inactive` or `closed`.
    pub status: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// `YYYY-MM-DD`.
    pub date_of_birth: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<AddressBody>,
    /// The account's currency and that of every amount here; USD when not given.
    pub currency: Option<String>,
    /// At least one.
    pub sub_accounts: Vec<SubAccountImportRequest>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubAccountImportRequest {
    /// Unique within the account: how a sub-account is found again on re-import.
    pub reference: String,
    /// The client (creditor) this debt belongs to; created when missing.
    pub client_number: Option<String>,
    /// The name given to a client created here (default: its number).
    pub client_name: Option<String>,
    #[schema(value_type = f64, example = 200.0)]
    pub original_balance: AmountText,
    /// The current balance; a new sub-account starts at `original_balance` without one.
    #[schema(value_type = Option<f64>, example = 125.5)]
    pub balance: Option<AmountText>,
    pub service_date: Option<String>,
    pub placement_date: Option<String>,
    pub description: Option<String>,
    /// `open` (default for a new sub-account), `disputed` or `closed`.
    pub status: Option<String>,
}

impl ImportDocumentRequest {
    /// Checks every field and names the first at fault.
    pub fn validate(&self) -> Result<ImportDocument, FieldError> {
        let currency = currency_or_usd("currency", self.currency.as_deref())?;
        if self.sub_accounts.is_empty() {
            return Err(FieldError::new(
                "sub_accounts",
                "a master account must have at least one sub-account",
            ));
        }
        let address = self.address.as_ref();
        let text = |field: &str, value: Option<&String>, max| {
            optional_text(field, value.map(String::as_str), max)
        };
        let holder = AccountHolder {
            first_name: text("first_name", self.first_name.as_ref(), MAX_TEXT)?,
            last_name: text("last_name", self.last_name.as_ref(), MAX_TEXT)?,
            date_of_birth: optional_date("date_of_birth", self.date_of_birth.as_deref())?,
            email: optional_email("email", self.email.as_deref())?,
            phone: text("phone", self.phone.as_ref(), MAX_KEY)?,
            address: Address {
                line1: text(
                    "address.line1",
                    address.and_then(|a| a.line1.as_ref()),
                    MAX_TEXT,
                )?,
                line2: text(
                    "address.line2",
                    address.and_then(|a| a.line2.as_ref()),
                    MAX_TEXT,
                )?,
                city: text(
                    "address.city",
                    address.and_then(|a| a.city.as_ref()),
                    MAX_TEXT,
                )?,
                state: text(
                    "address.state",
                    address.and_then(|a| a.state.as_ref()),
                    MAX_KEY,
                )?,
                postal_code: text(
                    "address.postal_code",
                    address.and_then(|a| a.postal_code.as_ref()),
                    MAX_KEY,
                )?,
                country: text(
                    "address.country",
                    address.and_then(|a| a.country.as_ref()),
                    MAX_KEY,
                )?,
            },
        };
        let mut references = HashSet::new();
        let mut sub_accounts = Vec::with_capacity(self.sub_accounts.len());
        for (index, sub) in self.sub_accounts.iter().enumerate() {
            let parsed = sub
                .validate(currency)
                .map_err(|e| e.within(&format!("sub_accounts[{index}]")))?;
            if !references.insert(parsed.reference.clone()) {
                return Err(FieldError::new(
                    format!("sub_accounts[{index}].reference"),
                    "appears twice in this document",
                ));
            }
            sub_accounts.push(parsed);
        }
        Ok(ImportDocument {
            account_number: required_text("account_number", &self.account_number, MAX_KEY)?,
            status: self
                .status
                .as_deref()
                .map(|s| AccountStatus::parse_field("status", s))
                .transpose()?,
            holder,
            currency,
            sub_accounts,
        })
    }
}

impl SubAccountImportRequest {
    fn validate(
        &self,
        currency: quittance_domain::Currency,
    ) -> Result<SubAccountImport, FieldError> {
        let client = match optional_text("client_number", self.client_number.as_deref(), MAX_KEY)? {
            Some(client_number) => Some(ClientRef {
                client_number,
                name: optional_text("client_name", self.client_name.as_deref(), MAX_TEXT)?,
            }),
            None => None,
        };
        Ok(SubAccountImport {
            reference: required_text("reference", &self.reference, MAX_KEY)?,
            client,
            original_balance: non_negative_amount(
                "original_balance",
                &self.original_balance.0,
                currency,
            )?,
            balance: self
                .balance
                .as_ref()
                .map(|b| non_negative_amount("balance", &b.0, currency))
                .transpose()?,
            service_date: optional_date("service_date", self.service_date.as_deref())?,
            placement_date: optional_date("placement_date", self.placement_date.as_deref())?,
            description: optional_text("description", self.description.as_deref(), MAX_TEXT)?,
            status: self
                .status
                .as_deref()
                .map(|s| SubAccountStatus::parse_field("status", s))
                .transpose()?,
        })
    }
}
