//! Halo's pure domain: the chat API's types, request parsing and validation, key formats,
//! the full-text query sanitiser and the offline answer engine's logic.
//!
//! This crate owns rules, never I/O: it must not name `worker`, `leptos` or `web_sys`, so that
//! everything here builds for the native target (where most unit tests run) and for wasm32
//! (where the edge Worker and the widget use it).

pub mod admin;
pub mod agents;
pub mod answer;
pub mod appearance;
pub mod chat;
pub mod console;
pub mod context;
pub mod conversation;
pub mod crawl;
pub mod dates;
#[cfg(feature = "email")]
pub mod email;
pub mod evidence;
pub mod fusion;
pub mod html;
#[cfg(feature = "identity")]
pub mod identity;
pub mod ids;
pub mod inbox;
pub mod keys;
pub mod knowledge;
pub mod limits;
pub mod live;
pub mod llm;
pub mod markdown;
pub mod places;
pub mod profile;
pub mod routing;
pub mod search;
pub mod settings;
pub mod tickets;
pub mod tools;
pub mod turn;
pub mod vectors;
pub mod webhooks;
