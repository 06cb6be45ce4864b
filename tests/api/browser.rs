//! Runs the browser tests (tests/browser/*.mjs, Playwright driving Debian's Chromium)
//! against this harness's `wrangler dev`, each with a workspace made for it.

use halo_tests::{app, root, teammate};

#[test]
fn the_widget_answers_a_visitor_on_a_hostile_host_page() {
    let app = app();
    let ws = app.workspace();
    ws.add_source("Resetting your password",
        "https://help.example.test/reset",
        "# Resetting your password\n\nClick Forgot password? on the sign-in page and we email you a reset link.",
    );
    ws.add_source("Embedding snippets",
        "https://help.example.test/embed",
        "# Embedding snippets\n\nPaste <img src=x onerror=alert(1)> into the embed field to embed the badge.",
    );
    let (_, inbox_token) = teammate(&ws, "Sam");
    halo_tests::browser_test(
        "widget.mjs",
        &[
            &app.base,
            &ws.org_id,
            &ws.widget_key,
            &ws.secret_key,
            &inbox_token,
        ],
    );
}

#[test]
fn the_loader_draws_the_launcher_before_the_app_and_keeps_a_click() {
    let app = app();
    let ws = app.workspace();
    let look = halo_tests::call(
        app,
        "PATCH",
        &format!("/api/admin/workspaces/{}", ws.org_id),
        Some(&app.admin_token),
        Some(serde_json::json!({ "appearance": { "brand_color": "#7a3cff", "locale": "de" } })),
    );
    assert_eq!(look.status, 200, "{}", look.body);
    halo_tests::browser_test("loader.mjs", &[&app.base, &ws.org_id, &ws.widget_key]);
}

/// A teammate of `ws` with a console sign-in link: the operator adds them and makes the link.
fn console_link(ws: &halo_tests::Workspace, name: &str, email: &str, role: &str) -> String {
    let app = app();
    let r = halo_tests::call(
        app,
        "POST",
        &format!("/api/admin/workspaces/{}/teammates", ws.org_id),
        Some(&app.admin_token),
        Some(serde_json::json!({ "name": name, "email": email, "role": role })),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["teammate_id"].as_str().unwrap().to_owned();
    let link = halo_tests::call(
        app,
        "POST",
        &format!(
            "/api/admin/workspaces/{}/teammates/{id}/signin-link",
            ws.org_id
        ),
        Some(&app.admin_token),
        Some(serde_json::json!({})),
    );
    assert_eq!(link.status, 201, "{}", link.body);
    link.body["url"].as_str().unwrap().to_owned()
}

/// Marks `ws` as set up, as if its owner had walked the wizard: the console opens on the
/// inbox, not on the wizard.
fn set_up(ws: &halo_tests::Workspace) {
    let r = halo_tests::call(
        app(),
        "PATCH",
        &format!("/api/admin/workspaces/{}", ws.org_id),
        Some(&ws.admin_token),
        Some(serde_json::json!({ "setup": { "dismissed": true } })),
    );
    assert_eq!(r.status, 200, "{}", r.body);
}

#[test]
fn a_new_company_sets_up_its_workspace_in_the_console_without_a_terminal() {
    let app = app();
    let ws = app.workspace();
    let owner = console_link(&ws, "Nina", "nina@acme.example", "owner");
    halo_tests::browser_test("setup.mjs", &[&app.base, &owner]);
}

#[test]
fn the_widget_looks_and_speaks_as_the_console_says_and_a_rotated_key_has_its_grace_period() {
    let app = app();
    let ws = app.workspace();
    set_up(&ws);
    ws.add_source(
        "Shipping times",
        "https://help.example.test/shipping",
        "# Shipping times\n\nParcels to Europe arrive in 3 to 5 working days.",
    );
    // The app has sent a `plan` trait: Settings > Data lists it.
    let seen = ws.chat(serde_json::json!({ "message": "hello", "user_id": "settings-customer", "custom_fields": { "plan": "pro" } }));
    assert_eq!(seen.status, 200, "{}", seen.body);
    let owner = console_link(&ws, "Omar", "omar@acme.example", "owner");
    halo_tests::browser_test(
        "settings.mjs",
        &[&app.base, &ws.org_id, &ws.widget_key, &owner],
    );
}

#[test]
fn in_the_console_a_teammate_works_the_inbox_while_the_customer_writes() {
    let app = app();
    let ws = app.workspace();
    for (subject, message) in [
        (
            "Parcel stuck",
            "My parcel has been in Rotterdam for a week.",
        ),
        (
            "Invoice question",
            "Can I get the invoice with our VAT number?",
        ),
    ] {
        let r = halo_tests::call(
            app,
            "POST",
            "/api/sdk/tickets/create",
            Some(&ws.secret_key),
            Some(serde_json::json!({ "subject": subject, "status": "open", "message": message })),
        );
        assert_eq!(r.status, 201, "{}", r.body);
    }
    set_up(&ws);
    let owner = console_link(&ws, "Olga", "olga@example.com", "owner");
    let agent = console_link(&ws, "Arun", "arun@example.com", "agent");
    // The README's picture of the inbox is this screenshot (copied to docs/ when it changes).
    let shot = root().join("target/console-inbox.png");
    std::fs::create_dir_all(shot.parent().unwrap()).unwrap();
    halo_tests::browser_test(
        "console.mjs",
        &[
            &app.base,
            &ws.org_id,
            &ws.widget_key,
            &owner,
            &agent,
            &shot.to_string_lossy(),
        ],
    );
}
