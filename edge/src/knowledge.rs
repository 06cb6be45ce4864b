//! The knowledge API (secret key): documents uploaded in the request body, chunked by their
//! structure and indexed for full-text search.

use halo_shared::admin::NewSource;
use halo_shared::knowledge::chunk_markdown;
use serde_json::json;
use worker::{Env, Request, Response};

use crate::auth;
use crate::error::ApiResult;
use crate::http::{json_ok, json_response, read_json};
use crate::platform::new_id;
use crate::store;

/// `POST /api/sdk/knowledge/sources`.
pub async fn create_source(req: &mut Request, env: &Env) -> ApiResult<Response> {
    let db = env.d1("DB")?;
    let ws = auth::secret_workspace(req, &db).await?;
    let source = NewSource::parse(&read_json(req).await?)?;
    let chunks: Vec<(Option<String>, String)> = chunk_markdown(&source.content)
        .into_iter()
        .map(|c| (c.heading, c.body))
        .collect();
    let id = new_id();
    store::insert_source(
        &db,
        &ws.id,
        &id,
        &source.title,
        source.url.as_deref(),
        source.kind.as_str(),
        &chunks,
    )
    .await?;
    Ok(json_response(
        &json!({ "id": id, "title": source.title, "url": source.url, "kind": source.kind.as_str(), "chunks": chunks.len() }),
        201,
    ))
}

/// `GET /api/sdk/knowledge/sources`.
pub async fn list_sources(req: &Request, env: &Env) -> ApiResult<Response> {
    let db = env.d1("DB")?;
    let ws = auth::secret_workspace(req, &db).await?;
    json_ok(&json!({ "sources": store::list_sources(&db, &ws.id).await? }))
}
