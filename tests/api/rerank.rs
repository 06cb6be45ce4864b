//! The reranker seam (`RERANK_BASE_URL`): hybrid hits are read again by a reranker and ordered
//! by its relevance; a reranker that fails leaves search working in the fused order. The peer
//! is scripts/embed-server.py's `/v1/rerank` (the common wire shape, scored by MiniLM: it
//! checks the seam, not quality).

use halo_tests::{call, embed_server, Server, Workspace};
use serde_json::json;

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
    let base = embed_server()
        .expect("the embedding model is not installed: run scripts/setup.sh --embeddings");
    let q = "I forgot my password, how do I sign in?";

    // The one local model server embeds for other tests too: under a full parallel run a
    // rerank can wait longer than production's 5 s deadline, which this test is not about.
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
            h["relevance"]
                .as_f64()
                .expect("every reranked hit has its relevance")
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
