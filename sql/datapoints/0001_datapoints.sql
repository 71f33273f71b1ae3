-- Sensor data points (issue 6). Time is kept as INTEGER Unix seconds, so a range query is an
-- index range scan, and formatted as ISO 8601 on output. value is the decoded float32 (NULL
-- when it was NaN or infinite, tagged "not finite"); tags is the JSON array of tags after the
-- ingestion rules; valid is what the extension's lintel_datapoint_valid() says of those tags.
-- The CHECK on valid calls the extension: a shell must `.load build/ext/liblintel` to write.

-- STRICT: a time bound as text or a value bound as text is refused, never coerced.
CREATE TABLE datapoints (
    id    INTEGER PRIMARY KEY,
    ts    INTEGER NOT NULL CONSTRAINT ts CHECK (ts BETWEEN 0 AND 253402300799),
    value REAL,
    tags  TEXT NOT NULL DEFAULT '[]' CONSTRAINT tags CHECK (json_type(tags) = 'array'),
    valid INTEGER NOT NULL CONSTRAINT valid CHECK (valid = lintel_datapoint_valid(tags))
) STRICT;

-- Every index ends with the rowid (id), so (valid, ts) already orders by ts then id.
-- Users: WHERE valid = 1 AND ts BETWEEN ? AND ? ORDER BY ts, id (an admin's valid= filter too).
CREATE INDEX datapoints_valid_ts ON datapoints (valid, ts);

-- Admins without a valid= filter: WHERE ts BETWEEN ? AND ? ORDER BY ts, id.
CREATE INDEX datapoints_ts ON datapoints (ts);
