//! The inbox: the views with their counts, the list of the view (a page at a time, live),
//! search, and the open conversation, ticket or contact beside it.

use halo_shared::console::Me;
use halo_shared::inbox::{ConversationSummary, Counts, HitKind, SearchHit, Ticket, TicketView};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use crate::api;
use crate::desk::{focus, Desk, Row};
use crate::keys::{Cmd, Keys, SHORTCUTS};
use crate::live::Live;
use crate::route::{Page, Place, Section};
use crate::text::when;
use crate::{place_of, Session};

/// The list endpoint of a place and the key its rows come under (none for the team page).
fn list_source(place: &Place, filter: &str, assignee: &str) -> Option<(String, &'static str)> {
    let param = |name: &str, v: &str| {
        if v.trim().is_empty() {
            String::new()
        } else {
            format!("&{name}={}", api::encode(v.trim()))
        }
    };
    let q = param("q", filter);
    Some(match place {
        Place::Live(_) => (
            "/api/inbox/conversations?live=true&limit=50".into(),
            "conversations",
        ),
        Place::Tickets(v, _) => (
            format!(
                "/api/inbox/tickets?view={}&limit=50{}{}",
                v.as_str(),
                param("team", filter),
                param("assignee", assignee)
            ),
            "tickets",
        ),
        Place::Contacts(_) => (format!("/api/inbox/contacts?limit=50{q}"), "contacts"),
        Place::Companies(_) => (format!("/api/inbox/companies?limit=50{q}"), "companies"),
        Place::Settings(_) => return None,
    })
}

fn rows_of<T: DeserializeOwned>(v: &Value, key: &str, wrap: fn(T) -> Row) -> Vec<Row> {
    serde_json::from_value::<Vec<T>>(v[key].clone())
        .map(|list| list.into_iter().map(wrap).collect())
        .unwrap_or_default()
}

fn read_rows(v: &Value, key: &str) -> Vec<Row> {
    match key {
        "conversations" => rows_of(v, key, Row::Conversation),
        "tickets" => rows_of(v, key, Row::Ticket),
        "companies" => rows_of(v, key, Row::Company),
        _ => rows_of(v, key, Row::Contact),
    }
}

async fn load(desk: Desk, place: Place, cursor: Option<String>) {
    let (filter, assignee) = (desk.filter.get_untracked(), desk.assignee.get_untracked());
    let Some((path, key)) = list_source(&place, &filter, &assignee) else {
        desk.rows.set(Vec::new());
        desk.next.set(None);
        return;
    };
    let path = match &cursor {
        Some(c) => format!("{path}&cursor={}", api::encode(c)),
        None => path,
    };
    match api::get::<Value>(&path).await {
        Ok(v) => {
            let rows = read_rows(&v, key);
            desk.next.set(v["next_cursor"].as_str().map(str::to_owned));
            if cursor.is_some() {
                desk.rows.update(|r| r.extend(rows));
            } else {
                desk.rows.set(rows);
            }
        }
        Err(e) => desk.failed(e),
    }
    if let Ok(c) = api::get::<Counts>("/api/inbox/counts").await {
        desk.counts.set(c);
    }
}

#[component]
pub fn Inbox(session: Session, me: Me) -> impl IntoView {
    let desk = Desk {
        session,
        counts: RwSignal::new(Counts::default()),
        rows: RwSignal::new(Vec::new()),
        next: RwSignal::new(None),
        teammates: RwSignal::new(Vec::new()),
        changed: RwSignal::new(0),
        filter: RwSignal::new(String::new()),
        assignee: RwSignal::new(String::new()),
        error: RwSignal::new(None),
    };
    provide_context(desk);
    spawn_local(async move {
        if let Ok(v) = api::get::<Value>("/api/console/teammates").await {
            if let Ok(list) = serde_json::from_value(v["teammates"].clone()) {
                desk.teammates.set(list);
            }
        }
    });
    let list_place = Memo::new(move |_| place_of(&session).list());
    Effect::new(move |_| {
        let place = list_place.get();
        desk.changed.track();
        desk.filter.track();
        desk.assignee.track();
        spawn_local(load(desk, place, None));
    });
    follow_feed(desk);
    title_follows_unread(desk);
    crate::setup::open_if_unfinished(desk);
    let help = RwSignal::new(false);
    follow_keys(desk, help);
    let wide = Memo::new(move |_| matches!(place_of(&session), Place::Settings(_)));
    view! {
        <div class="app" class:wide=move || wide.get()>
            <Nav me/>
            <section class="list">
                <Search/>
                <List/>
            </section>
            <main class="detail">
                <Detail/>
            </main>
            {move || help.get().then(|| view! {
                <div class="help" role="dialog" data-testid="help">
                    <h2>"Keyboard shortcuts"</h2>
                    <dl>
                        {SHORTCUTS.iter().map(|(k, what)| view! { <dt><kbd>{*k}</kbd></dt><dd>{*what}</dd> }).collect_view()}
                    </dl>
                </div>
            })}
            {move || desk.error.get().map(|e| view! {
                <div class="toast" role="alert" on:click=move |_| desk.error.set(None)>{e}</div>
            })}
        </div>
    }
}

/// Anything that happens in the workspace reloads the list, at most every 300 ms.
fn follow_feed(desk: Desk) {
    let pending = StoredValue::new(false);
    let feed = Live::connect("/api/inbox/live", move |_| {
        // The feed can speak after the inbox is gone (signed out): then nothing is done.
        if pending.try_get_value() != Some(false) {
            return;
        }
        pending.try_set_value(true);
        set_timeout(
            move || {
                pending.try_set_value(false);
                desk.refresh();
            },
            std::time::Duration::from_millis(300),
        );
    });
    let feed = send_wrapper::SendWrapper::new(feed);
    on_cleanup(move || feed.close());
}

/// The tab's title shows how many conversations and tickets are unread.
fn title_follows_unread(desk: Desk) {
    Effect::new(move |_| {
        let unread = desk.counts.get().unread;
        let title = if unread > 0 {
            format!("({unread}) Inbox · Halo")
        } else {
            "Inbox · Halo".to_owned()
        };
        if let Some(d) = web_sys::window().and_then(|w| w.document()) {
            d.set_title(&title);
        }
    });
}

/// j/k, / and ? (the panes follow the others).
fn follow_keys(desk: Desk, help: RwSignal<bool>) {
    let session = desk.session;
    let keys = use_context::<Keys>().expect("the app listens to keys");
    let since = keys.mark();
    Effect::new(move |_| {
        let step = match keys.fresh(since) {
            Some(Cmd::Next) => 1,
            Some(Cmd::Previous) => -1,
            Some(Cmd::Help) => {
                help.update(|h| *h = !*h);
                return;
            }
            Some(Cmd::Escape) => {
                help.set(false);
                return;
            }
            Some(Cmd::Search) => {
                focus("[data-testid=search]");
                return;
            }
            _ => return,
        };
        let place = session.page.with_untracked(|p| match p {
            Page::Inbox(p) => p.clone(),
            _ => Place::Live(None),
        });
        let rows = desk.rows.get_untracked();
        let at = place
            .opened()
            .and_then(|id| rows.iter().position(|r| r.id() == id));
        let next = match at {
            None => 0,
            Some(i) => (i as i64 + step).clamp(0, rows.len() as i64 - 1) as usize,
        };
        if let Some(row) = rows.get(next) {
            session.go(Page::Inbox(place.open(row.id())));
        }
    });
}

#[component]
fn Nav(me: Me) -> impl IntoView {
    let desk = use_context::<Desk>().expect("inside the inbox");
    let session = desk.session;
    let item = move |label: &'static str,
                     target: Place,
                     count: Box<dyn Fn() -> Option<u32> + Send + Sync>| {
        let here = {
            let target = target.clone();
            move || place_of(&session).list() == target
        };
        let go = target.clone();
        view! {
            <a href=Page::Inbox(target.clone()).path()
                class:here=here
                on:click=move |ev| { ev.prevent_default(); session.go(Page::Inbox(go.clone())); }>
                <span>{label}</span>
                <span class="count">{move || count()}</span>
            </a>
        }
    };
    let sign_out = move |_| {
        spawn_local(async move {
            let _ = api::post::<Value>("/api/console/signout", &json!({})).await;
            session.signed_out();
        });
    };
    let set_password = move |_| {
        let ask = |q: &str| web_sys::window().and_then(|w| w.prompt_with_message(q).ok().flatten());
        let Some(current) = ask("Your current password (leave it empty if you have none yet):")
        else {
            return;
        };
        let Some(p) = ask("A new password (at least 10 characters):") else {
            return;
        };
        let body = if current.is_empty() {
            json!({ "password": p })
        } else {
            json!({ "current": current, "password": p })
        };
        spawn_local(async move {
            match api::post::<Value>("/api/console/password", &body).await {
                Ok(_) => desk.error.set(Some("Your password is set.".into())),
                Err(e) => desk.failed(e),
            }
        });
    };
    let counts = desk.counts;
    view! {
        <nav class="nav" data-testid="nav">
            <div class="brand">"Halo" <small>{me.workspace.name.clone()}</small></div>
            <div class="group">"Conversations"</div>
            {item("Live feed", Place::Live(None), Box::new(move || Some(counts.get().live)))}
            <div class="group">"Tickets"</div>
            {TicketView::ALL.into_iter().map(|v| {
                item(v.label(), Place::Tickets(v, None), Box::new(move || Some(counts.get().of(v))))
            }).collect_view()}
            <div class="group">"People"</div>
            {item("Contacts", Place::Contacts(None), Box::new(|| None))}
            {item("Companies", Place::Companies(None), Box::new(|| None))}
            <div class="group">"Settings"</div>
            {me.teammate.role.manages_team().then(|| item(Section::Setup.label(), Place::Settings(Section::Setup), Box::new(|| None)))}
            {Section::MENU.into_iter().map(|s| item(s.label(), Place::Settings(s), Box::new(|| None))).collect_view()}
            <div class="me">
                <div>{me.teammate.name.clone()} <small>{me.teammate.role.as_str()}</small></div>
                <button class="link" on:click=set_password>"Set password"</button>
                <button class="link" on:click=sign_out data-testid="signout">"Sign out"</button>
                <p class="muted">"Press ? for shortcuts"</p>
            </div>
        </nav>
    }
}

#[component]
fn Search() -> impl IntoView {
    let desk = use_context::<Desk>().expect("inside the inbox");
    let q = RwSignal::new(String::new());
    let hits = RwSignal::new(None::<Vec<SearchHit>>);
    let asked = StoredValue::new(0u32);
    let run = move |text: String| {
        q.set(text.clone());
        asked.update_value(|n| *n += 1);
        let mine = asked.get_value();
        if text.trim().is_empty() {
            hits.set(None);
            return;
        }
        spawn_local(async move {
            let path = format!("/api/inbox/search?q={}", api::encode(&text));
            if let Ok(v) = api::get::<Value>(&path).await {
                // Only the latest query's answer is shown.
                if asked.try_get_value() == Some(mine) {
                    hits.set(serde_json::from_value(v["hits"].clone()).ok());
                }
            }
        });
    };
    let open = move |h: &SearchHit| {
        let place = match h.kind {
            HitKind::Ticket => Place::Tickets(TicketView::Open, Some(h.id.clone())),
            HitKind::Conversation => Place::Live(Some(h.id.clone())),
            HitKind::Contact => Place::Contacts(Some(h.id.clone())),
        };
        hits.set(None);
        q.set(String::new());
        desk.session.go(Page::Inbox(place));
    };
    view! {
        <div class="search">
            <input type="search" placeholder="Search tickets, conversations, contacts  ( / )"
                data-testid="search" prop:value=move || q.get()
                on:input=move |ev| run(event_target_value(&ev))/>
            {move || hits.get().map(|list| view! {
                <ul class="hits" data-testid="hits">
                    {if list.is_empty() { Some(view! { <li class="muted">"Nothing found"</li> }) } else { None }}
                    {list.into_iter().map(|h| {
                        let kind = match h.kind { HitKind::Ticket => "Ticket", HitKind::Conversation => "Conversation", HitKind::Contact => "Contact" };
                        let hit = h.clone();
                        view! {
                            <li on:click=move |_| open(&hit)>
                                <b>{h.title.clone()}</b> <small>{kind}</small>
                                <div class="snippet">{h.snippet.clone()}</div>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            })}
        </div>
    }
}

fn conversation_row(c: &ConversationSummary, desk: Desk) -> impl IntoView {
    let who = c.user_id.clone().unwrap_or_else(|| "Visitor".into());
    let last = c
        .last_message
        .as_ref()
        .map(|m| m.text.chars().take(90).collect::<String>())
        .unwrap_or_default();
    let taken = c
        .taken_over_by
        .as_ref()
        .map(|id| format!("with {}", desk.teammate_name(id)));
    view! {
        <div class="top"><b>{who}</b><span class="time">{when(c.updated_at)}</span></div>
        <div class="line">{last}</div>
        <div class="tags">
            {c.mood.clone().map(|m| { let class = format!("tag mood-{m}"); view! { <span class=class>{m}</span> } })}
            <span class="tag">{format!("AI {}", c.ai_score)}</span>
            {c.needs_human.then(|| view! { <span class="tag warn">"needs a human"</span> })}
            {taken.map(|t| view! { <span class="tag">{t}</span> })}
        </div>
    }
}

fn ticket_row(t: &Ticket, desk: Desk) -> impl IntoView {
    let assignee = t
        .assignee
        .as_ref()
        .map(|a| desk.teammate_name(a))
        .unwrap_or_else(|| "Unassigned".into());
    view! {
        <div class="top"><b>{t.subject.clone()}</b><span class="time">{when(t.updated_at)}</span></div>
        <div class="line">{t.user_id.clone().unwrap_or_default()}</div>
        <div class="tags">
            <span class=format!("tag status-{}", t.status)>{t.status.replace('_', " ")}</span>
            <span class="tag">{assignee}</span>
            {t.team.clone().map(|team| view! { <span class="tag">{team}</span> })}
        </div>
    }
}

#[component]
fn List() -> impl IntoView {
    let desk = use_context::<Desk>().expect("inside the inbox");
    let session = desk.session;
    let opened = Memo::new(move |_| place_of(&session).opened().map(str::to_owned));
    let more = move |_| {
        let cursor = desk.next.get_untracked();
        spawn_local(load(desk, place_of(&session).list(), cursor));
    };
    let directory =
        Memo::new(move |_| matches!(place_of(&session), Place::Contacts(_) | Place::Companies(_)));
    // Another list starts unfiltered.
    let list = Memo::new(move |_| place_of(&session).list());
    Effect::new(move |_| {
        list.track();
        desk.filter.set(String::new());
        desk.assignee.set(String::new());
    });
    let by_assignee = Memo::new(move |_| {
        matches!(
            place_of(&session),
            Place::Tickets(v, _) if !matches!(v, TicketView::Mine | TicketView::Unassigned)
        )
    });
    view! {
        {move || directory.get().then(|| view! {
            <div class="search"><input type="search" placeholder="Filter by name, email or id" data-testid="filter"
                prop:value=move || desk.filter.get()
                on:input=move |ev| desk.filter.set(event_target_value(&ev))/></div>
        })}
        {move || by_assignee.get().then(|| view! {
            <div class="search filters">
                <select data-testid="filter-assignee" on:change=move |ev| desk.assignee.set(event_target_value(&ev))>
                    <option value="">"Any assignee"</option>
                    <option value="unassigned">"Unassigned"</option>
                    {move || desk.teammates.get().into_iter().map(|t| view! {
                        <option value=t.id.clone()>{t.name.clone()}</option>
                    }).collect_view()}
                </select>
                <input placeholder="Team" data-testid="filter-team" prop:value=move || desk.filter.get()
                    on:change=move |ev| desk.filter.set(event_target_value(&ev))/>
            </div>
        })}
        <ul class="rows" data-testid="rows">
            <For each=move || desk.rows.get()
                key=|r| format!("{r:?}")
                children=move |row: Row| {
                    let id = row.id().to_owned();
                    let selected = { let id = id.clone(); move || opened.get().as_deref() == Some(id.as_str()) };
                    let unread = match &row { Row::Conversation(c) => c.unread, Row::Ticket(t) => t.unread, _ => false };
                    let body = match &row {
                        Row::Conversation(c) => conversation_row(c, desk).into_any(),
                        Row::Ticket(t) => ticket_row(t, desk).into_any(),
                        Row::Contact(c) => view! {
                            <div class="top"><b>{c.name.clone().unwrap_or_else(|| c.user_id.clone())}</b>
                                <span class="time">{when(c.last_seen_at)}</span></div>
                            <div class="line">{c.email.clone().unwrap_or_default()}
                                {c.verified.then_some(" · verified")}</div>
                        }.into_any(),
                        Row::Company(c) => view! {
                            <div class="top"><b>{c.name.clone().unwrap_or_else(|| c.company_id.clone())}</b>
                                <span class="time">{when(c.updated_at)}</span></div>
                            <div class="line">{format!("{} users", c.users)} {c.plan.clone().map(|p| format!(" · {p}"))}</div>
                        }.into_any(),
                    };
                    let open_id = id.clone();
                    view! {
                        <li class="row" class:selected=selected class:unread=unread data-id=id.clone()
                            on:click=move |_| session.go(Page::Inbox(place_of(&session).open(&open_id)))>
                            {unread.then(|| view! { <span class="dot" aria-label="unread"></span> })}
                            {body}
                        </li>
                    }
                }/>
            {move || desk.rows.get().is_empty().then(|| view! { <li class="empty">"Nothing here."</li> })}
            {move || desk.next.get().is_some().then(|| view! {
                <li><button class="link" on:click=more>"Load more"</button></li>
            })}
        </ul>
    }
}

/// The settings page a section's slug names.
fn settings_page(slug: &str) -> AnyView {
    match Section::from_slug(slug).unwrap_or(Section::Team) {
        Section::Setup => view! { <crate::setup::SetupPage/> }.into_any(),
        Section::Install => view! { <crate::install::InstallPage/> }.into_any(),
        Section::Widget => view! { <crate::appearance::WidgetPage/> }.into_any(),
        Section::Knowledge => view! { <crate::settings::KnowledgePage/> }.into_any(),
        Section::Agents => view! { <crate::agents::AgentsPage/> }.into_any(),
        Section::Routing => view! { <crate::routing::RoutingPage/> }.into_any(),
        Section::Webhooks => view! { <crate::routing::WebhooksPage/> }.into_any(),
        Section::Email => view! { <crate::mailbox::EmailPage/> }.into_any(),
        Section::Data => view! { <crate::settings::DataPage/> }.into_any(),
        Section::Security => view! { <crate::install::SecurityPage/> }.into_any(),
        Section::Team => view! { <crate::team::TeamPage/> }.into_any(),
    }
}

#[component]
fn Detail() -> impl IntoView {
    let desk = use_context::<Desk>().expect("inside the inbox");
    let session = desk.session;
    let open = Memo::new(move |_| place_of(&session));
    let which = Memo::new(move |_| match open.get() {
        Place::Live(Some(id)) => Some(("conversation", id)),
        Place::Tickets(_, Some(id)) => Some(("ticket", id)),
        Place::Contacts(Some(id)) => Some(("contact", id)),
        Place::Companies(Some(id)) => Some(("company", id)),
        Place::Settings(s) => Some(("settings", s.slug().to_owned())),
        _ => None,
    });
    move || {
        match which.get() {
        Some(("conversation", id)) => {
            view! { <crate::thread::Conversation session_id=id/> }.into_any()
        }
        Some(("ticket", id)) => view! { <crate::ticket::TicketPane id/> }.into_any(),
        Some(("company", id)) => view! { <crate::contact::CompanyPage company_id=id/> }.into_any(),
        Some(("settings", slug)) => settings_page(&slug),
        Some((_, id)) => view! { <crate::contact::ContactPage user_id=id/> }.into_any(),
        None => view! {
            <div class="blank"><p class="muted">"Pick a conversation or a ticket, or press j."</p></div>
        }
        .into_any(),
    }
    }
}
