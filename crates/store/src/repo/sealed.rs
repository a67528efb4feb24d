//! Vault-sealed text columns stored as `key_id:ciphertext`, sealed for their row's `id`. Key
//! rotation walks them like payment methods' numbers, which keep their key in a column apart.

use crate::{StoreError, Tx, params};

/// A table and one of its sealed columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealedColumn {
    pub table: &'static str,
    pub column: &'static str,
}

/// Every `key_id:ciphertext` column in the schema. A new sealed column is a line here.
pub const SEALED_COLUMNS: &[SealedColumn] = &[
    SealedColumn {
        table: "webhook_access_setups",
        column: "sealed_secret",
    },
    SealedColumn {
        table: "webhook_access_setups",
        column: "sealed_private_key",
    },
    SealedColumn {
        table: "webhooks",
        column: "sealed_secret",
    },
    SealedColumn {
        table: "webhooks",
        column: "sealed_previous_secret",
    },
    SealedColumn {
        table: "ingo_participants",
        column: "sealed_secret",
    },
    SealedColumn {
        table: "ingo_sessions",
        column: "sealed_recipient",
    },
    SealedColumn {
        table: "ingo_accounts",
        column: "sealed_number",
    },
];

/// Up to `limit` (row id, stored value) pairs of `at` sealed under any key but `current`.
pub async fn under_other_keys(
    tx: &mut dyn Tx,
    at: SealedColumn,
    current: &str,
    limit: i64,
) -> Result<Vec<(String, String)>, StoreError> {
    let SealedColumn { table, column } = at;
    let prefix = format!("{current}:");
    let rows = tx
        .query(
            &format!(
                "SELECT id, {column} FROM {table}
                 WHERE {column} IS NOT NULL AND substr({column}, 1, length($1)) <> $1
                 ORDER BY id LIMIT $2"
            ),
            &params![&prefix, limit],
        )
        .await?;
    rows.iter()
        .map(|row| Ok((row.string(0)?, row.string(1)?)))
        .collect()
}

/// Replaces a stored value if it still is `old` (a concurrent rotation or delete wins).
pub async fn reseal(
    tx: &mut dyn Tx,
    at: SealedColumn,
    id: &str,
    old: &str,
    new: &str,
) -> Result<bool, StoreError> {
    let SealedColumn { table, column } = at;
    let changed = tx
        .execute(
            &format!("UPDATE {table} SET {column} = $3 WHERE id = $1 AND {column} = $2"),
            &params![id, old, new],
        )
        .await?;
    Ok(changed == 1)
}

/// How many values of `at` each key seals.
pub async fn count_by_key(
    tx: &mut dyn Tx,
    at: SealedColumn,
) -> Result<Vec<(String, i64)>, StoreError> {
    let SealedColumn { table, column } = at;
    let rows = tx
        .query(
            &format!("SELECT {column} FROM {table} WHERE {column} IS NOT NULL"),
            &[],
        )
        .await?;
    let mut counts = std::collections::BTreeMap::<String, i64>::new();
    for row in &rows {
        let stored = row.string(0)?;
        let key = stored.split_once(':').map_or("", |(key, _)| key);
        *counts.entry(key.to_owned()).or_default() += 1;
    }
    Ok(counts.into_iter().collect())
}
