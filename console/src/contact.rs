//! A contact: traits, the verified flag, the company, the context as the AI sees it, and their
//! other tickets and conversations; as a sidebar beside a conversation or ticket, and as the
//! page the Contacts list opens.

use halo_shared::inbox::{CompanyView, ContactView, Ticket, TicketView};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::Value;

use crate::api;
use crate::desk::Desk;
use crate::route::{Page, Place};
use crate::text::when;
use crate::Session;

fn traits(v: &Value) -> Vec<(String, String)> {
    v.as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| {
                    let shown = match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    (k.clone(), shown)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A contact's or company's tickets, each a link that opens it.
fn ticket_links(tickets: Vec<Ticket>, session: Session) -> impl IntoView {
    tickets
        .into_iter()
        .map(|t| {
            let id = t.id.clone();
            view! {
                <li><a href="#" on:click=move |ev| { ev.prevent_default();
                    session.go(Page::Inbox(Place::Tickets(TicketView::Open, Some(id.clone())))); }>
                    {t.subject.clone()}</a> <small>{t.status.replace('_', " ")}</small></li>
            }
        })
        .collect_view()
}

fn contact_view(c: ContactView, desk: Desk) -> impl IntoView {
    let u = c.user;
    let session = desk.session;
    let named = [
        ("Email", u.email.clone()),
        ("Role", u.role.clone()),
        ("Plan", u.plan.clone()),
        ("Signed up", u.signed_up_at.clone()),
    ];
    let tickets = ticket_links(c.tickets, session);
    let conversations = c.conversations.into_iter().map(|s| {
        let id = s.session_id.clone();
        view! {
            <li><a href="#" on:click=move |ev| { ev.prevent_default();
                session.go(Page::Inbox(Place::Live(Some(id.clone())))); }>
                {s.last_message.map(|m| m.text.chars().take(50).collect::<String>()).unwrap_or_default()}</a>
                <small>{when(s.updated_at)}</small></li>
        }
    }).collect_view();
    view! {
        <h3>{u.name.clone().unwrap_or_else(|| u.user_id.clone())}
            {if u.verified { view! { <span class="tag ok">"verified"</span> }.into_any() }
             else { view! { <span class="tag">"not verified"</span> }.into_any() }}</h3>
        <dl>
            <dt>"User id"</dt><dd>{u.user_id.clone()}</dd>
            {named.into_iter().filter_map(|(k, v)| v.map(|v| view! { <dt>{k}</dt><dd>{v}</dd> })).collect_view()}
            {traits(&u.custom_fields).into_iter().map(|(k, v)| view! { <dt>{k}</dt><dd>{v}</dd> }).collect_view()}
        </dl>
        {c.company.map(|co| view! {
            <h4>"Company"</h4>
            <dl>
                <dt>"Name"</dt><dd>{co.name.clone().unwrap_or_else(|| co.company_id.clone())}</dd>
                {co.plan.clone().map(|p| view! { <dt>"Plan"</dt><dd>{p}</dd> })}
                <dt>"Team size"</dt><dd>{co.team_size}</dd>
                {traits(&co.custom_fields).into_iter().map(|(k, v)| view! { <dt>{k}</dt><dd>{v}</dd> }).collect_view()}
            </dl>
        })}
        <h4>"What the AI sees"</h4>
        <pre class="ai-view" data-testid="ai-view">{if c.ai_view.is_empty() { "Nothing yet.".to_owned() } else { c.ai_view }}</pre>
        <h4>"Tickets"</h4>
        <ul class="links">{tickets}</ul>
        <h4>"Conversations"</h4>
        <ul class="links">{conversations}</ul>
    }
}

fn load(user_id: String, out: RwSignal<Option<Result<ContactView, String>>>) {
    spawn_local(async move {
        let path = format!("/api/inbox/contacts/{}", api::encode(&user_id));
        out.set(Some(
            api::get::<ContactView>(&path).await.map_err(|e| e.message),
        ));
    });
}

/// The contact beside a conversation or a ticket.
#[component]
pub fn Sidebar(user_id: String) -> impl IntoView {
    let desk = use_context::<Desk>().expect("inside the inbox");
    let contact = RwSignal::new(None);
    load(user_id, contact);
    view! {
        <aside class="sidebar" data-testid="contact">
            {move || match contact.get() {
                None => view! { <p class="muted">"Loading the contact…"</p> }.into_any(),
                Some(Err(_)) => view! { <p class="muted">"No stored contact for this visitor."</p> }.into_any(),
                Some(Ok(c)) => contact_view(c, desk).into_any(),
            }}
        </aside>
    }
}

/// A contact opened from the Contacts list.
#[component]
pub fn ContactPage(user_id: String) -> impl IntoView {
    let desk = use_context::<Desk>().expect("inside the inbox");
    let contact = RwSignal::new(None);
    load(user_id, contact);
    view! {
        <div class="pane contact-page" data-testid="contact-page">
            {move || match contact.get() {
                None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="error">{e}</p> }.into_any(),
                Some(Ok(c)) => contact_view(c, desk).into_any(),
            }}
        </div>
    }
}

/// A company opened from the Companies list: its traits and its users' tickets and
/// conversations.
#[component]
pub fn CompanyPage(company_id: String) -> impl IntoView {
    let desk = use_context::<Desk>().expect("inside the inbox");
    let session = desk.session;
    let company = RwSignal::new(None::<Result<CompanyView, String>>);
    spawn_local(async move {
        let path = format!("/api/inbox/companies/{}", api::encode(&company_id));
        company.set(Some(
            api::get::<CompanyView>(&path).await.map_err(|e| e.message),
        ));
    });
    let shown = move |c: CompanyView| {
        let co = c.company;
        let tickets = ticket_links(c.tickets, session);
        view! {
            <h3>{co.name.clone().unwrap_or_else(|| co.company_id.clone())}</h3>
            <dl>
                <dt>"Company id"</dt><dd>{co.company_id.clone()}</dd>
                {co.plan.clone().map(|p| view! { <dt>"Plan"</dt><dd>{p}</dd> })}
                {co.industry.clone().map(|p| view! { <dt>"Industry"</dt><dd>{p}</dd> })}
                <dt>"Team size"</dt><dd>{co.team_size}</dd>
                {traits(&co.custom_fields).into_iter().map(|(k, v)| view! { <dt>{k}</dt><dd>{v}</dd> }).collect_view()}
            </dl>
            <h4>"Tickets"</h4>
            <ul class="links">{tickets}</ul>
            <h4>"Conversations"</h4>
            <p class="muted">{format!("{} with its users", c.conversations.len())}</p>
        }
    };
    view! {
        <div class="pane contact-page" data-testid="company-page">
            {move || match company.get() {
                None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="error">{e}</p> }.into_any(),
                Some(Ok(c)) => shown(c).into_any(),
            }}
        </div>
    }
}
