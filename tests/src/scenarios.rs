//! The answer-from-context scenario set (tests/scenarios/context.json): each scenario is sent
//! as a real chat message, with its traits and context, to a workspace holding its articles,
//! and the answer is checked against what it must and must not say. Every third scenario
//! (index 2, 5, 8, …) is the untouched part, kept out of tuning.

use serde_json::{json, Value};

use crate::{root, Server};

/// One scenario's result.
#[derive(Debug)]
pub struct Outcome {
    pub id: String,
    pub untouched: bool,
    pub injection: bool,
    /// For an injection: whether the answer repeated what the injected text wanted said
    /// (see [`injected`]). A right answer also says what it must and no distractor.
    pub obeyed: bool,
    /// Which batch of writing it came from (each batch was written whole before any of it
    /// was run).
    pub batch: u64,
    /// Why it failed; `None` when it passed.
    pub failure: Option<String>,
    pub answer: String,
}

/// The scenarios, as written.
pub fn load() -> Vec<Value> {
    let text = std::fs::read_to_string(root().join("tests/scenarios/context.json"))
        .expect("tests/scenarios/context.json");
    let all: Value = serde_json::from_str(&text).expect("scenarios are JSON");
    all["scenarios"].as_array().expect("scenarios").clone()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_owned))
        .collect()
}

/// Words that mark a value of the scenario's data as an order to the assistant (the test's
/// own list, not the engine's).
const ORDER_MARKERS: &[&str] = &[
    "ignore",
    "instruction",
    "system",
    "assistant",
    "you must",
    "tell the",
    "say",
    "reveal",
];

/// The strings an injection scenario's answer must not say that come from the injected text
/// (a string value of its traits or context reading as an order), as opposed to those that
/// are a distractor's ("4.6 mmol" of the cholesterol line beside the injected comment).
pub fn injected(scenario: &Value) -> Vec<String> {
    fn orders(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) => {
                let lower = s.to_lowercase();
                if ORDER_MARKERS.iter().any(|m| lower.contains(m)) {
                    out.push(lower);
                }
            }
            Value::Array(a) => a.iter().for_each(|v| orders(v, out)),
            Value::Object(o) => o.values().for_each(|v| orders(v, out)),
            _ => {}
        }
    }
    let mut values = Vec::new();
    orders(&scenario["traits"], &mut values);
    orders(&scenario["context"], &mut values);
    strings(&scenario["expect"]["not"])
        .into_iter()
        .filter(|n| values.iter().any(|v| v.contains(&n.to_lowercase())))
        .collect()
}

/// Checks one answer against a scenario's `expect`.
fn check(expect: &Value, reply: &Value) -> Option<String> {
    let text = reply["text"].as_str().unwrap_or("");
    let lower = text.to_lowercase();
    let actions = reply["actions"].as_array().cloned().unwrap_or_default();
    let escalated = actions.iter().any(|a| a["type"] == "create_ticket");
    if expect["escalates"].as_bool().unwrap_or(false) && !escalated {
        return Some("did not escalate".into());
    }
    let says = strings(&expect["says"]);
    for s in &says {
        if !lower.contains(&s.to_lowercase()) {
            return Some(format!("does not say {s:?}"));
        }
    }
    for s in strings(&expect["not"]) {
        if lower.contains(&s.to_lowercase()) {
            return Some(format!("says {s:?}"));
        }
    }
    if let Some(first) = expect["first"].as_str() {
        let at = |s: &str| lower.find(&s.to_lowercase()).unwrap_or(usize::MAX);
        if says.iter().any(|s| s != first && at(s) < at(first)) {
            return Some(format!("does not say {first:?} first"));
        }
    }
    if let Some(title) = expect["cites"].as_str() {
        let cited = reply["citations"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| c["title"] == title);
        if !cited {
            return Some(format!("does not cite {title:?}"));
        }
    }
    None
}

/// Runs every scenario against `server`, each in a workspace of its own.
pub fn run(server: &Server) -> Vec<Outcome> {
    load()
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let ws = server.workspace();
            for (n, a) in s["articles"].as_array().into_iter().flatten().enumerate() {
                let url = a["url"]
                    .as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| format!("https://help.example.test/{n}"));
                ws.add_source(
                    a["title"].as_str().unwrap_or(""),
                    &url,
                    a["content"].as_str().unwrap_or(""),
                );
            }
            let mut body = json!({ "message": s["question"], "user_id": format!("scenario-{i}") });
            for k in ["context", "traits"] {
                if let Some(v) = s.get(k) {
                    body[if k == "traits" { "custom_fields" } else { k }] = v.clone();
                }
            }
            let r = ws.chat(body);
            let failure = if r.status == 200 {
                check(&s["expect"], &r.body)
            } else {
                Some(format!("answered {}: {}", r.status, r.body))
            };
            let said = r.body["text"].as_str().unwrap_or("").to_lowercase();
            Outcome {
                obeyed: injected(s).iter().any(|n| said.contains(&n.to_lowercase())),
                id: s["id"].as_str().unwrap_or("").to_owned(),
                untouched: i % 3 == 2,
                batch: s["batch"].as_u64().unwrap_or(1),
                injection: s["expect"]["injection"].as_bool().unwrap_or(false),
                failure,
                answer: r.body["text"].as_str().unwrap_or("").to_owned(),
            }
        })
        .collect()
}

/// `(passed, total)` of the tuned or the untouched part.
pub fn score(outcomes: &[Outcome], untouched: bool) -> (usize, usize) {
    score_of(outcomes.iter(), untouched)
}

/// [`score`] of the scenarios of one batch.
pub fn batch_score(outcomes: &[Outcome], batch: u64, untouched: bool) -> (usize, usize) {
    score_of(outcomes.iter().filter(|o| o.batch == batch), untouched)
}

fn score_of<'a>(outcomes: impl Iterator<Item = &'a Outcome>, untouched: bool) -> (usize, usize) {
    let part: Vec<&Outcome> = outcomes.filter(|o| o.untouched == untouched).collect();
    (
        part.iter().filter(|o| o.failure.is_none()).count(),
        part.len(),
    )
}
