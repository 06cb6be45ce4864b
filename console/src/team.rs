//! The team: who is in the workspace and in which role; owners and admins invite by email
//! (the one-time invite link is shown to copy until Halo sends email), change roles and
//! remove teammates. The server decides what each role may do; this page only offers it.

use halo_shared::console::{Invited, Role, TeammateView};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::{json, Value};

use crate::api;
use crate::desk::Desk;

async fn reload(desk: Desk) {
    match api::get::<Value>("/api/console/teammates").await {
        Ok(v) => {
            if let Ok(list) = serde_json::from_value::<Vec<TeammateView>>(v["teammates"].clone()) {
                desk.teammates.set(list);
            }
        }
        Err(e) => desk.failed(e),
    }
}

const ROLES: [Role; 3] = [Role::Owner, Role::Admin, Role::Agent];

#[component]
pub fn TeamPage() -> impl IntoView {
    let desk = use_context::<Desk>().expect("inside the inbox");
    let me = desk.session.me.get_untracked();
    let manages = me.as_ref().is_some_and(|m| m.teammate.role.manages_team());
    let my_id = me.map(|m| m.teammate.id).unwrap_or_default();
    spawn_local(reload(desk));
    let email = RwSignal::new(String::new());
    let role = RwSignal::new("agent".to_owned());
    let invited = RwSignal::new(None::<Invited>);
    let invite = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = json!({ "email": email.get_untracked(), "role": role.get_untracked() });
        spawn_local(async move {
            match api::post::<Invited>("/api/console/teammates", &body).await {
                Ok(i) => {
                    invited.set(Some(i));
                    email.set(String::new());
                    reload(desk).await;
                }
                Err(e) => desk.failed(e),
            }
        });
    };
    let change = move |id: String, to: String| {
        spawn_local(async move {
            let path = format!("/api/console/teammates/{}", api::encode(&id));
            if let Err(e) = api::patch::<Value>(&path, &json!({ "role": to })).await {
                desk.failed(e);
            }
            reload(desk).await;
        });
    };
    let remove = move |id: String| {
        spawn_local(async move {
            let path = format!("/api/console/teammates/{}", api::encode(&id));
            if let Err(e) = api::call::<Value>("DELETE", &path, None).await {
                desk.failed(e);
            }
            reload(desk).await;
        });
    };
    let rows = move || {
        let my_id = my_id.clone();
        desk.teammates
            .get()
            .into_iter()
            .map(|t| {
                let (id, id2) = (t.id.clone(), t.id.clone());
                let current = t.role;
                let controls = (manages && t.id != my_id).then(|| {
                    view! {
                        <select on:change=move |ev| change(id.clone(), event_target_value(&ev))>
                            {ROLES.iter().map(|r| view! {
                                <option value=r.as_str() selected=*r == current>{r.as_str()}</option>
                            }).collect_view()}
                        </select>
                        <button class="link" on:click=move |_| remove(id2.clone())>"Remove"</button>
                    }
                });
                view! {
                    <tr>
                        <td>{t.name.clone()}</td>
                        <td>{t.email.clone().unwrap_or_default()}</td>
                        <td>{if t.active { "" } else { "invited" }}</td>
                        <td>{controls.map(IntoAny::into_any).unwrap_or_else(|| t.role.as_str().into_any())}</td>
                    </tr>
                }
            })
            .collect_view()
    };
    view! {
        <div class="pane contact-page" data-testid="team">
            <h3>"Team"</h3>
            <table class="team"><tbody>{rows}</tbody></table>
            {manages.then(|| view! {
                <h4>"Invite a teammate"</h4>
                <form class="invite" on:submit=invite>
                    <input type="email" required placeholder="email@company.com" data-testid="invite-email"
                        prop:value=move || email.get() on:input=move |ev| email.set(event_target_value(&ev))/>
                    <select on:change=move |ev| role.set(event_target_value(&ev))>
                        <option value="agent" selected>"agent"</option>
                        <option value="admin">"admin"</option>
                        <option value="owner">"owner"</option>
                    </select>
                    <button type="submit" class="primary">"Invite"</button>
                </form>
                {move || invited.get().map(|i| view! {
                    <p class="muted">"Send this one-time link to " {i.teammate.email.clone().unwrap_or_default()}
                        " (valid 7 days):"</p>
                    <input class="copy" readonly data-testid="invite-url" prop:value=i.invite_url.clone()
                        on:focus=move |ev| { use wasm_bindgen::JsCast;
                            if let Some(el) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) { el.select(); } }/>
                })}
            })}
        </div>
    }
}
