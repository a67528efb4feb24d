//! The double-entry ledger. Entries are only ever inserted. A receivable entry moves its
//! sub-account's balance (and cached `ledger_total`) and its account's balance in the same
//! transaction, so every balance shown is kept with the entries that explain it.

use super::micros;
use crate::{StoreError, Tx, params};
use chrono::{DateTime, Utc};
use quittance_domain::Currency;
use quittance_domain::ids::{LedgerTransactionId, OrganizationId, PaymentId};
use quittance_domain::payments::{LedgerAccount, Posting, balanced};

/// Writes one balanced transaction and moves the balances its receivable entries touch.
pub async fn post(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    kind: &str,
    payment: Option<&PaymentId>,
    currency: Currency,
    postings: &[Posting],
    now: DateTime<Utc>,
) -> Result<LedgerTransactionId, StoreError> {
    if !balanced(postings) {
        return Err(StoreError::Backend(format!(
            "refusing an unbalanced ledger transaction ({kind})"
        )));
    }
    let id = LedgerTransactionId::generate();
    tx.execute(
        "INSERT INTO ledger_transactions (id, organization_id, kind, payment_id, currency, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
        &params![
            id.as_str(),
            org.as_str(),
            kind,
            payment.map(PaymentId::as_str),
            currency.code(),
            micros(now)
        ],
    )
    .await?;
    for (position, p) in postings.iter().enumerate() {
        tx.execute(
            "INSERT INTO ledger_entries (transaction_id, position, organization_id, account_code, currency, amount)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &params![
                id.as_str(),
                position as i64,
                org.as_str(),
                p.account.code(),
                currency.code(),
                p.amount.get()
            ],
        )
        .await?;
        if let LedgerAccount::Receivable(sub) = &p.account {
            let changed = tx
                .execute(
                    "UPDATE sub_accounts SET balance = balance + $3, ledger_total = ledger_total + $3, updated_at = $4
                     WHERE organization_id = $1 AND id = $2",
                    &params![org.as_str(), sub.as_str(), p.amount.get(), micros(now)],
                )
                .await?;
            if changed == 0 {
                return Err(StoreError::NotFound);
            }
            tx.execute(
                "UPDATE accounts SET balance = balance + $2, updated_at = $3
                 WHERE id = (SELECT account_id FROM sub_accounts WHERE id = $1)",
                &params![sub.as_str(), p.amount.get(), micros(now)],
            )
            .await?;
        }
    }
    Ok(id)
}

/// One broken rule found by [`verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Break {
    pub rule: &'static str,
    pub detail: String,
}

/// What [`verify`] looked at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verification {
    pub transactions: i64,
    pub entries: i64,
    pub sub_accounts: i64,
    pub payments: i64,
    pub disbursements: i64,
    pub breaks: Vec<Break>,
}

/// Every rule that money movement keeps, checked across all organizations:
/// each transaction sums to zero per currency; each sub-account's cached ledger total equals
/// the sum of its receivable entries; no sub-account below zero or holding more than it owes;
/// captured ≤ authorized and refunded ≤ captured, for payments and for each allocation; each
/// disbursement's entries match its status, and every disbursement entry belongs to one.
pub async fn verify(tx: &mut dyn Tx) -> Result<Verification, StoreError> {
    let mut v = Verification {
        transactions: count(tx, "SELECT COUNT(*) FROM ledger_transactions").await?,
        entries: count(tx, "SELECT COUNT(*) FROM ledger_entries").await?,
        sub_accounts: count(tx, "SELECT COUNT(*) FROM sub_accounts").await?,
        payments: count(tx, "SELECT COUNT(*) FROM payments").await?,
        disbursements: count(tx, "SELECT COUNT(*) FROM ingo_disbursements").await?,
        breaks: Vec::new(),
    };
    let checks: [(&'static str, &str); 9] = [
        (
            "every transaction sums to zero per currency",
            "SELECT transaction_id || ' ' || currency || ' sums to ' || CAST(SUM(amount) AS TEXT)
             FROM ledger_entries GROUP BY transaction_id, currency HAVING SUM(amount) <> 0",
        ),
        (
            "every cached balance equals the sum of its entries",
            "SELECT s.id || ' caches ' || CAST(s.ledger_total AS TEXT) || ' but its entries sum to '
                    || CAST(COALESCE(e.total, 0) AS TEXT)
             FROM sub_accounts s
             LEFT JOIN (SELECT account_code, SUM(amount) AS total FROM ledger_entries
                        WHERE account_code LIKE 'receivable:%' GROUP BY account_code) e
               ON e.account_code = 'receivable:' || s.id
             WHERE s.ledger_total <> COALESCE(e.total, 0)",
        ),
        (
            "every receivable entry belongs to a sub-account",
            "SELECT DISTINCT e.account_code FROM ledger_entries e
             WHERE e.account_code LIKE 'receivable:%'
               AND NOT EXISTS (SELECT 1 FROM sub_accounts s WHERE 'receivable:' || s.id = e.account_code)",
        ),
        (
            "no sub-account below zero",
            "SELECT id || ' has balance ' || CAST(balance AS TEXT) || ' and holds ' || CAST(held AS TEXT)
             FROM sub_accounts WHERE balance < 0 OR held < 0",
        ),
        (
            "each sub-account holds exactly what its open payments hold",
            "SELECT s.id || ' holds ' || CAST(s.held AS TEXT) || ' but its open payments hold '
                    || CAST(COALESCE(h.total, 0) AS TEXT)
             FROM sub_accounts s
             LEFT JOIN (SELECT a.sub_account_id, SUM(a.amount) AS total
                        FROM payment_allocations a JOIN payments p ON p.id = a.payment_id
                        WHERE p.status IN ('pending', 'authorized', 'unknown')
                        GROUP BY a.sub_account_id) h
               ON h.sub_account_id = s.id
             WHERE s.held <> COALESCE(h.total, 0)",
        ),
        (
            "captured <= authorized and refunded <= captured",
            "SELECT id || ': amount ' || CAST(amount AS TEXT) || ', captured ' || CAST(amount_captured AS TEXT)
                    || ', refunded ' || CAST(amount_refunded AS TEXT)
             FROM payments
             WHERE amount_captured > amount OR amount_refunded > amount_captured OR amount_refunded < 0",
        ),
        (
            "each allocation: captured <= allocated and refunded <= captured, summing to its payment",
            "SELECT p.id FROM payments p JOIN payment_allocations a ON a.payment_id = p.id
             GROUP BY p.id, p.amount, p.amount_captured, p.amount_refunded
             HAVING SUM(a.amount) <> p.amount OR SUM(a.captured) <> p.amount_captured
                 OR SUM(a.refunded) <> p.amount_refunded
                 OR MAX(CASE WHEN a.captured > a.amount OR a.refunded > a.captured THEN 1 ELSE 0 END) = 1",
        ),
        (
            "each disbursement's entries match its status (paid out: its amount; failed or returned: zero)",
            "SELECT d.id || ' is ' || d.status || ' but its entries sum to ' || CAST(COALESCE(e.total, 0) AS TEXT)
             FROM ingo_disbursements d
             LEFT JOIN (SELECT x.id, SUM(le.amount) AS total FROM ingo_disbursements x
                        JOIN ledger_entries le
                          ON le.transaction_id IN (x.paid_transaction_id, x.return_transaction_id)
                        WHERE le.account_code = 'disbursements' GROUP BY x.id) e
               ON e.id = d.id
             WHERE COALESCE(e.total, 0) <> CASE WHEN d.status = 'succeeded' THEN d.amount ELSE 0 END
                OR (d.status IN ('succeeded', 'returned')) <> (d.paid_transaction_id IS NOT NULL)
                OR (d.status = 'returned') <> (d.return_transaction_id IS NOT NULL)",
        ),
        (
            "every disbursement entry belongs to a disbursement",
            "SELECT DISTINCT e.transaction_id FROM ledger_entries e
             WHERE e.account_code = 'disbursements'
               AND NOT EXISTS (SELECT 1 FROM ingo_disbursements d
                               WHERE d.paid_transaction_id = e.transaction_id
                                  OR d.return_transaction_id = e.transaction_id)",
        ),
    ];
    for (rule, sql) in checks {
        for row in tx.query(sql, &[]).await? {
            v.breaks.push(Break {
                rule,
                detail: row.string(0)?,
            });
        }
    }
    Ok(v)
}

async fn count(tx: &mut dyn Tx, sql: &str) -> Result<i64, StoreError> {
    tx.query_one(sql, &[]).await?.i64(0)
}
