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
    let work = std::pin::pin!(async move {
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
    });
    let timer = std::pin::pin!(Delay::from(timeout));
    match select(work, timer).await {
        Either::Left((result, _)) => result,
        Either::Right(((), _)) => {
            controller.abort();
            Err(format!("timed out after {} ms", timeout.as_millis()))
        }
    }
}

/// A model server reached over HTTP (embeddings, reranking), configured by the settings
/// `<PREFIX>_BASE_URL`, `<PREFIX>_MODEL`, `<PREFIX>_API_KEY` and `<PREFIX>_TIMEOUT_MS`.
pub struct ModelServer {
    pub base_url: String,
    pub model: String,
    api_key: Option<String>,
    timeout: Duration,
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
        let headers = worker::Headers::new();
        let _ = headers.set("content-type", "application/json");
        if let Some(key) = &self.api_key {
            let _ = headers.set("authorization", &format!("Bearer {key}"));
        }
        let mut init = worker::RequestInit::new();
        init.with_method(worker::Method::Post)
            .with_headers(headers)
            .with_body(Some(body.to_string().into()));
        let request = Request::new_with_init(&format!("{}/{path}", self.base_url), &init)
            .map_err(|e| format!("request: {e}"))?;
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
