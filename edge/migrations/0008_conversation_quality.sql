-- What the team sees about a conversation (mood, outcome, the AI score's inputs), ratings and
-- trainer feedback on answers, whispers to the AI, a workspace's routing settings, an agent's
-- escalation threshold, and the team a ticket is routed to.

ALTER TABLE conversations ADD COLUMN mood TEXT CHECK (mood IN ('happy', 'neutral', 'confused', 'frustrated', 'angry'));
ALTER TABLE conversations ADD COLUMN sentiment_sum REAL NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN sentiment_count INTEGER NOT NULL DEFAULT 0;
-- NULL while the conversation is live.
ALTER TABLE conversations ADD COLUMN outcome TEXT CHECK (outcome IN ('resolved', 'escalated', 'abandoned'));
ALTER TABLE conversations ADD COLUMN outcome_at INTEGER;
CREATE INDEX conversations_by_activity ON conversations(org_id, updated_at);
CREATE INDEX conversations_live ON conversations(outcome, updated_at);

ALTER TABLE messages ADD COLUMN sentiment REAL;                             -- user messages, -1..1
ALTER TABLE messages ADD COLUMN rating INTEGER CHECK (rating IN (-1, 1));   -- AI messages, by the user

CREATE TABLE message_feedback (
  id          TEXT PRIMARY KEY,
  org_id      TEXT NOT NULL REFERENCES workspaces(id),
  message_id  TEXT NOT NULL REFERENCES messages(id),
  teammate_id TEXT NOT NULL REFERENCES teammates(id),
  kind        TEXT NOT NULL CHECK (kind IN ('feedback', 'correction')),
  body        TEXT NOT NULL,
  created_at  INTEGER NOT NULL
);
CREATE INDEX message_feedback_by_message ON message_feedback(org_id, message_id);

-- A teammate's note to the AI: steers the next reply (used_at set once it has), or every reply
-- to that customer when persist = 1.
CREATE TABLE whispers (
  id              TEXT PRIMARY KEY,
  org_id          TEXT NOT NULL REFERENCES workspaces(id),
  conversation_id TEXT NOT NULL REFERENCES conversations(id),
  end_user_id     TEXT NOT NULL REFERENCES end_users(id),
  teammate_id     TEXT NOT NULL REFERENCES teammates(id),
  body            TEXT NOT NULL,
  persist         INTEGER NOT NULL DEFAULT 0,
  used_at         INTEGER,
  created_at      INTEGER NOT NULL
);
CREATE INDEX whispers_by_conversation ON whispers(org_id, conversation_id);
CREATE INDEX whispers_by_user ON whispers(org_id, end_user_id) WHERE persist = 1;

-- Priority filters, routing rules and the abandon time (shared/src/routing.rs).
ALTER TABLE workspaces ADD COLUMN routing TEXT NOT NULL DEFAULT '{}';
-- Below this confidence the agent escalates to the team (0: never for low confidence).
ALTER TABLE agents ADD COLUMN escalation_threshold REAL NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN team TEXT;
CREATE INDEX tickets_by_team ON tickets(org_id, team, status);
