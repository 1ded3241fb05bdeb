-- The outbox: one row per call that must leave the system, written in the transaction of the change
-- that causes it. Workers lease due rows (`leased_until`, `lease_token`: a worker that dies mid-call
-- leaves its row claimable again once the lease expires), retry with backoff (`due_at`) and bury what
-- cannot succeed (`dead`, with `last_error`).
CREATE TABLE outbox (
    id               TEXT PRIMARY KEY,
    company_id       TEXT NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    kind             TEXT NOT NULL CHECK (kind IN ('meta.forward')),
    -- Unique per effect within the company: a second enqueue of the same effect stores nothing, and
    -- the receiving service gets it as `Idempotency-Key`.
    idempotency_key  TEXT NOT NULL,
    payload          TEXT NOT NULL,
    message_id       TEXT,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    due_at           TIMESTAMP NOT NULL,
    leased_until     TIMESTAMP,
    lease_token      TEXT,
    last_error       TEXT,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL,
    CONSTRAINT outbox_idempotency_key UNIQUE (company_id, idempotency_key)
);
-- Workers look for due pending rows; only pending rows are in this index.
CREATE INDEX outbox_due_idx ON outbox (due_at) WHERE status = 'pending';
-- The admin listing, per company, newest first.
CREATE INDEX outbox_company_idx ON outbox (company_id, id);
