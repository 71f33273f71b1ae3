-- Sessions: one per login, identified by the access token's sid claim. Ending a session (logout,
-- password change, deletion, refresh-token reuse) kills its access tokens and refresh family
-- on the very next request, because every authenticated request looks its session up here.
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id),
    scope TEXT NOT NULL,
    created_at INTEGER NOT NULL DEFAULT (unixepoch()),
    ended_at INTEGER,
    end_reason TEXT
);
CREATE INDEX sessions_user ON sessions (user_id) WHERE ended_at IS NULL;

-- Refresh tokens: only the SHA-256 of the opaque token is kept. Each use marks the row used and
-- adds its successor in the same session; a used row presented again ends the session.
CREATE TABLE refresh_tokens (
    hash TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions (id),
    created_at INTEGER NOT NULL DEFAULT (unixepoch()),
    expires_at INTEGER NOT NULL,
    used_at INTEGER
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

-- Single access tokens revoked before their exp (the token a client logged out with); rows
-- can be dropped once expires_at has passed.
CREATE TABLE revoked_jtis (
    jti TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
);

-- A deleted account keeps no live session, whatever path deleted it (API, shell).
CREATE TRIGGER users_deleted_end_sessions
AFTER UPDATE OF deleted_at ON users
WHEN NEW.deleted_at IS NOT NULL
BEGIN
    UPDATE sessions SET ended_at = unixepoch(), end_reason = 'deleted'
    WHERE user_id = NEW.id AND ended_at IS NULL;
END;
