//! Outbound HTTP from the Worker, bounded: one timeout covers the whole exchange (the request
//! is aborted when it fires) and the body is read up to a cap.

use std::time::Duration;

use futures_util::future::{select, Either};
use futures_util::StreamExt;
use worker::{AbortController, Delay, Fetch, Request};

/// What came back.
pub struct Fetched {
    pub status: u16,
    pub content_type: String,
    /// `None` when the body was longer than the cap (reading stopped there).
    pub body: Option<Vec<u8>>,
}

/// Pause before the one retry of a transient failure of a model call.
pub const RETRY_PAUSE: Duration = Duration::from_millis(300);

/// Why an outbound call failed.
#[derive(Debug)]
pub struct FetchError {
    pub message: String,
    /// The connection failed or dropped (no answer, or a body cut short), which one more try
    /// can fix; a timeout is not, its time is spent.
    pub dropped: bool,
}

impl From<FetchError> for String {
    fn from(e: FetchError) -> String {
        e.message
    }
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Sends `request` and reads at most `max_body` bytes of the answer, all within `timeout`.
pub async fn fetch(
    request: Request,
    timeout: Duration,
    max_body: usize,
) -> Result<Fetched, FetchError> {
    let controller = AbortController::default();
    let signal = controller.signal();
    let dropped = |message: String| FetchError {
        message,
        dropped: true,
    };
    let work = async move {
        let mut resp = Fetch::Request(request)
            .send_with_signal(&signal)
            .await
            .map_err(|e| dropped(format!("fetch: {e}")))?;
        let status = resp.status_code();
        let content_type = resp
            .headers()
            .get("content-type")
            .ok()
            .flatten()
            .unwrap_or_default();
        let mut stream = resp.stream().map_err(|e| dropped(format!("body: {e}")))?;
        let mut body = Vec::new();
        while let Some(chunk) = stream.next().await {
            body.extend_from_slice(&chunk.map_err(|e| dropped(format!("body: {e}")))?);
            if body.len() > max_body {
                return Ok(Fetched {
                    status,
                    content_type,
                    body: None,
                });
            }
        }
        Ok(Fetched {
            status,
            content_type,
            body: Some(body),
        })
    };
    deadline(timeout, work).await.unwrap_or_else(|timed_out| {
        controller.abort();
        Err(FetchError {
            message: timed_out,
            dropped: false,
        })
    })
}

/// Runs `work` for at most `timeout`: its output, or the sentence saying it timed out (the
/// caller aborts what it started). The one deadline of every outbound call.
pub async fn deadline<F: std::future::Future>(
    timeout: Duration,
    work: F,
) -> Result<F::Output, String> {
    let work = std::pin::pin!(work);
    let timer = std::pin::pin!(Delay::from(timeout));
    match select(work, timer).await {
        Either::Left((out, _)) => Ok(out),
        Either::Right(((), _)) => Err(format!("timed out after {} ms", timeout.as_millis())),
    }
}

/// A POST of a JSON `body` to `url` with `headers` (besides `content-type`): the one request
/// builder of outbound calls.
pub fn post_json(url: &str, headers: &[(&str, &str)], body: &str) -> Result<Request, String> {
    let h = worker::Headers::new();
    h.set("content-type", "application/json")
        .map_err(|e| format!("request: {e}"))?;
    for (k, v) in headers {
        h.set(k, v).map_err(|e| format!("request: {e}"))?;
    }
    let mut init = worker::RequestInit::new();
    init.with_method(worker::Method::Post)
        .with_headers(h)
        .with_body(Some(body.into()));
    Request::new_with_init(url, &init).map_err(|e| format!("request: {e}"))
}

/// A model server reached over HTTP (embeddings, reranking), configured by the settings
/// `<PREFIX>_BASE_URL`, `<PREFIX>_MODEL`, `<PREFIX>_API_KEY` and `<PREFIX>_TIMEOUT_MS`.
pub struct ModelServer {
    pub base_url: String,
    pub model: String,
    pub api_key: Option<String>,
    pub timeout: Duration,
}

impl ModelServer {
    /// The endpoint the settings name; `None` without a base URL.
    pub fn from_env(
        env: &worker::Env,
        prefix: &str,
        default_model: &str,
        default_timeout_ms: u64,
    ) -> Option<Self> {
        let get = |name: &str| crate::platform::setting(env, &format!("{prefix}_{name}"));
        Some(ModelServer {
            base_url: get("BASE_URL")?.trim_end_matches('/').to_owned(),
            model: get("MODEL").unwrap_or_else(|| default_model.to_owned()),
            api_key: get("API_KEY"),
            timeout: Duration::from_millis(
                get("TIMEOUT_MS")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(default_timeout_ms),
            ),
        })
    }

    /// POSTs `body` as JSON to `path` under the base URL, with the key as a bearer token;
    /// the body of a 2xx answer, read up to `max_body` bytes. One deadline covers the call,
    /// and a transient failure (a dropped connection, a rate limit, a failing gateway) is
    /// tried once more if at least half of it is left, as a model's answer is. `what` names
    /// it in errors.
    pub async fn post_json(
        &self,
        what: &str,
        path: &str,
        body: &serde_json::Value,
        max_body: usize,
    ) -> Result<Vec<u8>, String> {
        let bearer = self.api_key.as_ref().map(|key| format!("Bearer {key}"));
        let headers: Vec<(&str, &str)> = bearer
            .as_deref()
            .map(|b| ("authorization", b))
            .into_iter()
            .collect();
        let url = format!("{}/{path}", self.base_url);
        let body = body.to_string();
        let started = crate::platform::now_ms();
        let elapsed = || Duration::from_millis((crate::platform::now_ms() - started).max(0) as u64);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let request = post_json(&url, &headers, &body)?;
            let outcome = fetch(request, self.timeout.saturating_sub(elapsed()), max_body).await;
            let failure = match &outcome {
                Err(e) if e.dropped => Some(e.message.clone()),
                Ok(f) if halo_shared::llm::is_transient(f.status) => {
                    Some(format!("answered {}", f.status))
                }
                _ => None,
            };
            match failure {
                Some(why) if attempt == 1 && elapsed() + RETRY_PAUSE < self.timeout / 2 => {
                    worker::console_warn!("{what} {why}; retrying once");
                    Delay::from(RETRY_PAUSE).await;
                    continue;
                }
                _ => {}
            }
            let fetched = outcome.map_err(|e| format!("{what} {e}"))?;
            let body = fetched.body.ok_or(format!("{what} answer too large"))?;
            if !(200..300).contains(&fetched.status) {
                return Err(format!("{what} answered {}", fetched.status));
            }
            return Ok(body);
        }
    }
}
