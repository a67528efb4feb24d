//! What a new organization's merchant pricing starts with: the seed's five prospect stages,
//! a default program (the seed's nineteen fee lines) and a default merchant type.

use super::documents::{Kind, insert_in, new_id};
use super::merchant_types::StoredMerchantType;
use super::programs::StoredProgram;
use super::stages::{DEFAULT_STAGES, StoredStage};
use chrono::{DateTime, Duration, Utc};
use quittance_domain::ids::OrganizationId;
use quittance_store::repo::pricing;
use quittance_store::{Db, StoreError, Tx};

/// Creates the defaults unless the organization has them. The stages are a microsecond apart
/// so they list in the seed's order.
pub async fn seed(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    if pricing::any(tx, org, StoredStage::KIND).await? {
        return Ok(());
    }
    for (n, name) in (0i64..).zip(DEFAULT_STAGES) {
        let stage = StoredStage {
            name: name.to_owned(),
        };
        insert_in(tx, org, &new_id(), &stage, now + Duration::microseconds(n)).await?;
    }
    insert_in(tx, org, &new_id(), &StoredProgram::default_program(), now).await?;
    insert_in(tx, org, &new_id(), &StoredMerchantType::default_type(), now).await
}

/// Seeds every organization that predates the ISO Amp pricing resources.
pub async fn seed_missing(db: &Db, now: DateTime<Utc>) -> Result<(), StoreError> {
    db.write(move |tx| {
        Box::pin(async move {
            for org in pricing::organizations_without(tx, StoredStage::KIND).await? {
                seed(tx, &org, now).await?;
            }
            Ok(())
        })
    })
    .await
}
