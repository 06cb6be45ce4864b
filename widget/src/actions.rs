//! What the visitor does in the panel: ask, rate an answer, open the panel.

use js_sys::Reflect;
use leptos::prelude::*;

use crate::client;
use crate::state::{self, prop_str, push, Message, Role, Ui, STATE};

/// Sends `text` as the user: shows it, shows the typing state, then the reply or a notice.
/// If sending fails and the composer is empty, the text goes back into it: nothing typed is lost.
pub fn ask(ui: Ui, text: String) {
    if text.trim().is_empty() || ui.pending.get_untracked() {
        return;
    }
    push(ui, Message::new(Role::User, text.clone()));
    ui.pending.set(true);
    leptos::task::spawn_local(async move {
        match client::send(&text).await {
            Ok((reply, actions)) => {
                crate::live::ensure();
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
/// Closes the panel and gives focus back to the launcher (Esc, the close button).
pub fn close(ui: Ui) {
    ui.open.set(false);
    if let Some(b) = ui.launcher.get_untracked() {
        let _ = b.focus();
    }
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
    let body = client::session_body(&config);
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
        if client::post(&path, &body).await.is_ok() {
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
        if let Ok(json) = client::post("/api/sdk/sessions", &client::session_body(&config)).await {
            if let Some(session) = prop_str(&json, "session_id") {
                // A message sent meanwhile waits for this one; should one have been opened
                // anyway (the open failed and was retried), keep that one.
                if state::saved_session(&config.org_id).is_none() {
                    state::save_session(&config.org_id, &session);
                    crate::live::ensure();
                }
            }
        }
        STATE.with_borrow_mut(|s| s.opening = false);
    });
}
