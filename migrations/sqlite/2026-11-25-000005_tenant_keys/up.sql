-- References between tenant rows stay inside one company, and the database says so. SQLite cannot
-- add foreign keys to existing tables without rebuilding them (which would cascade deletes through
-- the tables that reference them), so the same keys (company_id, id) are unique indexes here and each
-- reference is checked by a trigger that aborts with `tenant_violation`, like PostgreSQL's composite
-- foreign keys.
CREATE UNIQUE INDEX users_company_id_key ON users (company_id, id);
CREATE UNIQUE INDEX apps_company_id_key ON apps (company_id, id);
CREATE UNIQUE INDEX contacts_company_id_key ON contacts (company_id, id);
CREATE UNIQUE INDEX conversations_company_id_key ON conversations (company_id, id);

CREATE TRIGGER api_keys_tenant_insert BEFORE INSERT ON api_keys
WHEN (NEW.app_id IS NOT NULL AND (SELECT company_id FROM apps WHERE id = NEW.app_id) IS NOT NEW.company_id)
BEGIN
    SELECT RAISE(ABORT, 'tenant_violation: api_keys');
END;
CREATE TRIGGER api_keys_tenant_update BEFORE UPDATE OF company_id, app_id ON api_keys
WHEN (NEW.app_id IS NOT NULL AND (SELECT company_id FROM apps WHERE id = NEW.app_id) IS NOT NEW.company_id)
BEGIN
    SELECT RAISE(ABORT, 'tenant_violation: api_keys');
END;
CREATE TRIGGER devices_tenant_insert BEFORE INSERT ON devices
WHEN (SELECT company_id FROM apps WHERE id = NEW.app_id) IS NOT NEW.company_id
    OR (SELECT company_id FROM contacts WHERE id = NEW.contact_id) IS NOT NEW.company_id
BEGIN
    SELECT RAISE(ABORT, 'tenant_violation: devices');
END;
CREATE TRIGGER devices_tenant_update BEFORE UPDATE OF company_id, app_id, contact_id ON devices
WHEN (SELECT company_id FROM apps WHERE id = NEW.app_id) IS NOT NEW.company_id
    OR (SELECT company_id FROM contacts WHERE id = NEW.contact_id) IS NOT NEW.company_id
BEGIN
    SELECT RAISE(ABORT, 'tenant_violation: devices');
END;
CREATE TRIGGER conversations_tenant_insert BEFORE INSERT ON conversations
WHEN (SELECT company_id FROM contacts WHERE id = NEW.contact_id) IS NOT NEW.company_id
    OR (NEW.app_id IS NOT NULL AND (SELECT company_id FROM apps WHERE id = NEW.app_id) IS NOT NEW.company_id)
    OR (NEW.assignee_id IS NOT NULL AND (SELECT company_id FROM users WHERE id = NEW.assignee_id) IS NOT NEW.company_id)
BEGIN
    SELECT RAISE(ABORT, 'tenant_violation: conversations');
END;
CREATE TRIGGER conversations_tenant_update BEFORE UPDATE OF company_id, contact_id, app_id, assignee_id ON conversations
WHEN (SELECT company_id FROM contacts WHERE id = NEW.contact_id) IS NOT NEW.company_id
    OR (NEW.app_id IS NOT NULL AND (SELECT company_id FROM apps WHERE id = NEW.app_id) IS NOT NEW.company_id)
    OR (NEW.assignee_id IS NOT NULL AND (SELECT company_id FROM users WHERE id = NEW.assignee_id) IS NOT NEW.company_id)
BEGIN
    SELECT RAISE(ABORT, 'tenant_violation: conversations');
END;
CREATE TRIGGER messages_tenant_insert BEFORE INSERT ON messages
WHEN (SELECT company_id FROM conversations WHERE id = NEW.conversation_id) IS NOT NEW.company_id
BEGIN
    SELECT RAISE(ABORT, 'tenant_violation: messages');
END;
CREATE TRIGGER messages_tenant_update BEFORE UPDATE OF company_id, conversation_id ON messages
WHEN (SELECT company_id FROM conversations WHERE id = NEW.conversation_id) IS NOT NEW.company_id
BEGIN
    SELECT RAISE(ABORT, 'tenant_violation: messages');
END;
