//! Teammates and the inbox: take over a live conversation, reply as a person, hand back.

use halo_tests::{app, call, teammate, Workspace};
use serde_json::{json, Value};

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

/// A conversation that teammate Alex has taken over.
struct TakenOver {
    alex: Value,
    token: String,
    session: String,
    ticket_id: String,
}

fn taken_over(ws: &Workspace) -> TakenOver {
    let (alex, token) = teammate(ws, "Alex");
    let first = ws.chat(json!({ "message": "My export keeps failing", "user_id": "u-in" }));
    let session = first.session_id().to_owned();
    let taken = inbox(&token, &session, "takeover", None);
    assert_eq!(taken.status, 200, "{}", taken.body);
    let ticket_id = taken.body["ticket_id"].as_str().unwrap().to_owned();
    TakenOver {
        alex: json!(alex),
        token,
        session,
        ticket_id,
    }
}

fn ticket_of(ws: &Workspace, ticket_id: &str) -> Value {
    call(
        app(),
        "GET",
        &format!("/api/sdk/tickets/{ticket_id}"),
        Some(&ws.secret_key),
        None,
    )
    .body
}

#[test]
fn a_takeover_opens_an_in_progress_ticket_and_the_ai_stays_quiet() {
    let ws = app().workspace();
    let t = taken_over(&ws);
    let ticket = ticket_of(&ws, &t.ticket_id);
    assert_eq!(
        (
            &ticket["ticket"]["status"],
            &ticket["ticket"]["assignee"],
            &ticket["ticket"]["source"]
        ),
        (&json!("in_progress"), &t.alex, &json!("takeover"))
    );
    let quiet =
        ws.chat(json!({ "message": "hello? anyone?", "user_id": "u-in", "session_id": t.session }));
    assert_eq!(
        quiet.body["routed"],
        json!({ "action": "taken_over", "ticket_id": t.ticket_id }),
        "{}",
        quiet.body
    );
    let roles: Vec<String> = ws.conversation(&t.session).body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        roles,
        ["user", "ai", "system", "user"],
        "the AI stayed quiet"
    );
}

#[test]
fn a_teammates_reply_reaches_the_conversation_and_the_ticket_thread() {
    let ws = app().workspace();
    let t = taken_over(&ws);
    ws.chat(json!({ "message": "hello? anyone?", "user_id": "u-in", "session_id": t.session }));
    let replied = inbox(
        &t.token,
        &t.session,
        "reply",
        Some(json!({ "text": "Hi, Alex here: try exporting again now." })),
    );
    assert_eq!(replied.status, 200, "{}", replied.body);
    let c = ws.conversation(&t.session).body;
    assert_eq!(
        c["messages"].as_array().unwrap().last().unwrap()["role"],
        json!("teammate")
    );
    let thread = ticket_of(&ws, &t.ticket_id)["messages"].clone();
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
}

#[test]
fn after_a_handback_the_ai_answers_again() {
    let ws = app().workspace();
    let t = taken_over(&ws);
    assert_eq!(inbox(&t.token, &t.session, "handback", None).status, 200);
    let answered =
        ws.chat(json!({ "message": "thanks!", "user_id": "u-in", "session_id": t.session }));
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
    let session = a.chat(json!({ "message": "hi" })).body["session_id"]
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
    let still = a.chat(json!({ "message": "thanks!", "session_id": session }));
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

fn get(token: &str, path: &str) -> halo_tests::Reply {
    call(
        app(),
        "GET",
        &format!("/api/inbox/{path}"),
        Some(token),
        None,
    )
}

fn post(token: &str, path: &str, body: serde_json::Value) -> halo_tests::Reply {
    call(
        app(),
        "POST",
        &format!("/api/inbox/{path}"),
        Some(token),
        Some(body),
    )
}

fn ids(list: &serde_json::Value, key: &str) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|x| x[key].as_str().unwrap().to_owned())
        .collect()
}

/// An identified customer of company `acme-<suffix>` who asked for a person: (session, ticket).
fn escalated_customer(ws: &Workspace, user: &str, company: &str) -> (String, String) {
    let app = app();
    let r = call(
        app,
        "POST",
        "/api/sdk/users/identify",
        Some(&ws.secret_key),
        Some(
            json!({ "user_id": user, "name": "Ann", "company": { "company_id": company, "name": "Acme" } }),
        ),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r =
        ws.chat(json!({ "message": "I want to talk to a human about my export", "user_id": user }));
    let ticket = r.body["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["type"] == "create_ticket")
        .unwrap()["ticket_id"]
        .as_str()
        .unwrap()
        .to_owned();
    (r.session_id().to_owned(), ticket)
}

#[test]
fn the_live_feed_lists_an_escalated_conversation_with_its_outcome_ticket_and_user() {
    let app = app();
    let ws = app.workspace();
    let (_me, token) = teammate(&ws, "Noor");
    let (session, ticket) = escalated_customer(&ws, "inbox-ann", "acme-inbox");

    let live = get(&token, "conversations?live=false");
    assert_eq!(live.status, 200, "{}", live.body);
    assert_eq!(
        ids(&live.body["conversations"], "session_id"),
        [session.as_str()]
    );
    let active = get(&token, "conversations?live=true");
    assert_eq!(
        ids(&active.body["conversations"], "session_id"),
        [session.as_str()],
        "an escalated conversation stays in the live feed while it is active"
    );
    let c = &live.body["conversations"][0];
    assert_eq!(
        (&c["outcome"], &c["ticket"]["id"], &c["user_id"]),
        (&json!("escalated"), &json!(ticket), &json!("inbox-ann"))
    );
}

#[test]
fn tickets_are_filtered_by_assignee_and_status_as_a_teammate_takes_one() {
    let app = app();
    let ws = app.workspace();
    let (me, token) = teammate(&ws, "Noor");
    let (_session, ticket) = escalated_customer(&ws, "inbox-ann", "acme-inbox");

    assert_eq!(
        ids(&get(&token, "tickets").body["tickets"], "id"),
        [ticket.as_str()]
    );
    assert_eq!(
        ids(
            &get(&token, "tickets?assignee=unassigned").body["tickets"],
            "id"
        ),
        [ticket.as_str()]
    );
    assert_eq!(
        get(&token, "tickets?assignee=me").body["tickets"],
        json!([])
    );
    let mine = call(
        app,
        "PATCH",
        &format!("/api/inbox/tickets/{ticket}"),
        Some(&token),
        Some(json!({ "assignee": me, "status": "in_progress" })),
    );
    assert_eq!(mine.status, 200, "{}", mine.body);
    assert_eq!(
        ids(&get(&token, "tickets?assignee=me").body["tickets"], "id"),
        [ticket.as_str()]
    );
    assert_eq!(
        get(&token, "tickets?status=in_progress").body["tickets"][0]["id"],
        json!(ticket)
    );
}

#[test]
fn a_note_stays_on_the_ticket_and_a_reply_reaches_the_customers_conversation() {
    let app = app();
    let ws = app.workspace();
    let (_me, token) = teammate(&ws, "Noor");
    let (session, ticket) = escalated_customer(&ws, "inbox-ann", "acme-inbox");

    // An internal note stays on the ticket; the customer never sees it.
    let mut widget = halo_tests::live_socket(
        app,
        &format!(
            "/api/sdk/conversations/{session}/live?key={}&user_id=inbox-ann",
            ws.widget_key
        ),
    )
    .unwrap();
    let note = post(
        &token,
        &format!("tickets/{ticket}/notes"),
        json!({ "text": "Checked the logs: their export job hit the row limit." }),
    );
    assert_eq!(note.status, 201, "{}", note.body);
    let thread = get(&token, &format!("tickets/{ticket}")).body["messages"].clone();
    let kinds: Vec<&str> = thread
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["transcript", "note"]);
    // A reply goes to the customer's conversation (and the widget) and to the thread.
    let reply = post(
        &token,
        &format!("tickets/{ticket}/reply"),
        json!({ "text": "We raised your row limit; please try the export again." }),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["session_id"], json!(session));
    let mut heard = String::new();
    while let Some(e) = halo_tests::next_event(&mut widget, std::time::Duration::from_millis(800)) {
        heard.push_str(&e.to_string());
    }
    assert!(heard.contains("We raised your row limit"), "{heard}");
    assert!(!heard.contains("Checked the logs"), "{heard}");
    let caught_up = call(
        app,
        "GET",
        &format!("/api/sdk/conversations/{session}/updates?user_id=inbox-ann"),
        Some(&ws.widget_key),
        None,
    );
    assert_eq!(caught_up.status, 200, "{}", caught_up.body);
    let seen = caught_up.body["messages"].to_string();
    assert!(seen.contains("We raised your row limit"), "{seen}");
    assert!(
        !seen.contains("row limit."),
        "the note never reaches the customer: {seen}"
    );
    let transcript = ws.conversation(&session).body["messages"].to_string();
    assert!(!transcript.contains("Checked the logs"));
}

#[test]
fn a_snoozed_ticket_is_hidden_and_an_empty_note_is_refused() {
    let app = app();
    let ws = app.workspace();
    let (_me, token) = teammate(&ws, "Noor");
    let (_session, ticket) = escalated_customer(&ws, "inbox-ann", "acme-inbox");

    // Snooze and wake through the inbox.
    let snooze = call(
        app,
        "PATCH",
        &format!("/api/inbox/tickets/{ticket}"),
        Some(&token),
        Some(
            json!({ "status": "snoozed", "snoozed_until": halo_tests::now_secs() * 1000 + 3_600_000 }),
        ),
    );
    assert_eq!(
        snooze.body["ticket"]["status"], "snoozed",
        "{}",
        snooze.body
    );
    assert_eq!(
        get(&token, "tickets").body["tickets"],
        json!([]),
        "snoozed is hidden"
    );
    for bad in [json!({}), json!({ "text": "" }), json!({ "text": 5 })] {
        assert_eq!(
            post(&token, &format!("tickets/{ticket}/notes"), bad).status,
            400
        );
    }
}

#[test]
fn contacts_and_companies_show_their_tickets_and_conversations() {
    let app = app();
    let ws = app.workspace();
    let (_, token) = teammate(&ws, "Cy");
    let (s1, t1) = escalated_customer(&ws, "acme-1", "acme-co");
    let (s2, t2) = escalated_customer(&ws, "acme-2", "acme-co");
    let (s3, _) = escalated_customer(&ws, "solo-1", "solo-co");

    let contact = get(&token, "contacts/acme-1");
    assert_eq!(contact.status, 200, "{}", contact.body);
    assert_eq!(contact.body["user"]["user_id"], "acme-1");
    assert_eq!(contact.body["company"]["company_id"], "acme-co");
    assert_eq!(ids(&contact.body["tickets"], "id"), [t1.as_str()]);
    assert_eq!(
        ids(&contact.body["conversations"], "session_id"),
        [s1.as_str()]
    );

    let company = get(&token, "companies/acme-co");
    assert_eq!(company.status, 200, "{}", company.body);
    let mut tickets = ids(&company.body["tickets"], "id");
    tickets.sort();
    let mut want = vec![t1, t2];
    want.sort();
    assert_eq!(tickets, want);
    let mut sessions = ids(&company.body["conversations"], "session_id");
    sessions.sort();
    let mut want = vec![s1, s2];
    want.sort();
    assert_eq!(sessions, want);
    assert!(!company.body.to_string().contains(&s3));
    assert_eq!(company.body["conversations"][0]["company_id"], "acme-co");
    assert_eq!(get(&token, "contacts/nobody").status, 404);
    assert_eq!(get(&token, "companies/nobody").status, 404);
}

/// An escalated customer in workspace `a`: the ids every inbox endpoint takes.
struct Isolated {
    session: String,
    ticket: String,
    answer: String,
}

fn isolated_customer(a: &Workspace) -> Isolated {
    let (session, ticket) = escalated_customer(a, "iso-1", "iso-co");
    let answer = a.conversation(&session).body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["role"] == "ai")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    Isolated {
        session,
        ticket,
        answer,
    }
}

/// One request to every inbox endpoint that names a conversation, message, ticket, contact
/// or company.
fn every_endpoint(ids: &Isolated) -> Vec<(&'static str, String, Option<Value>)> {
    let Isolated {
        session,
        ticket,
        answer,
    } = ids;
    let text = json!({ "text": "from another workspace" });
    vec![
        ("GET", format!("conversations/{session}"), None),
        (
            "POST",
            format!("conversations/{session}/whisper"),
            Some(text.clone()),
        ),
        (
            "POST",
            format!("conversations/{session}/takeover"),
            Some(json!({})),
        ),
        (
            "POST",
            format!("conversations/{session}/reply"),
            Some(text.clone()),
        ),
        (
            "POST",
            format!("conversations/{session}/handback"),
            Some(json!({})),
        ),
        (
            "POST",
            format!("messages/{answer}/feedback"),
            Some(text.clone()),
        ),
        ("GET", format!("tickets/{ticket}"), None),
        (
            "PATCH",
            format!("tickets/{ticket}"),
            Some(json!({ "status": "resolved" })),
        ),
        (
            "POST",
            format!("tickets/{ticket}/notes"),
            Some(text.clone()),
        ),
        (
            "POST",
            format!("tickets/{ticket}/reply"),
            Some(text.clone()),
        ),
        ("GET", "contacts/iso-1".to_owned(), None),
        ("GET", "companies/iso-co".to_owned(), None),
    ]
}

#[test]
fn another_workspaces_teammate_finds_nothing_and_changes_nothing() {
    let app = app();
    let a = app.workspace();
    let b = app.workspace();
    let (_, a_token) = teammate(&a, "Ada");
    let (_, b_token) = teammate(&b, "Ben");
    let ids = isolated_customer(&a);
    for (method, path, body) in every_endpoint(&ids) {
        let r = call(
            app,
            method,
            &format!("/api/inbox/{path}"),
            Some(&b_token),
            body,
        );
        assert_eq!(
            r.status, 404,
            "{method} {path} by another workspace: {}",
            r.body
        );
    }
    assert_eq!(
        get(&b_token, "conversations").body["conversations"],
        json!([])
    );
    assert_eq!(get(&b_token, "tickets").body["tickets"], json!([]));

    // A's data is untouched, and A's teammate still sees it all.
    let c = get(&a_token, &format!("conversations/{}", ids.session)).body["conversation"].clone();
    assert_eq!(c["taken_over_by"], Value::Null);
    assert_eq!(c["whispers"], json!([]));
    assert!(!c.to_string().contains("from another workspace"));
    let t = get(&a_token, &format!("tickets/{}", ids.ticket)).body;
    assert_eq!(t["ticket"]["status"], "open");
    assert!(!t.to_string().contains("from another workspace"));
}

#[test]
fn the_publishable_widget_key_is_not_a_teammate() {
    let app = app();
    let a = app.workspace();
    let ids = isolated_customer(&a);
    for (method, path, body) in every_endpoint(&ids) {
        let r = call(
            app,
            method,
            &format!("/api/inbox/{path}"),
            Some(&a.widget_key),
            body,
        );
        assert!(
            r.status == 401 || r.status == 403,
            "{method} {path} with the widget key: {} {}",
            r.status,
            r.body
        );
    }
}
