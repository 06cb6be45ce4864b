//! Setting a workspace up from the console: its settings (read by every teammate, changed by
//! owners and admins, validated field by field), the widget's public config, the install
//! check, verified traffic, agents, and a webhook's test delivery.

use halo_shared::settings::WorkspaceSettings;
use halo_tests::stub::{Answer, Stub};
use halo_tests::{app, user_token};
use serde_json::json;

fn settings(r: &halo_tests::Reply) -> WorkspaceSettings {
    assert_eq!(r.status, 200, "{}", r.body);
    serde_json::from_value(r.body.clone()).expect("settings in the shared shape")
}

#[test]
fn every_teammate_reads_the_settings_and_only_owners_and_admins_change_them() {
    let ws = app().workspace();
    let (_, _, agent) = ws.signed_in("agent");
    let (_, _, admin) = ws.signed_in("admin");
    let read = settings(&agent.call("GET", "/api/console/workspace", None));
    assert_eq!(read.org_id, ws.org_id);
    assert_eq!(read.widget_key.as_deref(), Some(ws.widget_key.as_str()));
    let change = json!({ "name": "Acme", "appearance": { "brand_color": "#ffe14d", "greeting": "Hi from Acme" } });
    let refused = agent.call("PATCH", "/api/console/workspace", Some(change.clone()));
    assert_eq!(
        (refused.status, refused.error().0.as_str()),
        (403, "role_forbidden")
    );
    let changed = settings(&admin.call("PATCH", "/api/console/workspace", Some(change)));
    assert_eq!(changed.name, "Acme");
    assert_eq!(changed.appearance.brand_color, "#ffe14d");
    assert_eq!(changed.appearance.greeting.as_deref(), Some("Hi from Acme"));
    // A later change of one field keeps the others.
    let again = settings(&admin.call(
        "PATCH",
        "/api/console/workspace",
        Some(json!({ "appearance": { "position": "left" }, "allowed_origins": ["https://shop.example.test"] })),
    ));
    assert_eq!(again.appearance.brand_color, "#ffe14d");
    assert_eq!(
        again.allowed_origins,
        Some(vec!["https://shop.example.test".to_owned()])
    );
}

#[test]
fn settings_changes_are_refused_with_the_field_named_and_nothing_written() {
    let ws = app().workspace();
    let (_, _, owner) = ws.signed_in("owner");
    for (body, field) in [
        (
            json!({ "appearance": { "brand_color": "blue" } }),
            "appearance.brand_color",
        ),
        (
            json!({ "appearance": { "locale": "tlh" } }),
            "appearance.locale",
        ),
        (
            json!({ "setup": { "steps": { "billing": "done" } } }),
            "setup.steps.billing",
        ),
        (
            json!({ "allowed_origins": ["not an origin"] }),
            "allowed_origins[0]",
        ),
        (
            json!({ "name": "Renamed", "escalation_threshold": 2 }),
            "escalation_threshold",
        ),
    ] {
        let r = owner.call("PATCH", "/api/console/workspace", Some(body.clone()));
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        assert_eq!(r.body["error"]["field"], field, "{}", r.body);
        assert!(r.body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));
    }
    let read = settings(&owner.call("GET", "/api/console/workspace", None));
    assert_eq!(
        read.name, "Test workspace",
        "a refused change writes nothing"
    );
}

#[test]
fn the_wizard_progress_is_kept_and_resumes_where_it_was_left() {
    let ws = app().workspace();
    let (_, _, owner) = ws.signed_in("owner");
    let fresh = settings(&owner.call("GET", "/api/console/workspace", None));
    assert_eq!(fresh.setup.next_step(), Some("company"));
    let body = json!({ "setup": { "steps": { "company": "done", "knowledge": "skipped" } } });
    settings(&owner.call("PATCH", "/api/console/workspace", Some(body)));
    let later = settings(&owner.call("GET", "/api/console/workspace", None));
    assert_eq!(later.setup.next_step(), Some("agent"));
    assert!(!later.setup.dismissed);
}

#[test]
fn the_widget_config_is_public_cacheable_and_revalidates_by_its_etag() {
    let ws = app().workspace();
    let (_, _, owner) = ws.signed_in("owner");
    let path = format!("/api/sdk/widget/config?key={}", ws.widget_key);
    let first = ws.call("GET", &path, None, None);
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.body["org_id"], ws.org_id.as_str());
    assert_eq!(first.body["appearance"]["brand_text_color"], "#ffffff");
    assert!(first
        .header("cache-control")
        .is_some_and(|c| c.contains("public") && c.contains("max-age")));
    assert_eq!(first.header("access-control-allow-origin"), Some("*"));
    let etag = first.header("etag").expect("an etag").to_owned();
    let same = ws.call_with("GET", &path, None, &[("if-none-match", &etag)], None);
    assert_eq!(same.status, 304);
    owner.call(
        "PATCH",
        "/api/console/workspace",
        Some(json!({ "appearance": { "brand_color": "#ffe14d", "title": "Acme help" } })),
    );
    let changed = ws.call_with("GET", &path, None, &[("if-none-match", &etag)], None);
    assert_eq!(changed.status, 200, "a changed look is a new answer");
    assert_eq!(changed.body["appearance"]["title"], "Acme help");
    assert_eq!(
        changed.body["appearance"]["brand_text_color"], "#1c1e21",
        "dark text on a light brand"
    );
    assert_ne!(changed.header("etag"), Some(etag.as_str()));
}

#[test]
fn the_widget_config_needs_a_known_widget_key_and_never_a_secret_one() {
    let ws = app().workspace();
    let unknown = ws.call(
        "GET",
        &format!("/api/sdk/widget/config?key=ab_live_{}", "0".repeat(64)),
        None,
        None,
    );
    assert_eq!(unknown.status, 401);
    let malformed = ws.call("GET", "/api/sdk/widget/config?key=nope", None, None);
    assert_eq!(malformed.status, 401);
    let secret = ws.call(
        "GET",
        &format!("/api/sdk/widget/config?key={}", ws.secret_key),
        None,
        None,
    );
    assert_eq!(secret.status, 401);
    assert!(unknown.body["error"]["code"].as_str().is_some());
}

#[test]
fn the_install_check_notes_the_first_widget_message_from_a_site() {
    let ws = app().workspace();
    let (_, _, agent) = ws.signed_in("agent");
    let before = settings(&agent.call("GET", "/api/console/workspace", None));
    assert_eq!(before.install.first_message_at, None);
    // A server-side call (no Origin) is not the widget on a site.
    assert_eq!(ws.chat(json!({ "message": "from a script" })).status, 200);
    assert_eq!(
        settings(&agent.call("GET", "/api/console/workspace", None))
            .install
            .first_message_at,
        None
    );
    let chat_from = |origin: &str| {
        ws.call_with(
            "POST",
            "/api/sdk/chat",
            Some(&ws.widget_key),
            &[("origin", origin)],
            Some(json!({ "message": "hello from the shop" })),
        )
    };
    assert_eq!(chat_from("https://shop.example.test").status, 200);
    assert_eq!(chat_from("https://other.example.test").status, 200);
    let after = settings(&agent.call("GET", "/api/console/workspace", None));
    assert!(after.install.first_message_at.is_some());
    assert_eq!(
        after.install.first_message_origin.as_deref(),
        Some("https://shop.example.test"),
        "the first site is kept"
    );
}

#[test]
fn verified_traffic_shows_once_a_user_with_a_valid_token_writes() {
    let ws = app().workspace();
    let (_, _, owner) = ws.signed_in("owner");
    let on = settings(&owner.call(
        "PATCH",
        "/api/console/workspace",
        Some(json!({ "identity_verification": true })),
    ));
    assert!(on.identity_verification);
    assert!(!on.verified_traffic);
    let token = user_token(&ws, json!({ "user_id": "u-7" }));
    assert_eq!(
        ws.chat(json!({ "message": "hi", "user_id": "u-7", "user_token": token }))
            .status,
        200
    );
    assert!(settings(&owner.call("GET", "/api/console/workspace", None)).verified_traffic);
}

#[test]
fn teammates_read_agents_and_only_owners_and_admins_create_them() {
    let ws = app().workspace();
    let (_, _, agent) = ws.signed_in("agent");
    let (_, _, admin) = ws.signed_in("admin");
    let listed = agent.call("GET", "/api/sdk/agents", None);
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert_eq!(listed.body["agents"].as_array().map(Vec::len), Some(1));
    let body = json!({ "name": "Billing bot", "instructions": "Answer billing questions.", "escalation_threshold": 0.4 });
    assert_eq!(
        agent
            .call("POST", "/api/sdk/agents", Some(body.clone()))
            .status,
        403
    );
    let created = admin.call("POST", "/api/sdk/agents", Some(body));
    assert_eq!(created.status, 201, "{}", created.body);
    let (_, _, stranger) = app().workspace().signed_in("owner");
    let id = created.body["agent"]["agent_id"].as_str().unwrap();
    assert_eq!(
        stranger
            .call("GET", &format!("/api/sdk/agents/{id}"), None)
            .status,
        404
    );
}

#[test]
fn a_webhook_test_delivery_reports_how_the_receiver_answered() {
    let stub = Stub::start(|_| Answer::json(202, &json!({ "received": true })));
    let ws = app().workspace();
    let (_, _, owner) = ws.signed_in("owner");
    let url = format!("{}/bugs", stub.base());
    let hook =
        json!({ "webhooks": { "file_bug": { "url": url, "secret": "a-receiver-secret-0001" } } });
    settings(&owner.call("PATCH", "/api/console/workspace", Some(hook)));
    let tested = owner.call("POST", "/api/console/webhooks/file_bug/test", None);
    assert_eq!(tested.status, 200, "{}", tested.body);
    assert_eq!(
        (tested.body["ok"].as_bool(), tested.body["status"].as_u64()),
        (Some(true), Some(202))
    );
    let got = stub.requests();
    assert_eq!(got.len(), 1);
    assert!(got[0]
        .header("x-halo-signature")
        .is_some_and(|s| s.starts_with("t=")));
    // The URL changes without the secret being entered again; the secret is kept.
    let moved =
        json!({ "webhooks": { "file_bug": { "url": format!("{}/v2/bugs", stub.base()) } } });
    let after = settings(&owner.call("PATCH", "/api/console/workspace", Some(moved)));
    assert_eq!(after.webhooks["file_bug"]["secret"], "…");
    assert!(owner
        .call("POST", "/api/console/webhooks/file_bug/test", None)
        .body["ok"]
        .as_bool()
        .unwrap());
    assert_eq!(
        stub.requests().last().map(|r| r.path.clone()),
        Some("/v2/bugs".to_owned())
    );
    let none = owner.call("POST", "/api/console/webhooks/request_refund/test", None);
    assert_eq!(none.status, 404);
}

#[test]
fn a_failing_webhook_receiver_is_reported_not_hidden() {
    let stub = Stub::start(|_| Answer::json(500, &json!({ "oops": true })));
    let ws = app().workspace();
    let (_, _, owner) = ws.signed_in("owner");
    let hook = json!({ "webhooks": { "request_refund": { "url": stub.base(), "secret": "a-receiver-secret-0002" } } });
    settings(&owner.call("PATCH", "/api/console/workspace", Some(hook)));
    let tested = owner.call("POST", "/api/console/webhooks/request_refund/test", None);
    assert_eq!(tested.body["ok"], false);
    assert!(
        tested.body["error"]
            .as_str()
            .is_some_and(|e| e.contains("500")),
        "{}",
        tested.body
    );
}

#[test]
fn the_playground_answers_as_the_chosen_contact_and_shows_what_the_ai_saw() {
    let ws = app().workspace();
    ws.add_source(
        "Exports",
        "https://help.example.test/exports",
        "# Exports\n\nPro plans can export every report to CSV from Settings.",
    );
    let seen = ws.call(
        "POST",
        "/api/sdk/users/identify",
        Some(&ws.secret_key),
        Some(json!({ "user_id": "p-1", "plan": "pro" })),
    );
    assert_eq!(seen.status, 200, "{}", seen.body);
    let (_, _, owner) = ws.signed_in("owner");
    let (_, _, agent) = ws.signed_in("agent");
    owner.call(
        "PATCH",
        "/api/console/workspace",
        Some(json!({ "identity_verification": true })),
    );
    let path = format!("/api/sdk/agents/{}/playground", ws.agent_id);
    let r = agent.call(
        "POST",
        &path,
        Some(json!({ "message": "How do I export a report?", "user_id": "p-1" })),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body["reply"]["text"]
        .as_str()
        .is_some_and(|t| !t.is_empty()));
    assert_eq!(
        r.body["trace"]["passages"][0]["title"], "Exports",
        "{}",
        r.body["trace"]
    );
    assert!(
        r.body["trace"]["context"]
            .as_str()
            .is_some_and(|c| c.contains("pro")),
        "{}",
        r.body["trace"]
    );
    // The team vouches for a contact it names; no token checked out, so none is recorded.
    let new = agent.call(
        "POST",
        &path,
        Some(json!({ "message": "Hello?", "user_id": "p-2" })),
    );
    assert_eq!(new.status, 200, "{}", new.body);
    let contact = ws.call("GET", "/api/sdk/users/p-2", Some(&ws.secret_key), None);
    assert_eq!(contact.body["user"]["verified"], false, "{}", contact.body);
    // The conversation goes on in the same session.
    let session = r.body["reply"]["session_id"].as_str().unwrap();
    let again = agent.call(
        "POST",
        &path,
        Some(json!({ "message": "And to PDF?", "user_id": "p-1", "session_id": session })),
    );
    assert_eq!(again.body["reply"]["session_id"], session);
}

#[test]
fn the_playground_is_refused_for_bad_input_and_for_another_workspaces_agent() {
    let ws = app().workspace();
    let (_, _, agent) = ws.signed_in("agent");
    let path = format!("/api/sdk/agents/{}/playground", ws.agent_id);
    let missing = agent.call("POST", &path, Some(json!({ "user_id": "p-1" })));
    assert_eq!(
        (missing.status, missing.body["error"]["field"].as_str()),
        (400, Some("message"))
    );
    let (_, _, stranger) = app().workspace().signed_in("owner");
    let foreign = stranger.call("POST", &path, Some(json!({ "message": "hi" })));
    assert_eq!(foreign.status, 404, "{}", foreign.body);
    // A widget key cannot speak as a chosen contact.
    let widget = ws.call(
        "POST",
        &path,
        Some(&ws.widget_key),
        Some(json!({ "message": "hi", "user_id": "p-1" })),
    );
    assert_eq!(widget.status, 403, "{}", widget.body);
}

#[test]
fn the_search_tester_shows_a_contacts_account_data_passages_too() {
    let ws = app().workspace();
    let context = json!({ "billing": { "label": "Billing status", "type": "status", "value": "Card declined on 3 March" } });
    let seen = ws.call(
        "POST",
        "/api/sdk/users/identify",
        Some(&ws.secret_key),
        Some(json!({ "user_id": "acct-1", "plan": "pro", "context": context })),
    );
    assert_eq!(seen.status, 200, "{}", seen.body);
    let (_, _, agent) = ws.signed_in("agent");
    let r = agent.call(
        "GET",
        "/api/sdk/knowledge/search?q=why%20was%20my%20card%20declined&user_id=acct-1",
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let facts = r.body["facts"].as_array().expect("facts for the contact");
    assert!(
        facts.iter().any(|f| f["text"]
            .as_str()
            .is_some_and(|t| t.contains("Card declined"))),
        "{}",
        r.body
    );
    let without = agent.call("GET", "/api/sdk/knowledge/search?q=card", None);
    assert!(without.body["facts"].is_null());
}

#[test]
fn the_email_settings_are_validated_and_the_mailgun_key_is_never_shown() {
    let ws = app().workspace();
    let (_, _, owner) = ws.signed_in("owner");
    let read = settings(&owner.call("GET", "/api/console/workspace", None));
    assert_eq!(
        read.inbound_email,
        format!("{}@mail.halo.localhost", ws.org_id)
    );
    for (body, field) in [
        (json!({ "email": { "ai": "always" } }), "email.ai"),
        (
            json!({ "email": { "trusted": ["ok.example", "not an address"] } }),
            "email.trusted[1]",
        ),
        (
            json!({ "email": { "mailgun_signing_key": 42 } }),
            "email.mailgun_signing_key",
        ),
    ] {
        let r = owner.call("PATCH", "/api/console/workspace", Some(body));
        assert_eq!(
            (r.status, r.body["error"]["field"].as_str()),
            (400, Some(field)),
            "{}",
            r.body
        );
    }
    let changed = settings(&owner.call(
        "PATCH",
        "/api/console/workspace",
        Some(json!({ "email": { "ai": "send", "trusted": ["Partner.example"], "mailgun_signing_key": "key-abcdefgh" } })),
    ));
    assert_eq!(changed.email.ai, halo_shared::settings::EmailAi::Send);
    assert_eq!(changed.email.trusted, vec!["partner.example".to_owned()]);
    assert_eq!(changed.email.mailgun_signing_key.as_deref(), Some("…"));
    let text = owner
        .call("GET", "/api/console/workspace", None)
        .body
        .to_string();
    assert!(!text.contains("key-abcdefgh"));
}
