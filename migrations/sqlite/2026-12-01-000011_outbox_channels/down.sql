CREATE TABLE outbox_old (
    id               TEXT PRIMARY KEY,
    company_id       TEXT NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    kind             TEXT NOT NULL CHECK (kind IN ('meta.forward')),
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
INSERT INTO outbox_old SELECT id, company_id, kind, idempotency_key, payload, message_id, status, attempts, due_at,
    leased_until, lease_token, last_error, created_at, updated_at FROM outbox
    WHERE kind = 'meta.forward' AND status <> 'skipped';
DROP TABLE outbox;
ALTER TABLE outbox_old RENAME TO outbox;
CREATE INDEX outbox_due_idx ON outbox (due_at) WHERE status = 'pending';
CREATE INDEX outbox_company_idx ON outbox (company_id, id);
