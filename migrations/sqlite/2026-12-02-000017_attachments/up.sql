-- Attachments: a message's files are uploads of its company, each attached to one message at most.
-- `message_id` is set in the unit of work that stores the message and cleared when the message is
-- deleted; an upload without a message is collected a day after it was made. SQLite cannot add a
-- composite foreign key to an existing table, so a trigger keeps an upload and its message in one
-- company (aborting with `tenant_violation`, as PostgreSQL's composite key would refuse it).
CREATE UNIQUE INDEX messages_company_id_key ON messages (company_id, id);
ALTER TABLE uploads ADD COLUMN message_id TEXT REFERENCES messages (id) ON DELETE SET NULL;
CREATE INDEX uploads_message_idx ON uploads (message_id) WHERE message_id IS NOT NULL;
CREATE INDEX uploads_unattached_idx ON uploads (created_at) WHERE message_id IS NULL;
CREATE TRIGGER uploads_tenant_update BEFORE UPDATE OF company_id, message_id ON uploads
WHEN (NEW.message_id IS NOT NULL AND (SELECT company_id FROM messages WHERE id = NEW.message_id) IS NOT NEW.company_id)
BEGIN
    SELECT RAISE(ABORT, 'tenant_violation: uploads');
END;
CREATE TRIGGER uploads_tenant_insert BEFORE INSERT ON uploads
WHEN (NEW.message_id IS NOT NULL AND (SELECT company_id FROM messages WHERE id = NEW.message_id) IS NOT NEW.company_id)
BEGIN
    SELECT RAISE(ABORT, 'tenant_violation: uploads');
END;
