-- Accounts: the first account administers the instance, and a password change moves the
-- account to its next token generation, which revokes every token issued before it on
-- every instance (each request checks it). Monitors: TLS trust per monitor.

ALTER TABLE users ADD COLUMN admin INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN token_generation INTEGER NOT NULL DEFAULT 0;
UPDATE users SET admin = 1 WHERE id = (SELECT min(id) FROM users);

-- A PEM bundle of authorities trusted for this monitor, besides the web's.
ALTER TABLE monitors ADD COLUMN tls_ca_pem TEXT;
-- Accept any certificate (expiry is still recorded).
ALTER TABLE monitors ADD COLUMN tls_skip_verify INTEGER NOT NULL DEFAULT 0;
