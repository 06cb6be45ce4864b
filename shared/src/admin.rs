//! Request bodies of the workspace admin API and the knowledge API, parsed and bounded.

use serde_json::Value;

use crate::chat::{body_object as object, field_error as err, FieldError, InvalidField};

/// Longest workspace name or article title.
pub const MAX_NAME_CHARS: usize = 200;
/// Most allowed origins per workspace.
pub const MAX_ORIGINS: usize = 50;
/// Longest article body, in characters.
pub const MAX_SOURCE_CHARS: usize = 200_000;
/// Longest URL.
pub const MAX_URL_CHARS: usize = 2_048;

fn text(
    field: &str,
    v: Option<&Value>,
    max: usize,
    required: bool,
) -> Result<Option<String>, FieldError> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return if required {
            Err(err(field, InvalidField::Missing))
        } else {
            Ok(None)
        };
    };
    let s = v.as_str().ok_or_else(|| {
        err(
            field,
            InvalidField::WrongType {
                expected: "a string",
            },
        )
    })?;
    let len = s.chars().count();
    if s.trim().is_empty() {
        return Err(err(field, InvalidField::Empty));
    }
    if len > max {
        return Err(err(field, InvalidField::TooLong { max, len }));
    }
    Ok(Some(s.trim().to_owned()))
}

/// An `http(s)://host[:port]` origin, lower-cased, or `*`.
pub fn parse_origin(s: &str) -> Option<String> {
    if s == "*" {
        return Some(s.to_owned());
    }
    let lower = s.trim_end_matches('/').to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))?;
    let valid = !rest.is_empty()
        && rest.len() <= 253
        && rest
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b':' | b'[' | b']'));
    valid.then_some(lower)
}

/// An `http(s)` URL without whitespace.
pub fn parse_url(field: &str, v: Option<&Value>) -> Result<Option<String>, FieldError> {
    let Some(url) = text(field, v, MAX_URL_CHARS, false)? else {
        return Ok(None);
    };
    let ok = (url.starts_with("https://") || url.starts_with("http://"))
        && url.len() > "https://".len()
        && !url.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(Some(url))
    } else {
        Err(err(field, InvalidField::Invalid("must be an http(s) URL")))
    }
}

fn origins(v: &Value) -> Result<Option<Vec<String>>, FieldError> {
    if v.is_null() {
        return Ok(None);
    }
    let items = v.as_array().ok_or_else(|| {
        err(
            "allowed_origins",
            InvalidField::WrongType {
                expected: "an array of origins, or null",
            },
        )
    })?;
    if items.len() > MAX_ORIGINS {
        return Err(err(
            "allowed_origins",
            InvalidField::TooMany {
                max: MAX_ORIGINS,
                len: items.len(),
            },
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, o)| {
            o.as_str().and_then(parse_origin).ok_or_else(|| {
                err(
                    &format!("allowed_origins[{i}]"),
                    InvalidField::Invalid("must be an origin like https://app.example.com, or *"),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// `POST /api/admin/workspaces`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWorkspace {
    pub name: String,
    pub allowed_origins: Option<Vec<String>>,
}

impl NewWorkspace {
    pub fn parse(body: &Value) -> Result<Self, FieldError> {
        let o = object(body)?;
        let name = text("name", o.get("name"), MAX_NAME_CHARS, true)?.unwrap_or_default();
        let allowed_origins = o.get("allowed_origins").map(origins).transpose()?.flatten();
        Ok(Self {
            name,
            allowed_origins,
        })
    }
}

/// `PATCH /api/admin/workspaces/:id`: only the fields present change; `allowed_origins: null`
/// means any origin again.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkspaceUpdate {
    pub name: Option<String>,
    pub allowed_origins: Option<Option<Vec<String>>>,
    /// When on, widget calls that name a user need a valid `user_token`.
    pub identity_verification: Option<bool>,
    /// Priority filters, routing rules and the abandon time.
    pub routing: Option<crate::routing::Routing>,
    /// The active agent's escalation threshold (0..1; 0 never escalates for low confidence).
    pub escalation_threshold: Option<f64>,
    /// Webhooks to set (`Some`) or remove (`None`), by action.
    pub webhooks: Option<std::collections::BTreeMap<String, Option<crate::webhooks::Webhook>>>,
    /// The widget's look: the fields to change (checked here, merged with the stored ones
    /// by [`crate::appearance::Appearance::updated`]).
    pub appearance: Option<Value>,
    /// The setup wizard's progress, likewise ([`crate::settings::Setup::updated`]).
    pub setup: Option<Value>,
    /// The email channel's settings, likewise ([`crate::settings::EmailSettings::updated`]).
    pub email: Option<Value>,
    /// Rate limits, likewise ([`crate::limits::Limits::updated`]).
    pub limits: Option<Value>,
}

impl WorkspaceUpdate {
    pub fn parse(body: &Value) -> Result<Self, FieldError> {
        let o = object(body)?;
        Ok(Self {
            name: text("name", o.get("name"), MAX_NAME_CHARS, false)?,
            allowed_origins: o.get("allowed_origins").map(origins).transpose()?,
            routing: o
                .get("routing")
                .map(crate::routing::Routing::parse)
                .transpose()?,
            webhooks: o.get("webhooks").map(crate::webhooks::parse).transpose()?,
            appearance: match o.get("appearance") {
                None => None,
                Some(v) => {
                    crate::appearance::Appearance::default().updated(v)?;
                    Some(v.clone())
                }
            },
            limits: match o.get("limits") {
                None => None,
                Some(v) => {
                    crate::limits::Limits::default().updated(v)?;
                    Some(v.clone())
                }
            },
            email: match o.get("email") {
                None => None,
                Some(v) => {
                    crate::settings::EmailSettings::default().updated(v)?;
                    Some(v.clone())
                }
            },
            setup: match o.get("setup") {
                None => None,
                Some(v) => {
                    crate::settings::Setup::default().updated(v)?;
                    Some(v.clone())
                }
            },
            escalation_threshold: match o.get("escalation_threshold") {
                None => None,
                Some(v) => Some(v.as_f64().filter(|t| (0.0..=1.0).contains(t)).ok_or_else(
                    || {
                        err(
                            "escalation_threshold",
                            InvalidField::Invalid("must be a number from 0 to 1"),
                        )
                    },
                )?),
            },
            identity_verification: match o.get("identity_verification") {
                None => None,
                Some(Value::Bool(b)) => Some(*b),
                Some(_) => {
                    return Err(err(
                        "identity_verification",
                        InvalidField::WrongType {
                            expected: "a boolean",
                        },
                    ))
                }
            },
        })
    }
}

/// The kinds of document the knowledge API takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    Markdown,
    Text,
    /// Cleaned to text that keeps its headings (see `html::to_text`).
    Html,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Markdown => "markdown",
            SourceKind::Text => "text",
            SourceKind::Html => "html",
        }
    }
}

/// `POST /api/sdk/knowledge/sources`: a document uploaded in the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSource {
    pub title: String,
    pub url: Option<String>,
    pub kind: SourceKind,
    pub content: String,
}

impl NewSource {
    pub fn parse(body: &Value) -> Result<Self, FieldError> {
        let o = object(body)?;
        let kind = match text("kind", o.get("kind"), 20, false)?.as_deref() {
            None | Some("markdown") => SourceKind::Markdown,
            Some("text") => SourceKind::Text,
            Some("html") => SourceKind::Html,
            Some(_) => {
                return Err(err(
                    "kind",
                    InvalidField::NotOneOf {
                        allowed: "markdown, text, html",
                    },
                ))
            }
        };
        let content =
            text("content", o.get("content"), MAX_SOURCE_CHARS, true)?.unwrap_or_default();
        // An HTML page may be titled by its own <title>.
        let title = match text(
            "title",
            o.get("title"),
            MAX_NAME_CHARS,
            kind != SourceKind::Html,
        )? {
            Some(t) => t,
            None => crate::html::title(&content)
                .map(|t| t.chars().take(MAX_NAME_CHARS).collect())
                .ok_or_else(|| err("title", InvalidField::Missing))?,
        };
        let url = parse_url("url", o.get("url"))?;
        Ok(Self {
            title,
            url,
            kind,
            content,
        })
    }

    /// The document as text with markdown headings, ready to chunk.
    pub fn text(&self) -> String {
        match self.kind {
            SourceKind::Html => crate::html::to_text(&self.content),
            SourceKind::Markdown | SourceKind::Text => self.content.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_workspace_needs_a_name() {
        assert_eq!(NewWorkspace::parse(&json!({})).unwrap_err().field, "name");
        let ws = NewWorkspace::parse(&json!({ "name": " Acme " })).unwrap();
        assert_eq!(
            ws,
            NewWorkspace {
                name: "Acme".into(),
                allowed_origins: None
            }
        );
    }

    #[test]
    fn origins_are_normalised_and_checked() {
        let ws = NewWorkspace::parse(&json!({ "name": "A", "allowed_origins": ["https://App.Example.com/", "http://127.0.0.1:3000"] })).unwrap();
        assert_eq!(
            ws.allowed_origins,
            Some(vec![
                "https://app.example.com".into(),
                "http://127.0.0.1:3000".into()
            ])
        );
        let e =
            NewWorkspace::parse(&json!({ "name": "A", "allowed_origins": ["https://a.com/path"] }))
                .unwrap_err();
        assert_eq!(e.field, "allowed_origins[0]");
        assert_eq!(parse_origin("javascript:alert(1)"), None);
    }

    #[test]
    fn an_update_distinguishes_absent_from_null() {
        let u = WorkspaceUpdate::parse(&json!({ "allowed_origins": null })).unwrap();
        assert_eq!(u.allowed_origins, Some(None));
        let u = WorkspaceUpdate::parse(&json!({ "name": "B" })).unwrap();
        assert_eq!((u.name.as_deref(), u.allowed_origins), (Some("B"), None));
        let u = WorkspaceUpdate::parse(
            &json!({ "escalation_threshold": 0.4, "routing": { "abandon_after_seconds": 60 } }),
        )
        .unwrap();
        assert_eq!(u.escalation_threshold, Some(0.4));
        assert_eq!(u.routing.unwrap().abandon_after_seconds, 60);
        for bad in [json!(1.5), json!("0.3"), json!(null)] {
            assert_eq!(
                WorkspaceUpdate::parse(&json!({ "escalation_threshold": bad }))
                    .unwrap_err()
                    .field,
                "escalation_threshold"
            );
        }
        let u = WorkspaceUpdate::parse(&json!({ "identity_verification": true })).unwrap();
        assert_eq!(u.identity_verification, Some(true));
        assert_eq!(
            WorkspaceUpdate::parse(&json!({ "identity_verification": "yes" }))
                .unwrap_err()
                .field,
            "identity_verification"
        );
    }

    #[test]
    fn a_source_needs_title_and_content_and_a_known_kind() {
        assert_eq!(
            NewSource::parse(&json!({ "content": "x" }))
                .unwrap_err()
                .field,
            "title"
        );
        assert_eq!(
            NewSource::parse(&json!({ "title": "t" }))
                .unwrap_err()
                .field,
            "content"
        );
        let e =
            NewSource::parse(&json!({ "title": "t", "content": "c", "kind": "pdf" })).unwrap_err();
        assert_eq!((e.field.as_str(), e.code()), ("kind", "invalid_value"));
        let e = NewSource::parse(&json!({ "title": "t", "content": "c", "url": "ftp://x" }))
            .unwrap_err();
        assert_eq!(e.field, "url");
        let s = NewSource::parse(&json!({ "title": "t", "content": "c", "url": "https://h/a" }))
            .unwrap();
        assert_eq!(s.kind, SourceKind::Markdown);
    }
}
