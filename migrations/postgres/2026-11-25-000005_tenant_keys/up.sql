-- References between tenant rows stay inside one company, and the database says so: the referenced
-- tables get a key (company_id, id), and each reference is a foreign key over it, so that an
-- assignee, contact, app or conversation of another company cannot be referenced even by a bug.
CREATE UNIQUE INDEX users_company_id_key ON users (company_id, id);
CREATE UNIQUE INDEX apps_company_id_key ON apps (company_id, id);
CREATE UNIQUE INDEX contacts_company_id_key ON contacts (company_id, id);
CREATE UNIQUE INDEX conversations_company_id_key ON conversations (company_id, id);

ALTER TABLE api_keys ADD CONSTRAINT api_keys_app_tenant_fk
    FOREIGN KEY (company_id, app_id) REFERENCES apps (company_id, id) ON DELETE CASCADE;
ALTER TABLE devices ADD CONSTRAINT devices_app_tenant_fk
    FOREIGN KEY (company_id, app_id) REFERENCES apps (company_id, id) ON DELETE CASCADE;
ALTER TABLE devices ADD CONSTRAINT devices_contact_tenant_fk
    FOREIGN KEY (company_id, contact_id) REFERENCES contacts (company_id, id) ON DELETE CASCADE;
ALTER TABLE conversations ADD CONSTRAINT conversations_contact_tenant_fk
    FOREIGN KEY (company_id, contact_id) REFERENCES contacts (company_id, id) ON DELETE CASCADE;
ALTER TABLE conversations ADD CONSTRAINT conversations_app_tenant_fk
    FOREIGN KEY (company_id, app_id) REFERENCES apps (company_id, id) ON DELETE SET NULL (app_id);
ALTER TABLE conversations ADD CONSTRAINT conversations_assignee_tenant_fk
    FOREIGN KEY (company_id, assignee_id) REFERENCES users (company_id, id) ON DELETE SET NULL (assignee_id);
ALTER TABLE messages ADD CONSTRAINT messages_conversation_tenant_fk
    FOREIGN KEY (company_id, conversation_id) REFERENCES conversations (company_id, id) ON DELETE CASCADE;
