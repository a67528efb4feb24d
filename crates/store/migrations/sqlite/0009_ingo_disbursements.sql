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
CREATE UNIQUE INDEX ingo_disbursements_idempotency ON ingo_disbursements (participant_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX ingo_disbursements_open ON ingo_disbursements (status, created_at);

-- A session without an idempotency key (or whose key was pruned) needs no entry in the key
-- indexes: they become partial, one index write fewer per keyless session each.
DROP INDEX ingo_sessions_idempotency;
CREATE UNIQUE INDEX ingo_sessions_idempotency ON ingo_sessions (participant_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
DROP INDEX ingo_sessions_key_expiry;
CREATE INDEX ingo_sessions_key_expiry ON ingo_sessions (idempotency_expires_at)
    WHERE idempotency_expires_at IS NOT NULL;

-- The signatures seen and the authorized URLs are keyed by their primary keys: kept in that
-- key's own B-tree (WITHOUT ROWID), each insert writes one tree fewer. A URL's browser token
-- is unique only once it is set.
CREATE TABLE ingo_signatures_keyed (
    signature TEXT PRIMARY KEY,
    seen_at BIGINT NOT NULL
) WITHOUT ROWID;
INSERT INTO ingo_signatures_keyed (signature, seen_at) SELECT signature, seen_at FROM ingo_signatures;
DROP TABLE ingo_signatures;
ALTER TABLE ingo_signatures_keyed RENAME TO ingo_signatures;
CREATE INDEX ingo_signatures_seen ON ingo_signatures (seen_at);
CREATE TABLE ingo_session_links_keyed (
    session_id TEXT NOT NULL,
    ticks BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    browser_token_hash TEXT,
    browser_expires_at BIGINT,
    PRIMARY KEY (session_id, ticks)
) WITHOUT ROWID;
INSERT INTO ingo_session_links_keyed
    (session_id, ticks, expires_at, used_at, browser_token_hash, browser_expires_at)
    SELECT session_id, ticks, expires_at, used_at, browser_token_hash, browser_expires_at
    FROM ingo_session_links;
DROP TABLE ingo_session_links;
ALTER TABLE ingo_session_links_keyed RENAME TO ingo_session_links;
CREATE UNIQUE INDEX ingo_session_links_browser ON ingo_session_links (browser_token_hash)
    WHERE browser_token_hash IS NOT NULL;

-- Idempotency keys are kept as keyed hashes from this version on. Keys stored as sent before
-- it are still honoured until the last of them expires; that instant is kept here (NULL when
-- there were none).
CREATE TABLE idempotency_legacy_horizon (
    expires_before BIGINT
);
INSERT INTO idempotency_legacy_horizon (expires_before) SELECT MAX(expires_at) FROM idempotency_keys;
