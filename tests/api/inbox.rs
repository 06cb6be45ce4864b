//! Teammates and the inbox: take over a live conversation, reply as a person, hand back.

use halo_tests::{app, call, chat, conversation, teammate};
use serde_json::json;

fn inbox(
    token: &str,
    session: &str,
    action: &str,
    body: Option<serde_json::Value>,
) -> halo_tests::Reply {
    call(
        app(),
        "POST",
        &format!("/api/inbox/conversations/{session}/{action}"),
        Some(token),
        Some(body.unwrap_or(json!({}))),
    )
}

#[test]
fn a_teammate_takes_over_replies_and_hands_back() {
    let app = app();
    let ws = app.workspace();
    let (alex, token) = teammate(&ws, "Alex");
    let first = chat(
        app,
        &ws,
        json!({ "message": "My export keeps failing", "user_id": "u-in" }),
    );
    let session = first.body["session_id"].as_str().unwrap().to_owned();

    let taken = inbox(&token, &session, "takeover", None);
    assert_eq!(taken.status, 200, "{}", taken.body);
    let ticket_id = taken.body["ticket_id"].as_str().unwrap().to_owned();
    let ticket = call(
        app,
        "GET",
        &format!("/api/sdk/tickets/{ticket_id}"),
        Some(&ws.secret_key),
        None,
    )
    .body;
    assert_eq!(
        (
            &ticket["ticket"]["status"],
            &ticket["ticket"]["assignee"],
            &ticket["ticket"]["source"]
        ),
        (&json!("in_progress"), &json!(alex), &json!("takeover"))
    );

    let quiet = chat(
        app,
        &ws,
        json!({ "message": "hello? anyone?", "user_id": "u-in", "session_id": session }),
    );
    assert_eq!(
        quiet.body["routed"],
        json!({ "action": "taken_over", "ticket_id": ticket_id }),
        "{}",
        quiet.body
    );
    let t = conversation(app, &ws, &session).body;
    let roles: Vec<&str> = t["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(
        roles,
        ["user", "ai", "system", "user"],
        "the AI stayed quiet"
    );

    let replied = inbox(
        &token,
        &session,
        "reply",
        Some(json!({ "text": "Hi, Alex here: try exporting again now." })),
    );
    assert_eq!(replied.status, 200, "{}", replied.body);
    let t = conversation(app, &ws, &session).body;
    assert_eq!(
        t["messages"].as_array().unwrap().last().unwrap()["role"],
        json!("teammate")
    );
    let thread = call(
        app,
        "GET",
        &format!("/api/sdk/tickets/{ticket_id}"),
        Some(&ws.secret_key),
        None,
    )
    .body["messages"]
        .clone();
    let authors: Vec<&str> = thread
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["author"].as_str().unwrap())
        .collect();
    assert_eq!(
        authors,
        ["system", "customer", "teammate"],
        "transcript, customer message, teammate reply"
    );

    assert_eq!(inbox(&token, &session, "handback", None).status, 200);
    let answered = chat(
        app,
        &ws,
        json!({ "message": "thanks!", "user_id": "u-in", "session_id": session }),
    );
    assert!(
        answered.body.get("routed").is_none(),
        "the AI answers again: {}",
        answered.body
    );
    assert_eq!(
        answered.body["text"],
        json!("You're welcome! Anything else I can help with?")
    );
}

#[test]
fn the_inbox_takes_only_teammate_tokens_of_the_same_workspace() {
    let app = app();
    let a = app.workspace();
    let b = app.workspace();
    let (_, b_token) = teammate(&b, "Bea");
    let session = chat(app, &a, json!({ "message": "hi" })).body["session_id"]
        .as_str()
        .unwrap()
        .to_owned();
    for key in [&a.secret_key, &a.widget_key, &app.admin_token] {
        assert_eq!(inbox(key, &session, "takeover", None).status, 401);
    }
    assert_eq!(
        inbox(&b_token, &session, "takeover", None).status,
        404,
        "another workspace's teammate"
    );
    assert_eq!(
        inbox(
            &b_token,
            &session,
            "reply",
            Some(json!({ "text": "hijack" }))
        )
        .status,
        404
    );
    let still = chat(
        app,
        &a,
        json!({ "message": "thanks!", "session_id": session }),
    );
    assert!(
        still.body.get("routed").is_none(),
        "A's conversation was not taken over"
    );
    let (_, a_token) = teammate(&a, "Ari");
    assert_eq!(
        inbox(&a_token, &session, "reply", Some(json!({}))).error(),
        ("missing_field".into(), Some("text".into()))
    );
    let wrong_admin = call(
        app,
        "POST",
        &format!("/api/admin/workspaces/{}/teammates", a.org_id),
        Some("nope"),
        Some(json!({ "name": "x" })),
    );
    assert_eq!(wrong_admin.status, 401);
}
