//! The `highlight` action: the agent points the user at an element of the host page. The
//! widget finds it (reading the host page, never changing it), scrolls it into view and draws
//! an outline with the agent's message in its own shadow root, over the element.

use js_sys::Array;
use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use halo_shared::chat::Action;

use crate::state::{prop_str, Spot, Ui};

/// How long an outline stays.
const SHOWN_MS: i32 = 10_000;

/// Runs the highlight actions of a chat response.
pub fn run(ui: Ui, actions: &JsValue) {
    if !Array::is_array(actions) {
        return;
    }
    for a in Array::from(actions).iter() {
        if prop_str(&a, "type").as_deref() != Some(Action::HIGHLIGHT) {
            continue;
        }
        if let (Some(selector), Some(message)) = (prop_str(&a, "selector"), prop_str(&a, "message"))
        {
            show(ui, &selector, message);
            break; // one outline at a time
        }
    }
}

thread_local! {
    /// Which highlight is current; an older one's timer leaves a newer one alone.
    static GENERATION: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

fn show(ui: Ui, selector: &str, message: String) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let Some(document) = window.document() else {
        return;
    };
    // The server only sends simple selectors; a bad one simply finds nothing.
    let Ok(Some(el)) = document.query_selector(selector) else {
        web_sys::console::warn_1(&format!("Halo: nothing on this page matches {selector}").into());
        return;
    };
    if el.closest("halo-widget").ok().flatten().is_some() {
        return; // never the widget itself
    }
    let generation = GENERATION.with(|g| {
        g.set(g.get().wrapping_add(1));
        g.get()
    });
    ui.highlight.set(None);
    let opts = web_sys::ScrollIntoViewOptions::new();
    opts.set_behavior(web_sys::ScrollBehavior::Smooth);
    opts.set_block(web_sys::ScrollLogicalPosition::Center);
    el.scroll_into_view_with_scroll_into_view_options(&opts);

    let place = std::rc::Rc::new(move || {
        let r = el.get_bounding_client_rect();
        ui.highlight.set(Some(Spot {
            top: r.top(),
            left: r.left(),
            width: r.width(),
            height: r.height(),
            message: message.clone(),
        }));
    });
    // Once the smooth scroll has settled the outline appears, then follows the element while
    // the page scrolls or resizes, until it times out.
    let follow = Closure::<dyn Fn()>::new({
        let place = place.clone();
        move || {
            if GENERATION.with(|g| g.get()) == generation
                && ui.highlight.with_untracked(Option::is_some)
            {
                place();
            }
        }
    });
    let listener: js_sys::Function = follow.as_ref().unchecked_ref::<js_sys::Function>().clone();
    let _ = window.add_event_listener_with_callback("scroll", &listener);
    let _ = window.add_event_listener_with_callback("resize", &listener);
    let settle = Closure::once_into_js(move || {
        if GENERATION.with(|g| g.get()) == generation {
            place();
        }
    });
    let _ =
        window.set_timeout_with_callback_and_timeout_and_arguments_0(settle.unchecked_ref(), 450);
    let done = Closure::once_into_js(move || {
        if GENERATION.with(|g| g.get()) == generation {
            ui.highlight.set(None);
        }
        if let Some(w) = web_sys::window() {
            let _ = w.remove_event_listener_with_callback("scroll", &listener);
            let _ = w.remove_event_listener_with_callback("resize", &listener);
        }
        drop(follow);
    });
    let _ = window
        .set_timeout_with_callback_and_timeout_and_arguments_0(done.unchecked_ref(), SHOWN_MS);
}
