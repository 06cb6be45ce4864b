//! Settings pages: Knowledge (the sources with their chunk counts; paste, upload or crawl,
//! replace by URL, delete; a search tester that shows exactly the passages the engine would
//! be given) and Data
//! (every trait and context key the app has sent, with a sample, when it was last seen, and
//! the description the AI receives). Every teammate reads them; owners and admins change them.

use halo_shared::crawl::CrawlProgress;
use halo_shared::settings::{AccountFact, Attribute, KnowledgeHit, Source};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::{json, Value};

use crate::api;
use crate::desk::Desk;
use crate::text::when;

use crate::workspace::manages;

pub async fn load_sources(desk: Desk, out: RwSignal<Vec<Source>>) {
    match api::get::<Value>("/api/sdk/knowledge/sources").await {
        Ok(v) => out.set(serde_json::from_value(v["sources"].clone()).unwrap_or_default()),
        Err(e) => desk.failed(e),
    }
}

/// The kind of document a file's name says it is.
fn kind_of(name: &str) -> Option<&'static str> {
    let ext = name.rsplit('.').next()?.to_ascii_lowercase();
    match ext.as_str() {
        "md" | "markdown" => Some("markdown"),
        "txt" | "text" => Some("text"),
        "html" | "htm" => Some("html"),
        _ => None,
    }
}

/// Uploading .md, .txt and .html files: each becomes an article titled by its name.
fn upload_form(desk: Desk, sources: RwSignal<Vec<Source>>) -> impl IntoView {
    let said = RwSignal::new(None::<String>);
    let chosen = move |ev: leptos::ev::Event| {
        use wasm_bindgen::JsCast;
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        let files: Vec<web_sys::File> = input
            .files()
            .map(|list| (0..list.length()).filter_map(|i| list.get(i)).collect())
            .unwrap_or_default();
        input.set_value("");
        spawn_local(async move {
            let (mut added, mut refused) = (0, Vec::new());
            for file in files {
                let name = file.name();
                let Some(kind) = kind_of(&name) else {
                    refused.push(format!("{name} (not .md, .txt or .html)"));
                    continue;
                };
                let text = wasm_bindgen_futures::JsFuture::from(file.text())
                    .await
                    .ok()
                    .and_then(|t| t.as_string());
                let title = name
                    .rsplit_once('.')
                    .map_or(name.as_str(), |(t, _)| t)
                    .to_owned();
                let body =
                    json!({ "title": title, "content": text.unwrap_or_default(), "kind": kind });
                match api::post::<Value>("/api/sdk/knowledge/sources", &body).await {
                    Ok(_) => added += 1,
                    Err(e) => refused.push(format!("{name} ({})", e.message)),
                }
            }
            let mut text = format!("Added {added} file{}.", if added == 1 { "" } else { "s" });
            if !refused.is_empty() {
                text.push_str(&format!(" Not added: {}.", refused.join("; ")));
            }
            said.set(Some(text));
            load_sources(desk, sources).await;
        });
    };
    view! {
        <h4>"Upload files"</h4>
        <input type="file" multiple accept=".md,.markdown,.txt,.html,.htm" data-testid="upload" on:change=chosen/>
        {move || said.get().map(|t| view! { <p class="muted" data-testid="upload-result">{t}</p> })}
    }
}

/// Crawling a help site, with the pages ingested, queued and failed as it goes.
fn crawl_form(desk: Desk, sources: RwSignal<Vec<Source>>) -> impl IntoView {
    let url = RwSignal::new(String::new());
    let progress = RwSignal::new(None::<CrawlProgress>);
    let start = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = json!({ "url": url.get_untracked().trim(), "max_pages": 50 });
        spawn_local(async move {
            let mut job = match api::post::<CrawlProgress>("/api/sdk/knowledge/crawl", &body).await
            {
                Ok(p) => p,
                Err(e) => return desk.failed(e),
            };
            loop {
                let done = job.done();
                let id = job.job_id.clone();
                if progress.try_set(Some(job)).is_some() {
                    return; // the page is gone
                }
                load_sources(desk, sources).await;
                if done {
                    return;
                }
                api::sleep(600).await;
                job = match api::get::<CrawlProgress>(&format!(
                    "/api/sdk/knowledge/jobs/{}",
                    api::encode(&id)
                ))
                .await
                {
                    Ok(p) => p,
                    Err(e) => return desk.failed(e),
                };
            }
        });
    };
    let bar = move || {
        progress.get().map(|p| {
            let total = (p.ingested as usize + p.queued as usize + p.failed()).max(1);
            view! {
                <div class="crawl" data-testid="crawl-progress" data-state=p.status.clone()>
                    <progress max=total.to_string() value=(p.ingested as usize + p.failed()).to_string()></progress>
                    <span>{format!("{} ingested · {} queued · {} failed{}", p.ingested, p.queued, p.failed(),
                        if p.done() { " · done" } else { "" })}</span>
                </div>
            }
        })
    };
    view! {
        <h4>"Crawl a help site"</h4>
        <form class="invite" on:submit=start data-testid="crawl">
            <input type="url" required placeholder="https://help.example.com" data-testid="crawl-url"
                prop:value=move || url.get() on:input=move |ev| url.set(event_target_value(&ev))/>
            <button type="submit">"Crawl"</button>
        </form>
        {bar}
    }
}

/// Every way to add knowledge: paste an article, upload files, crawl a site.
pub fn add_knowledge(desk: Desk, sources: RwSignal<Vec<Source>>) -> impl IntoView {
    view! { {add_source_form(desk, sources)} {upload_form(desk, sources)} {crawl_form(desk, sources)} }
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
    let contact = RwSignal::new(String::new());
    let hits = RwSignal::new(None::<Vec<KnowledgeHit>>);
    let facts = RwSignal::new(None::<Vec<AccountFact>>);
    let run = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut path = format!(
            "/api/sdk/knowledge/search?q={}",
            api::encode(&q.get_untracked())
        );
        if !contact.get_untracked().trim().is_empty() {
            path.push_str(&format!(
                "&user_id={}",
                api::encode(contact.get_untracked().trim())
            ));
        }
        spawn_local(async move {
            match api::get::<Value>(&path).await {
                Ok(v) => {
                    hits.set(serde_json::from_value(v["results"].clone()).ok());
                    facts.set(serde_json::from_value(v["facts"].clone()).ok());
                }
                Err(e) => desk.failed(e),
            }
        });
    };
    let fact_list = move || {
        facts.get().map(|list| view! {
            <h4>"Account data it would get"</h4>
            <ol class="passages" data-testid="tester-facts">
                {if list.is_empty() { view! { <li class="muted">"Nothing about this contact matches."</li> }.into_any() } else {
                    list.into_iter().map(|f| view! {
                        <li><b>{f.label}</b> <small>{format!("{:.2}", f.support)}</small>
                            <div class="snippet">{f.text}</div></li>
                    }).collect_view().into_any()
                }}
            </ol>
        })
    };
    view! {
        <h4>"Search tester"</h4>
        <form class="invite" on:submit=run>
            <input required placeholder="A customer's question" data-testid="tester-q"
                prop:value=move || q.get() on:input=move |ev| q.set(event_target_value(&ev))/>
            <input placeholder="as contact (user id, optional)" data-testid="tester-contact"
                prop:value=move || contact.get() on:input=move |ev| contact.set(event_target_value(&ev))/>
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
        {fact_list}
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
            {can_change.then(|| add_knowledge(desk, sources))}
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
