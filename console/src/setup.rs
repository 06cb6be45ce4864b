//! The setup wizard: company info, knowledge, the first agent, install, the team. Each step
//! can be skipped; progress is kept on the server, so the wizard resumes where it was left.
//! It opens by itself for an owner until it is finished or closed, and from the menu after.

use halo_shared::agents::AgentView;
use halo_shared::console::Role;
use halo_shared::settings::{Setup, WorkspaceSettings, SETUP_STEPS};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::{json, Value};

use crate::agents::{agent_fields, AgentForm};
use crate::api;
use crate::desk::Desk;
use crate::install::{InstallCheck, Snippet};
use crate::route::{Page, Place, Section};
use crate::workspace;

fn label(step: &str) -> &'static str {
    match step {
        "company" => "Your company",
        "knowledge" => "Knowledge",
        "agent" => "Your first agent",
        "install" => "Install the widget",
        _ => "Invite your team",
    }
}

/// Opens the wizard for an owner whose workspace is not set up yet, when the console opens
/// on its default page.
pub fn open_if_unfinished(desk: Desk) {
    let me = desk.session.me.get_untracked();
    if !me.is_some_and(|m| m.teammate.role == Role::Owner) {
        return;
    }
    spawn_local(async move {
        if let Ok(s) = api::get::<WorkspaceSettings>("/api/console/workspace").await {
            let at_start = desk.session.page.get_untracked() == Page::Inbox(Place::Live(None));
            if at_start && !s.setup.dismissed && s.setup.next_step().is_some() {
                desk.session
                    .go(Page::Inbox(Place::Settings(Section::Setup)));
            }
        }
    });
}

/// Marks `step` done or skipped (and, with `close`, closes the wizard).
async fn mark(
    desk: Desk,
    settings: RwSignal<Option<WorkspaceSettings>>,
    mut patch: Value,
    step: &str,
    state: &str,
) {
    patch["setup"] = json!({ "steps": { step: state } });
    workspace::save(desk, patch, settings).await;
}

fn company_step(
    desk: Desk,
    settings: RwSignal<Option<WorkspaceSettings>>,
    s: &WorkspaceSettings,
) -> impl IntoView {
    let name = RwSignal::new(s.name.clone());
    let origins = RwSignal::new(s.allowed_origins.clone().unwrap_or_default().join("\n"));
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let list = crate::text::lines_of(&origins.get_untracked());
        let origins = if list.is_empty() {
            Value::Null
        } else {
            json!(list)
        };
        let patch = json!({ "name": name.get_untracked(), "allowed_origins": origins });
        spawn_local(mark(desk, settings, patch, "company", "done"));
    };
    view! {
        <form class="stack" on:submit=save data-testid="setup-company">
            <label>"Company name"<input required data-testid="company-name" prop:value=move || name.get()
                on:input=move |ev| name.set(event_target_value(&ev))/></label>
            <label>"Where the widget may run: your app's origins, one per line (empty: anywhere)"
                <textarea rows="3" placeholder="https://app.example.com" data-testid="company-origins"
                    prop:value=move || origins.get() on:input=move |ev| origins.set(event_target_value(&ev))></textarea></label>
            <button type="submit" class="primary" data-testid="setup-next">"Save and continue"</button>
        </form>
    }
}

fn knowledge_step(desk: Desk, settings: RwSignal<Option<WorkspaceSettings>>) -> impl IntoView {
    let sources = RwSignal::new(Vec::new());
    spawn_local(crate::settings::load_sources(desk, sources));
    let next = move |_| spawn_local(mark(desk, settings, json!({}), "knowledge", "done"));
    view! {
        <p>"Give the AI what it should answer from: paste an article, upload files, or crawl your help site."</p>
        <p class="muted" data-testid="setup-sources">{move || format!("{} articles so far.", sources.get().len())}</p>
        {crate::settings::add_knowledge(desk, sources)}
        <p><button type="button" class="primary" data-testid="setup-next" on:click=next>"Continue"</button></p>
    }
}

fn agent_step(desk: Desk, settings: RwSignal<Option<WorkspaceSettings>>) -> impl IntoView {
    let agent = RwSignal::new(None::<AgentView>);
    spawn_local(async move {
        match api::get::<Value>("/api/sdk/agents").await {
            Ok(v) => {
                let all: Vec<AgentView> =
                    serde_json::from_value(v["agents"].clone()).unwrap_or_default();
                agent.set(all.into_iter().find(|a| a.active));
            }
            Err(e) => desk.failed(e),
        }
    });
    move || {
        agent.get().map(|a| {
            let f = AgentForm::of(Some(&a));
            let path = format!("/api/sdk/agents/{}", api::encode(&a.agent_id));
            let save = move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                let (path, body) = (path.clone(), f.body());
                spawn_local(async move {
                    match api::patch::<Value>(&path, &body).await {
                        Ok(_) => mark(desk, settings, json!({}), "agent", "done").await,
                        Err(e) => desk.failed(e),
                    }
                });
            };
            view! {
                <form class="stack" on:submit=save data-testid="setup-agent">
                    {agent_fields(f)}
                    <button type="submit" class="primary" data-testid="setup-next">"Save and continue"</button>
                </form>
            }
        })
    }
}

fn install_step(desk: Desk, settings: RwSignal<Option<WorkspaceSettings>>) -> impl IntoView {
    let next = move |_| spawn_local(mark(desk, settings, json!({}), "install", "done"));
    view! {
        <p>"Paste this before " <code>"</body>"</code> " on the pages of your app, open one and send a message: the check below turns green."</p>
        <Snippet settings/>
        <InstallCheck settings/>
        <p><button type="button" class="primary" data-testid="setup-next" on:click=next>"Continue"</button></p>
    }
}

fn team_step(desk: Desk, settings: RwSignal<Option<WorkspaceSettings>>) -> impl IntoView {
    let finish = move |_| {
        spawn_local(async move {
            let patch = json!({ "setup": { "steps": { "team": "done" }, "dismissed": true } });
            if workspace::save(desk, patch, settings).await {
                desk.session.go(Page::Inbox(Place::Live(None)));
            }
        })
    };
    view! {
        <crate::team::TeamPage/>
        <p><button type="button" class="primary" data-testid="setup-finish" on:click=finish>"Finish"</button></p>
    }
}

fn progress(setup: &Setup, shown: &str) -> impl IntoView {
    SETUP_STEPS
        .iter()
        .map(|step| {
            let state = setup.steps.get(*step).cloned().unwrap_or_default();
            view! {
                <li class=state.clone() class:here=*step == shown data-testid=format!("step-{step}") data-state=state>
                    {label(step)}
                </li>
            }
        })
        .collect_view()
}

#[component]
pub fn SetupPage() -> impl IntoView {
    let desk = use_context::<Desk>().expect("inside the inbox");
    let settings = RwSignal::new(None::<WorkspaceSettings>);
    spawn_local(workspace::load(desk, settings));
    // The step shown: the first one neither done nor skipped (the team step once all are).
    let step = Memo::new(move |_| {
        settings.with(|s| {
            s.as_ref()
                .map(|s| s.setup.next_step().unwrap_or("team").to_owned())
        })
    });
    let skip = move |_| {
        if let Some(s) = step.get_untracked() {
            spawn_local(async move { mark(desk, settings, json!({}), &s, "skipped").await });
        }
    };
    let close = move |_| {
        spawn_local(async move {
            if workspace::save(desk, json!({ "setup": { "dismissed": true } }), settings).await {
                desk.session.go(Page::Inbox(Place::Live(None)));
            }
        })
    };
    let body = move || {
        // The step first: it is what this view follows.
        let shown = step.get()?;
        let s = settings.get_untracked()?;
        Some(view! {
            <ol class="steps" data-testid="setup-progress">{progress(&s.setup, &shown)}</ol>
            <h4 data-testid="setup-step" data-step=shown.clone()>{label(&shown)}</h4>
            {match shown.as_str() {
                "company" => company_step(desk, settings, &s).into_any(),
                "knowledge" => knowledge_step(desk, settings).into_any(),
                "agent" => agent_step(desk, settings).into_any(),
                "install" => install_step(desk, settings).into_any(),
                _ => team_step(desk, settings).into_any(),
            }}
            {(shown != "team").then(|| view! {
                <button type="button" class="link" data-testid="setup-skip" on:click=skip>"Skip this step"</button>
            })}
        })
    };
    view! {
        <div class="pane contact-page" data-testid="setup">
            <div class="inline"><h3 class="grow">"Set up Halo"</h3>
                <button type="button" class="link" data-testid="setup-close" on:click=close>"Close"</button></div>
            {body}
        </div>
    }
}
