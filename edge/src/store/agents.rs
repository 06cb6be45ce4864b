//! Agents of a workspace.

use halo_shared::agents::{AgentFields, AgentView, LlmChoice};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use worker::{query, D1Database, D1PreparedStatement, Result};

use crate::platform::now_ms;

/// An agent as stored (its lists and model choice are JSON text in D1, read typed).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AgentRow {
    pub id: String,
    pub name: String,
    pub instructions: String,
    pub is_active: i64,
    #[serde(deserialize_with = "super::json_text")]
    pub skills: Vec<String>,
    #[serde(deserialize_with = "super::json_text")]
    pub channels: Vec<String>,
    #[serde(deserialize_with = "super::json_text")]
    pub rules: Vec<String>,
    #[serde(deserialize_with = "super::json_text")]
    pub llm: LlmChoice,
    pub escalation_threshold: f64,
    pub created_at: i64,
    pub updated_at: Option<i64>,
}

impl AgentRow {
    /// The agent as a turn uses it.
    pub fn as_agent(&self) -> super::Agent {
        super::Agent {
            id: self.id.clone(),
            instructions: self.instructions.clone(),
            escalation_threshold: self.escalation_threshold,
            rules: self.rules.clone(),
            skills: self.skills.clone(),
            llm: self.llm.clone(),
        }
    }

    pub fn to_json(&self) -> Value {
        json!(AgentView {
            agent_id: self.id.clone(),
            name: self.name.clone(),
            instructions: self.instructions.clone(),
            active: self.is_active != 0,
            skills: self.skills.clone(),
            channels: self.channels.clone(),
            rules: self.rules.clone(),
            llm: self.llm.clone(),
            escalation_threshold: self.escalation_threshold,
            created_at: self.created_at,
            updated_at: self.updated_at.unwrap_or(self.created_at),
        })
    }
}

const COLUMNS: &str = "id, name, instructions, is_active, skills, channels, rules, llm, escalation_threshold, created_at, updated_at";

/// The id of the agent that answers `channel`: one that serves it (the active one first),
/// else the active agent.
pub async fn channel_agent(db: &D1Database, org: &str, channel: &str) -> Result<Option<String>> {
    #[derive(Deserialize)]
    struct Row {
        id: String,
    }
    let row: Option<Row> = query!(
        db,
        "SELECT id FROM agents WHERE org_id = ?1 AND archived_at IS NULL
         ORDER BY EXISTS (SELECT 1 FROM json_each(agents.channels) WHERE value = ?2) DESC, is_active DESC, created_at LIMIT 1",
        org,
        channel
    )?
    .first(None)
    .await?;
    Ok(row.map(|r| r.id))
}

/// The workspace's agents (archived ones left out), the active one first.
pub async fn list(db: &D1Database, org: &str) -> Result<Vec<AgentRow>> {
    query!(
        db,
        &format!("SELECT {COLUMNS} FROM agents WHERE org_id = ?1 AND archived_at IS NULL ORDER BY is_active DESC, created_at"),
        org
    )?
    .all()
    .await?
    .results()
}

pub async fn get(db: &D1Database, org: &str, id: &str) -> Result<Option<AgentRow>> {
    query!(
        db,
        &format!(
            "SELECT {COLUMNS} FROM agents WHERE org_id = ?1 AND id = ?2 AND archived_at IS NULL"
        ),
        org,
        id
    )?
    .first(None)
    .await
}

fn json_list(v: &Option<Vec<String>>) -> Option<String> {
    v.as_ref().map(|l| json!(l).to_string())
}

/// Creates an agent with `f` (name required; the rest defaults).
pub fn insert(
    db: &D1Database,
    org: &str,
    id: &str,
    f: &AgentFields,
) -> Result<D1PreparedStatement> {
    let now = now_ms();
    query!(
        db,
        "INSERT INTO agents (id, org_id, name, instructions, is_active, skills, channels, rules, llm, escalation_threshold, created_at, updated_at)
         VALUES (?1, ?2, ?3, COALESCE(?4, ?12), 0,
                 COALESCE(?5, '[\"search_knowledge\",\"create_ticket\",\"escalate\"]'),
                 COALESCE(?6, '[\"chat\",\"voice\",\"video\",\"livehelp\"]'),
                 COALESCE(?7, '[]'), COALESCE(?8, '{\"provider\":\"default\"}'), COALESCE(?9, 0), ?10, ?11)",
        id,
        org,
        f.name.as_deref().unwrap_or("Agent"),
        f.instructions.as_deref(),
        json_list(&f.skills),
        json_list(&f.channels),
        json_list(&f.rules),
        f.llm.as_ref().map(|l| json!(l).to_string()),
        f.escalation_threshold,
        now,
        now,
        halo_shared::llm::DEFAULT_INSTRUCTIONS
    )
}

/// Changes the fields `f` carries; false if the workspace has no such agent.
pub async fn update(db: &D1Database, org: &str, id: &str, f: &AgentFields) -> Result<bool> {
    let mut batch = vec![query!(
        db,
        "UPDATE agents SET name = COALESCE(?3, name), instructions = COALESCE(?4, instructions),
           skills = COALESCE(?5, skills), channels = COALESCE(?6, channels), rules = COALESCE(?7, rules),
           llm = COALESCE(?8, llm), escalation_threshold = COALESCE(?9, escalation_threshold), updated_at = ?10
         WHERE org_id = ?1 AND id = ?2 AND archived_at IS NULL",
        org,
        id,
        f.name.as_deref(),
        f.instructions.as_deref(),
        json_list(&f.skills),
        json_list(&f.channels),
        json_list(&f.rules),
        f.llm.as_ref().map(|l| json!(l).to_string()),
        f.escalation_threshold,
        now_ms()
    )?];
    if f.active == Some(true) {
        batch.push(activate(db, org, id)?);
    }
    let results = db.batch(batch).await?;
    Ok(results
        .first()
        .and_then(|r| r.meta().ok().flatten())
        .and_then(|m| m.changes)
        .unwrap_or(0)
        > 0)
}

/// Makes `id` the workspace's only active agent.
pub fn activate(db: &D1Database, org: &str, id: &str) -> Result<D1PreparedStatement> {
    query!(
        db,
        "UPDATE agents SET is_active = CASE WHEN id = ?2 THEN 1 ELSE 0 END
         WHERE org_id = ?1 AND EXISTS (SELECT 1 FROM agents WHERE org_id = ?1 AND id = ?2 AND archived_at IS NULL)",
        org,
        id
    )
}

/// Archives an agent (conversations pinned to it keep it); never the active one.
pub async fn archive(db: &D1Database, org: &str, id: &str) -> Result<bool> {
    let r = query!(
        db,
        "UPDATE agents SET archived_at = ?3 WHERE org_id = ?1 AND id = ?2 AND archived_at IS NULL AND is_active = 0",
        org,
        id,
        now_ms()
    )?
    .run()
    .await?;
    Ok(r.meta()?.and_then(|m| m.changes).unwrap_or(0) > 0)
}
