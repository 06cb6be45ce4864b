-- Email as a channel.
--
-- Conversations may be email ones: SQLite cannot change a CHECK, so the table is rebuilt
-- (foreign keys checked at the end of the migration; the one trigger that names the table is
-- dropped and made again around the rebuild).
PRAGMA defer_foreign_keys = true;
DROP TRIGGER IF EXISTS messages_rating_resolves;
-- The rows wait in a plain copy while the table is made again: inserting them back is what
-- settles the deferred foreign-key count that dropping the table raised.
CREATE TABLE conversations_copy AS SELECT * FROM conversations;
DROP TABLE conversations;
CREATE TABLE conversations (
  id              TEXT PRIMARY KEY,
  org_id          TEXT NOT NULL REFERENCES workspaces(id),
  session_id      TEXT NOT NULL,
  end_user_id     TEXT NOT NULL REFERENCES end_users(id),
  agent_id        TEXT NOT NULL REFERENCES agents(id),
  channel         TEXT NOT NULL CHECK (channel IN ('chat', 'voice', 'video', 'livehelp', 'email')),
  company_ref     TEXT,
  needs_human     INTEGER NOT NULL DEFAULT 0,
  last_error      TEXT,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  taken_over_by   TEXT REFERENCES teammates(id),
  mood            TEXT CHECK (mood IN ('happy', 'neutral', 'confused', 'frustrated', 'angry')),
  sentiment_sum   REAL NOT NULL DEFAULT 0,
  sentiment_count INTEGER NOT NULL DEFAULT 0,
  outcome         TEXT CHECK (outcome IN ('resolved', 'escalated', 'abandoned')),
  outcome_at      INTEGER,
  UNIQUE (org_id, session_id)
);
INSERT INTO conversations (id, org_id, session_id, end_user_id, agent_id, channel, company_ref, needs_human,
    last_error, created_at, updated_at, taken_over_by, mood, sentiment_sum, sentiment_count, outcome, outcome_at)
  SELECT id, org_id, session_id, end_user_id, agent_id, channel, company_ref, needs_human,
    last_error, created_at, updated_at, taken_over_by, mood, sentiment_sum, sentiment_count, outcome, outcome_at
  FROM conversations_copy;
DROP TABLE conversations_copy;
CREATE INDEX conversations_by_user ON conversations(org_id, end_user_id);
CREATE INDEX conversations_by_activity ON conversations(org_id, updated_at);
CREATE INDEX conversations_live ON conversations(outcome, updated_at);
CREATE INDEX conversations_by_page ON conversations(org_id, updated_at, session_id);
CREATE TRIGGER messages_rating_resolves AFTER UPDATE OF rating ON messages
WHEN new.rating = 1 AND new.role = 'ai'
BEGIN
  UPDATE conversations SET outcome = 'resolved', outcome_at = CAST(strftime('%s', 'now') AS INTEGER) * 1000
  WHERE id = new.conversation_id AND org_id = new.org_id AND outcome IS NULL;
END;

-- Every email in or out, by its Message-ID: the thread's ids for threading, each message
-- processed once (providers retry), and what went out (or would have: the local sink).
CREATE TABLE emails (
  id           TEXT PRIMARY KEY,
  org_id       TEXT NOT NULL REFERENCES workspaces(id),
  ticket_id    TEXT REFERENCES tickets(id),
  direction    TEXT NOT NULL CHECK (direction IN ('in', 'out')),
  message_id   TEXT NOT NULL,
  in_reply_to  TEXT,
  refs         TEXT NOT NULL DEFAULT '[]',   -- JSON array of Message-IDs
  from_address TEXT,
  to_address   TEXT,
  reply_to     TEXT,                         -- out: the ticket's reply address
  subject      TEXT NOT NULL DEFAULT '',
  body         TEXT NOT NULL DEFAULT '',     -- the full text
  attachments  TEXT NOT NULL DEFAULT '[]',   -- JSON [{ name, content_type, size }]
  -- in: received, spam, ignored (automatic mail: never answered); out: sent, recorded
  -- (the local sink), failed
  status       TEXT NOT NULL,
  reason       TEXT,
  size         INTEGER NOT NULL DEFAULT 0,
  created_at   INTEGER NOT NULL
);
CREATE UNIQUE INDEX emails_by_message_id ON emails(org_id, message_id);
CREATE INDEX emails_by_ticket ON emails(org_id, ticket_id, created_at);

-- Mailgun webhook tokens seen (a replayed delivery is refused); kept past the window.
CREATE TABLE email_tokens (
  token TEXT PRIMARY KEY,
  at    INTEGER NOT NULL
);

-- A workspace's email settings (shared/src/email.rs EmailSettings, JSON: AI mode, trusted
-- senders, the Mailgun signing key), its own inbound address if it chose one (else
-- <org id>@EMAIL_DOMAIN), and the key of its reply addresses' MACs.
ALTER TABLE workspaces ADD COLUMN email TEXT NOT NULL DEFAULT '{}';
ALTER TABLE workspaces ADD COLUMN inbound_email TEXT;
CREATE UNIQUE INDEX workspaces_by_inbound_email ON workspaces(inbound_email) WHERE inbound_email IS NOT NULL;
ALTER TABLE workspaces ADD COLUMN email_secret TEXT;
UPDATE workspaces SET email_secret = lower(hex(randomblob(32))) WHERE email_secret IS NULL;
