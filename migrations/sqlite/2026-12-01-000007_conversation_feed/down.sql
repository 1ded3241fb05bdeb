DROP INDEX conversations_changed_idx;
DROP TABLE conversation_changes;
ALTER TABLE messages DROP COLUMN position;
ALTER TABLE conversations DROP COLUMN changed_at;
ALTER TABLE conversations DROP COLUMN last_position;
