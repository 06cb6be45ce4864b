//! What a workspace spends on models (`llm_usage`), by UTC day, and how many turns a model
//! answered in a conversation: what the budget and the per-conversation cap count.

use halo_shared::limits::Usage;
use serde::Deserialize;
use worker::{query, D1Database, Result};

/// The workspace's spending on `day`.
pub async fn on_day(db: &D1Database, org: &str, day: i64) -> Result<Usage> {
    #[derive(Deserialize)]
    struct Row {
        requests: u32,
        tokens: f64,
    }
    let row: Option<Row> = query!(
        db,
        "SELECT requests, tokens FROM llm_usage WHERE org_id = ?1 AND day = ?2",
        org,
        day
    )?
    .first(None)
    .await?;
    Ok(row.map_or(
        Usage {
            day,
            ..Usage::default()
        },
        |r| Usage {
            day,
            requests: r.requests,
            tokens: r.tokens as u64,
        },
    ))
}

/// Adds a turn's model calls and tokens to the day's.
pub async fn spend(db: &D1Database, org: &str, day: i64, calls: u32, tokens: u32) -> Result<()> {
    query!(
        db,
        "INSERT INTO llm_usage (org_id, day, requests, tokens) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (org_id, day) DO UPDATE SET requests = requests + ?3, tokens = tokens + ?4",
        org,
        day,
        calls,
        tokens
    )?
    .run()
    .await?;
    Ok(())
}

/// How many of a conversation's replies a model wrote (not the offline engine).
pub async fn model_turns(db: &D1Database, org: &str, session_id: &str) -> Result<u32> {
    #[derive(Deserialize)]
    struct Row {
        n: u32,
    }
    let row: Option<Row> = query!(
        db,
        "SELECT COUNT(*) AS n FROM messages m JOIN conversations c ON c.id = m.conversation_id
         WHERE c.org_id = ?1 AND c.session_id = ?2 AND m.role = 'ai' AND m.engine NOT IN ('offline', 'fallback')",
        org,
        session_id
    )?
    .first(None)
    .await?;
    Ok(row.map_or(0, |r| r.n))
}
