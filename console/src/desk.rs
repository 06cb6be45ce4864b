//! What the inbox's parts share: the session, the counts, the list and its rows, the team,
//! the filters, and how a failed request is shown.

use halo_shared::console::TeammateView;
use halo_shared::inbox::{CompanySummary, ContactSummary, ConversationSummary, Counts, Ticket};
use leptos::prelude::*;

use crate::api;
use crate::Session;

/// A row of a list.
#[derive(Debug, Clone, PartialEq)]
pub enum Row {
    Conversation(ConversationSummary),
    Ticket(Ticket),
    Contact(ContactSummary),
    Company(CompanySummary),
}

impl Row {
    pub fn id(&self) -> &str {
        match self {
            Row::Conversation(c) => &c.session_id,
            Row::Ticket(t) => &t.id,
            Row::Contact(c) => &c.user_id,
            Row::Company(c) => &c.company_id,
        }
    }
}

/// What the inbox's parts share: the session, the counts, the list, the team.
#[derive(Clone, Copy)]
pub struct Desk {
    pub session: Session,
    pub counts: RwSignal<Counts>,
    pub rows: RwSignal<Vec<Row>>,
    pub next: RwSignal<Option<String>>,
    pub teammates: RwSignal<Vec<TeammateView>>,
    /// Bumped when something changed: the list and the counts reload.
    pub changed: RwSignal<u32>,
    /// The Contacts or Companies list's filter; a ticket view's team.
    pub filter: RwSignal<String>,
    /// A ticket view's assignee (a teammate id; empty: anyone).
    pub assignee: RwSignal<String>,
    pub error: RwSignal<Option<String>>,
}

impl Desk {
    /// Reloads the list and the counts.
    pub fn refresh(&self) {
        self.changed.update(|n| *n += 1);
    }

    /// Shows a failed request; an ended session goes back to sign-in.
    pub fn failed(&self, e: api::Failure) {
        if e.signed_out() {
            self.session.signed_out();
        } else {
            self.error.set(Some(e.message));
        }
    }

    /// A teammate's name by id.
    pub fn teammate_name(&self, id: &str) -> String {
        self.teammates
            .get()
            .into_iter()
            .find(|t| t.id == id)
            .map(|t| t.name)
            .unwrap_or_else(|| "a teammate".into())
    }
}

/// Focuses the element `selector` finds.
pub fn focus(selector: &str) {
    use wasm_bindgen::JsCast;
    if let Some(el) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector(selector).ok().flatten())
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = el.focus();
    }
}
