-- Full-text search keyed on the message id instead of the implicit rowid of `messages`.
--
-- `messages` has a TEXT primary key, so its rowid is SQLite's own: VACUUM is allowed to renumber it,
-- and a table rebuild or a dump and restore does, which would silently point the index at other
-- messages. The index now has its own content table: `doc_id` is an INTEGER PRIMARY KEY (an alias of
-- the rowid, which SQLite never renumbers) and `message_id` is unique, so keeping the index in step
-- after an edit or delete is an index lookup, not a scan. Only live messages are indexed: a deleted
-- message's body is gone and search never shows it.
DROP TRIGGER messages_fts_insert;
DROP TRIGGER messages_fts_delete;
DROP TRIGGER messages_fts_update;
DROP TABLE messages_fts;

CREATE TABLE messages_fts_docs (
    doc_id      INTEGER PRIMARY KEY,
    message_id  TEXT NOT NULL UNIQUE,
    body        TEXT NOT NULL
);
CREATE VIRTUAL TABLE messages_fts USING fts5(
    message_id UNINDEXED, body, content = 'messages_fts_docs', content_rowid = 'doc_id'
);

-- Carry the existing messages over, then build the index from them in one pass.
INSERT INTO messages_fts_docs (message_id, body) SELECT id, body FROM messages WHERE deleted_at IS NULL;
INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');

-- The index follows its content table (an external-content FTS5 table is told every change, with the
-- values it indexed).
CREATE TRIGGER messages_fts_docs_insert AFTER INSERT ON messages_fts_docs BEGIN
    INSERT INTO messages_fts (rowid, message_id, body) VALUES (new.doc_id, new.message_id, new.body);
END;
CREATE TRIGGER messages_fts_docs_delete AFTER DELETE ON messages_fts_docs BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, message_id, body)
        VALUES ('delete', old.doc_id, old.message_id, old.body);
END;

-- The content table follows `messages`. Status changes (the frequent updates) do not touch it.
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages WHEN new.deleted_at IS NULL BEGIN
    INSERT INTO messages_fts_docs (message_id, body) VALUES (new.id, new.body);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    DELETE FROM messages_fts_docs WHERE message_id = old.id;
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF id, body, deleted_at ON messages BEGIN
    DELETE FROM messages_fts_docs WHERE message_id = old.id;
    INSERT INTO messages_fts_docs (message_id, body) SELECT new.id, new.body WHERE new.deleted_at IS NULL;
END;
