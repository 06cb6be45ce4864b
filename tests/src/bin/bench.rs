//! Chat latency benchmark: `POST /api/sdk/chat` with the offline engine over sequential
//! requests on loopback, against a real `wrangler dev` seeded with the demo articles.
//! Prints p50/p90/p99; asserts nothing (figures, not a timed test).
//!
//! Usage: cargo run --release -p halo-tests --bin bench -- [requests]

use std::time::Instant;

use halo_tests::{root, Server};
use serde_json::json;

const QUESTIONS: &[&str] = &[
    "How do I reset my password?",
    "Can I get a refund on a yearly plan?",
    "How do I invite a teammate?",
    "Where can I download my invoices?",
    "Google Ads stopped syncing, what do I do?",
    "How do I turn on two-factor authentication?",
    "Can I export all my data?",
    "Do you have a mobile app with dark mode?",
];

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[i]
}

fn report(label: &str, mut ms: Vec<f64>) {
    ms.sort_by(f64::total_cmp);
    println!(
        "{label:<34} n={:<4} p50 {:>6.2} ms   p90 {:>6.2} ms   p99 {:>6.2} ms   max {:>6.2} ms",
        ms.len(),
        percentile(&ms, 50.0),
        percentile(&ms, 90.0),
        percentile(&ms, 99.0),
        ms[ms.len() - 1]
    );
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(300);
    let server = Server::start(&[]);
    let ws = server.workspace();
    let dir = root().join("scripts/demo-articles");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("demo articles")
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    for f in &files {
        let text = std::fs::read_to_string(f).expect("article");
        let (front, body) = text
            .trim_start_matches("---\n")
            .split_once("\n---\n")
            .expect("front matter");
        let field = |k: &str| {
            front
                .lines()
                .find_map(|l| l.strip_prefix(k))
                .map(str::trim)
                .unwrap_or("")
        };
        ws.add_source(field("title:"), field("url:"), body);
    }
    // Warm-up: the first requests compile and instantiate the Worker.
    for q in QUESTIONS {
        ws.chat(json!({ "message": q }));
    }
    let (mut first, mut follow) = (Vec::new(), Vec::new());
    let mut session: Option<String> = None;
    for i in 0..n {
        let q = QUESTIONS[i % QUESTIONS.len()];
        let body = match (&session, i % 2) {
            (Some(s), 1) => json!({ "message": q, "session_id": s, "user_id": "bench-user" }),
            _ => json!({ "message": q, "user_id": "bench-user" }),
        };
        let t = Instant::now();
        let r = ws.chat(body);
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        assert_eq!(r.status, 200, "{}", r.body);
        if i % 2 == 1 && session.is_some() {
            follow.push(ms);
        } else {
            first.push(ms);
            session = r.body["session_id"].as_str().map(str::to_owned);
        }
    }
    // The same questions with the data a real app attaches: 10 context entries of 5 items
    // and 10 traits, 60 facts ranked on every turn.
    let context: serde_json::Map<String, serde_json::Value> = (0..10)
        .map(|e| {
            let items: Vec<serde_json::Value> = (0..5)
                .map(|i| {
                    let status = ["active", "paused", "failed: token expired", "in transit", "delivered"][i];
                    json!({ "name": format!("Item {e}-{i}"), "status": status, "updated": "Tue 2 Dec, 10:15" })
                })
                .collect();
            (format!("entry_{e}"), json!({ "label": format!("Entry {e}"), "type": "list", "value": items }))
        })
        .collect();
    let traits: serde_json::Map<String, serde_json::Value> = (0..10)
        .map(|t| (format!("trait_{t}"), json!(format!("value {t}"))))
        .collect();
    let mut with_data = Vec::new();
    for i in 0..n / 2 {
        let q = QUESTIONS[i % QUESTIONS.len()];
        let body = json!({ "message": q, "user_id": "bench-user-2", "context": context, "custom_fields": traits });
        let t = Instant::now();
        let r = ws.chat(body);
        with_data.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(r.status, 200, "{}", r.body);
    }
    println!("POST /api/sdk/chat, offline engine, {n} sequential requests on loopback (wrangler dev, local D1):");
    let all: Vec<f64> = first.iter().chain(&follow).copied().collect();
    report("all requests", all);
    report("first message (new conversation)", first);
    report("follow-up in the same session", follow);
    report("with 60 facts of context", with_data);
}
