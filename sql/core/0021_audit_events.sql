-- The audit trail: what changed about accounts, sessions, keys and logins, newest last. Triggers
-- write the rows for changes to users, sessions and login failures whatever made them (the API,
-- `lintel user`, or an operator's UPDATE in the sqlite3 shell); the host writes the rest (key
-- rotations, lockouts, password resets). actor_id is the user who acted when the host knows it
-- (NULL in rows written by triggers: SQL does not know who runs it). subject, old_value and
-- new_value are plain text (no JSON: with trusted_schema off, triggers may not call json_*()):
--   user.role              subject username   old_value/new_value the roles
--   user.deleted/removed   subject username   (soft delete / row deleted)
--   user.password          subject username   (user.password_rehash: same password, new scheme)
--   session.ended          subject session id new_value the reason (logout, revoked, deleted, ...)
--   login.failed           subject username   addr the client
--   login.locked           subject username   new_value what locked (username or address)
--   key.rotated            subject new kid    old_value the retired kid, new_value the alg
--   password.reset         subject username   (and the reset request: password.reset_requested)
CREATE TABLE audit_events (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL DEFAULT (unixepoch()),
    action TEXT NOT NULL,
    user_id INTEGER,
    actor_id INTEGER,
    addr TEXT,
    subject TEXT,
    old_value TEXT,
    new_value TEXT
);
CREATE INDEX audit_events_user ON audit_events (user_id, id);
CREATE INDEX audit_events_action ON audit_events (action, at);

CREATE TRIGGER audit_user_role
AFTER UPDATE OF role ON users
WHEN NEW.role IS NOT OLD.role
BEGIN
    INSERT INTO audit_events (action, user_id, subject, old_value, new_value)
    VALUES ('user.role', NEW.id, NEW.username, OLD.role, NEW.role);
END;

CREATE TRIGGER audit_user_deleted
AFTER UPDATE OF deleted_at ON users
WHEN NEW.deleted_at IS NOT NULL AND OLD.deleted_at IS NULL
BEGIN
    INSERT INTO audit_events (action, user_id, subject) VALUES ('user.deleted', NEW.id, NEW.username);
END;

CREATE TRIGGER audit_user_removed
AFTER DELETE ON users
BEGIN
    INSERT INTO audit_events (action, user_id, subject) VALUES ('user.removed', OLD.id, OLD.username);
END;

-- A login that moves an old hash (bcrypt import, lower cost) to the current scheme changes the
-- hash but not the password, and leaves updated_at alone: it is told apart as a rehash.
CREATE TRIGGER audit_user_password
AFTER UPDATE OF password_hash ON users
WHEN NEW.password_hash IS NOT OLD.password_hash
BEGIN
    INSERT INTO audit_events (action, user_id, subject)
    VALUES (CASE WHEN NEW.updated_at IS OLD.updated_at
                  AND lintel_password_needs_rehash(OLD.password_hash)
             THEN 'user.password_rehash' ELSE 'user.password' END, NEW.id, NEW.username);
END;

CREATE TRIGGER audit_session_ended
AFTER UPDATE OF ended_at ON sessions
WHEN OLD.ended_at IS NULL AND NEW.ended_at IS NOT NULL
BEGIN
    INSERT INTO audit_events (action, user_id, subject, new_value)
    VALUES ('session.ended', NEW.user_id, NEW.id, NEW.end_reason);
END;

CREATE TRIGGER audit_login_failed
AFTER INSERT ON login_failures
BEGIN
    INSERT INTO audit_events (action, user_id, addr, subject)
    VALUES ('login.failed', (SELECT id FROM users WHERE username = NEW.username COLLATE NOCASE),
            NEW.addr, NEW.username);
END;
