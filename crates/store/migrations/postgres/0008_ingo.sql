-- IngoPay hosted sessions (seed 003).
-- A participant signs its requests with username + secret (sealed by the vault for its id,
-- since verifying needs the secret itself). host_uris: one per line, the first the default.
-- The attempt thresholds: per verification feature (recipient, account) and for the session.
CREATE TABLE ingo_participants (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    participant_id BIGINT NOT NULL UNIQUE,
    username TEXT NOT NULL UNIQUE,
    sealed_secret TEXT NOT NULL,
    host_uris TEXT NOT NULL,
    paypal_enabled BOOLEAN NOT NULL,
    recipient_attempts BIGINT NOT NULL,
    account_attempts BIGINT NOT NULL,
    session_attempts BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
-- One point-in-time session. id is the session_identifier (a UUID). The idempotency key is
-- unique per participant while it lives (2 hours); pruning sets it to NULL. fingerprint: the
-- keyed hash of the request's parameters, compared on a repeat. sealed_recipient: the
-- recipient_information, JSON, sealed by the vault. status: open, verified, tokenized,
-- canceled or failed (terminal). locked: a feature's attempt threshold was reached; a new
-- authorized_url (an idempotent repeat) unlocks it.
CREATE TABLE ingo_sessions (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    participant_id BIGINT NOT NULL,
    idempotency_key TEXT,
    idempotency_expires_at BIGINT,
    fingerprint TEXT NOT NULL,
    participant_unique_id1 TEXT NOT NULL,
    participant_unique_id2 TEXT NOT NULL,
    host_uri TEXT NOT NULL,
    locale TEXT NOT NULL,
    sealed_recipient TEXT NOT NULL,
    tracer_token TEXT NOT NULL,
    status TEXT NOT NULL,
    recipient_failures BIGINT NOT NULL,
    account_failures BIGINT NOT NULL,
    session_failures BIGINT NOT NULL,
    locked BOOLEAN NOT NULL,
    customer_account_token TEXT,
    funding_destination TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX ingo_sessions_idempotency ON ingo_sessions (participant_id, idempotency_key);
CREATE INDEX ingo_sessions_key_expiry ON ingo_sessions (idempotency_expires_at);
-- Each authorized_url: (session, ticks) names it, its hash is derived from them; used once.
-- Exchanged, it becomes the browser's session cookie, kept as its keyed hash.
CREATE TABLE ingo_session_links (
    session_id TEXT NOT NULL,
    ticks BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    browser_token_hash TEXT UNIQUE,
    browser_expires_at BIGINT,
    PRIMARY KEY (session_id, ticks)
);
-- Signatures seen within the clock-skew window, refused when seen again (replay).
CREATE TABLE ingo_signatures (
    signature TEXT PRIMARY KEY,
    seen_at BIGINT NOT NULL
);
CREATE INDEX ingo_signatures_seen ON ingo_signatures (seen_at);
-- Accounts captured on the hosted page: id is the customer_account_token. sealed_number is
-- the card or bank account number (or PayPal address), sealed by the vault for the id.
CREATE TABLE ingo_accounts (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    participant_id BIGINT NOT NULL,
    session_id TEXT NOT NULL,
    funding_destination TEXT NOT NULL,
    sealed_number TEXT NOT NULL,
    last4 TEXT NOT NULL,
    brand TEXT,
    routing_number TEXT,
    exp_month BIGINT,
    exp_year BIGINT,
    created_at BIGINT NOT NULL
);
