-- Each user's bookmarks. The rules live in the table (lintel_check: a broken rule is a 422 on
-- the field, whoever writes), and the rows follow their user's account (see the guide).
CREATE TABLE bookmarks (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    url        TEXT NOT NULL CHECK (lintel_check('url', lintel_rule_url(url))),
    title      TEXT NOT NULL CHECK (lintel_check('title', lintel_rule_length(title, 1, 200))),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
) STRICT;

CREATE INDEX bookmarks_user ON bookmarks (user_id, id);

-- Accounts are soft-deleted (users.deleted_at): their bookmarks go with them.
CREATE TRIGGER bookmarks_user_deleted AFTER UPDATE OF deleted_at ON users
WHEN NEW.deleted_at IS NOT NULL
BEGIN
    DELETE FROM bookmarks WHERE user_id = NEW.id;
END;
