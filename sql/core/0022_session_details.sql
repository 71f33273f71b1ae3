-- What GET /api/auth/sessions shows of a session: where it logged in from (client address and
-- User-Agent, recorded at login) and when it was last used (written by the host at most once a
-- minute per session, so authenticated reads do not each become a write).
ALTER TABLE sessions ADD COLUMN last_used_at INTEGER;
ALTER TABLE sessions ADD COLUMN client_addr TEXT;
ALTER TABLE sessions ADD COLUMN user_agent TEXT;
