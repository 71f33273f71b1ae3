-- Compatibility profile "fender" (seed 003): what its users carry beyond lintel's account, stored
-- once per user: the display name and the stable opaque id (uuid-shaped) the seed exposes and signs.
CREATE TABLE compat_fender_users (
    user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    uid     TEXT NOT NULL UNIQUE CHECK (length(uid) = 36),
    name    TEXT NOT NULL CHECK (length(name) <= 1000)
) STRICT;

-- An account deleted through any API loses its profile row inside the deleting transaction.
CREATE TRIGGER compat_fender_users_deleted AFTER UPDATE OF deleted_at ON users
WHEN NEW.deleted_at IS NOT NULL
BEGIN
    DELETE FROM compat_fender_users WHERE user_id = NEW.id;
END;
