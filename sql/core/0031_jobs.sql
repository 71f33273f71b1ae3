-- Long work (app/jobs.c): one row per job a plugin started for a user (api->job_start), read at
-- GET /api/jobs/{id} by that user. state: queued -> running -> done | failed. done counts the
-- items handled of total, failed those that failed; errors keeps the first 100 failures as
-- [{"at": n, "detail": "..."}]; detail says why a failed job stopped.
CREATE TABLE jobs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    state       TEXT NOT NULL DEFAULT 'queued'
                CHECK (state IN ('queued', 'running', 'done', 'failed')),
    total       INTEGER NOT NULL CHECK (total >= 0),
    done        INTEGER NOT NULL DEFAULT 0 CHECK (done >= 0),
    failed      INTEGER NOT NULL DEFAULT 0 CHECK (failed >= 0),
    errors      TEXT NOT NULL DEFAULT '[]',
    detail      TEXT,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    finished_at TEXT
) STRICT;

-- A user's jobs, in id order both ways (keyset pages), and the count of its unfinished ones.
CREATE INDEX jobs_user ON jobs (user_id, id);

-- Accounts are soft-deleted: their jobs go with them.
CREATE TRIGGER jobs_user_deleted AFTER UPDATE OF deleted_at ON users
WHEN NEW.deleted_at IS NOT NULL
BEGIN
    DELETE FROM jobs WHERE user_id = NEW.id;
END;
