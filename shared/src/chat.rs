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
/// Largest structured (object or array) trait value, as serialised JSON.
pub const MAX_TRAIT_JSON_CHARS: usize = 4_000;
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
    /// Email: set by the email channel itself, never taken from a request.
    Email,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Chat => "chat",
            Channel::Voice => "voice",
            Channel::Video => "video",
            Channel::Livehelp => "livehelp",
            Channel::Email => "email",
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

impl UserRef {
    /// The customer's id for the user; `None` for an anonymous visitor.
    pub fn external_id(&self) -> Option<&str> {
        match self {
            UserRef::External(id) => Some(id),
            UserRef::Anonymous => None,
        }
    }
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
    const ALLOWED: &'static str =
        "list, integration, error, status, config, feature, metric, relationship, custom";

    /// The type a name names; `None` for a name that is not one of the nine.
    pub fn parse(s: &str) -> Option<Self> {
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

/// Something attached to a request (a trait, a context entry) that was left out or read
/// differently, while the request itself was served: the answer's `warnings`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    /// Where it was: `context.billing`, `custom_fields.notes`.
    pub field: String,
    /// A stable, machine-readable code (the codes of [`FieldError::code`], and `unknown_type`).
    pub code: String,
    pub message: String,
}

/// Most warnings one answer lists; the rest are counted.
pub const MAX_WARNINGS: usize = 20;

/// Collects a request's warnings: the first [`MAX_WARNINGS`], and how many more there were,
/// so a request with a thousand bad entries costs neither memory nor a stored record.
#[derive(Debug, Default)]
pub struct Warnings {
    list: Vec<Warning>,
    more: usize,
}

impl Warnings {
    pub fn push(&mut self, w: Warning) {
        if self.list.len() < MAX_WARNINGS {
            self.list.push(w);
        } else {
            self.more += 1;
        }
    }

    pub fn extend(&mut self, all: impl IntoIterator<Item = Warning>) {
        all.into_iter().for_each(|w| self.push(w));
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The warnings listed, and one that counts those that were not.
    pub fn into_vec(mut self) -> Vec<Warning> {
        if self.more > 0 {
            self.list.push(Warning {
                field: "warnings".into(),
                code: "too_many".into(),
                message: format!(
                    "{} more warnings of the same kind were not listed",
                    self.more
                ),
            });
        }
        self.list
    }
}

/// `field.key`, or `key` at the top level of a body.
fn path(field: &str, k: &str) -> String {
    if field.is_empty() {
        k.to_owned()
    } else {
        format!("{field}.{k}")
    }
}

impl Warning {
    /// `e`'s part of the request was left out.
    pub fn dropped(e: &FieldError) -> Self {
        Self {
            field: e.field.clone(),
            code: e.code().to_owned(),
            message: format!("{e}; it was left out and the rest of the request was used"),
        }
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
    /// What of `custom_fields`, `context`, `history` and `behavior` was left out or cut, and
    /// why.
    pub warnings: Vec<Warning>,
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
        // The data the page attached never costs the message: what cannot be used is left
        // out with a warning.
        let mut warnings = Warnings::default();
        let custom_fields = get("custom_fields")
            .map(|v| traits("custom_fields", v, &mut warnings))
            .unwrap_or_default();
        let context = get("context")
            .map(|v| context("context", v, &mut warnings))
            .unwrap_or_default();
        let history = get("history")
            .map(|v| history(v, &mut warnings))
            .unwrap_or_default();
        let behavior = get("behavior").and_then(|v| behavior(v, &mut warnings));

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
            warnings: warnings.into_vec(),
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
            InvalidField::Invalid("has an entry whose key is empty"),
        ));
    }
    if len > MAX_KEY_CHARS {
        return Err(FieldError::new(
            path(field, k),
            InvalidField::Invalid("keys must be at most 64 characters"),
        ));
    }
    if k.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            InvalidField::Invalid("has an entry whose key holds control characters"),
        ));
    }
    Ok(())
}

/// Why one trait cannot be kept: its key, or a value over the size limits. Any JSON value
/// is a trait value: strings up to [`MAX_TRAIT_VALUE_CHARS`], structures up to
/// [`MAX_TRAIT_JSON_CHARS`] of JSON.
fn trait_problem(field: &str, k: &str, val: &Value) -> Result<(), FieldError> {
    key(field, k)?;
    too_deep(&path(field, k), val)?;
    let (len, max) = match val {
        Value::String(s) => (s.chars().count(), MAX_TRAIT_VALUE_CHARS),
        Value::Array(_) | Value::Object(_) => {
            (val.to_string().chars().count(), MAX_TRAIT_JSON_CHARS)
        }
        _ => return Ok(()),
    };
    if len > max {
        return Err(FieldError::new(
            path(field, k),
            InvalidField::TooLong { max, len },
        ));
    }
    Ok(())
}

/// Deepest nesting a request body keeps (the JSON parser stops at 128): a value nested
/// deeper is replaced by [`TOO_DEEP`] by [`parse_body`], and the trait or context entry that
/// holds it is left out with a warning, while the request is served.
pub const MAX_BODY_DEPTH: usize = 64;
/// What stands for a value nested past [`MAX_BODY_DEPTH`].
pub const TOO_DEEP: &str = "\u{1}nested too deep";

/// A request body as JSON, or `None` when it is not JSON. Values nested past
/// [`MAX_BODY_DEPTH`] are replaced by [`TOO_DEEP`] (a body nested 200 levels deep is still
/// valid JSON, and the message beside it must be heard).
pub fn parse_body(bytes: &[u8]) -> Option<Value> {
    match serde_json::from_slice(bytes) {
        Ok(v) => Some(v),
        Err(e) if e.to_string().contains("recursion limit") => {
            serde_json::from_slice(&shallow(bytes, MAX_BODY_DEPTH)).ok()
        }
        Err(_) => None,
    }
}

/// `json` with each array or object that opens past `max` levels replaced by the string
/// [`TOO_DEEP`] (escaped as JSON). Strings are skipped whole, escapes and all.
fn shallow(json: &[u8], max: usize) -> Vec<u8> {
    let marker = serde_json::to_string(TOO_DEEP).unwrap_or_default();
    let mut out = Vec::with_capacity(json.len());
    let (mut depth, mut skip_from) = (0usize, None::<usize>);
    let (mut in_string, mut escaped) = (false, false);
    for &b in json {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else {
            match b {
                b'"' => in_string = true,
                b'[' | b'{' => {
                    depth += 1;
                    if depth > max && skip_from.is_none() {
                        skip_from = Some(depth);
                        out.extend_from_slice(marker.as_bytes());
                    }
                }
                b']' | b'}' => {
                    let closing = skip_from == Some(depth);
                    depth = depth.saturating_sub(1);
                    if closing {
                        skip_from = None;
                        continue;
                    }
                }
                _ => {}
            }
        }
        if skip_from.is_none() {
            out.push(b);
        }
    }
    out
}

/// Deepest nesting of one trait or context value: stored inside a contact's JSON and read
/// back by the same parser, it must stay well under the parser's 128.
pub const MAX_VALUE_DEPTH: usize = 32;

/// Refuses a value nested past [`MAX_VALUE_DEPTH`] (or holding [`TOO_DEEP`], which only a
/// deeper one does).
fn too_deep(at: &str, v: &Value) -> Result<(), FieldError> {
    fn depth(v: &Value) -> usize {
        match v {
            Value::String(s) if s == TOO_DEEP => usize::MAX,
            Value::Array(a) => a.iter().map(depth).max().unwrap_or(0).saturating_add(1),
            Value::Object(o) => o.values().map(depth).max().unwrap_or(0).saturating_add(1),
            _ => 0,
        }
    }
    if depth(v) > MAX_VALUE_DEPTH {
        return Err(FieldError::new(
            at,
            InvalidField::Invalid("is nested more than 32 levels deep"),
        ));
    }
    Ok(())
}

/// The entries of the object `v` that `read` can keep, at most `max` of them. What it cannot
/// keep, the entries past `max` (counted under `count_field`), and a `v` that is not an
/// object are left out with a warning.
fn keep_entries<T>(
    field: &str,
    count_field: &str,
    v: &Value,
    max: usize,
    warnings: &mut Warnings,
    mut read: impl FnMut(&str, &Value, &mut Warnings) -> Result<T, FieldError>,
) -> Vec<(String, T)> {
    let Some(obj) = v.as_object() else {
        warnings.push(Warning::dropped(&wrong_type(field, "an object")));
        return Vec::new();
    };
    let mut out = Vec::new();
    for (k, val) in obj {
        if out.len() == max {
            let len = obj.len();
            let e = FieldError::new(count_field, InvalidField::TooMany { max, len });
            let left = obj.keys().skip_while(|other| *other != k).count();
            warnings.push(Warning {
                message: format!(
                    "{e}; the first {max} usable ones were kept and the last {left} left out"
                ),
                ..Warning::dropped(&e)
            });
            break;
        }
        match read(k, val, warnings) {
            Ok(kept) => out.push((k.clone(), kept)),
            Err(e) => warnings.push(Warning::dropped(&e)),
        }
    }
    out
}

/// Reads a trait map (keys to any JSON value; `null` removes a trait where traits are
/// stored). What cannot be kept (a bad key, a value over the limits, keys past
/// [`MAX_CUSTOM_FIELDS`], a map that is not an object) is left out with a warning.
pub fn traits(field: &str, v: &Value, warnings: &mut Warnings) -> Map<String, Value> {
    let count_field = if field.is_empty() { "traits" } else { field };
    keep_entries(
        field,
        count_field,
        v,
        MAX_CUSTOM_FIELDS,
        warnings,
        |k, val, _| trait_problem(field, k, val).map(|()| val.clone()),
    )
    .into_iter()
    .collect()
}

/// [`traits`] for a caller that must refuse what it cannot keep (a ticket's fields).
pub fn strict_traits(field: &str, v: &Value) -> Result<Map<String, Value>, FieldError> {
    let obj = bounded_object(field, v, MAX_CUSTOM_FIELDS, "an object")?;
    for (k, val) in obj {
        trait_problem(field, k, val)?;
    }
    Ok(obj.clone())
}

/// Reads one context entry `{ label, type?, value }` at `at`. The value may be any JSON
/// value, whatever the type; an unknown type is read as `custom` (with a warning). An entry
/// without a usable label or value, or over the size limits, is refused.
fn context_entry(at: &str, entry: &Value) -> Result<(ContextEntry, Option<Warning>), FieldError> {
    let e = entry
        .as_object()
        .ok_or_else(|| wrong_type(at, "an object with label and value"))?;
    let sub = |s: &str| format!("{at}.{s}");
    let label = match e.get("label").filter(|v| !v.is_null()) {
        None => return Err(FieldError::new(sub("label"), InvalidField::Missing)),
        Some(v) => bounded_string(&sub("label"), v, MAX_LABEL_CHARS)?,
    };
    if label.trim().is_empty() {
        return Err(FieldError::new(sub("label"), InvalidField::Empty));
    }
    let value = e
        .get("value")
        .cloned()
        .ok_or_else(|| FieldError::new(sub("value"), InvalidField::Missing))?;
    too_deep(&sub("value"), &value)?;
    let len = value.to_string().chars().count();
    if len > MAX_CONTEXT_VALUE_CHARS {
        return Err(FieldError::new(
            sub("value"),
            InvalidField::TooLong {
                max: MAX_CONTEXT_VALUE_CHARS,
                len,
            },
        ));
    }
    let (kind, warning) = match e.get("type").filter(|v| !v.is_null()) {
        None => (None, None),
        Some(t) => match t.as_str().and_then(ContextType::parse) {
            Some(kind) => (Some(kind), None),
            None => (
                Some(ContextType::Custom),
                Some(Warning {
                    field: sub("type"),
                    code: "unknown_type".into(),
                    message: format!(
                        "`{}` is not one of: {}; the entry was kept as custom",
                        sub("type"),
                        ContextType::ALLOWED
                    ),
                }),
            ),
        },
    };
    Ok((ContextEntry { label, kind, value }, warning))
}

/// Reads context entries (`field` names the map: `context`, `set`). Entries that cannot be
/// kept (see [`context_entry`]; bad keys; entries past [`MAX_CONTEXT_ENTRIES`]; a map that
/// is not an object) are left out with a warning, and the rest is kept.
pub fn context(field: &str, v: &Value, warnings: &mut Warnings) -> BTreeMap<String, ContextEntry> {
    keep_entries(
        field,
        field,
        v,
        MAX_CONTEXT_ENTRIES,
        warnings,
        |k, entry, warnings| {
            let (e, warning) =
                key(field, k).and_then(|()| context_entry(&path(field, k), entry))?;
            warnings.extend(warning);
            Ok(e)
        },
    )
    .into_iter()
    .collect()
}

/// Reads client-supplied history: the lines that can be used, the last
/// [`MAX_HISTORY_ITEMS`] of them (the most recent matter most). A line without a known
/// speaker or a text, or with a text over [`MAX_MESSAGE_CHARS`], and a `history` that is not
/// an array, are left out with a warning.
fn history(v: &Value, warnings: &mut Warnings) -> Vec<HistoryItem> {
    let Some(items) = v.as_array() else {
        warnings.push(Warning::dropped(&wrong_type("history", "an array")));
        return Vec::new();
    };
    let mut kept: Vec<HistoryItem> = items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| {
            history_item(&format!("history[{i}]"), item)
                .map_err(|e| warnings.push(Warning::dropped(&e)))
                .ok()
        })
        .collect();
    if kept.len() > MAX_HISTORY_ITEMS {
        let len = kept.len();
        let e = FieldError::new(
            "history",
            InvalidField::TooMany {
                max: MAX_HISTORY_ITEMS,
                len,
            },
        );
        warnings.push(Warning {
            message: format!(
                "{e}; the last {MAX_HISTORY_ITEMS} usable lines were kept and the first {} left out",
                len - MAX_HISTORY_ITEMS
            ),
            ..Warning::dropped(&e)
        });
        kept.drain(..len - MAX_HISTORY_ITEMS);
    }
    kept
}

fn history_item(at: &str, item: &Value) -> Result<HistoryItem, FieldError> {
    let o = item
        .as_object()
        .ok_or_else(|| wrong_type(at, "an object"))?;
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
}

/// Reads `behavior`: a text over [`MAX_BEHAVIOR_CHARS`] keeps its first characters, and one
/// that is not a string is left out, each with a warning.
fn behavior(v: &Value, warnings: &mut Warnings) -> Option<String> {
    let Some(text) = v.as_str() else {
        warnings.push(Warning::dropped(&wrong_type("behavior", "a string")));
        return None;
    };
    let len = text.chars().count();
    if len > MAX_BEHAVIOR_CHARS {
        let e = FieldError::new(
            "behavior",
            InvalidField::TooLong {
                max: MAX_BEHAVIOR_CHARS,
                len,
            },
        );
        warnings.push(Warning {
            message: format!("{e}; its first {MAX_BEHAVIOR_CHARS} characters were kept"),
            ..Warning::dropped(&e)
        });
        return Some(text.chars().take(MAX_BEHAVIOR_CHARS).collect());
    }
    Some(text.to_owned())
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

/// Why a person is offered or a ticket opened: the `reason` of `offer_human` actions and of
/// tickets.
pub mod reason {
    /// The user asked for a person.
    pub const USER_REQUESTED: &str = "user_requested";
    /// The question needs something only the team can do.
    pub const NEEDS_TEAM: &str = "needs_team";
    /// Nothing in the knowledge base answers it.
    pub const NO_ANSWER: &str = "no_answer";
    /// Answering failed for a reason of ours (a model, the index).
    pub const ENGINE_FAILED: &str = "engine_failed";
    /// The answer was below the agent's confidence threshold.
    pub const LOW_CONFIDENCE: &str = "low_confidence";
    /// A routing rule sent the message straight to a team.
    pub const ROUTING_RULE: &str = "routing_rule";
    /// A teammate took the conversation over.
    pub const TAKEN_OVER: &str = "taken_over";
}

impl Action {
    /// The `type` of an [`Action::OfferHuman`].
    pub const OFFER_HUMAN: &'static str = "offer_human";
    /// The `type` of an [`Action::Highlight`].
    pub const HIGHLIGHT: &'static str = "highlight";
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
    /// [`Routed::TAKEN_OVER`] or [`Routed::TO_TEAM`].
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_id: Option<String>,
}

impl Routed {
    /// A teammate has the conversation: the AI stayed quiet.
    pub const TAKEN_OVER: &'static str = "taken_over";
    /// A routing rule sent the message straight to a team.
    pub const TO_TEAM: &'static str = "routed_to_team";
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
    /// What of the request's traits and context was left out, and why (absent when nothing).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Warning>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_type_names_are_the_ones_serialised() {
        let offer = Action::OfferHuman {
            reason: "no_answer".into(),
        };
        let highlight = Action::Highlight {
            selector: "#plan".into(),
            message: "Here".into(),
        };
        assert_eq!(
            serde_json::to_value(offer).unwrap()["type"],
            Action::OFFER_HUMAN
        );
        assert_eq!(
            serde_json::to_value(highlight).unwrap()["type"],
            Action::HIGHLIGHT
        );
    }
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
    fn a_long_behavior_keeps_its_first_characters_and_a_bad_one_is_left_out() {
        let long = format!("{}END", "b".repeat(MAX_BEHAVIOR_CHARS));
        let req = parsed(json!({ "message": "x", "behavior": long }));
        assert_eq!(req.behavior.as_deref(), Some(&long[..MAX_BEHAVIOR_CHARS]));
        assert_eq!(warned(&req), [("behavior", "too_long")]);
        let req = parsed(json!({ "message": "x", "behavior": { "clicks": 3 } }));
        assert_eq!(req.behavior, None);
        assert_eq!(warned(&req), [("behavior", "invalid_type")]);
        let req = parsed(json!({ "message": "x", "behavior": "b".repeat(MAX_BEHAVIOR_CHARS) }));
        assert_eq!(req.behavior.map(|b| b.len()), Some(MAX_BEHAVIOR_CHARS));
        assert!(req.warnings.is_empty());
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

    fn parsed(body: Value) -> ChatRequest {
        ChatRequest::parse(&body).expect("the message is served")
    }

    fn warned(req: &ChatRequest) -> Vec<(&str, &str)> {
        req.warnings
            .iter()
            .map(|w| (w.field.as_str(), w.code.as_str()))
            .collect()
    }

    #[test]
    fn custom_fields_take_any_json_value_and_leave_out_only_what_is_too_big() {
        let req = parsed(json!({ "message": "x", "custom_fields": {
            "address": { "city": "Lyon", "zip": "69001" },
            "tags": ["vip", 3, null],
            "notes": "n".repeat(MAX_TRAIT_VALUE_CHARS + 1),
        } }));
        assert_eq!(req.custom_fields["address"]["city"], json!("Lyon"));
        assert_eq!(req.custom_fields["tags"], json!(["vip", 3, null]));
        assert!(!req.custom_fields.contains_key("notes"));
        assert_eq!(warned(&req), [("custom_fields.notes", "too_long")]);
        let req = parsed(json!({ "message": "x", "custom_fields": [1] }));
        assert_eq!(warned(&req), [("custom_fields", "invalid_type")]);
        assert!(req.custom_fields.is_empty());
    }

    #[test]
    fn too_many_traits_or_entries_keep_the_first_ones() {
        let many: Map<String, Value> = (0..MAX_CUSTOM_FIELDS + 5)
            .map(|i| (format!("k{i:03}"), json!(i)))
            .collect();
        let req = parsed(json!({ "message": "x", "custom_fields": many }));
        assert_eq!(req.custom_fields.len(), MAX_CUSTOM_FIELDS);
        assert_eq!(warned(&req), [("custom_fields", "too_many")]);
        let ctx: Map<String, Value> = (0..MAX_CONTEXT_ENTRIES + 1)
            .map(|i| (format!("e{i:03}"), json!({ "label": "L", "value": i })))
            .collect();
        let req = parsed(json!({ "message": "x", "context": ctx }));
        assert_eq!(req.context.len(), MAX_CONTEXT_ENTRIES);
        assert_eq!(warned(&req), [("context", "too_many")]);
    }

    #[test]
    fn a_context_value_of_any_shape_is_kept_for_every_type() {
        let shapes = [
            json!("12 of 40"),
            json!({ "state": "delayed", "carrier": { "name": "DHL" } }),
            json!("Ship to the billing address"),
            json!(["plain", { "name": "object" }, [1, 2]]),
            json!(null),
            json!(false),
            json!(3.5),
        ];
        for kind in ContextType::ALLOWED.split(", ") {
            for value in &shapes {
                let req = parsed(
                    json!({ "message": "x", "context": { "a": { "label": "A", "type": kind, "value": value } } }),
                );
                assert!(
                    req.warnings.is_empty(),
                    "{kind} {value}: {:?}",
                    req.warnings
                );
                assert_eq!(&req.context["a"].value, value);
            }
        }
    }

    #[test]
    fn a_thousand_bad_entries_give_a_bounded_list_of_warnings() {
        let bad: Map<String, Value> = (0..1000).map(|i| (format!("k{i}"), json!(i))).collect();
        let req = parsed(json!({ "message": "x", "context": bad }));
        assert_eq!(req.warnings.len(), MAX_WARNINGS + 1);
        let last = req.warnings.last().unwrap();
        assert_eq!(
            (last.field.as_str(), last.code.as_str()),
            ("warnings", "too_many")
        );
        assert!(last.message.starts_with("980 more"), "{}", last.message);
    }

    #[test]
    fn a_value_nested_past_the_parsers_limit_costs_its_entry_not_the_message() {
        let deep = |n: usize| format!("{}1{}", "[".repeat(n), "]".repeat(n));
        let body = format!(
            r#"{{"message":"where is my parcel? [[\" \\\\ ]]","context":{{"deep":{{"label":"Deep","value":{}}},"ok":{{"label":"OK","value":[[2]]}}}},"custom_fields":{{"t":{},"plan":"pro"}}}}"#,
            deep(200),
            deep(130)
        );
        assert!(
            serde_json::from_str::<Value>(&body).is_err(),
            "the parser's own limit"
        );
        let req = ChatRequest::parse(&parse_body(body.as_bytes()).expect("served")).unwrap();
        assert_eq!(req.message, r#"where is my parcel? [[" \\ ]]"#);
        assert_eq!(req.context.keys().collect::<Vec<_>>(), ["ok"]);
        assert_eq!(req.context["ok"].value, json!([[2]]));
        assert_eq!(req.custom_fields.keys().collect::<Vec<_>>(), ["plan"]);
        let mut got = warned(&req);
        got.sort();
        assert_eq!(
            got,
            [
                ("context.deep.value", "invalid_value"),
                ("custom_fields.t", "invalid_value")
            ]
        );
        // A value nested past what is stored costs its entry too, below the parser's limit.
        let req = ChatRequest::parse(&json!({ "message": "x",
            "custom_fields": { "t": serde_json::from_str::<Value>(&deep(MAX_VALUE_DEPTH + 1)).unwrap(),
                               "u": serde_json::from_str::<Value>(&deep(MAX_VALUE_DEPTH)).unwrap() } }))
        .unwrap();
        assert_eq!(req.custom_fields.keys().collect::<Vec<_>>(), ["u"]);
        // Within the limit, nothing changes; what is not JSON is still refused.
        assert_eq!(
            parse_body(deep(100).as_bytes()),
            serde_json::from_str(&deep(100)).ok()
        );
        assert_eq!(parse_body(b"{\"a\": [}"), None);
    }

    #[test]
    fn warnings_say_which_entries_were_left_out() {
        let many: Map<String, Value> = (0..MAX_CONTEXT_ENTRIES + 10)
            .map(|i| (format!("k{i:03}"), json!({ "label": "L", "value": i })))
            .collect();
        let req =
            parsed(json!({ "message": "x", "context": many, "custom_fields": { "": 1, "ok": 2 } }));
        assert_eq!(req.context.len(), MAX_CONTEXT_ENTRIES);
        let said: Vec<&str> = req.warnings.iter().map(|w| w.message.as_str()).collect();
        assert!(
            said.iter().any(|m| m.contains(&format!(
                "the first {MAX_CONTEXT_ENTRIES} usable ones were kept and the last 10 left out"
            ))),
            "{said:?}"
        );
        assert!(
            said.iter()
                .any(|m| m.contains("has an entry whose key is empty; it was left out")),
            "{said:?}"
        );
        assert_eq!(req.custom_fields.keys().collect::<Vec<_>>(), ["ok"]);
    }

    #[test]
    fn an_unknown_type_is_read_as_custom_with_a_warning() {
        let req = parsed(
            json!({ "message": "x", "context": { "a": { "label": "A", "type": "weather", "value": 1 } } }),
        );
        assert_eq!(req.context["a"].kind, Some(ContextType::Custom));
        assert_eq!(warned(&req), [("context.a.type", "unknown_type")]);
    }

    #[test]
    fn malformed_context_entries_are_left_out_and_the_others_kept() {
        let req = parsed(json!({ "message": "x", "context": {
            "good": { "label": "Good", "value": 1 },
            "no_label": { "value": 1 },
            "blank_label": { "label": "  ", "value": 1 },
            "no_value": { "label": "A" },
            "not_an_object": "hello",
            "too_big": { "label": "B", "value": "v".repeat(MAX_CONTEXT_VALUE_CHARS) },
        } }));
        assert_eq!(req.context.keys().collect::<Vec<_>>(), ["good"]);
        let mut got = warned(&req);
        got.sort();
        assert_eq!(
            got,
            [
                ("context.blank_label.label", "empty_field"),
                ("context.no_label.label", "missing_field"),
                ("context.no_value.value", "missing_field"),
                ("context.not_an_object", "invalid_type"),
                ("context.too_big.value", "too_long"),
            ]
        );
        let req = parsed(json!({ "message": "x", "context": "everything is fine" }));
        assert_eq!(warned(&req), [("context", "invalid_type")]);
    }

    #[test]
    fn history_lines_without_a_known_speaker_or_a_text_are_left_out_and_the_rest_kept() {
        let req = parsed(json!({ "message": "x", "history": [
            { "role": "narrator", "text": "t" },
            { "role": "user" },
            "hello",
            { "role": "user", "text": "m".repeat(MAX_MESSAGE_CHARS + 1) },
            { "role": "customer", "content": "my parcel?" },
        ] }));
        assert_eq!(
            req.history,
            [HistoryItem {
                speaker: Speaker::User,
                text: "my parcel?".into()
            }]
        );
        assert_eq!(
            warned(&req),
            [
                ("history[0].role", "invalid_value"),
                ("history[1].text", "missing_field"),
                ("history[2]", "invalid_type"),
                ("history[3].text", "too_long"),
            ]
        );
        let req = parsed(json!({ "message": "x", "history": "we talked before" }));
        assert!(req.history.is_empty());
        assert_eq!(warned(&req), [("history", "invalid_type")]);
    }

    #[test]
    fn a_long_history_keeps_its_most_recent_lines() {
        let lines: Vec<Value> = (0..MAX_HISTORY_ITEMS + 5)
            .map(|i| json!({ "role": "user", "text": format!("line {i}") }))
            .collect();
        let req = parsed(json!({ "message": "x", "history": lines }));
        assert_eq!(req.history.len(), MAX_HISTORY_ITEMS);
        assert_eq!(req.history[0].text, "line 5");
        assert_eq!(
            req.history.last().map(|h| h.text.as_str()),
            Some(format!("line {}", MAX_HISTORY_ITEMS + 4).as_str())
        );
        assert_eq!(warned(&req), [("history", "too_many")]);
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
            warnings: vec![],
        };
        let v = serde_json::to_value(&r).unwrap();
        assert!(v.get("routed").is_none());
        assert_eq!(
            v["actions"][0],
            json!({ "type": "offer_human", "reason": "no_answer" })
        );
    }
}
