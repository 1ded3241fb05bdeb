-- Identity verification: an app's identity secret (encrypted by the server, never stored in clear)
-- signs the user ids an SDK claims; an app may require it for every identify.
ALTER TABLE apps ADD COLUMN identity_secret_enc TEXT;
ALTER TABLE apps ADD COLUMN identity_verification TEXT NOT NULL DEFAULT 'optional';
