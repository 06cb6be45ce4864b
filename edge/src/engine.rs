//! Answer engines: the seam between a stored question and a reply.
//!
//! [`Offline`] needs nothing but the workspace's own articles; a [`Provider`] is a real model:
//! any OpenAI-compatible chat-completions server (OpenAI, vLLM, llama.cpp, Ollama), the
//! Anthropic Messages API, or Workers AI through the `AI` binding. The agent's LLM choice picks
//! one; [`answer`] falls back to the offline engine when it fails, so a failing model never
//! leaves the user without a reply.

use std::time::Duration;

use halo_shared::agents::LlmChoice;
use halo_shared::answer::{self, Answer, Passage};
use halo_shared::chat::HistoryItem;
use halo_shared::context::Profile;
use halo_shared::llm::{self, Completion};
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
/// Pause before the one retry of a transient failure.
const RETRY_PAUSE: Duration = Duration::from_millis(300);

/// An HTTP model endpoint: where, which model, the key, and the bounds of one answer.
pub struct Endpoint {
    base_url: String,
    model: String,
    api_key: Option<String>,
    timeout: Duration,
    max_tokens: u32,
}

/// A real model behind the engine seam. Each reads its settings from vars and secrets
/// (`wrangler secret put …`), never from a request.
pub enum Provider {
    /// Any OpenAI-compatible chat-completions server (OpenAI, vLLM, llama.cpp, Ollama):
    /// `LLM_BASE_URL`, `LLM_MODEL`, secret `LLM_API_KEY`.
    OpenAi(Endpoint),
    /// The Anthropic Messages API: secret `ANTHROPIC_API_KEY`, `ANTHROPIC_MODEL`,
    /// `ANTHROPIC_BASE_URL` (default the public API).
    Anthropic(Endpoint),
    /// Workers AI through the `AI` binding (no key): `WORKERS_AI_MODEL`.
    WorkersAi {
        ai: worker::Ai,
        model: String,
        timeout: Duration,
        max_tokens: u32,
    },
}

fn timeout_of(env: &Env) -> Duration {
    Duration::from_millis(
        setting(env, "LLM_TIMEOUT_MS")
            .and_then(|v| v.parse().ok())
            .unwrap_or(20_000),
    )
}

fn max_tokens_of(env: &Env) -> u32 {
    setting(env, "LLM_MAX_TOKENS")
        .and_then(|v| v.parse().ok())
        .unwrap_or(512)
}

impl Provider {
    /// The provider an agent's choice names, if it is configured here; `default` is the
    /// deployment's `LLM_PROVIDER` (else `openai` when `LLM_BASE_URL` is set). `None` means
    /// the offline engine answers.
    pub fn for_agent(env: &Env, choice: &LlmChoice) -> Option<Self> {
        let default = || {
            setting(env, "LLM_PROVIDER")
                .or_else(|| setting(env, "LLM_BASE_URL").map(|_| "openai".into()))
        };
        let kind = match choice.provider.as_str() {
            "default" => default()?,
            other => other.to_owned(),
        };
        let model = |var: &str, fallback: &str| {
            choice
                .model
                .clone()
                .or_else(|| setting(env, var))
                .unwrap_or_else(|| fallback.to_owned())
        };
        let chosen = match kind.as_str() {
            "openai" => setting(env, "LLM_BASE_URL").map(|base| {
                Provider::OpenAi(Endpoint {
                    base_url: base.trim_end_matches('/').to_owned(),
                    model: model("LLM_MODEL", "gpt-4o-mini"),
                    api_key: setting(env, "LLM_API_KEY"),
                    timeout: timeout_of(env),
                    max_tokens: max_tokens_of(env),
                })
            }),
            "anthropic" => setting(env, "ANTHROPIC_API_KEY").map(|key| {
                Provider::Anthropic(Endpoint {
                    base_url: setting(env, "ANTHROPIC_BASE_URL")
                        .unwrap_or_else(|| "https://api.anthropic.com/v1".into())
                        .trim_end_matches('/')
                        .to_owned(),
                    model: model("ANTHROPIC_MODEL", "claude-3-5-haiku-latest"),
                    api_key: Some(key),
                    timeout: timeout_of(env),
                    max_tokens: max_tokens_of(env),
                })
            }),
            "workers-ai" => env.ai("AI").ok().map(|ai| Provider::WorkersAi {
                ai,
                model: model("WORKERS_AI_MODEL", "@cf/meta/llama-3.1-8b-instruct"),
                timeout: timeout_of(env),
                max_tokens: max_tokens_of(env),
            }),
            _ => None,
        };
        // An agent that names a provider this deployment lacks gets the default one.
        match chosen {
            None if choice.provider != "default" && kind != "offline" => {
                Self::for_agent(env, &LlmChoice::default())
            }
            other => other,
        }
    }

    /// The short name stored with each reply.
    pub fn name(&self) -> &'static str {
        match self {
            Provider::OpenAi(_) => "openai",
            Provider::Anthropic(_) => "anthropic",
            Provider::WorkersAi { .. } => "workers-ai",
        }
    }

    /// One completion for `messages`.
    pub async fn complete(
        &self,
        messages: &[llm::PromptMessage],
    ) -> Result<Completion, EngineError> {
        let bad = |e: llm::BadCompletion| EngineError(e.to_string());
        match self {
            Provider::OpenAi(e) => {
                let body = llm::request_body(&e.model, messages, e.max_tokens);
                let mut headers = vec![];
                if let Some(key) = &e.api_key {
                    headers.push(("authorization", format!("Bearer {key}")));
                }
                let json = post_json(
                    &format!("{}/chat/completions", e.base_url),
                    &headers,
                    &body,
                    e.timeout,
                )
                .await?;
                llm::parse_openai(&json).map_err(bad)
            }
            Provider::Anthropic(e) => {
                let body = llm::anthropic_body(&e.model, messages, e.max_tokens);
                let headers = vec![
                    ("x-api-key", e.api_key.clone().unwrap_or_default()),
                    ("anthropic-version", llm::ANTHROPIC_VERSION.to_owned()),
                ];
                let json = post_json(
                    &format!("{}/messages", e.base_url),
                    &headers,
                    &body,
                    e.timeout,
                )
                .await?;
                llm::parse_anthropic(&json).map_err(bad)
            }
            Provider::WorkersAi {
                ai,
                model,
                timeout,
                max_tokens,
            } => {
                let input = serde_json::json!({ "messages": messages, "max_tokens": max_tokens });
                let run = std::pin::pin!(ai.run::<Value, Value>(model, input));
                let timer = std::pin::pin!(worker::Delay::from(*timeout));
                let out = match futures_util::future::select(run, timer).await {
                    futures_util::future::Either::Left((r, _)) => {
                        r.map_err(|e| EngineError(format!("workers ai: {e}")))?
                    }
                    futures_util::future::Either::Right(_) => {
                        return Err(EngineError(format!(
                            "timed out after {} ms",
                            timeout.as_millis()
                        )))
                    }
                };
                let text = out
                    .get("response")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .trim()
                    .to_owned();
                if text.is_empty() {
                    return Err(bad(llm::BadCompletion::Empty));
                }
                Ok(Completion {
                    text,
                    tool_calls: Vec::new(),
                })
            }
        }
    }
}

/// POSTs JSON and reads a JSON answer, within `timeout` overall. A transient failure (a rate
/// limit, an overloaded or failing gateway, a dropped connection) is retried once if at least
/// half the time is left.
async fn post_json(
    url: &str,
    headers: &[(&str, String)],
    body: &Value,
    timeout: Duration,
) -> Result<Value, EngineError> {
    let started = crate::platform::now_ms();
    let mut attempt = 0;
    loop {
        attempt += 1;
        let elapsed = Duration::from_millis((crate::platform::now_ms() - started).max(0) as u64);
        let left = timeout.saturating_sub(elapsed);
        match post_once(url, headers, body, left).await {
            Err((transient, e))
                if transient && attempt == 1 && elapsed + RETRY_PAUSE < timeout / 2 =>
            {
                worker::console_warn!("provider failed ({e}); retrying once");
                worker::Delay::from(RETRY_PAUSE).await;
            }
            Err((_, e)) => return Err(EngineError(e)),
            Ok(v) => return Ok(v),
        }
    }
}

/// One POST; an error says whether it is worth retrying.
async fn post_once(
    url: &str,
    headers: &[(&str, String)],
    body: &Value,
    timeout: Duration,
) -> Result<Value, (bool, String)> {
    let fail = |e: worker::Error| (false, format!("request: {e}"));
    let h = Headers::new();
    h.set("content-type", "application/json").map_err(fail)?;
    for (k, v) in headers {
        h.set(k, v).map_err(fail)?;
    }
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(h)
        .with_body(Some(body.to_string().into()));
    let request = Request::new_with_init(url, &init).map_err(fail)?;
    let fetched = crate::outbound::fetch(request, timeout, MAX_PROVIDER_BODY)
        .await
        .map_err(|e| (!e.starts_with("timed out"), format!("provider {e}")))?;
    let status = fetched.status;
    let bytes = fetched
        .body
        .ok_or_else(|| (false, "provider answer too large".to_owned()))?;
    let text = String::from_utf8_lossy(&bytes);
    if !(200..300).contains(&status) {
        let snippet: String = text.chars().take(200).collect();
        return Err((
            llm::is_transient(status),
            format!("provider answered {status}: {snippet}"),
        ));
    }
    serde_json::from_str::<Value>(&text)
        .map_err(|e| (false, format!("provider sent invalid JSON: {e}")))
}

impl AnswerEngine for Provider {
    fn name(&self) -> &'static str {
        Provider::name(self)
    }

    async fn answer(&self, q: &Question<'_>) -> Result<Answer, EngineError> {
        if let Some(reply) = answer::small_talk(q.message).filter(|a| !a.actions.is_empty()) {
            return Ok(reply); // a request for a person is honoured without asking the model
        }
        let messages =
            llm::build_messages(q.instructions, q.context, q.passages, q.history, q.message);
        let completion = self.complete(&messages).await?;
        if completion.text.is_empty() {
            return Err(EngineError(
                "the model answered with tool calls only".into(),
            ));
        }
        // The model's prose has no score of its own: confidence and citations come from how
        // well the passages it was given cover the question.
        let grounded = answer::answer(q.message, q.passages, q.user, q.company);
        Ok(Answer {
            text: completion.text,
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
pub async fn answer(provider: Option<&Provider>, q: &Question<'_>) -> Outcome {
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
