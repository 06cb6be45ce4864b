//! Runs the browser test (tests/browser/widget.mjs, Playwright driving Debian's Chromium)
//! against this harness's `wrangler dev`, with a workspace made for it.

use std::process::Command;

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
    let out = Command::new("node")
        .arg(root().join("tests/browser/widget.mjs"))
        .args([
            &app.base,
            &ws.org_id,
            &ws.widget_key,
            &ws.secret_key,
            &inbox_token,
        ])
        .output()
        .expect("node runs");
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{log}");
    assert!(out.status.success(), "browser test failed:\n{log}");
}
