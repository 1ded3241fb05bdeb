-- The change feed: every change to a conversation (a message stored, edited or deleted, a receipt, a
-- new status or assignee) gets the next position of the conversation's feed, in the transaction that
-- makes the change and that already locks the conversation row, so positions have no gap and no
-- duplicate. A row refers to what changed; replays read the message or conversation as it is now, so
-- a deleted message's text does not live on in its feed.
ALTER TABLE conversations ADD COLUMN last_position BIGINT NOT NULL DEFAULT 0;
-- When the conversation last changed in any way, by the database's clock (inbox catch-up).
ALTER TABLE conversations ADD COLUMN changed_at TIMESTAMP NOT NULL DEFAULT '1970-01-01 00:00:00';
-- The feed position of the message's creation: old clients resume by sequence, and this maps it.
ALTER TABLE messages ADD COLUMN position BIGINT NOT NULL DEFAULT 0;

CREATE TABLE conversation_changes (
    company_id       TEXT NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    conversation_id  TEXT NOT NULL,
    position         BIGINT NOT NULL,
    kind             TEXT NOT NULL
        CHECK (kind IN ('message.new', 'message.updated', 'message.status', 'conversation.updated')),
    message_id       TEXT,
    detail           TEXT NOT NULL DEFAULT '{}',
    recorded_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (conversation_id, position),
    -- Within the company, as every reference between tenant rows.
    CONSTRAINT conversation_changes_conversation_tenant_fk FOREIGN KEY (company_id, conversation_id)
        REFERENCES conversations (company_id, id) ON DELETE CASCADE
);

-- What existed before has one change per message, at the position of its sequence.
UPDATE messages SET position = sequence;
INSERT INTO conversation_changes (company_id, conversation_id, position, kind, message_id, detail, recorded_at)
    SELECT company_id, conversation_id, sequence, 'message.new', id, '{}', created_at FROM messages;
UPDATE conversations SET last_position = last_sequence, changed_at = updated_at;

CREATE INDEX conversations_changed_idx ON conversations (company_id, changed_at, id);
