-- The outbox carries every channel: webhooks, push notifications and e-mail beside Meta forwards. An
-- item may be `skipped` (nothing to send: no SMTP server configured, a contact who is online), and
-- items sharing an `order_key` (a webhook endpoint and a conversation) are delivered one after another.
-- SQLite cannot change a CHECK constraint in place: the table is rebuilt.
CREATE TABLE outbox_new (
    id               TEXT PRIMARY KEY,
    company_id       TEXT NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    kind             TEXT NOT NULL CHECK (kind IN ('meta.forward', 'webhook.delivery', 'push.notification', 'email')),
    idempotency_key  TEXT NOT NULL,
    payload          TEXT NOT NULL,
    message_id       TEXT,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'dead', 'skipped')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    due_at           TIMESTAMP NOT NULL,
    leased_until     TIMESTAMP,
    lease_token      TEXT,
    last_error       TEXT,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL,
    order_key        TEXT,
    CONSTRAINT outbox_idempotency_key UNIQUE (company_id, idempotency_key)
);
INSERT INTO outbox_new (id, company_id, kind, idempotency_key, payload, message_id, status, attempts, due_at,
    leased_until, lease_token, last_error, created_at, updated_at)
SELECT id, company_id, kind, idempotency_key, payload, message_id, status, attempts, due_at, leased_until,
    lease_token, last_error, created_at, updated_at FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due_idx ON outbox (due_at) WHERE status = 'pending';
CREATE INDEX outbox_company_idx ON outbox (company_id, id);
CREATE INDEX outbox_order_idx ON outbox (order_key, created_at) WHERE status = 'pending' AND order_key IS NOT NULL;
