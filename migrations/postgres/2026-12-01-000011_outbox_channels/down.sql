DROP INDEX outbox_order_idx;
ALTER TABLE outbox DROP COLUMN order_key;
DELETE FROM outbox WHERE kind <> 'meta.forward' OR status = 'skipped';
ALTER TABLE outbox DROP CONSTRAINT outbox_status_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_status_check CHECK (status IN ('pending', 'delivered', 'dead'));
ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check CHECK (kind IN ('meta.forward'));
