-- User ids are never reused (issue 11): with a plain INTEGER PRIMARY KEY, a user hard-deleted
-- from the shell left its id to the next account, and the old user's tokens (their sessions
-- name the id) opened the new account. AUTOINCREMENT never hands out an id again.
--
-- A rebuild: the runner turns foreign keys off around it, so sessions, avatars, numbers and
-- tasks keep their rows, and recreates every index and trigger on users (core's and the
-- plugins') after the rename; docs/storage.md.
-- lintel: rebuild users
CREATE TABLE users_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
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

INSERT INTO users_new (id, username, email, password_hash, role, created_at, updated_at,
                       deleted_at)
SELECT id, username, email, password_hash, role, created_at, updated_at, deleted_at FROM users;

-- The counter starts above every id still named anywhere, so the id of a user deleted from the
-- shell (whose sessions may remain) is never handed out again.
INSERT INTO sqlite_sequence (name, seq)
SELECT 'users_new', 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'users_new');
UPDATE sqlite_sequence
SET seq = max(seq, coalesce((SELECT max(user_id) FROM sessions), 0),
              coalesce((SELECT max(user_id) FROM avatars), 0),
              coalesce((SELECT max(user_id) FROM avatar_orphans), 0))
WHERE name = 'users_new';

DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
