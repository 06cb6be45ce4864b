//! What the inbox reads and writes about conversations: the live list with mood, outcome and
//! the AI score's inputs, per-message details, ratings, trainer feedback and whispers.

use halo_shared::conversation::{ai_score, Outcome, ScoreInputs};
use halo_shared::inbox::{ConversationSummary, Cursor, LastMessage, ScoreView, TicketRef};
use halo_shared::routing::DEFAULT_ABANDON_SECONDS;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use worker::{query, D1Database, D1PreparedStatement, Result};

use crate::platform::{new_id, now_ms};

/// A conversation as the inbox lists it.
#[derive(Debug, Deserialize)]
pub struct Summary {
    pub session_id: String,
    pub user_id: Option<String>,
    /// The user's company, else the company id the page sent.
    pub company_id: Option<String>,
    pub channel: String,
    pub agent_id: String,
    pub mood: Option<String>,
    pub outcome: Option<String>,
    pub taken_over_by: Option<String>,
    pub needs_human: i64,
    pub sentiment_sum: f64,
    pub sentiment_count: i64,
    pub thumbs_up: i64,
    pub thumbs_down: i64,
    pub corrections: i64,
    pub messages: i64,
    pub last_role: Option<String>,
    pub last_text: Option<String>,
    pub ticket_id: Option<String>,
    pub ticket_status: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Active within the workspace's abandon window and not abandoned.
    pub live: i64,
    /// A customer line after the asking teammate last opened it.
    pub unread: i64,
}

impl Summary {
    pub fn score_inputs(&self) -> ScoreInputs {
        let n = |v: i64| u32::try_from(v).unwrap_or(0);
        ScoreInputs {
            outcome: self.outcome.as_deref().and_then(Outcome::parse),
            mean_sentiment: (self.sentiment_count > 0)
                .then(|| self.sentiment_sum / self.sentiment_count as f64),
            thumbs_up: n(self.thumbs_up),
            thumbs_down: n(self.thumbs_down),
            corrections: n(self.corrections),
        }
    }

    /// The list row the inbox API answers with.
    pub fn view(&self) -> ConversationSummary {
        let inputs = self.score_inputs();
        ConversationSummary {
            session_id: self.session_id.clone(),
            user_id: self.user_id.clone(),
            company_id: self.company_id.clone(),
            channel: self.channel.clone(),
            agent_id: self.agent_id.clone(),
            mood: self.mood.clone(),
            outcome: self.outcome.clone(),
            live: self.live != 0,
            ai_score: ai_score(&inputs),
            score_inputs: ScoreView {
                mean_sentiment: inputs.mean_sentiment,
                thumbs_up: inputs.thumbs_up,
                thumbs_down: inputs.thumbs_down,
                corrections: inputs.corrections,
            },
            taken_over_by: self.taken_over_by.clone(),
            needs_human: self.needs_human != 0,
            message_count: self.messages,
            last_message: self.last_text.as_ref().map(|t| LastMessage {
                role: self.last_role.clone(),
                text: t.clone(),
            }),
            ticket: self.ticket_id.as_ref().map(|id| TicketRef {
                id: id.clone(),
                status: self.ticket_status.clone(),
            }),
            unread: self.unread != 0,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

const SUMMARY_SELECT: &str = "SELECT c.session_id, u.external_id AS user_id,
        COALESCE((SELECT external_id FROM companies WHERE id = u.company_id AND org_id = c.org_id), c.company_ref) AS company_id,
        c.channel, c.agent_id, c.mood, c.outcome,
        c.taken_over_by, c.needs_human, c.sentiment_sum, c.sentiment_count,
        (SELECT COUNT(*) FROM messages m WHERE m.org_id = c.org_id AND m.conversation_id = c.id AND m.rating = 1) AS thumbs_up,
        (SELECT COUNT(*) FROM messages m WHERE m.org_id = c.org_id AND m.conversation_id = c.id AND m.rating = -1) AS thumbs_down,
        (SELECT COUNT(*) FROM message_feedback f JOIN messages m ON m.id = f.message_id
          WHERE f.org_id = c.org_id AND m.conversation_id = c.id AND f.kind = 'correction') AS corrections,
        (SELECT COUNT(*) FROM messages m WHERE m.org_id = c.org_id AND m.conversation_id = c.id) AS messages,
        l.role AS last_role, l.body AS last_text,
                t.id AS ticket_id, t.status AS ticket_status, c.created_at, c.updated_at,
        (COALESCE(c.outcome, '') <> 'abandoned' AND c.updated_at >= ?7 - 1000 * COALESCE(
           (SELECT json_extract(routing, '$.abandon_after_seconds') FROM workspaces w WHERE w.id = c.org_id), ?8)) AS live,
        (COALESCE((SELECT MAX(created_at) FROM messages WHERE org_id = c.org_id AND conversation_id = c.id AND role = 'user'), 0)
           > COALESCE((SELECT seen_at FROM teammate_seen s
                      WHERE s.org_id = c.org_id AND s.teammate_id = ?9 AND s.item = 'c:' || c.session_id), 0)) AS unread
    FROM conversations c
    JOIN end_users u ON u.id = c.end_user_id AND u.org_id = c.org_id
    LEFT JOIN messages l ON l.id = (SELECT id FROM messages WHERE org_id = c.org_id AND conversation_id = c.id
                                    ORDER BY created_at DESC, rowid DESC LIMIT 1)
    LEFT JOIN tickets t ON t.id = (SELECT id FROM tickets WHERE org_id = c.org_id AND conversation_id = c.id
                                   ORDER BY created_at DESC LIMIT 1)";

/// Filters of a conversation list.
#[derive(Default)]
pub struct Filter<'a> {
    /// Only live conversations: active within the workspace's abandon window (whatever their
    /// outcome so far) and not abandoned.
    pub live: bool,
    pub mood: Option<&'a str>,
    pub outcome: Option<&'a str>,
    /// One contact's or one company's, by their external ids.
    pub user_id: Option<&'a str>,
    pub company_id: Option<&'a str>,
    /// Whose unread marks to read.
    pub teammate_id: Option<&'a str>,
    /// After this row (the previous page's last).
    pub after: Option<&'a Cursor>,
    /// At most this many (at most 100; 0 means 100).
    pub limit: u32,
}

/// Conversations, latest activity first.
pub async fn conversations(db: &D1Database, org: &str, f: &Filter<'_>) -> Result<Vec<Summary>> {
    query!(
        db,
        &format!(
            "{SUMMARY_SELECT} WHERE c.org_id = ?1
                              AND (?2 = 0 OR live)
               AND (?3 IS NULL OR c.mood = ?3)
               AND (?4 IS NULL OR c.outcome = ?4)
               AND (?5 IS NULL OR u.external_id = ?5)
               AND (?6 IS NULL OR u.company_id = (SELECT id FROM companies WHERE org_id = ?1 AND external_id = ?6))
               AND (?10 IS NULL OR c.updated_at < ?10 OR (c.updated_at = ?10 AND c.session_id < ?11))
             ORDER BY c.updated_at DESC, c.session_id DESC LIMIT ?12"
        ),
        org,
        i32::from(f.live),
        f.mood,
        f.outcome,
                f.user_id,
        f.company_id,
        now_ms(),
        DEFAULT_ABANDON_SECONDS,
        f.teammate_id,
        f.after.map(|c| c.at),
        f.after.map(|c| c.id.as_str()),
        if f.limit == 0 { 100 } else { f.limit.min(100) }
    )?
    .all()
    .await?
    .results()
}

pub async fn summary(
    db: &D1Database,
    org: &str,
    session_id: &str,
    teammate_id: Option<&str>,
) -> Result<Option<Summary>> {
    query!(
        db,
        &format!("{SUMMARY_SELECT} WHERE c.org_id = ?1 AND c.session_id = ?2"),
        org,
        session_id,
        Option::<&str>::None,
        Option::<&str>::None,
        Option::<&str>::None,
        Option::<&str>::None,
        now_ms(),
        DEFAULT_ABANDON_SECONDS,
        teammate_id
    )?
    .first(None)
    .await
}

/// A message with what the team added to it.
#[derive(Debug, Serialize, Deserialize)]
pub struct Detail {
    pub id: String,
    pub role: String,
    pub body: String,
    pub confidence: Option<f64>,
    pub sentiment: Option<f64>,
    pub rating: Option<i64>,
    pub engine: Option<String>,
    pub citations: Option<String>,
    pub actions: Option<String>,
    pub error: Option<String>,
    pub trace: Option<String>,
    /// JSON array of `{ id, kind, text, teammate_id, created_at }`.
    pub feedback: String,
    pub created_at: i64,
}

pub async fn details(db: &D1Database, org: &str, conversation_id: &str) -> Result<Vec<Detail>> {
    query!(
        db,
        "SELECT m.id, m.role, m.body, m.confidence, m.sentiment, m.rating, m.engine, m.citations, m.actions, m.error,
                m.trace, m.created_at,
                (SELECT json_group_array(json_object('id', f.id, 'kind', f.kind, 'text', f.body,
                                                     'teammate_id', f.teammate_id, 'created_at', f.created_at))
                   FROM message_feedback f WHERE f.org_id = m.org_id AND f.message_id = m.id) AS feedback
         FROM messages m WHERE m.org_id = ?1 AND m.conversation_id = ?2 ORDER BY m.created_at, m.rowid",
        org,
        conversation_id
    )?
    .all()
    .await?
    .results()
}

/// Sets (or clears) the user's rating of an AI answer in their conversation; a thumbs-up on a
/// live conversation resolves it (a trigger, migration 0010, in the same statement). False if
/// the conversation has no such AI answer.
pub async fn rate(
    db: &D1Database,
    org: &str,
    session_id: &str,
    message_id: &str,
    rating: Option<i8>,
) -> Result<bool> {
    let r = query!(
        db,
        "UPDATE messages SET rating = ?4
         WHERE org_id = ?1 AND id = ?3 AND role = 'ai'
           AND conversation_id = (SELECT id FROM conversations WHERE org_id = ?1 AND session_id = ?2)",
        org,
        session_id,
        message_id,
        rating
    )?
    .run()
    .await?;
    Ok(r.meta()?.and_then(|m| m.changes).unwrap_or(0) > 0)
}

/// Stores a teammate's feedback or correction on an AI answer of their workspace; `None` if
/// the workspace has no such AI answer.
pub async fn add_feedback(
    db: &D1Database,
    org: &str,
    message_id: &str,
    teammate_id: &str,
    kind: &str,
    body: &str,
) -> Result<Option<String>> {
    let id = new_id();
    let r = query!(
        db,
        "INSERT INTO message_feedback (id, org_id, message_id, teammate_id, kind, body, created_at)
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7 WHERE EXISTS (SELECT 1 FROM messages WHERE org_id = ?2 AND id = ?3 AND role = 'ai')",
        &id,
        org,
        message_id,
        teammate_id,
        kind,
        body,
        now_ms()
    )?
    .run()
    .await?;
    let inserted = r.meta()?.and_then(|m| m.changes).unwrap_or(0) > 0;
    Ok(inserted.then_some(id))
}

/// Stores a whisper for a conversation (and, if `persist`, for its customer); `None` if the
/// workspace has no such conversation.
pub async fn add_whisper(
    db: &D1Database,
    org: &str,
    session_id: &str,
    teammate_id: &str,
    body: &str,
    persist: bool,
) -> Result<Option<String>> {
    let id = new_id();
    let r = query!(
        db,
        "INSERT INTO whispers (id, org_id, conversation_id, end_user_id, teammate_id, body, persist, created_at)
         SELECT ?1, ?2, c.id, c.end_user_id, ?4, ?5, ?6, ?7 FROM conversations c WHERE c.org_id = ?2 AND c.session_id = ?3",
        &id,
        org,
        session_id,
        teammate_id,
        body,
        i32::from(persist),
        now_ms()
    )?
    .run()
    .await?;
    let inserted = r.meta()?.and_then(|m| m.changes).unwrap_or(0) > 0;
    Ok(inserted.then_some(id))
}

/// A whisper that steers the next reply.
#[derive(Debug, Deserialize, Serialize)]
pub struct Whisper {
    pub id: String,
    pub body: String,
    pub persist: i64,
}

/// The whispers for the next reply in a session: the conversation's unused and persistent
/// ones, and the persistent ones for the customer from their other conversations when
/// `verified_user` (an external id a valid token vouched for) says who they are. Without a
/// token anyone can claim a user id, so nothing from another conversation is used.
pub async fn whispers_for(
    db: &D1Database,
    org: &str,
    session_id: &str,
    verified_user: Option<&str>,
) -> Result<Vec<Whisper>> {
    whispers_statement(db, org, session_id, verified_user)?
        .all()
        .await?
        .results()
}

/// What [`whispers_for`] reads, as one statement (for a batch).
pub fn whispers_statement(
    db: &D1Database,
    org: &str,
    session_id: &str,
    verified_user: Option<&str>,
) -> Result<D1PreparedStatement> {
    query!(
        db,
        "SELECT id, body, persist FROM whispers WHERE org_id = ?1 AND (
           (conversation_id = (SELECT id FROM conversations WHERE org_id = ?1 AND session_id = ?2)
              AND (persist = 1 OR used_at IS NULL))
           OR (persist = 1 AND ?3 IS NOT NULL
              AND end_user_id = (SELECT id FROM end_users WHERE org_id = ?1 AND external_id = ?3)))
         ORDER BY created_at LIMIT 20",
        org,
        session_id,
        verified_user
    )
}

/// Marks one-off whispers as used by a reply.
pub fn use_whispers(
    db: &D1Database,
    org: &str,
    ids: &[&str],
) -> Result<Option<D1PreparedStatement>> {
    if ids.is_empty() {
        return Ok(None);
    }
    let list = serde_json::to_string(ids).unwrap_or_else(|_| "[]".into());
    Ok(Some(query!(
        db,
        "UPDATE whispers SET used_at = ?3 WHERE org_id = ?1 AND persist = 0 AND id IN (SELECT value FROM json_each(?2))",
        org,
        list,
        now_ms()
    )?))
}

/// The whispers of a conversation, for the inbox.
pub async fn whispers_of(db: &D1Database, org: &str, conversation_id: &str) -> Result<Vec<Value>> {
    #[derive(Deserialize)]
    struct Row {
        id: String,
        body: String,
        persist: i64,
        teammate_id: String,
        used_at: Option<i64>,
        created_at: i64,
    }
    let rows: Vec<Row> = query!(
        db,
        "SELECT id, body, persist, teammate_id, used_at, created_at FROM whispers
         WHERE org_id = ?1 AND conversation_id = ?2 ORDER BY created_at",
        org,
        conversation_id
    )?
    .all()
    .await?
    .results()?;
    Ok(rows
        .into_iter()
        .map(|w| json!({ "id": w.id, "text": w.body, "persist": w.persist != 0, "teammate_id": w.teammate_id, "used_at": w.used_at, "created_at": w.created_at }))
        .collect())
}

/// The cron job: conversations idle past their workspace's `abandon_after_seconds` with no
/// outcome become Abandoned (a teammate's conversation never does). Returns how many.
pub async fn abandon_idle(db: &D1Database, default_seconds: u32) -> Result<usize> {
    let now = now_ms();
    let r = query!(
        db,
        "UPDATE conversations SET outcome = 'abandoned', outcome_at = ?1
         WHERE outcome IS NULL AND taken_over_by IS NULL
           AND updated_at < ?1 - 1000 * COALESCE(
             (SELECT json_extract(routing, '$.abandon_after_seconds') FROM workspaces w WHERE w.id = conversations.org_id), ?2)",
        now,
        default_seconds
    )?
    .run()
    .await?;
    Ok(r.meta()?.and_then(|m| m.changes).unwrap_or(0) as usize)
}
