-- Source passwords are stored encrypted (docs/security.md), and an encrypted value is longer than
-- the value it holds: a 255-character password takes about 410 characters once encrypted and
-- encoded. VARCHAR(255) to TEXT rewrites nothing. Plaintext passwords left by an older version
-- are encrypted by the application after migrating (`rosetta serve` and `rosetta migrate`), as
-- SQL has no key.
ALTER TABLE sources ALTER COLUMN pg_password TYPE TEXT;
