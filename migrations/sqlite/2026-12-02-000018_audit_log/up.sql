-- The audit log: one row per security-relevant action of a company (logins, keys, roles,
-- integrations, deletions), with who did it, to what, from which address (sealed: it is personal
-- data) and when. Rows are only ever added, and removed by age.
CREATE TABLE audit_log (
    id           TEXT PRIMARY KEY,
    company_id   TEXT NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    action       TEXT NOT NULL,
    actor_kind   TEXT NOT NULL CHECK (actor_kind IN ('user', 'api_key')),
    actor_id     TEXT NOT NULL,
    target_kind  TEXT,
    target_id    TEXT,
    detail       TEXT NOT NULL DEFAULT '{}',
    ip_sealed    TEXT,
    occurred_at  TIMESTAMP NOT NULL
);
-- Owners read their company's log newest first (ids are time-ordered), optionally by action.
CREATE INDEX audit_log_company_idx ON audit_log (company_id, id);
CREATE INDEX audit_log_action_idx ON audit_log (company_id, action, id);
-- Expiry takes the oldest rows of every company.
CREATE INDEX audit_log_age_idx ON audit_log (occurred_at);
