DROP TRIGGER uploads_tenant_insert;
DROP TRIGGER uploads_tenant_update;
DROP INDEX uploads_unattached_idx;
DROP INDEX uploads_message_idx;
ALTER TABLE uploads DROP COLUMN message_id;
DROP INDEX messages_company_id_key;
