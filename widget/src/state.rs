//! The widget's state: configuration from `boot`, who the user is, the context the page set,
//! and the conversation shown in the panel (kept in localStorage across reloads).

use std::cell::RefCell;

use halo_shared::chat::{reason, Action};
use halo_shared::live::LineRole;
use js_sys::{Array, Object, Reflect, JSON};
use leptos::prelude::*;
use wasm_bindgen::JsValue;

/// From `Halo('boot', { orgId, widgetKey, apiBase? })`.
#[derive(Clone, Debug)]
pub struct Config {
    pub org_id: String,
    pub widget_key: String,
    pub api_base: String,
    /// `ui.manualOnPaths`: paths (`*` matches anything) where the panel never opens itself.
    pub manual_on_paths: Vec<String>,
}

/// How the widget looks and speaks now.
#[derive(Clone, Debug, PartialEq)]
pub struct Look {
    pub brand: String,
    /// Text on the brand colour: white, or dark on a light brand.
    pub on_brand: &'static str,
    /// Brand-coloured text on white (links, outlined buttons): the brand, or dark text when
    /// the brand is too light to read on white.
    pub accent: String,
    pub left: bool,
    pub title: String,
    pub greeting: String,
    pub team_name: Option<String>,
    pub initials: Option<String>,
    pub strings: &'static halo_shared::appearance::Strings,
    pub auto_open_unseen: bool,
}

/// Who wrote a line in the panel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    User,
    Ai,
    /// A person from the support team.
    Teammate,
    /// A note about the conversation ("Sam joined the conversation.").
    System,
    /// A problem reaching support, shown but never sent.
    Notice,
}

impl Role {
    /// The line role the server uses, for every role but the widget's own notices.
    fn line(self) -> Option<LineRole> {
        Some(match self {
            Role::User => LineRole::User,
            Role::Ai => LineRole::Ai,
            Role::Teammate => LineRole::Teammate,
            Role::System => LineRole::System,
            Role::Notice => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        self.line().map_or("notice", LineRole::as_str)
    }

    /// A line role the server sent (a notice is never one).
    pub fn parse(s: &str) -> Option<Self> {
        Some(match LineRole::parse(s)? {
            LineRole::User => Role::User,
            LineRole::Ai => Role::Ai,
            LineRole::Teammate => Role::Teammate,
            LineRole::System => Role::System,
        })
    }
}

/// A source an answer cites.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Citation {
    pub title: String,
    /// Only `http(s)` URLs are kept; anything else is shown as plain text.
    pub url: Option<String>,
}

/// One line of the conversation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub id: u32,
    pub role: Role,
    pub text: String,
    pub citations: Vec<Citation>,
    /// The AI offered to bring in a person (the panel shows a button for it).
    pub offer_human: bool,
    /// The stored AI answer's id, which a rating names.
    pub server_id: Option<String>,
    /// The user's rating of an AI answer: `Some(true)` helpful, `Some(false)` not.
    pub rating: Option<bool>,
    /// An answer still being generated (streamed); never saved.
    pub partial: bool,
}

impl Message {
    /// A line with no citations and no offer.
    pub fn new(role: Role, text: String) -> Self {
        Self {
            id: next_id(),
            role,
            text,
            citations: Vec::new(),
            offer_human: false,
            server_id: None,
            rating: None,
            partial: false,
        }
    }
}

/// Where the outline goes (viewport pixels) and what it says.
#[derive(Clone, Debug, PartialEq)]
pub struct Spot {
    pub top: f64,
    pub left: f64,
    pub width: f64,
    pub height: f64,
    pub message: String,
}

/// The reactive parts the panel renders. Copy handles to arena-owned signals.
#[derive(Clone, Copy)]
pub struct Ui {
    pub open: RwSignal<bool>,
    pub unread: RwSignal<bool>,
    pub pending: RwSignal<bool>,
    pub messages: RwSignal<Vec<Message>>,
    /// The composer's text.
    pub draft: RwSignal<String>,
    /// The host-page element the agent is pointing at, if any.
    pub highlight: RwSignal<Option<Spot>>,
    /// The workspace's look, with the page's boot options over it.
    pub look: RwSignal<Look>,
    /// The launcher, where focus goes back when the panel closes.
    pub launcher: NodeRef<leptos::html::Button>,
}

/// Everything the JS API has been told.
#[derive(Default)]
pub struct State {
    pub config: Option<Config>,
    pub user: Option<Object>,
    pub company: Option<Object>,
    pub context: Option<Object>,
    pub ui: Option<Ui>,
    /// An identify sync is queued to run once the current burst of calls is over.
    pub sync_scheduled: bool,
    /// Server ids of the live lines shown since the page loaded (a line can arrive both on the
    /// socket and in a catch-up read).
    pub live_ids: Vec<String>,
    /// A session is being opened on the server.
    pub opening: bool,
    /// The element inside the shadow root that the widget's regions are mounted in.
    pub root: Option<web_sys::Element>,
    next_id: u32,
}

thread_local! {
    pub static STATE: RefCell<State> = RefCell::new(State::default());
}

/// A string property of a JS object.
pub fn prop_str(obj: &JsValue, key: &str) -> Option<String> {
    Reflect::get(obj, &JsValue::from_str(key))
        .ok()
        .and_then(|v| v.as_string())
}

pub fn is_web_url(url: &str) -> bool {
    url.starts_with("https://") || url.starts_with("http://")
}

pub fn next_id() -> u32 {
    STATE.with_borrow_mut(|s| {
        s.next_id += 1;
        s.next_id
    })
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

fn key(org_id: &str, what: &str) -> String {
    format!("halo:{org_id}:{what}")
}

/// Whether the launcher's unread dot was showing (it survives a reload).
pub fn saved_unread(org_id: &str) -> bool {
    storage()
        .and_then(|s| s.get_item(&key(org_id, "unread")).ok().flatten())
        .is_some()
}

/// Shows or clears the unread dot, and remembers it.
pub fn set_unread(ui: Ui, unread: bool) {
    ui.unread.set(unread);
    let org = STATE.with_borrow(|s| s.config.as_ref().map(|c| c.org_id.clone()));
    if let (Some(s), Some(org)) = (storage(), org) {
        let _ = if unread {
            s.set_item(&key(&org, "unread"), "1")
        } else {
            s.remove_item(&key(&org, "unread"))
        };
    }
}

/// The time (ms) of the latest teammate or system line this browser has shown.
pub fn saved_seen(org_id: &str) -> u64 {
    storage()
        .and_then(|s| s.get_item(&key(org_id, "seen")).ok().flatten())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

pub fn save_seen(org_id: &str, at: u64) {
    if let Some(s) = storage() {
        let _ = s.set_item(&key(org_id, "seen"), &at.to_string());
    }
}

/// Whether `path` matches a `manualOnPaths` pattern, where `*` matches any run of characters.
pub fn path_matches(pattern: &str, path: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == path,
        Some((head, rest)) => {
            let Some(tail) = path.strip_prefix(head) else {
                return false;
            };
            (0..=tail.len())
                .filter(|i| tail.is_char_boundary(*i))
                .any(|i| path_matches(rest, &tail[i..]))
        }
    }
}

/// The session id saved for this workspace, if any.
pub fn saved_session(org_id: &str) -> Option<String> {
    storage()?.get_item(&key(org_id, "session")).ok().flatten()
}

pub fn save_session(org_id: &str, session_id: &str) {
    if let Some(s) = storage() {
        let _ = s.set_item(&key(org_id, "session"), session_id);
    }
}

/// Most lines kept in localStorage.
const KEPT_MESSAGES: usize = 50;

/// Saves the conversation (user and AI lines; notices are transient).
pub fn save_messages(org_id: &str, messages: &[Message]) {
    let Some(s) = storage() else { return };
    let kept = messages
        .iter()
        .filter(|m| m.role != Role::Notice && !m.partial);
    let skip = kept.clone().count().saturating_sub(KEPT_MESSAGES);
    let arr = Array::new();
    for m in kept.skip(skip) {
        let o = Object::new();
        let _ = Reflect::set(&o, &"role".into(), &m.role.as_str().into());
        let _ = Reflect::set(&o, &"text".into(), &m.text.as_str().into());
        let cites = Array::new();
        for c in &m.citations {
            let co = Object::new();
            let _ = Reflect::set(&co, &"title".into(), &c.title.as_str().into());
            if let Some(u) = &c.url {
                let _ = Reflect::set(&co, &"url".into(), &u.as_str().into());
            }
            cites.push(&co);
        }
        let _ = Reflect::set(&o, &"citations".into(), &cites);
        let _ = Reflect::set(&o, &"offer_human".into(), &m.offer_human.into());
        if let Some(id) = &m.server_id {
            let _ = Reflect::set(&o, &"server_id".into(), &id.as_str().into());
        }
        if let Some(r) = m.rating {
            let _ = Reflect::set(&o, &"rating".into(), &r.into());
        }
        arr.push(&o);
    }
    if let Ok(json) = JSON::stringify(&arr) {
        let _ = s.set_item(&key(org_id, "messages"), &String::from(json));
    }
}

/// Whether a JSON array of actions holds an offer of a person that the user has not already
/// taken up (`reason` other than `user_requested`).
pub fn offers_human(actions: &JsValue) -> bool {
    Array::is_array(actions)
        && Array::from(actions).iter().any(|a| {
            // A request for a person, or for what only the team can do, already opened a
            // ticket: no offer to make.
            prop_str(&a, "type").as_deref() == Some(Action::OFFER_HUMAN)
                && !matches!(
                    prop_str(&a, "reason").as_deref(),
                    Some(reason::USER_REQUESTED | reason::NEEDS_TEAM)
                )
        })
}

/// Reads citations from a JSON array of `{ title, url? }`.
pub fn parse_citations(v: &JsValue) -> Vec<Citation> {
    if !Array::is_array(v) {
        return Vec::new();
    }
    Array::from(v)
        .iter()
        .filter_map(|c| {
            let title = prop_str(&c, "title")?;
            let url = prop_str(&c, "url").filter(|u| is_web_url(u));
            Some(Citation { title, url })
        })
        .collect()
}

/// The conversation saved for this workspace.
pub fn saved_messages(org_id: &str) -> Vec<Message> {
    let Some(text) = storage().and_then(|s| s.get_item(&key(org_id, "messages")).ok().flatten())
    else {
        return Vec::new();
    };
    let Ok(v) = JSON::parse(&text) else {
        return Vec::new();
    };
    if !Array::is_array(&v) {
        return Vec::new();
    }
    Array::from(&v)
        .iter()
        .filter_map(|m| {
            let role = Role::parse(&prop_str(&m, "role")?)?;
            let text = prop_str(&m, "text")?;
            let citations = parse_citations(&Reflect::get(&m, &"citations".into()).ok()?);
            let offer_human = Reflect::get(&m, &"offer_human".into()).ok()?.is_truthy();
            let rating = Reflect::get(&m, &"rating".into()).ok()?.as_bool();
            Some(Message {
                id: next_id(),
                role,
                text,
                citations,
                offer_human,
                server_id: prop_str(&m, "server_id"),
                rating,
                partial: false,
            })
        })
        .collect()
}

/// Forgets the session and the conversation (on logout).
pub fn forget(org_id: &str) {
    if let Some(s) = storage() {
        for what in ["session", "messages", "unread", "seen"] {
            let _ = s.remove_item(&key(org_id, what));
        }
    }
}

/// Adds a line to the panel and saves the conversation.
pub fn push(ui: Ui, message: Message) {
    ui.messages.update(|all| {
        // A streamed answer is already shown: the final one replaces it.
        let streamed = message.server_id.as_ref().and_then(|id| {
            all.iter()
                .position(|m| m.role == Role::Ai && m.server_id.as_ref() == Some(id))
        });
        match streamed {
            Some(i) => all[i] = message,
            None => all.push(message),
        }
    });
    if let Some(org) = STATE.with_borrow(|s| s.config.as_ref().map(|c| c.org_id.clone())) {
        ui.messages.with_untracked(|m| save_messages(&org, m));
    }
}
