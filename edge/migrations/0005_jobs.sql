-- Long knowledge work (crawls) runs as jobs in bounded steps; the state between steps lives here.
CREATE TABLE knowledge_jobs (
  id         TEXT PRIMARY KEY,
  org_id     TEXT NOT NULL REFERENCES workspaces(id),
  kind       TEXT NOT NULL CHECK (kind IN ('crawl')),
  status     TEXT NOT NULL CHECK (status IN ('running', 'done')),
  state      TEXT NOT NULL,           -- JSON: what is queued, seen and done
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX knowledge_jobs_running ON knowledge_jobs(status, updated_at);
