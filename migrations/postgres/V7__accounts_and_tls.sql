-- Accounts: the first account administers the instance, and a password change moves the
-- account to its next token generation, which revokes every token issued before it on
-- every instance (each request checks it). Monitors: TLS trust per monitor.

ALTER TABLE users ADD COLUMN admin boolean NOT NULL DEFAULT false;
ALTER TABLE users ADD COLUMN token_generation bigint NOT NULL DEFAULT 0;
UPDATE users SET admin = true WHERE id = (SELECT min(id) FROM users);

-- A PEM bundle of authorities trusted for this monitor, besides the web's.
ALTER TABLE monitors ADD COLUMN tls_ca_pem text;
-- Accept any certificate (expiry is still recorded).
ALTER TABLE monitors ADD COLUMN tls_skip_verify boolean NOT NULL DEFAULT false;
