//! The `window.Halo` JS API and the one call the widget makes to the chat endpoint.

use js_sys::{Array, Function, Object, Reflect, JSON};
use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::state::{self, prop_str, Config, Message, Role, Ui, STATE};

/// Replaces the snippet's queue with the real `Halo` function and replays the queued calls.
pub fn install(default_api_base: String) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let stub = Reflect::get(&window, &"Halo".into()).unwrap_or(JsValue::UNDEFINED);
    let queued = Reflect::get(&stub, &"q".into()).unwrap_or(JsValue::UNDEFINED);
    let base = default_api_base.clone();
    let real = Closure::<dyn Fn(JsValue, JsValue)>::new(move |cmd: JsValue, arg: JsValue| {
        dispatch(&base, cmd.as_string().unwrap_or_default().as_str(), arg);
    });
    let f: &Function = real.as_ref().unchecked_ref();
    let _ = Reflect::set(f, &"loaded".into(), &JsValue::TRUE);
    let _ = Reflect::set(
        f,
        &"v".into(),
        &Reflect::get(&stub, &"v".into()).unwrap_or(JsValue::UNDEFINED),
    );
    let _ = Reflect::set(&window, &"Halo".into(), f);
    real.forget(); // lives as long as the page
    if Array::is_array(&queued) {
        for args in Array::from(&queued).iter() {
            let args = Array::from(&args);
            dispatch(
                &default_api_base,
                args.get(0).as_string().unwrap_or_default().as_str(),
                args.get(1),
            );
        }
    }
}

fn as_object(v: &JsValue) -> Option<Object> {
    v.is_object().then(|| v.clone().unchecked_into())
}

/// Copies `from`'s own properties over `into` (later calls win, like Object.assign).
fn merged(into: Option<Object>, from: &Object) -> Object {
    let target = into.unwrap_or_default();
    Object::assign(&target, from)
}

fn with_ui(f: impl FnOnce(Ui)) {
    if let Some(ui) = STATE.with_borrow(|s| s.ui) {
        f(ui);
    }
}

fn dispatch(default_api_base: &str, cmd: &str, arg: JsValue) {
    match cmd {
        "boot" => boot(default_api_base, &arg),
        "identify" => {
            if let Some(o) = as_object(&arg) {
                STATE.with_borrow_mut(|s| s.user = Some(merged(s.user.take(), &o)));
                schedule_sync();
            }
        }
        "identifyCompany" => {
            if let Some(o) = as_object(&arg) {
                STATE.with_borrow_mut(|s| s.company = Some(merged(s.company.take(), &o)));
                schedule_sync();
            }
        }
        "setContext" => {
            // Every entry goes to the server as it is: what it cannot use, it leaves out with
            // a warning (logged below), and the message is answered either way.
            if let Some(o) = as_object(&arg) {
                STATE.with_borrow_mut(|s| s.context = Some(merged(s.context.take(), &o)));
                schedule_sync();
            }
        }
        "open" => with_ui(opened),
        "close" => with_ui(|ui| ui.open.set(false)),
        "toggle" => with_ui(|ui| {
            if ui.open.get_untracked() {
                ui.open.set(false);
            } else {
                opened(ui);
            }
        }),
        "shutdown" | "reset" => {
            let org = STATE.with_borrow_mut(|s| {
                s.user = None;
                s.company = None;
                s.context = None;
                s.config.as_ref().map(|c| c.org_id.clone())
            });
            if let Some(org) = org {
                state::forget(&org);
            }
            crate::live::stop();
            with_ui(|ui| {
                ui.messages.set(Vec::new());
                ui.open.set(false);
                state::set_unread(ui, false);
            });
        }
        other => web_sys::console::warn_1(&format!("Halo: unknown command {other:?}").into()),
    }
}

/// A string or number as the id string the API takes.
fn id_string(v: &JsValue) -> Option<String> {
    v.as_string()
        .or_else(|| v.as_f64().map(|n| n.to_string()))
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

/// Sends what identify()/identifyCompany()/setContext() said to the server once the current
/// burst of calls is over (the queue replays first), if the widget is booted and knows the user.
fn schedule_sync() {
    let ready = STATE.with_borrow_mut(|s| {
        let ready = s.config.is_some() && !s.sync_scheduled;
        s.sync_scheduled |= ready;
        ready
    });
    if ready {
        wasm_bindgen_futures::spawn_local(async {
            STATE.with_borrow_mut(|s| s.sync_scheduled = false);
            if let Err(e) = sync().await {
                web_sys::console::warn_1(&format!("Halo: identify failed: {e}").into());
            }
        });
    }
}

async fn sync() -> Result<(), String> {
    let body = Object::new();
    let set = |o: &Object, k: &str, v: &JsValue| {
        let _ = Reflect::set(o, &k.into(), v);
    };
    let known = STATE.with_borrow(|s| {
        let (user_id, token, traits, company_id) = identity(s);
        let user_id = user_id?;
        set(&body, "user_id", &user_id.into());
        if let Some(t) = token {
            set(&body, "user_token", &t.into());
        }
        let _ = Object::assign(&body, &traits);
        if let Some(id) = company_id {
            let company = Object::new();
            if let Some(c) = &s.company {
                let _ = Object::assign(&company, c);
            }
            set(&company, "company_id", &id.into());
            set(&body, "company", &company);
        }
        if let Some(ctx) = &s.context {
            set(&body, "context", ctx);
        }
        Some(())
    });
    if known.is_none() {
        return Ok(()); // a visitor: context still goes with each message
    }
    post("/api/sdk/widget/identify", &body).await.map(|_| ())
}

fn boot(default_api_base: &str, arg: &JsValue) {
    if STATE.with_borrow(|s| s.config.is_some()) {
        return; // booted already: a second snippet or boot call changes nothing
    }
    let (Some(org_id), Some(widget_key)) = (prop_str(arg, "orgId"), prop_str(arg, "widgetKey"))
    else {
        web_sys::console::error_1(&"Halo: boot needs { orgId, widgetKey }".into());
        return;
    };
    let api_base = prop_str(arg, "apiBase").unwrap_or_else(|| default_api_base.to_owned());
    let ui_options = Reflect::get(arg, &"ui".into()).unwrap_or(JsValue::UNDEFINED);
    let option = |k: &str| Reflect::get(&ui_options, &k.into()).unwrap_or(JsValue::UNDEFINED);
    let manual = option("manualOnPaths");
    let config = Config {
        auto_open_unseen: option("autoOpenUnseen").is_truthy(),
        manual_on_paths: if Array::is_array(&manual) {
            Array::from(&manual)
                .iter()
                .filter_map(|p| p.as_string())
                .collect()
        } else {
            Vec::new()
        },
        org_id,
        widget_key,
        api_base: api_base.trim_end_matches('/').to_owned(),
    };
    let ui = Ui {
        open: RwSignal::new(false),
        unread: RwSignal::new(state::saved_unread(&config.org_id)),
        pending: RwSignal::new(false),
        messages: RwSignal::new(state::saved_messages(&config.org_id)),
        draft: RwSignal::new(String::new()),
        highlight: RwSignal::new(None),
    };
    STATE.with_borrow_mut(|s| {
        s.config = Some(config);
        s.ui = Some(ui);
    });
    crate::ui::mount(ui);
    schedule_sync();
    crate::live::ensure();
}

/// The chat request body: the message, the session, and what identify/setContext said.
fn request_body(config: &Config, text: &str) -> Object {
    let body = session_body(config);
    let _ = Reflect::set(&body, &"message".into(), &text.into());
    body
}

/// The session, and what identify/setContext said.
fn session_body(config: &Config) -> Object {
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

/// Posts one message; on success remembers the session and returns the AI's line.
/// POSTs JSON to the API with the widget key. An error is a sentence for the visitor; the
/// server's own message goes to the console for the site's developer.
async fn post(path: &str, body: &Object) -> Result<JsValue, String> {
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
    let detail = Reflect::get(&json, &"error".into())
        .ok()
        .and_then(|e| prop_str(&e, "message"));
    let status = resp.status();
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

/// Posts one message; on success remembers the session and returns the AI's line.
pub async fn send(text: &str) -> Result<(Message, JsValue), String> {
    let config = STATE
        .with_borrow(|s| s.config.clone())
        .ok_or("not booted")?;
    let json = post("/api/sdk/chat", &request_body(&config, text)).await?;
    if let Some(session) = prop_str(&json, "session_id") {
        state::save_session(&config.org_id, &session);
        crate::live::ensure();
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

/// Adds a line to the panel and saves the conversation.
pub fn push(ui: Ui, message: Message) {
    ui.messages.update(|all| {
        // A streamed answer is already shown: the final one replaces it.
        let streamed = message.server_id.as_ref().and_then(|id| {
            all.iter()
                .position(|m| m.role == Role::Ai && m.server_id.as_ref() == Some(id))
        });
        match streamed {
            Some(i) => all[i] = message,
            None => all.push(message),
        }
    });
    if let Some(org) = STATE.with_borrow(|s| s.config.as_ref().map(|c| c.org_id.clone())) {
        ui.messages
            .with_untracked(|m| state::save_messages(&org, m));
    }
}

/// Sends `text` as the user: shows it, shows the typing state, then the reply or a notice.
/// If sending fails and the composer is empty, the text goes back into it: nothing typed is lost.
pub fn ask(ui: Ui, text: String) {
    if text.trim().is_empty() || ui.pending.get_untracked() {
        return;
    }
    push(ui, Message::new(Role::User, text.clone()));
    ui.pending.set(true);
    leptos::task::spawn_local(async move {
        match send(&text).await {
            Ok((reply, actions)) => {
                push(ui, reply);
                if !ui.open.get_untracked() {
                    state::set_unread(ui, true);
                }
                crate::highlight::run(ui, &actions);
            }
            Err(notice) => {
                push(ui, Message::new(Role::Notice, notice));
                if ui.draft.get_untracked().is_empty() {
                    ui.draft.set(text);
                }
            }
        }
        ui.pending.set(false);
    });
}

/// Rates an AI answer (`helpful`: thumbs up or down). The rating is remembered with the line
/// once the server has it; if it could not be sent, `shown` goes back to what it was.
pub fn rate(ui: Ui, line: u32, message_id: String, helpful: bool, shown: RwSignal<Option<bool>>) {
    let Some(config) = STATE.with_borrow(|s| s.config.clone()) else {
        return;
    };
    let Some(session) = state::saved_session(&config.org_id) else {
        return;
    };
    let before = shown.get_untracked();
    shown.set(Some(helpful));
    let body = session_body(&config);
    let _ = Reflect::set(&body, &"message_id".into(), &message_id.into());
    let _ = Reflect::set(
        &body,
        &"rating".into(),
        &(if helpful { "up" } else { "down" }).into(),
    );
    leptos::task::spawn_local(async move {
        let path = format!(
            "/api/sdk/conversations/{}/ratings",
            js_sys::encode_uri_component(&session)
        );
        if post(&path, &body).await.is_ok() {
            ui.messages.update_untracked(|all| {
                if let Some(m) = all.iter_mut().find(|m| m.id == line) {
                    m.rating = Some(helpful);
                }
                state::save_messages(&config.org_id, all);
            });
        } else {
            shown.set(before);
        }
    });
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

/// Opens the panel. The first time, it also opens a conversation on the server, so the team's
/// live feed sees the visitor before they write (and the live connection starts).
pub fn opened(ui: Ui) {
    ui.open.set(true);
    state::set_unread(ui, false);
    let Some(config) = STATE.with_borrow(|s| s.config.clone()) else {
        return;
    };
    if state::saved_session(&config.org_id).is_some() {
        crate::live::refresh();
        return;
    }
    if STATE.with_borrow(|s| s.opening) {
        return;
    }
    STATE.with_borrow_mut(|s| s.opening = true);
    leptos::task::spawn_local(async move {
        if let Ok(json) = post("/api/sdk/sessions", &session_body(&config)).await {
            if let Some(session) = prop_str(&json, "session_id") {
                // A message sent meanwhile may have opened one already; keep that one.
                if state::saved_session(&config.org_id).is_none() {
                    state::save_session(&config.org_id, &session);
                    crate::live::ensure();
                }
            }
        }
        STATE.with_borrow_mut(|s| s.opening = false);
    });
}
