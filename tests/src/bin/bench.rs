//! Chat latency benchmark: `POST /api/sdk/chat` with the offline engine over sequential
//! requests on loopback, each followed by a `GET /health` (the same run, so the two are
//! compared under the same conditions), against a real `wrangler dev` seeded with the demo
//! articles. Prints p50/p90/p99, the ratio of the p50s, and the D1 round trips of each kind of
//! turn (the `x-halo-d1-trips` header of a `wrangler dev` with `HALO_DEBUG_D1`); then the
//! widget's page-load figures (`tests/browser/widget-bench.mjs`). Asserts nothing (figures,
//! not a timed test).
//!
//! Usage: cargo run --release -p halo-tests --bin bench -- [requests]

use std::process::Command;
use std::time::Instant;

use halo_tests::{call, root, Server};
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
    // One visitor sends every request, from loopback: the workspace's rate limits are
    // raised out of the way (they are measured by `make load` and tests/api/limits.rs).
    let r = call(
        &server,
        "PATCH",
        &format!("/api/admin/workspaces/{}", ws.org_id),
        Some(&ws.admin_token),
        Some(json!({ "limits": {
            "chat_per_visitor": 100_000, "chat_per_ip": 100_000, "chat_per_workspace": 100_000,
            "sessions_per_visitor": 100_000, "calls_per_visitor": 100_000,
        } })),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    // Warm-up: the first requests compile and instantiate the Worker.
    for q in QUESTIONS {
        ws.chat(json!({ "message": q }));
    }
    let (mut first, mut follow, mut health) = (Vec::new(), Vec::new(), Vec::new());
    let (mut first_trips, mut follow_trips) = (Vec::new(), Vec::new());
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
        let trips: u32 = r
            .header("x-halo-d1-trips")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        if i % 2 == 1 && session.is_some() {
            follow.push(ms);
            follow_trips.push(trips);
        } else {
            first.push(ms);
            first_trips.push(trips);
            session = r.body["session_id"].as_str().map(str::to_owned);
        }
        let t = Instant::now();
        let h = call(&server, "GET", "/health", None, None);
        health.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(h.status, 200);
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
    let chat_p50 = p50(&all);
    let health_p50 = p50(&health);
    report("all requests", all);
    report("first message (new conversation)", first);
    report("follow-up in the same session", follow);
    report("with 60 facts of context", with_data);
    report("GET /health, same run", health);
    println!(
        "chat p50 / health p50: {:.1}x ({chat_p50:.2} / {health_p50:.2} ms)",
        chat_p50 / health_p50
    );
    println!(
        "D1 round trips per turn (one after another): first message {}, returning user's follow-up {}",
        spread(first_trips),
        spread(follow_trips)
    );
    println!();
    let out = Command::new("node")
        .arg(root().join("tests/browser/widget-bench.mjs"))
        .args([&server.base, &ws.org_id, &ws.widget_key, "9"])
        .output()
        .expect("node runs");
    print!("{}", String::from_utf8_lossy(&out.stdout));
    if !out.status.success() {
        eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    }
}

fn p50(ms: &[f64]) -> f64 {
    let mut sorted = ms.to_vec();
    sorted.sort_by(f64::total_cmp);
    percentile(&sorted, 50.0)
}

/// `min-max` (or the one value) of a count.
fn spread(mut n: Vec<u32>) -> String {
    n.sort_unstable();
    match (n.first(), n.last()) {
        (Some(a), Some(b)) if a == b => a.to_string(),
        (Some(a), Some(b)) => format!("{a}-{b}"),
        _ => "none".into(),
    }
}
