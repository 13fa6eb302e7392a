-- Fails, rather than truncate, when a stored (encrypted) password is longer than 255 characters.
ALTER TABLE sources ALTER COLUMN pg_password TYPE VARCHAR(255);
