-- Merchant pricing (the ISO Amp face): users, prospect stages, prospects, merchant types,
-- programs, proposals, proposal handoff links and pricing settings. Each is a small JSON
-- document read and written whole; kind names the resource. Ids are UUIDs (v7 for new ones,
-- so id order is creation order within a microsecond). key: a value unique per organization
-- and kind (a user's userName), else NULL.
CREATE TABLE pricing_documents (
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    unique_key TEXT,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (organization_id, kind, id)
) WITHOUT ROWID;
CREATE INDEX pricing_documents_in_order ON pricing_documents (organization_id, kind, created_at, id);
CREATE UNIQUE INDEX pricing_documents_unique_key ON pricing_documents (organization_id, kind, unique_key);
