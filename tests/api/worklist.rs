//! What the console's inbox reads: views with counts, pages by cursor, unread marks, search,
//! the contact directory, ticket edits by teammates, and presence between two teammates.

use std::time::Duration;

use halo_shared::inbox::{ContactSummary, ConversationSummary, Counts, SearchHit, Ticket};
use halo_tests::{app, call, ConsoleSession, Workspace};
use serde_json::{json, Value};

/// A ticket made by the backend, with a subject and a first customer message.
fn ticket(ws: &Workspace, subject: &str, status: &str, user: &str) -> String {
    let r = call(
        app(),
        "POST",
        "/api/sdk/tickets/create",
        Some(&ws.secret_key),
        Some(
            json!({ "subject": subject, "status": status, "user_id": user,
                     "message": format!("About {subject}") }),
        ),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["ticket"]["id"].as_str().unwrap().to_owned()
}

fn tickets_of(s: &ConsoleSession, query: &str) -> (Vec<Ticket>, Option<String>) {
    let r = s.call("GET", &format!("/api/inbox/tickets?{query}"), None);
    assert_eq!(r.status, 200, "{query}: {}", r.body);
    (
        serde_json::from_value(r.body["tickets"].clone()).expect("tickets in the shared shape"),
        r.body["next_cursor"].as_str().map(str::to_owned),
    )
}

fn counts(s: &ConsoleSession) -> Counts {
    let r = s.call("GET", "/api/inbox/counts", None);
    assert_eq!(r.status, 200, "{}", r.body);
    serde_json::from_value(r.body).expect("counts in the shared shape")
}

#[test]
fn each_view_lists_its_tickets_and_counts_them() {
    let ws = app().workspace();
    let (me, _, s) = ws.signed_in("agent");
    let open = ticket(&ws, "Printer on fire", "open", "v-1");
    let urgent = ticket(&ws, "Site down", "priority", "v-2");
    let done = ticket(&ws, "Old question", "resolved", "v-3");
    let spam = ticket(&ws, "Cheap watches", "spam", "v-4");
    let assigned = s.call(
        "PATCH",
        &format!("/api/inbox/tickets/{open}"),
        Some(json!({ "assignee": me })),
    );
    assert_eq!(assigned.status, 200, "{}", assigned.body);
    let ids = |q: &str| -> Vec<String> { tickets_of(&s, q).0.into_iter().map(|t| t.id).collect() };
    assert_eq!(ids("view=mine"), std::slice::from_ref(&open));
    assert_eq!(ids("view=unassigned"), std::slice::from_ref(&urgent));
    let mut all_open = ids("view=open");
    all_open.sort();
    let mut expected = vec![open.clone(), urgent.clone()];
    expected.sort();
    assert_eq!(all_open, expected);
    assert_eq!(ids("view=priority"), [urgent]);
    assert_eq!(ids("view=resolved"), [done]);
    assert_eq!(ids("view=spam"), [spam]);
    let c = counts(&s);
    assert_eq!(
        (
            c.mine,
            c.unassigned,
            c.open,
            c.priority,
            c.resolved,
            c.spam,
            c.snoozed
        ),
        (1, 1, 2, 1, 1, 1, 0)
    );
    let bad = s.call("GET", "/api/inbox/tickets?view=everything", None);
    assert_eq!((bad.status, bad.error().1.as_deref()), (400, Some("view")));
}

#[test]
fn a_list_comes_a_page_at_a_time_and_the_cursor_continues_it_without_repeats() {
    let ws = app().workspace();
    let (_, _, s) = ws.signed_in("agent");
    let mut made: Vec<String> = (0..7)
        .map(|i| ticket(&ws, &format!("Question {i}"), "open", &format!("p-{i}")))
        .collect();
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let q = match &cursor {
            Some(c) => format!("view=open&limit=3&cursor={c}"),
            None => "view=open&limit=3".to_owned(),
        };
        let (page, next) = tickets_of(&s, &q);
        assert!(page.len() <= 3);
        seen.extend(page.into_iter().map(|t| t.id));
        pages += 1;
        match next {
            Some(n) => cursor = Some(n),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), seen.len(), "no ticket twice");
    made.sort();
    assert_eq!(sorted, made);
    let bad = s.call("GET", "/api/inbox/tickets?cursor=nonsense", None);
    assert_eq!(
        (bad.status, bad.error().1.as_deref()),
        (400, Some("cursor"))
    );
    let too_many = s.call("GET", "/api/inbox/conversations?limit=500", None);
    assert_eq!(too_many.status, 400);
}

#[test]
fn a_customer_line_marks_the_conversation_unread_until_the_teammate_opens_it() {
    let ws = app().workspace();
    let (_, _, s) = ws.signed_in("agent");
    let session = ws
        .chat(json!({ "message": "Hello, where is my order?", "user_id": "u-unread" }))
        .session_id()
        .to_owned();
    let row = |s: &ConsoleSession| -> ConversationSummary {
        let r = s.call("GET", "/api/inbox/conversations?live=true", None);
        let list: Vec<ConversationSummary> =
            serde_json::from_value(r.body["conversations"].clone()).expect("the shared shape");
        list.into_iter().find(|c| c.session_id == session).unwrap()
    };
    assert!(row(&s).unread);
    assert_eq!(counts(&s).unread, 1);
    let seen = s.call(
        "POST",
        "/api/inbox/seen",
        Some(json!({ "conversation": session })),
    );
    assert_eq!(seen.status, 200, "{}", seen.body);
    assert!(!row(&s).unread);
    assert_eq!(counts(&s).unread, 0);
    // Another teammate has not seen it.
    let (_, _, other) = ws.signed_in("admin");
    assert!(row(&other).unread);
    std::thread::sleep(Duration::from_millis(5));
    ws.chat(json!({ "message": "Any news?", "user_id": "u-unread", "session_id": session }));
    assert!(row(&s).unread, "the customer wrote again");
    let neither = s.call("POST", "/api/inbox/seen", Some(json!({})));
    assert_eq!(neither.status, 400);
    let unknown = s.call(
        "POST",
        "/api/inbox/seen",
        Some(json!({ "ticket": "no-such-ticket" })),
    );
    assert_eq!(unknown.status, 404);
}

#[test]
fn search_finds_a_ticket_by_a_word_of_its_thread_and_a_contact_by_name() {
    let ws = app().workspace();
    let (_, _, s) = ws.signed_in("agent");
    let id = ticket(&ws, "Delivery problem", "open", "c-search");
    let note = s.call(
        "POST",
        &format!("/api/inbox/tickets/{id}/notes"),
        Some(json!({ "text": "Courier says the parcel is in Rotterdam" })),
    );
    assert_eq!(note.status, 201, "{}", note.body);
    call(
        app(),
        "POST",
        "/api/sdk/users/identify",
        Some(&ws.secret_key),
        Some(
            json!({ "user_id": "c-search", "name": "Marguerite Duras", "email": "md@example.com" }),
        ),
    );
    let search = |q: &str| -> Vec<SearchHit> {
        let r = s.call("GET", &format!("/api/inbox/search?q={q}"), None);
        assert_eq!(r.status, 200, "{q}: {}", r.body);
        serde_json::from_value(r.body["hits"].clone()).expect("hits in the shared shape")
    };
    let hits = search("rotter");
    assert!(
        hits.iter()
            .any(|h| h.id == id && h.snippet.contains("Rotterdam")),
        "{hits:?}"
    );
    let people = search("margu");
    assert!(
        people.iter().any(|h| h.id == "c-search"
            && h.title == "Marguerite Duras"
            && h.kind == halo_shared::inbox::HitKind::Contact),
        "{people:?}"
    );
    assert!(search("zyxwvut").is_empty());
    let other = app().workspace();
    let (_, _, stranger) = other.signed_in("agent");
    let r = stranger.call("GET", "/api/inbox/search?q=rotter", None);
    assert_eq!(r.body["hits"], json!([]), "another workspace finds nothing");
    let empty = s.call("GET", "/api/inbox/search?q=", None);
    assert_eq!((empty.status, empty.error().1.as_deref()), (400, Some("q")));
}

#[test]
fn the_contact_directory_lists_and_filters_identified_contacts() {
    let ws = app().workspace();
    let (_, _, s) = ws.signed_in("agent");
    for (id, name) in [("d-1", "Ada Lovelace"), ("d-2", "Alan Turing")] {
        let r = call(
            app(),
            "POST",
            "/api/sdk/users/identify",
            Some(&ws.secret_key),
            Some(json!({ "user_id": id, "name": name })),
        );
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let list = |q: &str| -> Vec<ContactSummary> {
        let r = s.call("GET", &format!("/api/inbox/contacts{q}"), None);
        assert_eq!(r.status, 200, "{}", r.body);
        serde_json::from_value(r.body["contacts"].clone()).unwrap()
    };
    assert_eq!(list("").len(), 2);
    let found = list("?q=turing");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].user_id, "d-2");
}

#[test]
fn the_company_directory_lists_and_filters_companies_with_their_user_counts() {
    let ws = app().workspace();
    let (_, _, s) = ws.signed_in("agent");
    for (id, name) in [("co-1", "Globex"), ("co-2", "Initech")] {
        let r = call(
            app(),
            "POST",
            "/api/sdk/companies/identify",
            Some(&ws.secret_key),
            Some(json!({ "company_id": id, "name": name })),
        );
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let r = call(
        app(),
        "POST",
        "/api/sdk/users/identify",
        Some(&ws.secret_key),
        Some(json!({ "user_id": "emp-1", "company_id": "co-2" })),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let list = |q: &str| -> Vec<halo_shared::inbox::CompanySummary> {
        let r = s.call("GET", &format!("/api/inbox/companies{q}"), None);
        assert_eq!(r.status, 200, "{}", r.body);
        serde_json::from_value(r.body["companies"].clone()).unwrap()
    };
    assert_eq!(list("").len(), 2);
    let found = list("?q=initech");
    assert_eq!(found.len(), 1);
    assert_eq!((found[0].company_id.as_str(), found[0].users), ("co-2", 1));
    let page = s.call("GET", "/api/inbox/companies/co-2", None);
    let view: halo_shared::inbox::CompanyView =
        serde_json::from_value(page.body).expect("the company in the shared shape");
    assert_eq!(view.company.name.as_deref(), Some("Initech"));
}

#[test]
fn a_teammate_assigns_only_to_a_teammate_and_can_change_the_subject() {
    let ws = app().workspace();
    let (_, _, s) = ws.signed_in("agent");
    let id = ticket(&ws, "Typo in subjet", "open", "e-1");
    let stranger = s.call(
        "PATCH",
        &format!("/api/inbox/tickets/{id}"),
        Some(json!({ "assignee": "someone-else" })),
    );
    assert_eq!(
        (stranger.status, stranger.error().1.as_deref()),
        (400, Some("assignee"))
    );
    let renamed = s.call(
        "PATCH",
        &format!("/api/inbox/tickets/{id}"),
        Some(json!({ "subject": "Typo in subject" })),
    );
    assert_eq!(renamed.status, 200, "{}", renamed.body);
    assert_eq!(renamed.body["ticket"]["subject"], "Typo in subject");
    let blank = s.call(
        "PATCH",
        &format!("/api/inbox/tickets/{id}"),
        Some(json!({ "subject": "  " })),
    );
    assert_eq!(blank.status, 400);
}

/// The presence events a socket receives within `wait`.
fn presence(socket: &mut halo_tests::Socket, wait: Duration) -> Vec<Value> {
    let mut out = Vec::new();
    while let Some(e) = halo_tests::next_event(socket, wait) {
        if e["type"] == "presence" {
            out.push(e);
        }
    }
    out
}

#[test]
fn two_teammates_on_one_ticket_see_each_other_and_each_others_typing() {
    let ws = app().workspace();
    let (_, ann_token) = halo_tests::teammate(&ws, "Ann");
    let (_, bob_token) = halo_tests::teammate(&ws, "Bob");
    let id = ticket(&ws, "Shared ticket", "open", "pr-1");
    let path = |token: &str| format!("/api/inbox/tickets/{id}/live?token={token}");
    let mut first = halo_tests::live_socket(app(), &path(&ann_token)).unwrap();
    let mut second = halo_tests::live_socket(app(), &path(&bob_token)).unwrap();
    let to_first = presence(&mut first, Duration::from_millis(600));
    assert!(
        to_first
            .iter()
            .any(|e| e["name"] == "Bob" && e["state"] == "viewing"),
        "{to_first:?}"
    );
    let to_second = presence(&mut second, Duration::from_millis(600));
    assert!(
        to_second
            .iter()
            .any(|e| e["name"] == "Ann" && e["state"] == "viewing"),
        "the newcomer learns who is already here: {to_second:?}"
    );
    second
        .send(tungstenite::Message::text(
            json!({ "type": "presence", "state": "typing" }).to_string(),
        ))
        .unwrap();
    let typing = presence(&mut first, Duration::from_millis(600));
    assert!(
        typing
            .iter()
            .any(|e| e["name"] == "Bob" && e["state"] == "typing"),
        "{typing:?}"
    );
    second.close(None).unwrap();
    let _ = second.flush();
    let left = presence(&mut first, Duration::from_millis(1500));
    assert!(
        left.iter()
            .any(|e| e["name"] == "Bob" && e["state"] == "left"),
        "{left:?}"
    );
}

#[test]
fn a_contact_shows_what_the_ai_is_given_about_them_and_their_tickets() {
    let ws = app().workspace();
    let (_, _, s) = ws.signed_in("agent");
    let r = call(
        app(),
        "POST",
        "/api/sdk/context",
        Some(&ws.secret_key),
        Some(json!({ "user_id": "side-1", "set": {
            "billing": { "label": "Billing", "type": "status", "value": "past_due" } } })),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let id = ticket(&ws, "Card declined", "open", "side-1");
    let r = s.call("GET", "/api/inbox/contacts/side-1", None);
    assert_eq!(r.status, 200, "{}", r.body);
    let view: halo_shared::inbox::ContactView =
        serde_json::from_value(r.body).expect("the contact in the shared shape");
    assert!(view.ai_view.contains("[Billing]"), "{}", view.ai_view);
    assert!(view.ai_view.contains("past_due"), "{}", view.ai_view);
    assert_eq!(
        view.tickets
            .iter()
            .map(|t| t.id.as_str())
            .collect::<Vec<_>>(),
        [id.as_str()]
    );
}
