//! Live connections: the workspace's feed and one room per open conversation or ticket, as
//! WebSockets on the console's own origin (the browser sends the session cookie). A dropped
//! connection comes back by itself; the caller hears `reconnected` and reloads what it shows,
//! since the store, not the socket, is the record.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use leptos::prelude::*;
use serde_json::{json, Value};
use wasm_bindgen::prelude::*;
use web_sys::{MessageEvent, WebSocket};

/// A live connection that reconnects until [`Live::close`].
#[derive(Clone)]
pub struct Live {
    socket: Rc<RefCell<Option<WebSocket>>>,
    closed: Rc<Cell<bool>>,
}

fn url(path: &str) -> Option<String> {
    let loc = web_sys::window()?.location();
    let scheme = if loc.protocol().ok()? == "https:" {
        "wss"
    } else {
        "ws"
    };
    Some(format!("{scheme}://{}{path}", loc.host().ok()?))
}

impl Live {
    /// Connects to `path`; every event (a JSON object) goes to `on_event`.
    pub fn connect(path: &str, on_event: impl Fn(Value) + 'static) -> Live {
        let live = Live {
            socket: Rc::new(RefCell::new(None)),
            closed: Rc::new(Cell::new(false)),
        };
        open(live.clone(), path.to_owned(), Rc::new(on_event), 0);
        live
    }

    /// Sends a text frame, if connected.
    pub fn send(&self, text: &str) {
        if let Some(ws) = self.socket.borrow().as_ref() {
            if ws.ready_state() == WebSocket::OPEN {
                let _ = ws.send_with_str(text);
            }
        }
    }

    pub fn close(&self) {
        self.closed.set(true);
        if let Some(ws) = self.socket.borrow_mut().take() {
            let _ = ws.close();
        }
    }
}

fn open(live: Live, path: String, on_event: Rc<dyn Fn(Value)>, attempt: u32) {
    if live.closed.get() {
        return;
    }
    let Some(ws) = url(&path).and_then(|u| WebSocket::new(&u).ok()) else {
        return;
    };
    let handler = on_event.clone();
    let on_message = Closure::<dyn Fn(MessageEvent)>::new(move |e: MessageEvent| {
        if let Some(text) = e.data().as_string() {
            if let Ok(v) = serde_json::from_str::<Value>(&text) {
                handler(v);
            }
        }
    });
    ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    if attempt > 0 {
        let handler = on_event.clone();
        let on_open = Closure::<dyn Fn()>::new(move || handler(json!({ "type": "reconnected" })));
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        on_open.forget();
    }
    let again = live.clone();
    let on_close = Closure::<dyn Fn()>::new(move || {
        let (live, path, on_event) = (again.clone(), path.clone(), on_event.clone());
        let wait = (1000 * 2u32.saturating_pow(attempt.min(3))).min(10_000);
        let retry = Closure::once_into_js(move || open(live, path, on_event, attempt + 1));
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(
                retry.unchecked_ref(),
                wait as i32,
            );
        }
    });
    ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    on_close.forget();
    *live.socket.borrow_mut() = Some(ws);
}

/// A pane's live room: connected while the pane is shown, closed with it; what it says can be
/// sent from any handler, and does nothing once the pane is gone.
pub type Room = StoredValue<Option<send_wrapper::SendWrapper<Live>>>;

/// Connects the current pane to the room at `path` until the pane is closed.
pub fn room(path: &str, on_event: impl Fn(Value) + 'static) -> Room {
    let room: Room = StoredValue::new(Some(send_wrapper::SendWrapper::new(Live::connect(
        path, on_event,
    ))));
    on_cleanup(move || {
        room.try_with_value(|r| {
            if let Some(r) = r {
                r.close();
            }
        });
    });
    room
}

/// Tells the room what this teammate is doing (`typing`, `viewing`).
pub fn say(room: Room, state: &str) {
    room.try_with_value(|r| {
        if let Some(r) = r {
            r.send(&json!({ "type": "presence", "state": state }).to_string());
        }
    });
}
