-- Halo's initial schema. Every tenant table carries org_id, and every query names it.

CREATE TABLE workspaces (
  id                    TEXT PRIMARY KEY,             -- the org id (UUID)
  name                  TEXT NOT NULL,
  widget_key_hash       TEXT NOT NULL UNIQUE,         -- SHA-256 of the publishable key
  secret_key_hash       TEXT NOT NULL UNIQUE,         -- SHA-256 of the secret server key
  identity_secret       TEXT NOT NULL,                -- HMAC key for user JWTs (needed in clear)
  identity_verification INTEGER NOT NULL DEFAULT 0,
  allowed_origins       TEXT,                         -- JSON array of origins; NULL: any origin
  created_at            INTEGER NOT NULL
);

CREATE TABLE agents (
  id           TEXT PRIMARY KEY,
  org_id       TEXT NOT NULL REFERENCES workspaces(id),
  name         TEXT NOT NULL,
  instructions TEXT NOT NULL,
  is_active    INTEGER NOT NULL DEFAULT 0,
  created_at   INTEGER NOT NULL
);
CREATE INDEX agents_by_org ON agents(org_id, is_active);

-- Contacts: identified users (external_id set) and anonymous visitors (external_id NULL).
CREATE TABLE end_users (
  id            TEXT PRIMARY KEY,
  org_id        TEXT NOT NULL REFERENCES workspaces(id),
  external_id   TEXT,
  verified      INTEGER NOT NULL DEFAULT 0,
  custom_fields TEXT NOT NULL DEFAULT '{}',
  context       TEXT NOT NULL DEFAULT '{}',
  created_at    INTEGER NOT NULL,
  last_seen_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX end_users_by_external ON end_users(org_id, external_id) WHERE external_id IS NOT NULL;

CREATE TABLE conversations (
  id           TEXT PRIMARY KEY,
  org_id       TEXT NOT NULL REFERENCES workspaces(id),
  session_id   TEXT NOT NULL,
  end_user_id  TEXT NOT NULL REFERENCES end_users(id),
  agent_id     TEXT NOT NULL REFERENCES agents(id),
  channel      TEXT NOT NULL CHECK (channel IN ('chat', 'voice', 'video', 'livehelp')),
  company_ref  TEXT,                                  -- the company_id the client sent
  needs_human  INTEGER NOT NULL DEFAULT 0,
  last_error   TEXT,                                  -- the latest failure while answering
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL,
  UNIQUE (org_id, session_id)
);
CREATE INDEX conversations_by_user ON conversations(org_id, end_user_id);

CREATE TABLE messages (
  id              TEXT PRIMARY KEY,
  org_id          TEXT NOT NULL REFERENCES workspaces(id),
  conversation_id TEXT NOT NULL REFERENCES conversations(id),
  role            TEXT NOT NULL CHECK (role IN ('user', 'ai', 'teammate', 'system')),
  body            TEXT NOT NULL,
  request         TEXT,        -- user messages: what the client sent besides the text (JSON)
  engine          TEXT,        -- ai messages: which engine answered
  confidence      REAL,
  citations       TEXT,        -- JSON array of {title, url}
  actions         TEXT,        -- JSON array of actions
  error           TEXT,        -- ai messages: what failed before this answer, if anything
  created_at      INTEGER NOT NULL
);
CREATE INDEX messages_by_conversation ON messages(conversation_id, created_at);

CREATE TABLE message_images (
  message_id TEXT NOT NULL REFERENCES messages(id),
  org_id     TEXT NOT NULL,
  position   INTEGER NOT NULL,
  url        TEXT NOT NULL,
  PRIMARY KEY (message_id, position)
);

CREATE TABLE knowledge_sources (
  id         TEXT PRIMARY KEY,
  org_id     TEXT NOT NULL REFERENCES workspaces(id),
  title      TEXT NOT NULL,
  url        TEXT,
  kind       TEXT NOT NULL CHECK (kind IN ('markdown', 'text')),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX knowledge_sources_by_org ON knowledge_sources(org_id);

CREATE TABLE knowledge_chunks (
  id        INTEGER PRIMARY KEY,
  org_id    TEXT NOT NULL,
  source_id TEXT NOT NULL REFERENCES knowledge_sources(id),
  position  INTEGER NOT NULL,
  title     TEXT NOT NULL,
  heading   TEXT,
  body      TEXT NOT NULL
);
CREATE INDEX knowledge_chunks_by_source ON knowledge_chunks(org_id, source_id);

-- Full-text index over the chunks (external content: the text lives once, in knowledge_chunks).
CREATE VIRTUAL TABLE knowledge_fts USING fts5(
  title, heading, body,
  content = 'knowledge_chunks', content_rowid = 'id',
  tokenize = 'porter unicode61'
);
CREATE TRIGGER knowledge_chunks_ai AFTER INSERT ON knowledge_chunks BEGIN
  INSERT INTO knowledge_fts(rowid, title, heading, body) VALUES (new.id, new.title, new.heading, new.body);
END;
CREATE TRIGGER knowledge_chunks_ad AFTER DELETE ON knowledge_chunks BEGIN
  INSERT INTO knowledge_fts(knowledge_fts, rowid, title, heading, body) VALUES ('delete', old.id, old.title, old.heading, old.body);
END;
