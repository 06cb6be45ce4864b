-- A workspace's rate limits (shared/src/limits.rs Limits, JSON; '{}' is the defaults).
ALTER TABLE workspaces ADD COLUMN limits TEXT NOT NULL DEFAULT '{}';
