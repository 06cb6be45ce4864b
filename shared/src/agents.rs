//! Agents: configurable personas. A workspace has several (say a support agent and a sales
//! agent), each with instructions, enabled skills (the tools the model may call), channels, an
//! escalation threshold and rules, and an LLM choice. One is active; a chat request's
//! `agent_id` pins a conversation to another.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::chat::{body_object, bounded_string, Channel, FieldError, InvalidField};

pub const MAX_AGENT_NAME_CHARS: usize = 100;
pub const MAX_INSTRUCTIONS_CHARS: usize = 8_000;
pub const MAX_RULES: usize = 20;
pub const MAX_RULE_CHARS: usize = 500;
pub const MAX_MODEL_CHARS: usize = 200;

/// The skills an agent can enable: each is a tool the model may call.
pub const SKILLS: &[&str] = &[
    "search_knowledge",
    "highlight",
    "create_ticket",
    "escalate",
    "file_bug",
    "request_refund",
];

/// The channels an agent can serve.
pub const CHANNELS: &[&str] = &["chat", "voice", "video", "livehelp", "email"];

/// The LLM providers an agent can choose. `default` is whatever the deployment configured.
pub const PROVIDERS: &[&str] = &["default", "offline", "openai", "anthropic", "workers-ai"];

/// An agent as the API answers it (`GET /api/sdk/agents`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentView {
    pub agent_id: String,
    pub name: String,
    pub instructions: String,
    pub active: bool,
    pub skills: Vec<String>,
    pub channels: Vec<String>,
    pub rules: Vec<String>,
    pub llm: LlmChoice,
    pub escalation_threshold: f64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// An agent's model choice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LlmChoice {
    pub provider: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

impl Default for LlmChoice {
    fn default() -> Self {
        Self {
            provider: "default".into(),
            model: None,
        }
    }
}

/// The fields an agent is created or changed with; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AgentFields {
    pub name: Option<String>,
    pub instructions: Option<String>,
    pub skills: Option<Vec<String>>,
    pub channels: Option<Vec<String>>,
    pub escalation_threshold: Option<f64>,
    pub rules: Option<Vec<String>>,
    pub llm: Option<LlmChoice>,
    /// `true` makes it the workspace's active agent.
    pub active: Option<bool>,
}

fn string_list(
    field: &str,
    v: &Value,
    max: usize,
    max_chars: usize,
    allowed: Option<(&[&str], &'static str)>,
) -> Result<Vec<String>, FieldError> {
    let items = v.as_array().ok_or_else(|| {
        FieldError::new(
            field,
            InvalidField::WrongType {
                expected: "an array of strings",
            },
        )
    })?;
    if items.len() > max {
        return Err(FieldError::new(
            field,
            InvalidField::TooMany {
                max,
                len: items.len(),
            },
        ));
    }
    let mut out: Vec<String> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let at = format!("{field}[{i}]");
        let s = bounded_string(&at, item, max_chars)?;
        if s.trim().is_empty() {
            return Err(FieldError::new(at, InvalidField::Empty));
        }
        if let Some((allowed, names)) = allowed {
            if !allowed.contains(&s.as_str()) {
                return Err(FieldError::new(
                    at,
                    InvalidField::NotOneOf { allowed: names },
                ));
            }
        }
        if !out.contains(&s) {
            out.push(s.trim().to_owned());
        }
    }
    Ok(out)
}

impl AgentFields {
    /// Parses a create (`require_name`) or update body. Unknown fields are refused, so a typo
    /// does not silently change nothing.
    pub fn parse(body: &Value, require_name: bool) -> Result<Self, FieldError> {
        let o = body_object(body)?;
        const KNOWN: &[&str] = &[
            "name",
            "instructions",
            "skills",
            "channels",
            "escalation_threshold",
            "rules",
            "llm",
            "active",
        ];
        if let Some(k) = o.keys().find(|k| !KNOWN.contains(&k.as_str())) {
            return Err(FieldError::new(
                k.as_str(),
                InvalidField::Invalid("is not an agent field"),
            ));
        }
        let get = |k: &str| o.get(k).filter(|v| !v.is_null());
        let text = |k: &str, max: usize| -> Result<Option<String>, FieldError> {
            get(k)
                .map(|v| {
                    let s = bounded_string(k, v, max)?;
                    if s.trim().is_empty() {
                        Err(FieldError::new(k, InvalidField::Empty))
                    } else {
                        Ok(s.trim().to_owned())
                    }
                })
                .transpose()
        };
        let name = text("name", MAX_AGENT_NAME_CHARS)?;
        if require_name && name.is_none() {
            return Err(FieldError::new("name", InvalidField::Missing));
        }
        let channels = get("channels")
            .map(|v| {
                string_list(
                    "channels",
                    v,
                    CHANNELS.len(),
                    16,
                    Some((CHANNELS, "chat, voice, video, livehelp, email")),
                )
            })
            .transpose()?;
        if channels.as_ref().is_some_and(Vec::is_empty) {
            return Err(FieldError::new("channels", InvalidField::Empty));
        }
        Ok(Self {
            name,
            instructions: text("instructions", MAX_INSTRUCTIONS_CHARS)?,
            skills: get("skills")
                .map(|v| {
                    string_list(
                        "skills",
                        v,
                        SKILLS.len(),
                        32,
                        Some((
                            SKILLS,
                            "search_knowledge, highlight, create_ticket, escalate, file_bug, request_refund",
                        )),
                    )
                })
                .transpose()?,
            channels,
            escalation_threshold: match get("escalation_threshold") {
                None => None,
                Some(v) => Some(v.as_f64().filter(|t| (0.0..=1.0).contains(t)).ok_or_else(
                    || {
                        FieldError::new(
                            "escalation_threshold",
                            InvalidField::Invalid("must be a number from 0 to 1"),
                        )
                    },
                )?),
            },
            rules: get("rules")
                .map(|v| string_list("rules", v, MAX_RULES, MAX_RULE_CHARS, None))
                .transpose()?,
            llm: get("llm").map(parse_llm).transpose()?,
            active: match get("active") {
                None => None,
                Some(Value::Bool(b)) => Some(*b),
                Some(_) => {
                    return Err(FieldError::new(
                        "active",
                        InvalidField::WrongType {
                            expected: "a boolean",
                        },
                    ))
                }
            },
        })
    }
}

fn parse_llm(v: &Value) -> Result<LlmChoice, FieldError> {
    let o: &Map<String, Value> = v.as_object().ok_or_else(|| {
        FieldError::new(
            "llm",
            InvalidField::WrongType {
                expected: "an object { provider, model? }",
            },
        )
    })?;
    let provider = o
        .get("provider")
        .and_then(Value::as_str)
        .ok_or_else(|| FieldError::new("llm.provider", InvalidField::Missing))?;
    if !PROVIDERS.contains(&provider) {
        return Err(FieldError::new(
            "llm.provider",
            InvalidField::NotOneOf {
                allowed: "default, offline, openai, anthropic, workers-ai",
            },
        ));
    }
    let model = o
        .get("model")
        .filter(|v| !v.is_null())
        .map(|v| bounded_string("llm.model", v, MAX_MODEL_CHARS))
        .transpose()?
        .filter(|m| !m.trim().is_empty());
    Ok(LlmChoice {
        provider: provider.to_owned(),
        model,
    })
}

/// Whether an agent serves `channel` (its `channels` as stored, JSON).
pub fn serves(channels_json: &str, channel: Channel) -> bool {
    serde_json::from_str::<Vec<String>>(channels_json)
        .map(|list| list.iter().any(|c| c == channel.as_str()))
        .unwrap_or(true)
}

/// The agent's instructions with its escalation rules, as the model reads them.
pub fn instructions_with_rules(instructions: &str, rules: &[String]) -> String {
    let mut s = instructions.trim().to_owned();
    if !rules.is_empty() {
        s.push_str("\n\nEscalation rules (when one applies, offer to bring in a person):");
        for r in rules {
            s.push_str("\n- ");
            s.push_str(&crate::context::clean(r));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_full_agent_parses_and_duplicates_collapse() {
        let a = AgentFields::parse(
            &json!({
                "name": "Sales", "instructions": "Sell kindly.",
                "skills": ["highlight", "search_knowledge", "highlight"],
                "channels": ["chat"], "escalation_threshold": 0.4,
                "rules": ["Discounts over 20% need a person"],
                "llm": { "provider": "anthropic", "model": "claude-3-5-haiku-latest" },
                "active": true
            }),
            true,
        )
        .unwrap();
        assert_eq!(a.skills.unwrap(), ["highlight", "search_knowledge"]);
        assert_eq!(a.llm.unwrap().provider, "anthropic");
        assert_eq!(a.active, Some(true));
        assert_eq!(a.escalation_threshold, Some(0.4));
    }

    #[test]
    fn bad_agents_are_refused_with_the_field() {
        let cases = [
            (json!({}), true, "name"),
            (json!({ "name": " " }), true, "name"),
            (json!({ "name": "x", "skills": ["fly"] }), true, "skills[0]"),
            (json!({ "channels": [] }), false, "channels"),
            (json!({ "channels": ["fax"] }), false, "channels[0]"),
            (
                json!({ "escalation_threshold": 3 }),
                false,
                "escalation_threshold",
            ),
            (
                json!({ "llm": { "provider": "skynet" } }),
                false,
                "llm.provider",
            ),
            (json!({ "llm": {} }), false, "llm.provider"),
            (json!({ "active": "yes" }), false, "active"),
            (json!({ "nmae": "typo" }), false, "nmae"),
            (
                json!({ "rules": ["x".repeat(MAX_RULE_CHARS + 1)] }),
                false,
                "rules[0]",
            ),
        ];
        for (body, create, field) in cases {
            assert_eq!(
                AgentFields::parse(&body, create).unwrap_err().field,
                field,
                "{body}"
            );
        }
        assert_eq!(
            AgentFields::parse(&json!({}), false).unwrap(),
            AgentFields::default()
        );
    }

    #[test]
    fn channels_and_rules_shape_what_the_agent_does() {
        assert!(serves(r#"["chat","voice"]"#, Channel::Voice));
        assert!(!serves(r#"["voice"]"#, Channel::Chat));
        assert_eq!(instructions_with_rules("Help.", &[]), "Help.");
        assert_eq!(
            instructions_with_rules("Help.", &["Refunds over $500 need a person".into()]),
            "Help.\n\nEscalation rules (when one applies, offer to bring in a person):\n- Refunds over $500 need a person"
        );
    }
}
