use halo_tests::{app, call, send};
use serde_json::json;

const REFUNDS: &str = "# Refunds\n\nYearly plans cancelled within 14 days are refunded in full. \
Refunds go back to the original card within 5 to 10 business days.";

#[test]
fn a_question_an_article_covers_is_answered_from_it_with_a_citation() {
    let app = app();
    let ws = app.workspace();
    ws.add_source(
        "Refund policy",
        "https://help.example.test/refunds",
        REFUNDS,
    );
    let r = ws.chat(json!({ "message": "How long do refunds take to reach my card?" }));
    assert_eq!(r.status, 200, "{}", r.body);
    let text = r.body["text"].as_str().unwrap();
    assert!(text.contains("5 to 10 business days"), "{text}");
    assert_eq!(
        r.body["citations"],
        json!([{ "title": "Refund policy", "url": "https://help.example.test/refunds" }])
    );
    assert_eq!(r.body["agent_id"], json!(ws.agent_id));
    assert_eq!(r.body["actions"], json!([]));
    let confidence = r.body["confidence"].as_f64().unwrap();
    assert!((0.7..=1.0).contains(&confidence), "{confidence}");
    assert!(r.body.get("routed").is_none());
}

#[test]
fn a_question_nothing_covers_is_a_plain_miss_that_offers_a_person() {
    let app = app();
    let ws = app.workspace();
    ws.add_source(
        "Refund policy",
        "https://help.example.test/refunds",
        REFUNDS,
    );
    let r = ws.chat(json!({ "message": "Does the mobile app support dark mode?" }));
    assert_eq!(r.status, 200);
    assert!(
        r.body["text"].as_str().unwrap().contains("couldn't find"),
        "{}",
        r.body
    );
    assert_eq!(
        r.body["actions"],
        json!([{ "type": "offer_human", "reason": "no_answer" }])
    );
    assert_eq!(r.body["citations"], json!([]));
    assert!(r.body["confidence"].as_f64().unwrap() < 0.3);
}

#[test]
fn one_workspace_never_answers_from_another_workspaces_articles() {
    let app = app();
    let a = app.workspace();
    let b = app.workspace();
    a.add_source("Refund policy", "https://a.example.test/refunds", REFUNDS);
    let own = a.chat(json!({ "message": "How long do refunds take?" }));
    assert_eq!(
        own.body["citations"][0]["title"],
        json!("Refund policy"),
        "the owner finds it: {}",
        own.body
    );
    let r = b.chat(json!({ "message": "How long do refunds take?" }));

    assert_eq!(r.body["citations"], json!([]), "{}", r.body);
    assert!(!r.body["text"].as_str().unwrap().contains("business days"));
}

#[test]
fn a_session_id_is_issued_and_passing_it_back_continues_the_conversation() {
    let app = app();
    let ws = app.workspace();
    let first = ws.chat(json!({ "message": "hello" }));
    let session = first.session_id().to_owned();
    assert!(session.len() >= 8);
    let second = ws.chat(json!({ "message": "thanks!", "session_id": session }));
    assert_eq!(second.body["session_id"], json!(session));
    let other = ws.chat(json!({ "message": "hello" }));
    assert_ne!(
        other.body["session_id"],
        json!(session),
        "no session id sent: a new conversation"
    );

    let t = ws.conversation(&session);
    assert_eq!(t.status, 200);
    let roles: Vec<&str> = t.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["user", "ai", "user", "ai"]);
    assert_eq!(t.body["messages"][2]["text"], json!("thanks!"));
}

#[test]
fn the_users_message_and_the_reply_are_stored_with_the_user() {
    let app = app();
    let ws = app.workspace();
    let r = ws.chat(json!({ "message": "Where is my invoice?", "user_id": "user-77", "custom_fields": { "plan": "pro" } }),
    );
    let t = ws.conversation(r.session_id());
    assert_eq!(t.body["user_id"], json!("user-77"));
    assert_eq!(t.body["messages"][0]["text"], json!("Where is my invoice?"));
    assert_eq!(t.body["messages"][1]["text"], r.body["text"]);
    assert_eq!(t.body["messages"][1]["engine"], json!("offline"));
}

#[test]
fn another_users_session_is_never_continued() {
    let app = app();
    let ws = app.workspace();
    let alice = ws.chat(json!({ "message": "hi", "user_id": "alice" }));
    let session = alice.session_id();
    let mallory = ws.chat(
        json!({ "message": "what did alice say?", "user_id": "mallory", "session_id": session }),
    );
    assert_eq!(mallory.status, 200);
    assert_ne!(mallory.body["session_id"], json!(session));
    let t = ws.conversation(session);
    assert_eq!(
        t.body["messages"].as_array().unwrap().len(),
        2,
        "alice's conversation is untouched"
    );
}

#[test]
fn a_session_of_workspace_a_is_invisible_to_workspace_b() {
    let app = app();
    let a = app.workspace();
    let b = app.workspace();
    let r = a.chat(json!({ "message": "hello from A" }));
    let session = r.session_id();
    assert_eq!(b.conversation(session).status, 404);
    let via_b = b.chat(json!({ "message": "hello from B", "session_id": session }));
    assert_eq!(via_b.status, 200);
    let t = a.conversation(session);
    let texts: Vec<&str> = t.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert!(!texts.contains(&"hello from B"), "{texts:?}");
}

#[test]
fn a_missing_malformed_or_unknown_widget_key_is_401() {
    let app = app();
    let ws = app.workspace();
    let body = Some(json!({ "message": "hi" }));
    let none = call(app, "POST", "/api/sdk/chat", None, body.clone());
    let malformed = call(
        app,
        "POST",
        "/api/sdk/chat",
        Some("ab_live_nothex"),
        body.clone(),
    );
    let unknown = call(
        app,
        "POST",
        "/api/sdk/chat",
        Some(&format!("ab_live_{}", "0".repeat(64))),
        body.clone(),
    );
    let secret_as_widget = call(app, "POST", "/api/sdk/chat", Some(&ws.secret_key), body);
    // The secret key is well made, only of the wrong kind: the answer says which it takes.
    assert!(
        secret_as_widget.body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("widget key")),
        "{}",
        secret_as_widget.body
    );
    for r in [none, malformed, unknown, secret_as_widget] {
        assert_eq!(
            (r.status, r.error().0.as_str()),
            (401, "unauthorized"),
            "{}",
            r.body
        );
        assert!(r.body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));
    }
}

#[test]
fn the_widget_key_cannot_use_secret_key_endpoints() {
    let app = app();
    let ws = app.workspace();
    let r = ws.chat(json!({ "message": "hi" }));
    let session = r.session_id();
    let read = call(
        app,
        "GET",
        &format!("/api/sdk/conversations/{session}"),
        Some(&ws.widget_key),
        None,
    );
    assert_eq!(
        (read.status, read.error().0.as_str()),
        (403, "secret_key_required")
    );
    let write = call(
        app,
        "POST",
        "/api/sdk/knowledge/sources",
        Some(&ws.widget_key),
        Some(json!({ "title": "t", "content": "c" })),
    );
    assert_eq!(write.status, 403);
}

#[test]
fn cors_preflight_is_answered_and_any_origin_may_chat_by_default() {
    let app = app();
    let ws = app.workspace();
    let pre = send(
        app,
        "OPTIONS",
        "/api/sdk/chat",
        None,
        &[
            ("origin", "https://shop.example"),
            ("access-control-request-method", "POST"),
            (
                "access-control-request-headers",
                "authorization, content-type",
            ),
        ],
        None,
    );
    assert_eq!(pre.status, 204);
    assert_eq!(pre.header("access-control-allow-origin"), Some("*"));
    assert!(pre
        .header("access-control-allow-headers")
        .unwrap()
        .contains("authorization"));
    assert_eq!(pre.header("access-control-allow-credentials"), None);
    let r = send(
        app,
        "POST",
        "/api/sdk/chat",
        Some(&ws.widget_key),
        &[("origin", "https://shop.example")],
        Some(json!({ "message": "hi" }).to_string()),
    );
    assert_eq!(
        (r.status, r.header("access-control-allow-origin")),
        (200, Some("*"))
    );
}

#[test]
fn a_workspace_can_restrict_the_origins_that_may_use_its_widget_key() {
    let app = app();
    let ws = app.workspace_with(
        json!({ "name": "Strict", "allowed_origins": ["https://app.strict.example"] }),
    );
    let body = Some(json!({ "message": "hi" }).to_string());
    let ok = send(
        app,
        "POST",
        "/api/sdk/chat",
        Some(&ws.widget_key),
        &[("origin", "https://app.strict.example")],
        body.clone(),
    );
    assert_eq!(ok.status, 200);
    assert_eq!(
        ok.header("access-control-allow-origin"),
        Some("https://app.strict.example")
    );
    let other = send(
        app,
        "POST",
        "/api/sdk/chat",
        Some(&ws.widget_key),
        &[("origin", "https://evil.example")],
        body.clone(),
    );
    assert_eq!(
        (other.status, other.error().0.as_str()),
        (403, "origin_not_allowed")
    );

    let open = call(
        app,
        "PATCH",
        &format!("/api/admin/workspaces/{}", ws.org_id),
        Some(&app.admin_token),
        Some(json!({ "allowed_origins": null })),
    );
    assert_eq!(
        (open.status, &open.body["allowed_origins"]),
        (200, &json!(null))
    );
    let now_ok = send(
        app,
        "POST",
        "/api/sdk/chat",
        Some(&ws.widget_key),
        &[("origin", "https://evil.example")],
        body,
    );
    assert_eq!(now_ok.status, 200);
}

#[test]
fn asking_for_a_person_flags_the_conversation_for_the_team() {
    let app = app();
    let ws = app.workspace();
    let r = ws.chat(json!({ "message": "I want to talk to a human please" }));
    assert_eq!(
        r.body["actions"][0],
        json!({ "type": "offer_human", "reason": "user_requested" })
    );
    assert_eq!(
        r.body["actions"][1]["type"],
        json!("create_ticket"),
        "{}",
        r.body
    );
    let t = ws.conversation(r.session_id());
    assert_eq!(t.body["needs_human"], json!(true));
}

#[test]
fn a_refused_key_is_401_even_when_the_body_is_also_wrong() {
    let app = app();
    let unknown = format!("ab_live_{}", "1".repeat(64));
    let r = call(
        app,
        "POST",
        "/api/sdk/chat",
        Some(&unknown),
        Some(json!({ "channel": "fax" })),
    );
    assert_eq!((r.status, r.error().0.as_str()), (401, "unauthorized"));
    let r = send(
        app,
        "POST",
        "/api/sdk/chat",
        None,
        &[],
        Some("{not json".into()),
    );
    assert_eq!(r.status, 401);
}

#[test]
fn an_agent_of_another_workspace_cannot_answer() {
    let app = app();
    let a = app.workspace();
    let b = app.workspace();
    let r = b.chat(json!({ "message": "hi", "agent_id": a.agent_id }));
    assert_eq!(
        (r.status, r.error()),
        (400, ("invalid_value".into(), Some("agent_id".into())))
    );
    let own = b.chat(json!({ "message": "hi", "agent_id": b.agent_id }));
    assert_eq!(
        (own.status, &own.body["agent_id"]),
        (200, &json!(b.agent_id))
    );
}
