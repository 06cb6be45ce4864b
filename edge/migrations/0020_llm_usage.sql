-- What each workspace spends on models, by UTC day (days since the epoch): the daily
-- budget's count (shared/src/limits.rs).
CREATE TABLE llm_usage (
  org_id   TEXT NOT NULL REFERENCES workspaces(id),
  day      INTEGER NOT NULL,
  requests INTEGER NOT NULL DEFAULT 0,
  tokens   INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (org_id, day)
);
