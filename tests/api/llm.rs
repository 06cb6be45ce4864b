//! The OpenAI-compatible provider against a peer on loopback that speaks the chat-completions
//! wire format and records what it receives. The history the client sends picks the peer's
//! behaviour (`MODE:HANG`, `MODE:BREAK`), so tests can share one server.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use halo_tests::{add_article, chat, conversation, Server};
use serde_json::{json, Value};

const MODEL_TEXT: &str = "Refunds reach your card within 5 to 10 business days.";

struct Peer {
    port: u16,
    seen: Arc<Mutex<Vec<(String, String, Value)>>>,
}

fn serve(mut stream: std::net::TcpStream, seen: Arc<Mutex<Vec<(String, String, Value)>>>) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut request_line = String::new();
    let _ = reader.read_line(&mut request_line);
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("")
        .to_owned();
    let (mut length, mut auth) = (0usize, String::new());
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
        if lower.starts_with("authorization:") {
            auth = line["authorization:".len()..].trim().to_owned();
        }
    }
    let mut body = vec![0u8; length];
    let _ = reader.read_exact(&mut body);
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let text = body.to_string();
    seen.lock().unwrap().push((path, auth, body));
    if text.contains("MODE:HANG") {
        std::thread::sleep(Duration::from_secs(20));
        return;
    }
    let (status, payload) = if text.contains("MODE:BREAK") {
        (
            "500 Internal Server Error",
            json!({ "error": { "message": "the model crashed", "type": "server_error" } }),
        )
    } else {
        (
            "200 OK",
            json!({
                "id": "chatcmpl-test", "object": "chat.completion", "created": 1, "model": "test-model",
                "choices": [{ "index": 0, "message": { "role": "assistant", "content": MODEL_TEXT }, "finish_reason": "stop" }],
                "usage": { "prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2 }
            }),
        )
    };
    let payload = payload.to_string();
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{payload}",
        payload.len()
    );
}

fn peer() -> &'static Peer {
    static PEER: OnceLock<Peer> = OnceLock::new();
    PEER.get_or_init(|| {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let s = s.clone();
                std::thread::spawn(move || serve(stream, s));
            }
        });
        Peer { port, seen }
    })
}

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        let base = format!("http://127.0.0.1:{}/v1", peer().port);
        Server::start(&[
            ("LLM_BASE_URL", &base),
            ("LLM_MODEL", "test-model"),
            ("LLM_API_KEY", "sk-test-key"),
            ("LLM_TIMEOUT_MS", "1500"),
        ])
    })
}

const REFUNDS: &str =
    "# Refunds\n\nRefunds go back to the original card within 5 to 10 business days.";

fn request_for(question: &str) -> (String, String, Value) {
    let seen = peer().seen.lock().unwrap();
    seen.iter()
        .rev()
        .find(|(_, _, b)| {
            b["messages"]
                .as_array()
                .and_then(|m| m.last())
                .is_some_and(|m| m["content"] == json!(question))
        })
        .cloned()
        .expect("the provider was called with the question")
}

#[test]
fn the_provider_receives_the_openai_wire_format_and_its_answer_is_returned() {
    let app = server();
    let ws = app.workspace();
    add_article(
        app,
        &ws,
        "Refund policy",
        "https://help.example.test/refunds",
        REFUNDS,
    );
    let question = "How long do refunds take to reach my card?";
    let r = chat(app, &ws, json!({ "message": question }));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["text"], json!(MODEL_TEXT));
    assert_eq!(r.body["citations"][0]["title"], json!("Refund policy"));
    assert_eq!(r.body["actions"], json!([]));

    let (path, auth, body) = request_for(question);
    assert_eq!(path, "/v1/chat/completions");
    assert_eq!(auth, "Bearer sk-test-key");
    assert_eq!(body["model"], json!("test-model"));
    assert_eq!(body["stream"], json!(false));
    let system = body["messages"][0]["content"].as_str().unwrap();
    assert_eq!(body["messages"][0]["role"], json!("system"));
    assert!(
        system.contains("Refund policy") && system.contains("5 to 10 business days"),
        "{system}"
    );

    let t = conversation(app, &ws, r.body["session_id"].as_str().unwrap());
    assert_eq!(t.body["messages"][1]["engine"], json!("openai"));
}

#[test]
fn earlier_turns_of_the_session_are_sent_to_the_model() {
    let app = server();
    let ws = app.workspace();
    let first = chat(
        app,
        &ws,
        json!({ "message": "My name is Ada and I use the Pro plan." }),
    );
    let session = first.body["session_id"].as_str().unwrap();
    let question = "Which plan did I say I use?";
    chat(
        app,
        &ws,
        json!({ "message": question, "session_id": session }),
    );
    let (_, _, body) = request_for(question);
    let roles: Vec<&str> = body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["system", "user", "assistant", "user"]);
    assert_eq!(
        body["messages"][1]["content"],
        json!("My name is Ada and I use the Pro plan.")
    );
}

#[test]
fn a_provider_that_hangs_is_cut_off_and_the_offline_engine_answers() {
    let app = server();
    let ws = app.workspace();
    add_article(
        app,
        &ws,
        "Refund policy",
        "https://help.example.test/refunds",
        REFUNDS,
    );
    let started = Instant::now();
    let r = chat(
        app,
        &ws,
        json!({ "message": "How long do refunds take?", "history": [{ "role": "user", "text": "MODE:HANG" }] }),
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(r.status, 200);
    assert!(
        r.body["text"]
            .as_str()
            .unwrap()
            .contains("5 to 10 business days"),
        "{}",
        r.body
    );
    assert_eq!(
        r.body["actions"],
        json!([{ "type": "offer_human", "reason": "engine_failed" }])
    );

    let t = conversation(app, &ws, r.body["session_id"].as_str().unwrap());
    assert_eq!(
        t.body["messages"][0]["text"],
        json!("How long do refunds take?"),
        "the message was kept"
    );
    assert!(
        t.body["last_error"].as_str().unwrap().contains("timed out"),
        "{}",
        t.body
    );
    assert_eq!(t.body["messages"][1]["engine"], json!("offline"));
}

#[test]
fn a_provider_error_is_recorded_and_the_user_still_gets_an_answer_and_a_person() {
    let app = server();
    let ws = app.workspace();
    add_article(
        app,
        &ws,
        "Refund policy",
        "https://help.example.test/refunds",
        REFUNDS,
    );
    let r = chat(
        app,
        &ws,
        json!({ "message": "How long do refunds take?", "history": [{ "role": "user", "text": "MODE:BREAK" }] }),
    );
    assert_eq!(r.status, 200);
    assert!(
        r.body["text"]
            .as_str()
            .unwrap()
            .contains("5 to 10 business days"),
        "the offline engine answered: {}",
        r.body
    );
    assert_eq!(
        r.body["actions"],
        json!([{ "type": "offer_human", "reason": "engine_failed" }])
    );

    let t = conversation(app, &ws, r.body["session_id"].as_str().unwrap());
    let error = t.body["messages"][1]["error"].as_str().unwrap();
    assert!(error.contains("500"), "{error}");
}

#[test]
fn a_whisper_reaches_the_models_prompt_as_guidance_for_the_next_reply_only() {
    let app = server();
    let ws = app.workspace();
    let (_, token) = halo_tests::teammate_on(app, &ws, "Wes");
    let first = chat(app, &ws, json!({ "message": "Is there an annual plan?" }));
    let session = first.body["session_id"].as_str().unwrap().to_owned();
    let w = halo_tests::call(
        app,
        "POST",
        &format!("/api/inbox/conversations/{session}/whisper"),
        Some(&token),
        Some(json!({ "text": "Offer the 20% annual discount" })),
    );
    assert_eq!(w.status, 201, "{}", w.body);
    let steered = "How much would the annual plan cost me?";
    chat(
        app,
        &ws,
        json!({ "message": steered, "session_id": session }),
    );
    let (_, _, body) = request_for(steered);
    let system = body["messages"][0]["content"].as_str().unwrap();
    assert!(
        system.contains("Guidance from the support team")
            && system.contains("- Offer the 20% annual discount"),
        "{system}"
    );
    let turns = &body["messages"].as_array().unwrap()[1..];
    assert!(
        !turns
            .iter()
            .any(|m| m.to_string().contains("annual discount")),
        "only the system prompt carries it"
    );
    let next = "And what about the monthly plan?";
    chat(app, &ws, json!({ "message": next, "session_id": session }));
    let (_, _, body) = request_for(next);
    assert!(!body.to_string().contains("annual discount"));
}
