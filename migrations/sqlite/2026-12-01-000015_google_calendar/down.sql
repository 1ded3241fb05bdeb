DELETE FROM outbox WHERE kind = 'calendar.sync';
DELETE FROM integrations WHERE kind = 'google_calendar';
CREATE TABLE integrations_new (
    company_id            TEXT NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    kind                  TEXT NOT NULL CHECK (kind IN ('meta')),
    config                TEXT NOT NULL DEFAULT '{}',
    secrets               TEXT,
    key_id                TEXT,
    page_id               TEXT,
    instagram_account_id  TEXT,
    verify_token_digest   TEXT,
    created_at            TIMESTAMP NOT NULL,
    updated_at            TIMESTAMP NOT NULL,
    PRIMARY KEY (company_id, kind)
);
INSERT INTO integrations_new SELECT company_id, kind, config, secrets, key_id, page_id, instagram_account_id,
    verify_token_digest, created_at, updated_at FROM integrations;
DROP TABLE integrations;
ALTER TABLE integrations_new RENAME TO integrations;
CREATE UNIQUE INDEX integrations_page_key ON integrations (kind, page_id) WHERE page_id IS NOT NULL;
CREATE UNIQUE INDEX integrations_instagram_key ON integrations (kind, instagram_account_id)
    WHERE instagram_account_id IS NOT NULL;
CREATE INDEX integrations_verify_idx ON integrations (kind, verify_token_digest);
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
    leased_until, lease_token, last_error, created_at, updated_at, order_key)
SELECT id, company_id, kind, idempotency_key, payload, message_id, status, attempts, due_at, leased_until,
    lease_token, last_error, created_at, updated_at, order_key FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due_idx ON outbox (due_at) WHERE status = 'pending';
CREATE INDEX outbox_company_idx ON outbox (company_id, id);
CREATE INDEX outbox_order_idx ON outbox (order_key, created_at) WHERE status = 'pending' AND order_key IS NOT NULL;
