//! Agents: several per workspace, managed with the secret key; one is active, `agent_id` pins
//! a conversation to another, and channels pick the default.

use halo_tests::{app, call, Reply, Workspace};
use serde_json::{json, Value};

fn agents(ws: &Workspace, method: &str, path: &str, body: Option<Value>) -> Reply {
    call(
        app(),
        method,
        &format!("/api/sdk/agents{path}"),
        Some(&ws.secret_key),
        body,
    )
}

/// Creates the inactive "Sales" agent and returns its id.
fn create_sales(ws: &Workspace) -> String {
    let created = agents(
        ws,
        "POST",
        "",
        Some(
            json!({ "name": "Sales", "instructions": "Help people pick a plan.",
                     "skills": ["search_knowledge"], "channels": ["chat"], "escalation_threshold": 0.3,
                     "rules": ["Custom contracts go to a person"], "llm": { "provider": "offline" } }),
        ),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let sales = &created.body["agent"];
    assert_eq!(
        (
            &sales["active"],
            &sales["skills"],
            &sales["llm"]["provider"]
        ),
        (
            &json!(false),
            &json!(["search_knowledge"]),
            &json!("offline")
        )
    );
    sales["agent_id"].as_str().unwrap().to_owned()
}

fn activate(ws: &Workspace, id: &str) -> Reply {
    agents(
        ws,
        "PATCH",
        &format!("/{id}"),
        Some(json!({ "active": true })),
    )
}

#[test]
fn a_workspace_starts_with_one_active_default_agent() {
    let app = app();
    let ws = app.workspace();
    let list = agents(&ws, "GET", "", None);
    assert_eq!(list.status, 200, "{}", list.body);
    let default = list.body["agents"][0].clone();
    assert_eq!(
        (&default["agent_id"], &default["active"]),
        (&json!(ws.agent_id), &json!(true))
    );
}

#[test]
fn activating_an_agent_deactivates_the_others_and_keeps_its_untouched_fields() {
    let app = app();
    let ws = app.workspace();
    let id = create_sales(&ws);
    let patched = agents(
        &ws,
        "PATCH",
        &format!("/{id}"),
        Some(json!({ "name": "Sales team", "active": true })),
    );
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(patched.body["agent"]["name"], "Sales team");
    assert_eq!(
        patched.body["agent"]["rules"],
        json!(["Custom contracts go to a person"]),
        "untouched fields stay"
    );
    let list = agents(&ws, "GET", "", None).body["agents"].clone();
    let active: Vec<&Value> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["active"] == true)
        .collect();
    assert_eq!(active.len(), 1);
    assert_eq!(active[0]["agent_id"], json!(id));
}

#[test]
fn the_active_agent_answers_unless_agent_id_pins_another_and_a_conversation_keeps_its_agent() {
    let app = app();
    let ws = app.workspace();
    let id = create_sales(&ws);
    assert_eq!(activate(&ws, &id).status, 200);
    let r = ws.chat(json!({ "message": "hello" }));
    assert_eq!(r.body["agent_id"], json!(id));
    let pinned = ws.chat(json!({ "message": "hello", "agent_id": ws.agent_id }));
    assert_eq!(pinned.body["agent_id"], json!(ws.agent_id));
    let again = ws.chat(json!({ "message": "and again", "session_id": pinned.body["session_id"] }));
    assert_eq!(
        again.body["agent_id"],
        json!(ws.agent_id),
        "a conversation keeps its agent"
    );
}

#[test]
fn the_active_agent_cannot_be_archived_or_switched_off_directly() {
    let app = app();
    let ws = app.workspace();
    let id = create_sales(&ws);
    assert_eq!(activate(&ws, &id).status, 200);
    assert_eq!(
        agents(&ws, "DELETE", &format!("/{id}"), None).status,
        400,
        "not the active one"
    );
    let off = agents(
        &ws,
        "PATCH",
        &format!("/{id}"),
        Some(json!({ "active": false })),
    );
    assert_eq!(off.status, 400, "{}", off.body);
}

#[test]
fn an_archived_agent_cannot_be_named_and_its_conversations_still_read() {
    let app = app();
    let ws = app.workspace();
    let id = create_sales(&ws);
    assert_eq!(activate(&ws, &id).status, 200);
    let r = ws.chat(json!({ "message": "hello" }));
    assert_eq!(activate(&ws, &ws.agent_id).status, 200);
    let gone = agents(&ws, "DELETE", &format!("/{id}"), None);
    assert_eq!(gone.status, 200, "{}", gone.body);
    assert_eq!(agents(&ws, "GET", &format!("/{id}"), None).status, 404);
    let named = ws.chat(json!({ "message": "hello", "agent_id": id }));
    assert_eq!(named.status, 400, "an archived agent cannot be named");
    assert_eq!(ws.conversation(r.session_id()).body["agent_id"], json!(id));
}

#[test]
fn the_default_agent_is_one_that_serves_the_channel() {
    let app = app();
    let ws = app.workspace();
    agents(
        &ws,
        "PATCH",
        &format!("/{}", ws.agent_id),
        Some(json!({ "channels": ["chat"] })),
    );
    let voice = agents(
        &ws,
        "POST",
        "",
        Some(json!({ "name": "Voice", "channels": ["voice"] })),
    );
    let voice_id = voice.body["agent"]["agent_id"].clone();
    let r = ws.chat(json!({ "message": "hello", "channel": "voice" }));
    assert_eq!(r.body["agent_id"], voice_id);
    let r = ws.chat(json!({ "message": "hello", "channel": "chat" }));
    assert_eq!(r.body["agent_id"], json!(ws.agent_id));
}

#[test]
fn agents_are_validated_and_scoped_to_their_workspace() {
    let app = app();
    let ws = app.workspace();
    let other = app.workspace();
    let cases = [
        (json!({}), "name"),
        (json!({ "name": "x", "skills": ["teleport"] }), "skills[0]"),
        (json!({ "name": "x", "channels": ["fax"] }), "channels[0]"),
        (
            json!({ "name": "x", "escalation_threshold": 2 }),
            "escalation_threshold",
        ),
        (
            json!({ "name": "x", "llm": { "provider": "hal9000" } }),
            "llm.provider",
        ),
        (json!({ "name": "x", "colour": "blue" }), "colour"),
    ];
    for (body, field) in cases {
        let r = agents(&ws, "POST", "", Some(body.clone()));
        assert_eq!(
            (r.status, r.error().1.as_deref()),
            (400, Some(field)),
            "{body}"
        );
    }
    let path = format!("/{}", ws.agent_id);
    assert_eq!(agents(&other, "GET", &path, None).status, 404);
    assert_eq!(
        agents(&other, "PATCH", &path, Some(json!({ "name": "hijacked" }))).status,
        404
    );
    assert_eq!(agents(&other, "DELETE", &path, None).status, 404);
    assert_eq!(
        agents(&ws, "GET", &path, None).body["agent"]["name"],
        "Support agent"
    );
    let with_widget_key = call(app, "GET", "/api/sdk/agents", Some(&ws.widget_key), None);
    assert_eq!(with_widget_key.status, 403);
    let foreign = other.chat(json!({ "message": "hi", "agent_id": ws.agent_id }));
    assert_eq!(
        foreign.status, 400,
        "another workspace's agent cannot be named"
    );
}
