//! The small helpers every handler shares: JSON bodies in and out, the query string, the
//! `Authorization` header.

use futures_util::StreamExt;
use serde::Serialize;
use serde_json::Value;
use worker::{Request, Response};

use crate::error::{ApiError, ApiResult};
pub use crate::respond::json_response;

/// Largest request body any endpoint reads.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// A 200 JSON answer.
pub fn json_ok(value: &impl Serialize) -> ApiResult<Response> {
    Ok(json_response(value, 200))
}

/// Reads a JSON body of at most [`MAX_BODY_BYTES`].
pub async fn read_json(req: &mut Request) -> ApiResult<Value> {
    let declared = req
        .headers()
        .get("content-length")?
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    if declared > MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge {
            max: MAX_BODY_BYTES,
        });
    }
    // Read as a stream and stop at the cap, so a body without Content-Length is never
    // buffered whole.
    let mut bytes = Vec::with_capacity(declared);
    if req.inner().body().is_some() {
        let mut stream = req.stream()?;
        while let Some(chunk) = stream.next().await {
            bytes.extend_from_slice(&chunk?);
            if bytes.len() > MAX_BODY_BYTES {
                return Err(ApiError::PayloadTooLarge {
                    max: MAX_BODY_BYTES,
                });
            }
        }
    }
    halo_shared::chat::parse_body(&bytes).ok_or(ApiError::InvalidJson)
}

/// A query-string parameter of the request's URL, if present.
pub fn query_param(req: &Request, name: &str) -> Option<String> {
    req.url()
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The `Authorization` header's value, if any.
pub fn authorization(req: &Request) -> Option<String> {
    req.headers().get("authorization").ok().flatten()
}
