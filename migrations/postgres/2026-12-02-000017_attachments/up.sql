-- Attachments: a message's files are uploads of its company, each attached to one message at most.
-- `message_id` is set in the unit of work that stores the message and cleared when the message is
-- deleted; an upload without a message is collected a day after it was made. The composite key keeps
-- an upload and its message in one company.
CREATE UNIQUE INDEX messages_company_id_key ON messages (company_id, id);
ALTER TABLE uploads ADD COLUMN message_id TEXT REFERENCES messages (id) ON DELETE SET NULL;
ALTER TABLE uploads ADD CONSTRAINT uploads_message_fkey
    FOREIGN KEY (company_id, message_id) REFERENCES messages (company_id, id) ON DELETE SET NULL (message_id);
CREATE INDEX uploads_message_idx ON uploads (message_id) WHERE message_id IS NOT NULL;
CREATE INDEX uploads_unattached_idx ON uploads (created_at) WHERE message_id IS NULL;
