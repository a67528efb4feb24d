-- ISO Amp webhook ids are numbered per organization: one sequence shared by every organization
-- told a tenant how many webhooks the others had. Numbers already given stay as they are (they
-- were unique overall, so they are unique per organization); each organization's counter
-- starts above its highest.
--
-- SQLite cannot drop a column's UNIQUE, so the table is rebuilt. It is emptied before it is
-- dropped and filled after it is made again, so that the deferred foreign keys of its
-- subscriptions and deliveries are whole again at commit.
PRAGMA defer_foreign_keys = ON;
CREATE TEMP TABLE webhooks_rebuilt AS SELECT * FROM webhooks;
DELETE FROM webhooks;
DROP TABLE webhooks;
CREATE TABLE webhooks (
    id TEXT PRIMARY KEY,
    number BIGINT,
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
) WITHOUT ROWID;
INSERT INTO webhooks (id, number, organization_id, api, url, method, format, event_types,
    access_setup_id, enabled, disabled_reason, retry_schedule, retry_interval_seconds,
    max_attempts, sealed_secret, sealed_previous_secret, previous_secret_expires_at,
    failing_since, expires_at, created_at, updated_at)
SELECT id, number, organization_id, api, url, method, format, event_types,
    access_setup_id, enabled, disabled_reason, retry_schedule, retry_interval_seconds,
    max_attempts, sealed_secret, sealed_previous_secret, previous_secret_expires_at,
    failing_since, expires_at, created_at, updated_at
FROM webhooks_rebuilt;
DROP TABLE webhooks_rebuilt;
CREATE INDEX webhooks_by_organization ON webhooks (organization_id, id);
CREATE UNIQUE INDEX webhooks_number_per_organization ON webhooks (organization_id, number);

INSERT INTO counters (name, value)
SELECT 'iso_amp_webhook:' || organization_id, MAX(number) FROM webhooks
WHERE number IS NOT NULL GROUP BY organization_id;
DELETE FROM counters WHERE name = 'iso_amp_webhook';
