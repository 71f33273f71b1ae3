-- Failed logins of the last 15 minutes, counted per username (case-insensitive) and per client
-- address for the brute-force limits. Old rows are pruned as new ones arrive.
CREATE TABLE login_failures (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL COLLATE NOCASE,
    addr TEXT NOT NULL,
    at INTEGER NOT NULL DEFAULT (unixepoch())
);
CREATE INDEX login_failures_username ON login_failures (username, at);
CREATE INDEX login_failures_addr ON login_failures (addr, at);
