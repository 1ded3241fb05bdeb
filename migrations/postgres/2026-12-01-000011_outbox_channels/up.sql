-- The outbox carries every channel: webhooks, push notifications and e-mail beside Meta forwards. An
-- item may be `skipped` (nothing to send: no SMTP server configured, a contact who is online), and
-- items sharing an `order_key` (a webhook endpoint and a conversation) are delivered one after another.
ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check
    CHECK (kind IN ('meta.forward', 'webhook.delivery', 'push.notification', 'email'));
ALTER TABLE outbox DROP CONSTRAINT outbox_status_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_status_check
    CHECK (status IN ('pending', 'delivered', 'dead', 'skipped'));
ALTER TABLE outbox ADD COLUMN order_key TEXT;
-- The claim looks for an earlier pending item of the same order key.
CREATE INDEX outbox_order_idx ON outbox (order_key, created_at) WHERE status = 'pending' AND order_key IS NOT NULL;
