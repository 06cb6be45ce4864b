use halo_tests::{Server, Workspace};
use serde_json::json;

#[test]
fn a_message_survives_a_restart_of_wrangler_dev() {
    let mut server = Server::start(&[]);
    let ws = server.workspace();
    let r = ws.chat(json!({ "message": "Please remember this message", "user_id": "u-restart" }));
    assert_eq!(r.status, 200);
    let session = r.session_id().to_owned();

    server.restart();
    // The restarted server listens on a new port; the workspace is the same.
    let ws = Workspace {
        base: server.url(""),
        ..ws
    };

    let t = ws.conversation(&session);
    assert_eq!(t.status, 200, "{}", t.body);
    assert_eq!(
        t.body["messages"][0]["text"],
        json!("Please remember this message")
    );
    let again = ws
        .chat(json!({ "message": "still there?", "user_id": "u-restart", "session_id": session }));
    assert_eq!(
        again.body["session_id"],
        json!(session),
        "the session continues after the restart"
    );
    assert_eq!(
        ws.conversation(&session).body["messages"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
}
