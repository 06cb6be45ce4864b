//! Settings > Widget: how the widget looks and speaks on the company's site (brand colour,
//! side, header title and greeting, team name and initials, language, whether unseen replies
//! open it), with a preview in the same colours. The widget reads these when it boots.

use halo_shared::appearance::{text_color_on, Appearance, Locale, Position};
use halo_shared::settings::WorkspaceSettings;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::{json, Value};

use crate::desk::Desk;
use crate::workspace::{self, manages};

const LOCALES: [(Locale, &str); 5] = [
    (Locale::Auto, "The visitor's browser language"),
    (Locale::En, "English"),
    (Locale::Fr, "Français"),
    (Locale::Es, "Español"),
    (Locale::De, "Deutsch"),
];

fn text_or_null(s: &str) -> Value {
    if s.trim().is_empty() {
        Value::Null
    } else {
        json!(s.trim())
    }
}

/// The form's fields, as signals.
#[derive(Clone, Copy)]
struct Form {
    brand: RwSignal<String>,
    left: RwSignal<bool>,
    title: RwSignal<String>,
    greeting: RwSignal<String>,
    team: RwSignal<String>,
    initials: RwSignal<String>,
    locale: RwSignal<Locale>,
    auto_open: RwSignal<bool>,
}

impl Form {
    fn of(a: &Appearance) -> Form {
        let text = |t: &Option<String>| RwSignal::new(t.clone().unwrap_or_default());
        Form {
            brand: RwSignal::new(a.brand_color.clone()),
            left: RwSignal::new(a.position == Position::Left),
            title: text(&a.title),
            greeting: text(&a.greeting),
            team: text(&a.team_name),
            initials: text(&a.avatar_initials),
            locale: RwSignal::new(a.locale),
            auto_open: RwSignal::new(a.auto_open_unseen),
        }
    }

    fn patch(&self) -> Value {
        json!({ "appearance": {
            "brand_color": self.brand.get_untracked(),
            "position": if self.left.get_untracked() { "left" } else { "right" },
            "title": text_or_null(&self.title.get_untracked()),
            "greeting": text_or_null(&self.greeting.get_untracked()),
            "team_name": text_or_null(&self.team.get_untracked()),
            "avatar_initials": text_or_null(&self.initials.get_untracked()),
            "locale": self.locale.get_untracked().as_str(),
            "auto_open_unseen": self.auto_open.get_untracked(),
        }})
    }
}

fn text_input(
    label: &'static str,
    value: RwSignal<String>,
    testid: &'static str,
    max: usize,
) -> impl IntoView {
    view! {
        <label>{label}
            <input data-testid=testid maxlength=max prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))/>
        </label>
    }
}

/// The launcher and the panel's header in the chosen colours.
fn preview(f: Form) -> impl IntoView {
    let style = move || {
        let brand = f.brand.get();
        format!("background:{brand};color:{}", text_color_on(&brand))
    };
    view! {
        <div class="preview" class:left=move || f.left.get() data-testid="preview">
            <div class="preview-head" style=style>
                {move || (!f.initials.get().is_empty()).then(|| view! { <span class="avatar">{f.initials.get()}</span> })}
                <span>{move || if f.title.get().is_empty() { "Support".to_owned() } else { f.title.get() }}</span>
            </div>
            <p class="preview-greeting">{move || f.greeting.get()}</p>
            <div class="preview-launcher" style=style>"💬"</div>
        </div>
    }
}

fn form(desk: Desk, settings: RwSignal<Option<WorkspaceSettings>>, a: Appearance) -> impl IntoView {
    let f = Form::of(&a);
    let saved = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        saved.set(false);
        spawn_local(async move {
            if workspace::save(desk, f.patch(), settings).await {
                saved.set(true);
            }
        });
    };
    let dark = move || text_color_on(&f.brand.get()) != "#ffffff";
    view! {
        <div class="look">
            <form class="stack" on:submit=submit data-testid="appearance">
                <label>"Brand colour"
                    <span class="inline">
                        <input type="color" prop:value=move || f.brand.get() on:input=move |ev| f.brand.set(event_target_value(&ev))/>
                        <input data-testid="brand-color" prop:value=move || f.brand.get() on:change=move |ev| f.brand.set(event_target_value(&ev))/>
                    </span>
                </label>
                {move || dark().then(|| view! { <p class="muted">"A light colour: the widget writes on it in dark text so that it reads."</p> })}
                <label>"Launcher"
                    <select on:change=move |ev| f.left.set(event_target_value(&ev) == "left") data-testid="position">
                        <option value="right" selected=!a.position.eq(&Position::Left)>"Bottom right"</option>
                        <option value="left" selected=a.position == Position::Left>"Bottom left"</option>
                    </select>
                </label>
                {text_input("Header title", f.title, "title", 60)}
                {text_input("Greeting", f.greeting, "greeting", 280)}
                {text_input("Team name", f.team, "team-name", 60)}
                {text_input("Avatar initials", f.initials, "initials", 3)}
                <label>"Language of the widget's own words"
                    <select on:change=move |ev| if let Some(l) = Locale::parse(&event_target_value(&ev)) { f.locale.set(l) } data-testid="locale">
                        {LOCALES.iter().map(|(l, name)| view! { <option value=l.as_str() selected=*l == a.locale>{*name}</option> }).collect_view()}
                    </select>
                </label>
                <label class="check-line">
                    <input type="checkbox" prop:checked=move || f.auto_open.get() on:change=move |ev| f.auto_open.set(event_target_checked(&ev))/>
                    " Open the panel when a teammate replies and the visitor has not seen it (a page can still choose with ui.autoOpenUnseen)"
                </label>
                {manages(desk).then(|| view! { <button type="submit" class="primary" data-testid="save-appearance">"Save"</button> })}
                {move || saved.get().then(|| view! { <span class="muted" data-testid="saved">"Saved: pages pick it up within 5 minutes."</span> })}
            </form>
            {preview(f)}
        </div>
    }
}

#[component]
pub fn WidgetPage() -> impl IntoView {
    let desk = use_context::<Desk>().expect("inside the inbox");
    let settings = RwSignal::new(None::<WorkspaceSettings>);
    spawn_local(workspace::load(desk, settings));
    // The form is built once, from the first read; saving updates `settings` but not the form.
    let first = Memo::new(move |_| {
        settings
            .with(|s| s.as_ref().map(|s| s.appearance.clone()))
            .is_some()
    });
    view! {
        <div class="pane contact-page" data-testid="widget-settings">
            <h3>"Widget"</h3>
            {move || first.get().then(|| {
                let a = settings.with_untracked(|s| s.as_ref().map(|s| s.appearance.clone())).unwrap_or_default();
                form(desk, settings, a)
            })}
        </div>
    }
}
