-- The console's inbox: what each teammate has opened (for unread marks), and the indexes
-- its views, pages and searches read through.
CREATE TABLE teammate_seen (
  org_id      TEXT NOT NULL REFERENCES workspaces(id),
  teammate_id TEXT NOT NULL REFERENCES teammates(id),
  item        TEXT NOT NULL,               -- c:<session_id> | t:<ticket_id>
  seen_at     INTEGER NOT NULL,
  PRIMARY KEY (teammate_id, item)
);
CREATE INDEX tickets_by_activity ON tickets(org_id, updated_at, id);
CREATE INDEX tickets_by_assignee ON tickets(org_id, assignee, status, updated_at);
CREATE INDEX ticket_messages_by_author ON ticket_messages(ticket_id, author, created_at);
CREATE INDEX messages_by_role ON messages(conversation_id, role, created_at);

-- Inbox search: every customer, AI and teammate line, every ticket message and subject, as
-- they are written (triggers), searched by word prefix. `ref` is the conversation or ticket id.
CREATE VIRTUAL TABLE inbox_fts USING fts5(
  body, org_id UNINDEXED, kind UNINDEXED, ref UNINDEXED, at UNINDEXED,
  tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER inbox_fts_messages AFTER INSERT ON messages WHEN new.role IN ('user', 'ai', 'teammate') BEGIN
  INSERT INTO inbox_fts (body, org_id, kind, ref, at) VALUES (new.body, new.org_id, 'conversation', new.conversation_id, new.created_at);
END;
CREATE TRIGGER inbox_fts_ticket_messages AFTER INSERT ON ticket_messages BEGIN
  INSERT INTO inbox_fts (body, org_id, kind, ref, at) VALUES (new.body, new.org_id, 'ticket', new.ticket_id, new.created_at);
END;
CREATE TRIGGER inbox_fts_tickets AFTER INSERT ON tickets BEGIN
  INSERT INTO inbox_fts (body, org_id, kind, ref, at) VALUES (new.subject, new.org_id, 'ticket', new.id, new.created_at);
END;
CREATE TRIGGER inbox_fts_subjects AFTER UPDATE OF subject ON tickets WHEN new.subject <> old.subject BEGIN
  INSERT INTO inbox_fts (body, org_id, kind, ref, at) VALUES (new.subject, new.org_id, 'ticket', new.id, new.updated_at);
END;
INSERT INTO inbox_fts (body, org_id, kind, ref, at)
  SELECT body, org_id, 'conversation', conversation_id, created_at FROM messages WHERE role IN ('user', 'ai', 'teammate');
INSERT INTO inbox_fts (body, org_id, kind, ref, at)
  SELECT body, org_id, 'ticket', ticket_id, created_at FROM ticket_messages;
INSERT INTO inbox_fts (body, org_id, kind, ref, at)
  SELECT subject, org_id, 'ticket', id, created_at FROM tickets;
CREATE INDEX end_users_by_activity ON end_users(org_id, last_seen_at);
