//! The knowledge API (secret key): documents uploaded in the request body (markdown, text or
//! HTML), chunked by their structure and indexed for full-text search; replaced, listed,
//! deleted and searched.

use halo_shared::admin::{NewSource, MAX_SOURCE_CHARS};

use halo_shared::chat::{FieldError, InvalidField};
use halo_shared::fusion::{self, LexicalHit};
use halo_shared::knowledge::chunk_markdown;
use halo_shared::search::fts_match_query;
use serde_json::{json, Value};
use std::collections::BTreeMap;

use halo_shared::context;
use halo_shared::evidence::{self, Evidence};
use serde_json::Map;
use worker::{D1Database, Env, Request, Response};

use crate::auth;
use crate::error::{ApiError, ApiResult};
use crate::http::{json_ok, json_response, query_param, read_json};
use crate::platform::{setting, Bindings};
use crate::rerank::{Reranker, RERANK_CANDIDATES};
use crate::semantic::{score_facts, Embedder, Role, VectorIndex};
use crate::store::contacts;

use crate::platform::new_id;
use crate::store::{self, SourceWrite};

/// Most hits one search returns.
const MAX_SEARCH_LIMIT: u32 = 50;

fn chunks_of(source: &NewSource) -> Vec<(Option<String>, String)> {
    // A crawled page is bounded like an uploaded document.
    let text: String = source.text().chars().take(MAX_SOURCE_CHARS).collect();
    chunk_markdown(&text)
        .into_iter()
        .map(|c| (c.heading, c.body))
        .collect()
}

fn source_json(id: &str, source: &NewSource, chunks: usize) -> serde_json::Value {
    json!({ "id": id, "title": source.title, "url": source.url, "kind": source.kind.as_str(), "chunks": chunks })
}

/// Stores a document, replacing the one with the same URL if there is one. Returns its id
/// and whether it is new.
pub(crate) async fn ingest(
    db: &worker::D1Database,
    org: &str,
    source: &NewSource,
) -> ApiResult<(String, bool, usize)> {
    let chunks = chunks_of(source);
    let existing = match &source.url {
        Some(url) => store::source_id_by_url(db, org, url).await?,
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
    if existing.is_some() && store::replace_source(db, org, &write).await? {
        return Ok((id, false, chunks.len()));
    }
    store::insert_source(db, org, &write).await?;
    Ok((id, true, chunks.len()))
}

/// `POST /api/sdk/knowledge/sources`: adds a document, or replaces the one with the same
/// `url` (201 when created, 200 when replaced).
pub async fn create_source(req: &mut Request, b: &Bindings) -> ApiResult<Response> {
    let Bindings { env, db } = b;
    let org = auth::settings_workspace(req, db, auth::Access::Write).await?;
    let source = NewSource::parse(&read_json(req).await?)?;
    let (id, created, chunks) = ingest(db, &org, &source).await?;
    let mut body = source_json(&id, &source, chunks);
    merge(
        &mut body,
        embedded_json(embed_source(env, db, &org, &id).await),
    );
    Ok(json_response(&body, if created { 201 } else { 200 }))
}

/// `PUT /api/sdk/knowledge/sources/:id`: replaces a document and all its chunks.
pub async fn replace_source(req: &mut Request, b: &Bindings, id: &str) -> ApiResult<Response> {
    let Bindings { env, db } = b;
    let org = auth::settings_workspace(req, db, auth::Access::Write).await?;
    let source = NewSource::parse(&read_json(req).await?)?;
    let chunks = chunks_of(&source);
    let write = SourceWrite {
        id,
        title: &source.title,
        url: source.url.as_deref(),
        kind: source.kind.as_str(),
        chunks: &chunks,
    };
    let old = store::chunk_texts(db, &org, id).await?;
    if !store::replace_source(db, &org, &write).await? {
        return Err(ApiError::NotFound(
            "No knowledge source with this id in this workspace.",
        ));
    }
    forget_vectors(env, db, &old).await;
    let mut body = source_json(id, &source, chunks.len());
    merge(
        &mut body,
        embedded_json(embed_source(env, db, &org, id).await),
    );
    json_ok(&body)
}

/// `DELETE /api/sdk/knowledge/sources/:id`: removes a document from every index.
pub async fn delete_source(req: &Request, b: &Bindings, id: &str) -> ApiResult<Response> {
    let Bindings { env, db } = b;
    let org = auth::settings_workspace(req, db, auth::Access::Write).await?;
    let old = store::chunk_texts(db, &org, id).await?;
    if !store::delete_source(db, &org, id).await? {
        return Err(ApiError::NotFound(
            "No knowledge source with this id in this workspace.",
        ));
    }
    forget_vectors(env, db, &old).await;
    json_ok(&json!({ "id": id, "deleted": true }))
}

/// `GET /api/sdk/knowledge/sources`.
pub async fn list_sources(req: &Request, b: &Bindings) -> ApiResult<Response> {
    let db = &b.db;
    let org = auth::settings_workspace(req, db, auth::Access::Read).await?;
    json_ok(&json!({ "sources": store::list_sources(db, &org).await? }))
}

/// `GET /api/sdk/knowledge/search?q=…&limit=…&user_id=…`: what the answer engines would be
/// given: the passages, and with `user_id` the account-data passages of that contact.
pub async fn search_knowledge(req: &Request, b: &Bindings) -> ApiResult<Response> {
    let Bindings { env, db } = b;
    let org = auth::settings_workspace(req, db, auth::Access::Read).await?;
    let param = |k: &str| query_param(req, k);
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
    let mode = match param("mode").as_deref() {
        None | Some("hybrid") => Mode::Hybrid,
        Some("lexical") => Mode::Lexical,
        Some("semantic") => Mode::Semantic,
        Some(_) => {
            return Err(ApiError::Field(FieldError {
                field: "mode".into(),
                kind: InvalidField::NotOneOf {
                    allowed: "lexical, semantic, hybrid",
                },
            }))
        }
    };
    let hits = retrieve(env, db, &org, &q, limit, mode).await?;
    // With a contact, also the account-data passages the engine would get for them.
    let facts = match param("user_id").filter(|u| !u.trim().is_empty()) {
        Some(user_id) => Some(account_facts(env, db, &org, &user_id, &q).await?),
        None => None,
    };
    json_ok(&json!({ "query": q, "results": hits, "facts": facts }))
}

/// The account-data passages the engine would get for `question` from what is stored about
/// the user `user_id` and their company (the search tester's second list): the same facts,
/// scored by meaning when an embedder is configured, as a turn's. `[{ key, label, text,
/// support }]`, best first.
pub async fn account_facts(
    env: &Env,
    db: &D1Database,
    org: &str,
    user_id: &str,
    question: &str,
) -> ApiResult<Vec<halo_shared::settings::AccountFact>> {
    let loaded = contacts::known(db, org, Some(user_id), None).await?;
    let stored = loaded.user.map(|u| u.profile()).unwrap_or_default();
    let user = context::merge(
        &stored.traits,
        &Map::new(),
        &stored.context,
        &BTreeMap::new(),
    );
    let company = loaded.company.map(|c| c.profile());
    let mut facts = evidence::facts(&user, company.as_ref(), &loaded.descriptions);
    if let Some(embedder) = Embedder::from_env(env) {
        let vector = embedder.embed(&[question.to_owned()], Role::Query).await;
        match vector.map(|mut v| v.pop()) {
            Ok(Some(v)) => {
                if let Err(e) = score_facts(&embedder, db, org, &v, &mut facts).await {
                    worker::console_warn!("embedding account data failed: {e}");
                }
            }
            Ok(None) => {}
            Err(e) => worker::console_warn!("embedding the question failed: {e}"),
        }
    }
    let today = halo_shared::dates::Day::from_unix_ms(crate::platform::now_ms());
    let evidence = Evidence::on(question, facts, Some(today));
    Ok(evidence
        .top()
        .map(|(m, f)| halo_shared::settings::AccountFact {
            key: f.key.clone(),
            label: f.label.clone(),
            text: f.text.clone(),
            support: m.support,
        })
        .collect())
}

/// How long a search waits for its question's embedding (`EMBED_QUERY_BUDGET_MS`, default
/// 8 s, under the embedder's own 10 s timeout: a local model on a loaded machine needs
/// seconds); a slower embedder leaves a hybrid search to words.
fn query_embed_budget(env: &Env) -> std::time::Duration {
    std::time::Duration::from_millis(
        crate::platform::setting(env, "EMBED_QUERY_BUDGET_MS")
            .and_then(|v| v.parse().ok())
            .unwrap_or(8_000),
    )
}

/// How to search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Lexical,
    Semantic,
    /// Both, fused by score (`halo_shared::fusion`).
    Hybrid,
}

/// Candidates read from each list before fusing.
const CANDIDATES: u32 = 20;

/// The best chunks for a question: full-text search, semantic search, or both fused. Without
/// an embedder, hybrid is lexical. A failing embedder degrades hybrid to lexical with a
/// warning in the log, so search keeps working when the model does not.
pub async fn retrieve(
    env: &Env,
    db: &worker::D1Database,
    org: &str,
    question: &str,
    limit: u32,
    mode: Mode,
) -> ApiResult<Vec<store::Hit>> {
    retrieve_with_vector(env, db, org, question, limit, mode)
        .await
        .map(|(hits, _)| hits)
}

/// [`retrieve`], also returning the question's embedding when one was made (so account data
/// can be compared with the question without embedding it twice).
pub async fn retrieve_with_vector(
    env: &Env,
    db: &worker::D1Database,
    org: &str,
    question: &str,
    limit: u32,
    mode: Mode,
) -> ApiResult<(Vec<store::Hit>, Option<Vec<f32>>)> {
    let lexical = match (mode, fts_match_query(question)) {
        (Mode::Semantic, _) | (_, None) => Vec::new(),
        (_, Some(m)) => store::search(db, org, &m, limit.max(CANDIDATES)).await?,
    };
    let embedder = Embedder::from_env(env);
    let mut question_vector = None;
    let semantic: Vec<(i64, f32)> = match (&embedder, mode) {
        (Some(e), Mode::Semantic | Mode::Hybrid) => {
            let found = async {
                // In hybrid search a slow embedder gets a budget, and past it the search is lexical;
                // a semantic-only search has nothing to fall back to and waits the embedder's own
                // timeout.
                let texts = [question.to_owned()];
                let embedding = e.embed(&texts, Role::Query);
                let v = if mode == Mode::Hybrid {
                    crate::outbound::deadline(query_embed_budget(env), embedding).await??
                } else {
                    embedding.await?
                }
                .swap_remove(0);
                let also: Vec<i64> = lexical.iter().map(|h| h.chunk_id).collect();
                let hits = VectorIndex::from_env(env, db)
                    .map_err(|e| e.to_string())?
                    .query(org, &v, CANDIDATES as usize, &also)
                    .await;
                question_vector = Some(v);
                hits
            };
            match found.await {
                Ok(hits) => hits,
                Err(e) if mode == Mode::Hybrid => {
                    worker::console_warn!("semantic search failed, using full-text only: {e}");
                    Vec::new()
                }
                Err(e) => {
                    worker::console_warn!("semantic search failed: {e}");
                    return Err(ApiError::Unavailable {
                        code: "embedder_unavailable",
                        message: "The embedding model did not answer. Try again, or search without mode=semantic: the default falls back to words.",
                    });
                }
            }
        }
        (None, Mode::Semantic) => {
            return Err(ApiError::NotConfigured(
                "Semantic search needs an embedder: set EMBEDDINGS_BASE_URL, or EMBEDDINGS_PROVIDER=workers-ai.",
            ))
        }
        _ => Vec::new(),
    };
    // Each full-text hit counts by how much of the question it holds itself.
    let lexical_hits: Vec<LexicalHit> = lexical
        .iter()
        .map(|h| LexicalHit {
            id: h.chunk_id,
            bm25: h.bm25.unwrap_or(0.0),
            coverage: halo_shared::answer::chunk_coverage(
                question,
                &h.title,
                h.heading.as_deref(),
                &h.text,
            ),
        })
        .collect();
    let reranker = (mode == Mode::Hybrid)
        .then(|| Reranker::from_env(env))
        .flatten();
    let wanted = if reranker.is_some() {
        (limit as usize).max(RERANK_CANDIDATES)
    } else {
        limit as usize
    };
    let weight = fusion::weight_for(
        embedder.as_ref().map_or("", |e| e.model()),
        setting(env, "SEARCH_LEXICAL_WEIGHT").as_deref(),
    );
    let ids = fusion::fuse(&lexical_hits, &semantic, weight, wanted);
    let missing: Vec<i64> = ids
        .iter()
        .copied()
        .filter(|id| !lexical.iter().any(|h| h.chunk_id == *id))
        .collect();
    let mut rows = lexical;
    rows.extend(store::chunks_by_ids(db, org, &missing).await?);
    let mut hits: Vec<store::Hit> = ids
        .iter()
        .filter_map(|id| {
            rows.iter()
                .position(|h| h.chunk_id == *id)
                .map(|i| rows.swap_remove(i))
        })
        .collect();
    for hit in &mut hits {
        hit.similarity = semantic
            .iter()
            .find(|(id, _)| *id == hit.chunk_id)
            .map(|(_, s)| *s);
    }
    if let Some(reranker) = reranker {
        rerank(&reranker, question, &mut hits).await;
    }
    hits.truncate(limit as usize);
    Ok((hits, question_vector))
}

/// Orders the hits by the reranker's relevance; a reranker that fails leaves them in the
/// fused order, with a warning in the log.
async fn rerank(reranker: &Reranker, question: &str, hits: &mut [store::Hit]) {
    let texts: Vec<String> = hits
        .iter()
        .map(|h| match &h.heading {
            Some(heading) => format!("{} > {heading}\n{}", h.title, h.text),
            None => format!("{}\n{}", h.title, h.text),
        })
        .collect();
    match reranker.scores(question, &texts).await {
        Ok(scores) => {
            for (hit, score) in hits.iter_mut().zip(scores) {
                hit.relevance = Some(score);
            }
            // A stable sort: equal scores keep the fused order.
            hits.sort_by(|a, b| {
                b.relevance
                    .unwrap_or(0.0)
                    .total_cmp(&a.relevance.unwrap_or(0.0))
            });
        }
        Err(e) => worker::console_warn!("reranking failed, keeping the fused order: {e}"),
    }
}

/// Embeds a source's chunks into the vector index. `Ok(None)` when no embedder is set up.
pub(crate) async fn embed_source(
    env: &Env,
    db: &worker::D1Database,
    org: &str,
    source_id: &str,
) -> Result<Option<usize>, String> {
    let Some(embedder) = Embedder::from_env(env) else {
        return Ok(None);
    };
    let chunks = store::chunk_texts(db, org, source_id)
        .await
        .map_err(|e| e.to_string())?;
    let texts: Vec<String> = chunks.iter().map(|(_, t)| t.clone()).collect();
    let vectors = embedder.embed(&texts, Role::Document).await?;
    let items: Vec<(i64, Vec<f32>)> = chunks.iter().map(|(id, _)| *id).zip(vectors).collect();
    VectorIndex::from_env(env, db)
        .map_err(|e| e.to_string())?
        .upsert(org, &items)
        .await?;
    let ids: Vec<i64> = items.iter().map(|(id, _)| *id).collect();
    store::mark_embedded(db, org, &ids)
        .await
        .map_err(|e| e.to_string())?;
    Ok(Some(items.len()))
}

/// Chunks embedded per run of the backfill job.
const BACKFILL_CHUNKS: u32 = 64;

/// The cron job's embedding backfill: chunks ingested while the embedder was down (or
/// before one was configured) are embedded now, a bounded number a run. Returns how many.
pub async fn backfill_embeddings(env: &Env, db: &D1Database) -> Result<usize, String> {
    let Some(embedder) = Embedder::from_env(env) else {
        return Ok(0);
    };
    let lacking = store::unembedded_chunks(db, BACKFILL_CHUNKS)
        .await
        .map_err(|e| e.to_string())?;
    if lacking.is_empty() {
        return Ok(0);
    }
    let texts: Vec<String> = lacking.iter().map(|c| c.2.clone()).collect();
    let vectors = embedder.embed(&texts, Role::Document).await?;
    let index = VectorIndex::from_env(env, db).map_err(|e| e.to_string())?;
    let mut by_org: BTreeMap<&str, Vec<(i64, Vec<f32>)>> = BTreeMap::new();
    for ((org, id, _), v) in lacking.iter().zip(vectors) {
        by_org.entry(org.as_str()).or_default().push((*id, v));
    }
    for (org, items) in &by_org {
        index.upsert(org, items).await?;
        let ids: Vec<i64> = items.iter().map(|(id, _)| *id).collect();
        store::mark_embedded(db, org, &ids)
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(lacking.len())
}

/// Reports embedding in an ingest answer: how many chunks, or why not (the document is
/// searchable by its words either way).
pub(crate) fn embedded_json(result: Result<Option<usize>, String>) -> Value {
    match result {
        Ok(Some(n)) => json!({ "embedded": n }),
        Ok(None) => json!({ "embedded": null }),
        Err(e) => {
            worker::console_warn!("embedding failed: {e}");
            json!({ "embedded": 0, "embedding_error": "The embedder failed; the document is searchable by its words only." })
        }
    }
}

/// Adds `extra`'s fields to `body`.
pub(crate) fn merge(body: &mut Value, extra: Value) {
    if let (Some(b), Value::Object(e)) = (body.as_object_mut(), extra) {
        b.extend(e);
    }
}

/// Drops replaced or deleted chunks from an external vector index (D1 drops them itself).
async fn forget_vectors(env: &Env, db: &worker::D1Database, old: &[(i64, String)]) {
    if let Ok(index) = VectorIndex::from_env(env, db) {
        let ids: Vec<i64> = old.iter().map(|(id, _)| *id).collect();
        if let Err(e) = index.delete(&ids).await {
            worker::console_warn!("could not drop old vectors: {e}");
        }
    }
}
