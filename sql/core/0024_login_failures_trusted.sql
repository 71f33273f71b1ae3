-- Which channel a failed login came through (docs/auth.md "Brute force"): 1 for a request no
-- other site's page can make a browser send (application/json, which needs a CORS preflight,
-- from no Origin or an origin cors_origins lists by name), 0 for one it can (a form post).
-- The per-username lock of a trusted login counts only trusted failures, so failures forged
-- through other people's browsers cannot lock the owner out of the app.
ALTER TABLE login_failures ADD COLUMN trusted INTEGER NOT NULL DEFAULT 0 CHECK (trusted IN (0, 1));
