//! Email storage: every message in or out by its Message-ID (`emails`), the workspace an
//! address belongs to, the sender's contact, and the Mailgun tokens seen.

use serde::{Deserialize, Serialize};
use worker::{query, D1Database, Result};

use crate::platform::{new_id, now_ms};

/// An email to record.
pub struct EmailWrite<'a> {
    pub ticket_id: Option<&'a str>,
    pub direction: &'a str,
    pub message_id: &'a str,
    pub in_reply_to: Option<&'a str>,
    pub refs: &'a [String],
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
    pub reply_to: Option<&'a str>,
    pub subject: &'a str,
    pub body: &'a str,
    pub attachments: &'a serde_json::Value,
    pub status: &'a str,
    pub reason: Option<&'a str>,
    pub size: usize,
}

/// Records an email; `false` when one with its Message-ID is already recorded (a provider's
/// retry), in which case nothing changes.
pub async fn record(db: &D1Database, org: &str, e: &EmailWrite<'_>) -> Result<bool> {
    let result = query!(
        db,
        "INSERT INTO emails (id, org_id, ticket_id, direction, message_id, in_reply_to, refs, from_address, to_address,
                             subject, body, attachments, status, reason, size, created_at, reply_to)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)
         ON CONFLICT (org_id, message_id) DO NOTHING",
        new_id(),
        org,
        e.ticket_id,
        e.direction,
        e.message_id,
        e.in_reply_to,
        serde_json::to_string(e.refs).unwrap_or_else(|_| "[]".into()),
        e.from,
        e.to,
        e.subject,
        e.body,
        e.attachments.to_string(),
        e.status,
        e.reason,
        e.size as u32,
        now_ms(),
        e.reply_to
    )?
    .run()
    .await?;
    Ok(result
        .meta()?
        .and_then(|m| m.changes)
        .is_some_and(|c| c > 0))
}

/// Files a recorded email under its ticket and sets its final status.
pub async fn settle(
    db: &D1Database,
    org: &str,
    message_id: &str,
    ticket_id: Option<&str>,
    status: &str,
    reason: Option<&str>,
) -> Result<()> {
    query!(
        db,
        "UPDATE emails SET ticket_id = COALESCE(?3, ticket_id), status = ?4, reason = COALESCE(?5, reason)
         WHERE org_id = ?1 AND message_id = ?2",
        org,
        message_id,
        ticket_id,
        status,
        reason
    )?
    .run()
    .await?;
    Ok(())
}

/// The ticket whose thread holds one of `ids` (the latest such email's), if any.
pub async fn ticket_of_thread(
    db: &D1Database,
    org: &str,
    ids: &[String],
) -> Result<Option<String>> {
    if ids.is_empty() {
        return Ok(None);
    }
    #[derive(Deserialize)]
    struct Row {
        ticket_id: Option<String>,
    }
    let row: Option<Row> = query!(
        db,
        "SELECT ticket_id FROM emails WHERE org_id = ?1 AND ticket_id IS NOT NULL
           AND message_id IN (SELECT value FROM json_each(?2))
         ORDER BY created_at DESC LIMIT 1",
        org,
        serde_json::to_string(ids).unwrap_or_else(|_| "[]".into())
    )?
    .first(None)
    .await?;
    Ok(row.and_then(|r| r.ticket_id))
}

/// A ticket's email thread, oldest first, as the inbox shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EmailRow {
    pub direction: String,
    pub message_id: String,
    pub in_reply_to: Option<String>,
    #[serde(deserialize_with = "super::json_text")]
    pub refs: Vec<String>,
    pub from_address: Option<String>,
    pub to_address: Option<String>,
    pub reply_to: Option<String>,
    pub subject: String,
    pub body: String,
    #[serde(deserialize_with = "super::json_text")]
    pub attachments: serde_json::Value,
    pub status: String,
    pub reason: Option<String>,
    pub created_at: i64,
}

pub async fn thread(db: &D1Database, org: &str, ticket_id: &str) -> Result<Vec<EmailRow>> {
    query!(
        db,
        "SELECT direction, message_id, in_reply_to, refs, from_address, to_address, reply_to, subject, body, attachments, status, reason, created_at
         FROM emails WHERE org_id = ?1 AND ticket_id = ?2 ORDER BY created_at, rowid",
        org,
        ticket_id
    )?
    .all()
    .await?
    .results()
}

/// The workspace an inbound address is for: its own address if it chose one, else
/// `<org id>@…`.
pub async fn workspace_of_address(db: &D1Database, address: &str) -> Result<Option<String>> {
    #[derive(Deserialize)]
    struct Row {
        id: String,
    }
    let local = address.split('@').next().unwrap_or("");
    let row: Option<Row> = query!(
        db,
        "SELECT id FROM workspaces WHERE inbound_email = ?1 OR id = ?2 LIMIT 1",
        address,
        local
    )?
    .first(None)
    .await?;
    Ok(row.map(|r| r.id))
}

/// The workspace and reply-address key of a ticket (reply addresses name the ticket only).
pub async fn ticket_workspace(
    db: &D1Database,
    ticket_id: &str,
) -> Result<Option<(String, String)>> {
    #[derive(Deserialize)]
    struct Row {
        org_id: String,
        email_secret: Option<String>,
    }
    let row: Option<Row> = query!(
        db,
        "SELECT t.org_id, w.email_secret FROM tickets t JOIN workspaces w ON w.id = t.org_id WHERE t.id = ?1",
        ticket_id
    )?
    .first(None)
    .await?;
    Ok(row.and_then(|r| Some((r.org_id, r.email_secret?))))
}

/// A workspace's email settings, inbound address and reply-address key.
#[derive(Debug, Clone, Deserialize)]
pub struct Mailroom {
    pub email: String,
    pub inbound_email: Option<String>,
    pub email_secret: Option<String>,
    pub name: String,
}

pub async fn mailroom(db: &D1Database, org: &str) -> Result<Option<Mailroom>> {
    query!(
        db,
        "SELECT email, inbound_email, email_secret, name FROM workspaces WHERE id = ?1",
        org
    )?
    .first(None)
    .await
}

/// The contact with this email address (one the app identified first), as `(end user id,
/// external id)`; else a new contact keyed by the address.
pub async fn contact_for(
    db: &D1Database,
    org: &str,
    email: &str,
    name: Option<&str>,
) -> Result<String> {
    #[derive(Deserialize)]
    struct Row {
        external_id: Option<String>,
    }
    let found: Option<Row> = query!(
        db,
        "SELECT external_id FROM end_users WHERE org_id = ?1 AND lower(email) = ?2 AND external_id IS NOT NULL
         ORDER BY last_seen_at DESC LIMIT 1",
        org,
        email
    )?
    .first(None)
    .await?;
    if let Some(id) = found.and_then(|r| r.external_id) {
        return Ok(id);
    }
    let now = now_ms();
    query!(
        db,
        "INSERT INTO end_users (id, org_id, external_id, email, name, created_at, last_seen_at) VALUES (?1, ?2, ?3, ?3, ?4, ?5, ?5)
         ON CONFLICT (org_id, external_id) WHERE external_id IS NOT NULL DO NOTHING",
        new_id(),
        org,
        email,
        name,
        now
    )?
    .run()
    .await?;
    Ok(email.to_owned())
}

/// Whether the team marked an earlier email ticket of this sender as spam.
pub async fn sender_marked_spam(db: &D1Database, org: &str, email: &str) -> Result<bool> {
    #[derive(Deserialize)]
    struct Row {
        spam: i64,
    }
    let row: Option<Row> = query!(
        db,
        "SELECT EXISTS (SELECT 1 FROM tickets t JOIN end_users u ON u.id = t.end_user_id
                        WHERE t.org_id = ?1 AND t.channel = 'email' AND t.status = 'spam' AND lower(u.email) = ?2) AS spam",
        org,
        email
    )?
    .first(None)
    .await?;
    Ok(row.is_some_and(|r| r.spam != 0))
}

/// Remembers a Mailgun token; `false` if it was seen before (a replay). Forgets tokens
/// older than a day.
pub async fn fresh_token(db: &D1Database, token: &str) -> Result<bool> {
    let now = now_ms();
    let results = db
        .batch(vec![
            query!(db, "DELETE FROM email_tokens WHERE at < ?1", now - 86_400_000)?,
            query!(
                db,
                "INSERT INTO email_tokens (token, at) VALUES (?1, ?2) ON CONFLICT (token) DO NOTHING",
                token,
                now
            )?,
        ])
        .await?;
    Ok(results
        .get(1)
        .and_then(|r| r.meta().ok().flatten())
        .and_then(|m| m.changes)
        .is_some_and(|c| c > 0))
}
