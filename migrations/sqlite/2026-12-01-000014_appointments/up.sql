-- Appointments: time a company's contacts book. Two active (pending or confirmed) appointments of one
-- company never overlap, and the database says so: SQLite has no exclusion constraint, so triggers
-- abort a write that would overlap [starts_at, ends_at) of another active one (adjacent slots touch
-- without overlapping), inside the writing transaction. References stay inside the company (triggers,
-- like the other tables'). Personal data (name, e-mail, phone, company) is sealed together (`key_id` names the key); `email_index` is a keyed
-- HMAC of the normalised address, to filter by e-mail without opening rows.
-- `remind_at`: when the reminder e-mail is due; cleared once it is sent.
CREATE TABLE appointments (
    id               TEXT PRIMARY KEY,
    company_id       TEXT NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    contact_id       TEXT REFERENCES contacts (id) ON DELETE SET NULL,
    conversation_id  TEXT REFERENCES conversations (id) ON DELETE SET NULL,
    starts_at        TIMESTAMP NOT NULL,
    ends_at          TIMESTAMP NOT NULL,
    duration_min     INTEGER NOT NULL CHECK (duration_min IN (15, 30, 45, 60)),
    status           TEXT NOT NULL CHECK (status IN ('pending', 'confirmed', 'cancelled', 'completed', 'no_show')),
    personal_sealed  TEXT,
    email_index      TEXT,
    key_id           TEXT,
    remind_at        TIMESTAMP,
    inquiry          TEXT,
    created_by       TEXT NOT NULL,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL
);
CREATE INDEX appointments_company_idx ON appointments (company_id, starts_at, id);
CREATE INDEX appointments_email_idx ON appointments (company_id, email_index);
CREATE INDEX appointments_remind_idx ON appointments (remind_at) WHERE remind_at IS NOT NULL;
CREATE TRIGGER appointments_no_overlap_insert BEFORE INSERT ON appointments
WHEN NEW.status IN ('pending', 'confirmed') AND EXISTS (
    SELECT 1 FROM appointments a WHERE a.company_id = NEW.company_id AND a.status IN ('pending', 'confirmed')
        AND a.starts_at < NEW.ends_at AND NEW.starts_at < a.ends_at)
BEGIN
    SELECT RAISE(ABORT, 'exclusion_violation: appointments_no_overlap');
END;
CREATE TRIGGER appointments_no_overlap_update BEFORE UPDATE OF starts_at, ends_at, status ON appointments
WHEN NEW.status IN ('pending', 'confirmed') AND EXISTS (
    SELECT 1 FROM appointments a WHERE a.company_id = NEW.company_id AND a.id <> NEW.id
        AND a.status IN ('pending', 'confirmed') AND a.starts_at < NEW.ends_at AND NEW.starts_at < a.ends_at)
BEGIN
    SELECT RAISE(ABORT, 'exclusion_violation: appointments_no_overlap');
END;
CREATE TRIGGER appointments_tenant_insert BEFORE INSERT ON appointments
WHEN (NEW.contact_id IS NOT NULL AND (SELECT company_id FROM contacts WHERE id = NEW.contact_id) IS NOT NEW.company_id)
    OR (NEW.conversation_id IS NOT NULL AND (SELECT company_id FROM conversations WHERE id = NEW.conversation_id) IS NOT NEW.company_id)
BEGIN
    SELECT RAISE(ABORT, 'tenant_violation: appointments');
END;
CREATE TRIGGER appointments_tenant_update BEFORE UPDATE OF company_id, contact_id, conversation_id ON appointments
WHEN (NEW.contact_id IS NOT NULL AND (SELECT company_id FROM contacts WHERE id = NEW.contact_id) IS NOT NEW.company_id)
    OR (NEW.conversation_id IS NOT NULL AND (SELECT company_id FROM conversations WHERE id = NEW.conversation_id) IS NOT NEW.company_id)
BEGIN
    SELECT RAISE(ABORT, 'tenant_violation: appointments');
END;
