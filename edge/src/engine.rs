//! Answer engines: the seam between a stored question and a reply.
//!
//! Two implementations exist: [`Offline`], which needs nothing but the workspace's own
//! articles, and [`OpenAiCompatible`], which calls any chat-completions server (OpenAI, vLLM,
//! llama.cpp, Ollama). [`answer`] picks the configured one and falls back to the offline
//! engine when a provider fails, so a failing model never leaves the user without a reply.

use std::time::Duration;

use halo_shared::answer::{self, Answer, Passage};
use halo_shared::chat::HistoryItem;
use halo_shared::context::Profile;
use halo_shared::llm;
use serde_json::Value;
use worker::{Env, Headers, Method, Request, RequestInit};

use crate::http::setting;

/// Everything an engine may use to answer.
pub struct Question<'a> {
    pub message: &'a str,
    pub instructions: &'a str,
    /// The user's merged traits and context, and their company's.
    pub user: &'a Profile,
    pub company: Option<&'a Profile>,
    /// Those, rendered for the prompt (`context::render`).
    pub context: &'a str,
    pub history: &'a [HistoryItem],
    pub passages: &'a [Passage],
}

/// Why an engine gave no answer.
#[derive(Debug)]
pub struct EngineError(pub String);

/// Produces a reply to a question.
#[allow(async_fn_in_trait)] // the Worker is single-threaded: no Send bound is wanted
pub trait AnswerEngine {
    /// A short name, stored with each reply.
    fn name(&self) -> &'static str;
    async fn answer(&self, q: &Question<'_>) -> Result<Answer, EngineError>;
}

/// Answers from the workspace's articles with no model (see `halo_shared::answer`).
pub struct Offline;

impl AnswerEngine for Offline {
    fn name(&self) -> &'static str {
        "offline"
    }

    async fn answer(&self, q: &Question<'_>) -> Result<Answer, EngineError> {
        Ok(answer::answer(q.message, q.passages, q.user, q.company))
    }
}

/// Largest provider answer read, in bytes.
const MAX_PROVIDER_BODY: usize = 1024 * 1024;

/// An OpenAI-compatible chat-completions provider.
pub struct OpenAiCompatible {
    base_url: String,
    model: String,
    api_key: Option<String>,
    timeout: Duration,
    max_tokens: u32,
}

impl OpenAiCompatible {
    /// The provider configured by `LLM_BASE_URL` and `LLM_MODEL` (vars), `LLM_API_KEY`
    /// (a secret) and `LLM_TIMEOUT_MS`; `None` when no base URL is set.
    pub fn from_env(env: &Env) -> Option<Self> {
        let base_url = setting(env, "LLM_BASE_URL")?;
        Some(Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            model: setting(env, "LLM_MODEL").unwrap_or_else(|| "gpt-4o-mini".into()),
            api_key: setting(env, "LLM_API_KEY"),
            timeout: Duration::from_millis(
                setting(env, "LLM_TIMEOUT_MS")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(20_000),
            ),
            max_tokens: setting(env, "LLM_MAX_TOKENS")
                .and_then(|v| v.parse().ok())
                .unwrap_or(512),
        })
    }

    async fn call(&self, body: &Value) -> Result<Value, EngineError> {
        fn err(what: &'static str) -> impl Fn(worker::Error) -> EngineError {
            move |e| EngineError(format!("{what}: {e}"))
        }
        let headers = Headers::new();
        headers
            .set("content-type", "application/json")
            .map_err(err("headers"))?;
        if let Some(key) = &self.api_key {
            headers
                .set("authorization", &format!("Bearer {key}"))
                .map_err(err("headers"))?;
        }
        let mut init = RequestInit::new();
        init.with_method(Method::Post)
            .with_headers(headers)
            .with_body(Some(body.to_string().into()));
        let request = Request::new_with_init(&format!("{}/chat/completions", self.base_url), &init)
            .map_err(err("request"))?;
        let fetched = crate::outbound::fetch(request, self.timeout, MAX_PROVIDER_BODY)
            .await
            .map_err(|e| EngineError(format!("provider {e}")))?;
        let status = fetched.status;
        let bytes = fetched
            .body
            .ok_or_else(|| EngineError("provider answer too large".into()))?;
        let text = String::from_utf8_lossy(&bytes);
        if !(200..300).contains(&status) {
            let snippet: String = text.chars().take(200).collect();
            return Err(EngineError(format!(
                "provider answered {status}: {snippet}"
            )));
        }
        serde_json::from_str::<Value>(&text)
            .map_err(|e| EngineError(format!("provider sent invalid JSON: {e}")))
    }
}

impl AnswerEngine for OpenAiCompatible {
    fn name(&self) -> &'static str {
        "openai"
    }

    async fn answer(&self, q: &Question<'_>) -> Result<Answer, EngineError> {
        if let Some(reply) = answer::small_talk(q.message).filter(|a| !a.actions.is_empty()) {
            return Ok(reply); // a request for a person is honoured without asking the model
        }
        let messages =
            llm::build_messages(q.instructions, q.context, q.passages, q.history, q.message);
        let body = llm::request_body(&self.model, &messages, self.max_tokens);
        let text = llm::parse_completion(&self.call(&body).await?)
            .map_err(|e| EngineError(e.to_string()))?;
        // The model's prose has no score of its own: confidence and citations come from how
        // well the passages it was given cover the question.
        let grounded = answer::answer(q.message, q.passages, q.user, q.company);
        Ok(Answer {
            text,
            confidence: grounded.confidence.max(0.3),
            citations: grounded.citations,
            actions: Vec::new(),
        })
    }
}

/// A reply, which engine produced it, and what failed on the way (if anything).
pub struct Outcome {
    pub answer: Answer,
    pub engine: &'static str,
    pub error: Option<String>,
}

/// Answers with the configured provider, falling back to the offline engine if it fails.
pub async fn answer(provider: Option<&OpenAiCompatible>, q: &Question<'_>) -> Outcome {
    let mut error = None;
    if let Some(p) = provider {
        match p.answer(q).await {
            Ok(answer) => {
                return Outcome {
                    answer,
                    engine: p.name(),
                    error: None,
                }
            }
            Err(EngineError(e)) => {
                worker::console_warn!(
                    "LLM provider failed, falling back to the offline engine: {e}"
                );
                error = Some(format!("{}: {e}", p.name()));
            }
        }
    }
    let mut outcome = match Offline.answer(q).await {
        Ok(answer) => Outcome {
            answer,
            engine: Offline.name(),
            error,
        },
        Err(EngineError(e)) => Outcome {
            answer: answer::offer_human(answer::FAILURE_TEXT, "engine_failed", 0.0),
            engine: "fallback",
            error: Some(e),
        },
    };
    if outcome.error.is_some() && outcome.answer.actions.is_empty() {
        // The model failed: the offline answer stands, and a person is offered too.
        outcome
            .answer
            .actions
            .push(halo_shared::chat::Action::OfferHuman {
                reason: "engine_failed".into(),
            });
    }
    outcome
}
