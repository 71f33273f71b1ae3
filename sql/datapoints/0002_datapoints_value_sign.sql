-- value keeps the sign of -0.0: in a column of REAL affinity SQLite writes an integral double
-- as an integer (pitfalls 21), so float32 -0.0 (bytes [0,0,0,128]) read back as 0.0. An ANY
-- column of a STRICT table stores the double as bound; the CHECK keeps it a REAL (or NULL).
CREATE TABLE datapoints_new (
    id    INTEGER PRIMARY KEY,
    ts    INTEGER NOT NULL CONSTRAINT ts CHECK (ts BETWEEN 0 AND 253402300799),
    value ANY CONSTRAINT value CHECK (value IS NULL OR typeof(value) = 'real'),
    tags  TEXT NOT NULL,
    valid INTEGER NOT NULL CONSTRAINT valid CHECK (valid = lintel_datapoint_valid(tags))
) STRICT;

INSERT INTO datapoints_new (id, ts, value, tags, valid)
SELECT id, ts, CAST(value AS REAL), tags, valid FROM datapoints;

DROP TABLE datapoints;
ALTER TABLE datapoints_new RENAME TO datapoints;

-- As 0001 made it: one index serves every range query (see there).
CREATE INDEX datapoints_ts_valid ON datapoints (ts, valid);
