-- Contacts, their devices, conversations with a gapless message sequence, messages, and SDK events.
CREATE TABLE contacts (
    id            TEXT PRIMARY KEY,
    company_id    TEXT NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    name          TEXT,
    email         TEXT,
    phone         TEXT,
    facebook_id   TEXT,
    instagram_id  TEXT,
    external_id   TEXT,
    metadata      TEXT NOT NULL DEFAULT '{}',
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL
);
CREATE INDEX contacts_company_idx ON contacts (company_id, id);
CREATE INDEX contacts_email_idx ON contacts (company_id, email);
CREATE UNIQUE INDEX contacts_external_id_key ON contacts (company_id, external_id) WHERE external_id IS NOT NULL;

CREATE TABLE devices (
    id          TEXT PRIMARY KEY,
    company_id  TEXT NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    app_id      TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    device_id   TEXT NOT NULL,
    contact_id  TEXT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    platform    TEXT NOT NULL CHECK (platform IN ('ios', 'android', 'web', 'desktop')),
    push_token  TEXT,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX devices_app_device_key ON devices (app_id, device_id);
CREATE INDEX devices_contact_idx ON devices (contact_id);

CREATE TABLE conversations (
    id                     TEXT PRIMARY KEY,
    company_id             TEXT NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    contact_id             TEXT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    app_id                 TEXT REFERENCES apps (id) ON DELETE SET NULL,
    platform               TEXT NOT NULL,
    status                 TEXT NOT NULL CHECK (status IN ('open', 'pending', 'resolved')),
    assignee_id            TEXT REFERENCES users (id) ON DELETE SET NULL,
    last_sequence          BIGINT NOT NULL DEFAULT 0,
    last_message_at        TIMESTAMP,
    agent_read_sequence    BIGINT NOT NULL DEFAULT 0,
    contact_read_sequence  BIGINT NOT NULL DEFAULT 0,
    created_at             TIMESTAMP NOT NULL,
    updated_at             TIMESTAMP NOT NULL
);
CREATE INDEX conversations_activity_idx ON conversations (company_id, updated_at, id);
CREATE INDEX conversations_contact_idx ON conversations (contact_id);
-- At most one unresolved conversation per contact and app (or platform, for social conversations).
CREATE UNIQUE INDEX conversations_one_open_key ON conversations (contact_id, COALESCE(app_id, platform))
    WHERE status <> 'resolved';

CREATE TABLE messages (
    id               TEXT PRIMARY KEY,
    company_id       TEXT NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    conversation_id  TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    sequence         BIGINT NOT NULL,
    local_id         TEXT,
    sender           TEXT NOT NULL CHECK (sender IN ('contact', 'agent', 'bot', 'system')),
    author_id        TEXT,
    direction        TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    platform         TEXT NOT NULL,
    body             TEXT NOT NULL,
    attachments      TEXT NOT NULL DEFAULT '[]',
    status           TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'delivered', 'read', 'failed')),
    created_at       TIMESTAMP NOT NULL,
    edited_at        TIMESTAMP,
    deleted_at       TIMESTAMP,
    CONSTRAINT messages_sequence_key UNIQUE (conversation_id, sequence),
    CONSTRAINT messages_local_id_key UNIQUE (conversation_id, local_id)
);
CREATE INDEX messages_company_idx ON messages (company_id, id);

CREATE TABLE events (
    id           TEXT PRIMARY KEY,
    company_id   TEXT NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    app_id       TEXT,
    device_id    TEXT,
    contact_id   TEXT,
    name         TEXT NOT NULL,
    properties   TEXT NOT NULL DEFAULT '{}',
    occurred_at  TIMESTAMP NOT NULL,
    received_at  TIMESTAMP NOT NULL
);
CREATE INDEX events_company_idx ON events (company_id, id);

-- Full-text search: an FTS5 index over message bodies, kept in step by triggers.
CREATE VIRTUAL TABLE messages_fts USING fts5(body, content = 'messages', content_rowid = 'rowid');
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, body) VALUES (new.rowid, new.body);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.rowid, old.body);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.rowid, old.body);
    INSERT INTO messages_fts (rowid, body) VALUES (new.rowid, new.body);
END;
