-- Avatars' bytes move into the database (issue 12): lintel.db alone holds everything a request
-- needs, so a copy of it (sqlite3 .backup, Litestream, a dqlite cluster) misses nothing.
-- The files of earlier releases, <data_dir>/avatars/<user id>, are read into their rows here
-- (lintel_data_file(): app/migrate_files.c, only while migrations run); a row whose file is
-- missing served a 404 before and goes. After the commit the server removes the imported
-- files: their ids go to avatar_orphans, whose files the server deletes at every start.
ALTER TABLE avatars ADD COLUMN image BLOB
    CONSTRAINT image CHECK (length(image) <= 67108864);

UPDATE avatars SET image = lintel_data_file('avatars/' || user_id);
DELETE FROM avatars WHERE image IS NULL;
INSERT OR IGNORE INTO avatar_orphans (user_id) SELECT user_id FROM avatars;

-- A deleted account's bytes go with its row; there is no file left to remove.
DROP TRIGGER users_deleted_avatar;
CREATE TRIGGER users_deleted_avatar
AFTER UPDATE OF deleted_at ON users
WHEN NEW.deleted_at IS NOT NULL
BEGIN
    DELETE FROM avatars WHERE user_id = NEW.id;
END;
