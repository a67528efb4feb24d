-- Organizations, credentials and the receivables core.
-- Column types are BIGINT, TEXT and BOOLEAN only, identical on SQLite and PostgreSQL:
-- money is BIGINT minor units, instants BIGINT microseconds since the Unix epoch, dates TEXT
-- YYYY-MM-DD, ids TEXT with their prefix.

CREATE TABLE organizations (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    account_count BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

CREATE TABLE credentials (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    client_id TEXT NOT NULL UNIQUE,
    client_secret_hash TEXT NOT NULL,
    api_key_hash TEXT NOT NULL UNIQUE,
    api_key_hint TEXT NOT NULL,
    locked_until BIGINT,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

CREATE TABLE auth_failures (
    credential_id TEXT NOT NULL REFERENCES credentials (id),
    failed_at BIGINT NOT NULL
);
CREATE INDEX auth_failures_by_credential ON auth_failures (credential_id, failed_at);

CREATE TABLE access_tokens (
    token_hash TEXT PRIMARY KEY,
    credential_id TEXT NOT NULL REFERENCES credentials (id),
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX access_tokens_by_expiry ON access_tokens (expires_at);

CREATE TABLE clients (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    client_number TEXT NOT NULL,
    name TEXT NOT NULL,
    email TEXT,
    phone TEXT,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (organization_id, client_number)
);
CREATE INDEX clients_by_organization ON clients (organization_id, id);

CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    account_number TEXT NOT NULL,
    status TEXT NOT NULL,
    first_name TEXT,
    last_name TEXT,
    date_of_birth TEXT,
    email TEXT,
    phone TEXT,
    address_line1 TEXT,
    address_line2 TEXT,
    city TEXT,
    state TEXT,
    postal_code TEXT,
    country TEXT,
    currency TEXT NOT NULL,
    balance BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (organization_id, account_number)
);
CREATE INDEX accounts_by_organization ON accounts (organization_id, id);
CREATE INDEX accounts_by_last_name ON accounts (organization_id, lower(last_name), id);
CREATE INDEX accounts_by_status ON accounts (organization_id, status, id);

CREATE TABLE sub_accounts (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    account_id TEXT NOT NULL REFERENCES accounts (id),
    reference TEXT NOT NULL,
    client_id TEXT REFERENCES clients (id),
    original_balance BIGINT NOT NULL,
    balance BIGINT NOT NULL,
    currency TEXT NOT NULL,
    service_date TEXT,
    placement_date TEXT,
    description TEXT,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (account_id, reference)
);
CREATE INDEX sub_accounts_by_client ON sub_accounts (client_id, account_id);

CREATE TABLE imports (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    format TEXT NOT NULL,
    status TEXT NOT NULL,
    rows_read BIGINT NOT NULL DEFAULT 0,
    rows_rejected BIGINT NOT NULL DEFAULT 0,
    rows_unchanged BIGINT NOT NULL DEFAULT 0,
    accounts_created BIGINT NOT NULL DEFAULT 0,
    accounts_updated BIGINT NOT NULL DEFAULT 0,
    sub_accounts_created BIGINT NOT NULL DEFAULT 0,
    sub_accounts_updated BIGINT NOT NULL DEFAULT 0,
    error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    completed_at BIGINT
);
CREATE INDEX imports_by_organization ON imports (organization_id, id);

CREATE TABLE import_rejections (
    import_id TEXT NOT NULL REFERENCES imports (id),
    row_number BIGINT NOT NULL,
    field TEXT,
    reason TEXT NOT NULL,
    PRIMARY KEY (import_id, row_number)
);
