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
use halo_shared::chat::{reason, Action};
use halo_shared::context::Profile;
use halo_shared::evidence::Evidence;
use halo_shared::llm::{self, Completion, StreamRead};
use halo_shared::tools;
use serde_json::Value;
use worker::Env;

use crate::outbound::ModelServer;
use crate::platform::setting;

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
    /// The user's and company's data as facts (`halo_shared::evidence`), ranked for the
    /// question.
    pub facts: &'a Evidence,
    /// What tools may touch (the model sees only the agent's enabled skills); `None`: no tools.
    pub tools: Option<ToolContext<'a>>,
    /// Where a streamed answer's text goes as it is generated; `None`: not streamed.
    pub progress: Option<Progress<'a>>,
}

/// A streamed answer's progress goes to the conversation's live room (and the workspace's
/// feed) as `{ "type": "typing", "session_id", "message_id", "text" }` events: the text so
/// far, at most every [`PROGRESS_EVERY`].
pub struct Progress<'a> {
    pub env: &'a Env,
    pub org: &'a str,
    pub session_id: &'a str,
    /// The id the reply will be stored under.
    pub message_id: &'a str,
}

/// How often a streamed answer's text is published.
const PROGRESS_EVERY: Duration = Duration::from_millis(150);

/// Where tool calls run.
#[derive(Clone, Copy)]
pub struct ToolContext<'a> {
    pub env: &'a Env,
    pub db: &'a worker::D1Database,
    pub org: &'a str,
    pub skills: &'a [String],
}

/// A hand-over the model asked for with a tool; the chat handler opens the ticket.
#[derive(Debug, Clone)]
pub struct HandOver {
    /// `agent_escalated`, `agent_ticket`, `file_bug` or `request_refund`.
    pub reason: &'static str,
    /// What the model said about it, kept as a note on the ticket.
    pub note: String,
    /// The call's arguments, for a webhook's payload.
    pub vars: Vec<(&'static str, String)>,
}

/// An answer and what the model did on the way.
pub struct Reply {
    pub answer: Answer,
    /// Every tool call and its result, for the conversation's trace.
    pub tool_runs: Vec<Value>,
    pub hand_over: Option<HandOver>,
    /// Model calls made, and the tokens they used (the budget's count).
    pub spent: Spent,
}

/// What a turn cost: model calls, and their tokens (the provider's `usage`, else estimated at
/// four characters a token of what was sent and received).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Spent {
    pub calls: u32,
    pub tokens: u32,
}

impl Spent {
    fn add(&mut self, body: &Value, c: &Completion) {
        self.calls += 1;
        self.tokens += if c.tokens > 0 {
            c.tokens
        } else {
            ((body.to_string().len() + c.text.len()) / 4) as u32
        };
    }
}

impl From<Answer> for Reply {
    fn from(answer: Answer) -> Self {
        Reply {
            answer,
            tool_runs: Vec::new(),
            hand_over: None,
            spent: Spent::default(),
        }
    }
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
        Ok(answer::answer(
            q.message, q.passages, q.facts, q.user, q.company,
        ))
    }
}

/// Largest provider answer read, in bytes.
const MAX_PROVIDER_BODY: usize = 1024 * 1024;

/// An HTTP model endpoint: the server (where, which model, the key, the deadline) and the
/// length bound of one answer.
pub struct Endpoint {
    server: ModelServer,
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
            .unwrap_or(DEFAULT_TIMEOUT_MS),
    )
}

/// The deadline of one answer unless `LLM_TIMEOUT_MS` says otherwise.
const DEFAULT_TIMEOUT_MS: u64 = 20_000;

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
            "openai" => {
                ModelServer::from_env(env, "LLM", "gpt-4o-mini", DEFAULT_TIMEOUT_MS).map(|server| {
                    Provider::OpenAi(Endpoint {
                        server: ModelServer {
                            model: model("LLM_MODEL", "gpt-4o-mini"),
                            ..server
                        },
                        max_tokens: max_tokens_of(env),
                    })
                })
            }
            "anthropic" => setting(env, "ANTHROPIC_API_KEY").map(|key| {
                Provider::Anthropic(Endpoint {
                    server: ModelServer {
                        base_url: setting(env, "ANTHROPIC_BASE_URL")
                            .unwrap_or_else(|| "https://api.anthropic.com/v1".into())
                            .trim_end_matches('/')
                            .to_owned(),
                        model: model("ANTHROPIC_MODEL", "claude-3-5-haiku-latest"),
                        api_key: Some(key),
                        timeout: timeout_of(env),
                    },
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

    /// One Workers AI completion (no tools, not streamed).
    async fn workers_ai(&self, messages: &[llm::PromptMessage]) -> Result<Completion, EngineError> {
        let bad = |e: llm::BadCompletion| EngineError(e.to_string());
        match self {
            Provider::WorkersAi {
                ai,
                model,
                timeout,
                max_tokens,
            } => {
                let input = serde_json::json!({ "messages": messages, "max_tokens": max_tokens });
                let out = crate::outbound::deadline(*timeout, ai.run::<Value, Value>(model, input))
                    .await
                    .map_err(EngineError)?
                    .map_err(|e| EngineError(format!("workers ai: {e}")))?;
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
                    tokens: llm::usage_tokens(&out),
                    text,
                    tool_calls: Vec::new(),
                })
            }
            _ => Err(EngineError("not a Workers AI provider".into())),
        }
    }
}

/// Calls a model endpoint: one deadline for the whole answer, one retry of a transient failure
/// (a rate limit, an overloaded or failing gateway, a dropped connection) if at least half the
/// time is left. With `"stream": true` in `body` the events are read as they arrive and the
/// text so far goes to `progress`; an answer of one JSON body (not streamed, or a server that
/// ignores `stream`) is read with `whole`.
async fn call<R: StreamRead>(
    url: &str,
    headers: &[(&str, String)],
    timeout: Duration,
    body: &Value,
    progress: Option<&Progress<'_>>,
    whole: fn(&Value) -> Result<Completion, llm::BadCompletion>,
) -> Result<Completion, EngineError> {
    let started = crate::platform::now_ms();
    let mut attempt = 0;
    loop {
        attempt += 1;
        let elapsed = Duration::from_millis((crate::platform::now_ms() - started).max(0) as u64);
        let left = timeout.saturating_sub(elapsed);
        match stream_once::<R>(url, headers, body, progress, left, whole).await {
            Err((transient, msg))
                if transient
                    && attempt == 1
                    && elapsed + crate::outbound::RETRY_PAUSE < timeout / 2 =>
            {
                worker::console_warn!("provider failed ({msg}); retrying once");
                worker::Delay::from(crate::outbound::RETRY_PAUSE).await;
            }
            Err((_, msg)) => return Err(EngineError(msg)),
            Ok(c) => return Ok(c),
        }
    }
}

async fn stream_once<R: StreamRead>(
    url: &str,
    headers: &[(&str, String)],
    body: &Value,
    progress: Option<&Progress<'_>>,
    timeout: Duration,
    whole: fn(&Value) -> Result<Completion, llm::BadCompletion>,
) -> Result<Completion, (bool, String)> {
    let all: Vec<(&str, &str)> = std::iter::once(("accept", "text/event-stream"))
        .chain(headers.iter().map(|(k, v)| (*k, v.as_str())))
        .collect();
    let request =
        crate::outbound::post_json(url, &all, &body.to_string()).map_err(|e| (false, e))?;
    let controller = worker::AbortController::default();
    let signal = controller.signal();
    let work = async move {
        let mut resp = worker::Fetch::Request(request)
            .send_with_signal(&signal)
            .await
            .map_err(|err| (true, format!("provider fetch: {err}")))?;
        let status = resp.status_code();
        if !(200..300).contains(&status) {
            let text = resp.text().await.unwrap_or_default();
            let snippet: String = text.chars().take(200).collect();
            return Err((
                llm::is_transient(status),
                format!("provider answered {status}: {snippet}"),
            ));
        }
        let sse = resp
            .headers()
            .get("content-type")
            .ok()
            .flatten()
            .is_some_and(|t| t.starts_with("text/event-stream"));
        let mut stream = resp
            .stream()
            .map_err(|err| (false, format!("provider body: {err}")))?;
        let mut reader = R::default();
        // A reply of one JSON body (not streamed, or a server that ignores `stream`).
        let mut whole_body = Vec::new();
        let (mut read, mut published, mut last) = (0usize, 0usize, 0i64);
        while let Some(chunk) = futures_util::StreamExt::next(&mut stream).await {
            let chunk = chunk.map_err(|err| {
                (
                    false,
                    format!("provider stream broke after {read} bytes: {err}"),
                )
            })?;
            read += chunk.len();
            if read > MAX_PROVIDER_BODY {
                return Err((false, "provider answer too large".to_owned()));
            }
            if !sse {
                whole_body.extend_from_slice(&chunk);
                continue;
            }
            reader.feed(&chunk);
            let now = crate::platform::now_ms();
            let due = now - last >= PROGRESS_EVERY.as_millis() as i64;
            if let Some(progress) = progress.filter(|_| due && reader.text().len() > published) {
                publish_progress(progress, reader.text()).await;
                published = reader.text().len();
                last = now;
            }
        }
        if !sse {
            let json: Value = serde_json::from_slice(&whole_body)
                .map_err(|err| (false, format!("provider sent invalid JSON: {err}")))?;
            return whole(&json).map_err(|err| (false, err.to_string()));
        }
        if !reader.is_done() {
            return Err((
                false,
                format!("provider stream ended early after {read} bytes"),
            ));
        }
        reader.finish().map_err(|err| (false, err.to_string()))
    };
    crate::outbound::deadline(timeout, work)
        .await
        .unwrap_or_else(|timed_out| {
            controller.abort();
            Err((false, timed_out))
        })
}

async fn publish_progress(p: &Progress<'_>, text: &str) {
    let event = halo_shared::live::Event::Typing {
        session_id: p.session_id.to_owned(),
        message_id: p.message_id.to_owned(),
        text: text.trim_start().to_owned(),
    };
    crate::live::publish(p.env, p.org, p.session_id, &event).await;
}

impl AnswerEngine for Provider {
    fn name(&self) -> &'static str {
        Provider::name(self)
    }

    async fn answer(&self, q: &Question<'_>) -> Result<Answer, EngineError> {
        self.reply(q).await.map(|r| r.answer)
    }
}

impl Provider {
    /// Answers, calling the agent's enabled tools in a loop of at most `tools::MAX_STEPS`
    /// model calls; every call and its result is kept for the trace.
    pub async fn reply(&self, q: &Question<'_>) -> Result<Reply, EngineError> {
        if let Some(reply) = answer::small_talk(q.message).filter(|a| !a.actions.is_empty()) {
            return Ok(reply.into()); // a request for a person is honoured without asking the model
        }
        // The facts that match the question go first in the data section, so a model sees
        // which of the user's data is about what they asked.
        let matching = q.facts.prompt_block();
        let context = [matching.as_str(), q.context]
            .iter()
            .filter(|s| !s.trim().is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join("\n\n");
        let messages =
            llm::build_messages(q.instructions, &context, q.passages, q.history, q.message);
        let specs = q
            .tools
            .map(|t| tools::enabled(t.skills))
            .unwrap_or_default();
        let (mut body, kind) = match self {
            Provider::OpenAi(e) => {
                let mut b = llm::request_body(&e.server.model, &messages, e.max_tokens);
                if !specs.is_empty() {
                    b["tools"] = tools::openai_tools(&specs);
                }
                if q.progress.is_some() {
                    b["stream"] = serde_json::json!(true);
                }
                (b, Kind::OpenAi)
            }
            Provider::Anthropic(e) => {
                let mut b = llm::anthropic_body(&e.server.model, &messages, e.max_tokens);
                if !specs.is_empty() {
                    b["tools"] = tools::anthropic_tools(&specs);
                }
                if q.progress.is_some() {
                    b["stream"] = serde_json::json!(true);
                }
                (b, Kind::Anthropic)
            }
            Provider::WorkersAi { .. } => {
                let completion = self.workers_ai(&messages).await?;
                let mut used = Used::default();
                used.spent.add(&serde_json::json!(messages), &completion);
                return self.finish(q, completion.text, used);
            }
        };
        let mut used = Used::default();
        for step in 0..tools::MAX_STEPS {
            if step + 1 == tools::MAX_STEPS && body.get("tools").is_some() {
                // The last call must answer in words.
                body["tool_choice"] = match kind {
                    Kind::OpenAi => serde_json::json!("none"),
                    Kind::Anthropic => serde_json::json!({ "type": "none" }),
                };
            }
            let completion = self.complete(q, &body).await?;
            used.spent.add(&body, &completion);
            if completion.tool_calls.is_empty() {
                return self.finish(q, completion.text, used);
            }
            let results = run_calls(q, &completion, &mut used).await;
            let round = match kind {
                Kind::OpenAi => tools::openai_round(&completion, &results),
                Kind::Anthropic => tools::anthropic_round(&completion, &results),
            };
            if let Some(list) = body["messages"].as_array_mut() {
                list.extend(round);
            }
        }
        Err(EngineError(
            "the model kept calling tools without answering".into(),
        ))
    }

    /// One model call with the request `body`, streamed when the question has a progress
    /// sink, over the provider's wire.
    async fn complete(&self, q: &Question<'_>, body: &Value) -> Result<Completion, EngineError> {
        match self {
            Provider::OpenAi(e) => {
                let headers: Vec<(&str, String)> = e
                    .server
                    .api_key
                    .iter()
                    .map(|key| ("authorization", format!("Bearer {key}")))
                    .collect();
                let url = format!("{}/chat/completions", e.server.base_url);
                call::<llm::StreamReader>(
                    &url,
                    &headers,
                    e.server.timeout,
                    body,
                    q.progress.as_ref(),
                    llm::parse_openai,
                )
                .await
            }
            Provider::Anthropic(e) => {
                let headers = [
                    ("x-api-key", e.server.api_key.clone().unwrap_or_default()),
                    ("anthropic-version", llm::ANTHROPIC_VERSION.to_owned()),
                ];
                let url = format!("{}/messages", e.server.base_url);
                call::<llm::AnthropicStreamReader>(
                    &url,
                    &headers,
                    e.server.timeout,
                    body,
                    q.progress.as_ref(),
                    llm::parse_anthropic,
                )
                .await
            }
            Provider::WorkersAi { .. } => unreachable!("Workers AI answers before the loop"),
        }
    }

    /// The reply from the model's final text. Confidence: 0.3 + 0.65 × how well the passages
    /// it saw (given and searched) cover the question, at least 0.3 for a model's answer, and
    /// at most 0.3 when it handed the conversation over.
    fn finish(&self, q: &Question<'_>, text: String, used: Used) -> Result<Reply, EngineError> {
        let Used {
            runs: tool_runs,
            actions,
            found,
            cited,
            hand_over,
            spent,
        } = used;
        if text.trim().is_empty() {
            return Err(EngineError("the model gave no text".into()));
        }
        let mut seen = q.passages.to_vec();
        seen.extend(found.iter().cloned());
        let mut grounded = answer::answer(q.message, &seen, q.facts, q.user, q.company);
        // The best passage of each search the model ran is a source it chose to read.
        for cite in cited {
            if !grounded.citations.contains(&cite) {
                grounded.citations.push(cite);
            }
        }
        let mut confidence = grounded.confidence.max(0.3);
        if hand_over.is_some() {
            confidence = confidence.min(0.3);
        }
        Ok(Reply {
            answer: Answer {
                text,
                confidence,
                citations: grounded.citations,
                actions,
            },
            tool_runs,
            hand_over,
            spent,
        })
    }
}

/// What the model's tool calls did so far.
#[derive(Default)]
struct Used {
    /// Every call and its result, for the trace.
    runs: Vec<Value>,
    actions: Vec<Action>,
    /// Passages the model searched for, and the best of each search (cited).
    found: Vec<Passage>,
    cited: Vec<halo_shared::chat::Citation>,
    hand_over: Option<HandOver>,
    spent: Spent,
}

/// Runs a completion's tool calls (the agent's enabled tools only); their results, in order.
/// Every call and its result is kept in `used` for the trace, with the best passage of each
/// search cited.
async fn run_calls(q: &Question<'_>, completion: &Completion, used: &mut Used) -> Vec<String> {
    let mut results = Vec::new();
    for call in &completion.tool_calls {
        let ctx = q.tools.expect("tools were offered");
        let result = match tools::Call::parse(call, ctx.skills) {
            Err(e) => format!("error: {e}"),
            Ok(c) => {
                let len = used.found.len();
                let result = run_tool(ctx, c, used).await;
                if let Some(best) = used.found.get(len) {
                    used.cited.push(halo_shared::chat::Citation {
                        title: best.title.clone(),
                        url: best.url.clone(),
                    });
                }
                result
            }
        };
        used.runs.push(
            serde_json::json!({ "tool": call.name, "arguments": call.arguments, "result": result }),
        );
        results.push(result);
    }
    results
}

#[derive(Clone, Copy)]
enum Kind {
    OpenAi,
    Anthropic,
}

/// Runs one checked tool call; the string is what the model is told.
async fn run_tool(ctx: ToolContext<'_>, call: tools::Call, used: &mut Used) -> String {
    let Used {
        actions,
        found,
        hand_over,
        ..
    } = used;
    match call {
        tools::Call::SearchKnowledge { query } => {
            match crate::knowledge::retrieve(
                ctx.env,
                ctx.db,
                ctx.org,
                &query,
                3,
                crate::knowledge::Mode::Hybrid,
            )
            .await
            {
                Err(e) => format!("error: the search failed ({e:?})"),
                Ok(hits) if hits.is_empty() => "No article covers this.".into(),
                Ok(hits) => {
                    // What the model searched for is judged by its words, not its closeness.
                    let passages: Vec<Passage> = hits
                        .into_iter()
                        .map(|h| Passage {
                            similarity: None,
                            ..h.into_passage()
                        })
                        .collect();
                    let text = llm::system_prompt("", "", &passages);
                    found.extend(passages);
                    text.trim().to_owned()
                }
            }
        }
        tools::Call::Highlight { selector, message } => {
            let done = format!(
                "The widget is highlighting {selector} on the user's page with your message."
            );
            actions.push(Action::Highlight { selector, message });
            done
        }
        tools::Call::CreateTicket { reason } => {
            *hand_over = Some(HandOver {
                reason: "agent_ticket",
                vars: vec![("reason", reason.clone())],
                note: reason,
            });
            "A ticket is open; a teammate will follow up in this conversation.".into()
        }
        tools::Call::Escalate { reason } => {
            *hand_over = Some(HandOver {
                reason: "agent_escalated",
                vars: vec![("reason", reason.clone())],
                note: reason,
            });
            "A teammate has been asked to join this conversation.".into()
        }
        tools::Call::FileBug { title, details } => {
            *hand_over = Some(HandOver {
                reason: "file_bug",
                note: format!("Bug: {title}\n\n{details}").trim().to_owned(),
                vars: vec![("title", title), ("details", details)],
            });
            "The bug is reported to the team.".into()
        }
        tools::Call::RequestRefund { reason, amount } => {
            *hand_over = Some(HandOver {
                reason: "request_refund",
                note: match &amount {
                    Some(a) => format!("Refund of {a}: {reason}"),
                    None => format!("Refund: {reason}"),
                },
                vars: vec![("reason", reason), ("amount", amount.unwrap_or_default())],
            });
            "The refund request is with the billing team.".into()
        }
    }
}

/// A reply, which engine produced it, and what failed on the way (if anything).
pub struct Outcome {
    pub answer: Answer,
    pub engine: &'static str,
    /// Model calls and tokens (none for the offline engine).
    pub spent: Spent,
    pub error: Option<String>,
    /// Tool calls and their results (model answers only).
    pub tool_runs: Vec<Value>,
    pub hand_over: Option<HandOver>,
}

/// Answers with the configured provider, falling back to the offline engine if it fails.
pub async fn answer(provider: Option<&Provider>, q: &Question<'_>) -> Outcome {
    let mut error = None;
    if let Some(p) = provider {
        match p.reply(q).await {
            Ok(reply) => {
                return Outcome {
                    spent: reply.spent,
                    answer: reply.answer,
                    engine: p.name(),
                    error: None,
                    tool_runs: reply.tool_runs,
                    hand_over: reply.hand_over,
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
            spent: Spent::default(),
            answer,
            engine: Offline.name(),
            error,
            tool_runs: Vec::new(),
            hand_over: None,
        },
        Err(EngineError(e)) => Outcome {
            spent: Spent::default(),
            answer: answer::offer_human(answer::FAILURE_TEXT, reason::ENGINE_FAILED, 0.0),
            engine: "fallback",
            error: Some(e),
            tool_runs: Vec::new(),
            hand_over: None,
        },
    };
    if outcome.error.is_some() && outcome.answer.actions.is_empty() {
        // The model failed: the offline answer stands, and a person is offered too.
        outcome
            .answer
            .actions
            .push(halo_shared::chat::Action::OfferHuman {
                reason: reason::ENGINE_FAILED.into(),
            });
    }
    outcome
}
