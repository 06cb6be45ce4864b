//! An open ticket: its thread (internal notes set apart from replies), one composer that
//! toggles Reply and Note, status (snooze until a chosen time), assignee, subject, metadata,
//! the contact beside it, and who else on the team has it open.

use halo_shared::inbox::{ThreadMessage, Ticket, TicketDetail};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::{json, Value};

use crate::api;
use crate::contact::Sidebar;
use crate::desk::{focus, Desk};
use crate::keys::{Cmd, Keys};
use crate::live;
use crate::text::{rich, when};
use crate::thread::{others_view, presence, typing_signal, Others};

/// Tomorrow at 9:00, the teammate's local time, in ms since the epoch.
fn tomorrow_nine() -> i64 {
    let d = js_sys::Date::new_0();
    d.set_date(d.get_date() + 1);
    d.set_hours(9);
    d.set_minutes(0);
    d.set_seconds(0);
    d.get_time() as i64
}

/// A `datetime-local` input's value as ms since the epoch (local time).
fn local_ms(value: &str) -> Option<i64> {
    let t = js_sys::Date::parse(value);
    (!t.is_nan()).then_some(t as i64)
}

const STATUSES: [(&str, &str); 5] = [
    ("open", "Open"),
    ("priority", "Priority"),
    ("in_progress", "In progress"),
    ("resolved", "Resolved"),
    ("spam", "Spam"),
];

#[component]
pub fn TicketPane(id: String) -> impl IntoView {
    let desk = use_context::<Desk>().expect("inside the inbox");
    let detail = RwSignal::new(None::<TicketDetail>);
    let others: Others = RwSignal::new(Vec::new());
    let base = format!("/api/inbox/tickets/{}", api::encode(&id));
    let reload = {
        let (base, id) = (base.clone(), id.clone());
        move || {
            let (base, id) = (base.clone(), id.clone());
            spawn_local(async move {
                match api::get::<TicketDetail>(&base).await {
                    Ok(d) => {
                        detail.set(Some(d));
                        let _ =
                            api::post::<Value>("/api/inbox/seen", &json!({ "ticket": id })).await;
                        desk.refresh();
                    }
                    Err(e) => desk.failed(e),
                }
            });
        }
    };
    reload();
    let room = {
        let reload = reload.clone();
        live::room(&format!("{base}/live"), move |e| match e["type"].as_str() {
            Some("presence") => presence(others, &e),
            Some("messages") | Some("reconnected") => reload(),
            _ => {}
        })
    };
    let update = {
        let (base, reload) = (base.clone(), reload.clone());
        move |body: Value| {
            let (base, reload) = (base.clone(), reload.clone());
            spawn_local(async move {
                match api::patch::<Value>(&base, &body).await {
                    Ok(_) => reload(),
                    Err(e) => desk.failed(e),
                }
            });
        }
    };
    let note_mode = RwSignal::new(false);
    let composer = RwSignal::new(String::new());
    let send = {
        let (base, reload) = (base.clone(), reload.clone());
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let text = composer.get_untracked();
            if text.trim().is_empty() {
                return;
            }
            let path = format!(
                "{base}/{}",
                if note_mode.get_untracked() {
                    "notes"
                } else {
                    "reply"
                }
            );
            let reload = reload.clone();
            composer.set(String::new());
            spawn_local(async move {
                match api::post::<Value>(&path, &json!({ "text": text })).await {
                    Ok(_) => reload(),
                    Err(e) => desk.failed(e),
                }
            });
        }
    };
    follow_keys(note_mode, update.clone());
    let typed = typing_signal(room);
    let head = {
        let update = update.clone();
        move || {
            detail
                .get()
                .map(|d| ticket_head(d.ticket, desk, update.clone()))
        }
    };
    let user_id = Memo::new(move |_| detail.get().and_then(|d| d.ticket.user_id));
    view! {
        <div class="pane" data-testid="ticket">
            <div class="pane-main">
                {head}
                {others_view(others)}
                <ol class="transcript" data-testid="thread">
                    {move || detail.get().map(|d| d.messages.into_iter().map(message_view).collect_view())}
                </ol>
                {ticket_composer(composer, note_mode, send, typed)}
            </div>
            {move || user_id.get().map(|u| view! { <Sidebar user_id=u/> })}
        </div>
    }
}

/// r reply, n note, e resolve, s snooze (tomorrow 9:00), a assign.
fn follow_keys(note_mode: RwSignal<bool>, update: impl Fn(Value) + 'static) {
    let keys = use_context::<Keys>().expect("the app listens to keys");
    let since = keys.mark();
    Effect::new(move |_| match keys.fresh(since) {
        Some(Cmd::Reply) => {
            note_mode.set(false);
            focus("[data-testid=composer]");
        }
        Some(Cmd::Note) => {
            note_mode.set(true);
            focus("[data-testid=composer]");
        }
        Some(Cmd::Resolve) => update(json!({ "status": "resolved" })),
        Some(Cmd::Snooze) => {
            update(json!({ "status": "snoozed", "snoozed_until": tomorrow_nine() }))
        }
        Some(Cmd::Assign) => focus("[data-testid=assignee]"),
        _ => {}
    });
}

/// One composer for a reply (the customer sees it) and a note (the team only).
fn ticket_composer(
    composer: RwSignal<String>,
    note_mode: RwSignal<bool>,
    send: impl Fn(leptos::ev::SubmitEvent) + 'static,
    typed: impl Fn() + Copy + 'static,
) -> impl IntoView {
    view! {
    <form class="composer" class:note=move || note_mode.get() on:submit=send>
        <div class="modes">
            <button type="button" data-testid="mode-reply" class:on=move || !note_mode.get() on:click=move |_| note_mode.set(false)>"Reply"</button>
            <button type="button" data-testid="mode-note" class:on=move || note_mode.get() on:click=move |_| note_mode.set(true)>"Note"</button>
        </div>
        <textarea data-testid="composer" rows="3"
            placeholder=move || if note_mode.get() { "An internal note: only the team sees it (n)" } else { "Reply to the customer (r)" }
            prop:value=move || composer.get()
            on:input=move |ev| { composer.set(event_target_value(&ev)); typed(); }></textarea>
        <button type="submit" class="primary" data-testid="send">"Send"</button>
    </form>
    }
}

/// The ticket's subject, status, assignee, snooze and metadata; `update` PATCHes the ticket.
fn ticket_head(
    t: Ticket,
    desk: Desk,
    update: impl Fn(Value) + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let snooze_at = RwSignal::new(String::new());
    let (u1, u2, u3, u4) = (
        update.clone(),
        update.clone(),
        update.clone(),
        update.clone(),
    );
    let status = t.status.clone();
    let assignee = t.assignee.clone().unwrap_or_default();
    view! {
        <header class="pane-head">
            <div class="grow">
                <input class="subject" data-testid="subject" prop:value=t.subject.clone()
                    on:change=move |ev| u1(json!({ "subject": event_target_value(&ev) }))/>
                <div class="tags">
                    <span class="tag">{t.channel.clone()}</span>
                    <span class="tag">{format!("from {}", t.source)}</span>
                    {t.ai_confidence.map(|c| view! { <span class="tag">{format!("AI confidence {:.0}%", c * 100.0)}</span> })}
                    {t.escalation_reason.clone().map(|r| view! { <span class="tag warn">{r.replace('_', " ")}</span> })}
                    {t.snoozed_until.map(|s| view! { <span class="tag">{format!("snoozed until {}", when(s))}</span> })}
                </div>
            </div>
            <div class="controls">
                <select data-testid="status" on:change=move |ev| u2(json!({ "status": event_target_value(&ev) }))>
                    {STATUSES.iter().map(|(v, label)| view! {
                        <option value=*v selected=status == *v>{*label}</option>
                    }).collect_view()}
                    {(t.status == "snoozed").then(|| view! { <option value="snoozed" selected>"Snoozed"</option> })}
                </select>
                <select data-testid="assignee" on:change=move |ev| {
                    let v = event_target_value(&ev);
                    u3(json!({ "assignee": if v.is_empty() { Value::Null } else { json!(v) } }))
                }>
                    <option value="" selected=assignee.is_empty()>"Unassigned"</option>
                    {move || desk.teammates.get().into_iter().map(|tm| {
                        let selected = tm.id == assignee;
                        view! { <option value=tm.id.clone() selected=selected>{tm.name.clone()}</option> }
                    }).collect_view()}
                </select>
                <span class="snooze">
                    <input type="datetime-local" data-testid="snooze-at"
                        on:input=move |ev| snooze_at.set(event_target_value(&ev))/>
                    <button data-testid="snooze" on:click=move |_| {
                        let until = local_ms(&snooze_at.get_untracked()).unwrap_or_else(tomorrow_nine);
                        u4(json!({ "status": "snoozed", "snoozed_until": until }))
                    }>"Snooze"</button>
                </span>
            </div>
        </header>
    }
}

fn message_view(m: ThreadMessage) -> impl IntoView {
    let class = format!("msg {} {}", m.author, m.kind);
    let label = match (m.kind.as_str(), m.author.as_str()) {
        ("note", _) => "Internal note",
        ("transcript", _) => "Conversation so far",
        (_, "customer") => "Customer",
        (_, "ai") => "AI",
        (_, "teammate") => "Teammate",
        _ => "",
    };
    view! {
        <li class=class data-kind=m.kind.clone()>
            <div class="who">{label}<span class="time">{when(m.created_at)}</span></div>
            <div class="body">{rich(&m.body)}</div>
        </li>
    }
}
