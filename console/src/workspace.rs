//! The workspace's settings as the settings pages and the setup wizard read and change them
//! (`/api/console/workspace`), and the pieces they share: a saved notice, a copy box.

use halo_shared::settings::WorkspaceSettings;
use leptos::prelude::*;
use serde_json::Value;

use crate::api;
use crate::desk::Desk;

/// Whether the signed-in teammate may change settings (owners and admins).
pub fn manages(desk: Desk) -> bool {
    desk.session
        .me
        .get_untracked()
        .is_some_and(|m| m.teammate.role.manages_team())
}

/// Reads the settings into `into`.
pub async fn load(desk: Desk, into: RwSignal<Option<WorkspaceSettings>>) {
    match api::get::<WorkspaceSettings>("/api/console/workspace").await {
        Ok(s) => into.set(Some(s)),
        Err(e) => desk.failed(e),
    }
}

/// Sends a change; the answer (the settings after it) goes into `into`. `true` if it was
/// accepted; a refusal is shown, naming the field.
pub async fn save(desk: Desk, patch: Value, into: RwSignal<Option<WorkspaceSettings>>) -> bool {
    match api::patch::<WorkspaceSettings>("/api/console/workspace", &patch).await {
        Ok(s) => {
            into.set(Some(s));
            true
        }
        Err(e) => {
            desk.failed(e);
            false
        }
    }
}

/// A read-only box with `text` and a Copy button.
pub fn copy_box(text: String, testid: &'static str, rows: u32) -> impl IntoView {
    let copied = RwSignal::new(false);
    let value = text.clone();
    view! {
        <div class="copybox">
            <textarea readonly class="code" rows=rows data-testid=testid prop:value=text
                on:focus=move |ev| { use wasm_bindgen::JsCast;
                    if let Some(el) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlTextAreaElement>().ok()) { el.select(); } }></textarea>
            <button type="button" data-testid=format!("{testid}-copy")
                on:click=move |_| { api::copy(&value); copied.set(true); }>
                {move || if copied.get() { "Copied" } else { "Copy" }}
            </button>
        </div>
    }
}

/// The grace periods a rotation offers, in seconds, with their names.
pub const GRACE: [(u64, &str); 5] = [
    (0, "Stop the old one now"),
    (3600, "Keep the old one for an hour"),
    (86_400, "Keep the old one for a day"),
    (604_800, "Keep the old one for 7 days"),
    (2_592_000, "Keep the old one for 30 days"),
];
