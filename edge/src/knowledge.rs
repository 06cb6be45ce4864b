//! The knowledge API (secret key): documents uploaded in the request body (markdown, text or
//! HTML), chunked by their structure and indexed for full-text search; replaced, listed,
//! deleted and searched.

use halo_shared::admin::NewSource;
use halo_shared::chat::{FieldError, InvalidField};
use halo_shared::knowledge::chunk_markdown;
use halo_shared::search::fts_match_query;
use serde_json::json;
use worker::{Env, Request, Response};

use crate::auth;
use crate::error::{ApiError, ApiResult};
use crate::http::{json_ok, json_response, read_json};
use crate::platform::new_id;
use crate::store::{self, SourceWrite};

/// Most hits one search returns.
const MAX_SEARCH_LIMIT: u32 = 50;

fn chunks_of(source: &NewSource) -> Vec<(Option<String>, String)> {
    chunk_markdown(&source.text())
        .into_iter()
        .map(|c| (c.heading, c.body))
        .collect()
}

fn source_json(id: &str, source: &NewSource, chunks: usize) -> serde_json::Value {
    json!({ "id": id, "title": source.title, "url": source.url, "kind": source.kind.as_str(), "chunks": chunks })
}

/// `POST /api/sdk/knowledge/sources`: adds a document, or replaces the one with the same
/// `url` (201 when created, 200 when replaced).
pub async fn create_source(req: &mut Request, env: &Env) -> ApiResult<Response> {
    let db = env.d1("DB")?;
    let ws = auth::secret_workspace(req, &db).await?;
    let source = NewSource::parse(&read_json(req).await?)?;
    let chunks = chunks_of(&source);
    let existing = match &source.url {
        Some(url) => store::source_id_by_url(&db, &ws.id, url).await?,
        None => None,
    };
    let id = existing.clone().unwrap_or_else(new_id);
    let write = SourceWrite {
        id: &id,
        title: &source.title,
        url: source.url.as_deref(),
        kind: source.kind.as_str(),
        chunks: &chunks,
    };
    if existing.is_some() && store::replace_source(&db, &ws.id, &write).await? {
        return json_ok(&source_json(&id, &source, chunks.len()));
    }
    store::insert_source(&db, &ws.id, &write).await?;
    Ok(json_response(&source_json(&id, &source, chunks.len()), 201))
}

/// `PUT /api/sdk/knowledge/sources/:id`: replaces a document and all its chunks.
pub async fn replace_source(req: &mut Request, env: &Env, id: &str) -> ApiResult<Response> {
    let db = env.d1("DB")?;
    let ws = auth::secret_workspace(req, &db).await?;
    let source = NewSource::parse(&read_json(req).await?)?;
    let chunks = chunks_of(&source);
    let write = SourceWrite {
        id,
        title: &source.title,
        url: source.url.as_deref(),
        kind: source.kind.as_str(),
        chunks: &chunks,
    };
    if !store::replace_source(&db, &ws.id, &write).await? {
        return Err(ApiError::NotFound(
            "No knowledge source with this id in this workspace.",
        ));
    }
    json_ok(&source_json(id, &source, chunks.len()))
}

/// `DELETE /api/sdk/knowledge/sources/:id`: removes a document from every index.
pub async fn delete_source(req: &Request, env: &Env, id: &str) -> ApiResult<Response> {
    let db = env.d1("DB")?;
    let ws = auth::secret_workspace(req, &db).await?;
    if !store::delete_source(&db, &ws.id, id).await? {
        return Err(ApiError::NotFound(
            "No knowledge source with this id in this workspace.",
        ));
    }
    json_ok(&json!({ "id": id, "deleted": true }))
}

/// `GET /api/sdk/knowledge/sources`.
pub async fn list_sources(req: &Request, env: &Env) -> ApiResult<Response> {
    let db = env.d1("DB")?;
    let ws = auth::secret_workspace(req, &db).await?;
    json_ok(&json!({ "sources": store::list_sources(&db, &ws.id).await? }))
}

/// `GET /api/sdk/knowledge/search?q=…&limit=…`: what the answer engines would be given.
pub async fn search(req: &Request, env: &Env) -> ApiResult<Response> {
    let db = env.d1("DB")?;
    let ws = auth::secret_workspace(req, &db).await?;
    let url = req.url()?;
    let param = |k: &str| {
        url.query_pairs()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.into_owned())
    };
    let q = param("q")
        .filter(|q| !q.trim().is_empty())
        .ok_or(ApiError::Field(FieldError {
            field: "q".into(),
            kind: InvalidField::Missing,
        }))?;
    if q.chars().count() > halo_shared::chat::MAX_MESSAGE_CHARS {
        let len = q.chars().count();
        return Err(ApiError::Field(FieldError {
            field: "q".into(),
            kind: InvalidField::TooLong {
                max: halo_shared::chat::MAX_MESSAGE_CHARS,
                len,
            },
        }));
    }
    let limit = match param("limit") {
        None => 5,
        Some(l) => l
            .parse::<u32>()
            .ok()
            .filter(|l| (1..=MAX_SEARCH_LIMIT).contains(l))
            .ok_or(ApiError::Field(FieldError {
                field: "limit".into(),
                kind: InvalidField::Invalid("must be a whole number from 1 to 50"),
            }))?,
    };
    let hits = match fts_match_query(&q) {
        Some(m) => store::search(&db, &ws.id, &m, limit).await?,
        None => Vec::new(),
    };
    json_ok(&json!({ "query": q, "results": hits }))
}
