//! Settings > Email: the workspace's inbound address (forward the support address there),
//! what the AI does with email (nothing, a suggested reply, or an answer sent when it is
//! confident), the senders and domains that are never spam, and the Mailgun signing key for
//! teams that receive mail through Mailgun.

use halo_shared::settings::{EmailAi, WorkspaceSettings};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::{json, Value};

use crate::desk::Desk;
use crate::workspace::{self, copy_box, manages};

const MODES: [(EmailAi, &str, &str); 3] = [
    (EmailAi::Off, "off", "Off: every email waits for the team"),
    (
        EmailAi::Draft,
        "draft",
        "Draft: the AI's suggested reply is an internal note",
    ),
    (
        EmailAi::Send,
        "send",
        "Send: a confident answer goes out and resolves the ticket; else a note",
    ),
];

fn form(
    desk: Desk,
    settings: RwSignal<Option<WorkspaceSettings>>,
    s: WorkspaceSettings,
) -> impl IntoView {
    let mode = RwSignal::new(s.email.ai);
    let trusted = RwSignal::new(s.email.trusted.join("\n"));
    let key = RwSignal::new(String::new());
    let has_key = s.email.mailgun_signing_key.is_some();
    let saved = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        saved.set(false);
        let list = crate::text::lines_of(&trusted.get_untracked());
        let mut email = json!({ "ai": mode.get_untracked(), "trusted": list });
        if !key.get_untracked().is_empty() {
            email["mailgun_signing_key"] = json!(key.get_untracked());
        }
        spawn_local(async move {
            if workspace::save(desk, json!({ "email": email }), settings).await {
                key.set(String::new());
                saved.set(true);
            }
        });
    };
    let origin = web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default();
    view! {
        <p>"Forward your support address to this one (an Email Routing rule, or your provider's forwarding): each email becomes a ticket, and replies thread back."</p>
        {copy_box(s.inbound_email.clone(), "inbound-email", 1)}
        <form class="stack" on:submit=submit data-testid="email-settings">
            <label>"The AI on email"
                <select data-testid="email-ai" on:change=move |ev| {
                    let v: Value = json!(event_target_value(&ev));
                    if let Ok(m) = serde_json::from_value(v) { mode.set(m) }
                }>
                    {MODES.iter().map(|(m, value, label)| view! { <option value=*value selected=*m == s.email.ai>{*label}</option> }).collect_view()}
                </select>
            </label>
            <label>"Trusted senders and domains, one per line (never spam)"
                <textarea rows="3" placeholder="partner.example" prop:value=move || trusted.get()
                    on:input=move |ev| trusted.set(event_target_value(&ev))></textarea>
            </label>
            <label>{format!("Mailgun webhook signing key (for a route that forwards to {origin}/api/email/inbound/mailgun)")}
                <input type="password" placeholder=if has_key { "set (unchanged)" } else { "not set" }
                    prop:value=move || key.get() on:input=move |ev| key.set(event_target_value(&ev))/>
            </label>
            {manages(desk).then(|| view! { <button type="submit" class="primary" data-testid="save-email">"Save"</button> })}
            {move || saved.get().then(|| view! { <span class="muted" data-testid="saved">"Saved."</span> })}
        </form>
    }
}

#[component]
pub fn EmailPage() -> impl IntoView {
    let desk = use_context::<Desk>().expect("inside the inbox");
    let settings = RwSignal::new(None::<WorkspaceSettings>);
    spawn_local(workspace::load(desk, settings));
    let loaded = Memo::new(move |_| settings.with(Option::is_some));
    view! {
        <div class="pane contact-page" data-testid="email">
            <h3>"Email"</h3>
            {move || loaded.get().then(|| settings.get_untracked().map(|s| form(desk, settings, s)))}
        </div>
    }
}
