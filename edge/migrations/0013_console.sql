-- The console: teammates sign in with an email and a password, in a role; one-time links
-- (invites, sign-in links), sessions held in a cookie, and failed sign-ins for throttling.
ALTER TABLE teammates ADD COLUMN role TEXT NOT NULL DEFAULT 'agent';
-- pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>; NULL until an invited teammate sets one.
ALTER TABLE teammates ADD COLUMN password_hash TEXT;
-- Set when a teammate is removed: their tokens, links and sessions stop working.
ALTER TABLE teammates ADD COLUMN removed_at INTEGER;
CREATE INDEX teammates_by_email ON teammates(email);

CREATE TABLE teammate_links (
  token_hash  TEXT PRIMARY KEY,            -- SHA-256 of the link's tl_… token
  org_id      TEXT NOT NULL REFERENCES workspaces(id),
  teammate_id TEXT NOT NULL REFERENCES teammates(id),
  kind        TEXT NOT NULL,               -- invite | signin
  expires_at  INTEGER NOT NULL,
  used_at     INTEGER
);
CREATE INDEX teammate_links_by_teammate ON teammate_links(teammate_id);

CREATE TABLE console_sessions (
  token_hash  TEXT PRIMARY KEY,            -- SHA-256 of the cookie's cs_… token
  org_id      TEXT NOT NULL REFERENCES workspaces(id),
  teammate_id TEXT NOT NULL REFERENCES teammates(id),
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL
);
CREATE INDEX console_sessions_by_teammate ON console_sessions(teammate_id);

CREATE TABLE signin_failures (
  key TEXT NOT NULL,                       -- email:<address> or ip:<address>
  at  INTEGER NOT NULL
);
CREATE INDEX signin_failures_by_key ON signin_failures(key, at);
