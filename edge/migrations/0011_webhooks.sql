-- Outbound actions as signed webhooks (shared/src/webhooks.rs): { action: { url, secret, template? } }.
ALTER TABLE workspaces ADD COLUMN webhooks TEXT NOT NULL DEFAULT '{}';
