-- Traits and context for users and companies, discovered attributes, and what the AI saw.

CREATE TABLE companies (
  id            TEXT PRIMARY KEY,
  org_id        TEXT NOT NULL REFERENCES workspaces(id),
  external_id   TEXT NOT NULL,                    -- the customer's company_id
  name          TEXT,
  plan          TEXT,
  industry      TEXT,
  custom_fields TEXT NOT NULL DEFAULT '{}',
  context       TEXT NOT NULL DEFAULT '{}',
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL,
  UNIQUE (org_id, external_id)
);

ALTER TABLE end_users ADD COLUMN name TEXT;
ALTER TABLE end_users ADD COLUMN email TEXT;
ALTER TABLE end_users ADD COLUMN role TEXT;
ALTER TABLE end_users ADD COLUMN plan TEXT;
ALTER TABLE end_users ADD COLUMN signed_up_at TEXT;
ALTER TABLE end_users ADD COLUMN company_id TEXT REFERENCES companies(id);
ALTER TABLE end_users ADD COLUMN updated_at INTEGER;
CREATE INDEX end_users_by_company ON end_users(org_id, company_id);

-- Every trait and context key a workspace has sent, with a sample and the team's description.
CREATE TABLE attributes (
  org_id        TEXT NOT NULL REFERENCES workspaces(id),
  scope         TEXT NOT NULL CHECK (scope IN ('user', 'company', 'context')),
  key           TEXT NOT NULL,
  type          TEXT NOT NULL,
  sample        TEXT,
  description   TEXT,
  first_seen_at INTEGER NOT NULL,
  last_seen_at  INTEGER NOT NULL,
  PRIMARY KEY (org_id, scope, key)
);

-- AI messages: the rendered context and the knowledge passages the answer was given (JSON).
ALTER TABLE messages ADD COLUMN trace TEXT;
