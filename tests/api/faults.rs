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
