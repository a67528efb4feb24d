//! Clients: the creditors debts belong to. `client_number` is unique per organization.

use super::{PageRequest, Paged, decode_enum, instant, micros};
use crate::{Row, StoreError, Tx, params};
use chrono::{DateTime, Utc};
use quittance_domain::ids::{ClientId, OrganizationId};
use quittance_domain::receivables::{Client, ClientStatus};
use std::sync::LazyLock;

const COLUMNS: &str =
    "id, organization_id, client_number, name, email, phone, status, created_at, updated_at";

static FIND_BY_NUMBER: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT {COLUMNS} FROM clients WHERE organization_id = $1 AND client_number = $2")
});

fn decode(row: &Row) -> Result<Client, StoreError> {
    let id = row.str(0)?;
    let organization = row.str(1)?;
    Ok(Client {
        id: ClientId::parse(id)
            .ok_or_else(|| StoreError::Decode(format!("bad client id {id:?}")))?,
        organization_id: OrganizationId::parse(organization)
            .ok_or_else(|| StoreError::Decode(format!("bad organization id {organization:?}")))?,
        client_number: row.string(2)?,
        name: row.string(3)?,
        email: row.opt_string(4)?,
        phone: row.opt_string(5)?,
        status: decode_enum(row, 6, ClientStatus::parse)?,
        created_at: instant(row, 7)?,
        updated_at: instant(row, 8)?,
    })
}

/// Inserts a client; a taken `client_number` is `Conflict`.
pub async fn insert_client(tx: &mut dyn Tx, client: &Client) -> Result<(), StoreError> {
    tx.execute(
        &format!("INSERT INTO clients ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"),
        &params![
            client.id.as_str(),
            client.organization_id.as_str(),
            &client.client_number,
            &client.name,
            &client.email,
            &client.phone,
            client.status.as_str(),
            micros(client.created_at),
            micros(client.updated_at)
        ],
    )
    .await
    .map(drop)
}

pub async fn get_client(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    id: &ClientId,
) -> Result<Client, StoreError> {
    let row = tx
        .query_one(
            &format!("SELECT {COLUMNS} FROM clients WHERE organization_id = $1 AND id = $2"),
            &params![org.as_str(), id.as_str()],
        )
        .await?;
    decode(&row)
}

pub async fn find_client_by_number(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    number: &str,
) -> Result<Option<Client>, StoreError> {
    tx.query_opt(&FIND_BY_NUMBER, &params![org.as_str(), number])
        .await?
        .as_ref()
        .map(decode)
        .transpose()
}

pub async fn list_clients(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    page: PageRequest,
) -> Result<Paged<Client>, StoreError> {
    let rows = tx
        .query(
            &format!("SELECT {COLUMNS} FROM clients WHERE organization_id = $1 ORDER BY id LIMIT $2 OFFSET $3"),
            &params![org.as_str(), page.per_page, page.offset()],
        )
        .await?;
    let total = tx
        .query_one(
            "SELECT COUNT(*) FROM clients WHERE organization_id = $1",
            &params![org.as_str()],
        )
        .await?
        .i64(0)?;
    Ok(Paged {
        items: rows.iter().map(decode).collect::<Result<_, _>>()?,
        total,
    })
}

/// Writes every field of `client` (found by organization and id) and stamps `updated_at`.
pub async fn update_client(
    tx: &mut dyn Tx,
    client: &Client,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let changed = tx
        .execute(
            "UPDATE clients SET client_number = $3, name = $4, email = $5, phone = $6, status = $7, updated_at = $8
             WHERE organization_id = $1 AND id = $2",
            &params![
                client.organization_id.as_str(),
                client.id.as_str(),
                &client.client_number,
                &client.name,
                &client.email,
                &client.phone,
                client.status.as_str(),
                micros(now)
            ],
        )
        .await?;
    if changed == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}
