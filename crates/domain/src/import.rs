//! An import document, validated: one master account and its sub-accounts, created or updated
//! together. Fields left out (`None`) are left as they are on an existing account.

use crate::money::{Currency, MinorUnits};
use crate::receivables::{AccountHolder, AccountStatus, Address, SubAccountStatus};
use chrono::NaiveDate;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportDocument {
    pub account_number: String,
    pub status: Option<AccountStatus>,
    /// Only the `Some` fields are applied to an existing account.
    pub holder: AccountHolder,
    /// The currency of the account and every amount in the document (USD when not given).
    pub currency: Currency,
    pub sub_accounts: Vec<SubAccountImport>,
}

/// A client named by its number; created with `name` (or the number) when missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRef {
    pub client_number: String,
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubAccountImport {
    pub reference: String,
    pub client: Option<ClientRef>,
    pub original_balance: MinorUnits,
    /// The current balance; a new sub-account without one starts at its original balance.
    pub balance: Option<MinorUnits>,
    pub service_date: Option<NaiveDate>,
    pub placement_date: Option<NaiveDate>,
    pub description: Option<String>,
    pub status: Option<SubAccountStatus>,
}

fn keep<T: Clone>(current: &Option<T>, update: &Option<T>) -> Option<T> {
    update.clone().or_else(|| current.clone())
}

impl AccountHolder {
    /// This holder with every `Some` field of `update` applied.
    pub fn merged_with(&self, update: &AccountHolder) -> AccountHolder {
        AccountHolder {
            first_name: keep(&self.first_name, &update.first_name),
            last_name: keep(&self.last_name, &update.last_name),
            date_of_birth: keep(&self.date_of_birth, &update.date_of_birth),
            email: keep(&self.email, &update.email),
            phone: keep(&self.phone, &update.phone),
            address: Address {
                line1: keep(&self.address.line1, &update.address.line1),
                line2: keep(&self.address.line2, &update.address.line2),
                city: keep(&self.address.city, &update.address.city),
                state: keep(&self.address.state, &update.address.state),
                postal_code: keep(&self.address.postal_code, &update.address.postal_code),
                country: keep(&self.address.country, &update.address.country),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_applies_only_given_fields() {
        let current = AccountHolder {
            first_name: Some("Ann".into()),
            last_name: Some("Lee".into()),
            address: Address {
                city: Some("Reno".into()),
                ..Address::default()
            },
            ..AccountHolder::default()
        };
        let update = AccountHolder {
            last_name: Some("Park".into()),
            address: Address {
                state: Some("NV".into()),
                ..Address::default()
            },
            ..AccountHolder::default()
        };
        let merged = current.merged_with(&update);
        assert_eq!(merged.first_name.as_deref(), Some("Ann"));
        assert_eq!(merged.last_name.as_deref(), Some("Park"));
        assert_eq!(merged.address.city.as_deref(), Some("Reno"));
        assert_eq!(merged.address.state.as_deref(), Some("NV"));
        assert_eq!(current.merged_with(&AccountHolder::default()), current);
    }
}

status_enum!(
    /// A bulk import job's progress.
    ImportStatus { Running => "running", Completed => "completed", Failed => "failed" }
);

status_enum!(
    /// The input format of a bulk import.
    ImportFormat { Csv => "csv", Ndjson => "ndjson" }
);

impl ImportDocument {
    /// Whether `later` (the next input row) can be folded into this document: the same
    /// account, the same currency, and no sub-account named twice.
    pub fn can_absorb(&self, later: &ImportDocument) -> bool {
        self.account_number == later.account_number
            && self.currency == later.currency
            && later.sub_accounts.iter().all(|s| {
                self.sub_accounts
                    .iter()
                    .all(|mine| mine.reference != s.reference)
            })
    }

    /// Folds `later` into this document: its given fields win, its sub-accounts are added.
    pub fn absorb(&mut self, later: ImportDocument) {
        self.status = later.status.or(self.status);
        self.holder = self.holder.merged_with(&later.holder);
        self.sub_accounts.extend(later.sub_accounts);
    }
}

#[cfg(test)]
mod absorb_tests {
    use super::*;

    fn row(account: &str, reference: &str, last_name: Option<&str>) -> ImportDocument {
        ImportDocument {
            account_number: account.into(),
            status: None,
            holder: AccountHolder {
                last_name: last_name.map(Into::into),
                ..AccountHolder::default()
            },
            currency: Currency::USD,
            sub_accounts: vec![SubAccountImport {
                reference: reference.into(),
                client: None,
                original_balance: MinorUnits::new(1),
                balance: None,
                service_date: None,
                placement_date: None,
                description: None,
                status: None,
            }],
        }
    }

    #[test]
    fn rows_of_one_account_fold_together() {
        let mut doc = row("A", "1", Some("Lee"));
        assert!(doc.can_absorb(&row("A", "2", None)));
        doc.absorb(row("A", "2", None));
        assert_eq!(doc.sub_accounts.len(), 2);
        assert_eq!(
            doc.holder.last_name.as_deref(),
            Some("Lee"),
            "a blank later field keeps the earlier one"
        );
        assert!(!doc.can_absorb(&row("B", "3", None)), "another account");
        assert!(
            !doc.can_absorb(&row("A", "1", None)),
            "a reference already in the document"
        );
        let mut euro = row("A", "9", None);
        euro.currency = Currency::from_code("EUR").expect("known");
        assert!(!doc.can_absorb(&euro), "another currency");
    }
}
