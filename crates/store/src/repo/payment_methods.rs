//! The vault's rows: saved cards and bank accounts. The number is stored only sealed (see the
//! server's vault); everything else here is safe to show.

use super::{PageRequest, Paged, decode_enum, instant, micros, opt_parsed, parsed};
use crate::{Row, StoreError, Tx, params};
use chrono::{DateTime, Utc};
use quittance_domain::ids::{AccountId, OrganizationId, PaymentMethodId};
use quittance_domain::instruments::{BankAccountType, CardBrand, MethodType};

/// A number sealed by the vault: which key, and the ciphertext (base64 of nonce ‖ sealed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub key_id: String,
    pub ciphertext: String,
}

impl Sealed {
    /// `key_id:ciphertext`, for columns that hold a sealed value with its key in one text.
    pub fn to_stored(&self) -> String {
        format!("{}:{}", self.key_id, self.ciphertext)
    }

    pub fn from_stored(text: &str) -> Option<Sealed> {
        let (key_id, ciphertext) = text.split_once(':')?;
        Some(Sealed {
            key_id: key_id.to_owned(),
            ciphertext: ciphertext.to_owned(),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPaymentMethod {
    pub id: PaymentMethodId,
    pub organization_id: OrganizationId,
    pub account_id: AccountId,
    pub method_type: MethodType,
    pub brand: Option<CardBrand>,
    pub last4: String,
    pub exp_month: Option<i64>,
    pub exp_year: Option<i64>,
    pub holder_name: String,
    pub billing_zip: Option<String>,
    pub routing_number: Option<String>,
    pub account_type: Option<BankAccountType>,
    pub number: Sealed,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, organization_id, account_id, type, brand, last4, exp_month, exp_year, holder_name, \
    billing_zip, routing_number, account_type, number_ciphertext, key_id, created_at";

fn decode(row: &Row) -> Result<StoredPaymentMethod, StoreError> {
    Ok(StoredPaymentMethod {
        id: parsed(row, 0, PaymentMethodId::parse, "payment method id")?,
        organization_id: parsed(row, 1, OrganizationId::parse, "organization id")?,
        account_id: parsed(row, 2, AccountId::parse, "account id")?,
        method_type: decode_enum(row, 3, MethodType::parse)?,
        brand: opt_parsed(row, 4, CardBrand::parse)?,
        last4: row.string(5)?,
        exp_month: row.opt_i64(6)?,
        exp_year: row.opt_i64(7)?,
        holder_name: row.string(8)?,
        billing_zip: row.opt_string(9)?,
        routing_number: row.opt_string(10)?,
        account_type: opt_parsed(row, 11, BankAccountType::parse)?,
        number: Sealed {
            ciphertext: row.string(12)?,
            key_id: row.string(13)?,
        },
        created_at: instant(row, 14)?,
    })
}

pub async fn insert_payment_method(
    tx: &mut dyn Tx,
    m: &StoredPaymentMethod,
) -> Result<(), StoreError> {
    tx.execute(
        &format!(
            "INSERT INTO payment_methods ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
        ),
        &params![
            m.id.as_str(),
            m.organization_id.as_str(),
            m.account_id.as_str(),
            m.method_type.as_str(),
            m.brand.map(CardBrand::as_str),
            &m.last4,
            m.exp_month,
            m.exp_year,
            &m.holder_name,
            &m.billing_zip,
            &m.routing_number,
            m.account_type.map(BankAccountType::as_str),
            &m.number.ciphertext,
            &m.number.key_id,
            micros(m.created_at)
        ],
    )
    .await
    .map(drop)
}

/// A saved method that has not been deleted.
pub async fn get_payment_method(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    id: &PaymentMethodId,
) -> Result<StoredPaymentMethod, StoreError> {
    let row = tx
        .query_one(
            &format!(
                "SELECT {COLUMNS} FROM payment_methods
                 WHERE organization_id = $1 AND id = $2 AND deleted_at IS NULL"
            ),
            &params![org.as_str(), id.as_str()],
        )
        .await?;
    decode(&row)
}

pub async fn list_payment_methods(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    account: &AccountId,
    page: PageRequest,
) -> Result<Paged<StoredPaymentMethod>, StoreError> {
    let args = params![org.as_str(), account.as_str(), page.per_page, page.offset()];
    let rows = tx
        .query(
            &format!(
                "SELECT {COLUMNS} FROM payment_methods
                 WHERE organization_id = $1 AND account_id = $2 AND deleted_at IS NULL
                 ORDER BY id LIMIT $3 OFFSET $4"
            ),
            &args,
        )
        .await?;
    let total = tx
        .query_one(
            "SELECT COUNT(*) FROM payment_methods
             WHERE organization_id = $1 AND account_id = $2 AND deleted_at IS NULL",
            &args[..2],
        )
        .await?
        .i64(0)?;
    Ok(Paged {
        items: rows.iter().map(decode).collect::<Result<_, _>>()?,
        total,
    })
}

/// Deletes a method: its sealed number is overwritten, and payments made with it keep their
/// brand and last four.
pub async fn delete_payment_method(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    id: &PaymentMethodId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let changed = tx
        .execute(
            "UPDATE payment_methods SET deleted_at = $3, number_ciphertext = '', key_id = ''
             WHERE organization_id = $1 AND id = $2 AND deleted_at IS NULL",
            &params![org.as_str(), id.as_str(), micros(now)],
        )
        .await?;
    if changed == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

/// Up to `limit` sealed numbers under any key but `current`, for key rotation.
pub async fn sealed_under_other_keys(
    tx: &mut dyn Tx,
    current: &str,
    limit: i64,
) -> Result<Vec<(PaymentMethodId, Sealed)>, StoreError> {
    let rows = tx
        .query(
            "SELECT id, number_ciphertext, key_id FROM payment_methods
             WHERE key_id <> $1 AND key_id <> '' ORDER BY id LIMIT $2",
            &params![current, limit],
        )
        .await?;
    rows.iter()
        .map(|row| {
            Ok((
                parsed(row, 0, PaymentMethodId::parse, "payment method id")?,
                Sealed {
                    ciphertext: row.string(1)?,
                    key_id: row.string(2)?,
                },
            ))
        })
        .collect()
}

/// Replaces a sealed number if it is still sealed as `old` (a concurrent delete wins).
pub async fn reseal(
    tx: &mut dyn Tx,
    id: &PaymentMethodId,
    old: &Sealed,
    new: &Sealed,
) -> Result<bool, StoreError> {
    let changed = tx
        .execute(
            "UPDATE payment_methods SET number_ciphertext = $3, key_id = $4
             WHERE id = $1 AND key_id = $2",
            &params![id.as_str(), &old.key_id, &new.ciphertext, &new.key_id],
        )
        .await?;
    Ok(changed == 1)
}

/// How many live numbers each key seals, for `quittance keys status`.
pub async fn count_by_key(tx: &mut dyn Tx) -> Result<Vec<(String, i64)>, StoreError> {
    let rows = tx
        .query(
            "SELECT key_id, COUNT(*) FROM payment_methods WHERE key_id <> '' GROUP BY key_id ORDER BY key_id",
            &[],
        )
        .await?;
    rows.iter().map(|r| Ok((r.string(0)?, r.i64(1)?))).collect()
}
