-- Webhooks: how to authenticate to receivers, the endpoints and what they subscribe to, and
-- the delivery outbox with its log of attempts.

-- Secrets (client secret or API key, a mutual TLS private key) are sealed by the vault and
-- stored as `key_id:ciphertext`; certificate_pem is public.
CREATE TABLE webhook_access_setups (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    type TEXT NOT NULL,
    key_name TEXT NOT NULL,
    api_name TEXT NOT NULL,
    client_id TEXT,
    transfer TEXT,
    token_url TEXT,
    scope TEXT,
    certificate_pem TEXT,
    sealed_secret TEXT,
    sealed_private_key TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX webhook_access_setups_by_organization
    ON webhook_access_setups (organization_id, id);

-- number: the ISO Amp face's integer id. event_types: the list as the caller wrote it
-- (space-separated); webhook_subscriptions holds the same types resolved, for the outbox.
-- The signing secret is sealed like the access setups' secrets; during a rotation the previous
-- one stays valid until previous_secret_expires_at. failing_since: the first failure since the
-- last success.
-- expires_at: a listener endpoint is removed once this passes without renewal.
CREATE TABLE webhooks (
    id TEXT PRIMARY KEY,
    number BIGINT UNIQUE,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    api TEXT NOT NULL,
    url TEXT NOT NULL,
    method TEXT NOT NULL,
    format TEXT NOT NULL,
    event_types TEXT NOT NULL,
    access_setup_id TEXT REFERENCES webhook_access_setups (id),
    enabled BOOLEAN NOT NULL,
    disabled_reason TEXT,
    retry_schedule TEXT NOT NULL,
    retry_interval_seconds BIGINT NOT NULL,
    max_attempts BIGINT NOT NULL,
    sealed_secret TEXT NOT NULL,
    sealed_previous_secret TEXT,
    previous_secret_expires_at BIGINT,
    failing_since BIGINT,
    expires_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX webhooks_by_organization ON webhooks (organization_id, id);

CREATE TABLE webhook_subscriptions (
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    event_type TEXT NOT NULL,
    webhook_id TEXT NOT NULL REFERENCES webhooks (id),
    PRIMARY KEY (organization_id, event_type, webhook_id)
);
CREATE INDEX webhook_subscriptions_by_webhook ON webhook_subscriptions (webhook_id);

-- ISO Amp webhook numbers come from here, so concurrent creates never share one.
CREATE TABLE counters (
    name TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('iso_amp_webhook', 1000);

-- One row per event and endpoint. queue is '' for the server's workers, or the endpoint id of
-- a `quittance webhooks listen` that serves it alone. next_attempt_at is set while the
-- delivery is open (pending, pending_retry) and NULL once delivered or failed; a worker holds
-- it until lease_until
-- (lease_owner names the claim). attempts and timeouts count since the last manual retry.
CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    webhook_id TEXT NOT NULL REFERENCES webhooks (id),
    event_id TEXT NOT NULL REFERENCES events (id),
    queue TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    timeouts BIGINT NOT NULL,
    next_attempt_at BIGINT,
    lease_until BIGINT,
    lease_owner TEXT,
    last_attempt_at BIGINT,
    last_response_status BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (queue, next_attempt_at)
    WHERE next_attempt_at IS NOT NULL;
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, id);
CREATE INDEX webhook_deliveries_by_event ON webhook_deliveries (event_id, id);

-- The delivery log. request: method, URL and headers (credentials masked) as JSON;
-- response_body: its first 1 KiB.
CREATE TABLE webhook_attempts (
    id TEXT PRIMARY KEY,
    delivery_id TEXT NOT NULL REFERENCES webhook_deliveries (id),
    attempted_at BIGINT NOT NULL,
    request TEXT NOT NULL,
    response_status BIGINT,
    response_body TEXT,
    latency_ms BIGINT NOT NULL,
    error TEXT
);
CREATE INDEX webhook_attempts_by_delivery ON webhook_attempts (delivery_id, id);
