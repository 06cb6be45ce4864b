//! Data attached to a message (traits and context of any shape) never costs the message: what
//! cannot be used is left out with a warning, everything else is stored as it was sent and
//! reaches the AI.

use halo_tests::{app, call, Reply, Workspace};
use serde_json::{json, Value};

fn post(ws: &Workspace, path: &str, body: Value) -> Reply {
    call(app(), "POST", path, Some(&ws.secret_key), Some(body))
}

/// `(field, code)` of each warning, sorted.
fn warnings(r: &Reply) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = r.body["warnings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|w| {
            assert!(w["message"].as_str().is_some_and(|m| !m.is_empty()), "{w}");
            (
                w["field"].as_str().unwrap_or("").to_owned(),
                w["code"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(f, c)| (f.to_string(), c.to_string()))
        .collect()
}

/// Context as real apps send it: typed entries whose values are not the shape the renderer
/// prefers, and a few entries that cannot be used at all.
fn odd_context() -> Value {
    json!({
        "seats": { "label": "Seats", "type": "metric", "value": "12 of 40" },
        "order": { "label": "Latest order", "type": "status", "value": { "state": "shipped", "carrier": { "name": "DHL", "tracking": null } } },
        "shipping": { "label": "Shipping rule", "type": "config", "value": "Orders over 50 EUR ship free" },
        "items": { "label": "Cart", "type": "list", "value": ["socks", { "name": "Boots", "size": 42 }, [1, 2]] },
        "weather": { "label": "Weather", "type": "weather", "value": "sunny" },
        "no_label": { "value": "orphan" },
        "not_an_entry": "hello",
    })
}

#[test]
fn a_message_with_context_of_any_shape_is_answered_and_the_unusable_entries_are_warned_about() {
    let ws = app().workspace();
    let r = ws.chat(
        json!({ "message": "Where is my order?", "user_id": "shape-1", "context": odd_context(),
                "custom_fields": { "address": { "city": "Lyon" }, "bio": "x".repeat(1_001) } }),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(!r.body["text"].as_str().unwrap_or("").is_empty());
    assert_eq!(
        warnings(&r),
        pairs(&[
            ("context.no_label.label", "missing_field"),
            ("context.not_an_entry", "invalid_type"),
            ("context.weather.type", "unknown_type"),
            ("custom_fields.bio", "too_long"),
        ])
    );
    let session = r.session_id();
    let t = ws.conversation(session);
    let messages = t.body["messages"].as_array().unwrap();
    assert_eq!(
        messages[0]["text"], "Where is my order?",
        "the message is stored"
    );
    let seen = messages[1]["trace"]["context"].as_str().unwrap();
    for fact in [
        "- 12 of 40",
        "- Carrier: name: DHL, tracking: none",
        "- State: shipped",
        "- Orders over 50 EUR ship free",
        "- \"Boots\" (size: 42)",
        "[Weather] (custom)\n- sunny",
        "Address: city: Lyon",
    ] {
        assert!(seen.contains(fact), "{fact:?} not in:\n{seen}");
    }
    assert!(!seen.contains("orphan"), "{seen}");
}

#[test]
fn context_that_is_not_an_object_costs_nothing_but_itself() {
    let ws = app().workspace();
    let r = ws.chat(json!({ "message": "hello there", "context": [1, 2], "custom_fields": "pro" }));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        warnings(&r),
        pairs(&[
            ("context", "invalid_type"),
            ("custom_fields", "invalid_type")
        ])
    );
    let r = ws.chat(json!({ "message": "hello there" }));
    assert!(
        r.body.get("warnings").is_none(),
        "no warnings key when all is well"
    );
}

#[test]
fn history_and_behavior_the_page_got_wrong_cost_only_themselves() {
    let ws = app().workspace();
    let r = ws.chat(json!({
        "message": "Is my parcel still at customs?",
        "history": [
            { "role": "narrator", "text": "once upon a time" },
            { "role": "user", "text": "I ordered boots" },
            "a line that is not an object",
            { "role": "assistant" },
        ],
        "behavior": format!("viewed /orders; {}", "clicked refresh; ".repeat(400)),
    }));
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(!r.body["text"].as_str().unwrap_or("").is_empty());
    assert_eq!(
        warnings(&r),
        pairs(&[
            ("behavior", "too_long"),
            ("history[0].role", "invalid_value"),
            ("history[2]", "invalid_type"),
            ("history[3].text", "missing_field"),
        ])
    );
    let t = ws.conversation(r.session_id());
    assert_eq!(
        t.body["messages"][0]["text"], "Is my parcel still at customs?",
        "the message is stored"
    );
}

#[test]
fn identify_and_context_endpoints_keep_what_they_can_and_warn_about_the_rest() {
    let ws = app().workspace();
    let r = post(
        &ws,
        "/api/sdk/users/identify",
        json!({ "user_id": "shape-2", "prefs": { "lang": "fr", "digest": false },
                "bio": "x".repeat(1_001), "context": odd_context(),
                "company": { "company_id": "acme", "context": { "bad": 1 } } }),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        warnings(&r),
        pairs(&[
            ("bio", "too_long"),
            ("company.context.bad", "invalid_type"),
            ("context.no_label.label", "missing_field"),
            ("context.not_an_entry", "invalid_type"),
            ("context.weather.type", "unknown_type"),
        ])
    );
    let user = &r.body["user"];
    assert_eq!(
        user["custom_fields"]["prefs"],
        json!({ "lang": "fr", "digest": false })
    );
    assert_eq!(user["context"]["seats"]["value"], "12 of 40");

    let r = post(
        &ws,
        "/api/sdk/context",
        json!({ "user_id": "shape-2", "set": { "x": { "label": "X", "value": "v".repeat(9_000) } } }),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(warnings(&r), pairs(&[("set.x.value", "too_long")]));
    assert!(r.body["context"].get("x").is_none());
    assert_eq!(
        r.body["context"]["seats"]["value"], "12 of 40",
        "the rest is kept"
    );

    let r = call(
        app(),
        "POST",
        "/api/sdk/widget/identify",
        Some(&ws.widget_key),
        Some(
            json!({ "user_id": "shape-3", "context": { "m": { "label": "Usage", "type": "metric", "value": { "deep": [1, { "a": null }] } }, "z": 5 } }),
        ),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(warnings(&r), pairs(&[("context.z", "invalid_type")]));
}

#[test]
fn any_value_is_stored_as_sent_and_replaced_whole() {
    let ws = app().workspace();
    let value =
        json!({ "a": null, "b": [1, null, { "c": false }], "d": { "e": { "f": "g" } }, "t": true });
    let r = post(
        &ws,
        "/api/sdk/users/identify",
        json!({ "user_id": "shape-4", "prefs": value, "context": { "k": { "label": "K", "type": "status", "value": value } } }),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let read = || {
        call(
            app(),
            "GET",
            "/api/sdk/users/shape-4",
            Some(&ws.secret_key),
            None,
        )
        .body
    };
    let u = read();
    assert_eq!(
        u["user"]["custom_fields"]["prefs"], value,
        "nulls and nesting survive"
    );
    assert_eq!(u["user"]["context"]["k"]["value"], value);

    // A new value replaces the old one whole: nothing of the old one is blended in.
    let r = post(
        &ws,
        "/api/sdk/users/identify",
        json!({ "user_id": "shape-4", "prefs": { "d": 1 }, "big": 12_345_678_901_234_567_890u64,
                "context": { "k": { "label": "K", "value": null } } }),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let u = read();
    assert_eq!(u["user"]["custom_fields"]["prefs"], json!({ "d": 1 }));
    assert_eq!(
        u["user"]["context"]["k"],
        json!({ "label": "K", "value": null })
    );
    // Numbers keep every digit, also when another key is written later.
    post(
        &ws,
        "/api/sdk/users/identify",
        json!({ "user_id": "shape-4", "other": 1 }),
    );
    assert_eq!(
        read()["user"]["custom_fields"]["big"],
        json!(12_345_678_901_234_567_890u64)
    );
}

#[test]
fn a_context_update_whose_entries_were_all_left_out_writes_nothing() {
    let ws = app().workspace();
    let r = post(
        &ws,
        "/api/sdk/context",
        json!({ "user_id": "nobody-yet", "set": { "x": "not an entry" } }),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(warnings(&r), pairs(&[("set.x", "invalid_type")]));
    let u = call(
        app(),
        "GET",
        "/api/sdk/users/nobody-yet",
        Some(&ws.secret_key),
        None,
    );
    assert_eq!(u.status, 404, "no contact was made: {}", u.body);
}

#[test]
fn a_value_nested_deeper_than_the_parser_reads_costs_its_entry_not_the_message() {
    let ws = app().workspace();
    // 200 levels: valid JSON, past what the JSON parser takes (128).
    let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
    let body = format!(
        r#"{{"message":"is my parcel [still] held?","user_id":"deep-1","context":{{"deep":{{"label":"Deep","value":{deep}}},"parcels":{{"label":"Parcels","type":"list","value":[{{"name":"PX-9","status":"held at customs"}}]}}}}}}"#
    );
    let r = halo_tests::send(
        app(),
        "POST",
        "/api/sdk/chat",
        Some(&ws.widget_key),
        &[],
        Some(body),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        warnings(&r),
        pairs(&[("context.deep.value", "invalid_value")])
    );
    let text = r.body["text"].as_str().unwrap();
    assert!(text.contains("PX-9"), "{text}");
}

#[test]
fn identify_names_a_company_by_its_id_and_keeps_an_email_that_is_not_text() {
    let ws = app().workspace();
    let r = post(
        &ws,
        "/api/sdk/users/identify",
        json!({ "user_id": "odd-id-1", "company": "acme-co", "name": 42, "email": { "work": "a@b.test" } }),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let read = || {
        call(
            app(),
            "GET",
            "/api/sdk/users/odd-id-1",
            Some(&ws.secret_key),
            None,
        )
        .body
    };
    let u = read();
    assert_eq!(u["user"]["company_id"], "acme-co", "{u}");
    assert_eq!(u["user"]["name"], "42", "{u}");
    // An object is no email address: it is kept whole, among the custom traits.
    assert!(u["user"]["email"].is_null(), "{u}");
    assert_eq!(
        u["user"]["custom_fields"]["email"],
        json!({ "work": "a@b.test" }),
        "{u}"
    );
    // Text again: the column holds it, and the object is gone.
    post(
        &ws,
        "/api/sdk/users/identify",
        json!({ "user_id": "odd-id-1", "email": "c@d.test" }),
    );
    let u = read();
    assert_eq!(u["user"]["email"], "c@d.test", "{u}");
    assert!(u["user"]["custom_fields"].get("email").is_none(), "{u}");
    let bad = post(
        &ws,
        "/api/sdk/users/identify",
        json!({ "user_id": "odd-id-2", "company": 7 }),
    );
    assert_eq!(
        (bad.status, bad.body["error"]["field"].as_str()),
        (400, Some("company")),
        "{}",
        bad.body
    );
}
