//! Inbox benchmark: a workspace with N tickets and N conversations (default 10,000 each,
//! seeded straight into the local D1 by scripts/seed-inbox.py), then the first page of each
//! console view, the counts and a search, each timed on loopback (median of 9; the time
//! includes loopback HTTP, so it is an upper bound on server time), and the console's time to
//! a usable inbox in headless Chromium. Figures, not a timed test.
//!
//! Usage: cargo run --release -p halo-tests --bin inbox -- [n]

use std::process::Command;
use std::time::Instant;

use halo_tests::{root, Server};

fn median(mut ms: Vec<f64>) -> f64 {
    ms.sort_by(f64::total_cmp);
    ms[ms.len() / 2]
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000);
    let server = Server::start(&[]);
    let ws = server.workspace();
    let (_, email, session) = ws.signed_in("owner");
    let seeded = Command::new("python3")
        .arg(root().join("scripts/seed-inbox.py"))
        .arg(server.d1_file())
        .args([&ws.org_id, &ws.agent_id, &n.to_string()])
        .output()
        .expect("python3 runs");
    assert!(
        seeded.status.success(),
        "{}",
        String::from_utf8_lossy(&seeded.stderr)
    );
    print!("{}", String::from_utf8_lossy(&seeded.stdout));
    let paths = [
        ("tickets: All open", "/api/inbox/tickets?view=open&limit=50"),
        ("tickets: Mine", "/api/inbox/tickets?view=mine&limit=50"),
        (
            "tickets: Unassigned",
            "/api/inbox/tickets?view=unassigned&limit=50",
        ),
        (
            "tickets: Priority",
            "/api/inbox/tickets?view=priority&limit=50",
        ),
        (
            "tickets: Snoozed",
            "/api/inbox/tickets?view=snoozed&limit=50",
        ),
        (
            "tickets: Resolved",
            "/api/inbox/tickets?view=resolved&limit=50",
        ),
        ("tickets: Spam", "/api/inbox/tickets?view=spam&limit=50"),
        (
            "conversations: Live feed",
            "/api/inbox/conversations?live=true&limit=50",
        ),
        ("conversations: all", "/api/inbox/conversations?limit=50"),
        ("counts of every view", "/api/inbox/counts"),
        (
            "search \"refund parcel\"",
            "/api/inbox/search?q=refund%20parcel",
        ),
        (
            "search \"customer 99\"",
            "/api/inbox/search?q=customer%2099",
        ),
        ("contacts", "/api/inbox/contacts?limit=50"),
    ];
    println!("Inbox with {n} tickets and {n} conversations: first page, median of 9 on loopback");
    for (label, path) in paths {
        let warm = session.call("GET", path, None);
        assert_eq!(warm.status, 200, "{path}: {}", warm.body);
        let times: Vec<f64> = (0..9)
            .map(|_| {
                let t = Instant::now();
                let r = session.call("GET", path, None);
                assert_eq!(r.status, 200);
                t.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        println!("  {label:<28} {:>7.1} ms", median(times));
    }
    let out = Command::new("node")
        .arg(root().join("tests/browser/console-bench.mjs"))
        .args([&server.base, &email, "correct horse battery", "9"])
        .output()
        .expect("node runs");
    print!("{}", String::from_utf8_lossy(&out.stdout));
    if !out.status.success() {
        eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    }
}
