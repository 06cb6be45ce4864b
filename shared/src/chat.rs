//! The chat API contract: `POST /api/sdk/chat`.
//!
//! [`ChatRequest::parse`] is the only way from a JSON body to a request the edge will act on.
//! Every field is typed and bounded here; a refusal names the field and says why
//! ([`FieldError`]), so a client developer can fix the call from the 400 alone.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Longest user message, in characters (Unicode scalar values).
pub const MAX_MESSAGE_CHARS: usize = 10_000;
/// Longest `behavior` text, in characters.
pub const MAX_BEHAVIOR_CHARS: usize = 5_000;
/// Most images attached to one message.
pub const MAX_IMAGES: usize = 4;
/// Longest `http(s)` image URL.
pub const MAX_IMAGE_URL_CHARS: usize = 2_048;
/// Longest `data:` image URL (about 300 KB of image once base64 is decoded).
pub const MAX_IMAGE_DATA_URL_CHARS: usize = 400_000;
/// Most keys in `custom_fields`.
pub const MAX_CUSTOM_FIELDS: usize = 100;
/// Most entries in `context`.
pub const MAX_CONTEXT_ENTRIES: usize = 50;
/// Longest trait or context key.
pub const MAX_KEY_CHARS: usize = 64;
/// Longest string value of a trait.
pub const MAX_TRAIT_VALUE_CHARS: usize = 1_000;
/// Longest context label.
pub const MAX_LABEL_CHARS: usize = 200;
/// Largest context value, as serialised JSON.
pub const MAX_CONTEXT_VALUE_CHARS: usize = 8_000;
/// Most items in `history`.
pub const MAX_HISTORY_ITEMS: usize = 50;
/// Longest external identifier (`user_id`, `company_id`, `agent_id`).
pub const MAX_ID_CHARS: usize = 255;
/// Longest `user_token`.
pub const MAX_TOKEN_CHARS: usize = 4_096;
/// Session identifiers: 8 to 64 of `[A-Za-z0-9_-]`.
pub const SESSION_ID_CHARS: std::ops::RangeInclusive<usize> = 8..=64;

/// What is wrong with one field of a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidField {
    #[error("is required")]
    Missing,
    #[error("must be {expected}")]
    WrongType { expected: &'static str },
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {max} characters (got {len})")]
    TooLong { max: usize, len: usize },
    #[error("must have at most {max} items (got {len})")]
    TooMany { max: usize, len: usize },
    #[error("must be one of: {allowed}")]
    NotOneOf { allowed: &'static str },
    #[error("{0}")]
    Invalid(&'static str),
}

/// A refused field: its path in the request (`context.billing.label`) and the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{field}` {kind}")]
pub struct FieldError {
    pub field: String,
    pub kind: InvalidField,
}

impl FieldError {
    pub fn new(field: impl Into<String>, kind: InvalidField) -> Self {
        Self {
            field: field.into(),
            kind,
        }
    }

    /// A stable, machine-readable code for API clients.
    pub fn code(&self) -> &'static str {
        match self.kind {
            InvalidField::Missing => "missing_field",
            InvalidField::WrongType { .. } => "invalid_type",
            InvalidField::Empty => "empty_field",
            InvalidField::TooLong { .. } => "too_long",
            InvalidField::TooMany { .. } => "too_many",
            InvalidField::NotOneOf { .. } | InvalidField::Invalid(_) => "invalid_value",
        }
    }
}

/// The channel a conversation happens on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    #[default]
    Chat,
    Voice,
    Video,
    Livehelp,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Chat => "chat",
            Channel::Voice => "voice",
            Channel::Video => "video",
            Channel::Livehelp => "livehelp",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "chat" => Channel::Chat,
            "voice" => Channel::Voice,
            "video" => Channel::Video,
            "livehelp" => Channel::Livehelp,
            _ => return None,
        })
    }
}

/// Who is asking: an anonymous visitor or a user known by the customer's external id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserRef {
    Anonymous,
    External(String),
}

/// The nine kinds of structured context entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ContextType {
    List,
    Integration,
    Error,
    Status,
    Config,
    Feature,
    Metric,
    Relationship,
    Custom,
}

impl ContextType {
    /// What the value of an entry of this type must be, when `value` is not that.
    fn shape_error(self, value: &Value) -> Option<&'static str> {
        use ContextType::*;
        match self {
            List | Integration | Error | Feature | Metric | Relationship
                if !(value.is_array() || value.is_object()) =>
            {
                Some("an array of items (or an object keyed by name) for this context type")
            }
            Config if !value.is_object() => Some("an object of settings for type config"),
            Status if value.is_array() => {
                Some("a string, number, boolean or object for type status")
            }
            _ => None,
        }
    }

    const ALLOWED: &'static str =
        "list, integration, error, status, config, feature, metric, relationship, custom";

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "list" => Self::List,
            "integration" => Self::Integration,
            "error" => Self::Error,
            "status" => Self::Status,
            "config" => Self::Config,
            "feature" => Self::Feature,
            "metric" => Self::Metric,
            "relationship" => Self::Relationship,
            "custom" => Self::Custom,
            _ => return None,
        })
    }
}

/// One structured context entry: a label for humans and the AI, an optional type, a value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContextEntry {
    pub label: String,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<ContextType>,
    pub value: Value,
}

/// Who spoke a line of client-supplied history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Speaker {
    User,
    Assistant,
}

/// One line of client-supplied history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryItem {
    pub speaker: Speaker,
    pub text: String,
}

/// A parsed, bounded chat request. Build it with [`ChatRequest::parse`].
#[derive(Debug, Clone, PartialEq)]
pub struct ChatRequest {
    pub message: String,
    pub user: UserRef,
    pub user_token: Option<String>,
    pub session_id: Option<String>,
    pub company_id: Option<String>,
    pub channel: Channel,
    pub agent_id: Option<String>,
    pub images: Vec<String>,
    pub custom_fields: Map<String, Value>,
    pub context: BTreeMap<String, ContextEntry>,
    pub history: Vec<HistoryItem>,
    pub behavior: Option<String>,
}

impl ChatRequest {
    /// Parses a request body. Unknown top-level fields are ignored so that older servers
    /// accept newer clients; every known field is checked for type and bounds.
    pub fn parse(body: &Value) -> Result<Self, FieldError> {
        Self::parse_inner(body, true)
    }

    /// Parses the body of `POST /api/sdk/sessions`: a chat request without a message (one
    /// that is sent anyway is ignored), which opens a conversation when the widget opens.
    pub fn parse_session(body: &Value) -> Result<Self, FieldError> {
        Self::parse_inner(body, false)
    }

    fn parse_inner(body: &Value, with_message: bool) -> Result<Self, FieldError> {
        let obj = body_object(body)?;
        let get = |k: &str| obj.get(k).filter(|v| !v.is_null());

        let message = match (with_message, get("message")) {
            (false, _) => String::new(),
            (true, None) => return Err(FieldError::new("message", InvalidField::Missing)),
            (true, Some(v)) => bounded_string("message", v, MAX_MESSAGE_CHARS)?,
        };
        if with_message && message.trim().is_empty() {
            return Err(FieldError::new("message", InvalidField::Empty));
        }

        let user = match get("user_id") {
            None => UserRef::Anonymous,
            Some(v) => match identifier("user_id", v)? {
                id if id == "anonymous" => UserRef::Anonymous,
                id => UserRef::External(id),
            },
        };
        let user_token = get("user_token")
            .map(|v| bounded_string("user_token", v, MAX_TOKEN_CHARS))
            .transpose()?;
        let session_id = get("session_id")
            .map(|v| session_id("session_id", v))
            .transpose()?;
        let company_id = get("company_id")
            .map(|v| identifier("company_id", v))
            .transpose()?;
        let agent_id = get("agent_id")
            .map(|v| identifier("agent_id", v))
            .transpose()?;
        let channel = match get("channel") {
            None => Channel::default(),
            Some(v) => {
                let s = v
                    .as_str()
                    .ok_or_else(|| wrong_type("channel", "a string"))?;
                Channel::parse(s).ok_or_else(|| {
                    FieldError::new(
                        "channel",
                        InvalidField::NotOneOf {
                            allowed: "chat, voice, video, livehelp",
                        },
                    )
                })?
            }
        };
        let images = get("images").map(images).transpose()?.unwrap_or_default();
        let custom_fields = get("custom_fields")
            .map(|v| traits("custom_fields", v))
            .transpose()?
            .unwrap_or_default();
        let context = get("context").map(context).transpose()?.unwrap_or_default();
        let history = get("history").map(history).transpose()?.unwrap_or_default();
        let behavior = get("behavior")
            .map(|v| bounded_string("behavior", v, MAX_BEHAVIOR_CHARS))
            .transpose()?;

        Ok(Self {
            message,
            user,
            user_token,
            session_id,
            company_id,
            channel,
            agent_id,
            images,
            custom_fields,
            context,
            history,
            behavior,
        })
    }
}

/// A refusal of `field`: the shorthand the parsers of every request body use.
pub(crate) fn field_error(field: &str, kind: InvalidField) -> FieldError {
    FieldError::new(field, kind)
}

/// The body as a JSON object, or the refusal that names `body`.
pub(crate) fn body_object(body: &Value) -> Result<&Map<String, Value>, FieldError> {
    body.as_object()
        .ok_or_else(|| wrong_type("body", "a JSON object"))
}

pub(crate) fn wrong_type(field: &str, expected: &'static str) -> FieldError {
    FieldError::new(field, InvalidField::WrongType { expected })
}

/// An array of at most `max` items.
pub(crate) fn bounded_array<'v>(
    field: &str,
    v: &'v Value,
    max: usize,
    expected: &'static str,
) -> Result<&'v Vec<Value>, FieldError> {
    let items = v.as_array().ok_or_else(|| wrong_type(field, expected))?;
    if items.len() > max {
        return Err(FieldError::new(
            field,
            InvalidField::TooMany {
                max,
                len: items.len(),
            },
        ));
    }
    Ok(items)
}

/// An object of at most `max` entries.
pub(crate) fn bounded_object<'v>(
    field: &str,
    v: &'v Value,
    max: usize,
    expected: &'static str,
) -> Result<&'v Map<String, Value>, FieldError> {
    let obj = v.as_object().ok_or_else(|| wrong_type(field, expected))?;
    if obj.len() > max {
        return Err(FieldError::new(
            field,
            InvalidField::TooMany {
                max,
                len: obj.len(),
            },
        ));
    }
    Ok(obj)
}

pub fn bounded_string(field: &str, v: &Value, max: usize) -> Result<String, FieldError> {
    let s = v.as_str().ok_or_else(|| wrong_type(field, "a string"))?;
    let len = s.chars().count();
    if len > max {
        return Err(FieldError::new(field, InvalidField::TooLong { max, len }));
    }
    Ok(s.to_owned())
}

pub fn identifier(field: &str, v: &Value) -> Result<String, FieldError> {
    let s = bounded_string(field, v, MAX_ID_CHARS)?;
    if s.trim().is_empty() {
        return Err(FieldError::new(field, InvalidField::Empty));
    }
    if s.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            InvalidField::Invalid("must not contain control characters"),
        ));
    }
    Ok(s)
}

/// Checks a session identifier's shape: 8 to 64 of `[A-Za-z0-9_-]`.
pub fn is_session_id(s: &str) -> bool {
    SESSION_ID_CHARS.contains(&s.len())
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
}

fn session_id(field: &str, v: &Value) -> Result<String, FieldError> {
    let s = v.as_str().ok_or_else(|| wrong_type(field, "a string"))?;
    if is_session_id(s) {
        Ok(s.to_owned())
    } else {
        Err(FieldError::new(
            field,
            InvalidField::Invalid("must be 8 to 64 letters, digits, '-' or '_'"),
        ))
    }
}

fn images(v: &Value) -> Result<Vec<String>, FieldError> {
    let items = bounded_array("images", v, MAX_IMAGES, "an array of strings")?;
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let field = format!("images[{i}]");
            let s = item
                .as_str()
                .ok_or_else(|| wrong_type(&field, "a string"))?;
            let len = s.chars().count();
            if let Some(rest) = s.strip_prefix("data:") {
                let (mime, _) = rest.split_once(";base64,").ok_or_else(|| {
                    FieldError::new(
                        &field,
                        InvalidField::Invalid("a data: URL must be base64 (data:image/…;base64,…)"),
                    )
                })?;
                if !mime.starts_with("image/") {
                    return Err(FieldError::new(
                        &field,
                        InvalidField::Invalid("a data: URL must hold an image/* type"),
                    ));
                }
                if len > MAX_IMAGE_DATA_URL_CHARS {
                    return Err(FieldError::new(
                        &field,
                        InvalidField::TooLong {
                            max: MAX_IMAGE_DATA_URL_CHARS,
                            len,
                        },
                    ));
                }
            } else if s.starts_with("https://") || s.starts_with("http://") {
                if len > MAX_IMAGE_URL_CHARS {
                    return Err(FieldError::new(
                        &field,
                        InvalidField::TooLong {
                            max: MAX_IMAGE_URL_CHARS,
                            len,
                        },
                    ));
                }
                if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
                    return Err(FieldError::new(
                        &field,
                        InvalidField::Invalid("a URL must not contain spaces"),
                    ));
                }
            } else {
                return Err(FieldError::new(
                    &field,
                    InvalidField::Invalid("must be an http(s) URL or a data: URL"),
                ));
            }
            Ok(s.to_owned())
        })
        .collect()
}

fn key(field: &str, k: &str) -> Result<(), FieldError> {
    let len = k.chars().count();
    if len == 0 {
        return Err(FieldError::new(
            field,
            InvalidField::Invalid("keys must not be empty"),
        ));
    }
    if len > MAX_KEY_CHARS {
        return Err(FieldError::new(
            format!("{field}.{k}"),
            InvalidField::Invalid("keys must be at most 64 characters"),
        ));
    }
    if k.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            InvalidField::Invalid("keys must not contain control characters"),
        ));
    }
    Ok(())
}

/// Parses a trait map: string keys to scalar values (string, number, boolean or null).
pub fn traits(field: &str, v: &Value) -> Result<Map<String, Value>, FieldError> {
    let obj = bounded_object(field, v, MAX_CUSTOM_FIELDS, "an object")?;
    for (k, val) in obj {
        key(field, k)?;
        match val {
            Value::String(s) => {
                let len = s.chars().count();
                if len > MAX_TRAIT_VALUE_CHARS {
                    return Err(FieldError::new(
                        format!("{field}.{k}"),
                        InvalidField::TooLong {
                            max: MAX_TRAIT_VALUE_CHARS,
                            len,
                        },
                    ));
                }
            }
            Value::Number(_) | Value::Bool(_) | Value::Null => {}
            _ => {
                return Err(wrong_type(
                    &format!("{field}.{k}"),
                    "a string, number, boolean or null",
                ))
            }
        }
    }
    Ok(obj.clone())
}

pub fn context(v: &Value) -> Result<BTreeMap<String, ContextEntry>, FieldError> {
    let obj = bounded_object("context", v, MAX_CONTEXT_ENTRIES, "an object")?;
    obj.iter()
        .map(|(k, entry)| {
            key("context", k)?;
            let at = |sub: &str| format!("context.{k}.{sub}");
            let e = entry.as_object().ok_or_else(|| {
                wrong_type(&format!("context.{k}"), "an object with label and value")
            })?;
            let label = match e.get("label").filter(|v| !v.is_null()) {
                None => return Err(FieldError::new(at("label"), InvalidField::Missing)),
                Some(v) => bounded_string(&at("label"), v, MAX_LABEL_CHARS)?,
            };
            if label.trim().is_empty() {
                return Err(FieldError::new(at("label"), InvalidField::Empty));
            }
            let kind = match e.get("type").filter(|v| !v.is_null()) {
                None => None,
                Some(v) => {
                    let s = v.as_str().ok_or_else(|| {
                        FieldError::new(
                            at("type"),
                            InvalidField::WrongType {
                                expected: "a string",
                            },
                        )
                    })?;
                    Some(ContextType::parse(s).ok_or_else(|| {
                        FieldError::new(
                            at("type"),
                            InvalidField::NotOneOf {
                                allowed: ContextType::ALLOWED,
                            },
                        )
                    })?)
                }
            };
            let value = e
                .get("value")
                .cloned()
                .ok_or_else(|| FieldError::new(at("value"), InvalidField::Missing))?;
            let len = value.to_string().chars().count();
            if len > MAX_CONTEXT_VALUE_CHARS {
                return Err(FieldError::new(
                    at("value"),
                    InvalidField::TooLong {
                        max: MAX_CONTEXT_VALUE_CHARS,
                        len,
                    },
                ));
            }
            if let Some(expected) = kind.and_then(|t| t.shape_error(&value)) {
                return Err(wrong_type(&at("value"), expected));
            }
            Ok((k.clone(), ContextEntry { label, kind, value }))
        })
        .collect()
}

fn history(v: &Value) -> Result<Vec<HistoryItem>, FieldError> {
    let items = bounded_array("history", v, MAX_HISTORY_ITEMS, "an array")?;
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let at = format!("history[{i}]");
            let o = item
                .as_object()
                .ok_or_else(|| wrong_type(&at, "an object"))?;
            let pick = |a: &str, b: &str| o.get(a).or_else(|| o.get(b)).filter(|v| !v.is_null());
            let who = pick("speaker", "role")
                .ok_or_else(|| FieldError::new(format!("{at}.role"), InvalidField::Missing))?;
            let who = who
                .as_str()
                .ok_or_else(|| wrong_type(&format!("{at}.role"), "a string"))?;
            let speaker = match who.to_ascii_lowercase().as_str() {
                "user" | "customer" | "human" => Speaker::User,
                "assistant" | "ai" | "bot" | "agent" => Speaker::Assistant,
                _ => {
                    return Err(FieldError::new(
                        format!("{at}.role"),
                        InvalidField::NotOneOf {
                            allowed: "user, assistant (or customer, human, ai, bot, agent)",
                        },
                    ))
                }
            };
            let text = pick("text", "content")
                .ok_or_else(|| FieldError::new(format!("{at}.text"), InvalidField::Missing))?;
            let text = bounded_string(&format!("{at}.text"), text, MAX_MESSAGE_CHARS)?;
            Ok(HistoryItem { speaker, text })
        })
        .collect()
}

/// Something the AI did besides answering, reported to the caller and the widget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Action {
    /// The AI could not help and offers to bring in a person.
    OfferHuman { reason: String },
    /// The conversation was escalated: a ticket holds it, with the transcript attached.
    CreateTicket { ticket_id: String, status: String },
    /// Point the user at an element of the host page: the widget scrolls to it, outlines it
    /// and shows the message (the selector is a checked, simple one).
    Highlight { selector: String, message: String },
    /// An outbound action (`file_bug`, `request_refund`) was delivered to the workspace's
    /// webhook, which answered `status`.
    Webhook { tool: String, status: u16 },
}

/// A knowledge source an answer used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Citation {
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// Present when a message went straight to a team instead of the AI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Routed {
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_id: Option<String>,
}

/// The chat endpoint's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatResponse {
    pub text: String,
    pub session_id: String,
    pub agent_id: String,
    pub actions: Vec<Action>,
    pub confidence: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routed: Option<Routed>,
    /// The id of the stored reply (what a rating names); absent when no reply was generated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    #[serde(default)]
    pub citations: Vec<Citation>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err(body: Value) -> FieldError {
        ChatRequest::parse(&body).expect_err("request should be refused")
    }

    #[test]
    fn a_session_request_needs_no_message_but_checks_the_rest() {
        let s = ChatRequest::parse_session(&json!({ "user_id": "u1", "channel": "chat" })).unwrap();
        assert_eq!(
            (s.message.as_str(), &s.user),
            ("", &UserRef::External("u1".into()))
        );
        assert_eq!(
            ChatRequest::parse_session(&json!({})).unwrap().user,
            UserRef::Anonymous
        );
        assert_eq!(
            ChatRequest::parse_session(&json!({ "channel": "fax" }))
                .unwrap_err()
                .field,
            "channel"
        );
        assert_eq!(ChatRequest::parse(&json!({})).unwrap_err().field, "message");
    }

    #[test]
    fn a_minimal_request_is_an_anonymous_chat() {
        let req = ChatRequest::parse(&json!({ "message": "hello" })).unwrap();
        assert_eq!(req.message, "hello");
        assert_eq!(req.user, UserRef::Anonymous);
        assert_eq!(req.channel, Channel::Chat);
        assert!(req.session_id.is_none() && req.images.is_empty() && req.context.is_empty());
    }

    #[test]
    fn every_documented_field_is_read() {
        let req = ChatRequest::parse(&json!({
            "message": "Why is my sync failing?",
            "user_id": "user_42",
            "user_token": "a.b.c",
            "session_id": "sess_0123456789",
            "company_id": "acme",
            "channel": "livehelp",
            "agent_id": "support",
            "images": ["https://example.com/a.png", "data:image/png;base64,iVBORw0KGgo="],
            "custom_fields": { "plan": "pro", "seats": 3, "beta": true, "gone": null },
            "context": { "integrations": { "label": "Connected Integrations", "type": "integration", "value": [{"name": "HubSpot"}] } },
            "history": [{ "speaker": "user", "text": "hi" }, { "role": "assistant", "content": "hello" }],
            "behavior": "visited /billing twice",
            "unknown_future_field": 1
        }))
        .unwrap();
        assert_eq!(req.user, UserRef::External("user_42".into()));
        assert_eq!(req.channel, Channel::Livehelp);
        assert_eq!(req.images.len(), 2);
        assert_eq!(req.custom_fields["seats"], json!(3));
        assert_eq!(
            req.context["integrations"].kind,
            Some(ContextType::Integration)
        );
        assert_eq!(
            req.history[1],
            HistoryItem {
                speaker: Speaker::Assistant,
                text: "hello".into()
            }
        );
        assert_eq!(req.behavior.as_deref(), Some("visited /billing twice"));
    }

    #[test]
    fn anonymous_user_id_means_a_visitor() {
        let req = ChatRequest::parse(&json!({ "message": "x", "user_id": "anonymous" })).unwrap();
        assert_eq!(req.user, UserRef::Anonymous);
    }

    #[test]
    fn a_missing_or_blank_message_is_refused() {
        assert_eq!(
            err(json!({})),
            FieldError::new("message", InvalidField::Missing)
        );
        assert_eq!(err(json!({ "message": "  \n" })).kind, InvalidField::Empty);
        assert_eq!(err(json!({ "message": 5 })).code(), "invalid_type");
    }

    #[test]
    fn message_length_counts_characters_not_bytes() {
        let at_limit = "é".repeat(MAX_MESSAGE_CHARS);
        assert!(ChatRequest::parse(&json!({ "message": at_limit })).is_ok());
        let over = "a".repeat(MAX_MESSAGE_CHARS + 1);
        assert_eq!(
            err(json!({ "message": over })).kind,
            InvalidField::TooLong {
                max: MAX_MESSAGE_CHARS,
                len: MAX_MESSAGE_CHARS + 1
            }
        );
    }

    #[test]
    fn channel_must_be_a_known_one() {
        let e = err(json!({ "message": "x", "channel": "fax" }));
        assert_eq!((e.field.as_str(), e.code()), ("channel", "invalid_value"));
    }

    #[test]
    fn behavior_is_bounded() {
        let e = err(json!({ "message": "x", "behavior": "b".repeat(MAX_BEHAVIOR_CHARS + 1) }));
        assert_eq!((e.field.as_str(), e.code()), ("behavior", "too_long"));
    }

    #[test]
    fn session_ids_have_a_safe_shape() {
        assert_eq!(
            err(json!({ "message": "x", "session_id": "short" })).field,
            "session_id"
        );
        assert_eq!(
            err(json!({ "message": "x", "session_id": "has space 123" })).field,
            "session_id"
        );
        assert!(is_session_id("0b7e6c1a-9f5e-4c1d-8d7a-2a3b4c5d6e7f"));
    }

    #[test]
    fn images_are_urls_or_image_data_urls_and_bounded() {
        let e = err(json!({ "message": "x", "images": ["javascript:alert(1)"] }));
        assert_eq!(e.field, "images[0]");
        let e = err(json!({ "message": "x", "images": ["data:text/html;base64,PGI+"] }));
        assert_eq!(e.field, "images[0]");
        let e = err(
            json!({ "message": "x", "images": ["https://a/1", "https://a/2", "https://a/3", "https://a/4", "https://a/5"] }),
        );
        assert_eq!(e.code(), "too_many");
        let big = format!(
            "data:image/png;base64,{}",
            "A".repeat(MAX_IMAGE_DATA_URL_CHARS)
        );
        assert_eq!(
            err(json!({ "message": "x", "images": [big] })).code(),
            "too_long"
        );
    }

    #[test]
    fn custom_fields_hold_scalars_only() {
        let e = err(json!({ "message": "x", "custom_fields": { "nested": { "a": 1 } } }));
        assert_eq!(
            (e.field.as_str(), e.code()),
            ("custom_fields.nested", "invalid_type")
        );
        let e = err(json!({ "message": "x", "custom_fields": [1] }));
        assert_eq!(e.field, "custom_fields");
    }

    #[test]
    fn context_entries_need_a_label_a_known_type_and_a_value() {
        let e = err(json!({ "message": "x", "context": { "a": { "value": 1 } } }));
        assert_eq!(e, FieldError::new("context.a.label", InvalidField::Missing));
        let e = err(
            json!({ "message": "x", "context": { "a": { "label": "A", "type": "weather", "value": 1 } } }),
        );
        assert_eq!(
            (e.field.as_str(), e.code()),
            ("context.a.type", "invalid_value")
        );
        let e = err(json!({ "message": "x", "context": { "a": { "label": "A" } } }));
        assert_eq!(e.field, "context.a.value");
        let e = err(
            json!({ "message": "x", "context": { "a": { "label": "A", "type": "integration", "value": "ok" } } }),
        );
        assert_eq!(
            (e.field.as_str(), e.code()),
            ("context.a.value", "invalid_type")
        );
        let e = err(
            json!({ "message": "x", "context": { "a": { "label": "A", "type": "config", "value": [1] } } }),
        );
        assert_eq!(e.field, "context.a.value");
    }

    #[test]
    fn history_items_need_a_known_speaker_and_text() {
        let e = err(json!({ "message": "x", "history": [{ "role": "narrator", "text": "t" }] }));
        assert_eq!(e.field, "history[0].role");
        let e = err(json!({ "message": "x", "history": [{ "role": "user" }] }));
        assert_eq!(e.field, "history[0].text");
    }

    #[test]
    fn the_error_message_names_the_field() {
        let e = err(json!({ "message": "x", "user_id": 12 }));
        assert_eq!(e.to_string(), "`user_id` must be a string");
    }

    #[test]
    fn a_response_serialises_without_an_absent_route() {
        let r = ChatResponse {
            text: "t".into(),
            session_id: "s".into(),
            agent_id: "a".into(),
            actions: vec![Action::OfferHuman {
                reason: "no_answer".into(),
            }],
            confidence: 0.5,
            routed: None,
            message_id: None,
            citations: vec![],
        };
        let v = serde_json::to_value(&r).unwrap();
        assert!(v.get("routed").is_none());
        assert_eq!(
            v["actions"][0],
            json!({ "type": "offer_human", "reason": "no_answer" })
        );
    }
}
