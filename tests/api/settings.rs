//! The workspace's settings from the console: every teammate reads the knowledge base and the
//! discovered attributes; only owners and admins change them; never another workspace's.

use halo_shared::settings::{Attribute, KnowledgeHit, Source};
use halo_tests::app;
use serde_json::json;

const ARTICLE: &str = "# Shipping times\n\nParcels to Europe arrive in 3 to 5 working days.";

#[test]
fn every_teammate_reads_the_knowledge_base_and_only_owners_and_admins_change_it() {
    let ws = app().workspace();
    let (_, _, agent) = ws.signed_in("agent");
    let (_, _, admin) = ws.signed_in("admin");
    let source = json!({ "title": "Shipping times", "content": ARTICLE });
    let refused = agent.call("POST", "/api/sdk/knowledge/sources", Some(source.clone()));
    assert_eq!(
        (refused.status, refused.error().0.as_str()),
        (403, "role_forbidden"),
        "{}",
        refused.body
    );
    let added = admin.call("POST", "/api/sdk/knowledge/sources", Some(source));
    assert_eq!(added.status, 201, "{}", added.body);
    let id = added.body["id"].as_str().unwrap().to_owned();
    let listed = agent.call("GET", "/api/sdk/knowledge/sources", None);
    let sources: Vec<Source> = serde_json::from_value(listed.body["sources"].clone())
        .expect("sources in the shared shape");
    assert_eq!(sources.len(), 1);
    assert!(sources[0].chunks >= 1);
    let found = agent.call(
        "GET",
        "/api/sdk/knowledge/search?q=how%20long%20does%20shipping%20take",
        None,
    );
    let hits: Vec<KnowledgeHit> =
        serde_json::from_value(found.body["results"].clone()).expect("hits in the shared shape");
    assert_eq!(
        hits.first().map(|h| h.title.as_str()),
        Some("Shipping times")
    );
    let gone = agent.call("DELETE", &format!("/api/sdk/knowledge/sources/{id}"), None);
    assert_eq!(gone.status, 403);
    let deleted = admin.call("DELETE", &format!("/api/sdk/knowledge/sources/{id}"), None);
    assert_eq!(deleted.status, 200, "{}", deleted.body);
}

#[test]
fn another_workspaces_admin_cannot_change_or_see_this_knowledge_base() {
    let a = app().workspace();
    let b = app().workspace();
    a.add_source(
        "Shipping times",
        "https://help.example.test/shipping",
        ARTICLE,
    );
    let (_, _, stranger) = b.signed_in("owner");
    let listed = stranger.call("GET", "/api/sdk/knowledge/sources", None);
    assert_eq!(listed.body["sources"], json!([]));
    let a_sources = a.call(
        "GET",
        "/api/sdk/knowledge/sources",
        Some(&a.secret_key),
        None,
    );
    let id = a_sources.body["sources"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = stranger.call("DELETE", &format!("/api/sdk/knowledge/sources/{id}"), None);
    assert_eq!(r.status, 404, "{}", r.body);
    let still = a.call(
        "GET",
        "/api/sdk/knowledge/sources",
        Some(&a.secret_key),
        None,
    );
    assert_eq!(still.body["sources"].as_array().unwrap().len(), 1);
}

#[test]
fn every_teammate_reads_the_attributes_and_only_owners_and_admins_describe_them() {
    let ws = app().workspace();
    ws.chat(json!({ "message": "hello", "user_id": "attr-1", "custom_fields": { "seats": 12 } }));
    let (_, _, agent) = ws.signed_in("agent");
    let (_, _, owner) = ws.signed_in("owner");
    let r = agent.call("GET", "/api/sdk/attributes", None);
    let attributes: Vec<Attribute> = serde_json::from_value(r.body["attributes"].clone())
        .expect("attributes in the shared shape");
    assert!(
        attributes.iter().any(|a| a.key == "seats"),
        "{attributes:?}"
    );
    let describe =
        json!({ "scope": "user", "key": "seats", "description": "Paid seats on the plan" });
    assert_eq!(
        agent
            .call("PATCH", "/api/sdk/attributes", Some(describe.clone()))
            .status,
        403
    );
    let done = owner.call("PATCH", "/api/sdk/attributes", Some(describe));
    assert_eq!(done.status, 200, "{}", done.body);
    let again: Vec<Attribute> = serde_json::from_value(
        agent.call("GET", "/api/sdk/attributes", None).body["attributes"].clone(),
    )
    .unwrap();
    let seats = again.iter().find(|a| a.key == "seats").unwrap();
    assert_eq!(seats.description.as_deref(), Some("Paid seats on the plan"));
}
