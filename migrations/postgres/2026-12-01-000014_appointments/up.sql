-- Appointments: time a company's contacts book. Two active (pending or confirmed) appointments of one
-- company never overlap, and the database says so: an exclusion constraint over [starts_at, ends_at)
-- (adjacent slots touch without overlapping); references stay inside the company (composite keys). Personal data (name, e-mail, phone, company) is sealed together
-- (AES-256-GCM, `key_id` names the key); `email_index` is a keyed HMAC of the normalised address, to filter by e-mail without opening rows.
-- `remind_at`: when the reminder e-mail is due; cleared once it is sent.
CREATE EXTENSION IF NOT EXISTS btree_gist;
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
    updated_at       TIMESTAMP NOT NULL,
    CONSTRAINT appointments_contact_fkey FOREIGN KEY (company_id, contact_id)
        REFERENCES contacts (company_id, id) ON DELETE SET NULL (contact_id),
    CONSTRAINT appointments_conversation_fkey FOREIGN KEY (company_id, conversation_id)
        REFERENCES conversations (company_id, id) ON DELETE SET NULL (conversation_id),
    CONSTRAINT appointments_no_overlap EXCLUDE USING gist (company_id WITH =, tsrange(starts_at, ends_at) WITH &&)
        WHERE (status IN ('pending', 'confirmed'))
);
CREATE INDEX appointments_company_idx ON appointments (company_id, starts_at, id);
CREATE INDEX appointments_email_idx ON appointments (company_id, email_index);
CREATE INDEX appointments_remind_idx ON appointments (remind_at) WHERE remind_at IS NOT NULL;
