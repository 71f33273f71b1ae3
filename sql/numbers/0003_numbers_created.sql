-- Keyset pages sorted on created_at, and the created_after / created_before filters: one index
-- range per page, whatever the page (id, the tie-breaker, is in every index as the rowid).
CREATE INDEX numbers_user_created ON numbers (user_id, created_at);
