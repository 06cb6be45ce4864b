use halo_tests::{app, call};
use serde_json::json;

#[test]
fn the_admin_api_refuses_a_wrong_or_missing_token() {
    let app = app();
    let wrong = call(
        app,
        "POST",
        "/api/admin/workspaces",
        Some("not-the-token"),
        Some(json!({ "name": "x" })),
    );
    assert_eq!(
        (wrong.status, wrong.error().0.as_str()),
        (401, "unauthorized")
    );
    let missing = call(
        app,
        "POST",
        "/api/admin/workspaces",
        None,
        Some(json!({ "name": "x" })),
    );
    assert_eq!(missing.status, 401);
    let read = call(
        app,
        "GET",
        "/api/admin/workspaces/00000000-0000-4000-8000-000000000000",
        Some("nope"),
        None,
    );
    assert_eq!(read.status, 401);
}

#[test]
fn a_new_workspace_gets_fresh_keys_of_the_documented_shapes() {
    let app = app();
    let a = app.workspace();
    let b = app.workspace();
    assert!(halo_shared_like::is_uuid(&a.org_id), "{}", a.org_id);
    for (key, prefix) in [
        (&a.widget_key, "ab_live_"),
        (&a.secret_key, "sk_live_"),
        (&a.identity_secret, "ha_secret_"),
    ] {
        let hex = key
            .strip_prefix(prefix)
            .unwrap_or_else(|| panic!("{key} should start with {prefix}"));
        assert_eq!(hex.len(), 64, "256 random bits as hex");
    }
    assert_ne!(a.widget_key, b.widget_key);
    assert_ne!(a.secret_key, b.secret_key);
    assert_ne!(a.org_id, b.org_id);
}

#[test]
fn reading_a_workspace_never_returns_its_keys() {
    let app = app();
    let ws = app.workspace();
    let r = call(
        app,
        "GET",
        &format!("/api/admin/workspaces/{}", ws.org_id),
        Some(&app.admin_token),
        None,
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.body["org_id"], json!(ws.org_id));
    let text = r.body.to_string();
    assert!(
        !text.contains(&ws.widget_key)
            && !text.contains(&ws.secret_key)
            && !text.contains(&ws.identity_secret)
    );
}

#[test]
fn a_workspace_name_is_required() {
    let app = app();
    let r = call(
        app,
        "POST",
        "/api/admin/workspaces",
        Some(&app.admin_token),
        Some(json!({})),
    );
    assert_eq!(
        (r.status, r.error()),
        (400, ("missing_field".into(), Some("name".into())))
    );
}

#[test]
fn an_unknown_workspace_is_404() {
    let app = app();
    let r = call(
        app,
        "GET",
        "/api/admin/workspaces/00000000-0000-4000-8000-000000000000",
        Some(&app.admin_token),
        None,
    );
    assert_eq!((r.status, r.error().0.as_str()), (404, "not_found"));
}

mod halo_shared_like {
    /// A canonical lower-case UUID.
    pub fn is_uuid(s: &str) -> bool {
        s.len() == 36
            && s.char_indices().all(|(i, c)| {
                if [8, 13, 18, 23].contains(&i) {
                    c == '-'
                } else {
                    c.is_ascii_hexdigit() && !c.is_ascii_uppercase()
                }
            })
    }
}
