//! Teammates and who has taken over which conversation.

use serde::Deserialize;
use worker::{query, D1Database, Result};

use crate::platform::{new_id, now_ms};

/// A teammate, as their inbox token proves.
#[derive(Debug, Clone, Deserialize)]
pub struct Teammate {
    pub id: String,
    pub org_id: String,
    pub name: String,
}

pub async fn insert(
    db: &D1Database,
    org: &str,
    id: &str,
    name: &str,
    email: Option<&str>,
    token_hash: &str,
) -> Result<()> {
    query!(
        db,
        "INSERT INTO teammates (id, org_id, name, email, token_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        id,
        org,
        name,
        email,
        token_hash,
        now_ms()
    )?
    .run()
    .await?;
    Ok(())
}

pub async fn by_token_hash(db: &D1Database, hash: &str) -> Result<Option<Teammate>> {
    query!(
        db,
        "SELECT id, org_id, name FROM teammates WHERE token_hash = ?1",
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

/// Stores a teammate's or the system's line in a conversation.
pub async fn add_line(
    db: &D1Database,
    org: &str,
    session_id: &str,
    role: &str,
    body: &str,
) -> Result<String> {
    let id = new_id();
    query!(
        db,
        "INSERT INTO messages (id, org_id, conversation_id, role, body, created_at)
         VALUES (?3, ?1, (SELECT id FROM conversations WHERE org_id = ?1 AND session_id = ?2), ?4, ?5, ?6)",
        org,
        session_id,
        &id,
        role,
        body,
        now_ms()
    )?
    .run()
    .await?;
    Ok(id)
}
