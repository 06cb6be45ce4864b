//! Keys from the console: listed by their hints (never the secret values), rotated with a
//! grace period the owner picks, after which the replaced key stops; the identity secret
//! shown only on re-entering the password. Never another workspace's.

use halo_tests::{aging_server, app, sign_jwt, Workspace};
use serde_json::{json, Value};

fn keys_of(listed: &Value, kind: &str) -> Vec<Value> {
    listed["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["kind"] == kind)
        .cloned()
        .collect()
}

fn token_for(secret: &str, user_id: &str) -> String {
    sign_jwt(
        &json!({ "alg": "HS256", "typ": "JWT" }),
        &json!({ "user_id": user_id, "exp": halo_tests::now_secs() + 600 }),
        secret,
    )
}

/// Ends every grace period of the workspace's replaced keys of `kind`, as time would.
fn end_grace(server: &halo_tests::Server, ws: &Workspace, kind: &str) {
    server.age(
        "UPDATE workspace_keys SET expires_at = expires_at - 86400000 * 31 WHERE org_id = ?1 AND kind = ?2 AND expires_at IS NOT NULL",
        &[&ws.org_id, kind],
    );
}

#[test]
fn keys_are_listed_by_their_hints_and_never_by_their_secret_values() {
    let ws = app().workspace();
    let (_, _, agent) = ws.signed_in("agent");
    let listed = agent.call("GET", "/api/console/keys", None);
    assert_eq!(listed.status, 200, "{}", listed.body);
    let text = listed.body.to_string();
    assert!(!text.contains(&ws.secret_key), "the secret key is listed");
    assert!(
        !text.contains(&ws.identity_secret),
        "the identity secret is listed"
    );
    let secret = keys_of(&listed.body, "secret");
    assert_eq!(secret.len(), 1);
    assert_eq!(
        secret[0]["hint"],
        format!("sk_live_…{}", &ws.secret_key[ws.secret_key.len() - 4..])
    );
    // The widget key is public (it is in every page with the widget): shown for the snippet.
    assert_eq!(
        keys_of(&listed.body, "widget")[0]["widget_key"],
        ws.widget_key
    );
    assert_eq!(keys_of(&listed.body, "identity").len(), 1);
}

#[test]
fn only_owners_and_admins_rotate_keys_and_a_rotation_is_validated() {
    let ws = app().workspace();
    let (_, _, agent) = ws.signed_in("agent");
    let (_, _, admin) = ws.signed_in("admin");
    let refused = agent.call(
        "POST",
        "/api/console/keys",
        Some(json!({ "kind": "widget" })),
    );
    assert_eq!(
        (refused.status, refused.error().0.as_str()),
        (403, "role_forbidden")
    );
    for (body, field) in [
        (json!({ "kind": "master" }), "kind"),
        (
            json!({ "kind": "widget", "grace_seconds": 40_000_000 }),
            "grace_seconds",
        ),
    ] {
        let r = admin.call("POST", "/api/console/keys", Some(body));
        assert_eq!(r.status, 400, "{}", r.body);
        assert_eq!(r.body["error"]["field"], field, "{}", r.body);
    }
    // Nothing was rotated by the refusals: the first key still works alone.
    let listed = admin.call("GET", "/api/console/keys", None);
    assert_eq!(keys_of(&listed.body, "widget").len(), 1);
    assert_eq!(ws.chat(json!({ "message": "hello" })).status, 200);
}

#[test]
fn a_rotated_widget_key_keeps_working_until_its_grace_period_ends() {
    let (server, _one_at_a_time) = aging_server();
    let ws = server.workspace();
    let (_, _, owner) = ws.signed_in("owner");
    let rotated = owner.call(
        "POST",
        "/api/console/keys",
        Some(json!({ "kind": "widget", "grace_seconds": 3600 })),
    );
    assert_eq!(rotated.status, 201, "{}", rotated.body);
    let new_key = rotated.body["key"].as_str().unwrap().to_owned();
    assert_ne!(new_key, ws.widget_key);
    let with = |key: &str| {
        ws.call(
            "POST",
            "/api/sdk/chat",
            Some(key),
            Some(json!({ "message": "hi" })),
        )
    };
    assert_eq!(
        with(&ws.widget_key).status,
        200,
        "the old key works in its grace period"
    );
    assert_eq!(with(&new_key).status, 200);
    let listed = owner.call("GET", "/api/console/keys", None);
    let widget = keys_of(&listed.body, "widget");
    assert_eq!(widget.len(), 2);
    assert_eq!(widget[0]["widget_key"], new_key.as_str(), "newest first");
    assert!(widget[0]["expires_at"].is_null());
    assert!(widget[1]["expires_at"].as_i64().is_some());
    end_grace(server, &ws, "widget");
    let old = with(&ws.widget_key);
    assert_eq!(
        old.status, 401,
        "the old key stops when the grace period ends: {}",
        old.body
    );
    assert_eq!(with(&new_key).status, 200);
    assert_eq!(
        keys_of(&owner.call("GET", "/api/console/keys", None).body, "widget").len(),
        1
    );
}

#[test]
fn a_secret_key_rotated_without_grace_stops_at_once() {
    let ws = app().workspace();
    let (_, _, admin) = ws.signed_in("admin");
    let rotated = admin.call(
        "POST",
        "/api/console/keys",
        Some(json!({ "kind": "secret", "grace_seconds": 0 })),
    );
    assert_eq!(rotated.status, 201, "{}", rotated.body);
    let new_key = rotated.body["key"].as_str().unwrap();
    assert!(new_key.starts_with("sk_live_"));
    let old = ws.call("GET", "/api/sdk/agents", Some(&ws.secret_key), None);
    assert_eq!(old.status, 401, "{}", old.body);
    assert_eq!(
        ws.call("GET", "/api/sdk/agents", Some(new_key), None)
            .status,
        200
    );
    // Shown once: the list has its hint only.
    let listed = admin.call("GET", "/api/console/keys", None);
    assert!(!listed.body.to_string().contains(new_key));
}

#[test]
fn tokens_signed_with_either_identity_secret_verify_during_the_grace_period() {
    let (server, _one_at_a_time) = aging_server();
    let ws = server.workspace();
    let (_, _, owner) = ws.signed_in("owner");
    let rotated = owner.call(
        "POST",
        "/api/console/keys",
        Some(json!({ "kind": "identity", "grace_seconds": 86400 })),
    );
    assert_eq!(rotated.status, 201, "{}", rotated.body);
    let new_secret = rotated.body["key"].as_str().unwrap().to_owned();
    let chat = |secret: &str| {
        ws.chat(
            json!({ "message": "hi", "user_id": "u-42", "user_token": token_for(secret, "u-42") }),
        )
    };
    assert_eq!(
        chat(&ws.identity_secret).status,
        200,
        "the old secret verifies in the grace period"
    );
    assert_eq!(chat(&new_secret).status, 200);
    end_grace(server, &ws, "identity");
    let old = chat(&ws.identity_secret);
    assert_eq!(
        (old.status, old.error().0.as_str()),
        (401, "invalid_user_token"),
        "{}",
        old.body
    );
    assert_eq!(chat(&new_secret).status, 200);
}

#[test]
fn the_identity_secret_is_shown_only_after_the_password_is_entered_again() {
    let ws = app().workspace();
    let (_, _, owner) = ws.signed_in("owner");
    let (_, _, agent) = ws.signed_in("agent");
    let path = "/api/console/identity-secret";
    let wrong = owner.call("POST", path, Some(json!({ "password": "not my password" })));
    assert_eq!(
        (wrong.status, wrong.error().0.as_str()),
        (403, "wrong_password")
    );
    assert!(wrong.body.get("identity_secret").is_none());
    let missing = owner.call("POST", path, Some(json!({})));
    assert_eq!(
        (missing.status, missing.body["error"]["field"].as_str()),
        (400, Some("password"))
    );
    let shown = owner.call(
        "POST",
        path,
        Some(json!({ "password": "correct horse battery" })),
    );
    assert_eq!(shown.status, 200, "{}", shown.body);
    assert_eq!(shown.body["identity_secret"], ws.identity_secret.as_str());
    let by_agent = agent.call(
        "POST",
        path,
        Some(json!({ "password": "correct horse battery" })),
    );
    assert_eq!(by_agent.status, 403);
    let by_backend = ws.call(
        "POST",
        path,
        Some(&ws.secret_key),
        Some(json!({ "password": "x" })),
    );
    assert_eq!(
        (by_backend.status, by_backend.error().0.as_str()),
        (403, "teammate_required")
    );
}

#[test]
fn wrong_passwords_for_the_identity_secret_are_throttled() {
    let ws = app().workspace();
    let (_, _, owner) = ws.signed_in("owner");
    let path = "/api/console/identity-secret";
    for _ in 0..5 {
        let r = owner.call(
            "POST",
            path,
            Some(json!({ "password": "guess guess guess" })),
        );
        assert_eq!(r.status, 403, "{}", r.body);
    }
    let throttled = owner.call(
        "POST",
        path,
        Some(json!({ "password": "correct horse battery" })),
    );
    assert_eq!(
        (throttled.status, throttled.error().0.as_str()),
        (429, "rate_limited")
    );
    assert!(throttled.header("retry-after").is_some());
}

#[test]
fn another_workspace_can_neither_see_nor_rotate_these_keys() {
    let a = app().workspace();
    let b = app().workspace();
    let (_, _, stranger) = b.signed_in("owner");
    let listed = stranger.call("GET", "/api/console/keys", None);
    let text = listed.body.to_string();
    assert!(!text.contains(&a.widget_key));
    let a_hint = &a.secret_key[a.secret_key.len() - 4..];
    assert!(keys_of(&listed.body, "secret")
        .iter()
        .all(|k| !k["hint"].as_str().unwrap().ends_with(a_hint)));
    let rotated = stranger.call(
        "POST",
        "/api/console/keys",
        Some(json!({ "kind": "widget", "grace_seconds": 0 })),
    );
    assert_eq!(rotated.status, 201);
    // b's rotation ended b's old key, not a's.
    assert_eq!(a.chat(json!({ "message": "still here?" })).status, 200);
    assert_eq!(b.chat(json!({ "message": "and me?" })).status, 401);
}
