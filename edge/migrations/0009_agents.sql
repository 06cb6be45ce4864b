-- Agents become configurable: enabled skills (tools), channels, escalation rules, an LLM
-- choice; archived agents stay for the conversations pinned to them.
ALTER TABLE agents ADD COLUMN skills TEXT NOT NULL DEFAULT '["search_knowledge","create_ticket","escalate"]';
ALTER TABLE agents ADD COLUMN channels TEXT NOT NULL DEFAULT '["chat","voice","video","livehelp"]';
ALTER TABLE agents ADD COLUMN rules TEXT NOT NULL DEFAULT '[]';
ALTER TABLE agents ADD COLUMN llm TEXT NOT NULL DEFAULT '{"provider":"default"}';
ALTER TABLE agents ADD COLUMN archived_at INTEGER;
ALTER TABLE agents ADD COLUMN updated_at INTEGER;
