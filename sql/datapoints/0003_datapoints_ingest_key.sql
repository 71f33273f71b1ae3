-- Bulk ingest is idempotent (docs/datapoints.md "Re-sent batches"): a point posted again with
-- the same time, the same four raw bytes and the same tags as sent is stored once, so a client
-- that re-sends a batch after a lost reply stores no duplicates. raw is the four bytes as one
-- little-endian unsigned integer (0.0 and -0.0, or two NaN payloads, differ there although the
-- decoded value does not tell them apart); sent_tags is the JSON text of the tags as the client
-- sent them, before "too old" is added (which depends on when the point arrived). Points
-- fetched by populate and points stored before this migration have NULL there, and SQLite's
-- UNIQUE lets NULLs repeat: they are never matched.
ALTER TABLE datapoints ADD COLUMN raw INTEGER CONSTRAINT raw CHECK (raw BETWEEN 0 AND 4294967295);
ALTER TABLE datapoints ADD COLUMN sent_tags TEXT;
CREATE UNIQUE INDEX datapoints_ingest_key ON datapoints (ts, raw, sent_tags);
