-- A company's settings for a third-party service (Meta first). `secrets` holds the secrets sealed
-- with AES-256-GCM (`<key id>.<ciphertext>`), `key_id` the key that sealed them, so a rotation can
-- find the values still sealed under an old key. The ids inbound webhooks carry are kept in clear to
-- match a call to its company; the verify token only as its SHA-256.
CREATE TABLE integrations (
    company_id            TEXT NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    kind                  TEXT NOT NULL CHECK (kind IN ('meta')),
    config                TEXT NOT NULL DEFAULT '{}',
    secrets               TEXT,
    key_id                TEXT,
    page_id               TEXT,
    instagram_account_id  TEXT,
    verify_token_digest   TEXT,
    created_at            TIMESTAMP NOT NULL,
    updated_at            TIMESTAMP NOT NULL,
    PRIMARY KEY (company_id, kind)
);
-- A page or an Instagram account belongs to one company: its webhooks go there.
CREATE UNIQUE INDEX integrations_page_key ON integrations (kind, page_id) WHERE page_id IS NOT NULL;
CREATE UNIQUE INDEX integrations_instagram_key ON integrations (kind, instagram_account_id)
    WHERE instagram_account_id IS NOT NULL;
CREATE INDEX integrations_verify_idx ON integrations (kind, verify_token_digest);

-- A social id names one contact per company, so that webhooks redelivered or racing find the same one.
CREATE UNIQUE INDEX contacts_facebook_key ON contacts (company_id, facebook_id) WHERE facebook_id IS NOT NULL;
CREATE UNIQUE INDEX contacts_instagram_key ON contacts (company_id, instagram_id) WHERE instagram_id IS NOT NULL;
