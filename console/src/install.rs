//! Settings > Install (the snippet with this workspace's ids, a check that turns green when
//! the widget's first message from a site arrives, the keys by their hints, and key rotation
//! with a grace period) and Settings > Security (identity verification, the identity secret
//! shown on re-entering the password, and its rotation).

use halo_shared::keys::KeyKind;
use halo_shared::settings::{KeyView, WorkspaceSettings};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::{json, Value};

use crate::api;
use crate::desk::Desk;
use crate::text::when;
use crate::workspace::{self, copy_box, manages, GRACE};

/// The snippet as a company pastes it: the loader (served by this Worker) and the boot call.
async fn snippet_text(settings: &WorkspaceSettings) -> Option<String> {
    let origin = web_sys::window()?.location().origin().ok()?;
    let loader = text_of(&format!("{origin}/widget/snippet.min.js")).await?;
    let loader = loader
        .trim()
        .replace("__HALO_WIDGET_URL__", &format!("{origin}/widget/halo.js"));
    Some(format!(
        "<script>\n{loader}\nHalo(\"boot\", {{ orgId: \"{}\", widgetKey: \"{}\" }});\n</script>",
        settings.org_id,
        settings.widget_key.as_deref()?
    ))
}

async fn text_of(url: &str) -> Option<String> {
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;
    let resp = JsFuture::from(web_sys::window()?.fetch_with_str(url))
        .await
        .ok()?;
    let resp: web_sys::Response = resp.dyn_into().ok()?;
    JsFuture::from(resp.text().ok()?).await.ok()?.as_string()
}

/// The snippet with a Copy button, or why there is none yet.
#[component]
pub fn Snippet(settings: RwSignal<Option<WorkspaceSettings>>) -> impl IntoView {
    let text = LocalResource::new(move || {
        let s = settings.get();
        async move {
            match s {
                Some(s) => snippet_text(&s).await,
                None => None,
            }
        }
    });
    move || {
        match text.get().flatten() {
        Some(t) => copy_box(t, "snippet", 6).into_any(),
        None => view! {
            <p class="muted">"This workspace's widget key was issued before keys were kept: rotate the widget key below to get the snippet."</p>
        }
        .into_any(),
    }
    }
}

/// Green once the first message from the widget on a site has arrived; until then it asks
/// again every 3 seconds.
#[component]
pub fn InstallCheck(settings: RwSignal<Option<WorkspaceSettings>>) -> impl IntoView {
    let desk = use_context::<Desk>().expect("inside the inbox");
    let seen = move || {
        settings.with(|s| {
            s.as_ref().and_then(|s| {
                s.install
                    .first_message_at
                    .map(|at| (at, s.install.first_message_origin.clone()))
            })
        })
    };
    spawn_local(async move {
        loop {
            api::sleep(3000).await;
            match settings
                .try_with_untracked(|s| s.as_ref().map(|s| s.install.first_message_at.is_some()))
            {
                None | Some(Some(true)) => break,
                _ => workspace::load(desk, settings).await,
            }
        }
    });
    move || {
        match seen() {
        Some((at, origin)) => view! {
            <p class="install-check ok" data-testid="install-check" data-state="ok">
                "✓ The widget is live: its first message arrived " {when(at)}
                {origin.map(|o| format!(" from {o}"))} "."
            </p>
        }
        .into_any(),
        None => view! {
            <p class="install-check" data-testid="install-check" data-state="waiting">
                "Waiting for the first message from the widget on your site… Paste the snippet, open a page of your app and send a message."
            </p>
        }
        .into_any(),
    }
    }
}

fn key_rows(keys: Vec<KeyView>, kinds: &'static [KeyKind]) -> impl IntoView {
    keys.into_iter()
        .filter(|k| kinds.contains(&k.kind))
        .map(|k| {
            let state = match k.expires_at {
                None => "current".to_owned(),
                Some(at) => format!("replaced; works until {}", when(at)),
            };
            view! {
                <tr data-testid=format!("key-{}", k.kind.as_str())>
                    <td>{k.kind.as_str()}</td>
                    <td><code>{k.widget_key.clone().unwrap_or(k.hint.clone())}</code></td>
                    <td>{format!("issued {}", when(k.created_at))}</td>
                    <td>{state}</td>
                </tr>
            }
        })
        .collect_view()
}

/// The keys of `kinds` and, for owners and admins, a rotation form for them. A new secret
/// is shown once, here; afterwards only its hint.
#[component]
pub fn Keys(kinds: &'static [KeyKind], on_rotated: Callback<KeyKind>) -> impl IntoView {
    let desk = use_context::<Desk>().expect("inside the inbox");
    let keys = RwSignal::new(Vec::<KeyView>::new());
    let reload = move || {
        spawn_local(async move {
            match api::get::<Value>("/api/console/keys").await {
                Ok(v) => keys.set(serde_json::from_value(v["keys"].clone()).unwrap_or_default()),
                Err(e) => desk.failed(e),
            }
        })
    };
    reload();
    let kind = RwSignal::new(kinds[0]);
    let grace = RwSignal::new(86_400u64);
    let issued = RwSignal::new(None::<String>);
    let rotate = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = json!({ "kind": kind.get_untracked(), "grace_seconds": grace.get_untracked() });
        spawn_local(async move {
            match api::post::<Value>("/api/console/keys", &body).await {
                Ok(v) => {
                    issued.set(v["key"].as_str().map(str::to_owned));
                    reload();
                    on_rotated.run(kind.get_untracked());
                }
                Err(e) => desk.failed(e),
            }
        });
    };
    view! {
        <table class="team" data-testid="keys"><tbody>{move || key_rows(keys.get(), kinds)}</tbody></table>
        {manages(desk).then(|| view! {
            <form class="invite" on:submit=rotate data-testid="rotate">
                <select on:change=move |ev| if let Some(k) = KeyKind::parse(&event_target_value(&ev)) { kind.set(k) }
                    data-testid="rotate-kind">
                    {kinds.iter().map(|k| view! { <option value=k.as_str()>{format!("New {} key", k.as_str())}</option> }).collect_view()}
                </select>
                <select on:change=move |ev| grace.set(event_target_value(&ev).parse().unwrap_or(0)) data-testid="rotate-grace">
                    {GRACE.iter().map(|(s, label)| view! { <option value=s.to_string() selected=*s == 86_400>{*label}</option> }).collect_view()}
                </select>
                <button type="submit">"Rotate"</button>
            </form>
            {move || issued.get().map(|k| view! {
                <p class="warn">"The new key, shown this once: copy it now."</p>
                {copy_box(k, "new-key", 2)}
            })}
        })}
    }
}

#[component]
pub fn InstallPage() -> impl IntoView {
    let desk = use_context::<Desk>().expect("inside the inbox");
    let settings = RwSignal::new(None::<WorkspaceSettings>);
    spawn_local(workspace::load(desk, settings));
    let rotated = Callback::new(move |_| spawn_local(workspace::load(desk, settings)));
    view! {
        <div class="pane contact-page" data-testid="install">
            <h3>"Install"</h3>
            <p>"Paste this before " <code>"</body>"</code> " on every page of your app where the widget should appear."</p>
            <Snippet settings/>
            <InstallCheck settings/>
            <h4>"Keys"</h4>
            <p class="muted">"The widget key is public: it is in every page with the widget. The secret key is for your server's REST calls and is shown only when it is issued."</p>
            <Keys kinds=&[KeyKind::Widget, KeyKind::Secret] on_rotated=rotated/>
        </div>
    }
}

/// Shows the identity secret after the teammate enters their password again.
fn reveal(desk: Desk) -> impl IntoView {
    let password = RwSignal::new(String::new());
    let shown = RwSignal::new(None::<String>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = json!({ "password": password.get_untracked() });
        spawn_local(async move {
            match api::post::<Value>("/api/console/identity-secret", &body).await {
                Ok(v) => {
                    password.set(String::new());
                    shown.set(v["identity_secret"].as_str().map(str::to_owned));
                }
                Err(e) => desk.failed(e),
            }
        });
    };
    view! {
        {move || match shown.get() {
            Some(s) => view! {
                {copy_box(s, "identity-secret", 2)}
                <button type="button" class="link" on:click=move |_| shown.set(None)>"Hide"</button>
            }.into_any(),
            None => view! {
                <form class="invite" on:submit=submit data-testid="reveal">
                    <input type="password" required placeholder="Your password, to show the secret" autocomplete="current-password"
                        data-testid="reveal-password" prop:value=move || password.get()
                        on:input=move |ev| password.set(event_target_value(&ev))/>
                    <button type="submit">"Show the identity secret"</button>
                </form>
            }.into_any(),
        }}
    }
}

#[component]
pub fn SecurityPage() -> impl IntoView {
    let desk = use_context::<Desk>().expect("inside the inbox");
    let settings = RwSignal::new(None::<WorkspaceSettings>);
    spawn_local(workspace::load(desk, settings));
    let can_change = manages(desk);
    let verifying = move || settings.with(|s| s.as_ref().is_some_and(|s| s.identity_verification));
    let unverified = move || {
        settings.with(|s| {
            s.as_ref()
                .is_some_and(|s| s.identity_verification && !s.verified_traffic)
        })
    };
    let toggle = move |ev: leptos::ev::Event| {
        let on = event_target_checked(&ev);
        spawn_local(async move {
            workspace::save(desk, json!({ "identity_verification": on }), settings).await;
        });
    };
    view! {
        <div class="pane contact-page" data-testid="security">
            <h3>"Security"</h3>
            <h4>"Identity verification"</h4>
            <p class="muted">"When it is on, a user your app names must come with a user_token your server signed with the identity secret (HS256); visitors who are not logged in still chat."</p>
            <label class="check-line">
                <input type="checkbox" data-testid="verification" disabled=!can_change
                    prop:checked=verifying on:change=toggle/>
                " Verify user identities"
            </label>
            {move || unverified().then(|| view! {
                <p class="warn" data-testid="verification-warning">
                    "Identity verification is on, but no verified user has been seen yet: users your app identifies without a valid user_token are refused. Check that your server signs tokens."
                </p>
            })}
            <h4>"Identity secret"</h4>
            {can_change.then(|| reveal(desk))}
            <Keys kinds=&[KeyKind::Identity] on_rotated=Callback::new(|_| ())/>
            <p class="muted">"During a rotation's grace period, tokens signed with the old or the new secret both verify."</p>
        </div>
    }
}
