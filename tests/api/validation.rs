use halo_tests::{app, send};
use serde_json::{json, Value};

/// Each bad request, the field the 400 must name, and its code.
fn bad_requests() -> Vec<(Value, &'static str, &'static str)> {
    vec![
        (json!({}), "message", "missing_field"),
        (json!({ "message": "" }), "message", "empty_field"),
        (json!({ "message": "   " }), "message", "empty_field"),
        (json!({ "message": 42 }), "message", "invalid_type"),
        (
            json!({ "message": "a".repeat(10_001) }),
            "message",
            "too_long",
        ),
        (
            json!({ "message": "hi", "user_id": 7 }),
            "user_id",
            "invalid_type",
        ),
        (
            json!({ "message": "hi", "user_id": "" }),
            "user_id",
            "empty_field",
        ),
        (
            json!({ "message": "hi", "user_token": ["x"] }),
            "user_token",
            "invalid_type",
        ),
        (
            json!({ "message": "hi", "session_id": "no spaces allowed" }),
            "session_id",
            "invalid_value",
        ),
        (
            json!({ "message": "hi", "company_id": {} }),
            "company_id",
            "invalid_type",
        ),
        (
            json!({ "message": "hi", "channel": "fax" }),
            "channel",
            "invalid_value",
        ),
        (
            json!({ "message": "hi", "agent_id": 1 }),
            "agent_id",
            "invalid_type",
        ),
        (
            json!({ "message": "hi", "agent_id": "no-such-agent" }),
            "agent_id",
            "invalid_value",
        ),
        (
            json!({ "message": "hi", "images": "https://x.test/a.png" }),
            "images",
            "invalid_type",
        ),
        (
            json!({ "message": "hi", "images": ["ftp://x.test/a.png"] }),
            "images[0]",
            "invalid_value",
        ),
        (
            json!({ "message": "hi", "images": ["data:text/html;base64,PGI+"] }),
            "images[0]",
            "invalid_value",
        ),
        (
            json!({ "message": "hi", "images": vec!["https://x.test/a.png"; 5] }),
            "images",
            "too_many",
        ),
        (json!(["message"]), "body", "invalid_type"),
    ]
}

#[test]
fn every_invalid_field_gets_a_400_that_names_it() {
    let app = app();
    let ws = app.workspace();
    for (body, field, code) in bad_requests() {
        let r = ws.chat(body.clone());
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        assert_eq!(
            r.error(),
            (code.to_owned(), Some(field.to_owned())),
            "{body}: {}",
            r.body
        );
        let message = r.body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(&format!("`{field}`")),
            "the message names the field: {message}"
        );
    }
}

#[test]
fn a_message_of_exactly_ten_thousand_characters_is_accepted() {
    let app = app();
    let ws = app.workspace();
    assert_eq!(
        ws.chat(json!({ "message": "ü".repeat(10_000) })).status,
        200
    );
}

#[test]
fn a_body_that_is_not_json_is_a_400() {
    let app = app();
    let ws = app.workspace();
    let r = send(
        app,
        "POST",
        "/api/sdk/chat",
        Some(&ws.widget_key),
        &[],
        Some("{not json".into()),
    );
    assert_eq!((r.status, r.error().0.as_str()), (400, "invalid_json"));
}

#[test]
fn an_oversized_body_is_a_413() {
    let app = app();
    let ws = app.workspace();
    let huge = json!({ "message": "hi", "behavior": "x".repeat(3 * 1024 * 1024) }).to_string();
    let r = send(
        app,
        "POST",
        "/api/sdk/chat",
        Some(&ws.widget_key),
        &[],
        Some(huge),
    );
    assert_eq!((r.status, r.error().0.as_str()), (413, "payload_too_large"));
}

#[test]
fn a_refused_request_stores_nothing() {
    let app = app();
    let ws = app.workspace();
    let r =
        ws.chat(json!({ "message": "hi", "session_id": "refused-session-1", "channel": "fax" }));
    assert_eq!(r.status, 400);
    assert_eq!(ws.conversation("refused-session-1").status, 404);
}

#[test]
fn unknown_routes_and_methods_answer_json_errors() {
    let app = app();
    let r = halo_tests::call(app, "GET", "/api/sdk/nope", None, None);
    assert_eq!((r.status, r.error().0.as_str()), (404, "not_found"));
    let r = halo_tests::call(app, "GET", "/api/sdk/chat", None, None);
    assert_eq!(r.status, 405);
    let r = halo_tests::call(app, "DELETE", "/nothing-here", None, None);
    assert_eq!((r.status, r.error().0.as_str()), (404, "not_found"));
}

#[test]
fn all_documented_fields_together_are_accepted() {
    let app = app();
    let ws = app.workspace();
    let r = ws.chat(json!({
            "message": "Why is Google Ads not syncing?",
                        "user_id": "u-1", "user_token": halo_tests::user_token(&ws, json!({ "user_id": "u-1" })), "session_id": "client-chosen-123",

            "company_id": "acme", "channel": "livehelp", "agent_id": ws.agent_id,
            "images": ["https://x.test/a.png", "data:image/png;base64,iVBORw0KGgo="],
            "custom_fields": { "plan": "pro", "seats": 3, "trial": false },
            "context": { "integrations": { "label": "Connected Integrations", "type": "integration", "value": [{ "name": "Google Ads", "status": "error" }] } },
            "history": [{ "speaker": "user", "text": "hi" }, { "role": "assistant", "content": "hello" }],
            "behavior": "visited /integrations 3 times"
        }),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["session_id"], json!("client-chosen-123"));
}
