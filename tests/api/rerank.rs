//! The reranker seam (`RERANK_BASE_URL`): hybrid hits are read again by a reranker and ordered
//! by its relevance; a reranker that fails leaves search working in the fused order. The peer
//! is scripts/embed-server.py's `/v1/rerank` (the common wire shape, scored by MiniLM: it
//! checks the seam, not quality).

use std::sync::atomic::Ordering;
use std::time::Duration;

use halo_tests::stub::{Answer, Stub};
use halo_tests::{call, own_embed_server, Server, Workspace};
use serde_json::{json, Value};

fn seed(server: &Server, ws: &Workspace) {
    for (title, content) in [
        ("Resetting your password", "Click Forgot password? on the sign-in page and we email you a link to choose a new password."),
        ("Changing your email address", "Open Settings > Profile, type the new email address and confirm it from the message we send."),
        ("Two-factor sign-in", "Turn on two-factor authentication in Settings > Security to ask for a code at every sign-in."),
    ] {
        let r = call(
            server,
            "POST",
            "/api/sdk/knowledge/sources",
            Some(&ws.secret_key),
            Some(json!({ "title": title, "content": content })),
        );
        assert_eq!(r.status, 201, "{}", r.body);
    }
}

#[test]
fn a_reranker_orders_hybrid_hits_by_relevance_and_a_failing_one_changes_nothing() {
    let base = own_embed_server()
        .expect("the embedding model is not installed: run scripts/setup.sh --embeddings");
    let base = base.as_str();
    let q = "I forgot my password, how do I sign in?";

    // A model server of its own, and a long deadline: on a machine loaded by a full parallel
    // run a rerank can wait longer than production's 5 s, which this test is not about.
    let working = Server::start(&[
        ("EMBEDDINGS_BASE_URL", base),
        ("RERANK_BASE_URL", base),
        ("RERANK_TIMEOUT_MS", "30000"),
    ]);
    let ws = working.workspace();
    seed(&working, &ws);
    let hits = ws.search(q, "hybrid");
    assert!(hits.len() >= 2, "{hits:?}");
    let relevance: Vec<f64> = hits
        .iter()
        .map(|h| {
            h["relevance"].as_f64().unwrap_or_else(|| {
                panic!(
                    "every reranked hit has its relevance: {hits:?}\nthe Worker's log:\n{}",
                    working.log()
                )
            })
        })
        .collect();
    assert!(
        relevance.windows(2).all(|w| w[0] >= w[1]),
        "best first: {relevance:?}"
    );
    assert_eq!(hits[0]["title"], "Resetting your password");
    // Only the default (hybrid) search is reranked: the single modes stay what they are.
    assert!(ws
        .search(q, "lexical")
        .iter()
        .all(|h| h.get("relevance").is_none()));
    drop(working);

    // Nothing listens on port 9: every rerank call fails.
    let failing = Server::start(&[
        ("EMBEDDINGS_BASE_URL", base),
        ("RERANK_BASE_URL", "http://127.0.0.1:9/v1"),
    ]);
    let ws = failing.workspace();
    seed(&failing, &ws);
    let hits = ws.search(q, "hybrid");
    assert_eq!(hits[0]["title"], "Resetting your password", "{hits:?}");
    assert!(
        hits.iter().all(|h| h.get("relevance").is_none()),
        "{hits:?}"
    );
}

#[test]
fn a_reranker_that_drops_a_connection_or_answers_503_is_asked_once_more() {
    // A stub reranker: the first call of each pair fails (the connection dropped with no
    // answer, then a 503), the second scores; it puts two-factor first, which the fused
    // order does not.
    let calls = std::sync::atomic::AtomicUsize::new(0);
    let stub = Stub::start(move |r| match calls.fetch_add(1, Ordering::SeqCst) {
        0 => Answer::Hang(Duration::ZERO),
        2 => Answer::json(503, &json!({ "error": "overloaded" })),
        _ => {
            let body: Value = serde_json::from_slice(&r.body).expect("a JSON rerank call");
            let results: Vec<Value> = body["documents"]
                .as_array()
                .expect("documents")
                .iter()
                .enumerate()
                .map(|(i, d)| {
                    let score = if d.as_str().is_some_and(|d| d.contains("Two-factor")) {
                        0.9
                    } else {
                        0.1
                    };
                    json!({ "index": i, "relevance_score": score })
                })
                .collect();
            Answer::json(200, &json!({ "results": results }))
        }
    });
    let server = Server::start(&[("RERANK_BASE_URL", &format!("{}/v1", stub.base()))]);
    let ws = server.workspace();
    seed(&server, &ws);
    for failure in ["a dropped connection", "a 503"] {
        let hits = ws.search("I forgot my password, how do I sign in?", "hybrid");
        assert_eq!(
            hits[0]["title"],
            "Two-factor sign-in",
            "after {failure}, the reranker's order: {hits:?}\n{}",
            server.log()
        );
        assert!(hits.iter().all(|h| h["relevance"].is_f64()), "{hits:?}");
    }
    let paths: Vec<String> = stub.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/v1/rerank"; 4], "each failure tried once more");
}
