-- Google Calendar: a company may connect a calendar (an integration of its own kind), and confirmed
-- appointments reach it through the outbox (`calendar.sync` items).
ALTER TABLE integrations DROP CONSTRAINT integrations_kind_check;
ALTER TABLE integrations ADD CONSTRAINT integrations_kind_check CHECK (kind IN ('meta', 'google_calendar'));
ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check
    CHECK (kind IN ('meta.forward', 'webhook.delivery', 'push.notification', 'email', 'calendar.sync'));
