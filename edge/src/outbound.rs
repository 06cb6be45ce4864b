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
