-- The change feed: every change to a conversation (a message stored, edited or deleted, a receipt, a
-- new status, assignee or contact) gets the next position of the conversation's feed, in the
-- transaction that makes the change and that already locks the conversation row, so positions have no
-- gap and no duplicate. A stored message is its own record of its creation (`messages.position`):
-- appending a message, the hot path, writes no extra row. Every other change is one row of
-- `conversation_changes`, which names what changed; replays read the message or conversation as it
-- is now, so a deleted message's text does not live on in the feed.
ALTER TABLE conversations ADD COLUMN last_position BIGINT NOT NULL DEFAULT 0;
-- When the conversation last changed in any way, by the database's clock (inbox catch-up).
ALTER TABLE conversations ADD COLUMN changed_at TIMESTAMP NOT NULL DEFAULT '1970-01-01 00:00:00';
-- The feed position of the message's creation. Positions and sequences grow together (both are taken
-- under the conversation's lock), so the messages after a position are those after a sequence, which
-- the existing (conversation_id, sequence) key finds without an index of its own.
ALTER TABLE messages ADD COLUMN position BIGINT NOT NULL DEFAULT 0;

CREATE TABLE conversation_changes (
    -- No key of its own to companies: the one to its conversation (below) holds the company too, and
    -- every foreign key is a check on each of the many inserts.
    company_id       TEXT NOT NULL,
    conversation_id  TEXT NOT NULL,
    position         BIGINT NOT NULL,
    -- The conversation's last message sequence when the change was made: the messages after a
    -- position are those after the sequence this gives (plus one per position since this row).
    last_sequence    BIGINT NOT NULL,
    kind             TEXT NOT NULL
        CHECK (kind IN ('message.updated', 'message.status', 'conversation.updated')),
    message_id       TEXT,
    detail           TEXT NOT NULL DEFAULT '{}',
    recorded_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (conversation_id, position),
    -- Within the company, as every reference between tenant rows.
    CONSTRAINT conversation_changes_conversation_tenant_fk FOREIGN KEY (company_id, conversation_id)
        REFERENCES conversations (company_id, id) ON DELETE CASCADE
);

-- What existed before: each message created at the position of its sequence.
UPDATE messages SET position = sequence;
UPDATE conversations SET last_position = last_sequence, changed_at = updated_at;

CREATE INDEX conversations_changed_idx ON conversations (company_id, changed_at, id);
