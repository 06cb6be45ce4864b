//! Where escalations go: a workspace's priority filters, its routing rules (segment rules that
//! pick a team or teammate, and direct-to-team rules that skip the AI) and how long an idle
//! conversation waits before it counts as abandoned.
//!
//! Stored as one JSON document per workspace and set with `PATCH /api/admin/workspaces/:id`
//! `{ "routing": { ... } }`:
//!
//! ```json
//! {
//!   "priority_filters": [ { "attribute": "plan", "op": "eq", "value": "enterprise" } ],
//!   "rules": [
//!     { "name": "Billing", "when": [ { "attribute": "message", "op": "contains", "value": "invoice" } ],
//!       "team": "Billing", "assignee": null, "direct": true, "reply": "Our billing team will reply here." }
//!   ],
//!   "abandon_after_seconds": 1800
//! }
//! ```
//!
//! A condition's attribute is a user trait (`plan`), a company trait (`company.plan`), the
//! message text (`message`) or the channel (`channel`). A conversation idle for
//! `abandon_after_seconds` (default 30 minutes) without an outcome is Abandoned. A user is
//! priority when any filter matches; a rule applies when all its conditions match, and the first such rule wins.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::chat::{FieldError, InvalidField};

/// Most filters, rules, and conditions per rule.
pub const MAX_FILTERS: usize = 20;
pub const MAX_RULES: usize = 50;
pub const MAX_CONDITIONS: usize = 10;
/// The default and the bounds of `abandon_after_seconds`.
pub const DEFAULT_ABANDON_SECONDS: u32 = 30 * 60;
pub const MAX_ABANDON_SECONDS: u32 = 7 * 24 * 60 * 60;
const MAX_TEXT: usize = 500;

/// The operators a condition can use, as the API names them.
pub const OPS: &[&str] = &["eq", "neq", "contains", "in", "exists", "gt", "lt"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Eq,
    Neq,
    Contains,
    In,
    Exists,
    Gt,
    Lt,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Condition {
    pub attribute: String,
    pub op: Op,
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    pub name: String,
    pub when: Vec<Condition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    /// Route the message straight to the team, with no AI answer.
    #[serde(default)]
    pub direct: bool,
    /// What the user is told when a direct rule routes their message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Routing {
    #[serde(default)]
    pub priority_filters: Vec<Condition>,
    #[serde(default)]
    pub rules: Vec<Rule>,
    #[serde(default = "default_abandon")]
    pub abandon_after_seconds: u32,
}

fn default_abandon() -> u32 {
    DEFAULT_ABANDON_SECONDS
}

impl Default for Routing {
    fn default() -> Self {
        Self {
            priority_filters: Vec::new(),
            rules: Vec::new(),
            abandon_after_seconds: DEFAULT_ABANDON_SECONDS,
        }
    }
}

/// What a condition is tested against.
pub struct Subject<'a> {
    pub user: &'a Map<String, Value>,
    pub company: Option<&'a Map<String, Value>>,
    pub message: &'a str,
    pub channel: &'a str,
}

impl Subject<'_> {
    fn get(&self, attribute: &str) -> Option<Value> {
        match attribute {
            "message" => Some(Value::String(self.message.to_owned())),
            "channel" => Some(Value::String(self.channel.to_owned())),
            a => match a.strip_prefix("company.") {
                Some(k) => self.company?.get(k).cloned(),
                None => self.user.get(a).cloned(),
            },
        }
        .filter(|v| !v.is_null())
    }
}

fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.to_lowercase()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn as_number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

impl Condition {
    pub fn matches(&self, s: &Subject<'_>) -> bool {
        let actual = s.get(&self.attribute);
        let same = |a: &Value, b: &Value| as_text(a).is_some() && as_text(a) == as_text(b);
        match (self.op, actual) {
            (Op::Exists, a) => a.is_some(),
            (_, None) => self.op == Op::Neq,
            (Op::Eq, Some(a)) => same(&a, &self.value),
            (Op::Neq, Some(a)) => !same(&a, &self.value),
            (Op::Contains, Some(a)) => match (&a, as_text(&self.value)) {
                (Value::Array(items), Some(want)) => items
                    .iter()
                    .any(|i| as_text(i).as_deref() == Some(want.as_str())),
                (a, Some(want)) => as_text(a).is_some_and(|t| t.contains(&want)),
                _ => false,
            },
            (Op::In, Some(a)) => self
                .value
                .as_array()
                .is_some_and(|list| list.iter().any(|v| same(&a, v))),
            (Op::Gt, Some(a)) => {
                matches!((as_number(&a), as_number(&self.value)), (Some(x), Some(y)) if x > y)
            }
            (Op::Lt, Some(a)) => {
                matches!((as_number(&a), as_number(&self.value)), (Some(x), Some(y)) if x < y)
            }
        }
    }
}

impl Routing {
    /// Reads a stored document; anything unreadable is the default (stored documents were
    /// validated on the way in).
    pub fn from_stored(s: Option<&str>) -> Self {
        s.and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or_default()
    }

    /// Whether the user matches any priority filter.
    pub fn is_priority(&self, s: &Subject<'_>) -> bool {
        self.priority_filters.iter().any(|c| c.matches(s))
    }

    /// The first rule whose conditions all hold.
    pub fn rule_for(&self, s: &Subject<'_>) -> Option<&Rule> {
        self.rules
            .iter()
            .find(|r| r.when.iter().all(|c| c.matches(s)))
    }

    /// Validates a `routing` document from the admin API.
    pub fn parse(v: &Value) -> Result<Self, FieldError> {
        let bad =
            |field: String, why: &'static str| FieldError::new(field, InvalidField::Invalid(why));
        let o = v.as_object().ok_or_else(|| {
            FieldError::new(
                "routing",
                InvalidField::WrongType {
                    expected: "an object",
                },
            )
        })?;
        for k in o.keys() {
            if !["priority_filters", "rules", "abandon_after_seconds"].contains(&k.as_str()) {
                return Err(bad(format!("routing.{k}"), "is not a routing setting"));
            }
        }
        let routing: Routing = serde_json::from_value(v.clone()).map_err(|_| {
            bad(
                "routing".into(),
                "must be { priority_filters?: [condition], rules?: [rule], abandon_after_seconds?: number }, where a condition is { attribute, op: eq|neq|contains|in|exists|gt|lt, value } and a rule is { name, when: [condition], team?, assignee?, direct?, reply? }",
            )
        })?;
        if routing.priority_filters.len() > MAX_FILTERS {
            return Err(bad(
                "routing.priority_filters".into(),
                "has too many filters (at most 20)",
            ));
        }
        if routing.rules.len() > MAX_RULES {
            return Err(bad(
                "routing.rules".into(),
                "has too many rules (at most 50)",
            ));
        }
        if !(1..=MAX_ABANDON_SECONDS).contains(&routing.abandon_after_seconds) {
            return Err(bad(
                "routing.abandon_after_seconds".into(),
                "must be between 1 and 604800 (a week)",
            ));
        }
        let conditions = routing
            .priority_filters
            .iter()
            .map(|c| ("routing.priority_filters".to_owned(), c))
            .chain(routing.rules.iter().enumerate().flat_map(|(i, r)| {
                r.when
                    .iter()
                    .map(move |c| (format!("routing.rules[{i}].when"), c))
            }));
        for (at, c) in conditions {
            if c.attribute.trim().is_empty() || c.attribute.len() > 100 {
                return Err(bad(at, "names a condition without an attribute"));
            }
            if c.op == Op::In && !c.value.is_array() {
                return Err(bad(at, "uses `in` without an array value"));
            }
            if !matches!(c.op, Op::Exists | Op::Neq) && c.value.is_null() {
                return Err(bad(at, "has a condition without a value"));
            }
        }
        for (i, r) in routing.rules.iter().enumerate() {
            let at = |f: &str| format!("routing.rules[{i}].{f}");
            if r.name.trim().is_empty() || r.name.len() > MAX_TEXT {
                return Err(bad(at("name"), "must be a non-empty name"));
            }
            if r.when.is_empty() || r.when.len() > MAX_CONDITIONS {
                return Err(bad(at("when"), "needs 1 to 10 conditions"));
            }
            if r.team.is_none() && r.assignee.is_none() {
                return Err(bad(
                    at("team"),
                    "a rule routes to a team, an assignee or both",
                ));
            }
            let long = |s: &Option<String>| s.as_ref().is_some_and(|s| s.len() > MAX_TEXT);
            if long(&r.team) || long(&r.assignee) || long(&r.reply) {
                return Err(bad(at("reply"), "is too long (at most 500 characters)"));
            }
        }
        Ok(routing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn subject<'a>(
        user: &'a Map<String, Value>,
        company: Option<&'a Map<String, Value>>,
        message: &'a str,
    ) -> Subject<'a> {
        Subject {
            user,
            company,
            message,
            channel: "chat",
        }
    }

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn priority_filters_match_traits_and_company_traits() {
        let routing = Routing::parse(&json!({
            "priority_filters": [
                { "attribute": "plan", "op": "eq", "value": "Enterprise" },
                { "attribute": "company.seats", "op": "gt", "value": 100 }
            ]
        }))
        .unwrap();
        let enterprise = map(json!({ "plan": "enterprise" }));
        let pro = map(json!({ "plan": "pro" }));
        let big = map(json!({ "seats": "250" }));
        let small = map(json!({ "seats": 3 }));
        assert!(routing.is_priority(&subject(&enterprise, None, "hi")));
        assert!(!routing.is_priority(&subject(&pro, Some(&small), "hi")));
        assert!(routing.is_priority(&subject(&pro, Some(&big), "hi")));
        assert!(!routing.is_priority(&subject(&Map::new(), None, "hi")));
    }

    #[test]
    fn the_first_rule_whose_conditions_all_hold_wins() {
        let routing = Routing::parse(&json!({
            "rules": [
                { "name": "VIP billing", "when": [
                    { "attribute": "message", "op": "contains", "value": "invoice" },
                    { "attribute": "plan", "op": "in", "value": ["enterprise", "scale"] } ],
                  "assignee": "tm-1" },
                { "name": "Billing", "when": [ { "attribute": "message", "op": "contains", "value": "INVOICE" } ],
                  "team": "Billing", "direct": true },
                { "name": "Beta", "when": [ { "attribute": "beta", "op": "exists" } ], "team": "Labs" }
            ]
        }))
        .unwrap();
        let scale = map(json!({ "plan": "scale" }));
        let free = map(json!({ "plan": "free" }));
        let beta = map(json!({ "beta": true }));
        let name = |u: &Map<String, Value>, m: &str| {
            routing
                .rule_for(&subject(u, None, m))
                .map(|r| r.name.clone())
        };
        assert_eq!(
            name(&scale, "Where is my Invoice?").as_deref(),
            Some("VIP billing")
        );
        assert_eq!(
            name(&free, "Where is my invoice?").as_deref(),
            Some("Billing")
        );
        assert_eq!(name(&beta, "hello").as_deref(), Some("Beta"));
        assert_eq!(name(&free, "hello"), None);
        assert!(routing.rules[1].direct);
    }

    #[test]
    fn bad_documents_are_refused_with_the_field() {
        let cases = [
            (json!([]), "routing"),
            (json!({ "rulez": [] }), "routing.rulez"),
            (
                json!({ "abandon_after_seconds": 0 }),
                "routing.abandon_after_seconds",
            ),
            (
                json!({ "priority_filters": [{ "attribute": "plan", "op": "like", "value": "x" }] }),
                "routing",
            ),
            (
                json!({ "priority_filters": [{ "attribute": "plan", "op": "in", "value": "x" }] }),
                "routing.priority_filters",
            ),
            (
                json!({ "rules": [{ "name": "x", "when": [], "team": "A" }] }),
                "routing.rules[0].when",
            ),
            (
                json!({ "rules": [{ "name": "x", "when": [{ "attribute": "plan", "op": "exists" }] }] }),
                "routing.rules[0].team",
            ),
        ];
        for (doc, field) in cases {
            assert_eq!(Routing::parse(&doc).unwrap_err().field, field, "{doc}");
        }
        assert_eq!(Routing::parse(&json!({})).unwrap(), Routing::default());
        assert_eq!(Routing::from_stored(Some("not json")), Routing::default());
    }
}
