-- Password reset tokens, hashes only: a link to choose a new password (valid an hour), or the
-- set-password link of an invitation (valid a week). A token works once: its use is a conditional
-- UPDATE of `used_at` (unused and unexpired) that exactly one of concurrent requests wins, and it
-- voids the user's other unused tokens.
CREATE TABLE password_resets (
    id          TEXT PRIMARY KEY,
    company_id  TEXT NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash  TEXT NOT NULL UNIQUE,
    expires_at  TIMESTAMP NOT NULL,
    used_at     TIMESTAMP,
    created_at  TIMESTAMP NOT NULL
);
-- A use voids the user's other unused tokens.
CREATE INDEX password_resets_user_idx ON password_resets (user_id) WHERE used_at IS NULL;
