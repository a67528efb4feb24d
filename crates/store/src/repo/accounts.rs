//! Master accounts and their sub-accounts. An account's `balance` is kept equal to the sum of
//! its sub-accounts' balances by recomputing it in the same transaction as any change to them.

use super::{
    PageRequest, Paged, currency, date_text, decode_enum, instant, micros, opt_date, parsed,
};
use crate::{Param, Row, StoreError, Tx, params};
use chrono::{DateTime, Utc};
use quittance_domain::MinorUnits;
use quittance_domain::ids::{AccountId, ClientId, OrganizationId, SubAccountId};
use quittance_domain::receivables::{
    Account, AccountHolder, AccountStatus, Address, SubAccount, SubAccountStatus,
};
use std::sync::LazyLock;

const ACCOUNT_COLUMNS: &str = "id, organization_id, account_number, status, first_name, last_name, date_of_birth, \
    email, phone, address_line1, address_line2, city, state, postal_code, country, currency, balance, created_at, updated_at";

/// Statements built once: the bulk import runs them hundreds of thousands of times, and the
/// statement cache is keyed by their text.
static GET_ACCOUNT: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE organization_id = $1 AND id = $2")
});
static FIND_ACCOUNT_BY_NUMBER: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE organization_id = $1 AND account_number = $2"
    )
});
static INSERT_ACCOUNT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO accounts ({ACCOUNT_COLUMNS}) VALUES
         ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)"
    )
});
static GET_SUB_ACCOUNT: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT {SUB_ACCOUNT_COLUMNS} FROM sub_accounts WHERE organization_id = $1 AND id = $2")
});
static FIND_SUB_ACCOUNT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {SUB_ACCOUNT_COLUMNS} FROM sub_accounts WHERE account_id = $1 AND reference = $2"
    )
});
static INSERT_SUB_ACCOUNT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO sub_accounts ({SUB_ACCOUNT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
    )
});

const SUB_ACCOUNT_COLUMNS: &str = "id, organization_id, account_id, reference, client_id, original_balance, balance, \
    currency, service_date, placement_date, description, status, created_at, updated_at";

fn decode_account(row: &Row) -> Result<Account, StoreError> {
    Ok(Account {
        id: parsed(row, 0, AccountId::parse, "account id")?,
        organization_id: parsed(row, 1, OrganizationId::parse, "organization id")?,
        account_number: row.string(2)?,
        status: decode_enum(row, 3, AccountStatus::parse)?,
        holder: AccountHolder {
            first_name: row.opt_string(4)?,
            last_name: row.opt_string(5)?,
            date_of_birth: opt_date(row, 6)?,
            email: row.opt_string(7)?,
            phone: row.opt_string(8)?,
            address: Address {
                line1: row.opt_string(9)?,
                line2: row.opt_string(10)?,
                city: row.opt_string(11)?,
                state: row.opt_string(12)?,
                postal_code: row.opt_string(13)?,
                country: row.opt_string(14)?,
            },
        },
        currency: currency(row, 15)?,
        balance: MinorUnits::new(row.i64(16)?),
        created_at: instant(row, 17)?,
        updated_at: instant(row, 18)?,
    })
}

fn decode_sub_account(row: &Row) -> Result<SubAccount, StoreError> {
    Ok(SubAccount {
        id: parsed(row, 0, SubAccountId::parse, "sub-account id")?,
        organization_id: parsed(row, 1, OrganizationId::parse, "organization id")?,
        account_id: parsed(row, 2, AccountId::parse, "account id")?,
        reference: row.string(3)?,
        client_id: row
            .opt_string(4)?
            .map(|t| {
                ClientId::parse(&t)
                    .ok_or_else(|| StoreError::Decode(format!("bad client id {t:?}")))
            })
            .transpose()?,
        original_balance: MinorUnits::new(row.i64(5)?),
        balance: MinorUnits::new(row.i64(6)?),
        currency: currency(row, 7)?,
        service_date: opt_date(row, 8)?,
        placement_date: opt_date(row, 9)?,
        description: row.opt_string(10)?,
        status: decode_enum(row, 11, SubAccountStatus::parse)?,
        created_at: instant(row, 12)?,
        updated_at: instant(row, 13)?,
    })
}

/// The holder and status fields in column order, for INSERT and UPDATE alike.
fn account_fields(account: &Account) -> [Param; 13] {
    let h = &account.holder;
    params![
        &account.account_number,
        account.status.as_str(),
        &h.first_name,
        &h.last_name,
        date_text(h.date_of_birth),
        &h.email,
        &h.phone,
        &h.address.line1,
        &h.address.line2,
        &h.address.city,
        &h.address.state,
        &h.address.postal_code,
        &h.address.country
    ]
}

pub async fn get_account(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    id: &AccountId,
) -> Result<Account, StoreError> {
    let row = tx
        .query_one(&GET_ACCOUNT, &params![org.as_str(), id.as_str()])
        .await?;
    decode_account(&row)
}

pub async fn find_account_by_number(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    number: &str,
) -> Result<Option<Account>, StoreError> {
    tx.query_opt(&FIND_ACCOUNT_BY_NUMBER, &params![org.as_str(), number])
        .await?
        .as_ref()
        .map(decode_account)
        .transpose()
}

/// Filters for listing accounts; all given filters must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountFilter {
    pub account_number: Option<String>,
    /// Matched without regard to case.
    pub last_name: Option<String>,
    /// Accounts with at least one sub-account of this client.
    pub client_id: Option<ClientId>,
    pub status: Option<AccountStatus>,
}

pub async fn list_accounts(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    filter: &AccountFilter,
    page: PageRequest,
) -> Result<Paged<Account>, StoreError> {
    let mut w = super::Conditions::new("organization_id = ?", org.as_str().into());
    if let Some(number) = &filter.account_number {
        w.and("account_number = ?", number.into());
    }
    if let Some(last_name) = &filter.last_name {
        w.and("lower(last_name) = lower(?)", last_name.into());
    }
    if let Some(client) = &filter.client_id {
        w.and(
            "id IN (SELECT s.account_id FROM sub_accounts s WHERE s.client_id = ?)",
            client.as_str().into(),
        );
    }
    if let Some(status) = filter.status {
        w.and("status = ?", status.as_str().into());
    }
    let filtered = w.args.len() > 1;
    let where_clause = w.sql();
    let total = if filtered {
        tx.query_one(
            &format!("SELECT COUNT(*) FROM accounts WHERE {where_clause}"),
            &w.args,
        )
        .await?
        .i64(0)?
    } else {
        // Counting a million rows per page view is too slow; the organization keeps the count.
        tx.query_one(
            "SELECT account_count FROM organizations WHERE id = $1",
            &params![org.as_str()],
        )
        .await?
        .i64(0)?
    };
    let limit_at = w.bind(page.per_page.into());
    let offset_at = w.bind(page.offset().into());
    // Skip over ids in the index alone, then read only the page's rows: an OFFSET over whole
    // rows would fetch every skipped row (page 1,000 is 49,950 of them).
    let rows = tx
        .query(
            &format!(
                "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id IN
                   (SELECT id FROM accounts WHERE {where_clause} ORDER BY id LIMIT {limit_at} OFFSET {offset_at})
                 ORDER BY id"
            ),
            &w.args,
        )
        .await?;
    Ok(Paged {
        items: rows.iter().map(decode_account).collect::<Result<_, _>>()?,
        total,
    })
}

/// Inserts an account with the balance its caller computed (the sum of the sub-accounts it is
/// about to insert); a taken `account_number` is `Conflict`.
pub async fn insert_account(tx: &mut dyn Tx, account: &Account) -> Result<(), StoreError> {
    let mut args = vec![
        Param::from(account.id.as_str()),
        Param::from(account.organization_id.as_str()),
    ];
    args.extend(account_fields(account));
    args.extend(params![
        account.currency.code(),
        account.balance.get(),
        micros(account.created_at),
        micros(account.updated_at)
    ]);
    tx.execute(&INSERT_ACCOUNT, &args).await?;
    tx.execute(
        "UPDATE organizations SET account_count = account_count + 1 WHERE id = $1",
        &params![account.organization_id.as_str()],
    )
    .await?;
    Ok(())
}

/// Writes the number, status and holder fields of `account` and stamps `updated_at`.
pub async fn update_account(
    tx: &mut dyn Tx,
    account: &Account,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let mut args = vec![
        Param::from(account.organization_id.as_str()),
        Param::from(account.id.as_str()),
    ];
    args.extend(account_fields(account));
    args.push(micros(now).into());
    let changed = tx
        .execute(
            "UPDATE accounts SET account_number = $3, status = $4, first_name = $5, last_name = $6, date_of_birth = $7,
                email = $8, phone = $9, address_line1 = $10, address_line2 = $11, city = $12, state = $13,
                postal_code = $14, country = $15, updated_at = $16
             WHERE organization_id = $1 AND id = $2",
            &args,
        )
        .await?;
    if changed == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

/// Deletes an account and its sub-accounts.
pub async fn delete_account(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    id: &AccountId,
) -> Result<(), StoreError> {
    tx.execute(
        "DELETE FROM sub_accounts WHERE organization_id = $1 AND account_id = $2",
        &params![org.as_str(), id.as_str()],
    )
    .await?;
    let deleted = tx
        .execute(
            "DELETE FROM accounts WHERE organization_id = $1 AND id = $2",
            &params![org.as_str(), id.as_str()],
        )
        .await?;
    if deleted == 0 {
        return Err(StoreError::NotFound);
    }
    tx.execute(
        "UPDATE organizations SET account_count = account_count - 1 WHERE id = $1",
        &params![org.as_str()],
    )
    .await?;
    Ok(())
}

/// Sets the account's balance to the sum of its sub-accounts' balances.
pub async fn recompute_balance(
    tx: &mut dyn Tx,
    id: &AccountId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE accounts SET updated_at = $2,
            balance = (SELECT CAST(COALESCE(SUM(balance), 0) AS BIGINT) FROM sub_accounts WHERE account_id = $1)
         WHERE id = $1",
        &params![id.as_str(), micros(now)],
    )
    .await
    .map(drop)
}

pub async fn list_sub_accounts(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    account: &AccountId,
    page: PageRequest,
) -> Result<Paged<SubAccount>, StoreError> {
    let rows = tx
        .query(
            &format!(
                "SELECT {SUB_ACCOUNT_COLUMNS} FROM sub_accounts WHERE organization_id = $1 AND account_id = $2
                 ORDER BY id LIMIT $3 OFFSET $4"
            ),
            &params![org.as_str(), account.as_str(), page.per_page, page.offset()],
        )
        .await?;
    let total = tx
        .query_one(
            "SELECT COUNT(*) FROM sub_accounts WHERE organization_id = $1 AND account_id = $2",
            &params![org.as_str(), account.as_str()],
        )
        .await?
        .i64(0)?;
    Ok(Paged {
        items: rows
            .iter()
            .map(decode_sub_account)
            .collect::<Result<_, _>>()?,
        total,
    })
}

pub async fn get_sub_account(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    id: &SubAccountId,
) -> Result<SubAccount, StoreError> {
    let row = tx
        .query_one(&GET_SUB_ACCOUNT, &params![org.as_str(), id.as_str()])
        .await?;
    decode_sub_account(&row)
}

pub async fn find_sub_account(
    tx: &mut dyn Tx,
    account: &AccountId,
    reference: &str,
) -> Result<Option<SubAccount>, StoreError> {
    tx.query_opt(&FIND_SUB_ACCOUNT, &params![account.as_str(), reference])
        .await?
        .as_ref()
        .map(decode_sub_account)
        .transpose()
}

/// Inserts a sub-account; a reference taken within its account is `Conflict`. The caller
/// recomputes the account's balance.
pub async fn insert_sub_account(tx: &mut dyn Tx, sub: &SubAccount) -> Result<(), StoreError> {
    tx.execute(
        &INSERT_SUB_ACCOUNT,
        &params![
            sub.id.as_str(),
            sub.organization_id.as_str(),
            sub.account_id.as_str(),
            &sub.reference,
            sub.client_id.as_ref().map(ClientId::as_str),
            sub.original_balance.get(),
            sub.balance.get(),
            sub.currency.code(),
            date_text(sub.service_date),
            date_text(sub.placement_date),
            &sub.description,
            sub.status.as_str(),
            micros(sub.created_at),
            micros(sub.updated_at)
        ],
    )
    .await
    .map(drop)
}

/// Writes every mutable field of `sub` and stamps `updated_at`. The caller recomputes the
/// account's balance when the balance changed.
pub async fn update_sub_account(
    tx: &mut dyn Tx,
    sub: &SubAccount,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let changed = tx
        .execute(
            "UPDATE sub_accounts SET reference = $3, client_id = $4, original_balance = $5, balance = $6,
                service_date = $7, placement_date = $8, description = $9, status = $10, updated_at = $11
             WHERE organization_id = $1 AND id = $2",
            &params![
                sub.organization_id.as_str(),
                sub.id.as_str(),
                &sub.reference,
                sub.client_id.as_ref().map(ClientId::as_str),
                sub.original_balance.get(),
                sub.balance.get(),
                date_text(sub.service_date),
                date_text(sub.placement_date),
                &sub.description,
                sub.status.as_str(),
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
