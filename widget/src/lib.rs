//! Halo's chat widget: a launcher bubble and a chat panel, mounted in their own open Shadow DOM
//! so the host page's CSS cannot reach them, and the `window.Halo` JS API.
//!
//! The snippet defines `window.Halo` as a queue; [`start`] replaces it with the real function
//! and replays the queued calls in order. The widget only ever touches its own host element:
//! it must never read or change the rest of the host page.

mod actions;
mod api;
mod client;
mod highlight;
mod live;
mod look;
mod state;
mod ui;

use wasm_bindgen::prelude::*;

/// Called by the entry module once the wasm is loaded, with the origin the widget was served
/// from (the default API base).
#[wasm_bindgen]
pub fn start(default_api_base: String) {
    api::install(default_api_base);
}
