//! The widget's one client of the API: requests with the widget key, who the page said the
//! user is, and the chat call.

use js_sys::{Array, Object, Reflect, JSON};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::state::{self, prop_str, Config, Message, Role, STATE};
use leptos::prelude::WithUntracked;

/// A string or number as the id string the API takes.
fn id_string(v: &JsValue) -> Option<String> {
    // JS writes the number (Rust's float formatting would cost the wasm ~6 KB).
    v.as_string()
        .or_else(|| {
            v.dyn_ref::<js_sys::Number>()
                .and_then(|n| n.to_string_with_radix(10).ok())
                .map(String::from)
        })
        .filter(|s| !s.is_empty())
}
/// Who the page said the user is: `(user_id, user_token, traits, company_id)`. Traits are the
/// other properties of identify(), of any JSON shape (functions and `undefined` are not sent).
pub fn identity(s: &state::State) -> (Option<String>, Option<String>, Object, Option<String>) {
    let traits = Object::new();
    let (mut user_id, mut token, mut company_id) = (None, None, None);
    if let Some(user) = &s.user {
        for entry in Object::entries(user).iter() {
            let pair = Array::from(&entry);
            let (k, v) = (pair.get(0).as_string().unwrap_or_default(), pair.get(1));
            match k.as_str() {
                "user_id" | "userId" => user_id = id_string(&v),
                "user_token" | "userToken" => token = v.as_string(),
                "company_id" => company_id = id_string(&v),
                // identifyCompany() and setContext() say those; custom traits are traits.
                "company" | "context" => {}
                "custom_fields" if v.is_object() => {
                    let _ = Object::assign(&traits, v.unchecked_ref::<Object>());
                }
                _ if !v.is_undefined() && !v.is_function() && !v.is_symbol() => {
                    let _ = Reflect::set(&traits, &k.into(), &v);
                }
                _ => {}
            }
        }
    }
    if let Some(id) = s
        .company
        .as_ref()
        .and_then(|c| id_string(&Reflect::get(c, &"company_id".into()).unwrap_or(JsValue::NULL)))
    {
        company_id = Some(id);
    }
    (
        user_id.filter(|u| u != "anonymous"),
        token,
        traits,
        company_id,
    )
}
/// The chat request body: the message, the session, and what identify/setContext said.
pub fn request_body(config: &Config, text: &str) -> Object {
    let body = session_body(config);
    let _ = Reflect::set(&body, &"message".into(), &text.into());
    body
}
/// The session, and what identify/setContext said.
pub fn session_body(config: &Config) -> Object {
    let body = Object::new();
    let set = |k: &str, v: &JsValue| {
        let _ = Reflect::set(&body, &k.into(), v);
    };
    set("channel", &"chat".into());
    if let Some(s) = state::saved_session(&config.org_id) {
        set("session_id", &s.as_str().into());
    }
    STATE.with_borrow(|s| {
        let (user_id, token, traits, company_id) = identity(s);
        if let Some(id) = user_id {
            set("user_id", &id.into());
        }
        if let Some(t) = token {
            set("user_token", &t.into());
        }
        if let Some(id) = company_id {
            set("company_id", &id.into());
        }
        if Object::keys(&traits).length() > 0 {
            set("custom_fields", &traits);
        }
        if let Some(ctx) = &s.context {
            set("context", ctx);
        }
    });
    body
}
/// POSTs JSON to the API with the widget key. An error is a sentence for the visitor; the
/// server's own message goes to the console for the site's developer.
pub async fn post(path: &str, body: &Object) -> Result<JsValue, String> {
    request("POST", path, Some(body)).await
}
/// Calls the API with the widget key: `body`, if any, goes as JSON.
pub async fn request(method: &str, path: &str, body: Option<&Object>) -> Result<JsValue, String> {
    let config = STATE
        .with_borrow(|s| s.config.clone())
        .ok_or("not booted")?;
    let window = web_sys::window().ok_or("no window")?;
    let headers = web_sys::Headers::new().map_err(|_| "headers")?;
    let _ = headers.set("authorization", &format!("Bearer {}", config.widget_key));
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    if let Some(body) = body {
        let body = JSON::stringify(body).map_err(|_| "unserialisable request")?;
        let _ = headers.set("content-type", "application/json");
        init.set_body(&body.into());
    }
    init.set_headers(&headers);
    let url = format!("{}{path}", config.api_base);
    let resp: web_sys::Response = JsFuture::from(window.fetch_with_str_and_init(&url, &init))
        .await
        .map_err(|_| "We couldn't reach support. Check your connection and try again.".to_owned())?
        .unchecked_into();
    let json = match resp.json() {
        Ok(p) => JsFuture::from(p).await.unwrap_or(JsValue::NULL),
        Err(_) => JsValue::NULL,
    };
    if resp.ok() {
        // What the page attached that the server left out, for the site's developer.
        let warnings = Reflect::get(&json, &"warnings".into()).unwrap_or(JsValue::UNDEFINED);
        if Array::is_array(&warnings) {
            for w in Array::from(&warnings).iter() {
                let said = prop_str(&w, "message").unwrap_or_default();
                web_sys::console::warn_1(&format!("Halo: {path}: {said}").into());
            }
        }
        return Ok(json);
    }
    let error = Reflect::get(&json, &"error".into()).unwrap_or(JsValue::UNDEFINED);
    let detail = prop_str(&error, "message");
    let status = resp.status();
    if status == 429 {
        // Calm, and in the visitor's language; the typed text goes back into the composer.
        let wait = Reflect::get(&error, &"retry_after".into())
            .ok()
            .and_then(|v| v.as_f64())
            .unwrap_or(10.0) as u32;
        let words = STATE
            .with_borrow(|s| s.ui.map(|u| u.look.with_untracked(|l| l.strings.too_fast)))
            .unwrap_or("You're sending messages quickly, try again in {n} s.");
        return Err(words.replace("{n}", &wait.to_string()));
    }
    web_sys::console::error_1(
        &format!(
            "Halo: {path} failed ({status}): {}",
            detail.as_deref().unwrap_or("")
        )
        .into(),
    );
    Err(if status < 500 {
        "This chat isn't set up correctly on this page, so your message couldn't be sent. The site's team can see why in the browser console.".into()
    } else {
        "Something went wrong on our side. Please try again in a moment.".into()
    })
}
/// Waits `ms` milliseconds.
async fn pause(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = JsFuture::from(promise).await;
}

/// Posts one message; on success remembers the session and returns the AI's line.
pub async fn send(text: &str) -> Result<(Message, JsValue), String> {
    let config = STATE
        .with_borrow(|s| s.config.clone())
        .ok_or("not booted")?;
    // A message typed while the panel is still opening its conversation goes into that
    // conversation, not a second one (waiting at most 3 s for it).
    for _ in 0..60 {
        if !STATE.with_borrow(|s| s.opening) {
            break;
        }
        pause(50).await;
    }
    let json = post("/api/sdk/chat", &request_body(&config, text)).await?;
    if let Some(session) = prop_str(&json, "session_id") {
        state::save_session(&config.org_id, &session);
    }
    let field = |k: &str| Reflect::get(&json, &k.into()).unwrap_or(JsValue::NULL);
    // A routed message gets the team's acknowledgement, stored as a system line (which the
    // live connection may also deliver: the server id lets it show once).
    let role = if field("routed").is_object() {
        Role::System
    } else {
        Role::Ai
    };
    let message = Message {
        citations: state::parse_citations(&field("citations")),
        offer_human: state::offers_human(&field("actions")),
        server_id: prop_str(&json, "message_id"),
        ..Message::new(role, prop_str(&json, "text").unwrap_or_default())
    };
    Ok((message, field("actions")))
}
/// `&user_id=…&user_token=…` for the widget's GET and WebSocket calls: a user's conversation
/// is theirs alone.
pub fn identity_query() -> String {
    STATE.with_borrow(|s| {
        let (user_id, token, _, _) = identity(s);
        let mut q = String::new();
        for (k, v) in [("user_id", user_id), ("user_token", token)] {
            if let Some(v) = v {
                q.push_str(&format!("&{k}={}", js_sys::encode_uri_component(&v)));
            }
        }
        q
    })
}
