-- Avatars: the image bytes live in <data_dir>/avatars/<user_id> (plugins/avatars); this row says
-- that the user has one and which version it is, so any plugin can derive avatar_url in SQL:
--   '/api/users/' || a.user_id || '/avatar?v=' || a.version
-- It is a core table so that the users plugin can join it whether or not avatars is loaded.
CREATE TABLE avatars (
    user_id INTEGER PRIMARY KEY REFERENCES users (id),
    version INTEGER NOT NULL,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);

-- Files a trigger cannot delete: ids whose avatar file is to be removed from disk. The avatars
-- plugin unlinks these files at its next request and deletes the rows.
CREATE TABLE avatar_orphans (
    user_id INTEGER PRIMARY KEY
);

-- A deleted account loses its avatar at once (GET answers 404); the file follows.
CREATE TRIGGER users_deleted_avatar
AFTER UPDATE OF deleted_at ON users
WHEN NEW.deleted_at IS NOT NULL
BEGIN
    DELETE FROM avatars WHERE user_id = NEW.id;
    INSERT OR IGNORE INTO avatar_orphans (user_id) VALUES (NEW.id);
END;
