-- A version per number, for its ETag (GET /api/numbers/{id}): bumped by a trigger on every
-- change, whoever writes (the plugin, a compatibility profile, an operator's shell), so an
-- If-Match on one number is not refused because another number of the same user changed.
-- The list and the statistics take numbers_user.version instead (one per user, 0002).
ALTER TABLE numbers ADD COLUMN version INTEGER NOT NULL DEFAULT 1;

-- Any UPDATE of the row that did not set version itself bumps it (numbers_touch's own update of
-- updated_at may bump it once more: a version only has to move, never by exactly one).
CREATE TRIGGER numbers_version AFTER UPDATE ON numbers
WHEN NEW.version IS OLD.version
BEGIN
    UPDATE numbers SET version = OLD.version + 1 WHERE id = NEW.id;
END;
