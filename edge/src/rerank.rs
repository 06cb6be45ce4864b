//! Reranking: a cross-encoder reads the question together with each of the best fused
//! candidates and orders them by how well the passage answers it, which a list of vectors
//! compared one by one cannot do. Behind a seam like the embedder's:
//!
//! - Workers AI (`@cf/baai/bge-reranker-base` through the `AI` binding) in production, with
//!   `RERANK_PROVIDER=workers-ai`;
//! - any server with the common `/rerank` wire shape (text-embeddings-inference, Jina,
//!   Cohere: `{ model, query, documents, top_n }` in, `{ results: [{ index,
//!   relevance_score }] }` out) with `RERANK_BASE_URL`.
//!
//! Off by default: no reranker with weights installs from the package registries, so the
//! local default cannot run one. A reranker that fails leaves the fused order as it was.

use serde::Deserialize;
use serde_json::json;
use worker::Env;

use crate::outbound::ModelServer;
use crate::platform::setting;

const WORKERS_AI_MODEL: &str = "@cf/baai/bge-reranker-base";
/// How many of the fused candidates are read again.
pub const RERANK_CANDIDATES: usize = 20;
/// Characters of a passage the reranker reads (the model reads 512 tokens of question and
/// passage together).
const MAX_PASSAGE_CHARS: usize = 1500;

/// Orders passages by how well each answers a question.
pub enum Reranker {
    /// Workers AI through the `AI` binding.
    WorkersAi { ai: worker::Ai },
    /// A `/rerank` endpoint.
    Http(ModelServer),
}

impl Reranker {
    /// The configured reranker, if any.
    pub fn from_env(env: &Env) -> Option<Self> {
        if setting(env, "RERANK_PROVIDER").as_deref() == Some("workers-ai") {
            return env.ai("AI").ok().map(|ai| Reranker::WorkersAi { ai });
        }
        ModelServer::from_env(env, "RERANK", "bge-reranker-base", 5_000).map(Reranker::Http)
    }

    /// One relevance score per passage, in the passages' order (higher is better).
    pub async fn scores(&self, question: &str, passages: &[String]) -> Result<Vec<f32>, String> {
        let passages: Vec<String> = passages
            .iter()
            .map(|p| p.chars().take(MAX_PASSAGE_CHARS).collect())
            .collect();
        let scored: Vec<(usize, f32)> = match self {
            Reranker::WorkersAi { ai } => {
                #[derive(Deserialize)]
                struct Item {
                    id: usize,
                    score: f32,
                }
                #[derive(Deserialize)]
                struct Output {
                    response: Vec<Item>,
                }
                let contexts: Vec<_> = passages.iter().map(|t| json!({ "text": t })).collect();
                let output: Output = ai
                    .run(
                        WORKERS_AI_MODEL,
                        json!({ "query": question, "contexts": contexts, "top_k": passages.len() }),
                    )
                    .await
                    .map_err(|e| format!("workers ai: {e}"))?;
                output
                    .response
                    .into_iter()
                    .map(|i| (i.id, i.score))
                    .collect()
            }
            Reranker::Http(endpoint) => http_scores(endpoint, question, &passages).await?,
        };
        in_order(scored, passages.len())
    }
}

/// Scores given as `(index, score)` in any order, put back in the passages' order; every
/// passage must be scored once.
fn in_order(scored: Vec<(usize, f32)>, n: usize) -> Result<Vec<f32>, String> {
    let mut out: Vec<Option<f32>> = vec![None; n];
    for (i, s) in scored {
        match out.get_mut(i) {
            Some(slot @ None) if s.is_finite() => *slot = Some(s),
            _ => {
                return Err(format!(
                    "the reranker scored passage {i} of {n} twice, or badly"
                ))
            }
        }
    }
    out.into_iter()
        .collect::<Option<Vec<f32>>>()
        .ok_or_else(|| format!("the reranker left some of {n} passages unscored"))
}

async fn http_scores(
    endpoint: &ModelServer,
    question: &str,
    passages: &[String],
) -> Result<Vec<(usize, f32)>, String> {
    let body = json!({ "model": endpoint.model, "query": question, "documents": passages, "top_n": passages.len() });
    let body = endpoint
        .post_json("rerank", "rerank", &body, 1024 * 1024)
        .await?;
    #[derive(Deserialize)]
    struct Item {
        index: usize,
        relevance_score: f32,
    }
    #[derive(Deserialize)]
    struct Answer {
        results: Vec<Item>,
    }
    let answer: Answer =
        serde_json::from_slice(&body).map_err(|e| format!("rerank answer: {e}"))?;
    Ok(answer
        .results
        .into_iter()
        .map(|i| (i.index, i.relevance_score))
        .collect())
}
