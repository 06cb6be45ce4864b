//! Semantic search: embeddings of chunks and questions, and a vector index, each behind a seam
//! with a production and a local implementation.
//!
//! - [`Embedder`]: Workers AI (`@cf/baai/bge-base-en-v1.5` through the `AI` binding) in
//!   production; any OpenAI-compatible `/v1/embeddings` server locally (scripts/embed-server.py
//!   serves MiniLM offline). Chosen by `EMBEDDINGS_PROVIDER` / `EMBEDDINGS_BASE_URL`.
//! - [`VectorIndex`]: Vectorize (reached through js-sys: the `worker` crate has no Vectorize
//!   API yet) with one namespace per workspace in production; exact cosine over vectors kept
//!   in D1 locally. Chosen by `VECTOR_INDEX` (`vectorize` or `d1`, the default).
//!
//! Tenant isolation holds in both indexes: D1 rows carry `org_id` and every query names it;
//! Vectorize queries name the workspace's namespace.

use js_sys::{Array, Function, Object, Reflect};
use serde::Deserialize;
use serde_json::{json, Value};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use worker::{query, D1Database, Env};

use crate::outbound::ModelServer;
use crate::platform::setting;

/// Texts per embedding call.
pub const EMBED_BATCH: usize = 32;
const WORKERS_AI_MODEL: &str = "@cf/baai/bge-base-en-v1.5";

/// What a text is to the embedder: models trained with prompts embed a question and a
/// passage differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A customer's question.
    Query,
    /// A knowledge chunk or an account fact.
    Document,
}

/// Turns texts into vectors.
pub struct Embedder {
    backend: Backend,
    /// Put before each question and each passage (`EMBEDDINGS_QUERY_PREFIX`,
    /// `EMBEDDINGS_DOCUMENT_PREFIX`, joined with a space), for models trained with prompts:
    /// EmbeddingGemma's are `task: search result | query:` and `title: none | text:`.
    query_prefix: Option<String>,
    document_prefix: Option<String>,
}

enum Backend {
    /// An OpenAI-compatible `/embeddings` endpoint.
    OpenAi(ModelServer),
    /// Workers AI through the `AI` binding.
    WorkersAi { ai: worker::Ai },
}

impl Embedder {
    /// The configured embedder, if any.
    pub fn from_env(env: &Env) -> Option<Self> {
        let backend = if setting(env, "EMBEDDINGS_PROVIDER").as_deref() == Some("workers-ai") {
            Backend::WorkersAi {
                ai: env.ai("AI").ok()?,
            }
        } else {
            Backend::OpenAi(ModelServer::from_env(
                env,
                "EMBEDDINGS",
                "all-MiniLM-L6-v2",
                10_000,
            )?)
        };
        Some(Embedder {
            backend,
            query_prefix: setting(env, "EMBEDDINGS_QUERY_PREFIX"),
            document_prefix: setting(env, "EMBEDDINGS_DOCUMENT_PREFIX"),
        })
    }

    /// The model's name, part of a cached vector's key.
    pub fn model(&self) -> &str {
        match &self.backend {
            Backend::OpenAi(endpoint) => &endpoint.model,
            Backend::WorkersAi { .. } => WORKERS_AI_MODEL,
        }
    }

    /// `text` as the model is given it in `role`.
    pub fn prompt(&self, text: &str, role: Role) -> String {
        let prefix = match role {
            Role::Query => &self.query_prefix,
            Role::Document => &self.document_prefix,
        };
        match prefix {
            Some(p) => format!("{p} {text}"),
            None => text.to_owned(),
        }
    }

    /// One vector per text, in order.
    pub async fn embed(&self, texts: &[String], role: Role) -> Result<Vec<Vec<f32>>, String> {
        let texts: Vec<String> = texts.iter().map(|t| self.prompt(t, role)).collect();
        let mut out = Vec::with_capacity(texts.len());
        for batch in texts.chunks(EMBED_BATCH) {
            out.extend(match &self.backend {
                Backend::OpenAi(endpoint) => openai_embed(endpoint, batch).await?,
                Backend::WorkersAi { ai } => {
                    #[derive(Deserialize)]
                    struct Output {
                        data: Vec<Vec<f32>>,
                    }
                    let output: Output = ai
                        .run(WORKERS_AI_MODEL, json!({ "text": batch }))
                        .await
                        .map_err(|e| format!("workers ai: {e}"))?;
                    output.data
                }
            });
        }
        if out.len() != texts.len() {
            return Err(format!(
                "the embedder returned {} vectors for {} texts",
                out.len(),
                texts.len()
            ));
        }
        Ok(out.into_iter().map(unit).collect())
    }
}

async fn openai_embed(endpoint: &ModelServer, texts: &[String]) -> Result<Vec<Vec<f32>>, String> {
    let body = endpoint
        .post_json(
            "embeddings",
            "embeddings",
            &json!({ "input": texts, "model": endpoint.model }),
            16 * 1024 * 1024,
        )
        .await?;
    #[derive(Deserialize)]
    struct Item {
        index: usize,
        embedding: Vec<f32>,
    }
    #[derive(Deserialize)]
    struct Answer {
        data: Vec<Item>,
    }
    let mut answer: Answer =
        serde_json::from_slice(&body).map_err(|e| format!("embeddings JSON: {e}"))?;
    answer.data.sort_by_key(|i| i.index);
    Ok(answer.data.into_iter().map(|i| i.embedding).collect())
}

/// Most facts embedded in one chat turn.
const MAX_FACTS_EMBEDDED: usize = 64;

/// Gives each fact its cosine similarity to the question, embedding only the facts whose
/// vectors are not cached yet (`fact_vectors`, keyed by model and text). Suspicious facts are
/// never embedded. A failure leaves the facts without similarity: they are still ranked by
/// their words.
pub async fn score_facts(
    embedder: &Embedder,
    db: &D1Database,
    org: &str,
    question: &[f32],
    facts: &mut [halo_shared::evidence::Fact],
) -> Result<(), String> {
    use sha2::{Digest, Sha256};
    let keyed: Vec<(usize, String, String)> = facts
        .iter()
        .enumerate()
        .filter(|(_, f)| !f.suspicious)
        .map(|(i, f)| {
            let text = f.passage();
            let hash = halo_shared::ids::hex(&Sha256::digest(format!(
                "{}\n{}",
                embedder.model(),
                embedder.prompt(&text, Role::Document)
            )));
            (i, hash, text)
        })
        .collect();
    if keyed.is_empty() {
        return Ok(());
    }
    let hashes: Vec<&str> = keyed.iter().map(|(_, h, _)| h.as_str()).collect();
    #[derive(Deserialize)]
    struct Row {
        hash: String,
        vector: String,
    }
    let rows: Vec<Row> = all(query!(
        db,
        "SELECT hash, vector FROM fact_vectors WHERE org_id = ?1 AND hash IN (SELECT value FROM json_each(?2))",
        org,
        serde_json::to_string(&hashes).unwrap_or_default()
    ))
    .await?;
    let mut known: std::collections::HashMap<String, Vec<f32>> = rows
        .into_iter()
        .filter_map(|r| Some((r.hash, halo_shared::vectors::decode(&r.vector)?)))
        .collect();
    let mut queued = std::collections::HashSet::new();
    // A turn embeds at most MAX_FACTS_EMBEDDED new facts; the rest wait for a later turn
    // and are ranked by their words meanwhile.
    let missing: Vec<&(usize, String, String)> = keyed
        .iter()
        .filter(|(_, h, _)| !known.contains_key(h) && queued.insert(h.clone()))
        .take(MAX_FACTS_EMBEDDED)
        .collect();
    if !missing.is_empty() {
        let texts: Vec<String> = missing.iter().map(|(_, _, t)| t.clone()).collect();
        let vectors = embedder.embed(&texts, Role::Document).await?;
        let now = crate::platform::now_ms();
        let statements = missing
            .iter()
            .zip(&vectors)
            .map(|((_, hash, _), v)| {
                query!(
                    db,
                    "INSERT OR IGNORE INTO fact_vectors (org_id, hash, vector, created_at) VALUES (?1, ?2, ?3, ?4)",
                    org,
                    hash,
                    halo_shared::vectors::encode(v),
                    now
                )
            })
            .collect::<worker::Result<Vec<_>>>()
            .map_err(|e| e.to_string())?;
        db.batch(statements).await.map_err(|e| e.to_string())?;
        for ((_, hash, _), v) in missing.iter().zip(vectors) {
            known.insert(hash.clone(), v);
        }
    }
    for (i, hash, _) in &keyed {
        if let Some(v) = known.get(hash) {
            facts[*i].similarity = Some(v.iter().zip(question).map(|(a, b)| a * b).sum());
        }
    }
    Ok(())
}

/// The rows of a read, with errors as text (what the vector code reports).
async fn all<T: serde::de::DeserializeOwned>(
    statement: worker::Result<worker::D1PreparedStatement>,
) -> Result<Vec<T>, String> {
    statement
        .map_err(|e| e.to_string())?
        .all()
        .await
        .map_err(|e| e.to_string())?
        .results()
        .map_err(|e| e.to_string())
}

/// Scales a vector to unit length, so a dot product is the cosine.
fn unit(mut v: Vec<f32>) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
    v
}

/// Stores chunk vectors and finds the nearest ones.
pub enum VectorIndex<'a> {
    /// Exact cosine over the workspace's vectors in D1.
    D1(&'a D1Database),
    /// Vectorize, one namespace per workspace.
    Vectorize(JsValue),
}

impl<'a> VectorIndex<'a> {
    /// The index the settings name: Vectorize (`VECTOR_INDEX=vectorize`) or the request's D1.
    pub fn from_env(env: &Env, db: &'a D1Database) -> worker::Result<Self> {
        if setting(env, "VECTOR_INDEX").as_deref() == Some("vectorize") {
            let binding = Reflect::get(env.as_ref(), &"VECTORIZE".into())
                .map_err(|_| worker::Error::RustError("no VECTORIZE binding".into()))?;
            return Ok(VectorIndex::Vectorize(binding));
        }
        Ok(VectorIndex::D1(db))
    }

    /// Stores the vectors of chunks (by chunk id) for the workspace.
    pub async fn upsert(&self, org: &str, items: &[(i64, Vec<f32>)]) -> Result<(), String> {
        match self {
            VectorIndex::D1(db) => {
                let statements = items
                    .iter()
                    .map(|(id, v)| {
                        let text = halo_shared::vectors::encode(v);
                        query!(
                            db,
                            "INSERT INTO knowledge_vectors (chunk_id, org_id, vector) SELECT ?1, ?2, ?3
                             WHERE EXISTS (SELECT 1 FROM knowledge_chunks WHERE id = ?1 AND org_id = ?2)
                             ON CONFLICT (chunk_id) DO UPDATE SET vector = excluded.vector",
                            id,
                            org,
                            text
                        )
                    })
                    .collect::<worker::Result<Vec<_>>>()
                    .map_err(|e| e.to_string())?;
                if !statements.is_empty() {
                    db.batch(statements).await.map_err(|e| e.to_string())?;
                }
                Ok(())
            }
            VectorIndex::Vectorize(binding) => {
                let vectors = Array::new();
                for (id, v) in items {
                    let o = Object::new();
                    let _ = Reflect::set(&o, &"id".into(), &id.to_string().into());
                    let _ = Reflect::set(&o, &"namespace".into(), &org.into());
                    let _ = Reflect::set(
                        &o,
                        &"values".into(),
                        &js_sys::Float32Array::from(v.as_slice()),
                    );
                    vectors.push(&o);
                }
                call(binding, "upsert", &[vectors.into()]).await.map(|_| ())
            }
        }
    }

    /// The `k` chunks nearest to `vector` in the workspace, best first, and then the chunks
    /// of `also` that are not among them (the full-text hits, so that fusion compares real
    /// similarities): `(chunk id, cosine)`.
    pub async fn query(
        &self,
        org: &str,
        vector: &[f32],
        k: usize,
        also: &[i64],
    ) -> Result<Vec<(i64, f32)>, String> {
        match self {
            VectorIndex::D1(db) => {
                #[derive(Deserialize)]
                struct Row {
                    chunk_id: i64,
                    vector: String,
                }
                let rows: Vec<Row> = all(query!(
                    db,
                    "SELECT chunk_id, vector FROM knowledge_vectors WHERE org_id = ?1",
                    org
                ))
                .await?;
                let mut scored: Vec<(i64, f32)> = rows
                    .into_iter()
                    .filter_map(|r| {
                        Some((r.chunk_id, halo_shared::vectors::dot(&r.vector, vector)?))
                    })
                    .collect();
                scored.sort_by(|a, b| b.1.total_cmp(&a.1));
                let (mut top, rest) = (
                    scored[..k.min(scored.len())].to_vec(),
                    &scored[k.min(scored.len())..],
                );
                top.extend(rest.iter().filter(|(id, _)| also.contains(id)));
                Ok(top)
            }
            VectorIndex::Vectorize(binding) => {
                let options = Object::new();
                let _ = Reflect::set(&options, &"topK".into(), &(k as u32).into());
                let _ = Reflect::set(&options, &"namespace".into(), &org.into());
                let result = call(
                    binding,
                    "query",
                    &[js_sys::Float32Array::from(vector).into(), options.into()],
                )
                .await?;
                let matches: Value = serde_wasm_bindgen::from_value(
                    Reflect::get(&result, &"matches".into()).unwrap_or(JsValue::NULL),
                )
                .unwrap_or(Value::Null);
                let mut top: Vec<(i64, f32)> = matches
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|m| {
                        Some((m["id"].as_str()?.parse().ok()?, m["score"].as_f64()? as f32))
                    })
                    .collect();
                let missing: Array = also
                    .iter()
                    .filter(|id| !top.iter().any(|(x, _)| x == *id))
                    .map(|id| JsValue::from(id.to_string()))
                    .collect();
                if missing.length() > 0 {
                    let found = call(binding, "getByIds", &[missing.into()]).await?;
                    let found: Value = serde_wasm_bindgen::from_value(found).unwrap_or(Value::Null);
                    for item in found.as_array().into_iter().flatten() {
                        let (Some(id), Some(values)) = (
                            item["id"].as_str().and_then(|i| i.parse().ok()),
                            item["values"].as_array(),
                        ) else {
                            continue;
                        };
                        let dot: f64 = values
                            .iter()
                            .zip(vector)
                            .map(|(a, b)| a.as_f64().unwrap_or(0.0) * f64::from(*b))
                            .sum();
                        top.push((id, dot as f32));
                    }
                }
                Ok(top)
            }
        }
    }

    /// Forgets chunk vectors (D1 drops them with their chunks; Vectorize is told).
    pub async fn delete(&self, ids: &[i64]) -> Result<(), String> {
        match self {
            VectorIndex::D1(_) => Ok(()),
            VectorIndex::Vectorize(binding) => {
                let arr = Array::new();
                for id in ids {
                    arr.push(&id.to_string().into());
                }
                call(binding, "deleteByIds", &[arr.into()])
                    .await
                    .map(|_| ())
            }
        }
    }
}

async fn call(binding: &JsValue, method: &str, args: &[JsValue]) -> Result<JsValue, String> {
    let f: Function = Reflect::get(binding, &method.into())
        .ok()
        .and_then(|f| f.dyn_into().ok())
        .ok_or_else(|| format!("vectorize has no {method}()"))?;
    let promise = f
        .apply(binding, &args.iter().collect::<Array>())
        .map_err(|e| format!("vectorize {method}: {e:?}"))?;
    JsFuture::from(js_sys::Promise::from(promise))
        .await
        .map_err(|e| format!("vectorize {method}: {e:?}"))
}
