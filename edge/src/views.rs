//! The console's reads around the lists: each view's count, unread marks, search across
//! conversations, tickets and contacts, and the contact and company directories (inbox token
//! or console session).

use halo_shared::inbox::{
    fts_prefix_query, like_pattern, page_size, search_query, snippet, Cursor, HitKind, SearchHit,
};
use serde_json::{json, Value};
use worker::{Request, Response};

use crate::auth;
use crate::error::{ApiError, ApiResult};
use crate::http::{json_ok, query_param, read_json};
use crate::platform::{now_ms, Bindings};
use crate::store::{self, tickets as ticket_store, views, Scope};
use crate::tickets::next_page;

/// `GET /api/inbox/counts`: how many conversations are live and how many tickets each view
/// holds, and how many the teammate has unread.
pub async fn get_counts(req: &Request, b: &Bindings) -> ApiResult<Response> {
    let tm = auth::teammate(req, &b.db).await?;
    json_ok(&views::counts(&b.db, &tm.org_id, &tm.id, now_ms()).await?)
}

/// `POST /api/inbox/seen` `{ conversation: session_id }` or `{ ticket: id }`: the teammate has
/// read it; its unread mark goes until the customer writes again.
pub async fn mark_seen(req: &mut Request, b: &Bindings) -> ApiResult<Response> {
    let db = &b.db;
    let tm = auth::teammate(req, db).await?;
    let body = read_json(req).await?;
    let text = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_owned);
    let item = match (text("conversation"), text("ticket")) {
        (Some(session), None) => {
            store::conversation_by_session(db, Scope::Org(&tm.org_id), &session)
                .await?
                .ok_or(ApiError::NotFound(
                    "No conversation with this session_id in this workspace.",
                ))?;
            format!("c:{session}")
        }
        (None, Some(ticket)) => {
            ticket_store::status_of(db, &tm.org_id, &ticket)
                .await?
                .ok_or(ApiError::NotFound(
                    "No ticket with this id in this workspace.",
                ))?;
            format!("t:{ticket}")
        }
        _ => {
            return Err(halo_shared::chat::FieldError::new(
                "conversation",
                halo_shared::chat::InvalidField::Invalid(
                    "send exactly one of `conversation` (a session id) or `ticket` (an id)",
                ),
            )
            .into())
        }
    };
    views::mark_seen(db, &tm.org_id, &tm.id, &item, now_ms()).await?;
    json_ok(&json!({ "seen": item }))
}

/// Most thread hits (conversations and tickets) and contact hits one search returns.
const THREAD_HITS: usize = 20;
const CONTACT_HITS: u32 = 8;

/// `GET /api/inbox/search?q=`: tickets (subject, thread), conversations (any line) and
/// contacts (name, email, user id) matching every word typed, as prefixes; newest first.
pub async fn search_inbox(req: &Request, b: &Bindings) -> ApiResult<Response> {
    let db = &b.db;
    let tm = auth::teammate(req, db).await?;
    let q = search_query(query_param(req, "q").as_deref())?;
    let first_word = q.split_whitespace().next().unwrap_or(&q).to_owned();
    let threads = match fts_prefix_query(&q) {
        Some(fts) => views::search_threads(db, &tm.org_id, &fts, THREAD_HITS).await?,
        None => Vec::new(),
    };
    let people = views::contacts(db, &tm.org_id, Some(&like_pattern(&q)), None, CONTACT_HITS)
        .await?
        .into_iter()
        .map(|c| SearchHit {
            kind: HitKind::Contact,
            title: c.name.clone().unwrap_or_else(|| c.user_id.clone()),
            snippet: [c.email.as_deref(), Some(c.user_id.as_str())]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" · "),
            id: c.user_id,
            updated_at: c.last_seen_at,
        });
    let hits: Vec<SearchHit> = threads
        .into_iter()
        .map(|mut h| {
            h.snippet = snippet(&h.snippet, &first_word, 120);
            h
        })
        .chain(people)
        .collect();
    json_ok(&json!({ "hits": hits }))
}

/// A directory page's query: the optional `q` filter (as a `LIKE` pattern), where it starts
/// (`cursor`) and how many rows (`limit`).
struct Page {
    like: Option<String>,
    after: Option<Cursor>,
    limit: u32,
}

impl Page {
    fn of(req: &Request) -> ApiResult<Page> {
        let like = match query_param(req, "q").filter(|q| !q.trim().is_empty()) {
            None => None,
            Some(q) => Some(like_pattern(&search_query(Some(&q))?)),
        };
        let after = query_param(req, "cursor")
            .map(|c| Cursor::parse(&c))
            .transpose()?;
        let limit = page_size(query_param(req, "limit").as_deref())?;
        Ok(Page { like, after, limit })
    }

    fn like(&self) -> Option<&str> {
        self.like.as_deref()
    }

    fn after(&self) -> Option<&Cursor> {
        self.after.as_ref()
    }
}

/// `GET /api/inbox/contacts?q=&cursor=&limit=`: the workspace's identified contacts, most
/// recently seen first.
pub async fn list_contacts(req: &Request, b: &Bindings) -> ApiResult<Response> {
    let tm = auth::teammate(req, &b.db).await?;
    let p = Page::of(req)?;
    let mut rows = views::contacts(&b.db, &tm.org_id, p.like(), p.after(), p.limit + 1).await?;
    let next_cursor = next_page(&mut rows, p.limit, |c| Cursor {
        at: c.last_seen_at,
        id: c.user_id.clone(),
    });
    json_ok(&json!({ "contacts": rows, "next_cursor": next_cursor }))
}

/// `GET /api/inbox/companies?q=&cursor=&limit=`: the workspace's companies, most recently
/// updated first.
pub async fn list_companies(req: &Request, b: &Bindings) -> ApiResult<Response> {
    let tm = auth::teammate(req, &b.db).await?;
    let p = Page::of(req)?;
    let mut rows = views::companies(&b.db, &tm.org_id, p.like(), p.after(), p.limit + 1).await?;
    let next_cursor = next_page(&mut rows, p.limit, |c| Cursor {
        at: c.updated_at,
        id: c.company_id.clone(),
    });
    json_ok(&json!({ "companies": rows, "next_cursor": next_cursor }))
}
