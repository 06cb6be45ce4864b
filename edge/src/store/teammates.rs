//! Teammates and who has taken over which conversation.

use halo_shared::console::Role;
use serde::Deserialize;
use worker::{query, D1Database, Result};

use crate::platform::{new_id, now_ms};

/// A teammate, as their inbox token or console session proves.
#[derive(Debug, Clone, Deserialize)]
pub struct Teammate {
    pub id: String,
    pub org_id: String,
    pub name: String,
    pub(super) role: String,
}

impl Teammate {
    /// The teammate's role (a stored value that is not one reads as the least, `agent`).
    pub fn role(&self) -> Role {
        Role::parse(&self.role).unwrap_or(Role::Agent)
    }
}

/// A teammate to add.
pub struct NewTeammate<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub email: Option<&'a str>,
    pub role: Role,
    /// The hash of their inbox token (for one invited in the console, of a token never
    /// shown to anyone).
    pub token_hash: &'a str,
}

pub async fn insert(db: &D1Database, org: &str, t: &NewTeammate<'_>) -> Result<()> {
    query!(
        db,
        "INSERT INTO teammates (id, org_id, name, email, role, token_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        t.id,
        org,
        t.name,
        t.email,
        t.role.as_str(),
        t.token_hash,
        now_ms()
    )?
    .run()
    .await?;
    Ok(())
}

pub async fn by_token_hash(db: &D1Database, hash: &str) -> Result<Option<Teammate>> {
    query!(
        db,
        "SELECT id, org_id, name, role FROM teammates WHERE token_hash = ?1 AND removed_at IS NULL",
        hash
    )?
    .first(None)
    .await
}

/// Sets or clears (`None`) the teammate who has taken over a conversation; false if the
/// workspace has no such conversation.
pub async fn set_taken_over(
    db: &D1Database,
    org: &str,
    session_id: &str,
    teammate: Option<&str>,
) -> Result<bool> {
    let r = query!(
        db,
        "UPDATE conversations SET taken_over_by = ?3, updated_at = ?4 WHERE org_id = ?1 AND session_id = ?2",
        org,
        session_id,
        teammate,
        now_ms()
    )?
    .run()
    .await?;
    Ok(r.meta()?.and_then(|m| m.changes).unwrap_or(0) > 0)
}

/// A line written by a teammate or the system, as the widget catches up on it.
#[derive(Debug, Deserialize)]
pub struct Line {
    pub id: String,
    pub role: String,
    pub body: String,
    pub created_at: i64,
}

/// Stores a teammate's or the system's line in a conversation; its id and time.
pub async fn add_line(
    db: &D1Database,
    org: &str,
    session_id: &str,
    role: halo_shared::live::LineRole,
    body: &str,
) -> Result<(String, i64)> {
    let id = new_id();
    let at = now_ms();
    query!(
        db,
        "INSERT INTO messages (id, org_id, conversation_id, role, body, created_at)
         VALUES (?3, ?1, (SELECT id FROM conversations WHERE org_id = ?1 AND session_id = ?2), ?4, ?5, ?6)",
        org,
        session_id,
        &id,
        role.as_str(),
        body,
        at
    )?
    .run()
    .await?;
    Ok((id, at))
}

/// The teammate and system lines of a conversation written after `after` (ms), oldest first.
pub async fn lines_after(
    db: &D1Database,
    org: &str,
    conversation_id: &str,
    after: i64,
    limit: u32,
) -> Result<Vec<Line>> {
    query!(
        db,
        "SELECT id, role, body, created_at FROM messages
         WHERE org_id = ?1 AND conversation_id = ?2 AND role IN ('teammate', 'system') AND created_at > ?3
         ORDER BY created_at, rowid LIMIT ?4",
        org,
        conversation_id,
        after,
        limit
    )?
    .all()
    .await?
    .results()
}
