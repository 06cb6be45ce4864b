//! The console's sign-in: invites, passwords, sessions in a cookie, throttling, roles, and the
//! inbox API answering a signed-in teammate of its own workspace only.

use halo_tests::{
    aging_server, app, call, console_sign_in, link_path, send, session_cookie_of, ConsoleSession,
};
use serde_json::{json, Value};

const PASSWORD: &str = "correct horse battery";

#[test]
fn an_invited_owner_sets_a_password_and_is_signed_in_with_a_strict_cookie() {
    let ws = app().workspace();
    let (id, url) = ws.invited("Olga@Example.com", "owner");
    assert!(link_path(&url).starts_with("/app/invite/tl_"), "{url}");
    let token = url.rsplit('/').next().unwrap();
    let view = call(
        app(),
        "GET",
        &format!("/api/console/invites/{token}"),
        None,
        None,
    );
    assert_eq!(view.status, 200, "{}", view.body);
    assert_eq!(
        (&view.body["email"], &view.body["role"]),
        (&json!("olga@example.com"), &json!("owner"))
    );
    let r = ws.accept(&url, "Olga", PASSWORD);
    assert_eq!(r.status, 201, "{}", r.body);
    let set = r.header("set-cookie").unwrap();
    for attribute in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
        assert!(set.contains(attribute), "{set}");
    }
    let me = ConsoleSession {
        base: ws.base.clone(),
        cookie: session_cookie_of(&r).unwrap(),
    }
    .call("GET", "/api/console/me", None);
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.body["teammate"]["id"], json!(id));
    assert_eq!(me.body["teammate"]["name"], "Olga");
    assert_eq!(me.body["teammate"]["role"], "owner");
    assert_eq!(me.body["workspace"]["id"], json!(ws.org_id));
}

#[test]
fn an_invite_works_once_and_not_after_seven_days() {
    let (server, _one_at_a_time) = aging_server();
    let ws = server.workspace();
    let (_, url) = ws.invited("once@example.com", "agent");
    assert_eq!(ws.accept(&url, "Once", PASSWORD).status, 201);
    let again = ws.accept(&url, "Twice", PASSWORD);
    assert_eq!(
        (again.status, again.error().0.as_str()),
        (410, "link_used"),
        "{}",
        again.body
    );

    let (_, late) = ws.invited("late@example.com", "agent");
    let token = late.rsplit('/').next().unwrap();
    // Eight days pass.
    server.age(
        "UPDATE teammate_links SET expires_at = expires_at - 8 * 86400000 WHERE org_id = ?1",
        &[&ws.org_id],
    );
    let expired = ws.accept(&late, "Late", PASSWORD);
    assert_eq!(
        (expired.status, expired.error().0.as_str()),
        (410, "link_expired")
    );
    let read = call(
        server,
        "GET",
        &format!("/api/console/invites/{token}"),
        None,
        None,
    );
    assert_eq!(read.status, 410);
    let unknown = call(
        server,
        "GET",
        "/api/console/invites/tl_0000000000000000000000000000000000000000000000000000000000000000",
        None,
        None,
    );
    assert_eq!(unknown.status, 404);
}

#[test]
fn an_invite_needs_a_name_and_a_password_of_ten_characters() {
    let ws = app().workspace();
    let (_, url) = ws.invited("short@example.com", "agent");
    let short = ws.accept(&url, "Short", "nine char");
    assert_eq!(
        (short.status, short.error().1.as_deref()),
        (400, Some("password"))
    );
    let nameless = ws.accept(&url, "   ", PASSWORD);
    assert_eq!(
        (nameless.status, nameless.error().1.as_deref()),
        (400, Some("name"))
    );
    assert_eq!(
        ws.accept(&url, "Short", PASSWORD).status,
        201,
        "a refused try does not use the link up"
    );
}

fn sign_in_from(ip: &str, email: &str, password: &str) -> halo_tests::Reply {
    send(
        app(),
        "POST",
        "/api/console/signin",
        None,
        &[("origin", &app().base), ("cf-connecting-ip", ip)],
        Some(json!({ "email": email, "password": password }).to_string()),
    )
}

#[test]
fn a_teammate_signs_in_with_email_and_password_and_a_wrong_one_is_refused_alike() {
    let ws = app().workspace();
    let (id, email, _) = ws.signed_in("agent");
    let ok = sign_in_from("198.51.100.1", &email.to_uppercase(), PASSWORD);
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.body["teammate"]["id"], json!(id));
    assert!(session_cookie_of(&ok).is_some());

    let wrong = sign_in_from("198.51.100.1", &email, "not the password");
    let nobody = sign_in_from("198.51.100.1", "nobody@example.com", PASSWORD);
    assert_eq!((wrong.status, nobody.status), (401, 401));
    assert_eq!(
        wrong.body, nobody.body,
        "an unknown email reads like a wrong password"
    );
    assert!(session_cookie_of(&wrong).is_none());
}

#[test]
fn five_failed_sign_ins_for_one_email_are_then_refused_with_retry_after() {
    let ws = app().workspace();
    let (_, email, _) = ws.signed_in("agent");
    for i in 0..5 {
        // From five addresses: the email's own count is what stops the sixth.
        let r = sign_in_from(&format!("198.51.100.{}", 10 + i), &email, "wrong password!");
        assert_eq!(r.status, 401, "{}", r.body);
    }
    let r = sign_in_from("198.51.100.20", &email, PASSWORD);
    assert_eq!(r.status, 429, "{}", r.body);
    assert_eq!(r.error().0, "rate_limited");
    let after: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=900).contains(&after), "{after}");
    assert_eq!(r.body["error"]["retry_after"], json!(after));
}

#[test]
fn five_failed_sign_ins_from_one_address_are_then_refused() {
    let ip = "203.0.113.77";
    for i in 0..5 {
        let r = sign_in_from(ip, &format!("guess{i}@example.com"), "wrong password!");
        assert_eq!(r.status, 401, "{}", r.body);
    }
    let ws = app().workspace();
    let (_, email, _) = ws.signed_in("agent");
    assert_eq!(sign_in_from(ip, &email, PASSWORD).status, 429);
    assert_eq!(sign_in_from("203.0.113.78", &email, PASSWORD).status, 200);
}

#[test]
fn a_session_ends_on_sign_out_and_sign_out_everywhere_ends_them_all() {
    let ws = app().workspace();
    let (_, email, first) = ws.signed_in("agent");
    let second = ConsoleSession {
        base: ws.base.clone(),
        cookie: session_cookie_of(&console_sign_in(&ws.base, &email, PASSWORD)).unwrap(),
    };
    let third = ConsoleSession {
        base: ws.base.clone(),
        cookie: session_cookie_of(&console_sign_in(&ws.base, &email, PASSWORD)).unwrap(),
    };
    let out = first.call("POST", "/api/console/signout", Some(json!({})));
    assert_eq!(out.status, 200, "{}", out.body);
    assert!(out.header("set-cookie").unwrap().contains("Max-Age=0"));
    assert_eq!(first.call("GET", "/api/console/me", None).status, 401);
    assert_eq!(second.call("GET", "/api/console/me", None).status, 200);

    let all = second.call(
        "POST",
        "/api/console/signout",
        Some(json!({ "everywhere": true })),
    );
    assert_eq!(all.status, 200);
    assert_eq!(third.call("GET", "/api/console/me", None).status, 401);
}

#[test]
fn an_expired_session_is_refused() {
    let (server, _one_at_a_time) = aging_server();
    let ws = server.workspace();
    let (id, _, session) = ws.signed_in("agent");
    // Fifteen days pass without a visit.
    server.age(
        "UPDATE console_sessions SET expires_at = expires_at - 15 * 86400000 WHERE teammate_id = ?1",
        &[&id],
    );
    let r = session.call("GET", "/api/console/me", None);
    assert_eq!(r.status, 401, "{}", r.body);
}

#[test]
fn a_signed_in_request_that_changes_something_must_come_from_the_consoles_origin() {
    let ws = app().workspace();
    let (_, _, session) = ws.signed_in("owner");
    let invite = |origin: Option<&str>| {
        session.call_from(
            origin,
            "POST",
            "/api/console/teammates",
            Some(json!({ "email": format!("x{}@example.com", origin.map_or(0, str::len)) })),
        )
    };
    let evil = invite(Some("https://evil.example"));
    assert_eq!(
        (evil.status, evil.error().0.as_str()),
        (403, "cross_origin")
    );
    assert_eq!(invite(None).status, 403, "no Origin is no proof either");
    assert_eq!(invite(Some(&ws.base)).status, 201);
    // Reading needs no Origin.
    assert_eq!(
        session
            .call_from(None, "GET", "/api/console/teammates", None)
            .status,
        200
    );
    let feed = halo_tests::live_socket(app(), "/api/inbox/live");
    assert_eq!(
        feed.err(),
        Some(401),
        "a socket without a token or cookie is refused"
    );
}

#[test]
fn only_owners_and_admins_invite_remove_or_change_roles() {
    let ws = app().workspace();
    let (_, _, owner) = ws.signed_in("owner");
    let (agent_id, _, agent) = ws.signed_in("agent");
    let by_agent = agent.call(
        "POST",
        "/api/console/teammates",
        Some(json!({ "email": "new@example.com" })),
    );
    assert_eq!(
        (by_agent.status, by_agent.error().0.as_str()),
        (403, "role_forbidden")
    );
    let (admin_id, _, admin) = ws.signed_in("admin");
    let made_owner = admin.call(
        "PATCH",
        &format!("/api/console/teammates/{agent_id}"),
        Some(json!({ "role": "owner" })),
    );
    assert_eq!(made_owner.status, 403, "only an owner makes owners");
    let promoted = admin.call(
        "PATCH",
        &format!("/api/console/teammates/{agent_id}"),
        Some(json!({ "role": "admin" })),
    );
    assert_eq!(promoted.status, 200, "{}", promoted.body);
    assert_eq!(promoted.body["teammate"]["role"], "admin");
    let bad = owner.call(
        "PATCH",
        &format!("/api/console/teammates/{agent_id}"),
        Some(json!({ "role": "boss" })),
    );
    assert_eq!((bad.status, bad.error().1.as_deref()), (400, Some("role")));
    let removed = owner.call(
        "DELETE",
        &format!("/api/console/teammates/{admin_id}"),
        None,
    );
    assert_eq!(removed.status, 200, "{}", removed.body);
    assert_eq!(
        admin.call("GET", "/api/console/me", None).status,
        401,
        "removing a teammate ends their sessions"
    );
}

#[test]
fn the_last_owner_cannot_be_removed_or_demoted() {
    let ws = app().workspace();
    let (owner_id, _, owner) = ws.signed_in("owner");
    let r = owner.call(
        "PATCH",
        &format!("/api/console/teammates/{owner_id}"),
        Some(json!({ "role": "agent" })),
    );
    assert_eq!((r.status, r.error().0.as_str()), (403, "last_owner"));
    let r = owner.call(
        "DELETE",
        &format!("/api/console/teammates/{owner_id}"),
        None,
    );
    assert_eq!(r.status, 403);
}

#[test]
fn an_owner_invites_a_teammate_who_joins_with_the_link() {
    let ws = app().workspace();
    let (_, _, owner) = ws.signed_in("owner");
    let r = owner.call(
        "POST",
        "/api/console/teammates",
        Some(json!({ "email": "Newbie@Example.com", "role": "agent" })),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["teammate"]["active"], json!(false));
    let url = r.body["invite_url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("{}/app/invite/tl_", ws.base)),
        "{url}"
    );
    let dup = owner.call(
        "POST",
        "/api/console/teammates",
        Some(json!({ "email": "newbie@example.com" })),
    );
    assert_eq!(
        (dup.status, dup.error().0.as_str()),
        (409, "teammate_exists")
    );
    assert_eq!(ws.accept(url, "Newbie", PASSWORD).status, 201);
    let team = owner.call("GET", "/api/console/teammates", None).body["teammates"].clone();
    let newbie: Vec<&Value> = team
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["email"] == "newbie@example.com")
        .collect();
    assert_eq!(newbie.len(), 1);
    assert_eq!(
        (&newbie[0]["name"], &newbie[0]["active"]),
        (&json!("Newbie"), &json!(true))
    );
}

#[test]
fn a_sign_in_link_signs_its_teammate_in_once() {
    let ws = app().workspace();
    let (id, _) = ws.invited("linked@example.com", "owner");
    let r = call(
        app(),
        "POST",
        &format!(
            "/api/admin/workspaces/{}/teammates/{id}/signin-link",
            ws.org_id
        ),
        Some(&app().admin_token),
        Some(json!({})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let path = link_path(r.body["url"].as_str().unwrap());
    assert!(path.starts_with("/app/link/tl_"), "{path}");
    let token = path.rsplit('/').next().unwrap();
    let used = send(
        app(),
        "POST",
        &format!("/api/console/links/{token}"),
        None,
        &[("origin", &ws.base)],
        None,
    );
    assert_eq!(used.status, 200, "{}", used.body);
    assert_eq!(used.body["teammate"]["id"], json!(id));
    assert!(session_cookie_of(&used).is_some());
    let again = send(
        app(),
        "POST",
        &format!("/api/console/links/{token}"),
        None,
        &[("origin", &ws.base)],
        None,
    );
    assert_eq!(again.status, 410);
    // The console's page answers the link's path.
    let page = halo_tests::get_text(&format!("{}{path}", ws.base));
    assert!(page.contains("<"), "{page}");
}

#[test]
fn a_teammate_of_one_workspace_cannot_read_or_change_anothers_by_id() {
    let a = app().workspace();
    let b = app().workspace();
    let (_, _, b_session) = b.signed_in("owner");
    let session = a
        .chat(json!({ "message": "I want to talk to a human", "user_id": "cross-1" }))
        .session_id()
        .to_owned();
    let tickets = call(app(), "GET", "/api/sdk/tickets", Some(&a.secret_key), None);
    let ticket = tickets.body["tickets"][0]["id"].as_str().map(str::to_owned);
    assert!(ticket.is_some(), "{}", tickets.body);
    let (a_member, _, _) = a.signed_in("agent");
    let mut attempts = vec![
        ("GET", format!("/api/inbox/conversations/{session}"), None),
        (
            "POST",
            format!("/api/inbox/conversations/{session}/takeover"),
            Some(json!({})),
        ),
        ("GET", "/api/inbox/contacts/cross-1".to_owned(), None),
        (
            "PATCH",
            format!("/api/console/teammates/{a_member}"),
            Some(json!({ "role": "admin" })),
        ),
        ("DELETE", format!("/api/console/teammates/{a_member}"), None),
    ];
    if let Some(t) = &ticket {
        attempts.push(("GET", format!("/api/inbox/tickets/{t}"), None));
        attempts.push((
            "PATCH",
            format!("/api/inbox/tickets/{t}"),
            Some(json!({ "status": "resolved" })),
        ));
    }
    for (method, path, body) in attempts {
        let r = b_session.call(method, &path, body);
        assert_eq!(r.status, 404, "{method} {path}: {}", r.body);
    }
    let list = b_session.call("GET", "/api/inbox/conversations", None);
    assert_eq!(list.body["conversations"], json!([]));
}

#[test]
fn sign_in_refuses_bad_input_with_the_field_named() {
    let cases = [
        (json!({ "password": PASSWORD }), "email", "missing_field"),
        (
            json!({ "email": "not-an-email", "password": PASSWORD }),
            "email",
            "invalid_value",
        ),
        (json!({ "email": "a@b.io" }), "password", "missing_field"),
        (
            json!({ "email": "a@b.io", "password": 12 }),
            "password",
            "invalid_type",
        ),
    ];
    for (body, field, code) in cases {
        let r = send(
            app(),
            "POST",
            "/api/console/signin",
            None,
            &[("cf-connecting-ip", "192.0.2.200")],
            Some(body.to_string()),
        );
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        assert_eq!(
            r.error(),
            (code.to_owned(), Some(field.to_owned())),
            "{body}"
        );
    }
    let evil = send(
        app(),
        "POST",
        "/api/console/signin",
        None,
        &[("origin", "https://evil.example")],
        Some(json!({ "email": "a@b.io", "password": PASSWORD }).to_string()),
    );
    assert_eq!(evil.status, 403, "{}", evil.body);
}

#[test]
fn a_new_password_needs_the_current_one_and_ends_the_other_sessions() {
    let ws = app().workspace();
    let (_, email, session) = ws.signed_in("agent");
    let other = ConsoleSession {
        base: ws.base.clone(),
        cookie: session_cookie_of(&sign_in_from("198.51.100.40", &email, PASSWORD)).unwrap(),
    };
    let new = "an entirely new passphrase";
    let short = session.call(
        "POST",
        "/api/console/password",
        Some(json!({ "current": PASSWORD, "password": "too short" })),
    );
    assert_eq!(
        (short.status, short.error().1.as_deref()),
        (400, Some("password"))
    );
    let without = session.call(
        "POST",
        "/api/console/password",
        Some(json!({ "password": new })),
    );
    assert_eq!(
        (without.status, without.error().1.as_deref()),
        (400, Some("current"))
    );
    let wrong = session.call(
        "POST",
        "/api/console/password",
        Some(json!({ "current": "not the password", "password": new })),
    );
    assert_eq!(
        (wrong.status, wrong.error().0.as_str()),
        (403, "wrong_password")
    );
    let set = session.call(
        "POST",
        "/api/console/password",
        Some(json!({ "current": PASSWORD, "password": new })),
    );
    assert_eq!(set.status, 200, "{}", set.body);
    assert_eq!(
        session.call("GET", "/api/console/me", None).status,
        200,
        "this session stays"
    );
    assert_eq!(
        other.call("GET", "/api/console/me", None).status,
        401,
        "the others end"
    );
    assert_eq!(sign_in_from("198.51.100.41", &email, PASSWORD).status, 401);
    assert_eq!(sign_in_from("198.51.100.41", &email, new).status, 200);
    let (_, token) = halo_tests::teammate(&ws, "Token only");
    let by_token = call(
        app(),
        "POST",
        "/api/console/password",
        Some(&token),
        Some(json!({ "password": new })),
    );
    assert_eq!(
        by_token.status, 401,
        "a password is set from a signed-in session only"
    );
}

#[test]
fn reading_who_is_signed_in_renews_the_cookie() {
    let ws = app().workspace();
    let (_, _, session) = ws.signed_in("agent");
    let me = session.call("GET", "/api/console/me", None);
    assert_eq!(me.status, 200);
    assert_eq!(
        session_cookie_of(&me).as_deref(),
        Some(session.cookie.as_str()),
        "the same session, set again for another 14 days"
    );
    assert!(me.header("set-cookie").unwrap().contains("Max-Age=1209600"));
}

#[test]
fn signing_out_closes_the_sessions_live_feed() {
    let ws = app().workspace();
    let (_, _, session) = ws.signed_in("agent");
    let mut feed = halo_tests::live_socket_with(
        app(),
        "/api/inbox/live",
        &[("cookie", &session.cookie), ("origin", &ws.base)],
    )
    .expect("the feed opens with the session cookie from the console's origin");
    let out = session.call("POST", "/api/console/signout", Some(json!({})));
    assert_eq!(out.status, 200);
    assert!(
        halo_tests::socket_closes(&mut feed, std::time::Duration::from_secs(3)),
        "the feed of the ended session is closed"
    );
    let refused = halo_tests::live_socket_with(
        app(),
        "/api/inbox/live",
        &[("cookie", &session.cookie), ("origin", &ws.base)],
    );
    assert_eq!(refused.err(), Some(401));
}

#[test]
fn a_conversation_open_in_a_signed_out_session_gets_no_more_of_its_events() {
    // Rooms look a console session up again before delivering an event once their check is
    // older than LIVE_SESSION_CHECK_MS: 0 here, so on the very next event.
    let server = halo_tests::Server::start(&[("LIVE_SESSION_CHECK_MS", "0")]);
    let ws = server.workspace();
    let (_, _, session) = ws.signed_in("agent");
    let sid = ws
        .chat(json!({ "message": "Hello there", "user_id": "room-1" }))
        .session_id()
        .to_owned();
    let path = format!("/api/inbox/conversations/{sid}/live");
    let headers = [
        ("cookie", session.cookie.as_str()),
        ("origin", ws.base.as_str()),
    ];
    let mut open = halo_tests::live_socket_with(&server, &path, &headers).unwrap();
    ws.chat(json!({ "message": "Still there?", "user_id": "room-1", "session_id": sid }));
    let heard = halo_tests::next_event(&mut open, std::time::Duration::from_secs(5));
    assert!(heard.is_some(), "a live session hears the conversation");
    assert_eq!(
        session
            .call("POST", "/api/console/signout", Some(json!({})))
            .status,
        200
    );
    ws.chat(
        json!({ "message": "Secret order number 4711", "user_id": "room-1", "session_id": sid }),
    );
    // Whatever it still reads before the close must not be the new line.
    open.get_ref()
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    let mut closed = false;
    while let Ok(frame) = open.read() {
        match frame {
            tungstenite::Message::Close(_) => {
                closed = true;
                break;
            }
            tungstenite::Message::Text(t) => {
                assert!(!t.contains("4711"), "a signed-out session heard: {t}")
            }
            _ => {}
        }
    }
    assert!(
        closed,
        "the signed-out session's socket is closed instead of told"
    );
}
