-- Conversation lists page by (updated_at, session_id): an index in that order lets the first
-- page read 51 rows instead of sorting all of the workspace's conversations. And each listed
-- conversation finds its latest ticket by index, not by reading every ticket.
CREATE INDEX conversations_by_page ON conversations(org_id, updated_at, session_id);
CREATE INDEX tickets_by_conversation ON tickets(org_id, conversation_id, created_at);
