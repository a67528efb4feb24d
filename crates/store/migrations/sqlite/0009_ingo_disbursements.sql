-- IngoPay funding: money pushed to an account captured on the hosted page
-- (customer_account_token). Written pending before the processor is asked; the answer moves it
-- to succeeded (with its ledger transaction, paid_transaction_id) or failed; a payout that comes
-- back later is returned (return_transaction_id). checked_at: when its return window was
-- checked (ACH payouts can come back after they settle). The idempotency key is kept as long
-- as the disbursement: a key never moves money twice.
CREATE TABLE ingo_disbursements (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    participant_id BIGINT NOT NULL,
    customer_account_token TEXT NOT NULL REFERENCES ingo_accounts (id),
    funding_destination TEXT NOT NULL,
    amount BIGINT NOT NULL,
    currency TEXT NOT NULL,
    description TEXT,
    idempotency_key TEXT,
    fingerprint TEXT NOT NULL,
    status TEXT NOT NULL,
    failure_code TEXT,
    processor_reference TEXT,
    paid_transaction_id TEXT REFERENCES ledger_transactions (id),
    return_transaction_id TEXT REFERENCES ledger_transactions (id),
    checked_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX ingo_disbursements_idempotency ON ingo_disbursements (participant_id, idempotency_key);
CREATE INDEX ingo_disbursements_open ON ingo_disbursements (status, created_at);
