//! The knowledge API: ingest, replace, delete, HTML cleaning, search and its isolation.

use halo_tests::{app, call, Reply, Workspace};
use serde_json::{json, Value};

fn add(ws: &Workspace, body: Value) -> Reply {
    call(
        app(),
        "POST",
        "/api/sdk/knowledge/sources",
        Some(&ws.secret_key),
        Some(body),
    )
}

fn search(ws: &Workspace, q: &str) -> Reply {
    let encoded: String = q
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    call(
        app(),
        "GET",
        &format!("/api/sdk/knowledge/search?q={encoded}&limit=10"),
        Some(&ws.secret_key),
        None,
    )
}

fn texts(r: &Reply) -> Vec<String> {
    r.body["results"]
        .as_array()
        .unwrap_or(&vec![])
        .iter()
        .map(|h| h["text"].as_str().unwrap_or("").to_owned())
        .collect()
}

#[test]
fn re_ingesting_a_url_replaces_its_content_everywhere() {
    let ws = app().workspace();
    let first = add(
        &ws,
        json!({ "title": "Shipping", "url": "https://h.test/shipping", "content": "Parcels ship with Kangaroo Express." }),
    );
    assert_eq!(first.status, 201);
    let again = add(
        &ws,
        json!({ "title": "Shipping", "url": "https://h.test/shipping", "content": "Parcels ship with Wombat Freight." }),
    );
    assert_eq!(
        (again.status, &again.body["id"]),
        (200, &first.body["id"]),
        "same source, replaced"
    );
    assert!(
        texts(&search(&ws, "kangaroo")).is_empty(),
        "the old text is gone from the index"
    );
    assert_eq!(
        texts(&search(&ws, "wombat")),
        ["Parcels ship with Wombat Freight."]
    );
    let list = call(
        app(),
        "GET",
        "/api/sdk/knowledge/sources",
        Some(&ws.secret_key),
        None,
    );
    assert_eq!(list.body["sources"].as_array().unwrap().len(), 1);
}

#[test]
fn a_source_is_replaced_by_id_and_an_unknown_id_is_404() {
    let ws = app().workspace();
    let id = add(
        &ws,
        json!({ "title": "Returns", "content": "Returns are free for 30 days." }),
    )
    .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = call(
        app(),
        "PUT",
        &format!("/api/sdk/knowledge/sources/{id}"),
        Some(&ws.secret_key),
        Some(json!({ "title": "Returns", "content": "Returns are free for 60 days." })),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        texts(&search(&ws, "returns free days")),
        ["Returns are free for 60 days."]
    );
    let missing = call(
        app(),
        "PUT",
        "/api/sdk/knowledge/sources/nope",
        Some(&ws.secret_key),
        Some(json!({ "title": "t", "content": "c" })),
    );
    assert_eq!(missing.status, 404);
}

#[test]
fn deleted_content_is_never_retrieved_again() {
    let app = app();
    let ws = app.workspace();
    let id = add(&ws, json!({ "title": "Gift cards", "url": "https://h.test/gift", "content": "Gift cards never expire and can be used in any store." }))
        .body["id"].as_str().unwrap().to_owned();
    assert_eq!(texts(&search(&ws, "gift cards expire")).len(), 1);
    let del = call(
        app,
        "DELETE",
        &format!("/api/sdk/knowledge/sources/{id}"),
        Some(&ws.secret_key),
        None,
    );
    assert_eq!((del.status, &del.body["deleted"]), (200, &json!(true)));
    assert!(texts(&search(&ws, "gift cards expire")).is_empty());
    let answer = ws.chat(json!({ "message": "Do gift cards expire?" }));
    assert_eq!(answer.body["citations"], json!([]), "{}", answer.body);
    assert_eq!(
        call(
            app,
            "DELETE",
            &format!("/api/sdk/knowledge/sources/{id}"),
            Some(&ws.secret_key),
            None
        )
        .status,
        404
    );
}

#[test]
fn an_html_page_is_cleaned_to_text_with_its_headings() {
    let ws = app().workspace();
    let page = r#"<html><head><title>Warranty | Demo Help</title><script>var secretToken = "zebra";</script></head>
        <body><nav>Home Pricing Zebra-menu</nav><h1>Warranty</h1><p>Every device has a two&#8209;year warranty.</p>
        <h2>Claims</h2><p>Claim online with your order number.</p><footer>Footer zebra</footer></body></html>"#;
    let r = add(
        &ws,
        json!({ "kind": "html", "url": "https://h.test/warranty", "content": page }),
    );
    assert_eq!(
        (r.status, &r.body["title"]),
        (201, &json!("Warranty | Demo Help")),
        "{}",
        r.body
    );
    assert!(
        texts(&search(&ws, "zebra")).is_empty(),
        "scripts and page chrome are not indexed"
    );
    let hit = &search(&ws, "claim order number").body["results"][0];
    assert_eq!(
        (&hit["heading"], &hit["text"]),
        (
            &json!("Warranty > Claims"),
            &json!("Claim online with your order number.")
        )
    );
}

#[test]
fn search_syntax_in_user_text_can_never_break_the_query() {
    let app = app();
    let ws = app.workspace();
    add(
        &ws,
        json!({ "title": "Refunds", "content": "Refund requests are answered within two days. Café crème policy." }),
    );
    for q in [
        r#""refund"#,
        "refund AND NOT (policy OR",
        "refund* ^title: -x NEAR(a b)",
        "\"\" '' ;; --",
        "Café crème 注文 😀",
        "title:refund",
    ] {
        let r = search(&ws, q);
        assert_eq!(r.status, 200, "{q}: {}", r.body);
        let c = ws.chat(json!({ "message": q }));
        assert_eq!(c.status, 200, "{q}: {}", c.body);
    }
    assert_eq!(
        texts(&search(&ws, r#"refund" OR "x"#)).len(),
        1,
        "still finds the words"
    );
    assert_eq!(
        texts(&search(&ws, "café crème")).len(),
        1,
        "unicode words match"
    );
}

#[test]
fn search_never_crosses_workspaces() {
    let app = app();
    let a = app.workspace();
    let b = app.workspace();
    let id = add(
        &a,
        json!({ "title": "Secret plans", "content": "The moonbase launches in spring." }),
    )
    .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(texts(&search(&a, "moonbase")).len(), 1);
    assert!(texts(&search(&b, "moonbase")).is_empty());
    assert_eq!(
        call(
            app,
            "DELETE",
            &format!("/api/sdk/knowledge/sources/{id}"),
            Some(&b.secret_key),
            None
        )
        .status,
        404
    );
    assert_eq!(
        call(
            app,
            "PUT",
            &format!("/api/sdk/knowledge/sources/{id}"),
            Some(&b.secret_key),
            Some(json!({ "title": "x", "content": "y" }))
        )
        .status,
        404
    );
    assert_eq!(
        texts(&search(&a, "moonbase")).len(),
        1,
        "A's source is untouched"
    );
}

#[test]
fn search_parameters_are_checked() {
    let ws = app().workspace();
    let r = call(
        app(),
        "GET",
        "/api/sdk/knowledge/search",
        Some(&ws.secret_key),
        None,
    );
    assert_eq!(r.error(), ("missing_field".into(), Some("q".into())));
    let r = call(
        app(),
        "GET",
        "/api/sdk/knowledge/search?q=x&limit=500",
        Some(&ws.secret_key),
        None,
    );
    assert_eq!(r.error(), ("invalid_value".into(), Some("limit".into())));
    let r = call(
        app(),
        "GET",
        "/api/sdk/knowledge/search?q=x",
        Some(&ws.widget_key),
        None,
    );
    assert_eq!(r.status, 403);
}
