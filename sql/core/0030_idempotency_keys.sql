-- Idempotency-Key (docs/api.md "Safe retries"): the first reply to an authenticated POST that
-- carried a key, per user, for 24 hours, so a retried POST is answered without creating again.
-- A row without status is a request still running (owner: the process running it, so a key
-- left behind by a process that died can be taken over). Only 2xx replies are kept; body is
-- NULL when the reply was larger than the bound (app/idempotency.c). The cleanup job
-- (app/account_worker.c) deletes rows older than a day.
CREATE TABLE idempotency_keys (
    user_id INTEGER NOT NULL,
    key TEXT NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    request_hash TEXT NOT NULL,
    owner TEXT NOT NULL,
    created_at INTEGER NOT NULL DEFAULT (unixepoch()),
    status INTEGER CHECK (status IS NULL OR status BETWEEN 200 AND 299),
    content_type TEXT,
    headers TEXT,
    body TEXT,
    body_len INTEGER,
    PRIMARY KEY (user_id, key)
) WITHOUT ROWID;
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
