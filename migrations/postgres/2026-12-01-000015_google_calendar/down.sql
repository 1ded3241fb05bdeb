DELETE FROM outbox WHERE kind = 'calendar.sync';
ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check
    CHECK (kind IN ('meta.forward', 'webhook.delivery', 'push.notification', 'email'));
DELETE FROM integrations WHERE kind = 'google_calendar';
ALTER TABLE integrations DROP CONSTRAINT integrations_kind_check;
ALTER TABLE integrations ADD CONSTRAINT integrations_kind_check CHECK (kind IN ('meta'));
