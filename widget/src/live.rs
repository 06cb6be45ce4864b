//! The live connection: a WebSocket to the conversation's room, so a teammate's reply shows
//! at once (in the panel if open, else as the unread dot on the launcher). On every (re)connect
//! the widget first catches up on lines it missed while closed or offline; a dropped socket
//! reconnects with exponential backoff.

use std::cell::RefCell;

use js_sys::{Array, Reflect, JSON};
use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use halo_shared::live::Event;

use crate::client;
use crate::state::{self, prop_str, Message, Role, STATE};

/// Reconnect delays grow from the first to the last, doubling.
const FIRST_RETRY_MS: i32 = 1_000;
const LAST_RETRY_MS: i32 = 30_000;
/// How far back a catch-up read starts before the last line seen.
const OVERLAP_MS: u64 = 60_000;

/// A socket's event handlers: kept while it lives, dropped (after detaching) when it is replaced.
type Handlers = (
    Closure<dyn FnMut()>,
    Closure<dyn FnMut(web_sys::MessageEvent)>,
    Closure<dyn FnMut()>,
);

#[derive(Default)]
struct Live {
    socket: Option<web_sys::WebSocket>,
    handlers: Option<Handlers>,
    /// The session the socket is for; a different one (after a reset) stops reconnects.
    session: Option<String>,
    retry_ms: i32,
}

thread_local! {
    static LIVE: RefCell<Live> = RefCell::new(Live::default());
}

/// Connects to the saved session's room, unless already connected to it.
pub fn ensure() {
    let Some(config) = STATE.with_borrow(|s| s.config.clone()) else {
        return;
    };
    let Some(session) = state::saved_session(&config.org_id) else {
        return;
    };
    let same = LIVE.with_borrow(|l| l.session.as_deref() == Some(&session) && l.socket.is_some());
    if !same {
        open(session);
    }
}

/// Closes the socket and forgets the session (on shutdown/reset).
pub fn stop() {
    LIVE.with_borrow_mut(|l| {
        l.session = None;
        if let Some(ws) = l.socket.take() {
            ws.set_onopen(None);
            ws.set_onmessage(None);
            ws.set_onclose(None);
            let _ = ws.close();
        }
        l.handlers = None;
    });
}

fn open(session: String) {
    stop();
    let Some(config) = STATE.with_borrow(|s| s.config.clone()) else {
        return;
    };
    let base = config
        .api_base
        .replacen("https://", "wss://", 1)
        .replacen("http://", "ws://", 1);
    let url = format!(
        "{base}/api/sdk/conversations/{}/live?key={}{}",
        js_sys::encode_uri_component(&session),
        js_sys::encode_uri_component(&config.widget_key),
        client::identity_query()
    );
    let Ok(ws) = web_sys::WebSocket::new(&url) else {
        return;
    };
    let onopen = Closure::<dyn FnMut()>::new(move || {
        LIVE.with_borrow_mut(|l| l.retry_ms = 0);
        wasm_bindgen_futures::spawn_local(catch_up());
    });
    let onmessage = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(|e: web_sys::MessageEvent| {
        if let Some(text) = e.data().as_string() {
            if let Ok(event) = JSON::parse(&text) {
                if prop_str(&event, "type").as_deref() == Some(Event::TYPING) {
                    typing(&event);
                } else {
                    show(&Reflect::get(&event, &"messages".into()).unwrap_or(JsValue::NULL));
                }
            }
        }
    });
    let for_session = session.clone();
    let onclose = Closure::<dyn FnMut()>::new(move || retry(for_session.clone()));
    ws.set_onopen(Some(onopen.as_ref().unchecked_ref()));
    ws.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    ws.set_onclose(Some(onclose.as_ref().unchecked_ref()));
    LIVE.with_borrow_mut(|l| {
        l.socket = Some(ws);
        l.handlers = Some((onopen, onmessage, onclose));
        l.session = Some(session);
    });
}

/// Schedules a reconnect after the socket for `session` closed.
fn retry(session: String) {
    let delay = LIVE.with_borrow_mut(|l| {
        if l.session.as_deref() != Some(&session) {
            return None; // reset or replaced meanwhile
        }
        l.socket = None;
        l.retry_ms = (l.retry_ms * 2).clamp(FIRST_RETRY_MS, LAST_RETRY_MS);
        Some(l.retry_ms)
    });
    let (Some(delay), Some(window)) = (delay, web_sys::window()) else {
        return;
    };
    let again = Closure::once_into_js(move || {
        if LIVE.with_borrow(|l| l.session.as_deref() == Some(&session) && l.socket.is_none()) {
            open(session);
        }
    });
    let _ =
        window.set_timeout_with_callback_and_timeout_and_arguments_0(again.unchecked_ref(), delay);
}

/// Catches up now (when the panel opens) if the socket is up; if it is down, its reconnect
/// will.
pub fn refresh() {
    if LIVE.with_borrow(|l| l.socket.is_some()) {
        wasm_bindgen_futures::spawn_local(catch_up());
    }
}

/// Reads the teammate and system lines written since the last one shown.
async fn catch_up() {
    let Some((org, session)) = STATE.with_borrow(|s| {
        let org = s.config.as_ref()?.org_id.clone();
        let session = state::saved_session(&org)?;
        Some((org, session))
    }) else {
        return;
    };
    // Read a minute back from the last line seen: lines written at about the same time (or
    // whose live event was lost) still come; the ones already shown are skipped by id.
    let after = state::saved_seen(&org).saturating_sub(OVERLAP_MS);
    let path = format!(
        "/api/sdk/conversations/{}/updates?after={after}{}",
        js_sys::encode_uri_component(&session),
        client::identity_query()
    );
    if let Ok(json) = client::request("GET", &path, None).await {
        show(&Reflect::get(&json, &"messages".into()).unwrap_or(JsValue::NULL));
    }
}

/// Shows teammate and system lines not shown yet. The widget already has the user's and the
/// AI's lines from its own requests.
fn show(messages: &JsValue) {
    let Some((org, ui, auto_open, manual)) = STATE.with_borrow(|s| {
        let c = s.config.as_ref()?;
        Some((
            c.org_id.clone(),
            s.ui?,
            s.ui?.look.with_untracked(|l| l.auto_open_unseen),
            c.manual_on_paths.clone(),
        ))
    }) else {
        return;
    };
    if !Array::is_array(messages) {
        return;
    }
    let mut fresh = false;
    let mut seen = state::saved_seen(&org);
    for m in Array::from(messages).iter() {
        let (Some(id), Some(role), Some(text)) = (
            prop_str(&m, "id"),
            prop_str(&m, "role").and_then(|r| Role::parse(&r)),
            prop_str(&m, "text"),
        ) else {
            continue;
        };
        if !matches!(role, Role::Teammate | Role::System) {
            continue;
        }
        let shown = ui.messages.with_untracked(|all| {
            all.iter()
                .any(|m| m.server_id.as_deref() == Some(id.as_str()))
        });
        let new = !shown
            && STATE.with_borrow_mut(|s| {
                let new = !s.live_ids.contains(&id);
                if new {
                    s.live_ids.push(id.clone());
                }
                new
            });
        if new {
            state::push(
                ui,
                Message {
                    server_id: Some(id),
                    ..Message::new(role, text)
                },
            );
            fresh |= role == Role::Teammate;
        }
        // Milliseconds fit a u64 exactly; integer formatting keeps float code out of the wasm.
        let at = Reflect::get(&m, &"created_at".into())
            .ok()
            .and_then(|v| v.as_f64())
            .map_or(0, |v| v as u64);
        seen = seen.max(at);
    }
    state::save_seen(&org, seen);
    if fresh && !ui.open.get_untracked() {
        let path = web_sys::window()
            .and_then(|w| w.location().pathname().ok())
            .unwrap_or_default();
        if auto_open && !manual.iter().any(|p| state::path_matches(p, &path)) {
            ui.open.set(true);
        } else {
            state::set_unread(ui, true);
        }
    }
}

/// An answer being generated: its text so far replaces the typing dots while the request is
/// still pending; the final response then takes its place (same server id).
fn typing(event: &JsValue) {
    let (Some(id), Some(text), Some(ui)) = (
        prop_str(event, "message_id"),
        prop_str(event, "text"),
        STATE.with_borrow(|s| s.ui),
    ) else {
        return;
    };
    if !ui.pending.get_untracked() || text.is_empty() {
        return; // not this tab's question, or already answered
    }
    let known = ui.messages.with_untracked(|all| {
        all.iter()
            .any(|m| m.server_id.as_deref() == Some(id.as_str()))
    });
    if known {
        ui.messages.update(|all| {
            if let Some(m) = all
                .iter_mut()
                .find(|m| m.server_id.as_deref() == Some(id.as_str()))
            {
                if text.len() > m.text.len() {
                    m.text = text;
                }
            }
        });
    } else {
        ui.messages.update(|all| {
            all.push(Message {
                server_id: Some(id),
                partial: true,
                ..Message::new(Role::Ai, text)
            })
        });
    }
}
