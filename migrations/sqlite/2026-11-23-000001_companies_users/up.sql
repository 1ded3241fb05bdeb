-- Tenants and their people. Ids are UUID v7 stored as text so both backends share one schema.
CREATE TABLE companies (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    settings    TEXT NOT NULL DEFAULT '{}',
    created_at  TIMESTAMP NOT NULL
);

CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    company_id     TEXT NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    email          TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'agent')),
    failed_logins  INTEGER NOT NULL DEFAULT 0,
    locked_until   TIMESTAMP,
    created_at     TIMESTAMP NOT NULL
);
CREATE INDEX users_company_id_idx ON users (company_id, id);
