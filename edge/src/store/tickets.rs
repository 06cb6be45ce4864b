//! Tickets and their message threads.

use halo_shared::inbox::{Cursor, Ticket};
use halo_shared::tickets::Status;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use worker::{query, D1Database, D1PreparedStatement, Result};

use crate::platform::{new_id, now_ms};

/// A ticket to create.
pub struct TicketWrite<'a> {
    pub id: &'a str,
    pub subject: &'a str,
    pub status: Status,
    pub assignee: Option<&'a str>,
    /// The team a routing rule sent it to.
    pub team: Option<&'a str>,
    pub channel: &'a str,
    pub source: &'a str,
    /// The customer's external user id, if known.
    pub user_external_id: Option<&'a str>,
    pub company_external_id: Option<&'a str>,
    /// The conversation it came from (escalation), by session id.
    pub session_id: Option<&'a str>,
    pub custom_fields: &'a Value,
    pub ai_confidence: Option<f64>,
    pub escalation_reason: Option<&'a str>,
    /// The first message of the thread: (kind, author, body).
    pub first_message: Option<(&'a str, &'a str, &'a str)>,
}

/// The statements that create a ticket and its first message (run them in one batch).
pub fn create(db: &D1Database, org: &str, t: &TicketWrite<'_>) -> Result<Vec<D1PreparedStatement>> {
    let now = now_ms();
    let snoozed_until = match t.status {
        Status::Snoozed { until } => Some(until),
        _ => None,
    };
    let mut statements = vec![query!(
        db,
        "INSERT INTO tickets (id, org_id, subject, status, snoozed_until, assignee, channel, source, end_user_id, company_id,
                              conversation_id, custom_fields, ai_confidence, escalation_reason, team, created_at, updated_at)
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,
                 COALESCE((SELECT id FROM end_users WHERE org_id = ?2 AND external_id = ?9),
                          (SELECT end_user_id FROM conversations WHERE org_id = ?2 AND session_id = ?11)),
                 -- The company named, else the user's own (the one the AI read).
                 COALESCE((SELECT id FROM companies WHERE org_id = ?2 AND external_id = ?10),
                          (SELECT company_id FROM end_users WHERE org_id = ?2 AND external_id = ?9)),
                 (SELECT id FROM conversations WHERE org_id = ?2 AND session_id = ?11),
                 ?12, ?13, ?14, ?16, ?15, ?15
         -- A conversation has one open ticket: of two escalations at the same moment, the
         -- second finds the first's (D1 runs one statement at a time) and inserts nothing.
         WHERE ?11 IS NULL OR NOT EXISTS (
           SELECT 1 FROM tickets o JOIN conversations c ON c.id = o.conversation_id
           WHERE o.org_id = ?2 AND c.org_id = ?2 AND c.session_id = ?11 AND o.status NOT IN ('resolved', 'spam'))",
        t.id,
        org,
        t.subject,
        t.status.as_str(),
        snoozed_until,
        t.assignee,
        t.channel,
        t.source,
        t.user_external_id,
        t.company_external_id,
        t.session_id,
        t.custom_fields.to_string(),
        t.ai_confidence,
        t.escalation_reason,
        now,
        t.team
    )?];
    if let Some(session) = t.session_id {
        // The conversation's outcome: handed to the team.
        statements.push(query!(
            db,
            "UPDATE conversations SET outcome = 'escalated', outcome_at = ?3 WHERE org_id = ?1 AND session_id = ?2",
            org,
            session,
            now
        )?);
    }
    if let Some((kind, author, body)) = t.first_message {
        statements.push(query!(
            db,
            "INSERT INTO ticket_messages (id, org_id, ticket_id, kind, author, body, created_at)
             SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7 WHERE EXISTS (SELECT 1 FROM tickets WHERE id = ?3 AND org_id = ?2)",
            new_id(),
            org,
            t.id,
            kind,
            author,
            body,
            now
        )?);
    }
    Ok(statements)
}

/// A ticket as the API shows it.
#[derive(Debug, Serialize, Deserialize)]
pub struct TicketRow {
    pub id: String,
    pub subject: String,
    pub status: String,
    pub snoozed_until: Option<i64>,
    pub assignee: Option<String>,
    pub team: Option<String>,
    pub channel: String,
    pub source: String,
    pub user_id: Option<String>,
    pub company_id: Option<String>,
    pub session_id: Option<String>,
    pub custom_fields: String,
    pub ai_confidence: Option<f64>,
    pub escalation_reason: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Customer activity after the asking teammate last opened it (lists only).
    #[serde(default)]
    pub unread: i64,
}

impl TicketRow {
    /// The ticket as the API answers with it.
    pub fn view(self) -> Ticket {
        Ticket {
            custom_fields: serde_json::from_str(&self.custom_fields)
                .unwrap_or_else(|_| Value::Object(Default::default())),
            id: self.id,
            subject: self.subject,
            status: self.status,
            snoozed_until: self.snoozed_until,
            assignee: self.assignee,
            team: self.team,
            channel: self.channel,
            source: self.source,
            user_id: self.user_id,
            company_id: self.company_id,
            session_id: self.session_id,
            ai_confidence: self.ai_confidence,
            escalation_reason: self.escalation_reason,
            unread: self.unread != 0,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

const TICKET_SELECT: &str = "SELECT t.id, t.subject, t.status, t.snoozed_until, t.assignee, t.team, t.channel, t.source,
        u.external_id AS user_id, c.external_id AS company_id, v.session_id, t.custom_fields, t.ai_confidence,
        t.escalation_reason, t.created_at, t.updated_at
    FROM tickets t
    LEFT JOIN end_users u ON u.id = t.end_user_id AND u.org_id = t.org_id
    LEFT JOIN companies c ON c.id = t.company_id AND c.org_id = t.org_id
    LEFT JOIN conversations v ON v.id = t.conversation_id AND v.org_id = t.org_id";

pub async fn ticket(db: &D1Database, org: &str, id: &str) -> Result<Option<TicketRow>> {
    query!(
        db,
        &format!("{TICKET_SELECT} WHERE t.org_id = ?1 AND t.id = ?2"),
        org,
        id
    )?
    .first(None)
    .await
}

/// Filters of a ticket list.
#[derive(Default)]
pub struct Filter<'a> {
    /// A status, else Snoozed and Spam are left out.
    pub status: Option<&'a str>,
    /// A teammate id; `unassigned` for tickets with none.
    pub assignee: Option<&'a str>,
    pub team: Option<&'a str>,
    /// One contact's or one company's, by their external ids.
    pub user_id: Option<&'a str>,
    pub company_id: Option<&'a str>,
    /// Snoozed and Spam too, when no status is given.
    pub every_status: bool,
    /// Only these statuses (a view's).
    pub statuses: Option<&'a [&'a str]>,
    /// Whose unread marks to read.
    pub teammate_id: Option<&'a str>,
    /// After this row (the previous page's last).
    pub after: Option<&'a Cursor>,
    /// At most this many (at most 100; 0 means 100).
    pub limit: u32,
}

/// Whether the teammate `?9` has not opened the ticket since the customer last wrote (or
/// since it was created).
const UNREAD: &str = "(COALESCE((SELECT MAX(m.created_at) FROM ticket_messages m
            WHERE m.org_id = t.org_id AND m.ticket_id = t.id AND m.author = 'customer'), t.created_at)
         > COALESCE((SELECT seen_at FROM teammate_seen s
                      WHERE s.org_id = t.org_id AND s.teammate_id = ?9 AND s.item = 't:' || t.id), 0)) AS unread";

/// Tickets, newest activity first.
pub async fn list(db: &D1Database, org: &str, f: &Filter<'_>) -> Result<Vec<TicketRow>> {
    query!(
        db,
        &format!(
            "{} WHERE t.org_id = ?1
               AND (CASE WHEN ?2 IS NULL THEN (?7 = 1 OR t.status NOT IN ('snoozed', 'spam')) ELSE t.status = ?2 END)
               AND (?8 IS NULL OR t.status IN (SELECT value FROM json_each(?8)))
               AND (?10 IS NULL OR t.updated_at < ?10 OR (t.updated_at = ?10 AND t.id < ?11))
               AND (?3 IS NULL OR (?3 = 'unassigned' AND t.assignee IS NULL) OR t.assignee = ?3)
               AND (?4 IS NULL OR t.team = ?4)
               AND (?5 IS NULL OR u.external_id = ?5)
               AND (?6 IS NULL OR c.external_id = ?6
                    OR u.company_id = (SELECT id FROM companies WHERE org_id = ?1 AND external_id = ?6))
             ORDER BY t.updated_at DESC, t.id DESC LIMIT ?12",
            TICKET_SELECT.replacen(" FROM tickets t", &format!(", {UNREAD} FROM tickets t"), 1)
        ),
        org,
        f.status,
        f.assignee,
        f.team,
        f.user_id,
        f.company_id,
        i32::from(f.every_status),
        f.statuses.map(|s| serde_json::json!(s).to_string()),
        f.teammate_id,
        f.after.map(|c| c.at),
        f.after.map(|c| c.id.as_str()),
        if f.limit == 0 { 100 } else { f.limit.min(100) }
    )?
    .all()
    .await?
    .results()
}

/// A message of a ticket's thread.
#[derive(Debug, Serialize, Deserialize)]
pub struct TicketMessage {
    pub id: String,
    pub kind: String,
    pub author: String,
    pub body: String,
    pub created_at: i64,
}

pub async fn messages(db: &D1Database, org: &str, ticket_id: &str) -> Result<Vec<TicketMessage>> {
    query!(
        db,
        "SELECT id, kind, author, body, created_at FROM ticket_messages WHERE org_id = ?1 AND ticket_id = ?2 ORDER BY created_at, rowid",
        org,
        ticket_id
    )?
    .all()
    .await?
    .results()
}

/// The ticket a conversation was already escalated to and that is still open, if any.
pub async fn open_for_session(
    db: &D1Database,
    org: &str,
    session_id: &str,
) -> Result<Option<(String, String)>> {
    #[derive(Deserialize)]
    struct Row {
        id: String,
        status: String,
    }
    let row: Option<Row> = query!(
        db,
        "SELECT t.id, t.status FROM tickets t JOIN conversations v ON v.id = t.conversation_id AND v.org_id = t.org_id
         WHERE t.org_id = ?1 AND v.session_id = ?2 AND t.status NOT IN ('resolved', 'spam') ORDER BY t.created_at DESC LIMIT 1",
        org,
        session_id
    )?
    .first(None)
    .await?;
    Ok(row.map(|r| (r.id, r.status)))
}

/// A ticket's stored status and the conversation's latest ticket, for transitions.
#[derive(Debug, Deserialize)]
pub struct StatusRow {
    pub id: String,
    pub status: String,
    pub snoozed_until: Option<i64>,
}

pub async fn status_of(db: &D1Database, org: &str, id: &str) -> Result<Option<StatusRow>> {
    query!(
        db,
        "SELECT id, status, snoozed_until FROM tickets WHERE org_id = ?1 AND id = ?2",
        org,
        id
    )?
    .first(None)
    .await
}

/// The latest ticket of a conversation, whatever its status.
pub async fn latest_for_session(
    db: &D1Database,
    org: &str,
    session_id: &str,
) -> Result<Option<StatusRow>> {
    query!(
        db,
        "SELECT t.id, t.status, t.snoozed_until FROM tickets t JOIN conversations v ON v.id = t.conversation_id AND v.org_id = t.org_id
         WHERE t.org_id = ?1 AND v.session_id = ?2 ORDER BY t.created_at DESC LIMIT 1",
        org,
        session_id
    )?
    .first(None)
    .await
}

/// Sets a ticket's status (and optionally its assignee: `Some(None)` unassigns).
pub fn set_status(
    db: &D1Database,
    org: &str,
    id: &str,
    status: Status,
    assignee: Option<Option<&str>>,
) -> Result<D1PreparedStatement> {
    let until = match status {
        Status::Snoozed { until } => Some(until),
        _ => None,
    };
    query!(
        db,
        "UPDATE tickets SET status = ?3, snoozed_until = ?4,
           assignee = CASE WHEN ?5 = 1 THEN ?6 ELSE assignee END, updated_at = ?7
         WHERE org_id = ?1 AND id = ?2",
        org,
        id,
        status.as_str(),
        until,
        i32::from(assignee.is_some()),
        assignee.flatten(),
        now_ms()
    )
}

pub fn set_subject(
    db: &D1Database,
    org: &str,
    id: &str,
    subject: &str,
) -> Result<D1PreparedStatement> {
    query!(
        db,
        "UPDATE tickets SET subject = ?3, updated_at = ?4 WHERE org_id = ?1 AND id = ?2",
        org,
        id,
        subject,
        now_ms()
    )
}

/// Adds a message to a ticket's thread.
pub fn add_message(
    db: &D1Database,
    org: &str,
    ticket_id: &str,
    kind: &str,
    author: &str,
    body: &str,
) -> Result<D1PreparedStatement> {
    query!(
        db,
        "INSERT INTO ticket_messages (id, org_id, ticket_id, kind, author, body, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        new_id(),
        org,
        ticket_id,
        kind,
        author,
        body,
        now_ms()
    )
}

/// Snoozed tickets whose wake-up time has come, in any workspace: `(org, row)`.
pub async fn due_snoozed(
    db: &D1Database,
    now: i64,
    limit: u32,
) -> Result<Vec<(String, StatusRow)>> {
    #[derive(Deserialize)]
    struct Row {
        org_id: String,
        id: String,
        status: String,
        snoozed_until: Option<i64>,
    }
    let rows: Vec<Row> = query!(
        db,
        "SELECT org_id, id, status, snoozed_until FROM tickets WHERE status = 'snoozed' AND snoozed_until <= ?1 LIMIT ?2",
        now,
        limit
    )?
    .all()
    .await?
    .results()?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.org_id,
                StatusRow {
                    id: r.id,
                    status: r.status,
                    snoozed_until: r.snoozed_until,
                },
            )
        })
        .collect())
}
