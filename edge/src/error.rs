//! The one API error type. Expected failures become 4xx answers with a stable `code`;
//! anything unexpected is logged with its cause and answered with an opaque 500.

use halo_shared::chat::FieldError;
use halo_shared::keys::InvalidKey;
use serde_json::json;
use worker::Response;

/// An error a handler returns; [`ApiError::into_response`] is the only way it reaches a client.
#[derive(Debug, Clone)]
pub enum ApiError {
    /// A field of the request is wrong; the message names it.
    Field(FieldError),
    /// The body is not JSON at all.
    InvalidJson,
    PayloadTooLarge {
        max: usize,
    },
    /// No credential, a malformed one, or one no workspace has.
    Unauthorized(&'static str),
    /// The user's identity token was missing where required, or refused.
    Identity {
        code: &'static str,
        message: String,
    },
    /// The credential is valid but may not do this here.
    Forbidden {
        code: &'static str,
        message: &'static str,
    },
    NotFound(&'static str),
    MethodNotAllowed,
    /// The request conflicts with what exists (a teammate with this email already).
    Conflict {
        code: &'static str,
        message: &'static str,
    },
    /// The thing existed and is gone for good (a used or expired link).
    Gone {
        code: &'static str,
        message: &'static str,
    },
    /// Too many tries: wait `retry_after` seconds (also sent as `Retry-After`).
    RateLimited {
        message: &'static str,
        retry_after: u64,
    },
    /// A WebSocket endpoint was called without `Upgrade: websocket`.
    UpgradeRequired,
    /// The deployment lacks a setting this route needs.
    NotConfigured(&'static str),
    /// A service this route needs (the embedding model) did not answer: try again.
    Unavailable {
        code: &'static str,
        message: &'static str,
    },
    /// Something of ours failed. The text is logged, never sent.
    Internal(String),
}

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> Self {
        ApiError::Field(e)
    }
}

impl From<worker::Error> for ApiError {
    fn from(e: worker::Error) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl From<InvalidKey> for ApiError {
    fn from(e: InvalidKey) -> Self {
        ApiError::Unauthorized(match e {
            InvalidKey::Missing => "Send your key as `Authorization: Bearer <key>`.",
            InvalidKey::Malformed => "The key is malformed.",
            InvalidKey::WrongKind(prefix) => match prefix {
                "ab_live_" => "This call takes the workspace's widget key (ab_live_…), not another kind of key.",
                "sk_live_" => "This call takes the workspace's secret key (sk_live_…), not another kind of key.",
                "tm_live_" => "This call takes a teammate's token (tm_live_…) or a console session, not another kind of key.",
                _ => "This call takes another kind of key.",
            },
        })
    }
}

impl ApiError {
    fn parts(&self) -> (u16, &'static str, String) {
        match self {
            ApiError::Field(e) => (400, e.code(), e.to_string()),
            ApiError::InvalidJson => (
                400,
                "invalid_json",
                "The request body must be valid JSON.".into(),
            ),
            ApiError::PayloadTooLarge { max } => (
                413,
                "payload_too_large",
                format!("The request body must be at most {max} bytes."),
            ),
            ApiError::Unauthorized(m) => (401, "unauthorized", (*m).into()),
            ApiError::Identity { code, message } => (401, code, message.clone()),
            ApiError::Forbidden { code, message } => (403, code, (*message).into()),
            ApiError::NotFound(m) => (404, "not_found", (*m).into()),
            ApiError::Conflict { code, message } => (409, code, (*message).into()),
            ApiError::Gone { code, message } => (410, code, (*message).into()),
            ApiError::RateLimited { message, .. } => (429, "rate_limited", (*message).into()),
            ApiError::MethodNotAllowed => (
                405,
                "method_not_allowed",
                "This method is not allowed here.".into(),
            ),
            ApiError::UpgradeRequired => (
                426,
                "upgrade_required",
                "This endpoint is a WebSocket: connect with `Upgrade: websocket`.".into(),
            ),
            ApiError::NotConfigured(m) => (503, "not_configured", (*m).into()),
            ApiError::Unavailable { code, message } => (503, code, (*message).into()),
            ApiError::Internal(_) => (
                500,
                "internal",
                "Something went wrong on our side. Please try again.".into(),
            ),
        }
    }

    /// The JSON error answer: `{ "error": { "code", "message", "field"? } }`.
    pub fn into_response(self) -> Response {
        if let ApiError::Internal(cause) = &self {
            worker::console_error!("internal error: {cause}");
        }
        let (status, code, message) = self.parts();
        let mut error = json!({ "code": code, "message": message });
        if let ApiError::Field(e) = &self {
            error["field"] = json!(e.field);
        }
        let retry_after = match &self {
            ApiError::RateLimited { retry_after, .. } => Some(*retry_after),
            _ => None,
        };
        if let Some(seconds) = retry_after {
            error["retry_after"] = json!(seconds);
        }
        let mut response = crate::respond::json_response(&json!({ "error": error }), status);
        if let Some(seconds) = retry_after {
            let _ = response
                .headers_mut()
                .set("retry-after", &seconds.to_string());
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
