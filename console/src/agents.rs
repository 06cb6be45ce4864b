//! Settings > Agents: the workspace's agents, created, edited (instructions, skills,
//! channels, escalation threshold and rules, the LLM), made active and archived. Owners and
//! admins change them; every teammate reads them.

use halo_shared::agents::{AgentView, CHANNELS, PROVIDERS, SKILLS};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::{json, Value};

use crate::api;
use crate::desk::Desk;
use crate::workspace::manages;

async fn reload(desk: Desk, agents: RwSignal<Vec<AgentView>>) {
    match api::get::<Value>("/api/sdk/agents").await {
        Ok(v) => agents.set(serde_json::from_value(v["agents"].clone()).unwrap_or_default()),
        Err(e) => desk.failed(e),
    }
}

/// The editable fields of an agent, as signals.
#[derive(Clone, Copy)]
pub struct AgentForm {
    name: RwSignal<String>,
    instructions: RwSignal<String>,
    skills: RwSignal<Vec<String>>,
    channels: RwSignal<Vec<String>>,
    threshold: RwSignal<String>,
    rules: RwSignal<String>,
    provider: RwSignal<String>,
    model: RwSignal<String>,
}

impl AgentForm {
    pub fn of(a: Option<&AgentView>) -> AgentForm {
        AgentForm {
            name: RwSignal::new(a.map(|a| a.name.clone()).unwrap_or_default()),
            instructions: RwSignal::new(a.map(|a| a.instructions.clone()).unwrap_or_default()),
            skills: RwSignal::new(a.map_or_else(
                || {
                    ["search_knowledge", "create_ticket", "escalate"]
                        .map(String::from)
                        .to_vec()
                },
                |a| a.skills.clone(),
            )),
            channels: RwSignal::new(a.map_or_else(
                || CHANNELS.iter().map(|c| c.to_string()).collect(),
                |a| a.channels.clone(),
            )),
            threshold: RwSignal::new(
                a.map_or("0.3".into(), |a| a.escalation_threshold.to_string()),
            ),
            rules: RwSignal::new(a.map(|a| a.rules.join("\n")).unwrap_or_default()),
            provider: RwSignal::new(a.map_or("default".into(), |a| a.llm.provider.clone())),
            model: RwSignal::new(a.and_then(|a| a.llm.model.clone()).unwrap_or_default()),
        }
    }

    /// The body the agents API takes (it checks every field again).
    pub fn body(&self) -> Value {
        let rules = crate::text::lines_of(&self.rules.get_untracked());
        let mut llm = json!({ "provider": self.provider.get_untracked() });
        if !self.model.get_untracked().trim().is_empty() {
            llm["model"] = json!(self.model.get_untracked().trim());
        }
        let mut body = json!({
            "name": self.name.get_untracked(),
            "skills": self.skills.get_untracked(),
            "channels": self.channels.get_untracked(),
            "rules": rules,
            "llm": llm,
        });
        if !self.instructions.get_untracked().trim().is_empty() {
            body["instructions"] = json!(self.instructions.get_untracked());
        }
        // A number the API can check; anything else goes as typed, for the API to refuse.
        body["escalation_threshold"] = match self.threshold.get_untracked().trim().parse::<f64>() {
            Ok(t) => json!(t),
            Err(_) => json!(self.threshold.get_untracked()),
        };
        body
    }
}

fn checkboxes(
    all: &'static [&'static str],
    chosen: RwSignal<Vec<String>>,
    prefix: &'static str,
) -> impl IntoView {
    all.iter()
        .map(|item| {
            let item = *item;
            let on = move || chosen.with(|c| c.iter().any(|s| s == item));
            view! {
                <label class="check-line">
                    <input type="checkbox" data-testid=format!("{prefix}-{item}") prop:checked=on
                        on:change=move |ev| {
                            let checked = event_target_checked(&ev);
                            chosen.update(|c| {
                                c.retain(|s| s != item);
                                if checked { c.push(item.to_owned()); }
                            });
                        }/>
                    " " {item}
                </label>
            }
        })
        .collect_view()
}

/// The agent's fields as a form (the wizard's first-agent step shows the same form).
pub fn agent_fields(f: AgentForm) -> impl IntoView {
    view! {
        <label>"Name"<input required data-testid="agent-name" prop:value=move || f.name.get()
            on:input=move |ev| f.name.set(event_target_value(&ev))/></label>
        <label>"Instructions (how it answers; empty: the default)"
            <textarea rows="5" data-testid="agent-instructions" prop:value=move || f.instructions.get()
                on:input=move |ev| f.instructions.set(event_target_value(&ev))></textarea></label>
        <fieldset><legend>"Skills"</legend>{checkboxes(SKILLS, f.skills, "skill")}</fieldset>
        <fieldset><legend>"Channels"</legend>{checkboxes(CHANNELS, f.channels, "channel")}</fieldset>
        <label>"Escalation threshold (0 to 1: below this confidence it hands over to the team)"
            <input data-testid="agent-threshold" inputmode="decimal" prop:value=move || f.threshold.get()
                on:input=move |ev| f.threshold.set(event_target_value(&ev))/></label>
        <label>"Escalation rules (one per line)"
            <textarea rows="3" data-testid="agent-rules" prop:value=move || f.rules.get()
                on:input=move |ev| f.rules.set(event_target_value(&ev))></textarea></label>
        <label>"LLM"
            <span class="inline">
                <select on:change=move |ev| f.provider.set(event_target_value(&ev)) data-testid="agent-provider">
                    {PROVIDERS.iter().map(|p| view! { <option value=*p selected=move || f.provider.get() == *p>{*p}</option> }).collect_view()}
                </select>
                <input placeholder="model (optional)" prop:value=move || f.model.get()
                    on:input=move |ev| f.model.set(event_target_value(&ev))/>
            </span>
        </label>
    }
}

fn editor(
    desk: Desk,
    agents: RwSignal<Vec<AgentView>>,
    editing: RwSignal<Option<String>>,
    agent: Option<AgentView>,
) -> impl IntoView {
    let f = AgentForm::of(agent.as_ref());
    let id = agent.as_ref().map(|a| a.agent_id.clone());
    let active = agent.as_ref().is_some_and(|a| a.active);
    let can_change = manages(desk);
    let send = move |method: &'static str, path: String, body: Option<Value>| {
        spawn_local(async move {
            match api::call::<Value>(method, &path, body.as_ref()).await {
                Ok(_) => {
                    editing.set(None);
                    reload(desk, agents).await;
                }
                Err(e) => desk.failed(e),
            }
        });
    };
    let path = move |id: &str| format!("/api/sdk/agents/{}", api::encode(id));
    let save = {
        let id = id.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            match &id {
                Some(id) => send("PATCH", path(id), Some(f.body())),
                None => send("POST", "/api/sdk/agents".into(), Some(f.body())),
            }
        }
    };
    let (activate_id, archive_id, try_id) = (id.clone(), id.clone(), id.clone());
    view! {
        <form class="stack" on:submit=save data-testid="agent-form">
            {agent_fields(f)}
            {can_change.then(|| view! {
                <div class="inline">
                    <button type="submit" class="primary" data-testid="save-agent">"Save"</button>
                    {activate_id.filter(|_| !active).map(|id| view! {
                        <button type="button" on:click=move |_| send("PATCH", path(&id), Some(json!({ "active": true })))>"Make active"</button>
                    })}
                    {archive_id.filter(|_| !active).map(|id| view! {
                        <button type="button" class="link" on:click=move |_| send("DELETE", path(&id), None)>"Archive"</button>
                    })}
                    <button type="button" class="link" on:click=move |_| editing.set(None)>"Cancel"</button>
                </div>
            })}
        </form>
        {try_id.map(|id| playground(desk, id))}
    }
}

/// The playground: chat with the agent as a chosen contact (or an anonymous visitor) and see
/// each answer with what the AI saw.
fn playground(desk: Desk, agent_id: String) -> impl IntoView {
    let contact = RwSignal::new(String::new());
    let message = RwSignal::new(String::new());
    let session = RwSignal::new(None::<String>);
    let lines = RwSignal::new(Vec::<(String, String, String)>::new());
    let path = format!("/api/sdk/agents/{}/playground", api::encode(&agent_id));
    let send = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = message.get_untracked();
        let mut body = json!({ "message": text });
        if !contact.get_untracked().trim().is_empty() {
            body["user_id"] = json!(contact.get_untracked().trim());
        }
        if let Some(s) = session.get_untracked() {
            body["session_id"] = json!(s);
        }
        let path = path.clone();
        spawn_local(async move {
            match api::post::<Value>(&path, &body).await {
                Ok(v) => {
                    message.set(String::new());
                    session.set(v["reply"]["session_id"].as_str().map(str::to_owned));
                    let answer = v["reply"]["text"].as_str().unwrap_or_default().to_owned();
                    let trace = serde_json::to_string_pretty(&v["trace"]).unwrap_or_default();
                    lines.update(|l| l.push((text, answer, trace)));
                }
                Err(e) => desk.failed(e),
            }
        });
    };
    view! {
        <h4>"Playground"</h4>
        <p class="muted">"A real conversation of the contact you pick (the team sees it in the inbox); no identity token is needed."</p>
        <ol class="passages" data-testid="playground-lines">
            {move || lines.get().into_iter().map(|(q, a, trace)| view! {
                <li><b>{q}</b><div class="snippet" data-testid="playground-answer">{a}</div>
                    <details data-testid="playground-trace"><summary>"What the AI saw"</summary><pre>{trace}</pre></details></li>
            }).collect_view()}
        </ol>
        <form class="invite" on:submit=send data-testid="playground">
            <input placeholder="as contact (user id; empty: a visitor)" data-testid="playground-contact"
                prop:value=move || contact.get() on:input=move |ev| { contact.set(event_target_value(&ev)); session.set(None); }/>
            <input required placeholder="a customer's message" data-testid="playground-message"
                prop:value=move || message.get() on:input=move |ev| message.set(event_target_value(&ev))/>
            <button type="submit">"Send"</button>
        </form>
    }
}

#[component]
pub fn AgentsPage() -> impl IntoView {
    let desk = use_context::<Desk>().expect("inside the inbox");
    let agents = RwSignal::new(Vec::<AgentView>::new());
    spawn_local(reload(desk, agents));
    // The agent being edited: its id, "new", or none.
    let editing = RwSignal::new(None::<String>);
    let rows = move || {
        agents
            .get()
            .into_iter()
            .map(|a| {
                let id = a.agent_id.clone();
                view! {
                    <tr data-testid="agent-row">
                        <td><button class="link" on:click=move |_| editing.set(Some(id.clone()))>{a.name.clone()}</button></td>
                        <td>{if a.active { "active" } else { "" }}</td>
                        <td>{a.channels.join(", ")}</td>
                        <td>{format!("escalates below {:.2}", a.escalation_threshold)}</td>
                    </tr>
                }
            })
            .collect_view()
    };
    let form = move || {
        editing.get().map(|which| {
            let agent =
                agents.with_untracked(|all| all.iter().find(|a| a.agent_id == which).cloned());
            editor(desk, agents, editing, agent)
        })
    };
    let settings = RwSignal::new(None::<halo_shared::settings::WorkspaceSettings>);
    spawn_local(crate::workspace::load(desk, settings));
    let usage = move || {
        settings.get().map(|s| {
            format!(
                "Model use today: {} of {} requests, {} of {} tokens; at most {} model-answered turns a conversation. Past a budget, the offline engine answers.",
                s.usage.requests, s.limits.llm_requests_per_day, s.usage.tokens, s.limits.llm_tokens_per_day,
                s.limits.ai_turns_per_conversation
            )
        })
    };
    view! {
        <div class="pane contact-page" data-testid="agents">
            <h3>"Agents"</h3>
            <p class="muted" data-testid="usage">{usage}</p>
            <p class="muted">"The active agent answers the widget; an agent that serves a channel answers it first."</p>
            <table class="team"><tbody>{rows}</tbody></table>
            {manages(desk).then(|| view! {
                <button type="button" data-testid="new-agent" on:click=move |_| editing.set(Some("new".into()))>"New agent"</button>
            })}
            {form}
        </div>
    }
}
