//! JSON answers, at the bottom of the house: every error and every handler answers through
//! [`json_response`].

use serde::Serialize;
use worker::Response;

/// A JSON answer with `status`.
pub fn json_response(value: &impl Serialize, status: u16) -> Response {
    match Response::from_json(value) {
        Ok(r) => r.with_status(status),
        Err(_) => plain_500(),
    }
}

/// The last resort when even building a JSON answer failed: still the JSON error shape.
pub fn plain_500() -> Response {
    let body = r#"{"error":{"code":"internal","message":"Something went wrong on our side. Please try again."}}"#;
    let resp = Response::error(body, 500).expect("a static error response is always valid");
    let _ = resp.headers().set("content-type", "application/json");
    resp
}
