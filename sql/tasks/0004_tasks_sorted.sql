-- Keyset pages sorted on created_at, updated_at or title, and the created_after /
-- created_before filters: one index range per page, whatever the page (id, the tie-breaker,
-- is in every index as the rowid).
CREATE INDEX tasks_user_created ON tasks (user_id, created_at);
CREATE INDEX tasks_user_updated ON tasks (user_id, updated_at);
CREATE INDEX tasks_user_title ON tasks (user_id, title);
