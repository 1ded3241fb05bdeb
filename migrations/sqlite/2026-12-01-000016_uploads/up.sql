-- Uploads: files agents and customers send. The bytes live in the blob store (a directory, an S3
-- bucket) under `object_key`, a key of the company's; the row describes them: the name the uploader
-- gave, the content type sniffed from the bytes, size, SHA-256, and for images their dimensions and
-- thumbnail.
CREATE TABLE uploads (
    id             TEXT PRIMARY KEY,
    company_id     TEXT NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    object_key     TEXT NOT NULL,
    name           TEXT NOT NULL,
    content_type   TEXT NOT NULL,
    size           BIGINT NOT NULL,
    sha256         TEXT NOT NULL,
    width          INTEGER,
    height         INTEGER,
    thumbnail_key  TEXT,
    uploaded_by    TEXT NOT NULL,
    created_at     TIMESTAMP NOT NULL
);
CREATE INDEX uploads_company_idx ON uploads (company_id, created_at);
