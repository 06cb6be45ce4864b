//! D1 storage. Bound parameters only, and every query that touches tenant data names the
//! workspace (`org_id`): isolation is in the query text, not in the caller's memory.

pub mod agents;
pub mod console;
pub mod contacts;
pub mod email;
pub mod inbox;
pub mod keys;
pub mod teammates;
pub mod tickets;
pub mod usage;
pub mod views;

use halo_shared::agents::LlmChoice;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use worker::{query, D1Database, D1PreparedStatement, D1Result, Result};

use crate::platform::{new_id, now_ms};

/// A workspace, as handlers see it (no credentials).
#[derive(Debug, Clone, Deserialize)]
pub struct Workspace {
    pub id: String,
    pub name: String,
    allowed_origins: Option<String>,
    pub identity_verification: i64,
    /// The HMAC keys for user tokens that still work (the current one and any in a grace
    /// period), a JSON array: they leave the store only to verify a token.
    identity_secrets: Redacted,
    pub created_at: i64,
    /// The routing document (shared/src/routing.rs), JSON.
    pub routing: String,
    /// Outbound action webhooks (shared/src/webhooks.rs), JSON with their secrets.
    pub webhooks: Redacted,
    /// The active agent's escalation threshold (read by the admin API only).
    #[serde(default)]
    pub escalation_threshold: Option<f64>,
    /// The widget's look (shared/src/appearance.rs), JSON.
    pub appearance: String,
    /// The setup wizard's progress (shared/src/settings.rs), JSON.
    pub setup: String,
    /// When the first message from the widget on a site arrived, and from which origin.
    pub widget_seen_at: Option<i64>,
    pub widget_seen_origin: Option<String>,
    /// Its rate limits (shared/src/limits.rs), JSON.
    #[serde(default)]
    pub limits: String,
    /// The email channel's settings (shared/src/settings.rs EmailSettings), JSON.
    #[serde(default)]
    pub email: String,
    /// The inbound address it chose, if any.
    #[serde(default)]
    pub inbound_email: Option<String>,
}

/// A secret read from storage; `Debug` never shows it.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct Redacted(String);

impl Redacted {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Redacted(…)")
    }
}

impl Workspace {
    /// The origins allowed to use the widget key, or `None` for any origin.
    pub fn allowed_origins(&self) -> Option<Vec<String>> {
        self.allowed_origins
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok())
    }

    /// The identity secrets a user token may be signed with.
    pub fn identity_secrets(&self) -> Vec<String> {
        serde_json::from_str(self.identity_secrets.expose()).unwrap_or_default()
    }
}

/// A workspace's columns as [`Workspace`] reads them, from `workspaces w`.
fn workspace_columns() -> String {
    format!(
        "w.id, w.name, w.allowed_origins, w.identity_verification, w.created_at, w.routing, w.webhooks,
         w.appearance, w.setup, w.widget_seen_at, w.widget_seen_origin, w.limits, w.email, w.inbound_email,
         (SELECT json_group_array(k.secret) FROM workspace_keys k
          WHERE k.org_id = w.id AND k.kind = 'identity' AND {}) AS identity_secrets",
        keys::LIVE
    )
}

/// The workspace a live key of `kind` hashed as `?1` belongs to, as a condition on `w`.
fn key_owner(kind: &str) -> String {
    format!(
        "w.id = (SELECT k.org_id FROM workspace_keys k WHERE k.key_hash = ?1 AND k.kind = '{kind}' AND {})",
        keys::LIVE
    )
}

/// The workspace a widget key hash belongs to, with the agent that should answer: the one
/// `agent_id` names (`None` if it names no agent of this workspace), else the active agent.
/// One round trip, since it is on every chat request.
pub async fn workspace_and_agent_by_widget_key(
    db: &D1Database,
    hash: &str,
    agent_id: Option<&str>,
    channel: Option<&str>,
) -> Result<Option<(Workspace, Option<Agent>)>> {
    let row = widget_caller_statement(db, hash, agent_id, channel)?
        .first(None)
        .await?;
    Ok(widget_caller_from(row))
}

/// The row of [`widget_caller_statement`]: the workspace with its agent's columns.
#[derive(Deserialize)]
pub struct CallerRow {
    #[serde(flatten)]
    ws: Workspace,
    agent_id: Option<String>,
    agent_instructions: Option<String>,
    agent_threshold: Option<f64>,
    #[serde(deserialize_with = "json_text")]
    agent_rules: Vec<String>,
    #[serde(deserialize_with = "json_text")]
    agent_skills: Vec<String>,
    #[serde(deserialize_with = "json_text")]
    agent_llm: LlmChoice,
}

/// What [`workspace_and_agent_by_widget_key`] reads, as one statement (for a batch).
pub fn widget_caller_statement(
    db: &D1Database,
    hash: &str,
    agent_id: Option<&str>,
    channel: Option<&str>,
) -> Result<D1PreparedStatement> {
    query!(
        db,
        &format!(
            "SELECT {}, a.id AS agent_id, a.instructions AS agent_instructions, a.escalation_threshold AS agent_threshold,
                a.rules AS agent_rules, a.skills AS agent_skills, a.llm AS agent_llm
             FROM workspaces w
             LEFT JOIN agents a ON a.id = (
               SELECT id FROM agents WHERE org_id = w.id AND archived_at IS NULL AND (?2 IS NULL OR id = ?2)
               ORDER BY (?3 IS NULL OR EXISTS (SELECT 1 FROM json_each(agents.channels) WHERE value = ?3)) DESC,
                        is_active DESC, created_at LIMIT 1)
             WHERE {}",
            workspace_columns(),
            key_owner("widget")
        ),
        hash,
        agent_id,
        channel
    )
}

pub fn widget_caller_from(row: Option<CallerRow>) -> Option<(Workspace, Option<Agent>)> {
    row.map(|r| {
        let agent = r
            .agent_id
            .zip(r.agent_instructions)
            .map(|(id, instructions)| Agent {
                id,
                instructions,
                escalation_threshold: r.agent_threshold.unwrap_or(0.0),
                rules: r.agent_rules,
                skills: r.agent_skills,
                llm: r.agent_llm,
            });
        let ws = Workspace {
            escalation_threshold: r.agent_threshold,
            ..r.ws
        };
        (ws, agent)
    })
}

/// The active agent's escalation threshold, as a column of `w`.
const THRESHOLD: &str = "(SELECT escalation_threshold FROM agents WHERE org_id = w.id ORDER BY is_active DESC, created_at LIMIT 1) AS escalation_threshold";

pub async fn workspace_by_secret_key(db: &D1Database, hash: &str) -> Result<Option<Workspace>> {
    query!(
        db,
        &format!(
            "SELECT {}, {THRESHOLD} FROM workspaces w WHERE {}",
            workspace_columns(),
            key_owner("secret")
        ),
        hash
    )?
    .first(None)
    .await
}

pub async fn workspace_by_id(db: &D1Database, id: &str) -> Result<Option<Workspace>> {
    query!(
        db,
        &format!(
            "SELECT {}, {THRESHOLD} FROM workspaces w WHERE w.id = ?1",
            workspace_columns()
        ),
        id
    )?
    .first(None)
    .await
}

/// The statement that opens conversation `session` for the contact `contact` (an external
/// id) on `channel`, pinned to `agent_id` (an email ticket's conversation).
pub fn conversation_for_contact(
    db: &D1Database,
    org: &str,
    session: &str,
    contact: &str,
    agent_id: &str,
    channel: &str,
) -> Result<D1PreparedStatement> {
    let now = now_ms();
    query!(
        db,
        "INSERT INTO conversations (id, org_id, session_id, end_user_id, agent_id, channel, created_at, updated_at)
         VALUES (?1, ?2, ?3, (SELECT id FROM end_users WHERE org_id = ?2 AND external_id = ?4), ?5, ?6, ?7, ?7)
         ON CONFLICT (org_id, session_id) DO NOTHING",
        new_id(),
        org,
        session,
        contact,
        agent_id,
        channel,
        now
    )
}

/// What a new workspace is created with.
pub struct NewWorkspace<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub widget_key: &'a str,
    pub secret_key: &'a str,
    pub identity_secret: &'a str,
    pub allowed_origins: Option<String>,
    pub agent_id: &'a str,
    pub agent_instructions: &'a str,
}

/// Creates the workspace, its keys and its default, active agent in one transaction.
pub async fn insert_workspace(db: &D1Database, ws: &NewWorkspace<'_>) -> Result<()> {
    use halo_shared::keys::KeyKind;
    let now = now_ms();
    let key = |kind, value| keys::insert(db, ws.id, &keys::NewKey { kind, value }, now);
    // The workspace's own key columns (NOT NULL, UNIQUE) take the first keys' hashes as a
    // record; the keys themselves live in workspace_keys (migration 0017).
    let (widget_hash, secret_hash) = (
        crate::platform::key_hash(ws.widget_key),
        crate::platform::key_hash(ws.secret_key),
    );
    db.batch(vec![
        query!(
            db,
            "INSERT INTO workspaces (id, name, widget_key_hash, secret_key_hash, identity_secret, allowed_origins, created_at, email_secret)
             VALUES (?1, ?2, ?3, ?4, '', ?5, ?6, lower(hex(randomblob(32))))",
            ws.id, ws.name, widget_hash, secret_hash, ws.allowed_origins, now
        )?,
        key(KeyKind::Widget, ws.widget_key)?,
        key(KeyKind::Secret, ws.secret_key)?,
        key(KeyKind::Identity, ws.identity_secret)?,
        query!(
            db,
            "INSERT INTO agents (id, org_id, name, instructions, is_active, created_at) VALUES (?1, ?2, 'Support agent', ?3, 1, ?4)",
            ws.agent_id, ws.id, ws.agent_instructions, now
        )?,
    ])
    .await?;
    Ok(())
}

/// What a settings change writes: each field present is set (its JSON documents already
/// merged with what was stored).
#[derive(Default)]
pub struct WorkspaceChanges {
    pub name: Option<String>,
    /// `Some(None)`: any origin again.
    pub allowed_origins: Option<Option<String>>,
    pub identity_verification: Option<bool>,
    pub routing: Option<String>,
    /// The active agent's.
    pub escalation_threshold: Option<f64>,
    pub webhooks: Option<String>,
    pub appearance: Option<String>,
    pub setup: Option<String>,
    pub email: Option<String>,
    pub limits: Option<String>,
}

/// Writes `changes` in one transaction.
pub async fn update_workspace(db: &D1Database, id: &str, changes: WorkspaceChanges) -> Result<()> {
    let mut batch = Vec::new();
    let texts = [
        ("name", changes.name),
        ("routing", changes.routing),
        ("webhooks", changes.webhooks),
        ("appearance", changes.appearance),
        ("setup", changes.setup),
        ("email", changes.email),
        ("limits", changes.limits),
    ];
    for (column, value) in texts {
        if let Some(v) = value {
            // The column names are this list's own, never the caller's.
            batch.push(query!(
                db,
                &format!("UPDATE workspaces SET {column} = ?2 WHERE id = ?1"),
                id,
                v
            )?);
        }
    }
    if let Some(origins) = changes.allowed_origins {
        batch.push(query!(
            db,
            "UPDATE workspaces SET allowed_origins = ?2 WHERE id = ?1",
            id,
            origins
        )?);
    }
    if let Some(on) = changes.identity_verification {
        batch.push(query!(
            db,
            "UPDATE workspaces SET identity_verification = ?2 WHERE id = ?1",
            id,
            i32::from(on)
        )?);
    }
    if let Some(t) = changes.escalation_threshold {
        batch.push(query!(
            db,
            "UPDATE agents SET escalation_threshold = ?2
             WHERE id = (SELECT id FROM agents WHERE org_id = ?1 ORDER BY is_active DESC, created_at LIMIT 1)",
            id,
            t
        )?);
    }
    if !batch.is_empty() {
        db.batch(batch).await?;
    }
    Ok(())
}

/// Whether a verified user (one whose identity token checked out) has been seen.
pub async fn verified_traffic(db: &D1Database, org: &str) -> Result<bool> {
    #[derive(Deserialize)]
    struct Row {
        seen: i64,
    }
    let row: Option<Row> = query!(
        db,
        "SELECT EXISTS (SELECT 1 FROM end_users WHERE org_id = ?1 AND verified = 1) AS seen",
        org
    )?
    .first(None)
    .await?;
    Ok(row.is_some_and(|r| r.seen != 0))
}

/// An agent: who answers, with which instructions.
#[derive(Debug, Clone, Deserialize)]
pub struct Agent {
    pub id: String,
    pub instructions: String,
    /// Below this confidence the agent escalates (0: never for low confidence).
    pub escalation_threshold: f64,
    /// Escalation rules, as the model reads them.
    #[serde(deserialize_with = "json_text")]
    pub rules: Vec<String>,
    /// The tools the model may call.
    #[serde(deserialize_with = "json_text")]
    pub skills: Vec<String>,
    #[serde(deserialize_with = "json_text")]
    pub llm: LlmChoice,
}

/// A TEXT column that holds JSON, read as the type it holds (its default when the text is
/// missing or not that JSON, as a row written before the column existed may be).
pub(crate) fn json_text<'de, D, T>(d: D) -> std::result::Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned + Default,
{
    let text = Option::<String>::deserialize(d)?;
    Ok(text
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default())
}

impl Agent {
    /// The instructions with the escalation rules, as the model reads them.
    pub fn prompt_instructions(&self) -> String {
        halo_shared::agents::instructions_with_rules(&self.instructions, &self.rules)
    }
}

/// A conversation with its contact's external id (`None` for an anonymous visitor).
#[derive(Debug, Clone, Deserialize)]
pub struct Conversation {
    pub id: String,
    pub session_id: String,
    pub external_id: Option<String>,
    pub agent_id: String,
    pub agent_instructions: String,
    pub agent_threshold: f64,
    #[serde(deserialize_with = "json_text")]
    pub agent_rules: Vec<String>,
    #[serde(deserialize_with = "json_text")]
    pub agent_skills: Vec<String>,
    #[serde(deserialize_with = "json_text")]
    pub agent_llm: LlmChoice,
    pub mood: Option<String>,
    pub outcome: Option<String>,
    /// The teammate who took the conversation over; the AI stays quiet while set.
    pub taken_over_by: Option<String>,
    /// The conversation's latest ticket, if it was escalated or taken over.
    pub ticket_id: Option<String>,
    pub ticket_status: Option<String>,
    pub ticket_snoozed_until: Option<i64>,
    pub channel: String,
    pub needs_human: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
}

impl Conversation {
    /// The agent the conversation is pinned to, as it was when the conversation began.
    pub fn agent(&self) -> Agent {
        Agent {
            id: self.agent_id.clone(),
            instructions: self.agent_instructions.clone(),
            escalation_threshold: self.agent_threshold,
            rules: self.agent_rules.clone(),
            skills: self.agent_skills.clone(),
            llm: self.agent_llm.clone(),
        }
    }

    /// The latest ticket as a status row, if there is one.
    pub fn ticket(&self) -> Option<tickets::StatusRow> {
        Some(tickets::StatusRow {
            id: self.ticket_id.clone()?,
            status: self.ticket_status.clone()?,
            snoozed_until: self.ticket_snoozed_until,
        })
    }
}

/// Which workspace a lookup is scoped to.
pub enum Scope<'a> {
    /// A workspace id already proven by a key.
    Org(&'a str),
    /// The workspace of a widget key hash, resolved in the same query, so a session can be
    /// looked up at the same time as the key.
    WidgetKeyHash(&'a str),
}

pub async fn conversation_by_session(
    db: &D1Database,
    scope: Scope<'_>,
    session_id: &str,
) -> Result<Option<Conversation>> {
    conversation_statement(db, scope, session_id)?
        .first(None)
        .await
}

/// What [`conversation_by_session`] reads, as one statement (for a batch).
pub fn conversation_statement(
    db: &D1Database,
    scope: Scope<'_>,
    session_id: &str,
) -> Result<D1PreparedStatement> {
    let (org_condition, value) = match scope {
        Scope::Org(id) => ("c.org_id = ?1".to_owned(), id),
        Scope::WidgetKeyHash(h) => (
            format!(
                "c.org_id = (SELECT k.org_id FROM workspace_keys k WHERE k.key_hash = ?1 AND k.kind = 'widget' AND {})",
                keys::LIVE
            ),
            h,
        ),
    };
    query!(
        db,
        &format!(
            "SELECT c.id, c.session_id, u.external_id, c.agent_id, a.instructions AS agent_instructions,
                                        a.escalation_threshold AS agent_threshold, a.rules AS agent_rules, a.skills AS agent_skills,
                    a.llm AS agent_llm, c.mood, c.outcome, c.taken_over_by,
                    c.channel, c.needs_human, c.last_error, c.created_at,
                    t.id AS ticket_id, t.status AS ticket_status, t.snoozed_until AS ticket_snoozed_until
             FROM conversations c
             JOIN end_users u ON u.id = c.end_user_id AND u.org_id = c.org_id
             JOIN agents a ON a.id = c.agent_id AND a.org_id = c.org_id
             LEFT JOIN tickets t ON t.id = (SELECT id FROM tickets WHERE org_id = c.org_id AND conversation_id = c.id
                                            ORDER BY created_at DESC LIMIT 1)
             WHERE {org_condition} AND c.session_id = ?2"
        ),
        value,
        session_id
    )
}

/// A chat request's reads, in one round trip: the widget key's workspace and agent
/// ([`workspace_and_agent_by_widget_key`]) and, when the request names one, its session's
/// conversation scoped by the key itself, so it can only find this workspace's.
pub async fn widget_caller_and_conversation(
    db: &D1Database,
    hash: &str,
    agent_id: Option<&str>,
    channel: Option<&str>,
    session_id: Option<&str>,
) -> Result<(Option<(Workspace, Option<Agent>)>, Option<Conversation>)> {
    let mut batch = vec![widget_caller_statement(db, hash, agent_id, channel)?];
    if let Some(s) = session_id {
        batch.push(conversation_statement(db, Scope::WidgetKeyHash(hash), s)?);
    }
    let results = db.batch(batch).await?;
    let conversation = match session_id {
        Some(_) => first_row(&results, 1)?,
        None => None,
    };
    Ok((widget_caller_from(first_row(&results, 0)?), conversation))
}

/// The result of a batch's statement `at` (D1 answers one per statement).
pub fn batch_result(results: &[D1Result], at: usize) -> Result<&D1Result> {
    results
        .get(at)
        .ok_or_else(|| worker::Error::RustError(format!("batch result {at} is missing")))
}

/// The first row a batch's statement `at` read, if it read any.
pub fn first_row<T: serde::de::DeserializeOwned>(
    results: &[D1Result],
    at: usize,
) -> Result<Option<T>> {
    Ok(batch_result(results, at)?
        .results::<T>()?
        .into_iter()
        .next())
}

/// A conversation to open with this turn. A request racing on the same new session id may
/// open it first; then this turn joins that conversation instead of failing.
pub struct NewConversation<'a> {
    pub id: &'a str,
    pub channel: &'a str,
    pub company_ref: Option<&'a str>,
}

/// The user's message, with what the client sent besides the text.
pub struct UserMessage<'a> {
    pub id: &'a str,
    pub body: &'a str,
    pub request: &'a Value,
    pub images: &'a [String],
    /// -1..1, and the mood it shows (`halo_shared::conversation::mood`).
    pub sentiment: f64,
    pub mood: &'a str,
    /// The user says the AI's answer worked: the conversation is Resolved (unless escalated).
    pub resolved: bool,
}

/// Everything one user turn writes, in one transaction.
pub struct Turn<'a> {
    pub session_id: &'a str,
    pub new_conversation: Option<NewConversation<'a>>,
    /// The identified user who speaks (upserted first), or `None` for a visitor.
    pub user: Option<contacts::UserWrite<'a>>,
    /// A company to create if missing before the user is linked to it (a trusted claim).
    pub company_external_id: Option<&'a str>,
    /// The agent answering this turn: the conversation is pinned to it.
    pub agent_id: &'a str,
    /// `None` when the widget opens a session before the user writes.
    pub message: Option<UserMessage<'a>>,
    pub sightings: &'a [halo_shared::profile::Sighting],
    /// The page's origin, when this is the first widget message the workspace gets from a
    /// site (the install check); `None` once it has one.
    pub first_widget_origin: Option<&'a str>,
}

/// The conversation of a session, as a subquery on `?org` and `?session` parameters.
const CONVERSATION_OF_SESSION: &str =
    "(SELECT id FROM conversations WHERE org_id = ?1 AND session_id = ?2)";

/// Stores the user's turn in one transaction: the contact (created or updated), the
/// conversation (opened if new; claimed by the user if a visitor started it), the message and
/// its images, and the keys seen. This runs before any answer is attempted, so nothing the
/// user said is lost.
pub async fn record_user_message(db: &D1Database, org: &str, turn: &Turn<'_>) -> Result<()> {
    db.batch(user_message_statements(db, org, turn)?).await?;
    Ok(())
}

/// Whether the message `id` is stored. A batch is one transaction: when its answer was lost,
/// this tells whether all of its writes were committed or none.
pub async fn message_stored(db: &D1Database, org: &str, id: &str) -> Result<bool> {
    let row: Option<Value> = query!(
        db,
        "SELECT 1 AS stored FROM messages WHERE org_id = ?1 AND id = ?2",
        org,
        id
    )?
    .first(None)
    .await?;
    Ok(row.is_some())
}

/// The writes of [`record_user_message`], for a batch that reads after them too.
pub fn user_message_statements(
    db: &D1Database,
    org: &str,
    turn: &Turn<'_>,
) -> Result<Vec<D1PreparedStatement>> {
    let now = now_ms();
    let mut batch: Vec<D1PreparedStatement> = Vec::new();
    if let Some(company) = turn.company_external_id {
        batch.push(contacts::upsert_company(
            db,
            org,
            company,
            &serde_json::Map::new(),
            &Value::Object(Default::default()),
        )?);
    }
    let external_id = turn.user.as_ref().map(|u| u.external_id);
    if let Some(user) = &turn.user {
        batch.push(contacts::upsert_user(db, org, user)?);
    }
    if let Some(c) = &turn.new_conversation {
        let visitor_id = new_id();
        if external_id.is_none() {
            batch.push(query!(
                db,
                "INSERT INTO end_users (id, org_id, created_at, last_seen_at) VALUES (?1, ?2, ?3, ?3)",
                &visitor_id,
                org,
                now
            )?);
        }
        batch.push(query!(
            db,
            "INSERT INTO conversations (id, org_id, session_id, end_user_id, agent_id, channel, company_ref, created_at, updated_at)
             VALUES (?3, ?1, ?2, COALESCE((SELECT id FROM end_users WHERE org_id = ?1 AND external_id = ?4), ?5), ?6, ?7, ?8, ?9, ?9)
             ON CONFLICT (org_id, session_id) DO NOTHING",
            org,
            turn.session_id,
            c.id,
            external_id,
            external_id.is_none().then_some(visitor_id.as_str()),
            turn.agent_id,
            c.channel,
            c.company_ref,
            now
        )?);
    }
    if let Some(m) = &turn.message {
        // A visitor who logs in mid-conversation takes the conversation with them. The mood is
        // the latest message's; a new message makes a Resolved or Abandoned conversation live
        // again, or Resolved if it says the answer worked; Escalated stays.
        batch.push(query!(
            db,
            "UPDATE conversations SET updated_at = ?3, agent_id = ?4,
               end_user_id = CASE
                 WHEN ?5 IS NOT NULL AND (SELECT external_id FROM end_users WHERE id = conversations.end_user_id) IS NULL
                 THEN (SELECT id FROM end_users WHERE org_id = ?1 AND external_id = ?5)
                 ELSE end_user_id END,
               mood = ?6, sentiment_sum = sentiment_sum + ?7, sentiment_count = sentiment_count + 1,
               outcome = CASE WHEN outcome = 'escalated' THEN outcome WHEN ?8 = 1 THEN 'resolved' ELSE NULL END,
               outcome_at = CASE WHEN outcome = 'escalated' THEN outcome_at WHEN ?8 = 1 THEN ?3 ELSE NULL END
             WHERE org_id = ?1 AND session_id = ?2",
            org,
            turn.session_id,
            now,
            turn.agent_id,
            external_id,
            m.mood,
            m.sentiment,
            i32::from(m.resolved)
        )?);
        batch.push(query!(
            db,
            &format!(
                "INSERT INTO messages (id, org_id, conversation_id, role, body, request, sentiment, created_at)
                 VALUES (?3, ?1, {CONVERSATION_OF_SESSION}, 'user', ?4, ?5, ?7, ?6)"
            ),
            org,
            turn.session_id,
            m.id,
            m.body,
            m.request.to_string(),
            now,
            m.sentiment
        )?);
        for (i, url) in m.images.iter().enumerate() {
            batch.push(query!(
                db,
                "INSERT INTO message_images (message_id, org_id, position, url) VALUES (?1, ?2, ?3, ?4)",
                m.id,
                org,
                i as u32,
                url
            )?);
        }
    }
    batch.extend(contacts::record_sightings(db, org, turn.sightings)?);
    if let (Some(origin), Some(_)) = (turn.first_widget_origin, &turn.message) {
        batch.push(query!(
            db,
            "UPDATE workspaces SET widget_seen_at = ?2, widget_seen_origin = ?3 WHERE id = ?1 AND widget_seen_at IS NULL",
            org,
            now,
            origin
        )?);
    }
    Ok(batch)
}

/// The AI's reply and what it cost to produce.
pub struct AiMessage<'a> {
    pub id: &'a str,
    pub session_id: &'a str,
    pub body: &'a str,
    pub engine: &'a str,
    pub confidence: f64,
    pub citations: &'a Value,
    pub actions: &'a Value,
    pub error: Option<&'a str>,
    pub needs_human: bool,
    /// What the AI saw: the rendered context and the passages (JSON).
    pub trace: &'a Value,
}

/// Stores the reply and updates the conversation (failure record, hand-off flag).
pub async fn record_ai_message(db: &D1Database, org: &str, m: &AiMessage<'_>) -> Result<()> {
    let now = now_ms();
    db.batch(vec![
        query!(
            db,
            &format!(
                "INSERT INTO messages (id, org_id, conversation_id, role, body, engine, confidence, citations, actions, error, trace, created_at)
                 VALUES (?3, ?1, {CONVERSATION_OF_SESSION}, 'ai', ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
            ),
            org,
            m.session_id,
            m.id,
            m.body,
            m.engine,
            m.confidence,
            m.citations.to_string(),
            m.actions.to_string(),
            m.error,
            m.trace.to_string(),
            now
        )?,
        query!(
            db,
            "UPDATE conversations SET updated_at = ?3, needs_human = MAX(needs_human, ?4), last_error = COALESCE(?5, last_error)
             WHERE org_id = ?1 AND session_id = ?2",
            org,
            m.session_id,
            now,
            i32::from(m.needs_human),
            m.error
        )?,
    ])
    .await?;
    Ok(())
}

/// One stored message, as the transcript API returns it.
#[derive(Debug, Serialize, Deserialize)]
pub struct MessageRow {
    pub id: String,
    pub role: String,
    pub body: String,
    pub engine: Option<String>,
    pub confidence: Option<f64>,
    pub citations: Option<String>,
    pub actions: Option<String>,
    pub error: Option<String>,
    pub trace: Option<String>,
    pub created_at: i64,
}

/// A conversation's messages in the order they were written.
pub async fn messages(
    db: &D1Database,
    org: &str,
    conversation_id: &str,
) -> Result<Vec<MessageRow>> {
    query!(
        db,
        "SELECT id, role, body, engine, confidence, citations, actions, error, trace, created_at FROM messages
         WHERE org_id = ?1 AND conversation_id = ?2 ORDER BY created_at, rowid",
        org,
        conversation_id
    )?
    .all()
    .await?
    .results()
}

/// Marks chunks of `org` as embedded.
pub async fn mark_embedded(db: &D1Database, org: &str, ids: &[i64]) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    query!(
        db,
        "UPDATE knowledge_chunks SET embedded_at = ?3 WHERE org_id = ?1 AND id IN (SELECT value FROM json_each(?2))",
        org,
        serde_json::to_string(ids).unwrap_or_else(|_| "[]".into()),
        now_ms()
    )?
    .run()
    .await?;
    Ok(())
}

/// A chunk as it is embedded.
#[derive(Deserialize)]
struct ChunkText {
    org_id: String,
    id: i64,
    title: String,
    heading: Option<String>,
    body: String,
}

impl ChunkText {
    /// What is embedded of a chunk: its heading (else its title), then its text. Ingest and
    /// the backfill embed the same text.
    fn embedding_text(self) -> (String, i64, String) {
        let text = format!("{}\n{}", self.heading.unwrap_or(self.title), self.body);
        (self.org_id, self.id, text)
    }
}

/// Chunks without an embedding, oldest first, across workspaces (the backfill job's):
/// `(org, chunk id, text)`.
pub async fn unembedded_chunks(db: &D1Database, limit: u32) -> Result<Vec<(String, i64, String)>> {
    let rows: Vec<ChunkText> = query!(
        db,
        "SELECT org_id, id, title, heading, body FROM knowledge_chunks WHERE embedded_at IS NULL ORDER BY id LIMIT ?1",
        limit
    )?
    .all()
    .await?
    .results()?;
    Ok(rows.into_iter().map(ChunkText::embedding_text).collect())
}

/// What the AI saw for one of its stored replies (its trace, JSON), if that reply exists.
pub async fn message_trace(db: &D1Database, org: &str, message_id: &str) -> Result<Option<String>> {
    #[derive(Deserialize)]
    struct Row {
        trace: Option<String>,
    }
    let row: Option<Row> = query!(
        db,
        "SELECT trace FROM messages WHERE org_id = ?1 AND id = ?2",
        org,
        message_id
    )?
    .first(None)
    .await?;
    Ok(row.and_then(|r| r.trace))
}

/// Recent turns of a conversation for the model's context, oldest first.
pub async fn recent_turns(
    db: &D1Database,
    org: &str,
    session_id: &str,
    limit: u32,
) -> Result<Vec<(String, String)>> {
    #[derive(Deserialize)]
    struct Row {
        role: String,
        body: String,
    }
    let mut rows: Vec<Row> = query!(
        db,
        &format!(
            "SELECT role, body FROM messages WHERE org_id = ?1 AND conversation_id = {CONVERSATION_OF_SESSION}
             AND role IN ('user', 'ai') ORDER BY created_at DESC, rowid DESC LIMIT ?3"
        ),
        org,
        session_id,
        limit
    )?
    .all()
    .await?
    .results()?;
    rows.reverse();
    Ok(rows.into_iter().map(|r| (r.role, r.body)).collect())
}

/// A search hit: a chunk and the source it belongs to.
#[derive(Debug, Serialize, Deserialize)]
pub struct Hit {
    /// Cosine similarity to the question, when semantic search found the chunk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub similarity: Option<f32>,
    /// FTS5's bm25 score (lower is better), when full-text search found the chunk.
    #[serde(default, skip_serializing)]
    pub bm25: Option<f64>,
    /// The reranker's relevance score, when a reranker ordered the hits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relevance: Option<f32>,
    pub chunk_id: i64,

    pub source_id: String,
    pub title: String,
    pub url: Option<String>,
    pub heading: Option<String>,
    pub text: String,
}

impl Hit {
    /// The hit as the answer engines read it.
    pub fn into_passage(self) -> halo_shared::answer::Passage {
        halo_shared::answer::Passage {
            title: self.title,
            url: self.url,
            heading: self.heading,
            text: self.text,
            similarity: self.similarity,
        }
    }
}

/// The best chunks for an FTS5 `MATCH` expression, best first (bm25 weighs titles and
/// headings above body text).
pub async fn search(db: &D1Database, org: &str, fts_query: &str, limit: u32) -> Result<Vec<Hit>> {
    query!(
        db,
        "SELECT c.id AS chunk_id, c.source_id, c.title, s.url, c.heading, c.body AS text,
                bm25(knowledge_fts, 4.0, 2.0, 1.0) AS bm25
         FROM knowledge_fts f
         JOIN knowledge_chunks c ON c.id = f.rowid
         JOIN knowledge_sources s ON s.id = c.source_id AND s.org_id = c.org_id
         WHERE knowledge_fts MATCH ?2 AND c.org_id = ?1
         ORDER BY bm25
         LIMIT ?3",
        org,
        fts_query,
        limit
    )?
    .all()
    .await?
    .results()
}

/// Chunks by id, in the workspace (ids of other workspaces yield nothing).
pub async fn chunks_by_ids(db: &D1Database, org: &str, ids: &[i64]) -> Result<Vec<Hit>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // Ids are integers from our own index, so the list is formatted, not bound.
    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    query!(
        db,
        &format!(
            "SELECT c.id AS chunk_id, c.source_id, c.title, s.url, c.heading, c.body AS text
             FROM knowledge_chunks c JOIN knowledge_sources s ON s.id = c.source_id AND s.org_id = c.org_id
             WHERE c.org_id = ?1 AND c.id IN ({list})"
        ),
        org
    )?
    .all()
    .await?
    .results()
}

/// A source's chunks as `(chunk id, text to embed)`: the heading path, then the body.
pub async fn chunk_texts(
    db: &D1Database,
    org: &str,
    source_id: &str,
) -> Result<Vec<(i64, String)>> {
    let rows: Vec<ChunkText> = query!(
        db,
        "SELECT org_id, id, title, heading, body FROM knowledge_chunks WHERE org_id = ?1 AND source_id = ?2 ORDER BY position",
        org,
        source_id
    )?
    .all()
    .await?
    .results()?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let (_, id, text) = r.embedding_text();
            (id, text)
        })
        .collect())
}

/// A stored document as the API lists it (the wire shape lives in `shared`).
pub use halo_shared::settings::Source as SourceRow;

/// A document to store: its fields and its chunks (heading path, text).
pub struct SourceWrite<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub url: Option<&'a str>,
    pub kind: &'a str,
    pub chunks: &'a [(Option<String>, String)],
}

fn chunk_statements(
    db: &D1Database,
    org: &str,
    s: &SourceWrite<'_>,
) -> Result<Vec<D1PreparedStatement>> {
    s.chunks
        .iter()
        .enumerate()
        .map(|(i, (heading, body))| {
            // Only for a source of this workspace: replacing an unknown id inserts nothing.
            query!(
                db,
                "INSERT INTO knowledge_chunks (org_id, source_id, position, title, heading, body)
                 SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE EXISTS (SELECT 1 FROM knowledge_sources WHERE org_id = ?1 AND id = ?2)",
                org,
                s.id,
                i as u32,
                s.title,
                heading,
                body
            )
        })
        .collect()
}

fn delete_chunks(db: &D1Database, org: &str, id: &str) -> Result<D1PreparedStatement> {
    query!(
        db,
        "DELETE FROM knowledge_chunks WHERE org_id = ?1 AND source_id = ?2",
        org,
        id
    )
}

/// Stores a new source and its chunks in one transaction (the FTS index follows by trigger).
pub async fn insert_source(db: &D1Database, org: &str, s: &SourceWrite<'_>) -> Result<()> {
    let mut batch = vec![query!(
        db,
        "INSERT INTO knowledge_sources (id, org_id, title, url, kind, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
        s.id,
        org,
        s.title,
        s.url,
        s.kind,
        now_ms()
    )?];
    batch.extend(chunk_statements(db, org, s)?);
    db.batch(batch).await?;
    Ok(())
}

/// Replaces a source's fields and all its chunks in one transaction; false if it is not there.
pub async fn replace_source(db: &D1Database, org: &str, s: &SourceWrite<'_>) -> Result<bool> {
    let mut batch = vec![
        query!(
            db,
            "UPDATE knowledge_sources SET title = ?3, url = ?4, kind = ?5, updated_at = ?6 WHERE org_id = ?1 AND id = ?2",
            org,
            s.id,
            s.title,
            s.url,
            s.kind,
            now_ms()
        )?,
        delete_chunks(db, org, s.id)?,
    ];
    batch.extend(chunk_statements(db, org, s)?);
    let results = db.batch(batch).await?;
    let changed = results
        .first()
        .and_then(|r| r.meta().ok().flatten())
        .and_then(|m| m.changes)
        .unwrap_or(0);
    Ok(changed > 0)
}

/// Deletes a source and its chunks (and so its index entries); false if it is not there.
pub async fn delete_source(db: &D1Database, org: &str, id: &str) -> Result<bool> {
    let results = db
        .batch(vec![
            delete_chunks(db, org, id)?,
            query!(
                db,
                "DELETE FROM knowledge_sources WHERE org_id = ?1 AND id = ?2",
                org,
                id
            )?,
        ])
        .await?;
    let deleted = results
        .get(1)
        .and_then(|r| r.meta().ok().flatten())
        .and_then(|m| m.changes)
        .unwrap_or(0);
    Ok(deleted > 0)
}

/// The source with this URL in the workspace, if any (re-ingesting a URL replaces it).
pub async fn source_id_by_url(db: &D1Database, org: &str, url: &str) -> Result<Option<String>> {
    #[derive(Deserialize)]
    struct Row {
        id: String,
    }
    let row: Option<Row> = query!(
        db,
        "SELECT id FROM knowledge_sources WHERE org_id = ?1 AND url = ?2 LIMIT 1",
        org,
        url
    )?
    .first(None)
    .await?;
    Ok(row.map(|r| r.id))
}

pub async fn list_sources(db: &D1Database, org: &str) -> Result<Vec<SourceRow>> {
    query!(
        db,
        "SELECT s.id, s.title, s.url, s.kind, s.created_at, s.updated_at,
                (SELECT COUNT(*) FROM knowledge_chunks c WHERE c.org_id = s.org_id AND c.source_id = s.id) AS chunks
         FROM knowledge_sources s WHERE s.org_id = ?1 ORDER BY s.created_at, s.rowid",
        org
    )?
    .all()
    .await?
    .results()
}
