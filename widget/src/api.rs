//! The `window.Halo` JS API: the snippet's queue replayed, boot, identify, setContext and the rest.

use js_sys::{Array, Function, Object, Reflect};
use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::client;
use crate::state::{self, prop_str, Config, Ui, STATE};

/// Replaces the snippet's queue with the real `Halo` function and replays the queued calls.
pub fn install(default_api_base: String) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let stub = Reflect::get(&window, &"Halo".into()).unwrap_or(JsValue::UNDEFINED);
    let queued = Reflect::get(&stub, &"q".into()).unwrap_or(JsValue::UNDEFINED);
    let base = default_api_base.clone();
    let real = Closure::<dyn Fn(JsValue, JsValue)>::new(move |cmd: JsValue, arg: JsValue| {
        dispatch(&base, cmd.as_string().unwrap_or_default().as_str(), arg);
    });
    let f: &Function = real.as_ref().unchecked_ref();
    let _ = Reflect::set(f, &"loaded".into(), &JsValue::TRUE);
    let _ = Reflect::set(
        f,
        &"v".into(),
        &Reflect::get(&stub, &"v".into()).unwrap_or(JsValue::UNDEFINED),
    );
    let _ = Reflect::set(&window, &"Halo".into(), f);
    real.forget(); // lives as long as the page
    if Array::is_array(&queued) {
        for args in Array::from(&queued).iter() {
            let args = Array::from(&args);
            dispatch(
                &default_api_base,
                args.get(0).as_string().unwrap_or_default().as_str(),
                args.get(1),
            );
        }
    }
}

fn as_object(v: &JsValue) -> Option<Object> {
    v.is_object().then(|| v.clone().unchecked_into())
}

/// Copies `from`'s own properties over `into` (later calls win, like Object.assign).
fn merged(into: Option<Object>, from: &Object) -> Object {
    let target = into.unwrap_or_default();
    Object::assign(&target, from)
}

fn with_ui(f: impl FnOnce(Ui)) {
    if let Some(ui) = STATE.with_borrow(|s| s.ui) {
        f(ui);
    }
}

fn dispatch(default_api_base: &str, cmd: &str, arg: JsValue) {
    match cmd {
        "boot" => boot(default_api_base, &arg),
        "identify" => {
            if let Some(o) = as_object(&arg) {
                STATE.with_borrow_mut(|s| s.user = Some(merged(s.user.take(), &o)));
                schedule_sync();
            }
        }
        "identifyCompany" => {
            if let Some(o) = as_object(&arg) {
                STATE.with_borrow_mut(|s| s.company = Some(merged(s.company.take(), &o)));
                schedule_sync();
            }
        }
        "setContext" => {
            // Every entry goes to the server as it is: what it cannot use, it leaves out with
            // a warning (logged below), and the message is answered either way.
            if let Some(o) = as_object(&arg) {
                STATE.with_borrow_mut(|s| s.context = Some(merged(s.context.take(), &o)));
                schedule_sync();
            }
        }
        "open" => with_ui(crate::actions::opened),
        "close" => with_ui(crate::actions::close),
        "toggle" => with_ui(|ui| {
            if ui.open.get_untracked() {
                ui.open.set(false);
            } else {
                crate::actions::opened(ui);
            }
        }),
        "shutdown" | "reset" => {
            let org = STATE.with_borrow_mut(|s| {
                s.user = None;
                s.company = None;
                s.context = None;
                s.config.as_ref().map(|c| c.org_id.clone())
            });
            if let Some(org) = org {
                state::forget(&org);
            }
            crate::live::stop();
            with_ui(|ui| {
                ui.messages.set(Vec::new());
                ui.open.set(false);
                state::set_unread(ui, false);
            });
        }
        other => web_sys::console::warn_1(&format!("Halo: unknown command \"{other}\"").into()),
    }
}

/// Sends what identify()/identifyCompany()/setContext() said to the server once the current
/// burst of calls is over (the queue replays first), if the widget is booted and knows the user.
fn schedule_sync() {
    let ready = STATE.with_borrow_mut(|s| {
        let ready = s.config.is_some() && !s.sync_scheduled;
        s.sync_scheduled |= ready;
        ready
    });
    if ready {
        wasm_bindgen_futures::spawn_local(async {
            STATE.with_borrow_mut(|s| s.sync_scheduled = false);
            if let Err(e) = sync().await {
                web_sys::console::warn_1(&format!("Halo: identify failed: {e}").into());
            }
        });
    }
}

async fn sync() -> Result<(), String> {
    let body = Object::new();
    let set = |o: &Object, k: &str, v: &JsValue| {
        let _ = Reflect::set(o, &k.into(), v);
    };
    let known = STATE.with_borrow(|s| {
        let (user_id, token, traits, company_id) = client::identity(s);
        let user_id = user_id?;
        set(&body, "user_id", &user_id.into());
        if let Some(t) = token {
            set(&body, "user_token", &t.into());
        }
        let _ = Object::assign(&body, &traits);
        if let Some(id) = company_id {
            let company = Object::new();
            if let Some(c) = &s.company {
                let _ = Object::assign(&company, c);
            }
            set(&company, "company_id", &id.into());
            set(&body, "company", &company);
        }
        if let Some(ctx) = &s.context {
            set(&body, "context", ctx);
        }
        Some(())
    });
    if known.is_none() {
        return Ok(()); // a visitor: context still goes with each message
    }
    client::post("/api/sdk/widget/identify", &body)
        .await
        .map(|_| ())
}

fn boot(default_api_base: &str, arg: &JsValue) {
    if STATE.with_borrow(|s| s.config.is_some()) {
        return; // booted already: a second snippet or boot call changes nothing
    }
    let (Some(org_id), Some(widget_key)) = (prop_str(arg, "orgId"), prop_str(arg, "widgetKey"))
    else {
        web_sys::console::error_1(&"Halo: boot needs { orgId, widgetKey }".into());
        return;
    };
    let api_base = prop_str(arg, "apiBase").unwrap_or_else(|| default_api_base.to_owned());
    let ui_options = Reflect::get(arg, &"ui".into()).unwrap_or(JsValue::UNDEFINED);
    let option = |k: &str| Reflect::get(&ui_options, &k.into()).unwrap_or(JsValue::UNDEFINED);
    let manual = option("manualOnPaths");
    let overrides = crate::look::Overrides::read(&ui_options);
    let config = Config {
        manual_on_paths: if Array::is_array(&manual) {
            Array::from(&manual)
                .iter()
                .filter_map(|p| p.as_string())
                .collect()
        } else {
            Vec::new()
        },
        org_id,
        widget_key,
        api_base: api_base.trim_end_matches('/').to_owned(),
    };
    let ui = Ui {
        open: RwSignal::new(false),
        unread: RwSignal::new(state::saved_unread(&config.org_id)),
        pending: RwSignal::new(false),
        messages: RwSignal::new(state::saved_messages(&config.org_id)),
        draft: RwSignal::new(String::new()),
        highlight: RwSignal::new(None),
        look: RwSignal::new(crate::look::look_of(
            &crate::look::saved_appearance(&config.org_id),
            &overrides,
        )),
        launcher: NodeRef::new(),
    };
    let asked = config.clone();
    wasm_bindgen_futures::spawn_local(async move {
        if let Some(next) = crate::look::refresh(asked, overrides).await {
            if ui.look.with_untracked(|l| *l != next) {
                crate::ui::paint(&next);
                ui.look.set(next);
            }
        }
    });
    STATE.with_borrow_mut(|s| {
        s.config = Some(config);
        s.ui = Some(ui);
    });
    crate::ui::mount(ui);
    schedule_sync();
    crate::live::ensure();
}
