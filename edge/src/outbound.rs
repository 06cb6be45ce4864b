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

/// Sends `request` and reads at most `max_body` bytes of the answer, all within `timeout`.
pub async fn fetch(
    request: Request,
    timeout: Duration,
    max_body: usize,
) -> Result<Fetched, String> {
    let controller = AbortController::default();
    let signal = controller.signal();
    let work = async move {
        let mut resp = Fetch::Request(request)
            .send_with_signal(&signal)
            .await
            .map_err(|e| format!("fetch: {e}"))?;
        let status = resp.status_code();
        let content_type = resp
            .headers()
            .get("content-type")
            .ok()
            .flatten()
            .unwrap_or_default();
        let mut stream = resp.stream().map_err(|e| format!("body: {e}"))?;
        let mut body = Vec::new();
        while let Some(chunk) = stream.next().await {
            body.extend_from_slice(&chunk.map_err(|e| format!("body: {e}"))?);
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
        Err(timed_out)
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
    /// the body of a 2xx answer, read up to `max_body` bytes. `what` names it in errors.
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
        let request = post_json(&url, &headers, &body.to_string())?;
        let fetched = fetch(request, self.timeout, max_body)
            .await
            .map_err(|e| format!("{what} {e}"))?;
        let body = fetched.body.ok_or(format!("{what} answer too large"))?;
        if !(200..300).contains(&fetched.status) {
            return Err(format!("{what} answered {}", fetched.status));
        }
        Ok(body)
    }
}
