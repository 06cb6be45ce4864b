//! Load test: N concurrent visitors (default 50), each sending M messages (default 20) with
//! think time, to a `wrangler dev` of its own on loopback, offline engine. Prints throughput,
//! latency percentiles and errors by code, then audits what D1 holds: every accepted message
//! stored exactly once, every answered one with exactly one reply, no conversation shared
//! between visitors. Bounded in count and time; figures, not a timed test. Exits non-zero
//! when the audit finds something wrong.
//!
//! Then N widget WebSockets (default 200) open at once while a teammate replies in each
//! conversation: every reply must reach its own socket and no other, the team's feed socket
//! must hear every conversation, and a widget that reconnects catches up without duplicates.
//!
//! Usage: cargo run --release -p halo-tests --bin load -- [visitors] [messages] [sockets]

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use halo_tests::{call, live_socket, next_event, Server};
use serde_json::json;

/// Longest a run may take before the visitors stop sending.
const BUDGET: Duration = Duration::from_secs(300);

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

/// One visitor's run: `(latency ms, status, session id)` for each message sent.
fn visitor(
    ws: &halo_tests::Workspace,
    v: usize,
    messages: usize,
    started: Instant,
) -> Vec<(f64, u16, String)> {
    let mut out = Vec::new();
    let mut session: Option<String> = None;
    for m in 0..messages {
        if started.elapsed() > BUDGET {
            break;
        }
        // Think time: 100 to 400 ms, different for each visitor and message.
        std::thread::sleep(Duration::from_millis(
            100 + ((v * 37 + m * 53) % 300) as u64,
        ));
        let mut body = json!({ "message": format!("visitor {v} message {m}: how do refunds work?"), "user_id": format!("load-{v}") });
        if let Some(s) = &session {
            body["session_id"] = json!(s);
        }
        let t = Instant::now();
        let r = ws.chat(body);
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        let sid = r.body["session_id"].as_str().unwrap_or("").to_owned();
        if r.status == 200 && session.is_none() {
            session = Some(sid.clone());
        }
        out.push((ms, r.status, sid));
    }
    out
}

/// The audit's SQL, run on the server's D1 file: each line a finding (none: all is well).
const AUDIT: &str = r#"
import sqlite3, sys
c = sqlite3.connect(sys.argv[1]); org = sys.argv[2]
q = lambda sql: c.execute(sql, (org,)).fetchall()
for body, n in q("SELECT body, COUNT(*) FROM messages WHERE org_id = ? AND role = 'user' GROUP BY body HAVING COUNT(*) <> 1"):
    print(f"stored {n} times: {body}")
for cid, users, ais in q("""SELECT c.id, SUM(m.role = 'user'), SUM(m.role = 'ai') FROM conversations c
        JOIN messages m ON m.conversation_id = c.id WHERE c.org_id = ? GROUP BY c.id HAVING SUM(m.role = 'user') <> SUM(m.role = 'ai')"""):
    print(f"conversation {cid}: {users} messages, {ais} replies")
for cid, n in q("""SELECT c.id, COUNT(DISTINCT substr(m.body, 1, instr(m.body, ' message'))) FROM conversations c
        JOIN messages m ON m.conversation_id = c.id AND m.role = 'user' WHERE c.org_id = ? GROUP BY c.id HAVING COUNT(DISTINCT substr(m.body, 1, instr(m.body, ' message'))) > 1"""):
    print(f"conversation {cid} holds {n} visitors' messages")
for cid, who, body in q("""SELECT c.id, u.external_id, m.body FROM conversations c JOIN end_users u ON u.id = c.end_user_id
        JOIN messages m ON m.conversation_id = c.id AND m.role = 'user'
        WHERE c.org_id = ? AND 'load-' || substr(m.body, 9, instr(m.body, ' message') - 9) <> u.external_id"""):
    print(f"conversation {cid} of {who} holds: {body}")
print("stored", q("SELECT COUNT(*) FROM messages WHERE org_id = ? AND role = 'user'")[0][0])
"#;

fn main() {
    let arg = |i: usize, d: usize| {
        std::env::args()
            .nth(i)
            .and_then(|a| a.parse().ok())
            .unwrap_or(d)
    };
    let (visitors, messages) = (arg(1, 50), arg(2, 20));
    let server = Server::start(&[]);
    let ws = server.workspace();
    ws.add_source(
        "Refunds",
        "https://help.example.test/refunds",
        "# Refunds\n\nRefunds go back to the original card within 5 to 10 business days.",
    );
    // Every visitor comes from loopback: the per-address and per-workspace limits are raised
    // for this workspace, as a customer with this traffic would (the per-visitor one stays).
    let r = call(
        &server,
        "PATCH",
        &format!("/api/admin/workspaces/{}", ws.org_id),
        Some(&ws.admin_token),
        Some(
            json!({ "limits": { "chat_per_ip": 100_000, "chat_per_workspace": 100_000, "sessions_per_visitor": 100_000 } }),
        ),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let started = Instant::now();
    let results = Arc::new(Mutex::new(Vec::new()));
    std::thread::scope(|s| {
        for v in 0..visitors {
            let (ws, results) = (&ws, results.clone());
            s.spawn(move || {
                let mine = visitor(ws, v, messages, started);
                results.lock().unwrap().extend(mine);
            });
        }
    });
    let wall = started.elapsed().as_secs_f64();
    let results = results.lock().unwrap();
    let mut ms: Vec<f64> = results.iter().filter(|r| r.1 == 200).map(|r| r.0).collect();
    ms.sort_by(f64::total_cmp);
    let mut by_code: BTreeMap<u16, usize> = BTreeMap::new();
    for r in results.iter() {
        *by_code.entry(r.1).or_default() += 1;
    }
    println!("load: {visitors} visitors x {messages} messages, offline engine, loopback");
    println!(
        "  sent {} in {wall:.1} s: {:.1} messages/s",
        results.len(),
        results.len() as f64 / wall
    );
    println!(
        "  latency of answered messages: p50 {:.0} ms, p95 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        percentile(&ms, 0.50),
        percentile(&ms, 0.95),
        percentile(&ms, 0.99),
        ms.last().copied().unwrap_or(0.0)
    );
    println!("  answers by status: {by_code:?}");
    let out = Command::new("python3")
        .args(["-c", AUDIT])
        .arg(server.d1_file())
        .arg(&ws.org_id)
        .output()
        .expect("python3 runs");
    let audit = String::from_utf8_lossy(&out.stdout);
    let findings: Vec<&str> = audit
        .lines()
        .filter(|l| !l.starts_with("stored "))
        .collect();
    let stored = audit
        .lines()
        .find_map(|l| l.strip_prefix("stored "))
        .unwrap_or("?");
    let accepted = by_code.get(&200).copied().unwrap_or(0);
    println!("  audit: {accepted} accepted, {stored} stored (each exactly once, each with one reply, no conversation shared): {}",
        if findings.is_empty() && stored == accepted.to_string() { "all well".to_owned() } else { format!("{} findings", findings.len()) });
    for f in findings.iter().take(20) {
        println!("    {f}");
    }
    if !out.status.success() {
        eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    }
    let chat_ok = findings.is_empty() && stored == accepted.to_string() && out.status.success();
    let sockets_ok = sockets(&server, &ws, arg(3, 200));
    if !chat_ok || !sockets_ok {
        std::process::exit(1);
    }
}

/// The teammate lines of a live event.
fn teammate_lines(e: &serde_json::Value) -> Vec<(String, String)> {
    e["messages"]
        .as_array()
        .map(|list| {
            list.iter()
                .filter(|m| m["role"] == "teammate")
                .map(|m| {
                    (
                        m["id"].as_str().unwrap_or("").to_owned(),
                        m["text"].as_str().unwrap_or("").to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The sockets phase; `true` when every check held.
fn sockets(server: &Server, ws: &halo_tests::Workspace, n: usize) -> bool {
    let (_, token) = halo_tests::teammate_on(server, ws, "Load teammate");
    let sessions: Vec<String> = (0..n)
        .map(|_| {
            let r = call(
                server,
                "POST",
                "/api/sdk/sessions",
                Some(&ws.widget_key),
                Some(json!({})),
            );
            assert!(r.status == 201 || r.status == 200, "{}", r.body);
            r.body["session_id"].as_str().unwrap().to_owned()
        })
        .collect();
    let mut feed =
        live_socket(server, &format!("/api/inbox/live?token={token}")).expect("the feed socket");
    let opened = Instant::now();
    let mut widgets: Vec<halo_tests::Socket> = sessions
        .iter()
        .map(|s| {
            live_socket(
                server,
                &format!("/api/sdk/conversations/{s}/live?key={}", ws.widget_key),
            )
            .expect("a widget socket")
        })
        .collect();
    let open_ms = opened.elapsed().as_millis();
    let reply = |s: &str, text: &str| {
        let r = call(
            server,
            "POST",
            &format!("/api/inbox/conversations/{s}/reply"),
            Some(&token),
            Some(json!({ "text": text })),
        );
        assert_eq!(r.status, 200, "{}", r.body);
    };
    let replied = Instant::now();
    std::thread::scope(|scope| {
        let feed_seen = scope.spawn(|| {
            let mut seen = std::collections::BTreeSet::new();
            while let Some(e) = next_event(&mut feed, Duration::from_secs(15)) {
                if let Some(s) = e["session_id"].as_str() {
                    seen.insert(s.to_owned());
                }
                if seen.len() >= n {
                    break;
                }
            }
            seen
        });
        let readers: Vec<_> = widgets
            .iter_mut()
            .zip(&sessions)
            .map(|(socket, s)| {
                scope.spawn(move || {
                    let mut got = Vec::new();
                    let deadline = Instant::now() + Duration::from_secs(30);
                    while Instant::now() < deadline {
                        match next_event(socket, Duration::from_secs(5)) {
                            Some(e) => {
                                got.extend(teammate_lines(&e));
                                if got.iter().any(|(_, t)| t == &format!("reply for {s}")) {
                                    // A moment longer, to catch a line meant for another socket.
                                    if let Some(e) = next_event(socket, Duration::from_millis(300))
                                    {
                                        got.extend(teammate_lines(&e));
                                    }
                                    break;
                                }
                            }
                            None => break,
                        }
                    }
                    got
                })
            })
            .collect();
        for s in &sessions {
            reply(s, &format!("reply for {s}"));
        }
        let replies_ms = replied.elapsed().as_millis();
        let got: Vec<Vec<(String, String)>> =
            readers.into_iter().map(|r| r.join().unwrap()).collect();
        let delivered_ms = replied.elapsed().as_millis();
        let feed_seen = feed_seen.join().unwrap();
        let own = got
            .iter()
            .zip(&sessions)
            .filter(|(g, s)| g.iter().any(|(_, t)| t == &format!("reply for {s}")))
            .count();
        let foreign = got
            .iter()
            .zip(&sessions)
            .filter(|(g, s)| g.iter().any(|(_, t)| t != &format!("reply for {s}")))
            .count();
        println!("sockets: {n} widget sockets open at once (opened in {open_ms} ms), a teammate replies in each");
        println!("  {n} replies sent in {replies_ms} ms; all delivered by {delivered_ms} ms");
        println!("  delivered to their own socket: {own} of {n}; sockets that got another conversation's line: {foreign}");
        println!(
            "  the feed socket heard {} of {n} conversations",
            feed_seen.iter().filter(|s| sessions.contains(s)).count()
        );
        // Reconnect: a second reply is written in 20 conversations, and the catch-up read a
        // reconnecting widget makes (from the start) holds each line once.
        let back = 20.min(n);
        let mut duplicates = 0;
        let mut missing = 0;
        for s in sessions.iter().take(back) {
            reply(s, &format!("second reply for {s}"));
        }
        for s in sessions.iter().take(back) {
            let r = call(
                server,
                "GET",
                &format!("/api/sdk/conversations/{s}/updates?after=0"),
                Some(&ws.widget_key),
                None,
            );
            let lines: Vec<String> = r.body["messages"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .filter_map(|m| m["id"].as_str().map(str::to_owned))
                .collect();
            let unique: std::collections::BTreeSet<&String> = lines.iter().collect();
            duplicates += lines.len() - unique.len();
            let texts = r.body.to_string();
            if !texts.contains(&format!("second reply for {s}"))
                || !texts.contains(&format!("\"reply for {s}\""))
            {
                missing += 1;
            }
        }
        println!("  {back} widgets' catch-up reads (what a reconnect makes): {missing} missing a line, {duplicates} duplicate lines");
        own == n
            && foreign == 0
            && feed_seen.iter().filter(|s| sessions.contains(s)).count() == n
            && missing == 0
            && duplicates == 0
    })
}
