//! Semantic and hybrid search with a real embedding model (MiniLM, int8 ONNX, served offline by
//! scripts/embed-server.py), against a `wrangler dev` configured to use it.

use std::sync::OnceLock;

use halo_tests::{call, embed_server, percent_encode, Reply, Server, Workspace};
use serde_json::{json, Value};

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        let base = embed_server()
            .expect("the embedding model is not installed: run scripts/setup.sh --embeddings");
        Server::start(&[("EMBEDDINGS_BASE_URL", base)])
    })
}

const PASSWORD: &str =
    "To reset your password, click Forgot password? on the sign-in page and we email you a link.";

fn add(ws: &Workspace, title: &str, content: &str) -> Reply {
    let r = call(
        server(),
        "POST",
        "/api/sdk/knowledge/sources",
        Some(&ws.secret_key),
        Some(json!({ "title": title, "content": content })),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    r
}

fn titles(ws: &Workspace, q: &str, mode: &str) -> Vec<String> {
    ws.search(q, mode)
        .iter()
        .map(|h| h["title"].as_str().unwrap().to_owned())
        .collect()
}

fn seed(ws: &Workspace) {
    let r = add(ws, "Account access", PASSWORD);
    assert_eq!(
        r.body["embedded"],
        json!(1),
        "the chunk was embedded: {}",
        r.body
    );
    add(
        ws,
        "Shipping",
        "Parcels leave our warehouse within two business days and arrive in three to five.",
    );
    add(
        ws,
        "Gift cards",
        "Gift cards never expire and work in every store.",
    );
}

/// A question that shares no word with the password article.
const PARAPHRASE: &str = "I can't remember my login credentials";

#[test]
fn a_paraphrase_is_found_by_meaning_where_words_fail() {
    let ws = server().workspace();
    seed(&ws);
    assert!(
        !titles(&ws, PARAPHRASE, "lexical").contains(&"Account access".to_owned()),
        "no shared words"
    );
    assert_eq!(
        titles(&ws, PARAPHRASE, "semantic")
            .first()
            .map(String::as_str),
        Some("Account access")
    );
    assert_eq!(
        titles(&ws, PARAPHRASE, "hybrid")
            .first()
            .map(String::as_str),
        Some("Account access")
    );
    let hit = &call(
        server(),
        "GET",
        &format!("/api/sdk/knowledge/search?q={}", percent_encode(PARAPHRASE)),
        Some(&ws.secret_key),
        None,
    )
    .body["results"][0];
    assert!(hit["similarity"].as_f64().unwrap() > 0.5, "{hit}");
}

#[test]
fn the_chat_answers_a_paraphrase_from_the_article_it_means() {
    let ws = server().workspace();
    seed(&ws);
    let r = ws.chat(json!({ "message": PARAPHRASE }));
    assert_eq!(
        r.body["citations"][0]["title"],
        json!("Account access"),
        "{}",
        r.body
    );
    assert!(r.body["text"]
        .as_str()
        .unwrap()
        .contains("Forgot password?"));
}

#[test]
fn deleted_content_leaves_the_semantic_index_too() {
    let ws = server().workspace();
    let id = add(&ws, "Account access", PASSWORD).body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(titles(&ws, PARAPHRASE, "semantic"), ["Account access"]);
    let del = call(
        server(),
        "DELETE",
        &format!("/api/sdk/knowledge/sources/{id}"),
        Some(&ws.secret_key),
        None,
    );
    assert_eq!(del.status, 200);
    assert!(titles(&ws, PARAPHRASE, "semantic").is_empty());
}

#[test]
fn semantic_search_never_crosses_workspaces() {
    let a = server().workspace();
    let b = server().workspace();
    add(&a, "Account access", PASSWORD);
    add(
        &b,
        "Gift cards",
        "Gift cards never expire and work in every store.",
    );
    let theirs: Vec<String> = titles(&b, PARAPHRASE, "semantic");
    assert!(!theirs.contains(&"Account access".to_owned()), "{theirs:?}");
}

#[test]
fn semantic_mode_without_an_embedder_says_so() {
    let ws = halo_tests::app().workspace();
    let r = call(
        halo_tests::app(),
        "GET",
        "/api/sdk/knowledge/search?q=x&mode=semantic",
        Some(&ws.secret_key),
        None,
    );
    assert_eq!((r.status, r.error().0.as_str()), (503, "not_configured"));
    let bad: Value = call(
        halo_tests::app(),
        "GET",
        "/api/sdk/knowledge/search?q=x&mode=vibes",
        Some(&ws.secret_key),
        None,
    )
    .body;
    assert_eq!(bad["error"]["field"], json!("mode"));
}

#[test]
fn account_data_is_found_by_meaning_when_no_word_is_shared() {
    let ws = server().workspace();
    let body = json!({ "message": "the japan location won't connect", "user_id": "sem-facts",
        "context": { "servers": { "label": "Locations", "type": "status", "value": {
            "Tokyo": "maintenance until 06:00 UTC", "Frankfurt": "online", "New York": "online", "Sydney": "high load" } } } });
    // Twice: the second turn reads the facts' vectors from the cache and answers the same.
    for _ in 0..2 {
        let r = ws.chat(body.clone());
        assert_eq!(r.status, 200, "{}", r.body);
        let text = r.body["text"].as_str().unwrap();
        assert!(
            text.contains("Tokyo: maintenance until 06:00 UTC"),
            "{text}"
        );
        assert!(
            !text.contains("Frankfurt") && !text.contains("Sydney"),
            "{text}"
        );
    }
}
