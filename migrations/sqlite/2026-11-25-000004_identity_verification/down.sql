ALTER TABLE apps DROP COLUMN identity_verification;
ALTER TABLE apps DROP COLUMN identity_secret_enc;
