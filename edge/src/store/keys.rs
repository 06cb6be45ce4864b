//! A workspace's credentials (`workspace_keys`): the current widget key, secret key and
//! identity secret, and those a rotation replaced, which work until their grace period ends.

use halo_shared::keys::{hint, KeyKind};
use halo_shared::settings::KeyView;
use serde::Deserialize;
use worker::{query, D1Database, D1PreparedStatement, Result};

use crate::platform::{key_hash, new_id};

/// The condition that a key row `k` still works: current, or replaced and in its grace
/// period. The database's clock decides, to the millisecond, in the statement that uses it.
pub const LIVE: &str = "(k.expires_at IS NULL OR k.expires_at > CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))";

/// A key to store: its kind and full value (hashed, or kept in clear, as its kind says).
pub struct NewKey<'a> {
    pub kind: KeyKind,
    pub value: &'a str,
}

/// The statement that stores `key` as a current key of `org`.
pub fn insert(
    db: &D1Database,
    org: &str,
    key: &NewKey<'_>,
    now: i64,
) -> Result<D1PreparedStatement> {
    let hash = (key.kind != KeyKind::Identity).then(|| key_hash(key.value));
    let clear = (key.kind != KeyKind::Secret).then_some(key.value);
    query!(
        db,
        "INSERT INTO workspace_keys (id, org_id, kind, key_hash, secret, hint, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        new_id(),
        org,
        key.kind.as_str(),
        hash,
        clear,
        hint(key.value),
        now
    )
}

/// Issues `key` as the current key of its kind; the keys it replaces work until
/// `grace_until` (or their own earlier end), then stop. One transaction.
pub async fn rotate(
    db: &D1Database,
    org: &str,
    key: &NewKey<'_>,
    now: i64,
    grace_until: i64,
) -> Result<()> {
    let end_old = query!(
        db,
        &format!(
            "UPDATE workspace_keys AS k SET expires_at = MIN(COALESCE(k.expires_at, ?3), ?3)
             WHERE k.org_id = ?1 AND k.kind = ?2 AND {LIVE}"
        ),
        org,
        key.kind.as_str(),
        grace_until
    )?;
    db.batch(vec![end_old, insert(db, org, key, now)?]).await?;
    Ok(())
}

#[derive(Deserialize)]
struct KeyRow {
    id: String,
    kind: String,
    hint: String,
    secret: Option<String>,
    created_at: i64,
    expires_at: Option<i64>,
}

/// The keys that still work, newest first per kind (no secret values but the widget key's).
pub async fn list(db: &D1Database, org: &str) -> Result<Vec<KeyView>> {
    let rows: Vec<KeyRow> = query!(
        db,
        &format!(
            "SELECT k.id, k.kind, k.hint, k.secret, k.created_at, k.expires_at FROM workspace_keys k
             WHERE k.org_id = ?1 AND {LIVE} ORDER BY k.kind, k.created_at DESC"
        ),
        org
    )?
    .all()
    .await?
    .results()?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let kind = KeyKind::parse(&r.kind)?;
            Some(KeyView {
                id: r.id,
                kind,
                hint: r.hint,
                widget_key: r.secret.filter(|_| kind == KeyKind::Widget),
                created_at: r.created_at,
                expires_at: r.expires_at,
            })
        })
        .collect())
}

/// The current value of a kind kept in clear (the widget key, the identity secret).
pub async fn current_clear(db: &D1Database, org: &str, kind: KeyKind) -> Result<Option<String>> {
    #[derive(Deserialize)]
    struct Row {
        secret: Option<String>,
    }
    let row: Option<Row> = query!(
        db,
        "SELECT k.secret FROM workspace_keys k WHERE k.org_id = ?1 AND k.kind = ?2 AND k.expires_at IS NULL
         ORDER BY k.created_at DESC LIMIT 1",
        org,
        kind.as_str()
    )?
    .first(None)
    .await?;
    Ok(row.and_then(|r| r.secret))
}
