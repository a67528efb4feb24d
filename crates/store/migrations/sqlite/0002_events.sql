-- The event log: every state change writes its event in the same transaction (outbox).
-- data is the event's JSON object as text.

CREATE TABLE events (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    type TEXT NOT NULL,
    data TEXT NOT NULL,
    created_at BIGINT NOT NULL
) WITHOUT ROWID;
CREATE INDEX events_by_organization ON events (organization_id, id);
CREATE INDEX events_by_type ON events (organization_id, type, id);
