-- Statement analyses (the ISO Amp face): a merchant's processing statements, uploaded as
-- PDFs and read by a worker into one result and a proposal.
-- request: the create body as given (userId, name, merchantName, notes), JSON.
-- status: created (files may be added), queued (started; a worker claims it under a lease),
-- completed or rejected. attempts counts claims, so a file that stops every worker that reads
-- it is rejected after a few tries rather than claimed forever.
-- result: JSON, the statements read and their summary; reason: why it was rejected.
CREATE TABLE statement_analyses (
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    id TEXT NOT NULL,
    request TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_until BIGINT,
    result TEXT,
    proposal_id TEXT,
    reason TEXT,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT,
    PRIMARY KEY (organization_id, id)
);
CREATE INDEX statement_analyses_queued ON statement_analyses (status, lease_until);
-- The uploaded files, in upload order, whole.
CREATE TABLE statement_files (
    organization_id TEXT NOT NULL,
    analysis_id TEXT NOT NULL,
    position BIGINT NOT NULL,
    filename TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    content BLOB NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (organization_id, analysis_id, position),
    FOREIGN KEY (organization_id, analysis_id) REFERENCES statement_analyses (organization_id, id)
);
