-- Accounts. Usernames are unique without regard to case ("Alice" and "alice" are one account)
-- and stay reserved after a soft delete; emails are unique without regard to case while the
-- account exists (deletion clears them). The rules live in the extension, so the shell and
-- the API refuse the same values.
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL,
    email TEXT,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    deleted_at TEXT,
    CONSTRAINT username CHECK (lintel_rule_username(username) IS NULL),
    CONSTRAINT email CHECK (email IS NULL OR lintel_rule_email(email) IS NULL)
);
CREATE UNIQUE INDEX users_username ON users (username COLLATE NOCASE);
CREATE UNIQUE INDEX users_email ON users (email COLLATE NOCASE);
