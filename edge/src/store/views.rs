//! What the console's views read besides the lists themselves: the count of each view, the
//! teammate's unread marks, search over every conversation and ticket, and the contact and
//! company directories. Every query names the workspace.

use halo_shared::inbox::{CompanySummary, ContactSummary, Counts, Cursor, HitKind, SearchHit};
use halo_shared::routing::DEFAULT_ABANDON_SECONDS;
use serde::Deserialize;
use worker::{query, D1Database, Result};

/// The count of every view for a teammate (their own tickets, their unread ones).
pub async fn counts(db: &D1Database, org: &str, teammate_id: &str, now: i64) -> Result<Counts> {
    #[derive(Deserialize)]
    struct Row {
        live: u32,
        mine: u32,
        unassigned: u32,
        open: u32,
        priority: u32,
        snoozed: u32,
        resolved: u32,
        spam: u32,
        unread_tickets: u32,
        unread_conversations: u32,
    }
    let row: Option<Row> = query!(
        db,
        "WITH active AS (SELECT id, assignee, created_at FROM tickets
                          WHERE org_id = ?1 AND status IN ('open', 'priority', 'in_progress')),
              live AS (SELECT id, session_id FROM conversations c
                        WHERE c.org_id = ?1 AND COALESCE(c.outcome, '') <> 'abandoned'
                          AND c.updated_at >= ?3 - 1000 * COALESCE((SELECT json_extract(routing, '$.abandon_after_seconds')
                                                                     FROM workspaces WHERE id = ?1), ?4))
         SELECT (SELECT COUNT(*) FROM live) AS live,
                (SELECT COUNT(*) FROM active WHERE assignee = ?2) AS mine,
                (SELECT COUNT(*) FROM active WHERE assignee IS NULL) AS unassigned,
                (SELECT COUNT(*) FROM active) AS open,
                (SELECT COUNT(*) FROM tickets WHERE org_id = ?1 AND status = 'priority') AS priority,
                (SELECT COUNT(*) FROM tickets WHERE org_id = ?1 AND status = 'snoozed') AS snoozed,
                (SELECT COUNT(*) FROM tickets WHERE org_id = ?1 AND status = 'resolved') AS resolved,
                (SELECT COUNT(*) FROM tickets WHERE org_id = ?1 AND status = 'spam') AS spam,
                (SELECT COUNT(*) FROM active a WHERE (a.assignee = ?2 OR a.assignee IS NULL)
                   AND COALESCE((SELECT MAX(m.created_at) FROM ticket_messages m
                                  WHERE m.org_id = ?1 AND m.ticket_id = a.id AND m.author = 'customer'), a.created_at)
                       > COALESCE((SELECT seen_at FROM teammate_seen s
                                    WHERE s.org_id = ?1 AND s.teammate_id = ?2 AND s.item = 't:' || a.id), 0)
                ) AS unread_tickets,
                (SELECT COUNT(*) FROM live l
                  WHERE COALESCE((SELECT MAX(m.created_at) FROM messages m
                                   WHERE m.org_id = ?1 AND m.conversation_id = l.id AND m.role = 'user'), 0)
                       > COALESCE((SELECT seen_at FROM teammate_seen s
                                    WHERE s.org_id = ?1 AND s.teammate_id = ?2 AND s.item = 'c:' || l.session_id), 0)
                ) AS unread_conversations",
        org,
        teammate_id,
        now,
        DEFAULT_ABANDON_SECONDS
    )?
    .first(None)
    .await?;
    Ok(row
        .map(|r| Counts {
            live: r.live,
            mine: r.mine,
            unassigned: r.unassigned,
            open: r.open,
            priority: r.priority,
            snoozed: r.snoozed,
            resolved: r.resolved,
            spam: r.spam,
            unread: r.unread_tickets + r.unread_conversations,
        })
        .unwrap_or_default())
}

/// What a teammate opened: `c:<session_id>` or `t:<ticket_id>`.
pub async fn mark_seen(
    db: &D1Database,
    org: &str,
    teammate_id: &str,
    item: &str,
    now: i64,
) -> Result<()> {
    query!(
        db,
        "INSERT INTO teammate_seen (org_id, teammate_id, item, seen_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (teammate_id, item) DO UPDATE SET seen_at = excluded.seen_at",
        org,
        teammate_id,
        item,
        now
    )?
    .run()
    .await?;
    Ok(())
}

/// Conversations and tickets whose lines or subject match the FTS5 expression `fts`, newest
/// first (by the index's row order, which is the order lines were written: no sort of every
/// match), one hit per conversation or ticket, at most `limit`.
pub async fn search_threads(
    db: &D1Database,
    org: &str,
    fts: &str,
    limit: usize,
) -> Result<Vec<SearchHit>> {
    #[derive(Deserialize)]
    struct Row {
        kind: String,
        id: Option<String>,
        title: Option<String>,
        body: String,
        at: i64,
    }
    let rows: Vec<Row> = query!(
        db,
        "SELECT f.kind, f.body, f.at,
                CASE f.kind WHEN 'conversation'
                  THEN (SELECT session_id FROM conversations WHERE id = f.ref AND org_id = ?1)
                  ELSE (SELECT id FROM tickets WHERE id = f.ref AND org_id = ?1) END AS id,
                CASE f.kind WHEN 'conversation'
                  THEN (SELECT COALESCE(u.name, u.email, u.external_id, 'Visitor') FROM conversations c
                          JOIN end_users u ON u.id = c.end_user_id AND u.org_id = c.org_id
                         WHERE c.id = f.ref AND c.org_id = ?1)
                  ELSE (SELECT subject FROM tickets WHERE id = f.ref AND org_id = ?1) END AS title
         FROM inbox_fts f WHERE inbox_fts MATCH ?2 AND f.org_id = ?1
         ORDER BY f.rowid DESC LIMIT 200",
        org,
        fts
    )?
    .all()
    .await?
    .results()?;
    let mut hits: Vec<SearchHit> = Vec::new();
    for r in rows {
        let Some(id) = r.id else { continue };
        let kind = if r.kind == "ticket" {
            HitKind::Ticket
        } else {
            HitKind::Conversation
        };
        if hits.iter().any(|h| h.kind == kind && h.id == id) {
            continue;
        }
        hits.push(SearchHit {
            kind,
            id,
            title: r.title.unwrap_or_default(),
            snippet: r.body,
            updated_at: r.at,
        });
        if hits.len() == limit {
            break;
        }
    }
    Ok(hits)
}

/// Contacts whose name, email or user id contains the `LIKE` pattern (all when `None`), most
/// recently seen first, after `after`.
pub async fn contacts(
    db: &D1Database,
    org: &str,
    like: Option<&str>,
    after: Option<&Cursor>,
    limit: u32,
) -> Result<Vec<ContactSummary>> {
    #[derive(Deserialize)]
    struct Row {
        user_id: String,
        name: Option<String>,
        email: Option<String>,
        company_id: Option<String>,
        verified: i64,
        last_seen_at: i64,
    }
    let rows: Vec<Row> = query!(
        db,
        "SELECT u.external_id AS user_id, u.name, u.email, c.external_id AS company_id, u.verified, u.last_seen_at
         FROM end_users u LEFT JOIN companies c ON c.id = u.company_id AND c.org_id = u.org_id
         WHERE u.org_id = ?1 AND u.external_id IS NOT NULL
           AND (?2 IS NULL OR lower(COALESCE(u.name, '')) LIKE ?2 ESCAPE '\\'
                OR lower(COALESCE(u.email, '')) LIKE ?2 ESCAPE '\\' OR lower(u.external_id) LIKE ?2 ESCAPE '\\')
           AND (?3 IS NULL OR u.last_seen_at < ?3 OR (u.last_seen_at = ?3 AND u.external_id < ?4))
         ORDER BY u.last_seen_at DESC, u.external_id DESC LIMIT ?5",
        org,
        like,
        after.map(|c| c.at),
        after.map(|c| c.id.as_str()),
        limit
    )?
    .all()
    .await?
    .results()?;
    Ok(rows
        .into_iter()
        .map(|r| ContactSummary {
            user_id: r.user_id,
            name: r.name,
            email: r.email,
            company_id: r.company_id,
            verified: r.verified != 0,
            last_seen_at: r.last_seen_at,
        })
        .collect())
}

/// Companies whose name or id contains the `LIKE` pattern (all when `None`), most recently
/// updated first, after `after`.
pub async fn companies(
    db: &D1Database,
    org: &str,
    like: Option<&str>,
    after: Option<&Cursor>,
    limit: u32,
) -> Result<Vec<CompanySummary>> {
    query!(
        db,
        "SELECT c.external_id AS company_id, c.name, c.plan, c.updated_at,
                (SELECT COUNT(*) FROM end_users u WHERE u.org_id = c.org_id AND u.company_id = c.id) AS users
         FROM companies c
         WHERE c.org_id = ?1
           AND (?2 IS NULL OR lower(COALESCE(c.name, '')) LIKE ?2 ESCAPE '\\' OR lower(c.external_id) LIKE ?2 ESCAPE '\\')
           AND (?3 IS NULL OR c.updated_at < ?3 OR (c.updated_at = ?3 AND c.external_id < ?4))
         ORDER BY c.updated_at DESC, c.external_id DESC LIMIT ?5",
        org,
        like,
        after.map(|c| c.at),
        after.map(|c| c.id.as_str()),
        limit
    )?
    .all()
    .await?
    .results()
}
