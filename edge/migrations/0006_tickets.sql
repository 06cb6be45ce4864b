-- Tickets: work items the team owns, with a thread of messages (chat, email, notes, and the
-- transcript attached on escalation).
CREATE TABLE tickets (
  id                TEXT PRIMARY KEY,
  org_id            TEXT NOT NULL REFERENCES workspaces(id),
  subject           TEXT NOT NULL,
  status            TEXT NOT NULL CHECK (status IN ('open', 'priority', 'in_progress', 'snoozed', 'resolved', 'spam')),
  snoozed_until     INTEGER,
  assignee          TEXT,
  channel           TEXT NOT NULL,
  source            TEXT NOT NULL CHECK (source IN ('api', 'escalation', 'takeover', 'email', 'integration')),
  end_user_id       TEXT REFERENCES end_users(id),
  company_id        TEXT REFERENCES companies(id),
  conversation_id   TEXT REFERENCES conversations(id),
  custom_fields     TEXT NOT NULL DEFAULT '{}',
  ai_confidence     REAL,
  escalation_reason TEXT,
  created_at        INTEGER NOT NULL,
  updated_at        INTEGER NOT NULL
);
CREATE INDEX tickets_by_status ON tickets(org_id, status, updated_at);

CREATE TABLE ticket_messages (
  id         TEXT PRIMARY KEY,
  org_id     TEXT NOT NULL,
  ticket_id  TEXT NOT NULL REFERENCES tickets(id),
  kind       TEXT NOT NULL CHECK (kind IN ('chat', 'email', 'note', 'transcript')),
  author     TEXT NOT NULL CHECK (author IN ('customer', 'teammate', 'ai', 'system')),
  body       TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX ticket_messages_by_ticket ON ticket_messages(ticket_id, created_at);
