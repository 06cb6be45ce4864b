//! An open conversation: the transcript as it happens (customer, AI, teammate and system
//! lines, the AI's typing), each AI answer's confidence, rating and what it saw; take over and
//! hand back, reply, whisper, trainer feedback; and who else on the team has it open.

use halo_shared::inbox::{ConversationDetail, ConversationSummary, TranscriptLine};
use halo_shared::live::Presence;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::{json, Value};

use crate::api;
use crate::contact::Sidebar;
use crate::desk::Desk;
use crate::keys::{Cmd, Keys};
use crate::live::{self, Room};
use crate::text::{rich, when};

/// Teammates in the same room: `(id, name, typing)`.
pub type Others = RwSignal<Vec<(String, String, bool)>>;

/// Applies a presence event to the list of other teammates.
pub fn presence(others: Others, e: &Value) {
    let (Some(id), Some(name)) = (e["teammate_id"].as_str(), e["name"].as_str()) else {
        return;
    };
    let state: Option<Presence> = serde_json::from_value(e["state"].clone()).ok();
    others.update(|list| {
        list.retain(|(i, _, _)| i != id);
        match state {
            Some(Presence::Left) | None => {}
            Some(s) => list.push((id.to_owned(), name.to_owned(), s == Presence::Typing)),
        }
    });
}

/// Who else has it open, and who is typing.
pub fn others_view(others: Others) -> impl IntoView {
    move || {
        let list = others.get();
        (!list.is_empty()).then(|| {
            let text = list
                .iter()
                .map(|(_, name, typing)| {
                    if *typing {
                        format!("{name} is replying…")
                    } else {
                        format!("{name} is viewing")
                    }
                })
                .collect::<Vec<_>>()
                .join(" · ");
            view! { <div class="others" data-testid="others">{text}</div> }
        })
    }
}

/// Tells the room this teammate is typing (at most every 3 s), then viewing again.
pub fn typing_signal(room: Room) -> impl Fn() + Copy {
    let last = StoredValue::new(0f64);
    move || {
        let now = js_sys::Date::now();
        // A timer can outlive the pane: `try_` reads do nothing then.
        if now - last.try_get_value().unwrap_or(0.0) < 3000.0 {
            return;
        }
        last.try_set_value(now);
        live::say(room, "typing");
        set_timeout(
            move || live::say(room, "viewing"),
            std::time::Duration::from_millis(4000),
        );
    }
}

fn line_from_event(m: &Value) -> Option<TranscriptLine> {
    Some(TranscriptLine {
        id: m["id"].as_str()?.to_owned(),
        role: m["role"].as_str()?.to_owned(),
        text: m["text"].as_str()?.to_owned(),
        confidence: None,
        sentiment: None,
        mood: None,
        rating: None,
        feedback: Value::Null,
        engine: None,
        citations: Value::Null,
        actions: Value::Null,
        error: None,
        trace: Value::Null,
        created_at: m["created_at"].as_i64().unwrap_or(0),
    })
}

/// Reads the conversation (into `detail`) and marks it seen.
fn loader(
    base: String,
    session_id: String,
    detail: RwSignal<Option<ConversationDetail>>,
    desk: Desk,
) -> impl Fn() + Clone + Send + Sync + 'static {
    move || {
        let (base, sid) = (base.clone(), session_id.clone());
        spawn_local(async move {
            match api::get::<Value>(&base).await {
                Ok(v) => {
                    detail.set(serde_json::from_value(v["conversation"].clone()).ok());
                    let seen = json!({ "conversation": sid });
                    let _ = api::post::<Value>("/api/inbox/seen", &seen).await;
                    desk.refresh();
                }
                Err(e) => desk.failed(e),
            }
        });
    }
}

/// What the conversation's room says: lines (a teammate's or the system's are added; a
/// customer's or the AI's are read again, since the store has more of them), the AI's typing,
/// teammates' presence, a reconnection (read it all again).
fn room_event(
    e: &Value,
    detail: RwSignal<Option<ConversationDetail>>,
    typing: RwSignal<Option<String>>,
    others: Others,
    reload: &dyn Fn(),
) {
    match e["type"].as_str() {
        Some("messages") => {
            typing.set(None);
            let lines: Vec<TranscriptLine> = e["messages"]
                .as_array()
                .map(|l| l.iter().filter_map(line_from_event).collect())
                .unwrap_or_default();
            if lines.iter().any(|l| l.role == "ai" || l.role == "user") {
                reload();
                return;
            }
            detail.update(|d| {
                if let Some(d) = d {
                    for l in lines {
                        if !d.messages.iter().any(|m| m.id == l.id) {
                            d.messages.push(l);
                        }
                    }
                }
            });
        }
        Some("typing") => typing.set(e["text"].as_str().map(str::to_owned)),
        Some("presence") => presence(others, e),
        Some("reconnected") => reload(),
        _ => {}
    }
}

#[component]
pub fn Conversation(session_id: String) -> impl IntoView {
    let desk = use_context::<Desk>().expect("inside the inbox");
    let detail = RwSignal::new(None::<ConversationDetail>);
    let typing = RwSignal::new(None::<String>);
    let others: Others = RwSignal::new(Vec::new());
    let base = format!("/api/inbox/conversations/{}", api::encode(&session_id));
    let reload = loader(base.clone(), session_id.clone(), detail, desk);
    reload();
    let room = {
        let reload = reload.clone();
        live::room(&format!("{base}/live"), move |e| {
            room_event(&e, detail, typing, others, &reload)
        })
    };
    let mine = desk
        .session
        .me
        .get_untracked()
        .map(|m| m.teammate.id)
        .unwrap_or_default();
    let act = {
        let base = base.clone();
        let reload = reload.clone();
        move |action: &'static str, body: Value| {
            let (path, reload) = (format!("{base}/{action}"), reload.clone());
            spawn_local(async move {
                match api::post::<Value>(&path, &body).await {
                    Ok(_) => reload(),
                    Err(e) => desk.failed(e),
                }
            });
        }
    };
    let composer = RwSignal::new(String::new());
    let whisper_mode = RwSignal::new(false);
    let persist = RwSignal::new(false);
    let send = {
        let act = act.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let text = composer.get_untracked();
            if text.trim().is_empty() {
                return;
            }
            if whisper_mode.get_untracked() {
                act(
                    "whisper",
                    json!({ "text": text, "persist": persist.get_untracked() }),
                );
            } else {
                act("reply", json!({ "text": text }));
            }
            composer.set(String::new());
        }
    };
    let keys = use_context::<Keys>().expect("the app listens to keys");
    let since = keys.mark();
    Effect::new(move |_| {
        if matches!(keys.fresh(since), Some(Cmd::Reply)) {
            whisper_mode.set(false);
            crate::desk::focus("[data-testid=composer]");
        }
    });
    let typed = typing_signal(room);
    let header = {
        let act = act.clone();
        move || {
            detail
                .get()
                .map(|d| conversation_head(d.summary, &mine, desk, act.clone()))
        }
    };
    let user_id = Memo::new(move |_| detail.get().and_then(|d| d.summary.user_id));
    view! {
        <div class="pane" data-testid="conversation">
            <div class="pane-main">
                {header}
                {others_view(others)}
                <ol class="transcript" data-testid="transcript">
                    {move || detail.get().map(|d| d.messages.into_iter().map(line_view).collect_view())}
                    {move || typing.get().map(|t| view! { <li class="msg ai typing" data-testid="ai-typing">{t} "…"</li> })}
                </ol>
                {reply_form(composer, whisper_mode, persist, send, typed)}
            </div>
            {move || user_id.get().map(|u| view! { <Sidebar user_id=u/> })}
        </div>
    }
}

/// The composer: a reply to the customer, or (toggled) a whisper to the AI, once or for
/// every reply to this customer.
fn reply_form(
    composer: RwSignal<String>,
    whisper_mode: RwSignal<bool>,
    persist: RwSignal<bool>,
    send: impl Fn(leptos::ev::SubmitEvent) + 'static,
    typed: impl Fn() + Copy + 'static,
) -> impl IntoView {
    view! {
    <form class="composer" class:whisper=move || whisper_mode.get() on:submit=send>
        <div class="modes">
            <button type="button" class:on=move || !whisper_mode.get() on:click=move |_| whisper_mode.set(false)>"Reply"</button>
            <button type="button" class:on=move || whisper_mode.get() on:click=move |_| whisper_mode.set(true)>"Whisper to the AI"</button>
            {move || whisper_mode.get().then(|| view! {
                <label class="check"><input type="checkbox" prop:checked=move || persist.get()
                    on:change=move |ev| persist.set(event_target_checked(&ev))/>"Every reply to this customer"</label>
            })}
        </div>
        <textarea data-testid="composer" rows="3"
            placeholder=move || if whisper_mode.get() { "Only the AI sees a whisper" } else { "Reply to the customer (r)" }
            prop:value=move || composer.get()
            on:input=move |ev| { composer.set(event_target_value(&ev)); typed(); }></textarea>
        <button type="submit" class="primary" data-testid="send">"Send"</button>
    </form>
    }
}

/// Who the customer is, the conversation's tags, and take over or hand back; `act` POSTs an
/// action of the conversation.
fn conversation_head(
    s: ConversationSummary,
    mine: &str,
    desk: Desk,
    act: impl Fn(&'static str, Value) + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let button = match s.taken_over_by.clone() {
        Some(id) if id == mine => view! {
            <button data-testid="handback" on:click=move |_| act("handback", json!({}))>"Hand back to the AI"</button>
        }
        .into_any(),
        Some(id) => view! { <span class="tag">{format!("Taken over by {}", desk.teammate_name(&id))}</span> }
            .into_any(),
        None => view! {
            <button class="primary" data-testid="takeover" on:click=move |_| act("takeover", json!({}))>"Take over"</button>
        }
        .into_any(),
    };
    let mood = s.mood.clone().map(|m| {
        let class = format!("tag mood-{m}");
        view! { <span class=class>{m}</span> }
    });
    view! {
        <header class="pane-head">
            <div>
                <h2>{s.user_id.clone().unwrap_or_else(|| "Visitor".into())}</h2>
                <div class="tags">
                    <span class="tag">{s.channel.clone()}</span>
                    {mood}
                    <span class="tag">{format!("AI score {}", s.ai_score)}</span>
                    {s.outcome.clone().map(|o| view! { <span class="tag">{o}</span> })}
                </div>
            </div>
            {button}
        </header>
    }
}

fn line_view(m: TranscriptLine) -> impl IntoView {
    let role = m.role.clone();
    let ai = role == "ai";
    let meta = ai.then(|| {
        let confidence = m
            .confidence
            .map(|c| format!("confidence {:.0}%", c * 100.0));
        let rating = m.rating.clone().map(|r| format!("rated {r}"));
        let trace = (!m.trace.is_null())
            .then(|| serde_json::to_string_pretty(&m.trace).unwrap_or_default());
        let id = m.id.clone();
        view! {
            <div class="meta">
                {[confidence, rating, m.engine.clone()].into_iter().flatten().collect::<Vec<_>>().join(" · ")}
                {trace.map(|t| view! {
                    <details data-testid="ai-saw"><summary>"What the AI saw"</summary><pre>{t}</pre></details>
                })}
                <Feedback message_id=id/>
            </div>
        }
    });
    view! {
        <li class=format!("msg {role}") data-role=role.clone()>
            <div class="who">{match role.as_str() { "user" => "Customer", "ai" => "AI", "teammate" => "Teammate", _ => "" }}
                <span class="time">{when(m.created_at)}</span></div>
            <div class="body">{rich(&m.text)}</div>
            {meta}
        </li>
    }
}

/// Trainer feedback or a correction on an AI answer.
#[component]
fn Feedback(message_id: String) -> impl IntoView {
    let desk = use_context::<Desk>().expect("inside the inbox");
    let open = RwSignal::new(false);
    let kind = RwSignal::new("feedback".to_owned());
    let text = RwSignal::new(String::new());
    let done = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let path = format!("/api/inbox/messages/{}/feedback", api::encode(&message_id));
        let body = json!({ "kind": kind.get_untracked(), "text": text.get_untracked() });
        spawn_local(async move {
            match api::post::<Value>(&path, &body).await {
                Ok(_) => {
                    done.set(true);
                    open.set(false);
                }
                Err(e) => desk.failed(e),
            }
        });
    };
    view! {
        {move || done.get().then(|| view! { <span class="muted">" · feedback saved"</span> })}
        <button class="link" on:click=move |_| open.update(|o| *o = !*o)>"Feedback"</button>
        {move || open.get().then(|| view! {
            <form class="feedback" on:submit=submit.clone()>
                <select on:change=move |ev| kind.set(event_target_value(&ev))>
                    <option value="feedback">"Feedback"</option>
                    <option value="correction">"Correction: what it should have said"</option>
                </select>
                <textarea rows="2" required on:input=move |ev| text.set(event_target_value(&ev))></textarea>
                <button type="submit">"Save"</button>
            </form>
        })}
    }
}
