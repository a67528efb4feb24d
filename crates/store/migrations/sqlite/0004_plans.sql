-- Payment plans, their installments and history, organization settings for plans, and the
-- sandbox's per-organization test clock.

-- time_zone: an IANA name; plan due dates are days in it. plan_retries declined installments
-- are retried plan_retry_days apart; plan_missed_limit missed installments default a plan.
-- test_clock_offset (microseconds) moves the organization's time forward in the sandbox.
ALTER TABLE organizations ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';
ALTER TABLE organizations ADD COLUMN plan_retries BIGINT NOT NULL DEFAULT 3;
ALTER TABLE organizations ADD COLUMN plan_retry_days BIGINT NOT NULL DEFAULT 3;
ALTER TABLE organizations ADD COLUMN plan_missed_limit BIGINT NOT NULL DEFAULT 2;
ALTER TABLE organizations ADD COLUMN test_clock_offset BIGINT NOT NULL DEFAULT 0;

-- The installment a payment charged, when the scheduler made it.
ALTER TABLE payments ADD COLUMN installment_id TEXT;

CREATE TABLE payment_plans (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    account_id TEXT NOT NULL REFERENCES accounts (id),
    payment_method_id TEXT NOT NULL REFERENCES payment_methods (id),
    status TEXT NOT NULL,
    currency TEXT NOT NULL,
    total_amount BIGINT NOT NULL,
    installment_amount BIGINT,
    installment_count BIGINT,
    frequency TEXT NOT NULL,
    start_date TEXT NOT NULL,
    down_payment BIGINT,
    missed BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
) WITHOUT ROWID;
CREATE INDEX payment_plans_by_organization ON payment_plans (organization_id, id);
CREATE INDEX payment_plans_by_account ON payment_plans (organization_id, account_id, id);
CREATE INDEX payment_plans_by_status ON payment_plans (organization_id, status, id);

CREATE TABLE payment_plan_sub_accounts (
    plan_id TEXT NOT NULL REFERENCES payment_plans (id),
    position BIGINT NOT NULL,
    sub_account_id TEXT NOT NULL REFERENCES sub_accounts (id),
    PRIMARY KEY (plan_id, position)
) WITHOUT ROWID;

-- A sub-account is in at most one active plan: the primary key refuses a second.
CREATE TABLE active_plan_sub_accounts (
    sub_account_id TEXT PRIMARY KEY REFERENCES sub_accounts (id),
    plan_id TEXT NOT NULL REFERENCES payment_plans (id)
) WITHOUT ROWID;

-- due_at: the start of due_date in the organization's time zone, in microseconds. kind is
-- down_payment or installment. attempts counts declined tries: with the id it names the
-- payment a try makes, so a retried claim after a crash finds the same payment.
-- lease_until: a scheduler holds the installment until then while it charges it.
CREATE TABLE installments (
    id TEXT PRIMARY KEY,
    plan_id TEXT NOT NULL REFERENCES payment_plans (id),
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,
    due_date TEXT NOT NULL,
    due_at BIGINT NOT NULL,
    amount BIGINT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    payment_id TEXT,
    lease_until BIGINT,
    updated_at BIGINT NOT NULL
) WITHOUT ROWID;
CREATE INDEX installments_by_plan ON installments (plan_id, seq);
CREATE INDEX installments_due ON installments (status, due_at);

-- Every change to a plan, as a JSON object of what changed.
CREATE TABLE payment_plan_changes (
    plan_id TEXT NOT NULL REFERENCES payment_plans (id),
    seq BIGINT NOT NULL,
    changed_at BIGINT NOT NULL,
    change TEXT NOT NULL,
    PRIMARY KEY (plan_id, seq)
) WITHOUT ROWID;
