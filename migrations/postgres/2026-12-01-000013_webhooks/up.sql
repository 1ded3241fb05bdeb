-- A company's webhook endpoints: where its events are posted, with the events it wants (a JSON array
-- of names) and its signing secret sealed (the previous one too, while a rotation overlaps). An endpoint
-- failing without a success since `failing_since` for a day is disabled.
CREATE TABLE webhook_endpoints (
    id               TEXT PRIMARY KEY,
    company_id       TEXT NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    url              TEXT NOT NULL,
    events           TEXT NOT NULL,
    secret           TEXT NOT NULL,
    previous_secret  TEXT,
    previous_until   TIMESTAMP,
    failing_since    TIMESTAMP,
    disabled_at      TIMESTAMP,
    disabled_reason  TEXT,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL
);
CREATE INDEX webhook_endpoints_company_idx ON webhook_endpoints (company_id, id);

-- Every attempt to deliver an event to an endpoint, for its owners to read.
CREATE TABLE webhook_attempts (
    id           TEXT PRIMARY KEY,
    company_id   TEXT NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    endpoint_id  TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    outbox_id    TEXT NOT NULL,
    event        TEXT NOT NULL,
    delivery_id  TEXT NOT NULL,
    status_code  INTEGER,
    duration_ms  BIGINT NOT NULL,
    error        TEXT,
    attempted_at TIMESTAMP NOT NULL
);
CREATE INDEX webhook_attempts_endpoint_idx ON webhook_attempts (endpoint_id, attempted_at);
