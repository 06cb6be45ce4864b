-- Keys that rotate. Every widget key, secret key and identity secret is a row: the current
-- one has no expiry; one replaced by a rotation works until `expires_at` (the grace period
-- the owner picked), then stops. The widget key is kept in clear (it is published in every
-- page with the widget, and the console shows it in the snippet), the secret key only as its
-- hash (shown once, when issued), the identity secret in clear (it verifies user tokens).
-- The workspaces' own key columns are the first keys' record only, never read again; the
-- identity secret there is blanked, so that it is kept in one place.
CREATE TABLE workspace_keys (
  id         TEXT PRIMARY KEY,
  org_id     TEXT NOT NULL REFERENCES workspaces(id),
  kind       TEXT NOT NULL CHECK (kind IN ('widget', 'secret', 'identity')),
  key_hash   TEXT,            -- SHA-256 of a widget or secret key
  secret     TEXT,            -- the widget key or identity secret, in clear
  hint       TEXT NOT NULL,   -- prefix and last four characters, for the console
  created_at INTEGER NOT NULL,
  expires_at INTEGER
);
CREATE UNIQUE INDEX workspace_keys_by_hash ON workspace_keys(key_hash) WHERE key_hash IS NOT NULL;
CREATE INDEX workspace_keys_by_org ON workspace_keys(org_id, kind, created_at);

INSERT INTO workspace_keys (id, org_id, kind, key_hash, secret, hint, created_at)
  SELECT lower(hex(randomblob(16))), id, 'widget', widget_key_hash, NULL, 'ab_live_…', created_at FROM workspaces;
INSERT INTO workspace_keys (id, org_id, kind, key_hash, secret, hint, created_at)
  SELECT lower(hex(randomblob(16))), id, 'secret', secret_key_hash, NULL, 'sk_live_…', created_at FROM workspaces;
INSERT INTO workspace_keys (id, org_id, kind, key_hash, secret, hint, created_at)
  SELECT lower(hex(randomblob(16))), id, 'identity', NULL, identity_secret,
         'ha_secret_…' || substr(identity_secret, -4), created_at FROM workspaces;
UPDATE workspaces SET identity_secret = '';

-- The widget's look (shared/src/appearance.rs) and the setup wizard's progress
-- (shared/src/settings.rs Setup), JSON.
ALTER TABLE workspaces ADD COLUMN appearance TEXT NOT NULL DEFAULT '{}';
ALTER TABLE workspaces ADD COLUMN setup TEXT NOT NULL DEFAULT '{}';
-- The install check: the first message from the widget on a site (a browser's Origin).
ALTER TABLE workspaces ADD COLUMN widget_seen_at INTEGER;
ALTER TABLE workspaces ADD COLUMN widget_seen_origin TEXT;
