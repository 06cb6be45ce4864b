//! Tickets through the API, and escalation from the chat.

use halo_tests::{app, call, Reply, Workspace};
use serde_json::{json, Value};

fn create(ws: &Workspace, body: Value) -> Reply {
    call(
        app(),
        "POST",
        "/api/sdk/tickets/create",
        Some(&ws.secret_key),
        Some(body),
    )
}

fn list(ws: &Workspace, query: &str) -> Vec<String> {
    let r = call(
        app(),
        "GET",
        &format!("/api/sdk/tickets{query}"),
        Some(&ws.secret_key),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["subject"].as_str().unwrap().to_owned())
        .collect()
}

fn now_ms() -> i64 {
    halo_tests::now_secs() * 1000
}

#[test]
fn a_ticket_is_created_with_whatever_status_the_caller_specifies() {
    let ws = app().workspace();
    call(
        app(),
        "POST",
        "/api/sdk/users/identify",
        Some(&ws.secret_key),
        Some(json!({ "user_id": "u-t", "company_id": "acme" })),
    );
    let r = create(
        &ws,
        json!({ "subject": "Refund request", "status": "priority", "user_id": "u-t", "company_id": "acme",
        "message": "Please refund order 42.", "assignee": "alex", "custom_fields": { "order": 42 } }),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let t = &r.body["ticket"];
    assert_eq!(
        (
            &t["status"],
            &t["source"],
            &t["user_id"],
            &t["company_id"],
            &t["assignee"]
        ),
        (
            &json!("priority"),
            &json!("api"),
            &json!("u-t"),
            &json!("acme"),
            &json!("alex")
        )
    );
    assert_eq!(t["custom_fields"], json!({ "order": 42 }));
    let read = call(
        app(),
        "GET",
        &format!("/api/sdk/tickets/{}", t["id"].as_str().unwrap()),
        Some(&ws.secret_key),
        None,
    );
    assert_eq!(
        read.body["messages"][0]["body"],
        json!("Please refund order 42.")
    );
}

#[test]
fn snoozed_and_spam_tickets_are_hidden_unless_asked_for() {
    let ws = app().workspace();
    create(&ws, json!({ "subject": "visible" }));
    create(
        &ws,
        json!({ "subject": "later", "status": "snoozed", "snoozed_until": now_ms() + 3_600_000 }),
    );
    create(&ws, json!({ "subject": "junk", "status": "spam" }));
    assert_eq!(list(&ws, ""), ["visible"]);
    assert_eq!(list(&ws, "?status=snoozed"), ["later"]);
    assert_eq!(list(&ws, "?status=spam"), ["junk"]);
    let bad = call(
        app(),
        "GET",
        "/api/sdk/tickets?status=closed",
        Some(&ws.secret_key),
        None,
    );
    assert_eq!(bad.error().1, Some("status".into()));
}

#[test]
fn bad_tickets_are_refused_and_the_widget_key_cannot_create_them() {
    let ws = app().workspace();
    assert_eq!(
        create(&ws, json!({ "status": "open" })).error(),
        ("missing_field".into(), Some("subject".into()))
    );
    assert_eq!(
        create(
            &ws,
            json!({ "subject": "x", "status": "snoozed", "snoozed_until": 1 })
        )
        .error()
        .1,
        Some("snoozed_until".into())
    );
    let r = call(
        app(),
        "POST",
        "/api/sdk/tickets/create",
        Some(&ws.widget_key),
        Some(json!({ "subject": "x" })),
    );
    assert_eq!(r.status, 403);
}

#[test]
fn asking_for_a_person_escalates_to_one_ticket_with_the_transcript() {
    let app = app();
    let ws = app.workspace();
    let first =
        ws.chat(json!({ "message": "My invoice shows the wrong VAT number", "user_id": "u-esc" }));
    let session = first.session_id().to_owned();
    let asked = ws.chat(json!({ "message": "I want to talk to a human please", "user_id": "u-esc", "session_id": session }),
    );
    let action = asked.body["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["type"] == json!("create_ticket"))
        .cloned()
        .expect("a ticket");
    assert_eq!(action["status"], json!("open"));
    let id = action["ticket_id"].as_str().unwrap();
    let t = call(
        app,
        "GET",
        &format!("/api/sdk/tickets/{id}"),
        Some(&ws.secret_key),
        None,
    );
    assert_eq!(
        (
            &t.body["ticket"]["source"],
            &t.body["ticket"]["user_id"],
            &t.body["ticket"]["session_id"]
        ),
        (&json!("escalation"), &json!("u-esc"), &json!(session))
    );
    assert_eq!(
        t.body["ticket"]["subject"],
        json!("My invoice shows the wrong VAT number")
    );
    assert_eq!(
        t.body["ticket"]["escalation_reason"],
        json!("user_requested")
    );
    let transcript = t.body["messages"][0]["body"].as_str().unwrap();
    assert!(
        transcript.starts_with("Customer: My invoice shows the wrong VAT number")
            && transcript.contains("Customer: I want to talk to a human please"),
        "{transcript}"
    );
    let again = ws.chat(json!({ "message": "hello? can I get a real person", "user_id": "u-esc", "session_id": session }),
    );
    let same = again.body["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["type"] == json!("create_ticket"))
        .cloned()
        .expect("a ticket");
    assert_eq!(
        same["ticket_id"],
        json!(id),
        "one conversation, one open ticket"
    );
    assert_eq!(list(&ws, "").len(), 1);
}

#[test]
fn tickets_never_cross_workspaces() {
    let a = app().workspace();
    let b = app().workspace();
    let id = create(&a, json!({ "subject": "A's secret" })).body["ticket"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        call(
            app(),
            "GET",
            &format!("/api/sdk/tickets/{id}"),
            Some(&b.secret_key),
            None
        )
        .status,
        404
    );
    assert!(list(&b, "").is_empty());
}

fn patch(ws: &Workspace, id: &str, body: Value) -> Reply {
    call(
        app(),
        "PATCH",
        &format!("/api/sdk/tickets/{id}"),
        Some(&ws.secret_key),
        Some(body),
    )
}

fn status(ws: &Workspace, id: &str) -> Value {
    call(
        app(),
        "GET",
        &format!("/api/sdk/tickets/{id}"),
        Some(&ws.secret_key),
        None,
    )
    .body["ticket"]["status"]
        .clone()
}

#[test]
fn customer_messages_wake_reopen_or_leave_the_ticket_as_the_state_machine_says() {
    let app = app();
    let ws = app.workspace();
    let first = ws.chat(json!({ "message": "I need a human for my refund" }));
    let session = first.session_id().to_owned();
    let id = first.body["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["type"] == json!("create_ticket"))
        .unwrap()["ticket_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let say = |text: &str| ws.chat(json!({ "message": text, "session_id": session }));

    assert_eq!(
        patch(
            &ws,
            &id,
            json!({ "status": "snoozed", "snoozed_until": now_ms() + 3_600_000 })
        )
        .body["ticket"]["status"],
        json!("snoozed")
    );
    say("any news on the refund?");
    assert_eq!(
        status(&ws, &id),
        json!("open"),
        "new activity wakes a snoozed ticket"
    );

    patch(&ws, &id, json!({ "status": "resolved" }));
    say("actually it happened again");
    assert_eq!(
        status(&ws, &id),
        json!("open"),
        "a customer message reopens a resolved ticket"
    );

    patch(&ws, &id, json!({ "status": "spam" }));
    say("buy cheap watches");
    assert_eq!(status(&ws, &id), json!("spam"), "spam stays spam");

    let thread = call(
        app,
        "GET",
        &format!("/api/sdk/tickets/{id}"),
        Some(&ws.secret_key),
        None,
    )
    .body["messages"]
        .clone();
    let bodies: Vec<&str> = thread
        .as_array()
        .unwrap()
        .iter()
        .skip(1)
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(
        bodies,
        [
            "any news on the refund?",
            "actually it happened again",
            "buy cheap watches"
        ]
    );
}

#[test]
fn updates_are_checked_and_assignees_set_and_cleared() {
    let ws = app().workspace();
    let id = create(&ws, json!({ "subject": "x" })).body["ticket"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        patch(&ws, &id, json!({ "status": "snoozed", "snoozed_until": 1 }))
            .error()
            .1,
        Some("snoozed_until".into())
    );
    assert_eq!(
        patch(&ws, &id, json!({ "status": "closed" })).error().1,
        Some("status".into())
    );
    assert_eq!(
        patch(&ws, "no-such-ticket", json!({ "status": "open" })).status,
        404
    );
    assert_eq!(
        patch(
            &ws,
            &id,
            json!({ "assignee": "sam", "status": "in_progress" })
        )
        .body["ticket"]["assignee"],
        json!("sam")
    );
    assert_eq!(list(&ws, "?assignee=sam"), ["x"]);
    assert_eq!(
        patch(&ws, &id, json!({ "assignee": null })).body["ticket"]["assignee"],
        json!(null)
    );
    assert_eq!(
        status(&ws, &id),
        json!("in_progress"),
        "clearing the assignee keeps the status"
    );
}

#[test]
fn the_cron_job_wakes_snoozed_tickets_when_their_time_comes() {
    let ws = app().workspace();
    let soon = create(
        &ws,
        json!({ "subject": "soon", "status": "snoozed", "snoozed_until": now_ms() + 1_500 }),
    )
    .body["ticket"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let later = create(
        &ws,
        json!({ "subject": "later", "status": "snoozed", "snoozed_until": now_ms() + 3_600_000 }),
    )
    .body["ticket"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    std::thread::sleep(std::time::Duration::from_millis(2_000));
    let cron = halo_tests::send(app(), "GET", "/__scheduled?cron=*+*+*+*+*", None, &[], None);
    assert_eq!(cron.status, 200);
    assert_eq!(status(&ws, &soon), json!("open"));
    assert_eq!(status(&ws, &later), json!("snoozed"));
}
