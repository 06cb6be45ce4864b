//! The tools an agent's model may call (its enabled skills), their wire definitions for the
//! OpenAI and Anthropic APIs, checking a call's arguments, and the messages that carry tool
//! results back to the model.

use serde_json::{json, Value};

use crate::llm::{Completion, PromptMessage, ToolCall};

/// Most model calls in one answer: tool rounds plus the final answer.
pub const MAX_STEPS: usize = 4;
/// Longest selector or on-page message of a highlight.
pub const MAX_SELECTOR_CHARS: usize = 200;
pub const MAX_HIGHLIGHT_MESSAGE_CHARS: usize = 280;

/// A tool as the model sees it.
pub struct ToolSpec {
    pub name: &'static str,
    pub description: &'static str,
    pub parameters: fn() -> Value,
}

fn string_props(props: &[(&str, &str)], required: &[&str]) -> Value {
    let properties: serde_json::Map<String, Value> = props
        .iter()
        .map(|(k, d)| {
            (
                (*k).to_owned(),
                json!({ "type": "string", "description": d }),
            )
        })
        .collect();
    json!({ "type": "object", "properties": properties, "required": required })
}

const TOOLS: &[ToolSpec] = &[
    ToolSpec {
        name: "search_knowledge",
        description: "Search the help articles for passages about a topic. Use it when the passages you were given do not answer the question.",
        parameters: || string_props(&[("query", "What to look up, in a few words")], &["query"]),
    },
    ToolSpec {
        name: "highlight",
        description: "Point the user at an element of the page they are on: the widget scrolls to it, outlines it and shows your short message next to it. Give a halo_id (the element's data-halo-id) or a simple CSS selector (#id, .class, tag, [data-halo-id=\"…\"]).",
        parameters: || {
            string_props(
                &[
                    ("halo_id", "The element's data-halo-id, if you know it"),
                    ("selector", "A simple CSS selector, if there is no halo_id"),
                    ("message", "One short sentence shown next to the element"),
                ],
                &["message"],
            )
        },
    },
    ToolSpec {
        name: "create_ticket",
        description: "Open a ticket for the support team with this conversation attached, when the user needs follow-up you cannot give.",
        parameters: || string_props(&[("reason", "Why the team should follow up")], &["reason"]),
    },
    ToolSpec {
        name: "escalate",
        description: "Hand the conversation to a person on the team now (the user asked, or the rules say so).",
        parameters: || string_props(&[("reason", "Why a person should take over")], &["reason"]),
    },
    ToolSpec {
        name: "file_bug",
        description: "Report a product bug the user ran into, with what they saw.",
        parameters: || {
            string_props(
                &[("title", "The bug in one line"), ("details", "What happened and where")],
                &["title"],
            )
        },
    },
    ToolSpec {
        name: "request_refund",
        description: "Ask the billing team for a refund for the user.",
        parameters: || {
            string_props(
                &[("reason", "Why the refund is due"), ("amount", "The amount, if the user said")],
                &["reason"],
            )
        },
    },
];

/// The specs of the enabled skills, in a stable order.
pub fn enabled(skills: &[String]) -> Vec<&'static ToolSpec> {
    TOOLS
        .iter()
        .filter(|t| skills.iter().any(|s| s == t.name))
        .collect()
}

/// `tools` for an OpenAI chat-completions request.
pub fn openai_tools(specs: &[&ToolSpec]) -> Value {
    Value::Array(
        specs
            .iter()
            .map(|t| json!({ "type": "function", "function": { "name": t.name, "description": t.description, "parameters": (t.parameters)() } }))
            .collect(),
    )
}

/// `tools` for an Anthropic Messages request.
pub fn anthropic_tools(specs: &[&ToolSpec]) -> Value {
    Value::Array(
        specs
            .iter()
            .map(|t| json!({ "name": t.name, "description": t.description, "input_schema": (t.parameters)() }))
            .collect(),
    )
}

/// A tool call, checked.
#[derive(Debug, Clone, PartialEq)]
pub enum Call {
    SearchKnowledge {
        query: String,
    },
    Highlight {
        selector: String,
        message: String,
    },
    CreateTicket {
        reason: String,
    },
    Escalate {
        reason: String,
    },
    FileBug {
        title: String,
        details: String,
    },
    RequestRefund {
        reason: String,
        amount: Option<String>,
    },
}

fn arg(call: &ToolCall, k: &str, max: usize) -> Option<String> {
    call.arguments
        .get(k)
        .and_then(Value::as_str)
        .map(|s| {
            crate::context::clean(s)
                .chars()
                .take(max)
                .collect::<String>()
        })
        .filter(|s| !s.trim().is_empty())
}

/// Why a model's tool call was refused: its text is told to the model as the tool's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError {
    /// The agent does not have the tool enabled.
    NotAvailable(String),
    /// No such tool.
    Unknown(String),
    /// A required argument is missing or empty.
    Missing(&'static str),
    /// A highlight names neither a halo id nor a selector.
    NoTarget,
    /// A halo id with characters other than letters, digits, `-`, `_`, `.` and `:`.
    BadHaloId,
    /// A selector that is not a simple one.
    BadSelector(String),
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::NotAvailable(name) => write!(f, "the tool {name:?} is not available"),
            CallError::Unknown(name) => write!(f, "unknown tool {name:?}"),
            CallError::Missing(k) => write!(f, "{k} is required"),
            CallError::NoTarget => f.write_str("give a halo_id or a selector"),
            CallError::BadHaloId => {
                f.write_str("a halo_id is letters, digits, '-', '_', '.' or ':'")
            }
            CallError::BadSelector(s) => write!(
                f,
                "{s:?} is not a simple selector (#id, .class, tag, [data-halo-id=\"…\"])"
            ),
        }
    }
}

impl Call {
    /// Checks a model's call against the enabled skills and each tool's arguments; the error
    /// is told to the model as the tool's result.
    pub fn parse(call: &ToolCall, skills: &[String]) -> Result<Self, CallError> {
        if !skills.iter().any(|s| s == &call.name) {
            return Err(CallError::NotAvailable(call.name.clone()));
        }
        let need = |k: &'static str, max: usize| arg(call, k, max).ok_or(CallError::Missing(k));
        Ok(match call.name.as_str() {
            "search_knowledge" => Call::SearchKnowledge {
                query: need("query", 300)?,
            },
            "highlight" => {
                let selector = match (
                    arg(call, "halo_id", 100),
                    arg(call, "selector", MAX_SELECTOR_CHARS),
                ) {
                    (Some(id), _) => halo_id_selector(&id)?,
                    (None, Some(s)) => valid_selector(&s)?,
                    (None, None) => return Err(CallError::NoTarget),
                };
                Call::Highlight {
                    selector,
                    message: need("message", MAX_HIGHLIGHT_MESSAGE_CHARS)?,
                }
            }
            "create_ticket" => Call::CreateTicket {
                reason: need("reason", 500)?,
            },
            "escalate" => Call::Escalate {
                reason: need("reason", 500)?,
            },
            "file_bug" => Call::FileBug {
                title: need("title", 200)?,
                details: arg(call, "details", 2_000).unwrap_or_default(),
            },
            "request_refund" => Call::RequestRefund {
                reason: need("reason", 500)?,
                amount: arg(call, "amount", 50),
            },
            other => return Err(CallError::Unknown(other.to_owned())),
        })
    }
}

/// `[data-halo-id="…"]` for a halo id of letters, digits, `-`, `_`, `.` and `:`.
pub fn halo_id_selector(id: &str) -> Result<String, CallError> {
    let ok = !id.is_empty()
        && id.len() <= 100
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'));
    if ok {
        Ok(format!("[data-halo-id=\"{id}\"]"))
    } else {
        Err(CallError::BadHaloId)
    }
}

/// Accepts only simple selectors: compounds of a tag, `#id`, `.class` and
/// `[data-halo-id="…"]`, joined by a space or `>`. No pseudo-classes, other attributes or
/// lists: a highlight can find an element, nothing else.
pub fn valid_selector(s: &str) -> Result<String, CallError> {
    let s = s.trim();
    let refuse = || Err(CallError::BadSelector(s.to_owned()));
    if s.is_empty() || s.len() > MAX_SELECTOR_CHARS {
        return refuse();
    }
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    let mut rest = s;
    let mut compound_empty = true;
    while !rest.is_empty() {
        let c = rest.chars().next().unwrap_or(' ');
        if c == ' ' || c == '>' {
            if compound_empty {
                return refuse();
            }
            rest = rest.trim_start_matches([' ', '>']);
            compound_empty = true;
            continue;
        }
        let after = if c == '#' || c == '.' {
            let body = &rest[1..];
            let n = body.find(|ch: char| !ident(ch)).unwrap_or(body.len());
            if n == 0 {
                return refuse();
            }
            &body[n..]
        } else if let Some(inner) = rest.strip_prefix("[data-halo-id=") {
            let Some(end) = inner.find(']') else {
                return refuse();
            };
            let value = inner[..end].trim_matches('"');
            if halo_id_selector(value).is_err() {
                return refuse();
            }
            &inner[end + 1..]
        } else if c.is_ascii_alphabetic() && compound_empty {
            let n = rest.find(|ch: char| !ident(ch)).unwrap_or(rest.len());
            &rest[n..]
        } else {
            return refuse();
        };
        rest = after;
        compound_empty = false;
    }
    if compound_empty {
        return refuse();
    }
    Ok(s.to_owned())
}

/// The messages that carry one round of tool use back to an OpenAI-compatible model: the
/// assistant's calls, then one `tool` message per result.
pub fn openai_round(c: &Completion, results: &[String]) -> Vec<Value> {
    let calls: Vec<Value> = c
        .tool_calls
        .iter()
        .map(|t| json!({ "id": t.id, "type": "function", "function": { "name": t.name, "arguments": t.arguments.to_string() } }))
        .collect();
    let mut out = vec![
        json!({ "role": "assistant", "content": if c.text.is_empty() { Value::Null } else { json!(c.text) }, "tool_calls": calls }),
    ];
    out.extend(
        c.tool_calls
            .iter()
            .zip(results)
            .map(|(t, r)| json!({ "role": "tool", "tool_call_id": t.id, "content": r })),
    );
    out
}

/// The same for Anthropic: an assistant turn of `tool_use` blocks, then a user turn of
/// `tool_result` blocks.
pub fn anthropic_round(c: &Completion, results: &[String]) -> Vec<Value> {
    let mut blocks: Vec<Value> = Vec::new();
    if !c.text.is_empty() {
        blocks.push(json!({ "type": "text", "text": c.text }));
    }
    blocks.extend(
        c.tool_calls.iter().map(
            |t| json!({ "type": "tool_use", "id": t.id, "name": t.name, "input": t.arguments }),
        ),
    );
    let results: Vec<Value> = c
        .tool_calls
        .iter()
        .zip(results)
        .map(|(t, r)| json!({ "type": "tool_result", "tool_use_id": t.id, "content": r }))
        .collect();
    vec![
        json!({ "role": "assistant", "content": blocks }),
        json!({ "role": "user", "content": results }),
    ]
}

/// Prompt messages as JSON values, to which tool rounds are appended.
pub fn as_values(messages: &[PromptMessage]) -> Vec<Value> {
    messages
        .iter()
        .map(|m| json!({ "role": m.role, "content": m.content }))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(name: &str, arguments: Value) -> ToolCall {
        ToolCall {
            id: "c1".into(),
            name: name.into(),
            arguments,
        }
    }

    fn all() -> Vec<String> {
        crate::agents::SKILLS
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    #[test]
    fn selectors_are_simple_or_refused() {
        for ok in [
            "#billing",
            ".plan-card",
            "button",
            "nav > a.primary",
            "#settings .row",
            "[data-halo-id=\"upgrade\"]",
            "div[data-halo-id=plan]",
        ] {
            assert_eq!(valid_selector(ok).as_deref(), Ok(ok), "{ok}");
        }
        for bad in [
            "",
            "a:hover",
            "img[src=x]",
            "a, b",
            "*",
            "#a > ",
            "> a",
            "body /deep/ x",
            "a::before",
            "[data-halo-id=\"x\" i]",
            "#",
            ".",
            "a\tb",
            "[onclick]",
            "<script>",
        ] {
            assert!(valid_selector(bad).is_err(), "{bad:?} should be refused");
        }
        assert_eq!(
            halo_id_selector("plan-card").unwrap(),
            "[data-halo-id=\"plan-card\"]"
        );
        assert!(halo_id_selector("x\"] body [y").is_err());
    }

    #[test]
    fn calls_are_checked_against_skills_and_arguments() {
        let skills = all();
        assert_eq!(
            Call::parse(
                &call(
                    "highlight",
                    json!({ "halo_id": "upgrade", "message": "Click here" })
                ),
                &skills
            ),
            Ok(Call::Highlight {
                selector: "[data-halo-id=\"upgrade\"]".into(),
                message: "Click here".into()
            })
        );
        assert!(Call::parse(
            &call(
                "highlight",
                json!({ "selector": "a:hover", "message": "x" })
            ),
            &skills
        )
        .is_err());
        assert!(Call::parse(&call("highlight", json!({ "message": "x" })), &skills).is_err());
        assert!(Call::parse(&call("escalate", json!({})), &skills).is_err());
        assert!(
            Call::parse(
                &call("highlight", json!({ "halo_id": "a", "message": "x" })),
                &["search_knowledge".into()]
            )
            .is_err(),
            "not enabled"
        );
        assert!(Call::parse(&call("rm_rf", json!({})), &skills).is_err());
        assert_eq!(
            Call::parse(
                &call("search_knowledge", json!({ "query": "refunds" })),
                &skills
            ),
            Ok(Call::SearchKnowledge {
                query: "refunds".into()
            })
        );
    }

    #[test]
    fn tools_are_offered_in_each_apis_shape_and_rounds_carry_results_back() {
        let specs = enabled(&["highlight".into(), "escalate".into()]);
        let o = openai_tools(&specs);
        assert_eq!(o[0]["type"], "function");
        assert_eq!(o[0]["function"]["name"], "highlight");
        assert_eq!(
            o[0]["function"]["parameters"]["required"],
            json!(["message"])
        );
        let a = anthropic_tools(&specs);
        assert_eq!(a[1]["name"], "escalate");
        assert_eq!(a[1]["input_schema"]["type"], "object");

        let c = Completion {
            text: String::new(),
            tool_calls: vec![call("search_knowledge", json!({ "query": "q" }))],
            tokens: 0,
        };
        let round = openai_round(&c, &["found it".into()]);
        assert_eq!(
            round[0]["tool_calls"][0]["function"]["arguments"],
            "{\"query\":\"q\"}"
        );
        assert_eq!(round[0]["content"], Value::Null);
        assert_eq!(
            round[1],
            json!({ "role": "tool", "tool_call_id": "c1", "content": "found it" })
        );
        let round = anthropic_round(&c, &["found it".into()]);
        assert_eq!(round[0]["content"][0]["type"], "tool_use");
        assert_eq!(
            round[1]["content"][0],
            json!({ "type": "tool_result", "tool_use_id": "c1", "content": "found it" })
        );
    }
}
