//! D1 round trips of a chat turn, as the Worker counts them under `wrangler dev`
//! (`x-halo-d1-trips`, edge/entry.mjs): a returning user's turn with the offline engine waits
//! on at most 3 (one batched read, the write of the message with the search and the profile
//! read beside it, the write of the reply).

use halo_tests::Server;
use serde_json::json;

fn trips(r: &halo_tests::Reply) -> u32 {
    r.header("x-halo-d1-trips")
        .and_then(|v| v.parse().ok())
        .expect("a wrangler dev with HALO_DEBUG_D1 counts the round trips")
}

#[test]
fn a_returning_users_turn_waits_on_at_most_three_d1_round_trips() {
    // A server of its own: the count is the isolate's, exact only while no other test's
    // requests run beside it.
    let server = Server::start(&[]);
    let ws = server.workspace();
    ws.add_source(
        "Resetting your password",
        "https://help.example.test/reset",
        "# Resetting your password\n\nClick Forgot password? on the sign-in page.",
    );
    let context = json!({ "plan": { "label": "Plan", "type": "status", "value": "Pro" } });
    let first = ws.chat(json!({ "message": "How do I reset my password?", "user_id": "trips-1", "context": context }));
    assert_eq!(first.status, 200, "{}", first.body);
    let session = first.body["session_id"].as_str().unwrap();
    let next = ws.chat(json!({
        "message": "And where do I find the sign-in page?",
        "user_id": "trips-1",
        "session_id": session,
        "context": context,
    }));
    assert_eq!(next.status, 200, "{}", next.body);
    let calls = |r: &halo_tests::Reply| r.header("x-halo-d1-calls").unwrap_or("?").to_owned();
    eprintln!(
        "D1 round trips: first {} ({} calls), returning {} ({} calls)",
        trips(&first),
        calls(&first),
        trips(&next),
        calls(&next)
    );
    assert!(
        trips(&next) <= 3,
        "a returning user's turn took {} round trips",
        trips(&next)
    );
    assert!(
        trips(&next) >= 2,
        "the message and the reply are written: {}",
        trips(&next)
    );
}
