//! What the team sees about conversations: mood, outcome, the AI score, ratings, trainer
//! feedback, whispers, the abandon job; and escalation with priority filters, routing rules,
//! direct-to-team routing and the agent's confidence threshold.

use std::time::Duration;

use halo_tests::{app, call, send, teammate, Reply, Workspace};
use serde_json::{json, Value};

fn inbox_get(token: &str, path: &str) -> Reply {
    call(
        app(),
        "GET",
        &format!("/api/inbox/{path}"),
        Some(token),
        None,
    )
}

fn inbox_post(token: &str, path: &str, body: Value) -> Reply {
    call(
        app(),
        "POST",
        &format!("/api/inbox/{path}"),
        Some(token),
        Some(body),
    )
}

fn session_of(r: &Reply) -> String {
    assert_eq!(r.status, 200, "{}", r.body);
    r.session_id().to_owned()
}

fn seen_by_team(token: &str, session: &str) -> Value {
    let r = inbox_get(token, &format!("conversations/{session}"));
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["conversation"].clone()
}

fn set_workspace(ws: &Workspace, body: Value) {
    let r = call(
        app(),
        "PATCH",
        &format!("/api/admin/workspaces/{}", ws.org_id),
        Some(&app().admin_token),
        Some(body),
    );
    assert_eq!(r.status, 200, "{}", r.body);
}

fn ticket(ws: &Workspace, id: &str) -> Value {
    let r = call(
        app(),
        "GET",
        &format!("/api/sdk/tickets/{id}"),
        Some(&ws.secret_key),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["ticket"].clone()
}

fn created_ticket(r: &Reply) -> (String, String) {
    let action = r.body["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["type"] == "create_ticket")
        .unwrap_or_else(|| panic!("no create_ticket action in {}", r.body));
    (
        action["ticket_id"].as_str().unwrap().to_owned(),
        action["status"].as_str().unwrap().to_owned(),
    )
}

#[test]
fn the_mood_follows_the_latest_message_and_thanks_resolve_the_conversation() {
    let app = app();
    let ws = app.workspace();
    let (_, token) = teammate(&ws, "Mo");
    let s =
        session_of(&ws.chat(json!({ "message": "This is USELESS, the worst support ever!!!" })));
    let c = seen_by_team(&token, &s);
    assert_eq!(
        (&c["mood"], &c["outcome"], &c["live"]),
        (&json!("angry"), &Value::Null, &json!(true))
    );
    assert!(c["messages"][0]["sentiment"].as_f64().unwrap() < -0.6);
    assert_eq!(c["messages"][0]["mood"], "angry");

    ws.chat(json!({ "message": "I'm confused, what do you mean by workspace?", "session_id": s }));
    assert_eq!(seen_by_team(&token, &s)["mood"], "confused");

    ws.chat(json!({ "message": "Thanks, that worked perfectly!", "session_id": s }));
    let c = seen_by_team(&token, &s);
    assert_eq!(
        (&c["mood"], &c["outcome"]),
        (&json!("happy"), &json!("resolved"))
    );
    // The secret-key transcript shows them too.
    let t = ws.conversation(&s).body;
    assert_eq!(
        (&t["mood"], &t["outcome"]),
        (&json!("happy"), &json!("resolved"))
    );

    let angry = inbox_get(&token, "conversations?mood=angry");
    assert_eq!(angry.body["conversations"], json!([]));
    let happy = inbox_get(&token, "conversations?mood=happy&outcome=resolved");
    assert_eq!(happy.body["conversations"][0]["session_id"], json!(s));
    assert_eq!(inbox_get(&token, "conversations?mood=sad").status, 400);
    assert_eq!(inbox_get(&token, "conversations?outcome=won").status, 400);
    assert_eq!(inbox_get(&token, "conversations?live=maybe").status, 400);
}

#[test]
fn ratings_feedback_and_the_ai_score_follow_the_documented_heuristic() {
    let app = app();
    let ws = app.workspace();
    let (_, token) = teammate(&ws, "Rae");
    ws.add_source(
        "Exporting data",
        "https://help.example.test/export",
        "# Exporting data\n\nOpen Settings, then Export, and pick CSV or JSON.",
    );
    let first = ws.chat(json!({ "message": "How do I export my data?" }));
    let s = session_of(&first);
    let answer = first.body["message_id"].as_str().unwrap().to_owned();
    let c = seen_by_team(&token, &s);
    // A neutral message (sentiment 0), no outcome, no ratings: 50.
    assert_eq!(c["score_inputs"]["mean_sentiment"], json!(0.0));
    assert_eq!(c["ai_score"], json!(50));

    let rate = |key: &str, session: &str, body: Value| {
        call(
            app,
            "POST",
            &format!("/api/sdk/conversations/{session}/ratings"),
            Some(key),
            Some(body),
        )
    };
    let up = rate(
        &ws.widget_key,
        &s,
        json!({ "message_id": answer, "rating": "up" }),
    );
    assert_eq!(up.status, 200, "{}", up.body);
    assert_eq!(up.header("access-control-allow-origin"), Some("*"));
    let c = seen_by_team(&token, &s);
    // Resolved (+30) and one thumbs-up (+10).
    assert_eq!(
        (&c["outcome"], &c["ai_score"]),
        (&json!("resolved"), &json!(90))
    );
    assert_eq!(c["messages"][1]["rating"], "up");

    // A trainer's correction on the answer: stored with it, and -10.
    let fb = inbox_post(
        &token,
        &format!("messages/{answer}/feedback"),
        json!({ "kind": "correction", "text": "Mention that exports are emailed for large accounts." }),
    );
    assert_eq!(fb.status, 201, "{}", fb.body);
    let c = seen_by_team(&token, &s);
    assert_eq!(c["ai_score"], json!(80));
    assert_eq!(c["score_inputs"]["corrections"], json!(1));
    assert_eq!(c["messages"][1]["feedback"][0]["kind"], "correction");
    assert_eq!(
        c["messages"][1]["feedback"][0]["text"],
        "Mention that exports are emailed for large accounts."
    );

    // Taking the rating back, and a thumbs-down: 50 + 30 - 15 - 10 = 55.
    assert_eq!(
        rate(
            &ws.widget_key,
            &s,
            json!({ "message_id": answer, "rating": null })
        )
        .status,
        200
    );
    rate(
        &ws.widget_key,
        &s,
        json!({ "message_id": answer, "rating": "down" }),
    );
    let c = seen_by_team(&token, &s);
    assert_eq!(
        (&c["messages"][1]["rating"], &c["ai_score"]),
        (&json!("down"), &json!(55))
    );
}

#[test]
fn only_the_conversations_own_ai_answers_can_be_rated_or_corrected_and_only_with_known_values() {
    let app = app();
    let ws = app.workspace();
    let (_, token) = teammate(&ws, "Rae");
    ws.add_source(
        "Exporting data",
        "https://help.example.test/export",
        "# Exporting data\n\nOpen Settings, then Export, and pick CSV or JSON.",
    );
    let first = ws.chat(json!({ "message": "How do I export my data?" }));
    let s = session_of(&first);
    let answer = first.body["message_id"].as_str().unwrap().to_owned();
    let c = seen_by_team(&token, &s);
    let rate = |key: &str, session: &str, body: Value| {
        call(
            app,
            "POST",
            &format!("/api/sdk/conversations/{session}/ratings"),
            Some(key),
            Some(body),
        )
    };

    // Only the conversation's own AI answers can be rated, and only with up, down or null.
    let user_line = c["messages"][0]["id"].as_str().unwrap();
    let other = app.workspace();
    let cases = [
        (
            rate(
                &ws.widget_key,
                &s,
                json!({ "message_id": user_line, "rating": "up" }),
            ),
            404,
        ),
        (
            rate(
                &other.widget_key,
                &s,
                json!({ "message_id": answer, "rating": "up" }),
            ),
            404,
        ),
        (
            rate(
                &ws.widget_key,
                &s,
                json!({ "message_id": answer, "rating": 5 }),
            ),
            400,
        ),
        (rate(&ws.widget_key, &s, json!({ "rating": "up" })), 400),
        (
            rate(
                &ws.secret_key,
                &s,
                json!({ "message_id": answer, "rating": "up" }),
            ),
            401,
        ),
    ];
    for (i, (r, want)) in cases.iter().enumerate() {
        assert_eq!(r.status, *want, "case {i}: {}", r.body);
    }
    let bad = inbox_post(
        &token,
        &format!("messages/{user_line}/feedback"),
        json!({ "text": "x" }),
    );
    assert_eq!(bad.status, 404, "feedback is on AI answers only");
    let bad = inbox_post(
        &token,
        &format!("messages/{answer}/feedback"),
        json!({ "kind": "praise", "text": "x" }),
    );
    assert_eq!(bad.status, 400);
}

/// A verified customer's conversation with a one-off and a persistent whisper on it; returns
/// the session and the customer's token.
fn whispered_customer(ws: &Workspace, token: &str) -> (String, String) {
    let token_of_user = halo_tests::user_token(ws, json!({ "user_id": "whisper-user" }));
    let s = session_of(&ws.chat(json!({ "message": "Do you have an annual plan?", "user_id": "whisper-user", "user_token": token_of_user }),
    ));
    let w = inbox_post(
        token,
        &format!("conversations/{s}/whisper"),
        json!({ "text": "Offer the 20% annual discount" }),
    );
    assert_eq!(w.status, 201, "{}", w.body);
    let p = inbox_post(
        token,
        &format!("conversations/{s}/whisper"),
        json!({ "text": "This customer prefers short answers", "persist": true }),
    );
    assert_eq!(p.status, 201, "{}", p.body);
    (s, token_of_user)
}

/// The whispers the conversation's latest AI answer was given.
fn whispers_seen(ws: &Workspace, session: &str) -> Vec<String> {
    let t = ws.conversation(session).body;
    let last_ai = t["messages"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|m| m["role"] == "ai")
        .cloned()
        .unwrap();
    last_ai["trace"]["whispers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["body"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_whisper_steers_the_next_reply_and_a_persistent_one_every_reply() {
    let app = app();
    let ws = app.workspace();
    let (_, token) = teammate(&ws, "Wes");
    let (s, token_of_user) = whispered_customer(&ws, &token);
    ws.chat(json!({ "message": "How much is it?", "user_id": "whisper-user", "user_token": token_of_user, "session_id": s }),
    );
    assert_eq!(
        whispers_seen(&ws, &s),
        [
            "Offer the 20% annual discount",
            "This customer prefers short answers"
        ]
    );
    ws.chat(json!({ "message": "And monthly?", "user_id": "whisper-user", "user_token": token_of_user, "session_id": s }),
    );
    assert_eq!(
        whispers_seen(&ws, &s),
        ["This customer prefers short answers"],
        "a one-off whisper steers one reply"
    );
    let c = seen_by_team(&token, &s);
    assert_eq!(c["whispers"].as_array().unwrap().len(), 2);
    assert!(c["whispers"][0]["used_at"].is_i64());
}

#[test]
fn a_persistent_whisper_follows_the_verified_customer_and_no_one_else() {
    let app = app();
    let ws = app.workspace();
    let (_, token) = teammate(&ws, "Wes");
    let (s, token_of_user) = whispered_customer(&ws, &token);
    let later = session_of(&ws.chat(json!({ "message": "Hi again, a new question", "user_id": "whisper-user", "user_token": token_of_user }),
    ));
    assert_ne!(later, s);
    assert_eq!(
        whispers_seen(&ws, &later),
        ["This customer prefers short answers"],
        "a persistent whisper follows the verified customer"
    );
    let claimed = session_of(
        &ws.chat(json!({ "message": "I am whisper-user, honest", "user_id": "whisper-user" })),
    );
    assert_eq!(
        whispers_seen(&ws, &claimed),
        Vec::<String>::new(),
        "an unverified claim of the same user id gets none"
    );
    let stranger = session_of(&ws.chat(json!({ "message": "Another customer here" })));
    assert_eq!(whispers_seen(&ws, &stranger), Vec::<String>::new());
}

#[test]
fn the_customer_never_sees_a_whisper_live_or_on_catch_up() {
    let app = app();
    let ws = app.workspace();
    let (_, token) = teammate(&ws, "Wes");
    let (s, token_of_user) = whispered_customer(&ws, &token);
    let mut widget = halo_tests::live_socket(
        app,
        &format!(
            "/api/sdk/conversations/{s}/live?key={}&user_id=whisper-user",
            ws.widget_key
        ),
    )
    .unwrap();
    ws.chat(json!({ "message": "And monthly?", "user_id": "whisper-user", "user_token": token_of_user, "session_id": s }),
    );
    // The live socket carries the chat turn, and no whisper.
    let mut heard = Vec::new();
    while let Some(e) = halo_tests::next_event(&mut widget, Duration::from_millis(800)) {
        heard.push(e.to_string());
    }
    assert!(
        heard.iter().any(|e| e.contains("And monthly?")),
        "{heard:?}"
    );
    assert!(!heard
        .iter()
        .any(|e| e.contains("annual discount") || e.contains("short answers")));
    let updates = call(
        app,
        "GET",
        &format!("/api/sdk/conversations/{s}/updates?user_id=whisper-user"),
        Some(&ws.widget_key),
        None,
    );
    assert_eq!(updates.status, 200, "{}", updates.body);
    assert!(!updates.body.to_string().contains("annual discount"));
}

#[test]
fn a_whisper_needs_text_and_a_boolean_persist() {
    let app = app();
    let ws = app.workspace();
    let (_, token) = teammate(&ws, "Wes");
    let s = session_of(&ws.chat(json!({ "message": "Do you have an annual plan?" })));
    for bad in [
        json!({}),
        json!({ "text": " " }),
        json!({ "text": "x", "persist": "yes" }),
    ] {
        let r = inbox_post(&token, &format!("conversations/{s}/whisper"), bad);
        assert_eq!(r.status, 400, "{}", r.body);
    }
}

#[test]
fn idle_conversations_are_abandoned_by_the_cron_job_and_revive_when_the_user_returns() {
    let app = app();
    let quick = app.workspace();
    set_workspace(&quick, json!({ "routing": { "abandon_after_seconds": 1 } }));
    let patient = app.workspace();
    let (_, token) = teammate(&quick, "Ida");
    let (_, patient_token) = teammate(&patient, "Pat");
    let idle = session_of(&quick.chat(json!({ "message": "hello?" })));
    let other = session_of(&patient.chat(json!({ "message": "hello?" })));
    std::thread::sleep(Duration::from_millis(2_200));
    let cron = send(app, "GET", "/__scheduled?cron=*+*+*+*+*", None, &[], None);
    assert_eq!(cron.status, 200);
    assert_eq!(seen_by_team(&token, &idle)["outcome"], "abandoned");
    assert_eq!(
        seen_by_team(&patient_token, &other)["outcome"],
        Value::Null,
        "the default is 30 minutes"
    );
    let live = inbox_get(&token, "conversations?live=true");
    assert_eq!(live.body["conversations"], json!([]));

    quick.chat(json!({ "message": "sorry, I'm back", "session_id": idle }));
    assert_eq!(seen_by_team(&token, &idle)["outcome"], Value::Null);
    let live = inbox_get(&token, "conversations?live=true");
    assert_eq!(live.body["conversations"][0]["session_id"], json!(idle));
}

#[test]
fn escalation_is_priority_for_users_matching_the_filters_and_routed_by_segment_rules() {
    let app = app();
    let ws = app.workspace();
    set_workspace(
        &ws,
        json!({ "routing": {
            "priority_filters": [ { "attribute": "plan", "op": "eq", "value": "enterprise" } ],
            "rules": [ { "name": "Billing", "when": [ { "attribute": "message", "op": "contains", "value": "invoice" } ],
                         "team": "Billing" } ]
        } }),
    );
    let ask = |user: &str, plan: &str, message: &str| {
        ws.chat(json!({ "message": message, "user_id": user, "custom_fields": { "plan": plan } }))
    };
    let big = ask("ent-1", "enterprise", "I want to talk to a human please");
    let (id, status) = created_ticket(&big);
    assert_eq!(status, "priority");
    let t = ticket(&ws, &id);
    assert_eq!(
        (&t["status"], &t["team"]),
        (&json!("priority"), &Value::Null)
    );

    let small = ask("free-1", "free", "I want to talk to a human please");
    let (id, status) = created_ticket(&small);
    assert_eq!(status, "open");
    assert_eq!(ticket(&ws, &id)["status"], "open");

    let billing = ask("free-2", "free", "Can I talk to a person about my invoice?");
    let (id, _) = created_ticket(&billing);
    let t = ticket(&ws, &id);
    assert_eq!(
        (&t["team"], &t["escalation_reason"]),
        (&json!("Billing"), &json!("user_requested"))
    );
    let listed = call(
        app,
        "GET",
        "/api/sdk/tickets?team=Billing",
        Some(&ws.secret_key),
        None,
    );
    let ids: Vec<&Value> = listed.body["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| &t["id"])
        .collect();
    assert_eq!(ids, [&json!(id)]);
    assert_eq!(
        ws.conversation(billing.session_id()).body["outcome"],
        "escalated"
    );
}

#[test]
fn a_direct_to_team_rule_routes_the_message_without_an_ai_answer() {
    let app = app();
    let ws = app.workspace();
    let (alex, _) = teammate(&ws, "Alex");
    set_workspace(
        &ws,
        json!({ "routing": { "rules": [ {
            "name": "Refunds", "when": [ { "attribute": "message", "op": "contains", "value": "refund" } ],
            "team": "Billing", "assignee": alex, "direct": true,
            "reply": "Our billing team handles refunds and will reply here shortly."
        } ] } }),
    );
    let r = ws.chat(json!({ "message": "I need a refund for last month" }));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["routed"]["action"], "routed_to_team");
    assert_eq!(
        r.body["text"],
        "Our billing team handles refunds and will reply here shortly."
    );
    let ticket_id = r.body["routed"]["ticket_id"].as_str().unwrap();
    let t = ticket(&ws, ticket_id);
    assert_eq!(
        (
            &t["team"],
            &t["assignee"],
            &t["escalation_reason"],
            &t["status"]
        ),
        (
            &json!("Billing"),
            &json!(alex),
            &json!("routing_rule"),
            &json!("open")
        )
    );
    let transcript = ws.conversation(r.session_id()).body;
    let roles: Vec<&str> = transcript["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["user", "system"], "no AI generation ran");
    assert_eq!(
        transcript["messages"][1]["id"], r.body["message_id"],
        "the acknowledgement is the stored system line, so the widget shows it once"
    );

    let other = ws.chat(json!({ "message": "How do I change my avatar?" }));
    assert_eq!(
        other.body["routed"],
        Value::Null,
        "other messages reach the AI"
    );

    let bad = call(
        app,
        "PATCH",
        &format!("/api/admin/workspaces/{}", ws.org_id),
        Some(&app.admin_token),
        Some(json!({ "routing": { "rules": [ { "name": "x", "when": [], "team": "A" } ] } })),
    );
    assert_eq!(bad.status, 400);
    assert_eq!(bad.error().1.as_deref(), Some("routing.rules[0].when"));
}

#[test]
fn below_the_agents_threshold_the_ai_escalates_to_the_team() {
    let app = app();
    let ws = app.workspace();
    let unsure = ws.chat(json!({ "message": "Does the API support GraphQL subscriptions?" }));
    assert!(
        !unsure.body["actions"].to_string().contains("create_ticket"),
        "no threshold, no escalation"
    );
    set_workspace(&ws, json!({ "escalation_threshold": 0.5 }));
    let got = call(
        app,
        "GET",
        &format!("/api/admin/workspaces/{}", ws.org_id),
        Some(&app.admin_token),
        None,
    );
    assert_eq!(got.body["escalation_threshold"], json!(0.5));
    let r = ws.chat(json!({ "message": "Does the API support GraphQL subscriptions?" }));
    assert!(r.body["confidence"].as_f64().unwrap() < 0.5, "{}", r.body);
    let (id, status) = created_ticket(&r);
    assert_eq!(status, "open");
    assert_eq!(ticket(&ws, &id)["escalation_reason"], "low_confidence");
    assert!(r.body["text"]
        .as_str()
        .unwrap()
        .contains("asked a teammate"));
    let hi = ws.chat(json!({ "message": "hi" }));
    assert!(
        !hi.body["actions"].to_string().contains("create_ticket"),
        "small talk is not escalated"
    );
    for bad in [json!(2), json!("high")] {
        let r = call(
            app,
            "PATCH",
            &format!("/api/admin/workspaces/{}", ws.org_id),
            Some(&app.admin_token),
            Some(json!({ "escalation_threshold": bad })),
        );
        assert_eq!(r.status, 400);
    }
}

#[test]
fn opening_the_widget_opens_a_conversation_the_live_feed_sees_at_once() {
    let app = app();
    let ws = app.workspace();
    let (_, token) = teammate(&ws, "Liv");
    let mut feed = halo_tests::live_socket(app, &format!("/api/inbox/live?token={token}")).unwrap();
    let open = |body: Value| {
        call(
            app,
            "POST",
            "/api/sdk/sessions",
            Some(&ws.widget_key),
            Some(body),
        )
    };
    let r = open(json!({ "user_id": "opener-1" }));
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    let s = r.session_id().to_owned();
    let event =
        halo_tests::next_event(&mut feed, Duration::from_secs(10)).expect("the feed hears it");
    assert_eq!(
        event,
        json!({ "type": "conversation", "session_id": s, "state": "opened" })
    );
    let listed = inbox_get(&token, "conversations?live=true");
    let c = &listed.body["conversations"][0];
    assert_eq!(
        (&c["session_id"], &c["user_id"], &c["message_count"]),
        (&json!(s), &json!("opener-1"), &json!(0))
    );

    // The same user continues it; the first message joins it.
    let again = open(json!({ "user_id": "opener-1", "session_id": s }));
    assert_eq!((again.status, &again.body["session_id"]), (200, &json!(s)));
    let first = ws.chat(json!({ "message": "hello", "user_id": "opener-1", "session_id": s }));
    assert_eq!(first.body["session_id"], json!(s));
    assert_eq!(seen_by_team(&token, &s)["message_count"], json!(2));
    // Another user never gets it.
    let other = open(json!({ "user_id": "opener-2", "session_id": s }));
    assert_eq!(other.status, 201);
    assert_ne!(other.body["session_id"], json!(s));

    assert_eq!(open(json!({ "channel": "fax" })).status, 400);
    assert_eq!(
        call(
            app,
            "POST",
            "/api/sdk/sessions",
            Some(&ws.secret_key),
            Some(json!({}))
        )
        .status,
        401
    );
    set_workspace(&ws, json!({ "identity_verification": true }));
    let unsigned = open(json!({ "user_id": "opener-3" }));
    assert_eq!(unsigned.error().0, "user_token_required");
    for path in [
        "/api/sdk/sessions".to_owned(),
        format!("/api/sdk/conversations/{s}/ratings"),
        format!("/api/sdk/conversations/{s}/updates"),
    ] {
        let pre = send(
            app,
            "OPTIONS",
            &path,
            None,
            &[
                ("origin", "https://shop.example.test"),
                ("access-control-request-method", "POST"),
            ],
            None,
        );
        assert_eq!(pre.status, 204, "preflight of {path}");
        assert_eq!(pre.header("access-control-allow-origin"), Some("*"));
    }
}
