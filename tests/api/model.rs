//! The OpenAI-compatible provider against a real model: llama.cpp's server running SmolLM2-135M
//! on this machine (scripts/llm-server.py). Its answers are weak; these tests are about the
//! wire format, streaming, a timeout and a server that dies mid-answer.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use halo_tests::{call, live_socket, next_event, ModelServer, Server, Socket};
use serde_json::{json, Value};

fn model() -> &'static ModelServer {
    static MODEL: OnceLock<ModelServer> = OnceLock::new();
    MODEL.get_or_init(ModelServer::start)
}

fn with_model(base: &str, timeout_ms: &str, max_tokens: &str) -> Server {
    Server::start(&[
        ("LLM_BASE_URL", base),
        ("LLM_MODEL", "smollm2-135m"),
        ("LLM_TIMEOUT_MS", timeout_ms),
        ("LLM_MAX_TOKENS", max_tokens),
    ])
}

/// A session opened as the widget opens one, and the widget's socket to it.
fn session_with_socket(app: &Server, ws: &halo_tests::Workspace) -> (String, Socket) {
    let r = call(
        app,
        "POST",
        "/api/sdk/sessions",
        Some(&ws.widget_key),
        Some(json!({})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let session = r.session_id().to_owned();
    let socket = live_socket(
        app,
        &format!(
            "/api/sdk/conversations/{session}/live?key={}",
            ws.widget_key
        ),
    )
    .unwrap();
    (session, socket)
}

#[test]
fn a_real_model_answers_over_the_openai_wire_and_its_text_streams_to_the_widget() {
    let app = with_model(&model().base, "120000", "40");
    let ws = app.workspace();
    let (session, mut socket) = session_with_socket(&app, &ws);
    let question = "Write one friendly sentence about password resets.";
    let typing = std::thread::scope(|s| {
        let asked = s.spawn(|| ws.chat(json!({ "message": question, "session_id": session })));
        let mut typing: Vec<String> = Vec::new();
        while let Some(e) = next_event(&mut socket, Duration::from_secs(60)) {
            match e["type"].as_str() {
                Some("typing") => typing.push(e["text"].as_str().unwrap().to_owned()),
                Some("messages") if e["messages"][0]["role"] == "user" => break,
                _ => {}
            }
        }
        let r = asked.join().unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
        (typing, r.body)
    });
    let (typing, reply) = typing;
    let text = reply["text"].as_str().unwrap();
    assert!(!text.trim().is_empty());
    let t = ws.conversation(&session).body;
    assert_eq!(t["messages"][1]["engine"], "openai", "{t}");
    assert_eq!(t["last_error"], Value::Null);
    assert!(typing.len() >= 2, "the text arrived in pieces: {typing:?}");
    for pair in typing.windows(2) {
        assert!(
            pair[1].starts_with(&pair[0]),
            "each piece extends the last: {pair:?}"
        );
    }
    assert!(
        text.starts_with(typing.last().unwrap().trim()),
        "the final answer is the streamed text: {text:?} vs {typing:?}"
    );
    assert_eq!(reply["message_id"], t["messages"][1]["id"]);
}

#[test]
fn a_real_model_that_is_too_slow_is_cut_off_and_the_offline_engine_answers() {
    let app = with_model(&model().base, "800", "400");
    let ws = app.workspace();
    let started = Instant::now();
    let r = ws.chat(json!({ "message": "Tell me a long story about support tickets." }));
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body["actions"].to_string().contains("engine_failed"),
        "{}",
        r.body
    );
    let t = ws.conversation(r.session_id()).body;
    assert_eq!(
        t["messages"][0]["text"],
        "Tell me a long story about support tickets."
    );
    assert_eq!(t["messages"][1]["engine"], "offline");
    assert!(
        t["last_error"].as_str().unwrap().contains("timed out"),
        "{t}"
    );
}

#[test]
fn a_model_server_that_dies_mid_answer_loses_nothing_and_a_person_is_offered() {
    let mut dying = ModelServer::start();
    let app = with_model(&dying.base, "30000", "300");
    let ws = app.workspace();
    let (session, mut socket) = session_with_socket(&app, &ws);
    let question = "Explain in detail how to export all of my data.";
    let reply = std::thread::scope(|s| {
        let asked = s.spawn(|| ws.chat(json!({ "message": question, "session_id": session })));
        // The model is answering: kill its server mid-answer.
        loop {
            let e = next_event(&mut socket, Duration::from_secs(60)).expect("the answer starts");
            if e["type"] == "typing" {
                break;
            }
        }
        dying.kill();
        asked.join().unwrap()
    });
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(
        reply.body["actions"].to_string().contains("engine_failed"),
        "{}",
        reply.body
    );
    let t = ws.conversation(&session).body;
    assert_eq!(t["messages"][0]["text"], question, "the message was kept");
    assert_eq!(t["messages"][1]["engine"], "offline");
    assert!(!t["last_error"].is_null(), "{t}");
}

#[test]
fn in_the_browser_a_real_models_answer_appears_as_it_is_generated() {
    let app = with_model(&model().base, "120000", "60");
    let ws = app.workspace();
    halo_tests::browser_test("streaming.mjs", &[&app.base, &ws.org_id, &ws.widget_key]);
}
