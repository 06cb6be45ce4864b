//! Settings pages: Knowledge (the sources with their chunk counts; add, replace by URL,
//! delete; a search tester that shows exactly the passages the engine would be given) and Data
//! (every trait and context key the app has sent, with a sample, when it was last seen, and
//! the description the AI receives). Every teammate reads them; owners and admins change them.

use halo_shared::settings::{Attribute, KnowledgeHit, Source};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::{json, Value};

use crate::api;
use crate::desk::Desk;
use crate::text::when;

fn manages(desk: Desk) -> bool {
    desk.session
        .me
        .get_untracked()
        .is_some_and(|m| m.teammate.role.manages_team())
}

async fn load_sources(desk: Desk, out: RwSignal<Vec<Source>>) {
    match api::get::<Value>("/api/sdk/knowledge/sources").await {
        Ok(v) => out.set(serde_json::from_value(v["sources"].clone()).unwrap_or_default()),
        Err(e) => desk.failed(e),
    }
}

/// Adding a source: a title, an optional URL (a source with the URL of an existing one
/// replaces it), and its text (markdown).
fn add_source_form(desk: Desk, sources: RwSignal<Vec<Source>>) -> impl IntoView {
    let (title, url, content) = (
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
    );
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut body = json!({ "title": title.get_untracked(), "content": content.get_untracked(), "kind": "markdown" });
        if !url.get_untracked().trim().is_empty() {
            body["url"] = json!(url.get_untracked().trim());
        }
        spawn_local(async move {
            match api::post::<Value>("/api/sdk/knowledge/sources", &body).await {
                Ok(_) => {
                    title.set(String::new());
                    url.set(String::new());
                    content.set(String::new());
                    load_sources(desk, sources).await;
                }
                Err(e) => desk.failed(e),
            }
        });
    };
    view! {
        <h4>"Add an article"</h4>
        <form class="stack" on:submit=add data-testid="add-source">
            <input required placeholder="Title" prop:value=move || title.get()
                on:input=move |ev| title.set(event_target_value(&ev))/>
            <input placeholder="URL (optional; the same URL replaces an article)" prop:value=move || url.get()
                on:input=move |ev| url.set(event_target_value(&ev))/>
            <textarea required rows="6" placeholder="The article, in markdown" prop:value=move || content.get()
                on:input=move |ev| content.set(event_target_value(&ev))></textarea>
            <button type="submit" class="primary">"Add"</button>
        </form>
    }
}

/// The search tester: the passages a question finds, as the engine gets them.
fn search_tester(desk: Desk) -> impl IntoView {
    let q = RwSignal::new(String::new());
    let hits = RwSignal::new(None::<Vec<KnowledgeHit>>);
    let run = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let path = format!(
            "/api/sdk/knowledge/search?q={}",
            api::encode(&q.get_untracked())
        );
        spawn_local(async move {
            match api::get::<Value>(&path).await {
                Ok(v) => hits.set(serde_json::from_value(v["results"].clone()).ok()),
                Err(e) => desk.failed(e),
            }
        });
    };
    view! {
        <h4>"Search tester"</h4>
        <form class="invite" on:submit=run>
            <input required placeholder="A customer's question" data-testid="tester-q"
                prop:value=move || q.get() on:input=move |ev| q.set(event_target_value(&ev))/>
            <button type="submit">"Search"</button>
        </form>
        <ol class="passages" data-testid="tester-hits">
            {move || hits.get().map(|list| {
                if list.is_empty() {
                    return view! { <li class="muted">"No passage: the AI would offer a person."</li> }.into_any();
                }
                list.into_iter().map(|h| {
                    let score = h.relevance.or(h.similarity).map(|s| format!(" · {s:.2}")).unwrap_or_default();
                    view! {
                        <li><b>{h.title.clone()}</b> <small>{h.heading.clone().unwrap_or_default()}{score}</small>
                            <div class="snippet">{h.text.chars().take(400).collect::<String>()}</div></li>
                    }
                }).collect_view().into_any()
            })}
        </ol>
    }
}

#[component]
pub fn KnowledgePage() -> impl IntoView {
    let desk = use_context::<Desk>().expect("inside the inbox");
    let sources = RwSignal::new(Vec::<Source>::new());
    spawn_local(load_sources(desk, sources));
    let can_change = manages(desk);
    let delete = move |id: String| {
        spawn_local(async move {
            let path = format!("/api/sdk/knowledge/sources/{}", api::encode(&id));
            if let Err(e) = api::call::<Value>("DELETE", &path, None).await {
                desk.failed(e);
            }
            load_sources(desk, sources).await;
        });
    };
    let rows = move || {
        sources
            .get()
            .into_iter()
            .map(|s| {
                let id = s.id.clone();
                view! {
                    <tr>
                        <td>{s.title.clone()}</td>
                        <td>{s.url.clone().unwrap_or_default()}</td>
                        <td>{format!("{} chunks", s.chunks)}</td>
                        <td>{when(s.updated_at)}</td>
                        <td>{can_change.then(|| view! {
                            <button class="link" on:click=move |_| delete(id.clone())>"Delete"</button>
                        })}</td>
                    </tr>
                }
            })
            .collect_view()
    };
    view! {
        <div class="pane contact-page" data-testid="knowledge">
            <h3>"Knowledge"</h3>
            <table class="team" data-testid="sources"><tbody>{rows}</tbody></table>
            {move || sources.get().is_empty().then(|| view! { <p class="muted">"No articles yet."</p> })}
            {can_change.then(|| add_source_form(desk, sources))}
            {search_tester(desk)}
        </div>
    }
}

fn describe(desk: Desk, a: &Attribute, text: String) {
    let body = json!({ "scope": a.scope, "key": a.key,
                       "description": if text.trim().is_empty() { Value::Null } else { json!(text.trim()) } });
    spawn_local(async move {
        if let Err(e) = api::patch::<Value>("/api/sdk/attributes", &body).await {
            desk.failed(e);
        }
    });
}

#[component]
pub fn DataPage() -> impl IntoView {
    let desk = use_context::<Desk>().expect("inside the inbox");
    let attributes = RwSignal::new(Vec::<Attribute>::new());
    let scope = RwSignal::new("user".to_owned());
    spawn_local(async move {
        match api::get::<Value>("/api/sdk/attributes").await {
            Ok(v) => {
                attributes.set(serde_json::from_value(v["attributes"].clone()).unwrap_or_default())
            }
            Err(e) => desk.failed(e),
        }
    });
    let can_change = manages(desk);
    let tab = move |value: &'static str, label: &'static str| {
        view! {
            <button type="button" class:on=move || scope.get() == value on:click=move |_| scope.set(value.into())>{label}</button>
        }
    };
    let rows = move || {
        let shown = scope.get();
        attributes
            .get()
            .into_iter()
            .filter(|a| a.scope == shown)
            .map(|a| {
                let described = a.clone();
                view! {
                    <tr>
                        <td><code>{a.key.clone()}</code></td>
                        <td>{a.kind.clone()}</td>
                        <td>{a.sample.clone().unwrap_or_default()}</td>
                        <td>{when(a.last_seen_at)}</td>
                        <td><input placeholder="What it means, for the AI" disabled=!can_change
                            data-testid=format!("describe-{}", a.key)
                            prop:value=a.description.clone().unwrap_or_default()
                            on:change=move |ev| describe(desk, &described, event_target_value(&ev))/></td>
                    </tr>
                }
            })
            .collect_view()
    };
    view! {
        <div class="pane contact-page" data-testid="data">
            <h3>"Data"</h3>
            <p class="muted">"Every trait and context key your app has sent. A description goes to the AI with the field."</p>
            <div class="modes">{tab("user", "User traits")}{tab("company", "Company traits")}{tab("context", "Context")}</div>
            <table class="team"><tbody>{rows}</tbody></table>
        </div>
    }
}
