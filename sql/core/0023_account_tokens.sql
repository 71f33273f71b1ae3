-- Self-service accounts: verified emails, single-use tokens (password reset, email verification,
-- invitations), the outbox of mails the host's worker sends (app/account_worker.c), and the
-- requests counted by the password-reset rate limits.
ALTER TABLE users ADD COLUMN email_verified_at TEXT;

-- Only the SHA-256 of a token is kept; the token itself exists only in the mail (or, for an
-- invitation, in the admin's reply). Used tokens keep used_at until the cleanup removes them.
CREATE TABLE account_tokens (
    hash TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('reset', 'verify', 'invite')),
    user_id INTEGER REFERENCES users (id),
    email TEXT,
    created_by INTEGER,
    created_at INTEGER NOT NULL DEFAULT (unixepoch()),
    expires_at INTEGER NOT NULL,
    used_at INTEGER
);
CREATE INDEX account_tokens_user ON account_tokens (user_id, kind);
CREATE INDEX account_tokens_expires ON account_tokens (expires_at);

-- Mails to send. The token is made by the worker when it sends, so a row holds no secret.
CREATE TABLE mail_outbox (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('reset', 'verify')),
    user_id INTEGER NOT NULL,
    email TEXT NOT NULL,
    created_at INTEGER NOT NULL DEFAULT (unixepoch()),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at INTEGER NOT NULL DEFAULT (unixepoch())
);

-- Password-reset requests of the last hour, per address asked for and per client.
CREATE TABLE mail_requests (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL COLLATE NOCASE,
    addr TEXT NOT NULL,
    at INTEGER NOT NULL DEFAULT (unixepoch())
);
CREATE INDEX mail_requests_email ON mail_requests (email, at);
CREATE INDEX mail_requests_addr ON mail_requests (addr, at);

-- A new address is unverified and gets a verification mail, whatever path set it.
CREATE TRIGGER users_inserted_verify
AFTER INSERT ON users
WHEN NEW.email IS NOT NULL
BEGIN
    INSERT INTO mail_outbox (kind, user_id, email) VALUES ('verify', NEW.id, NEW.email);
END;

CREATE TRIGGER users_email_changed
AFTER UPDATE OF email ON users
WHEN NEW.email IS NOT OLD.email
BEGIN
    UPDATE users SET email_verified_at = NULL WHERE id = NEW.id;
    DELETE FROM account_tokens WHERE user_id = NEW.id AND kind IN ('verify', 'reset')
        AND used_at IS NULL;
    DELETE FROM mail_outbox WHERE user_id = NEW.id;
    INSERT INTO mail_outbox (kind, user_id, email)
    SELECT 'verify', NEW.id, NEW.email WHERE NEW.email IS NOT NULL AND NEW.deleted_at IS NULL;
END;

-- A password set any way makes earlier reset links worthless.
CREATE TRIGGER users_password_reset_tokens
AFTER UPDATE OF password_hash ON users
WHEN NEW.password_hash IS NOT OLD.password_hash
BEGIN
    DELETE FROM account_tokens WHERE user_id = NEW.id AND kind = 'reset' AND used_at IS NULL;
END;

-- Registrations of the last hour per client address, for register_max_ip.
CREATE TABLE registrations (
    id INTEGER PRIMARY KEY,
    addr TEXT NOT NULL,
    at INTEGER NOT NULL DEFAULT (unixepoch())
);
CREATE INDEX registrations_addr ON registrations (addr, at);
