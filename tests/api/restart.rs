use halo_tests::{chat, conversation, Server};
use serde_json::json;

#[test]
fn a_message_survives_a_restart_of_wrangler_dev() {
    let mut server = Server::start(&[]);
    let ws = server.workspace();
    let r = chat(
        &server,
        &ws,
        json!({ "message": "Please remember this message", "user_id": "u-restart" }),
    );
    assert_eq!(r.status, 200);
    let session = r.body["session_id"].as_str().unwrap().to_owned();

    server.restart();

    let t = conversation(&server, &ws, &session);
    assert_eq!(t.status, 200, "{}", t.body);
    assert_eq!(
        t.body["messages"][0]["text"],
        json!("Please remember this message")
    );
    let again = chat(
        &server,
        &ws,
        json!({ "message": "still there?", "user_id": "u-restart", "session_id": session }),
    );
    assert_eq!(
        again.body["session_id"],
        json!(session),
        "the session continues after the restart"
    );
    assert_eq!(
        conversation(&server, &ws, &session).body["messages"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
}
