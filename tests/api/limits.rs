//! Rate limits on the widget's endpoints: per visitor, per address and per workspace, with
//! defaults a workspace can change; over a limit, 429 with `Retry-After` and the JSON error
//! with `retry_after`; another visitor or workspace is not held back.

use halo_tests::{app, Workspace};
use serde_json::json;

fn set_limits(ws: &Workspace, limits: serde_json::Value) -> halo_tests::Reply {
    ws.call(
        "PATCH",
        &format!("/api/admin/workspaces/{}", ws.org_id),
        Some(&ws.admin_token),
        Some(json!({ "limits": limits })),
    )
}

#[test]
fn a_visitors_21st_message_in_a_minute_waits_and_another_visitor_does_not() {
    let ws = app().workspace();
    let first = ws.chat(json!({ "message": "hello", "user_id": "fast-1" }));
    assert_eq!(first.status, 200, "{}", first.body);
    let session = first.body["session_id"].as_str().unwrap().to_owned();
    for i in 1..20 {
        let r = ws.chat(json!({ "message": format!("message {i}"), "user_id": "fast-1", "session_id": session }));
        assert_eq!(r.status, 200, "message {i}: {}", r.body);
    }
    let refused =
        ws.chat(json!({ "message": "one too many", "user_id": "fast-1", "session_id": session }));
    assert_eq!(
        (refused.status, refused.error().0.as_str()),
        (429, "rate_limited"),
        "{}",
        refused.body
    );
    let wait = refused.body["error"]["retry_after"]
        .as_u64()
        .expect("retry_after");
    assert!((1..=60).contains(&wait), "{wait}");
    assert_eq!(
        refused.header("retry-after"),
        Some(wait.to_string().as_str())
    );
    assert!(refused.body["error"]["message"]
        .as_str()
        .is_some_and(|m| !m.is_empty()));
    assert_eq!(
        ws.chat(json!({ "message": "hi", "user_id": "patient-2" }))
            .status,
        200
    );
    // The refused message was not stored: the conversation has the 20 that were let in.
    let transcript = ws.conversation(&session);
    let users = transcript.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "user")
        .count();
    assert_eq!(users, 20);
}

#[test]
fn a_workspace_lowers_its_own_limit_and_other_workspaces_keep_theirs() {
    let ws = app().workspace();
    assert_eq!(
        set_limits(&ws, json!({ "chat_per_workspace": 3 })).status,
        200
    );
    for i in 0..3 {
        assert_eq!(
            ws.chat(json!({ "message": "hi", "user_id": format!("v-{i}") }))
                .status,
            200,
            "{i}"
        );
    }
    let refused = ws.chat(json!({ "message": "hi", "user_id": "v-9" }));
    assert_eq!(refused.status, 429, "{}", refused.body);
    let other = app().workspace();
    assert_eq!(
        other
            .chat(json!({ "message": "hi", "user_id": "v-9" }))
            .status,
        200
    );
}

#[test]
fn limits_are_validated_and_read_back() {
    let ws = app().workspace();
    for (limits, field) in [
        (json!({ "chat_per_visitor": 0 }), "limits.chat_per_visitor"),
        (json!({ "chat_per_ip": "lots" }), "limits.chat_per_ip"),
        (json!({ "per_fortnight": 5 }), "limits.per_fortnight"),
    ] {
        let r = set_limits(&ws, limits);
        assert_eq!(
            (r.status, r.body["error"]["field"].as_str()),
            (400, Some(field)),
            "{}",
            r.body
        );
    }
    let (_, _, owner) = ws.signed_in("owner");
    owner.call(
        "PATCH",
        "/api/console/workspace",
        Some(json!({ "limits": { "chat_per_visitor": 7 } })),
    );
    let read = owner.call("GET", "/api/console/workspace", None);
    assert_eq!(read.body["limits"]["chat_per_visitor"], 7);
    assert_eq!(
        read.body["limits"]["chat_per_ip"], 120,
        "the others keep their defaults"
    );
}

#[test]
fn identify_calls_have_their_own_looser_limit() {
    let ws = app().workspace();
    assert_eq!(
        set_limits(&ws, json!({ "calls_per_visitor": 2 })).status,
        200
    );
    let identify = || {
        ws.call(
            "POST",
            "/api/sdk/widget/identify",
            Some(&ws.widget_key),
            Some(json!({ "user_id": "id-1", "name": "Ida" })),
        )
    };
    assert_eq!(identify().status, 200);
    assert_eq!(identify().status, 200);
    let refused = identify();
    assert_eq!(refused.status, 429, "{}", refused.body);
    // Chat is counted apart.
    assert_eq!(
        ws.chat(json!({ "message": "hi", "user_id": "id-1" }))
            .status,
        200
    );
}

#[test]
fn the_widget_tells_a_rate_limited_visitor_when_to_try_again_and_keeps_the_text() {
    let ws = app().workspace();
    assert_eq!(
        set_limits(&ws, json!({ "chat_per_visitor": 1 })).status,
        200
    );
    halo_tests::browser_test("limits.mjs", &[&ws.base, &ws.org_id, &ws.widget_key]);
}
