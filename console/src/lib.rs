//! Halo's console: where the support team signs in and works the inbox (live conversations,
//! tickets, contacts). A client-side Leptos app served by the Worker under `/app/`; it reads and
//! writes through the inbox and console APIs with the teammate's session cookie, and every
//! shape it reads is a `halo-shared` type.
//!
//! It renders customer, AI and teammate text as text or the widget's safe markdown subset,
//! never as HTML.

mod agents;
mod api;
mod appearance;
mod contact;
mod desk;
mod inbox;
mod install;
mod keys;
mod live;
mod mailbox;
mod route;
mod routing;
mod settings;
mod setup;
mod signin;
mod team;
mod text;
mod thread;
mod ticket;
mod workspace;

use halo_shared::console::Me;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::prelude::*;

use route::{Page, Place};

/// Where the console is and who is signed in: shared by every page.
#[derive(Clone, Copy)]
pub struct Session {
    pub page: RwSignal<Page>,
    pub me: RwSignal<Option<Me>>,
}

impl Session {
    /// Opens `page`, as a new entry of the browser's history.
    pub fn go(&self, page: Page) {
        if let Some(h) = web_sys::window().and_then(|w| w.history().ok()) {
            let _ = h.push_state_with_url(&JsValue::NULL, "", Some(&page.path()));
        }
        self.page.set(page);
    }

    /// Back to the sign-in page (the session ended).
    pub fn signed_out(&self) {
        self.me.set(None);
        self.go(Page::SignIn);
    }
}

/// Which top-level page is shown; the inbox stays mounted while its place changes.
#[derive(Clone, PartialEq)]
enum Gate {
    SignIn,
    Invite(String),
    Link(String),
    Inbox,
}

#[component]
fn App() -> impl IntoView {
    let path = web_sys::window()
        .and_then(|w| w.location().pathname().ok())
        .unwrap_or_default();
    let session = Session {
        page: RwSignal::new(Page::from_path(&path)),
        me: RwSignal::new(None),
    };
    let back = Closure::<dyn Fn()>::new(move || {
        let path = web_sys::window()
            .and_then(|w| w.location().pathname().ok())
            .unwrap_or_default();
        session.page.set(Page::from_path(&path));
    });
    if let Some(w) = web_sys::window() {
        w.set_onpopstate(Some(back.as_ref().unchecked_ref()));
    }
    back.forget();
    provide_context(keys::listen());
    if matches!(session.page.get_untracked(), Page::Inbox(_)) {
        spawn_local(async move {
            match api::get::<Me>("/api/console/me").await {
                Ok(me) => session.me.set(Some(me)),
                Err(_) => session.signed_out(),
            }
        });
    }
    let gate = Memo::new(move |_| match session.page.get() {
        Page::SignIn => Gate::SignIn,
        Page::Invite(t) => Gate::Invite(t),
        Page::Link(t) => Gate::Link(t),
        Page::Inbox(_) => Gate::Inbox,
    });
    move || match gate.get() {
        Gate::SignIn => view! { <signin::SignIn session/> }.into_any(),
        Gate::Invite(token) => view! { <signin::Invite session token/> }.into_any(),
        Gate::Link(token) => view! { <signin::Link session token/> }.into_any(),
        Gate::Inbox => match session.me.get() {
            Some(me) => view! { <inbox::Inbox session me/> }.into_any(),
            None => view! { <div class="gate"><p class="muted">"Loading…"</p></div> }.into_any(),
        },
    }
}

/// Called by the entry module once the wasm is loaded.
#[wasm_bindgen]
pub fn start() {
    // A panic says where in the browser's console before the wasm stops.
    std::panic::set_hook(Box::new(|info| {
        web_sys::console::error_1(&format!("halo console {info}").into());
    }));
    leptos::mount::mount_to_body(App);
}

/// The place the inbox shows (the live feed when the page is not the inbox).
pub fn place_of(session: &Session) -> Place {
    match session.page.get() {
        Page::Inbox(p) => p,
        _ => Place::Live(None),
    }
}
