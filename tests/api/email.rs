//! The email channel through the platform's own path (`/cdn-cgi/handler/email`, as Email
//! Routing delivers under `wrangler dev`) and the Mailgun webhook: tickets from email,
//! threading, duplicates, automatic mail, spam, the AI's answers, and replies going out
//! threaded (recorded by the local sink).

use halo_tests::{app, percent_encode, post_raw, Reply, Workspace};
use hmac::Mac;
use serde_json::{json, Value};

fn fixture(name: &str) -> String {
    std::fs::read_to_string(halo_tests::root().join("tests/fixtures/email").join(name)).expect(name)
}

fn inbound(ws: &Workspace) -> String {
    let r = ws.call(
        "GET",
        &format!("/api/admin/workspaces/{}", ws.org_id),
        Some(&ws.admin_token),
        None,
    );
    r.body["inbound_email"]
        .as_str()
        .expect("an inbound address")
        .to_owned()
}

/// Delivers `raw` to `to` as Email Routing would.
fn deliver(ws: &Workspace, to: &str, raw: &str) -> Reply {
    let path = format!(
        "/cdn-cgi/handler/email?from={}&to={}",
        percent_encode("ada@customer.example"),
        percent_encode(to)
    );
    post_raw(&ws.base, &path, "message/rfc822", raw.as_bytes())
}

fn tickets(ws: &Workspace) -> Vec<Value> {
    let r = ws.call("GET", "/api/sdk/tickets", Some(&ws.secret_key), None);
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["tickets"].as_array().cloned().unwrap_or_default()
}

fn ticket(ws: &Workspace, id: &str) -> Value {
    let r = ws.call(
        "GET",
        &format!("/api/sdk/tickets/{id}"),
        Some(&ws.secret_key),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    r.body.clone()
}

fn emails(ws: &Workspace, token: &str, ticket: &str) -> Vec<Value> {
    let r = ws.call(
        "GET",
        &format!("/api/inbox/tickets/{ticket}/emails"),
        Some(token),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["emails"].as_array().cloned().unwrap_or_default()
}

fn set_email(ws: &Workspace, email: Value) {
    let r = ws.call(
        "PATCH",
        &format!("/api/admin/workspaces/{}", ws.org_id),
        Some(&ws.admin_token),
        Some(json!({ "email": email })),
    );
    assert_eq!(r.status, 200, "{}", r.body);
}

/// The one ticket the workspace has, after a delivery.
fn only_ticket(ws: &Workspace) -> Value {
    let all = tickets(ws);
    assert_eq!(all.len(), 1, "{all:?}");
    all[0].clone()
}

#[test]
fn an_email_to_the_inbound_address_opens_a_ticket_for_its_sender() {
    let ws = app().workspace();
    set_email(&ws, json!({ "ai": "off" }));
    let r = deliver(&ws, &inbound(&ws), &fixture("plain.eml"));
    assert!(r.status < 300, "{} {}", r.status, r.body);
    let t = only_ticket(&ws);
    assert_eq!(
        (
            t["channel"].as_str(),
            t["source"].as_str(),
            t["status"].as_str()
        ),
        (Some("email"), Some("email"), Some("open")),
        "{t}"
    );
    assert_eq!(t["subject"], "My export keeps failing");
    let contact = ws.call(
        "GET",
        "/api/sdk/users/ada@customer.example",
        Some(&ws.secret_key),
        None,
    );
    assert_eq!(contact.status, 200, "{}", contact.body);
    assert_eq!(contact.body["user"]["email"], "ada@customer.example");
    assert_eq!(contact.body["user"]["name"], "Ada Lovelace");
    let full = ticket(&ws, t["id"].as_str().unwrap());
    assert!(full.to_string().contains("error 42"), "{full}");
}

#[test]
fn a_message_delivered_twice_is_processed_once() {
    let ws = app().workspace();
    set_email(&ws, json!({ "ai": "off" }));
    let to = inbound(&ws);
    deliver(&ws, &to, &fixture("plain.eml"));
    deliver(&ws, &to, &fixture("plain.eml"));
    let t = only_ticket(&ws);
    let (_, token) = halo_tests::teammate(&ws, "Mia");
    let id = t["id"].as_str().unwrap();
    assert_eq!(emails(&ws, &token, id).len(), 1);
}

#[test]
fn a_teammates_reply_goes_out_threaded_and_the_customers_answer_joins_and_reopens_the_ticket() {
    let ws = app().workspace();
    set_email(&ws, json!({ "ai": "off" }));
    let to = inbound(&ws);
    deliver(&ws, &to, &fixture("plain.eml"));
    let id = only_ticket(&ws)["id"].as_str().unwrap().to_owned();
    let (_, token) = halo_tests::teammate(&ws, "Mia");
    let replied = ws.call(
        "POST",
        &format!("/api/inbox/tickets/{id}/reply"),
        Some(&token),
        Some(json!({ "text": "Hi Ada, please clear the export cache in Settings and try again." })),
    );
    assert_eq!(replied.status, 200, "{}", replied.body);
    assert_eq!(
        replied.body["email"], "recorded",
        "the local sink records what would be sent"
    );
    let thread = emails(&ws, &token, &id);
    let out = thread
        .iter()
        .find(|e| e["direction"] == "out")
        .expect("the reply as email");
    assert_eq!(out["to_address"], "ada@customer.example");
    assert_eq!(out["in_reply_to"], "plain-1@customer.example");
    assert_eq!(out["refs"], json!(["plain-1@customer.example"]));
    assert_eq!(out["subject"], "Re: My export keeps failing");
    assert!(
        out["reply_to"]
            .as_str()
            .is_some_and(|r| r.starts_with(&format!("reply+{id}."))),
        "{out}"
    );
    // The ticket is resolved; the customer's answer (References: the first message) reopens it.
    let resolved = ws.call(
        "PATCH",
        &format!("/api/sdk/tickets/{id}"),
        Some(&ws.secret_key),
        Some(json!({ "status": "resolved" })),
    );
    assert_eq!(resolved.status, 200, "{}", resolved.body);
    deliver(&ws, &to, &fixture("outlook-reply.eml"));
    let t = only_ticket(&ws);
    assert_eq!(
        (t["id"].as_str(), t["status"].as_str()),
        (Some(id.as_str()), Some("open")),
        "{t}"
    );
    assert_eq!(
        emails(&ws, &token, &id)
            .iter()
            .filter(|e| e["direction"] == "in")
            .count(),
        2
    );
}

#[test]
fn a_reply_to_the_tickets_reply_address_joins_it_and_a_forged_address_does_not() {
    let ws = app().workspace();
    set_email(&ws, json!({ "ai": "off" }));
    deliver(&ws, &inbound(&ws), &fixture("plain.eml"));
    let id = only_ticket(&ws)["id"].as_str().unwrap().to_owned();
    let (_, token) = halo_tests::teammate(&ws, "Mia");
    ws.call(
        "POST",
        &format!("/api/inbox/tickets/{id}/reply"),
        Some(&token),
        Some(json!({ "text": "Try again?" })),
    );
    let reply_to = emails(&ws, &token, &id)
        .iter()
        .find(|e| e["direction"] == "out")
        .unwrap()["reply_to"]
        .as_str()
        .unwrap()
        .to_owned();
    // A client that drops every threading header: only the reply address threads it.
    let raw = fixture("gmail-reply.eml")
        .replace("reply+TICKET.MAC@halo.example", &reply_to)
        .replace("In-Reply-To: <halo-out-1@halo.example>\n", "")
        .replace(
            "References: <plain-1@customer.example> <halo-out-1@halo.example>\n",
            "",
        );
    deliver(&ws, &reply_to, &raw);
    assert_eq!(tickets(&ws).len(), 1);
    assert_eq!(
        emails(&ws, &token, &id)
            .iter()
            .filter(|e| e["direction"] == "in")
            .count(),
        2
    );
    let (local, domain) = reply_to.split_once('@').unwrap();
    let forged = format!(
        "{}{}@{domain}",
        &local[..local.len() - 1],
        if local.ends_with('0') { '1' } else { '0' }
    );
    let raw = raw
        .replace(&reply_to, &forged)
        .replace("CAgmail-2", "CAgmail-forged");
    deliver(&ws, &forged, &raw);
    assert_eq!(
        emails(&ws, &token, &id)
            .iter()
            .filter(|e| e["direction"] == "in")
            .count(),
        2,
        "a forged reply address reaches no ticket"
    );
    assert_eq!(tickets(&ws).len(), 1);
}

#[test]
fn automatic_mail_opens_no_ticket_and_gets_no_answer() {
    let ws = app().workspace();
    set_email(&ws, json!({ "ai": "send" }));
    let to = inbound(&ws);
    for f in ["auto-reply.eml", "bounce.eml", "list.eml"] {
        let raw = fixture(f).replace("reply+TICKET.MAC@halo.example", &to);
        let r = deliver(&ws, &to, &raw);
        assert!(r.status < 500, "{f}: {} {}", r.status, r.body);
    }
    assert_eq!(tickets(&ws), Vec::<Value>::new());
}

#[test]
fn spam_is_filed_as_spam_unless_the_sender_is_trusted() {
    let ws = app().workspace();
    set_email(&ws, json!({ "ai": "send" }));
    let to = inbound(&ws);
    let spam = fixture("plain.eml")
        .replace(
            "Subject: My export keeps failing",
            "Subject: YOU HAVE WON A PRIZE!!!",
        )
        .replace(
            "My export keeps failing with error 42",
            "You have won: claim your prize at once",
        );
    deliver(&ws, &to, &spam);
    assert_eq!(
        tickets(&ws),
        Vec::<Value>::new(),
        "spam is not among the open tickets"
    );
    let listed = ws.call(
        "GET",
        "/api/sdk/tickets?status=spam",
        Some(&ws.secret_key),
        None,
    );
    let spam_tickets = listed.body["tickets"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(spam_tickets.len(), 1, "{}", listed.body);
    let t = spam_tickets[0].clone();
    assert_eq!(t["status"], "spam", "{t}");
    let (_, token) = halo_tests::teammate(&ws, "Mia");
    let id = t["id"].as_str().unwrap();
    assert!(
        emails(&ws, &token, id)
            .iter()
            .all(|e| e["direction"] == "in"),
        "spam gets no answer"
    );
    let ws2 = app().workspace();
    set_email(
        &ws2,
        json!({ "ai": "off", "trusted": ["customer.example"] }),
    );
    deliver(&ws2, &inbound(&ws2), &spam);
    assert_eq!(
        only_ticket(&ws2)["status"],
        "open",
        "a trusted domain is never spam"
    );
}

#[test]
fn a_confident_ai_answer_goes_out_threaded_and_resolves_the_ticket() {
    let ws = app().workspace();
    ws.add_source(
        "Exports failing with error 42",
        "https://help.example.test/export-42",
        "# Exports failing with error 42\n\nError 42 means the export cache is full. Clear the export cache in Settings > Data, then export again.",
    );
    set_email(&ws, json!({ "ai": "send" }));
    deliver(&ws, &inbound(&ws), &fixture("plain.eml"));
    let t = only_ticket(&ws);
    let id = t["id"].as_str().unwrap();
    let (_, token) = halo_tests::teammate(&ws, "Mia");
    let thread = emails(&ws, &token, id);
    let out = thread
        .iter()
        .find(|e| e["direction"] == "out")
        .unwrap_or_else(|| panic!("an auto-reply: {thread:?} {t}"));
    assert_eq!(out["in_reply_to"], "plain-1@customer.example");
    assert!(
        out["body"]
            .as_str()
            .is_some_and(|b| b.to_lowercase().contains("export cache")),
        "{out}"
    );
    assert_eq!(
        t["status"], "resolved",
        "the AI's email auto-reply resolves the ticket: {t}"
    );
}

#[test]
fn without_a_confident_answer_the_ai_leaves_its_suggestion_as_a_note() {
    let ws = app().workspace();
    set_email(&ws, json!({ "ai": "send" }));
    deliver(&ws, &inbound(&ws), &fixture("alternative.eml"));
    let t = only_ticket(&ws);
    assert_eq!(t["status"], "open", "{t}");
    let id = t["id"].as_str().unwrap();
    let (_, token) = halo_tests::teammate(&ws, "Mia");
    assert!(
        emails(&ws, &token, id)
            .iter()
            .all(|e| e["direction"] == "in"),
        "nothing sent"
    );
    let full = ticket(&ws, id);
    assert!(
        full.to_string().contains("Suggested reply from the AI"),
        "{full}"
    );
}

fn mailgun_form(key: &str, token: &str, timestamp: &str, recipient: &str, mime: &str) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(format!("{timestamp}{token}").as_bytes());
    let signature: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    [
        ("timestamp", timestamp),
        ("token", token),
        ("signature", signature.as_str()),
        ("recipient", recipient),
        ("body-mime", mime),
    ]
    .iter()
    .map(|(k, v)| format!("{k}={}", percent_encode(v)))
    .collect::<Vec<_>>()
    .join("&")
}

#[test]
fn a_signed_mailgun_delivery_opens_a_ticket_and_a_forged_or_replayed_one_is_refused() {
    let ws = app().workspace();
    set_email(
        &ws,
        json!({ "ai": "off", "mailgun_signing_key": "mailgun-signing-key-1" }),
    );
    let to = inbound(&ws);
    let now = halo_tests::now_secs().to_string();
    let form = mailgun_form(
        "mailgun-signing-key-1",
        "token-1",
        &now,
        &to,
        &fixture("plain.eml"),
    );
    let path = "/api/email/inbound/mailgun";
    let ok = post_raw(
        &ws.base,
        path,
        "application/x-www-form-urlencoded",
        form.as_bytes(),
    );
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.body["status"], "ticket");
    let replay = post_raw(
        &ws.base,
        path,
        "application/x-www-form-urlencoded",
        form.as_bytes(),
    );
    assert_eq!(
        (replay.status, replay.error().0.as_str()),
        (403, "replayed")
    );
    let forged = mailgun_form(
        "not-the-key-000",
        "token-2",
        &now,
        &to,
        &fixture("alternative.eml"),
    );
    let refused = post_raw(
        &ws.base,
        path,
        "application/x-www-form-urlencoded",
        forged.as_bytes(),
    );
    assert_eq!(
        (refused.status, refused.error().0.as_str()),
        (403, "bad_signature")
    );
    let stale = mailgun_form(
        "mailgun-signing-key-1",
        "token-3",
        "1700000000",
        &to,
        &fixture("alternative.eml"),
    );
    let old = post_raw(
        &ws.base,
        path,
        "application/x-www-form-urlencoded",
        stale.as_bytes(),
    );
    assert_eq!(old.status, 403);
    assert_eq!(tickets(&ws).len(), 1);
}

#[test]
fn marking_a_ticket_as_spam_sends_the_senders_next_email_to_spam() {
    let ws = app().workspace();
    set_email(&ws, json!({ "ai": "off" }));
    let to = inbound(&ws);
    deliver(&ws, &to, &fixture("plain.eml"));
    let id = only_ticket(&ws)["id"].as_str().unwrap().to_owned();
    let marked = ws.call(
        "PATCH",
        &format!("/api/sdk/tickets/{id}"),
        Some(&ws.secret_key),
        Some(json!({ "status": "spam" })),
    );
    assert_eq!(marked.status, 200, "{}", marked.body);
    let again =
        fixture("alternative.eml").replace("grace@customer.example", "ada@customer.example");
    deliver(&ws, &to, &again);
    let listed = ws.call(
        "GET",
        "/api/sdk/tickets?status=spam",
        Some(&ws.secret_key),
        None,
    );
    assert_eq!(
        listed.body["tickets"].as_array().map(Vec::len),
        Some(2),
        "{}",
        listed.body
    );
}

#[test]
fn an_email_over_the_size_limit_is_refused_with_its_reason() {
    let ws = app().workspace();
    set_email(
        &ws,
        json!({ "ai": "off", "mailgun_signing_key": "mailgun-signing-key-1" }),
    );
    let to = inbound(&ws);
    let huge = format!("{}\n{}", fixture("plain.eml"), "x".repeat(10 * 1024 * 1024));
    let form = mailgun_form(
        "mailgun-signing-key-1",
        "token-big",
        &halo_tests::now_secs().to_string(),
        &to,
        &huge,
    );
    let r = post_raw(
        &ws.base,
        "/api/email/inbound/mailgun",
        "application/x-www-form-urlencoded",
        form.as_bytes(),
    );
    assert_eq!(
        r.status, 406,
        "a size a retry cannot fix stops Mailgun's retries: {}",
        r.body
    );
    assert!(r.body["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("bytes")));
    deliver(&ws, &to, &huge);
    assert_eq!(tickets(&ws), Vec::<Value>::new());
}
