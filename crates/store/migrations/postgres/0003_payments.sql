-- Money movement: the vault, payments and their allocations, refunds, the double-entry
-- ledger, settlements, idempotency keys and the sandbox processor's own records.

-- What open payments hold against a sub-account (released or turned into a payment when the
-- outcome is known), and the cached sum of the sub-account's receivable ledger entries.
ALTER TABLE sub_accounts ADD COLUMN held BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sub_accounts ADD COLUMN ledger_total BIGINT NOT NULL DEFAULT 0;

-- number_ciphertext: base64 of nonce || AES-256-GCM ciphertext of the card or bank account
-- number, with the record id as associated data; key_id names the vault key that sealed it.
CREATE TABLE payment_methods (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    account_id TEXT NOT NULL REFERENCES accounts (id),
    type TEXT NOT NULL,
    brand TEXT,
    last4 TEXT NOT NULL,
    exp_month BIGINT,
    exp_year BIGINT,
    holder_name TEXT NOT NULL,
    billing_zip TEXT,
    routing_number TEXT,
    account_type TEXT,
    number_ciphertext TEXT NOT NULL,
    key_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    deleted_at BIGINT
);
CREATE INDEX payment_methods_by_account ON payment_methods (organization_id, account_id, id);
CREATE INDEX payment_methods_by_key ON payment_methods (key_id, id);

-- amount: what was asked for (authorized when approved); captured and refunded never exceed
-- it and each other (ledger verify checks). idempotency_ref ties the payment to the request
-- that created it, so a retried request resumes the same payment.
CREATE TABLE payments (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    account_id TEXT NOT NULL REFERENCES accounts (id),
    payment_method_id TEXT REFERENCES payment_methods (id),
    method_type TEXT NOT NULL,
    brand TEXT,
    last4 TEXT NOT NULL,
    currency TEXT NOT NULL,
    amount BIGINT NOT NULL,
    amount_captured BIGINT NOT NULL DEFAULT 0,
    amount_refunded BIGINT NOT NULL DEFAULT 0,
    capture BOOLEAN NOT NULL,
    status TEXT NOT NULL,
    description TEXT,
    decline_code TEXT,
    processor_reference TEXT,
    idempotency_ref TEXT,
    account_balance_after BIGINT,
    settlement_id TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (organization_id, idempotency_ref)
);
CREATE INDEX payments_by_organization ON payments (organization_id, id);
CREATE INDEX payments_by_account ON payments (organization_id, account_id, id);
CREATE INDEX payments_by_status ON payments (status, updated_at);

CREATE TABLE payment_allocations (
    payment_id TEXT NOT NULL REFERENCES payments (id),
    position BIGINT NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    sub_account_id TEXT NOT NULL REFERENCES sub_accounts (id),
    amount BIGINT NOT NULL,
    captured BIGINT NOT NULL DEFAULT 0,
    refunded BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (payment_id, position)
);
CREATE INDEX payment_allocations_by_sub_account ON payment_allocations (sub_account_id, payment_id);

-- shares: how the refund was spread, "sub_…:amount" joined by commas, so a refund the
-- processor refuses is taken back exactly.
CREATE TABLE refunds (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    payment_id TEXT NOT NULL REFERENCES payments (id),
    amount BIGINT NOT NULL,
    reason TEXT,
    status TEXT NOT NULL,
    shares TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX refunds_by_payment ON refunds (payment_id, id);
CREATE INDEX refunds_by_status ON refunds (status, updated_at);

-- Immutable: rows are only ever inserted. amount > 0 is a debit, < 0 a credit; each
-- transaction's entries sum to zero per currency.
CREATE TABLE ledger_transactions (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    kind TEXT NOT NULL,
    payment_id TEXT,
    currency TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX ledger_transactions_by_payment ON ledger_transactions (payment_id);

CREATE TABLE ledger_entries (
    transaction_id TEXT NOT NULL REFERENCES ledger_transactions (id),
    position BIGINT NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    account_code TEXT NOT NULL,
    currency TEXT NOT NULL,
    amount BIGINT NOT NULL,
    PRIMARY KEY (transaction_id, position)
);
CREATE INDEX ledger_entries_by_account ON ledger_entries (organization_id, account_code);

CREATE TABLE settlements (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    currency TEXT NOT NULL,
    payment_count BIGINT NOT NULL,
    amount BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX settlements_by_organization ON settlements (organization_id, id);

-- One row per Idempotency-Key, scoped by organization, credential, method and path.
-- fingerprint is a keyed hash of the body (never the body: it may carry a card). While
-- running, locked_until is the lease; done rows keep the first answer, cards masked.
CREATE TABLE idempotency_keys (
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    credential_id TEXT NOT NULL REFERENCES credentials (id),
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    locked_until BIGINT,
    response_status BIGINT,
    response_content_type TEXT,
    response_body TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (organization_id, credential_id, method, path, idempotency_key)
);
CREATE INDEX idempotency_keys_by_expiry ON idempotency_keys (expires_at);

-- The sandbox processor's own books: what it was asked and what it answered, keyed by
-- Quittance's reference (a payment or refund id) and the operation, so a repeated call gets
-- the first answer and never moves money twice. attempts counts the calls.
CREATE TABLE sandbox_operations (
    reference TEXT NOT NULL,
    operation TEXT NOT NULL,
    outcome TEXT NOT NULL,
    amount BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (reference, operation)
);
