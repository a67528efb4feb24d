//! Merchant-pricing documents (the ISO Amp face): one JSON body per resource, by kind.
//! The server owns the bodies' shapes; here they are text, listed in creation order.

use super::{instant, micros};
use crate::{StoreError, Tx, params};
use chrono::{DateTime, Utc};
use quittance_domain::ids::OrganizationId;

/// A stored document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub id: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, body, created_at";

fn document(row: &crate::Row) -> Result<Document, StoreError> {
    Ok(Document {
        id: row.string(0)?,
        body: row.string(1)?,
        created_at: instant(row, 2)?,
    })
}

/// Inserts a document; `unique_key` must not be taken by another of its kind (a `Conflict`).
pub async fn insert(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    kind: &str,
    doc: &Document,
    unique_key: Option<&str>,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO pricing_documents
         (organization_id, kind, id, unique_key, body, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6)",
        &params![
            org.as_str(),
            kind,
            &doc.id,
            unique_key,
            &doc.body,
            micros(doc.created_at)
        ],
    )
    .await?;
    Ok(())
}

pub async fn get(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    kind: &str,
    id: &str,
) -> Result<Document, StoreError> {
    let row = tx
        .query_opt(
            &format!(
                "SELECT {COLUMNS} FROM pricing_documents
                 WHERE organization_id = $1 AND kind = $2 AND id = $3"
            ),
            &params![org.as_str(), kind, id],
        )
        .await?
        .ok_or(StoreError::NotFound)?;
    document(&row)
}

/// Up to `limit` documents of a kind in creation order, after `after` (an id of that kind)
/// when given; a missing `after` is `NotFound`.
pub async fn list(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    kind: &str,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<Document>, StoreError> {
    let rows = match after {
        None => {
            tx.query(
                &format!(
                    "SELECT {COLUMNS} FROM pricing_documents
                     WHERE organization_id = $1 AND kind = $2
                     ORDER BY created_at, id LIMIT $3"
                ),
                &params![org.as_str(), kind, limit],
            )
            .await?
        }
        Some(after) => {
            let from = get(tx, org, kind, after).await?;
            tx.query(
                &format!(
                    "SELECT {COLUMNS} FROM pricing_documents
                     WHERE organization_id = $1 AND kind = $2
                       AND (created_at > $3 OR (created_at = $3 AND id > $4))
                     ORDER BY created_at, id LIMIT $5"
                ),
                &params![org.as_str(), kind, micros(from.created_at), &from.id, limit],
            )
            .await?
        }
    };
    rows.iter().map(document).collect()
}

/// Replaces a document's body (and unique key).
pub async fn update(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    kind: &str,
    id: &str,
    body: &str,
    unique_key: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let changed = tx
        .execute(
            "UPDATE pricing_documents SET body = $4, unique_key = $5, updated_at = $6
             WHERE organization_id = $1 AND kind = $2 AND id = $3",
            &params![org.as_str(), kind, id, body, unique_key, micros(now)],
        )
        .await?;
    if changed == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

pub async fn delete(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    kind: &str,
    id: &str,
) -> Result<(), StoreError> {
    let changed = tx
        .execute(
            "DELETE FROM pricing_documents WHERE organization_id = $1 AND kind = $2 AND id = $3",
            &params![org.as_str(), kind, id],
        )
        .await?;
    if changed == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

/// How many documents of `kind` have `field` (a top-level JSON string) equal to `value`:
/// whether a user still owns prospects, say, before it is deleted.
pub async fn count_referring(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    kind: &str,
    field: &str,
    value: &str,
) -> Result<i64, StoreError> {
    // Bodies are compact JSON written by the server, so the pair appears exactly like this.
    let needle = format!("%\"{field}\":\"{value}\"%");
    tx.query_one(
        "SELECT COUNT(*) FROM pricing_documents
         WHERE organization_id = $1 AND kind = $2 AND body LIKE $3",
        &params![org.as_str(), kind, needle],
    )
    .await?
    .i64(0)
}

/// Whether an organization has any document of `kind` (its defaults are in place).
pub async fn any(tx: &mut dyn Tx, org: &OrganizationId, kind: &str) -> Result<bool, StoreError> {
    Ok(tx
        .query_opt(
            "SELECT 1 FROM pricing_documents WHERE organization_id = $1 AND kind = $2 LIMIT 1",
            &params![org.as_str(), kind],
        )
        .await?
        .is_some())
}

/// Organizations with no document of `kind`: those whose defaults are still to be made.
pub async fn organizations_without(
    tx: &mut dyn Tx,
    kind: &str,
) -> Result<Vec<OrganizationId>, StoreError> {
    let rows = tx
        .query(
            "SELECT id FROM organizations o WHERE NOT EXISTS (
                SELECT 1 FROM pricing_documents d WHERE d.organization_id = o.id AND d.kind = $1)
             ORDER BY id",
            &params![kind],
        )
        .await?;
    rows.iter()
        .map(|row| super::parsed(row, 0, OrganizationId::parse, "organization id"))
        .collect()
}
