-- Sensor data points (issue 6). Time is kept as INTEGER Unix seconds, so a range query is an
-- index range scan, and formatted as ISO 8601 on output. value is the decoded float32 (NULL
-- when it was NaN or infinite, then tagged "not finite"); tags is the JSON array of tags after
-- the ingestion rules (lintel_datapoint_tags adds "too old").
--
-- valid is what the extension's rule says of the tags; the CHECK keeps it so whoever writes
-- the row (a shell must `.load build/ext/liblintel` to insert or update). It is a plain column,
-- not a generated one, because SQLite never reads a generated column from an index: the index
-- below would stop covering the valid filter and the count.
-- STRICT: a time bound as text or as a fraction is refused, never coerced.
CREATE TABLE datapoints (
    id    INTEGER PRIMARY KEY,
    ts    INTEGER NOT NULL CONSTRAINT ts CHECK (ts BETWEEN 0 AND 253402300799),
    value REAL,
    tags  TEXT NOT NULL,
    valid INTEGER NOT NULL CONSTRAINT valid CHECK (valid = lintel_datapoint_valid(tags))
) STRICT;

-- One index serves every range query: WHERE ts BETWEEN ? AND ? [AND valid = ?] ORDER BY ts, id.
-- It is covering for the count (total) and the valid filter; points of the same second come
-- back in id order through a small sort per second. A second index (valid, ts) would save that
-- sort and the scan of invalid points for users, but cost a third of the ingest rate.
CREATE INDEX datapoints_ts_valid ON datapoints (ts, valid);
