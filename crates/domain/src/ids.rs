//! Typed, prefixed identifiers: `acct_` followed by a UUIDv7 in 32 hex digits, so ids sort by
//! creation time and one kind of id can never be passed where another is expected.

use uuid::Uuid;

macro_rules! typed_id {
    ($(#[$meta:meta])* $name:ident, $prefix:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            /// A new time-ordered id.
            pub fn generate() -> Self {
                Self(format!("{}_{}", $prefix, Uuid::now_v7().simple()))
            }

            /// Accepts only this kind's prefix followed by 32 lowercase hex digits.
            pub fn parse(text: &str) -> Option<Self> {
                let rest = text.strip_prefix($prefix)?.strip_prefix('_')?;
                let well_formed = rest.len() == 32
                    && rest.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
                well_formed.then(|| Self(text.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

typed_id!(
    /// An organization: the seed's "portal". Every other record belongs to one.
    OrganizationId,
    "org"
);
typed_id!(
    /// One issued credential: an OAuth client id/secret pair and an API key.
    CredentialId,
    "cred"
);
typed_id!(
    /// A client: the creditor a debt belongs to.
    ClientId,
    "cli"
);
typed_id!(
    /// A master account: a patient or debtor.
    AccountId,
    "acct"
);
typed_id!(
    /// A sub-account: one visit or one debt.
    SubAccountId,
    "sub"
);
typed_id!(
    /// A bulk import job.
    ImportId,
    "imp"
);
typed_id!(
    /// A saved card or bank account (the vault).
    PaymentMethodId,
    "pm"
);
typed_id!(
    /// One payment: an authorization, and what became of it.
    PaymentId,
    "pay"
);
typed_id!(
    /// One refund of a captured payment.
    RefundId,
    "re"
);
typed_id!(
    /// One balanced double-entry ledger transaction.
    LedgerTransactionId,
    "ltx"
);
typed_id!(
    /// One settlement close.
    SettlementId,
    "stl"
);
typed_id!(
    /// A payment plan.
    PaymentPlanId,
    "pp"
);
typed_id!(
    /// One installment of a payment plan.
    InstallmentId,
    "inst"
);
typed_id!(
    /// A webhook endpoint (on the ISO Amp face it also has an integer id).
    WebhookId,
    "we"
);
typed_id!(
    /// How Quittance authenticates to a webhook receiver.
    AccessSetupId,
    "was"
);
typed_id!(
    /// One event's delivery to one webhook endpoint.
    DeliveryId,
    "whd"
);
typed_id!(
    /// One attempt at a delivery.
    AttemptId,
    "wha"
);
typed_id!(
    /// Money pushed to a recipient's captured account (IngoPay funding).
    DisbursementId,
    "dsb"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_parse_back_and_sort_by_time() {
        let a = AccountId::generate();
        let b = AccountId::generate();
        assert!(a.as_str().starts_with("acct_"));
        assert_eq!(a.as_str().len(), "acct_".len() + 32);
        assert_eq!(AccountId::parse(a.as_str()), Some(a.clone()));
        assert!(a < b, "UUIDv7 ids are time-ordered");
    }

    #[test]
    fn parse_rejects_other_kinds_and_malformed_text() {
        let sub = SubAccountId::generate();
        assert_eq!(AccountId::parse(sub.as_str()), None);
        assert_eq!(AccountId::parse("acct_"), None);
        assert_eq!(
            AccountId::parse("acct_0123456789ABCDEF0123456789abcdef"),
            None
        );
        assert_eq!(
            AccountId::parse("acct0123456789abcdef0123456789abcdef"),
            None
        );
        assert_eq!(
            AccountId::parse("acct_0123456789abcdef0123456789abcde"),
            None
        );
    }
}

typed_id!(
    /// An event in the event log. The ISO Amp face shows the same id as a bare UUID.
    EventId,
    "evt"
);

impl EventId {
    /// The UUID inside, as the ISO Amp face writes it (`680adba7-d2a8-…`).
    pub fn uuid(&self) -> Uuid {
        // A parsed or generated id always holds 32 hex digits after its prefix.
        Uuid::try_parse(&self.0[Self::PREFIX.len() + 1..]).unwrap_or_default()
    }

    pub fn from_uuid(uuid: Uuid) -> Self {
        Self(format!("{}_{}", Self::PREFIX, uuid.simple()))
    }
}

#[cfg(test)]
mod event_id_tests {
    use super::*;

    #[test]
    fn an_event_id_and_its_uuid_convert_both_ways() {
        let id = EventId::generate();
        let uuid = id.uuid();
        assert_ne!(uuid, Uuid::nil());
        assert_eq!(EventId::from_uuid(uuid), id);
        assert_eq!(
            uuid.hyphenated().to_string().replace('-', ""),
            id.as_str()["evt_".len()..]
        );
    }
}
