//! Dependencies failing on purpose (`HALO_FAULTS`, honoured only on loopback): the customer
//! still gets an answer and nothing they said is lost.

use std::sync::OnceLock;

use halo_tests::Server;
use serde_json::json;

fn failing() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| Server::start(&[("HALO_FAULTS", "reply_store,live")]))
}

#[test]
fn a_message_whose_stored_batch_was_reported_failed_is_kept_once_and_answered() {
    // `message_ack`: the batch storing each message commits, then D1 reports it failed. The
    // turn must see that it was stored, not store it again (a duplicate id would fail).
    let server = Server::start(&[("HALO_FAULTS", "message_ack")]);
    let ws = server.workspace();
    let first = ws.chat(json!({ "message": "Is anyone there?", "user_id": "u-ack" }));
    assert_eq!(first.status, 200, "{}", first.body);
    let session = first.session_id().to_owned();
    let next =
        ws.chat(json!({ "message": "Hello again", "session_id": session, "user_id": "u-ack" }));
    assert_eq!(next.status, 200, "{}", next.body);
    let t = ws.conversation(&session).body;
    let said: Vec<&str> = t["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "user")
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(said, vec!["Is anyone there?", "Hello again"], "{t}");
}

#[test]
fn when_d1_fails_after_the_message_is_stored_the_customer_still_gets_an_answer() {
    let ws = failing().workspace();
    ws.add_source(
        "Refunds",
        "https://help.example.test/refunds",
        "# Refunds\n\nRefunds reach the card within 5 to 10 business days.",
    );
    let first = ws.chat(json!({ "message": "How long do refunds take?" }));
    assert_eq!(first.status, 200, "{}", first.body);
    assert!(
        first.body["text"]
            .as_str()
            .is_some_and(|t| t.contains("5 to 10")),
        "{}",
        first.body
    );
    assert!(
        first.body.get("message_id").is_none_or(|m| m.is_null()),
        "an unstored reply cannot be rated: {}",
        first.body
    );
    // The customer's message is stored; the reply that could not be is not half-written.
    let session = first.session_id().to_owned();
    let t = ws.conversation(&session).body;
    let roles: Vec<&str> = t["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, vec!["user"], "{t}");
    // And the next message of the same conversation works.
    let next = ws.chat(json!({ "message": "And to a gift card?", "session_id": session }));
    assert_eq!(next.status, 200, "{}", next.body);
    let t = ws.conversation(&session).body;
    assert_eq!(
        t["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["role"] == "user")
            .count(),
        2
    );
}

#[test]
fn with_the_live_rooms_down_chat_answers_and_a_teammates_reply_waits_in_the_catch_up() {
    let server = failing();
    let ws = server.workspace();
    let r = ws.chat(json!({ "message": "Hello, anyone there?" }));
    assert_eq!(r.status, 200, "{}", r.body);
    let session = r.session_id().to_owned();
    let (_, token) = halo_tests::teammate_on(server, &ws, "Rae");
    let took = ws.call(
        "POST",
        &format!("/api/inbox/conversations/{session}/takeover"),
        Some(&token),
        Some(json!({})),
    );
    assert_eq!(took.status, 200, "{}", took.body);
    let replied = ws.call(
        "POST",
        &format!("/api/inbox/conversations/{session}/reply"),
        Some(&token),
        Some(json!({ "text": "Rae here, I can help." })),
    );
    assert_eq!(replied.status, 200, "{}", replied.body);
    let updates = ws.call(
        "GET",
        &format!("/api/sdk/conversations/{session}/updates?after=0"),
        Some(&ws.widget_key),
        None,
    );
    assert_eq!(updates.status, 200, "{}", updates.body);
    let texts: Vec<&str> = updates.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["text"].as_str())
        .collect();
    assert!(texts.contains(&"Rae here, I can help."), "{texts:?}");
}

/// An embeddings server that fails (0), answers (1, the same unit vector for every text) or
/// hangs (2), as `mode` says.
fn embedder(mode: std::sync::Arc<std::sync::atomic::AtomicU8>) -> halo_tests::stub::Stub {
    use halo_tests::stub::Answer;
    halo_tests::stub::Stub::start(
        move |r| match mode.load(std::sync::atomic::Ordering::SeqCst) {
            0 => Answer::json(503, &json!({ "error": { "message": "embedder down" } })),
            2 => Answer::Hang(std::time::Duration::from_secs(30)),
            _ => {
                let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap_or_default();
                let n = body["input"].as_array().map_or(1, Vec::len);
                let data: Vec<_> = (0..n)
                    .map(|i| json!({ "index": i, "embedding": [1.0, 0.0, 0.0, 0.0] }))
                    .collect();
                Answer::json(200, &json!({ "data": data }))
            }
        },
    )
}

/// Adds the one article the embedder tests search for.
fn add_parcels(ws: &halo_tests::Workspace) -> halo_tests::Reply {
    ws.call(
        "POST",
        "/api/sdk/knowledge/sources",
        Some(&ws.secret_key),
        Some(json!({ "title": "Parcels", "content": "# Parcels\n\nParcels to Europe arrive in 3 to 5 working days." })),
    )
}

#[test]
fn with_the_embedder_down_search_is_lexical_and_a_later_job_embeds_what_it_missed() {
    use std::sync::atomic::{AtomicU8, Ordering};
    let mode = std::sync::Arc::new(AtomicU8::new(0));
    let stub = embedder(mode.clone());
    let server = Server::start(&[
        ("EMBEDDINGS_BASE_URL", &format!("{}/v1", stub.base())),
        ("EMBED_QUERY_BUDGET_MS", "1000"),
    ]);
    let ws = server.workspace();
    let added = add_parcels(&ws);
    assert_eq!(added.status, 201, "{}", added.body);
    assert!(
        added.body["embedding_error"].is_string(),
        "the ingest says it could not embed: {}",
        added.body
    );
    let hits = ws.search("parcels europe", "hybrid");
    assert_eq!(
        hits.first().map(|h| h["title"].clone()),
        Some(json!("Parcels")),
        "searched by its words"
    );
    // Meaning alone has nothing to fall back to: it says the model is down, and how to search.
    let semantic = ws.call(
        "GET",
        "/api/sdk/knowledge/search?q=parcels&mode=semantic",
        Some(&ws.secret_key),
        None,
    );
    assert_eq!(
        (semantic.status, semantic.error().0.as_str()),
        (503, "embedder_unavailable"),
        "{}",
        semantic.body
    );
    // A slow embedder: the search waits its budget, then answers by words.
    mode.store(2, Ordering::SeqCst);
    let started = std::time::Instant::now();
    let slow = ws.search("parcels europe", "hybrid");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        slow.first().map(|h| h["title"].clone()),
        Some(json!("Parcels"))
    );
    // The embedder is back: the cron job embeds the chunk it missed, and meaning finds it.
    mode.store(1, Ordering::SeqCst);
    let before = ws.call(
        "GET",
        "/api/sdk/knowledge/search?q=shipping%20time&mode=semantic",
        Some(&ws.secret_key),
        None,
    );
    assert_eq!(
        before.body["results"],
        json!([]),
        "no vector yet: {}",
        before.body
    );
    let cron = halo_tests::send(
        &server,
        "GET",
        "/__scheduled?cron=*+*+*+*+*",
        None,
        &[],
        None,
    );
    assert!(cron.status < 300, "{}", cron.status);
    let after = ws.search("shipping time", "semantic");
    assert_eq!(
        after.first().map(|h| h["title"].clone()),
        Some(json!("Parcels")),
        "{after:?}"
    );
}

#[test]
fn two_messages_of_one_conversation_at_the_same_moment_are_both_stored_and_answered() {
    let ws = halo_tests::app().workspace();
    let first = ws.chat(json!({ "message": "Hello" }));
    let session = first.session_id().to_owned();
    let (a, b) = std::thread::scope(|s| {
        let a = s
            .spawn(|| ws.chat(json!({ "message": "First of two at once", "session_id": session })));
        let b = s.spawn(|| {
            ws.chat(json!({ "message": "Second of two at once", "session_id": session }))
        });
        (a.join().unwrap(), b.join().unwrap())
    });
    assert_eq!((a.status, b.status), (200, 200), "{} {}", a.body, b.body);
    assert_eq!(
        (a.session_id(), b.session_id()),
        (session.as_str(), session.as_str())
    );
    let t = ws.conversation(&session).body;
    let lines = t["messages"].as_array().unwrap();
    let users: Vec<&str> = lines
        .iter()
        .filter(|m| m["role"] == "user")
        .filter_map(|m| m["text"].as_str())
        .collect();
    assert_eq!(users.len(), 3, "{t}");
    assert!(users.contains(&"First of two at once") && users.contains(&"Second of two at once"));
    assert_eq!(
        lines.iter().filter(|m| m["role"] == "ai").count(),
        3,
        "each message answered once: {t}"
    );
    // Each answer comes after the message it answers.
    for (i, m) in lines.iter().enumerate() {
        if m["role"] == "ai" {
            let asked = lines[..i].iter().filter(|l| l["role"] == "user").count();
            let answered = lines[..i].iter().filter(|l| l["role"] == "ai").count();
            assert!(asked > answered, "an answer before its message: {t}");
        }
    }
}

#[test]
fn two_requests_for_a_person_at_the_same_moment_open_one_ticket() {
    let ws = halo_tests::app().workspace();
    let first = ws.chat(json!({ "message": "Hello" }));
    let session = first.session_id().to_owned();
    std::thread::scope(|s| {
        let a = s.spawn(|| ws.chat(json!({ "message": "I'd like to talk to a person, please.", "session_id": session })));
        let b = s.spawn(|| {
            ws.chat(json!({ "message": "Please get me a human agent now", "session_id": session }))
        });
        assert_eq!(a.join().unwrap().status, 200);
        assert_eq!(b.join().unwrap().status, 200);
    });
    let tickets = ws.call("GET", "/api/sdk/tickets", Some(&ws.secret_key), None);
    let of_session = tickets.body["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["session_id"] == json!(session))
        .count();
    assert_eq!(of_session, 1, "{}", tickets.body);
}

#[test]
fn an_embedder_trained_with_prompts_gets_its_query_and_document_prompts() {
    use std::sync::atomic::AtomicU8;
    let stub = embedder(std::sync::Arc::new(AtomicU8::new(1)));
    let server = Server::start(&[
        ("EMBEDDINGS_BASE_URL", &format!("{}/v1", stub.base())),
        ("EMBEDDINGS_QUERY_PREFIX", "task: search result | query:"),
        ("EMBEDDINGS_DOCUMENT_PREFIX", "title: none | text:"),
    ]);
    let ws = server.workspace();
    let added = add_parcels(&ws);
    assert_eq!(added.status, 201, "{}", added.body);
    ws.search("how long to europe", "semantic");
    ws.chat(json!({
        "message": "where is my parcel",
        "context": { "shipments": { "label": "Shipments", "value": "PX-1003 held at customs" } }
    }));
    let inputs: Vec<String> = stub
        .requests()
        .iter()
        .filter_map(|r| serde_json::from_slice::<serde_json::Value>(&r.body).ok())
        .flat_map(|b| b["input"].as_array().cloned().unwrap_or_default())
        .filter_map(|t| t.as_str().map(str::to_owned))
        .collect();
    let has = |prefix: &str, part: &str| {
        inputs
            .iter()
            .any(|t| t.starts_with(prefix) && t.contains(part))
    };
    assert!(
        has("title: none | text: Parcels\n", "3 to 5 working days"),
        "the chunk: {inputs:?}"
    );
    assert!(
        inputs.contains(&"task: search result | query: how long to europe".to_owned()),
        "{inputs:?}"
    );
    assert!(
        inputs.contains(&"task: search result | query: where is my parcel".to_owned()),
        "{inputs:?}"
    );
    assert!(
        has("title: none | text: ", "held at customs"),
        "the account fact: {inputs:?}"
    );
    assert!(
        inputs.iter().all(|t| t.starts_with("title: none | text: ")
            || t.starts_with("task: search result | query: ")),
        "every text has its prompt: {inputs:?}"
    );
}
