//! Getting in: the sign-in form, accepting an invite (name and password), and a one-time
//! sign-in link. Each ends with the teammate signed in and the inbox open.

use halo_shared::console::{InviteView, Me, MIN_PASSWORD_CHARS};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::json;

use crate::api;
use crate::route::{Page, Place};
use crate::Session;

fn enter_inbox(session: Session, me: Me) {
    session.me.set(Some(me));
    session.go(Page::Inbox(Place::Live(None)));
}

#[component]
pub fn SignIn(session: Session) -> impl IntoView {
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        let body = json!({ "email": email.get_untracked(), "password": password.get_untracked() });
        spawn_local(async move {
            match api::post::<Me>("/api/console/signin", &body).await {
                Ok(me) => enter_inbox(session, me),
                Err(e) => error.set(Some(e.message)),
            }
            busy.set(false);
        });
    };
    view! {
        <div class="gate">
            <form class="card" on:submit=submit data-testid="signin">
                <h1>"Sign in to Halo"</h1>
                <label>"Email"
                    <input type="email" autocomplete="username" required
                        prop:value=move || email.get()
                        on:input=move |ev| email.set(event_target_value(&ev))/>
                </label>
                <label>"Password"
                    <input type="password" autocomplete="current-password" required
                        prop:value=move || password.get()
                        on:input=move |ev| password.set(event_target_value(&ev))/>
                </label>
                {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                <button type="submit" class="primary" disabled=move || busy.get()>"Sign in"</button>
            </form>
        </div>
    }
}

#[component]
pub fn Invite(session: Session, token: String) -> impl IntoView {
    let invite = RwSignal::new(None::<Result<InviteView, String>>);
    let name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let path = format!("/api/console/invites/{}", api::encode(&token));
    {
        let path = path.clone();
        spawn_local(async move {
            invite.set(Some(
                api::get::<InviteView>(&path).await.map_err(|e| e.message),
            ));
        });
    }
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = json!({ "name": name.get_untracked(), "password": password.get_untracked() });
        let path = path.clone();
        spawn_local(async move {
            match api::post::<Me>(&path, &body).await {
                Ok(me) => enter_inbox(session, me),
                Err(e) => error.set(Some(e.message)),
            }
        });
    };
    let form = move |v: InviteView| {
        let submit = submit.clone();
        view! {
            <form class="card" on:submit=submit data-testid="invite">
                <h1>"Join " {v.workspace.name.clone()} " on Halo"</h1>
                <p class="muted">{v.email.clone().unwrap_or_default()} " · " {v.role.as_str()}</p>
                <label>"Your name"
                    <input required prop:value=move || name.get()
                        on:input=move |ev| name.set(event_target_value(&ev))/>
                </label>
                <label>{format!("Choose a password (at least {MIN_PASSWORD_CHARS} characters)")}
                    <input type="password" autocomplete="new-password" required
                        minlength=MIN_PASSWORD_CHARS.to_string()
                        prop:value=move || password.get()
                        on:input=move |ev| password.set(event_target_value(&ev))/>
                </label>
                {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                <button type="submit" class="primary">"Join"</button>
            </form>
        }
    };
    view! {
        <div class="gate">
            {move || match invite.get() {
                None => view! { <p class="muted">"Opening your invite…"</p> }.into_any(),
                Some(Err(e)) => view! {
                    <div class="card"><h1>"This invite cannot be used"</h1><p class="error">{e}</p></div>
                }.into_any(),
                Some(Ok(v)) => form(v).into_any(),
            }}
        </div>
    }
}

/// A one-time sign-in link: used as soon as the page opens (by a POST, so a link preview
/// that only fetches the page cannot use it up).
#[component]
pub fn Link(session: Session, token: String) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    let path = format!("/api/console/links/{}", api::encode(&token));
    spawn_local(async move {
        match api::post::<Me>(&path, &json!({})).await {
            Ok(me) => enter_inbox(session, me),
            Err(e) => error.set(Some(e.message)),
        }
    });
    view! {
        <div class="gate">
            {move || match error.get() {
                None => view! { <p class="muted">"Signing you in…"</p> }.into_any(),
                Some(e) => view! {
                    <div class="card">
                        <h1>"This link cannot be used"</h1>
                        <p class="error">{e}</p>
                        <a href="/app/signin">"Sign in with your password"</a>
                    </div>
                }.into_any(),
            }}
        </div>
    }
}
