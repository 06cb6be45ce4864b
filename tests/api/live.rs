//! Live updates: the widget's and the inbox's WebSockets (a Durable Object per conversation
//! and one feed per workspace), and the catch-up read for a widget that was away.

use std::time::Duration;

use halo_tests::{app, call, live_socket, next_event, send, teammate};
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(10);

fn reply(token: &str, session: &str, text: &str) -> Value {
    let r = call(
        app(),
        "POST",
        &format!("/api/inbox/conversations/{session}/reply"),
        Some(token),
        Some(json!({ "text": text })),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

/// The next `messages` event whose first line is by `role`. The first chat turn's own event is
/// published after its response (`waitUntil`), so it may still arrive after a socket connects:
/// it is skipped.
fn event_from(socket: &mut halo_tests::Socket, role: &str) -> Option<Value> {
    loop {
        let e = next_event(socket, WAIT)?;
        if e["messages"][0]["role"] == role {
            return Some(e);
        }
    }
}

/// Whether any event within a short wait mentions `text`.
fn hears(socket: &mut halo_tests::Socket, text: &str) -> bool {
    while let Some(e) = next_event(socket, Duration::from_millis(800)) {
        if e.to_string().contains(text) {
            return true;
        }
    }
    false
}

/// The (role, text) pairs of a `messages` event.
fn lines(event: &Value) -> Vec<(String, String)> {
    assert_eq!(event["type"], "messages", "{event}");
    event["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["role"].as_str().unwrap().to_owned(),
                m["text"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn a_teammate_reply_reaches_the_widget_socket_and_the_feed_at_once() {
    let app = app();
    let ws = app.workspace();
    let (_, token) = teammate(&ws, "Sam");
    let first = ws.chat(json!({ "message": "Where is my invoice?" }));
    let session = first.session_id().to_owned();

    let mut widget = live_socket(
        app,
        &format!(
            "/api/sdk/conversations/{session}/live?key={}",
            ws.widget_key
        ),
    )
    .expect("the widget connects with its key and session");
    let mut feed = live_socket(app, &format!("/api/inbox/live?token={token}"))
        .expect("a teammate connects to the feed");

    let sent = reply(&token, &session, "Hi, Sam here. Checking your invoice now.");
    let event = event_from(&mut widget, "teammate").expect("the widget hears the reply");
    assert_eq!(
        lines(&event),
        [(
            "teammate".to_owned(),
            "Hi, Sam here. Checking your invoice now.".to_owned()
        )]
    );
    assert_eq!(event["session_id"], json!(session));
    assert_eq!(event["messages"][0]["id"], sent["message_id"]);
    let fed = event_from(&mut feed, "teammate").expect("the feed hears the reply");
    assert_eq!(fed, event);

    // The customer's next message and the AI's answer reach the feed as they happen.
    ws.chat(json!({ "message": "Thanks, and how do I reset my password?", "session_id": session }));
    let fed = event_from(&mut feed, "user").expect("the feed hears the chat turn");
    let roles: Vec<String> = lines(&fed).into_iter().map(|(r, _)| r).collect();
    assert_eq!(roles, ["user", "ai"]);
    assert_eq!(lines(&fed)[0].1, "Thanks, and how do I reset my password?");
}

#[test]
fn sockets_are_scoped_to_their_workspace_and_conversation() {
    let app = app();
    let a = app.workspace();
    let b = app.workspace();
    let (_, token_a) = teammate(&a, "Ann");
    let (_, token_b) = teammate(&b, "Bob");
    let s_a = a.chat(json!({ "message": "hello from a" })).body["session_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let s_a2 = a.chat(json!({ "message": "another visitor of a" })).body["session_id"]
        .as_str()
        .unwrap()
        .to_owned();

    // B's key and B's teammate cannot open A's conversation.
    let path = |key: &str, s: &str| format!("/api/sdk/conversations/{s}/live?key={key}");
    assert_eq!(
        live_socket(app, &path(&b.widget_key, &s_a)).err(),
        Some(404)
    );
    assert_eq!(
        live_socket(
            app,
            &format!("/api/inbox/conversations/{s_a}/live?token={token_b}")
        )
        .err(),
        Some(404)
    );
    assert_eq!(
        live_socket(app, &path("ab_live_nope", &s_a)).err(),
        Some(401)
    );
    assert_eq!(
        live_socket(app, &path(&a.secret_key, &s_a)).err(),
        Some(401)
    );
    assert_eq!(live_socket(app, "/api/inbox/live?token=").err(), Some(401));

    let mut feed_b = live_socket(app, &format!("/api/inbox/live?token={token_b}")).unwrap();
    let mut other_visitor = live_socket(app, &path(&a.widget_key, &s_a2)).unwrap();
    let mut visitor = live_socket(app, &path(&a.widget_key, &s_a)).unwrap();
    reply(&token_a, &s_a, "only for the first visitor");
    let heard = event_from(&mut visitor, "teammate").expect("the visitor hears it");
    assert_eq!(heard["messages"][0]["text"], "only for the first visitor");
    assert!(
        !hears(&mut other_visitor, "only for the first visitor"),
        "another conversation of the same workspace hears nothing"
    );
    assert_eq!(
        next_event(&mut feed_b, Duration::from_millis(800)),
        None,
        "another workspace's feed hears nothing"
    );
}

#[test]
fn a_plain_request_to_a_socket_endpoint_is_told_to_upgrade() {
    let app = app();
    let ws = app.workspace();
    let s = ws.chat(json!({ "message": "hi" })).body["session_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = send(
        app,
        "GET",
        &format!("/api/sdk/conversations/{s}/live?key={}", ws.widget_key),
        None,
        &[],
        None,
    );
    assert_eq!(r.status, 426, "{}", r.body);
    assert_eq!(r.error().0, "upgrade_required");
}

#[test]
fn a_widget_that_was_away_catches_up_on_teammate_lines() {
    let app = app();
    let ws = app.workspace();
    let (_, token) = teammate(&ws, "Kim");
    let s = ws
        .chat(json!({ "message": "My card was charged twice" }))
        .body["session_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let updates = |after: Option<i64>, key: &str| {
        let q = after.map(|a| format!("?after={a}")).unwrap_or_default();
        call(
            app,
            "GET",
            &format!("/api/sdk/conversations/{s}/updates{q}"),
            Some(key),
            None,
        )
    };
    assert_eq!(updates(None, &ws.widget_key).body["messages"], json!([]));

    let taken = call(
        app,
        "POST",
        &format!("/api/inbox/conversations/{s}/takeover"),
        Some(&token),
        Some(json!({})),
    );
    assert_eq!(taken.status, 200, "{}", taken.body);
    reply(&token, &s, "I see two charges; refunding one now.");

    let all = updates(None, &ws.widget_key);
    assert_eq!(all.status, 200, "{}", all.body);
    assert_eq!(all.body["taken_over"], json!(true));
    let got: Vec<(&str, &str)> = all.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["role"].as_str().unwrap(), m["text"].as_str().unwrap()))
        .collect();
    assert_eq!(
        got,
        [
            ("system", "Kim joined the conversation."),
            ("teammate", "I see two charges; refunding one now.")
        ]
    );
    let first_at = all.body["messages"][0]["created_at"].as_i64().unwrap();
    let last_at = all.body["messages"][1]["created_at"].as_i64().unwrap();
    let later = updates(Some(last_at), &ws.widget_key);
    assert_eq!(
        later.body["messages"],
        json!([]),
        "nothing after the last line"
    );
    let since = updates(Some(first_at - 1), &ws.widget_key);
    assert_eq!(
        since.body["messages"], all.body["messages"],
        "after is exclusive"
    );

    assert_eq!(updates(Some(-1), &ws.widget_key).status, 400);
    let other = app.workspace();
    assert_eq!(updates(None, &other.widget_key).status, 404);
    assert_eq!(updates(None, &ws.secret_key).status, 401);
}

#[test]
fn a_users_conversation_is_live_only_for_that_user() {
    let app = app();
    let ws = app.workspace();
    let s = ws
        .chat(json!({ "message": "hi", "user_id": "owner-1" }))
        .body["session_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = |q: &str| format!("/api/sdk/conversations/{s}/live?key={}{q}", ws.widget_key);
    assert_eq!(
        live_socket(app, &path("")).err(),
        Some(404),
        "no user named"
    );
    assert_eq!(
        live_socket(app, &path("&user_id=someone-else")).err(),
        Some(404)
    );
    assert!(live_socket(app, &path("&user_id=owner-1")).is_ok());
    let updates = |q: &str| {
        call(
            app,
            "GET",
            &format!("/api/sdk/conversations/{s}/updates?after=0{q}"),
            Some(&ws.widget_key),
            None,
        )
        .status
    };
    assert_eq!((updates(""), updates("&user_id=owner-1")), (404, 200));

    // Under identity verification the user's token is needed too.
    let r = call(
        app,
        "PATCH",
        &format!("/api/admin/workspaces/{}", ws.org_id),
        Some(&app.admin_token),
        Some(json!({ "identity_verification": true })),
    );
    assert_eq!(r.status, 200);
    assert_eq!(live_socket(app, &path("&user_id=owner-1")).err(), Some(401));
    let token = halo_tests::user_token(&ws, json!({ "user_id": "owner-1" }));
    assert!(live_socket(app, &path(&format!("&user_id=owner-1&user_token={token}"))).is_ok());
    assert_eq!(
        (
            updates("&user_id=owner-1"),
            updates(&format!("&user_id=owner-1&user_token={token}"))
        ),
        (401, 200)
    );
}
