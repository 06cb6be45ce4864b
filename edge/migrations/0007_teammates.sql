-- Teammates (members of a workspace) with inbox API tokens, and takeover of conversations.
CREATE TABLE teammates (
  id         TEXT PRIMARY KEY,
  org_id     TEXT NOT NULL REFERENCES workspaces(id),
  name       TEXT NOT NULL,
  email      TEXT,
  token_hash TEXT NOT NULL UNIQUE,          -- SHA-256 of the inbox token tm_live_…
  created_at INTEGER NOT NULL
);
CREATE INDEX teammates_by_org ON teammates(org_id);

-- The teammate who took over a conversation (the AI stays quiet while set).
ALTER TABLE conversations ADD COLUMN taken_over_by TEXT REFERENCES teammates(id);
