//! What the console's sign-in keeps: teammates' roles and passwords, one-time links, sessions
//! and failed sign-ins. Every query of a workspace's team names the workspace; the two that
//! cannot (a sign-in by email, a link or session by its token's hash) find the workspace from
//! the row itself.

use halo_shared::console::{LinkKind, Role, SIGNIN_WINDOW_MS};
use serde::Deserialize;
use worker::{query, D1Database, D1PreparedStatement, Result};

use super::teammates::Teammate;

/// A teammate as the console reads them.
#[derive(Debug, Deserialize)]
pub struct TeammateRow {
    pub id: String,
    pub org_id: String,
    pub name: String,
    pub email: Option<String>,
    role: String,
    pub password_hash: Option<String>,
}

impl TeammateRow {
    pub fn role(&self) -> Role {
        Role::parse(&self.role).unwrap_or(Role::Agent)
    }

    pub fn view(&self) -> halo_shared::console::TeammateView {
        halo_shared::console::TeammateView {
            id: self.id.clone(),
            name: self.name.clone(),
            email: self.email.clone(),
            role: self.role(),
            active: self.password_hash.is_some(),
        }
    }
}

const TEAMMATE_SELECT: &str =
    "SELECT id, org_id, name, email, role, password_hash FROM teammates WHERE removed_at IS NULL";

/// The teammates, in any workspace, who sign in with this email (sign-in comes before the
/// workspace is known; each row names its own).
pub async fn by_email(db: &D1Database, email: &str) -> Result<Vec<TeammateRow>> {
    query!(
        db,
        &format!("{TEAMMATE_SELECT} AND email = ?1 ORDER BY created_at LIMIT 10"),
        email
    )?
    .all()
    .await?
    .results()
}

/// A workspace's teammates, oldest first.
pub async fn team(db: &D1Database, org: &str) -> Result<Vec<TeammateRow>> {
    query!(
        db,
        &format!("{TEAMMATE_SELECT} AND org_id = ?1 ORDER BY created_at LIMIT 500"),
        org
    )?
    .all()
    .await?
    .results()
}

pub async fn teammate(db: &D1Database, org: &str, id: &str) -> Result<Option<TeammateRow>> {
    query!(
        db,
        &format!("{TEAMMATE_SELECT} AND org_id = ?1 AND id = ?2"),
        org,
        id
    )?
    .first(None)
    .await
}

/// Whether the workspace has a teammate (not removed) with this email.
pub async fn email_taken(db: &D1Database, org: &str, email: &str) -> Result<bool> {
    #[derive(Deserialize)]
    struct N {
        n: i64,
    }
    let n: Option<N> = query!(
        db,
        "SELECT COUNT(*) AS n FROM teammates WHERE org_id = ?1 AND email = ?2 AND removed_at IS NULL",
        org,
        email
    )?
    .first(None)
    .await?;
    Ok(n.is_some_and(|n| n.n > 0))
}

/// How many owners (not removed) a workspace has.
pub async fn owners(db: &D1Database, org: &str) -> Result<usize> {
    #[derive(Deserialize)]
    struct N {
        n: u32,
    }
    let n: Option<N> = query!(
        db,
        "SELECT COUNT(*) AS n FROM teammates WHERE org_id = ?1 AND role = 'owner' AND removed_at IS NULL",
        org
    )?
    .first(None)
    .await?;
    Ok(n.map_or(0, |n| n.n as usize))
}

/// The condition that keeps a workspace's last owner: the row changes only if it is not an
/// owner, or another owner remains (checked in the same statement, so two owners demoting
/// each other at once cannot both succeed).
const KEEPS_AN_OWNER: &str = "(role <> 'owner' OR (SELECT COUNT(*) FROM teammates o
     WHERE o.org_id = ?1 AND o.role = 'owner' AND o.removed_at IS NULL AND o.id <> ?2) > 0)";

/// Changes a role; false if nothing changed (no such teammate, or the last owner would go).
pub async fn set_role(db: &D1Database, org: &str, id: &str, role: Role) -> Result<bool> {
    let r = query!(
        db,
        &format!(
            "UPDATE teammates SET role = ?3 WHERE org_id = ?1 AND id = ?2 AND removed_at IS NULL
               AND (?3 = 'owner' OR {KEEPS_AN_OWNER})"
        ),
        org,
        id,
        role.as_str()
    )?
    .run()
    .await?;
    Ok(r.meta()?.and_then(|m| m.changes).unwrap_or(0) > 0)
}

/// Removes a teammate: their row stays (their lines and notes name them), their sessions and
/// links end. False if nothing changed (no such teammate, or the last owner would go).
pub async fn remove(db: &D1Database, org: &str, id: &str, now: i64) -> Result<bool> {
    let results = db
        .batch(vec![
            query!(
                db,
                &format!(
                    "UPDATE teammates SET removed_at = ?3 WHERE org_id = ?1 AND id = ?2
                       AND removed_at IS NULL AND {KEEPS_AN_OWNER}"
                ),
                org,
                id,
                now
            )?,
            query!(
                db,
                "DELETE FROM console_sessions WHERE org_id = ?1 AND teammate_id = ?2
                   AND EXISTS (SELECT 1 FROM teammates WHERE id = ?2 AND removed_at IS NOT NULL)",
                org,
                id
            )?,
            query!(
                db,
                "UPDATE teammate_links SET used_at = ?3 WHERE org_id = ?1 AND teammate_id = ?2 AND used_at IS NULL
                   AND EXISTS (SELECT 1 FROM teammates WHERE id = ?2 AND removed_at IS NOT NULL)",
                org,
                id,
                now
            )?,
        ])
        .await?;
    let removed = results
        .first()
        .and_then(|r| r.meta().ok().flatten())
        .and_then(|m| m.changes)
        .unwrap_or(0);
    Ok(removed > 0)
}

/// An invited teammate's name and password, set when they accept.
pub fn set_profile(
    db: &D1Database,
    org: &str,
    id: &str,
    name: &str,
    password_hash: &str,
) -> Result<D1PreparedStatement> {
    query!(
        db,
        "UPDATE teammates SET name = ?3, password_hash = ?4 WHERE org_id = ?1 AND id = ?2 AND removed_at IS NULL",
        org,
        id,
        name,
        password_hash
    )
}

/// A stored one-time link.
#[derive(Debug, Deserialize)]
pub struct Link {
    pub org_id: String,
    pub teammate_id: String,
    pub kind: String,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

pub async fn create_link(
    db: &D1Database,
    org: &str,
    teammate_id: &str,
    kind: LinkKind,
    token_hash: &str,
    expires_at: i64,
) -> Result<()> {
    query!(
        db,
        "INSERT INTO teammate_links (token_hash, org_id, teammate_id, kind, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        token_hash,
        org,
        teammate_id,
        kind.as_str(),
        expires_at
    )?
    .run()
    .await?;
    Ok(())
}

pub async fn link(db: &D1Database, token_hash: &str) -> Result<Option<Link>> {
    query!(
        db,
        "SELECT org_id, teammate_id, kind, expires_at, used_at FROM teammate_links WHERE token_hash = ?1",
        token_hash
    )?
    .first(None)
    .await
}

/// Marks a link used; false if it already was (of two racing uses, one wins).
pub async fn use_link(db: &D1Database, token_hash: &str, now: i64) -> Result<bool> {
    let r = query!(
        db,
        "UPDATE teammate_links SET used_at = ?2 WHERE token_hash = ?1 AND used_at IS NULL AND expires_at > ?2",
        token_hash,
        now
    )?
    .run()
    .await?;
    Ok(r.meta()?.and_then(|m| m.changes).unwrap_or(0) > 0)
}

pub async fn create_session(
    db: &D1Database,
    org: &str,
    teammate_id: &str,
    token_hash: &str,
    now: i64,
    expires_at: i64,
) -> Result<()> {
    query!(
        db,
        "INSERT INTO console_sessions (token_hash, org_id, teammate_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        token_hash,
        org,
        teammate_id,
        now,
        expires_at
    )?
    .run()
    .await?;
    Ok(())
}

/// A session's teammate (not removed) and its expiry.
pub async fn session(db: &D1Database, token_hash: &str) -> Result<Option<(Teammate, i64)>> {
    #[derive(Deserialize)]
    struct Row {
        id: String,
        org_id: String,
        name: String,
        role: String,
        expires_at: i64,
    }
    let row: Option<Row> = query!(
        db,
        "SELECT t.id, t.org_id, t.name, t.role, s.expires_at FROM console_sessions s
         JOIN teammates t ON t.id = s.teammate_id AND t.org_id = s.org_id AND t.removed_at IS NULL
         WHERE s.token_hash = ?1",
        token_hash
    )?
    .first(None)
    .await?;
    Ok(row.map(|r| {
        let teammate = Teammate {
            id: r.id,
            org_id: r.org_id,
            name: r.name,
            role: r.role,
        };
        (teammate, r.expires_at)
    }))
}

pub async fn renew_session(db: &D1Database, token_hash: &str, expires_at: i64) -> Result<()> {
    query!(
        db,
        "UPDATE console_sessions SET expires_at = ?2 WHERE token_hash = ?1",
        token_hash,
        expires_at
    )?
    .run()
    .await?;
    Ok(())
}

/// Ends one session (`everywhere`: every session of its teammate).
pub async fn end_session(
    db: &D1Database,
    tm: &Teammate,
    token_hash: &str,
    everywhere: bool,
) -> Result<()> {
    query!(
        db,
        "DELETE FROM console_sessions WHERE org_id = ?1 AND teammate_id = ?2 AND (?4 = 1 OR token_hash = ?3)",
        &tm.org_id,
        &tm.id,
        token_hash,
        i32::from(everywhere)
    )?
    .run()
    .await?;
    Ok(())
}

/// Ends every session of a teammate but `keep` (a password change keeps the one it came from).
pub fn end_other_sessions(
    db: &D1Database,
    org: &str,
    teammate_id: &str,
    keep: &str,
) -> Result<D1PreparedStatement> {
    query!(
        db,
        "DELETE FROM console_sessions WHERE org_id = ?1 AND teammate_id = ?2 AND token_hash <> ?3",
        org,
        teammate_id,
        keep
    )
}

/// The times of the sign-in tries within the window for each key (one list per key), other
/// than the try `except` (the one being made).
pub async fn failures(
    db: &D1Database,
    keys: &[&str],
    now: i64,
    except: &str,
) -> Result<Vec<Vec<i64>>> {
    #[derive(Deserialize)]
    struct Row {
        key: String,
        at: i64,
    }
    let rows: Vec<Row> = query!(
        db,
        "SELECT key, at FROM signin_failures WHERE key IN (?1, ?2) AND at > ?3 AND COALESCE(attempt, '') <> ?4",
        keys.first().copied().unwrap_or(""),
        keys.get(1).copied().unwrap_or(""),
        now - SIGNIN_WINDOW_MS,
        except
    )?
    .all()
    .await?
    .results()?;
    Ok(keys
        .iter()
        .map(|k| rows.iter().filter(|r| r.key == *k).map(|r| r.at).collect())
        .collect())
}

/// Writes a sign-in try under each key before its password is checked (so that parallel
/// tries see each other), and forgets tries older than the window.
pub async fn record_attempt(db: &D1Database, keys: &[&str], now: i64, attempt: &str) -> Result<()> {
    let mut batch = vec![query!(
        db,
        "DELETE FROM signin_failures WHERE at <= ?1",
        now - SIGNIN_WINDOW_MS
    )?];
    for key in keys {
        batch.push(query!(
            db,
            "INSERT INTO signin_failures (key, at, attempt) VALUES (?1, ?2, ?3)",
            key,
            now,
            attempt
        )?);
    }
    db.batch(batch).await?;
    Ok(())
}

/// Forgets a try that succeeded (the failures before it still count).
pub async fn forget_attempt(db: &D1Database, attempt: &str) -> Result<()> {
    query!(
        db,
        "DELETE FROM signin_failures WHERE attempt = ?1",
        attempt
    )?
    .run()
    .await?;
    Ok(())
}
