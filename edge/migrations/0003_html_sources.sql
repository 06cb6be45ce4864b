-- Knowledge sources may be HTML pages (cleaned to text on ingest). SQLite cannot change a
-- CHECK constraint in place, so the table is rebuilt; foreign keys from knowledge_chunks are
-- checked at commit, when the new table has the old one's name and rows.
PRAGMA defer_foreign_keys = true;

CREATE TABLE knowledge_sources_new (
  id         TEXT PRIMARY KEY,
  org_id     TEXT NOT NULL REFERENCES workspaces(id),
  title      TEXT NOT NULL,
  url        TEXT,
  kind       TEXT NOT NULL CHECK (kind IN ('markdown', 'text', 'html')),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
INSERT INTO knowledge_sources_new (id, org_id, title, url, kind, created_at, updated_at)
  SELECT id, org_id, title, url, kind, created_at, updated_at FROM knowledge_sources;
DROP TABLE knowledge_sources;
ALTER TABLE knowledge_sources_new RENAME TO knowledge_sources;
CREATE INDEX knowledge_sources_by_org ON knowledge_sources(org_id);
-- Re-ingesting a URL finds the source it replaces.
CREATE INDEX knowledge_sources_by_url ON knowledge_sources(org_id, url);

PRAGMA defer_foreign_keys = false;
