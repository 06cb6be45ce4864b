//! The inbox API's wire shapes, as the Worker writes them and the console reads them: the
//! conversation and ticket rows of a list, the views a teammate works from with their counts,
//! list cursors, and search hits.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::chat::{ContextEntry, FieldError, InvalidField};
use crate::context::Profile;

/// Rows in a page unless `limit` says otherwise.
pub const DEFAULT_PAGE: u32 = 50;
/// Most rows in one page.
pub const MAX_PAGE: u32 = 100;
/// Longest search query, in characters.
pub const MAX_QUERY_CHARS: usize = 200;

/// A conversation as a list shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationSummary {
    pub session_id: String,
    pub user_id: Option<String>,
    pub company_id: Option<String>,
    pub channel: String,
    pub agent_id: String,
    pub mood: Option<String>,
    pub outcome: Option<String>,
    pub live: bool,
    pub ai_score: u8,
    pub score_inputs: ScoreView,
    pub taken_over_by: Option<String>,
    pub needs_human: bool,
    pub message_count: i64,
    pub last_message: Option<LastMessage>,
    pub ticket: Option<TicketRef>,
    /// Customer activity the asking teammate has not opened yet.
    #[serde(default)]
    pub unread: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The inputs of a conversation's AI score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreView {
    pub mean_sentiment: Option<f64>,
    pub thumbs_up: u32,
    pub thumbs_down: u32,
    pub corrections: u32,
}

/// The latest line of a conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LastMessage {
    pub role: Option<String>,
    pub text: String,
}

/// A ticket by id and status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketRef {
    pub id: String,
    pub status: Option<String>,
}

/// A ticket, as lists and the ticket view show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ticket {
    pub id: String,
    pub subject: String,
    pub status: String,
    pub snoozed_until: Option<i64>,
    /// The teammate id it is assigned to.
    pub assignee: Option<String>,
    pub team: Option<String>,
    pub channel: String,
    pub source: String,
    pub user_id: Option<String>,
    pub company_id: Option<String>,
    pub session_id: Option<String>,
    pub custom_fields: Value,
    pub ai_confidence: Option<f64>,
    pub escalation_reason: Option<String>,
    #[serde(default)]
    pub unread: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A message of a ticket's thread: a `reply` (the customer sees it), a `note` (the team
/// only), or the escalated conversation's `transcript`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThreadMessage {
    pub id: String,
    pub kind: String,
    pub author: String,
    pub body: String,
    pub created_at: i64,
}

/// The ticket lists a teammate works from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketView {
    /// Open, Priority or In progress, assigned to the asking teammate.
    Mine,
    /// Open, Priority or In progress, assigned to no one.
    Unassigned,
    /// Open, Priority or In progress.
    Open,
    Priority,
    Snoozed,
    Resolved,
    Spam,
}

impl TicketView {
    pub const ALL: [TicketView; 7] = [
        TicketView::Mine,
        TicketView::Unassigned,
        TicketView::Open,
        TicketView::Priority,
        TicketView::Snoozed,
        TicketView::Resolved,
        TicketView::Spam,
    ];
    pub const ALLOWED: &'static str = "mine, unassigned, open, priority, snoozed, resolved, spam";

    pub fn parse(s: &str) -> Option<TicketView> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TicketView::Mine => "mine",
            TicketView::Unassigned => "unassigned",
            TicketView::Open => "open",
            TicketView::Priority => "priority",
            TicketView::Snoozed => "snoozed",
            TicketView::Resolved => "resolved",
            TicketView::Spam => "spam",
        }
    }

    /// The name a teammate sees.
    pub fn label(self) -> &'static str {
        match self {
            TicketView::Mine => "Mine",
            TicketView::Unassigned => "Unassigned",
            TicketView::Open => "All open",
            TicketView::Priority => "Priority",
            TicketView::Snoozed => "Snoozed",
            TicketView::Resolved => "Resolved",
            TicketView::Spam => "Spam",
        }
    }

    /// The stored statuses the view lists.
    pub fn statuses(self) -> &'static [&'static str] {
        match self {
            TicketView::Mine | TicketView::Unassigned | TicketView::Open => {
                &["open", "priority", "in_progress"]
            }
            TicketView::Priority => &["priority"],
            TicketView::Snoozed => &["snoozed"],
            TicketView::Resolved => &["resolved"],
            TicketView::Spam => &["spam"],
        }
    }
}

/// How many items each view holds, for the console's navigation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Live conversations.
    pub live: u32,
    pub mine: u32,
    pub unassigned: u32,
    pub open: u32,
    pub priority: u32,
    pub snoozed: u32,
    pub resolved: u32,
    pub spam: u32,
    /// Conversations and tickets with customer activity the teammate has not seen.
    pub unread: u32,
}

impl Counts {
    pub fn of(&self, view: TicketView) -> u32 {
        match view {
            TicketView::Mine => self.mine,
            TicketView::Unassigned => self.unassigned,
            TicketView::Open => self.open,
            TicketView::Priority => self.priority,
            TicketView::Snoozed => self.snoozed,
            TicketView::Resolved => self.resolved,
            TicketView::Spam => self.spam,
        }
    }
}

/// Where the next page of a list starts: after the row last shown (its activity time and
/// id, since lists are newest activity first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub at: i64,
    pub id: String,
}

impl Cursor {
    pub fn encode(&self) -> String {
        format!("{}_{}", self.at, self.id)
    }

    pub fn parse(s: &str) -> Result<Cursor, FieldError> {
        let bad = || {
            FieldError::new(
                "cursor",
                InvalidField::Invalid("must be a next_cursor this API returned"),
            )
        };
        let (at, id) = s.split_once('_').ok_or_else(bad)?;
        let at = at.parse().map_err(|_| bad())?;
        if id.is_empty() || id.len() > 64 {
            return Err(bad());
        }
        Ok(Cursor {
            at,
            id: id.to_owned(),
        })
    }
}

/// A page size from the query string: [`DEFAULT_PAGE`] when absent, at most [`MAX_PAGE`].
pub fn page_size(v: Option<&str>) -> Result<u32, FieldError> {
    match v {
        None => Ok(DEFAULT_PAGE),
        Some(s) => match s.parse::<u32>() {
            Ok(n) if (1..=MAX_PAGE).contains(&n) => Ok(n),
            _ => Err(FieldError::new(
                "limit",
                InvalidField::Invalid("must be a whole number from 1 to 100"),
            )),
        },
    }
}

/// A search query: trimmed, not empty, bounded.
pub fn search_query(v: Option<&str>) -> Result<String, FieldError> {
    let q = v.unwrap_or("").trim();
    if q.is_empty() {
        return Err(FieldError::new("q", InvalidField::Missing));
    }
    let len = q.chars().count();
    if len > MAX_QUERY_CHARS {
        return Err(FieldError::new(
            "q",
            InvalidField::TooLong {
                max: MAX_QUERY_CHARS,
                len,
            },
        ));
    }
    Ok(q.to_owned())
}

/// The `LIKE` pattern that finds `q` anywhere in a text, its wildcards taken literally
/// (with `ESCAPE '\'`).
pub fn like_pattern(q: &str) -> String {
    let mut p = String::with_capacity(q.len() + 2);
    p.push('%');
    for c in q.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// An FTS5 MATCH expression that finds every word of `q` as a word prefix (so a teammate
/// typing "refu" already finds "refund"); `None` when `q` has no word characters.
pub fn fts_prefix_query(q: &str) -> Option<String> {
    let words: Vec<String> = crate::search::words(q)
        .take(8)
        .map(|w| format!("\"{w}\"*"))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// A contact, as the API shows one (`GET /api/inbox/contacts/:user_id`, `/api/sdk/users/:id`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    pub user_id: String,
    pub verified: bool,
    pub name: Option<String>,
    pub email: Option<String>,
    pub role: Option<String>,
    pub plan: Option<String>,
    pub signed_up_at: Option<String>,
    pub custom_fields: Value,
    pub context: Value,
    pub company_id: Option<String>,
    pub created_at: i64,
    pub last_seen_at: i64,
}

/// A company, as the API shows one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Company {
    pub company_id: String,
    pub name: Option<String>,
    pub plan: Option<String>,
    pub industry: Option<String>,
    pub team_size: i64,
    pub custom_fields: Value,
    pub context: Value,
    pub created_at: i64,
    pub updated_at: i64,
}

fn context_map(blob: &Value) -> BTreeMap<String, ContextEntry> {
    blob.as_object()
        .map(|o| {
            o.iter()
                .filter_map(|(k, v)| Some((k.clone(), serde_json::from_value(v.clone()).ok()?)))
                .collect()
        })
        .unwrap_or_default()
}

/// The named traits first, then the custom ones.
fn traits_of(named: &[(&str, &Option<String>)], custom: &Value) -> Map<String, Value> {
    let mut traits = Map::new();
    for (k, v) in named {
        if let Some(v) = v {
            traits.insert((*k).into(), Value::String(v.clone()));
        }
    }
    if let Some(custom) = custom.as_object() {
        traits.extend(custom.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    traits
}

impl Contact {
    /// Traits and context as the prompt merge takes them.
    pub fn profile(&self) -> Profile {
        let named = [
            ("name", &self.name),
            ("email", &self.email),
            ("role", &self.role),
            ("plan", &self.plan),
            ("signed_up_at", &self.signed_up_at),
        ];
        Profile {
            traits: traits_of(&named, &self.custom_fields),
            context: context_map(&self.context),
        }
    }
}

impl Company {
    pub fn profile(&self) -> Profile {
        let named = [
            ("name", &self.name),
            ("plan", &self.plan),
            ("industry", &self.industry),
        ];
        let mut traits = traits_of(&named, &Value::Null);
        traits.insert("team_size".into(), Value::from(self.team_size));
        if let Some(custom) = self.custom_fields.as_object() {
            traits.extend(custom.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        Profile {
            traits,
            context: context_map(&self.context),
        }
    }
}

/// `GET /api/inbox/contacts/:user_id`: a contact, their company, what the AI is given about
/// them (`ai_view`, as a chat turn renders it), and their tickets and conversations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContactView {
    pub user: Contact,
    pub company: Option<Company>,
    pub ai_view: String,
    pub tickets: Vec<Ticket>,
    pub conversations: Vec<ConversationSummary>,
}

/// `GET /api/inbox/companies/:company_id`: a company and its users' tickets and conversations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompanyView {
    pub company: Company,
    pub tickets: Vec<Ticket>,
    pub conversations: Vec<ConversationSummary>,
}

/// `GET /api/inbox/tickets/:id`: the ticket and its thread.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketDetail {
    pub ticket: Ticket,
    pub messages: Vec<ThreadMessage>,
}

/// One line of a conversation as the inbox shows it, with what the team and the AI added.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TranscriptLine {
    pub id: String,
    pub role: String,
    pub text: String,
    pub confidence: Option<f64>,
    pub sentiment: Option<f64>,
    pub mood: Option<String>,
    /// The customer's rating of an AI answer: `up` or `down`.
    pub rating: Option<String>,
    /// Trainer feedback and corrections given on it.
    pub feedback: Value,
    pub engine: Option<String>,
    pub citations: Value,
    pub actions: Value,
    pub error: Option<String>,
    /// What the AI saw: the context text, the passages, the tools it ran.
    pub trace: Value,
    pub created_at: i64,
}

/// `GET /api/inbox/conversations/:session_id`: the conversation's row, its transcript and
/// its whispers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationDetail {
    #[serde(flatten)]
    pub summary: ConversationSummary,
    pub messages: Vec<TranscriptLine>,
    pub whispers: Vec<Value>,
}

/// A contact as the Contacts list shows them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContactSummary {
    pub user_id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub company_id: Option<String>,
    pub verified: bool,
    pub last_seen_at: i64,
}

/// A company as the Companies list shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompanySummary {
    pub company_id: String,
    pub name: Option<String>,
    pub plan: Option<String>,
    /// How many of its users the workspace knows.
    pub users: u32,
    pub updated_at: i64,
}

/// What a search hit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HitKind {
    Ticket,
    Conversation,
    Contact,
}

/// One result of `GET /api/inbox/search`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchHit {
    pub kind: HitKind,
    /// The ticket id, the conversation's session id, or the contact's user id.
    pub id: String,
    pub title: String,
    /// Where the words were found.
    pub snippet: String,
    pub updated_at: i64,
}

/// The text around the first place `q` occurs in `text` (case-insensitive), at most about
/// `width` characters, with an ellipsis where it was cut.
pub fn snippet(text: &str, q: &str, width: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    // Lower-casing can change lengths (`İ` is two characters lower-cased): lower each
    // character on its own and remember which original character each byte came from.
    let mut lower = String::with_capacity(text.len());
    let mut origin = Vec::with_capacity(text.len());
    for (i, c) in chars.iter().enumerate() {
        for l in c.to_lowercase() {
            lower.push(l);
            origin.extend(std::iter::repeat_n(i, l.len_utf8()));
        }
    }
    let at = lower
        .find(&q.to_lowercase())
        .and_then(|b| origin.get(b).copied())
        .unwrap_or(0);
    let from = at.saturating_sub(width / 3).min(chars.len());
    let to = (from + width).min(chars.len());
    let mut s: String = chars[from..to].iter().collect();
    s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if from > 0 {
        s.insert(0, '…');
    }
    if to < chars.len() {
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_name_their_statuses_and_parse_back() {
        for v in TicketView::ALL {
            assert_eq!(TicketView::parse(v.as_str()), Some(v));
            assert!(!v.statuses().is_empty());
        }
        assert_eq!(TicketView::parse("everything"), None);
        assert_eq!(
            TicketView::Open.statuses(),
            ["open", "priority", "in_progress"]
        );
    }

    #[test]
    fn a_cursor_round_trips_and_junk_is_refused() {
        let c = Cursor {
            at: 1700000000000,
            id: "3f2a-b".into(),
        };
        assert_eq!(Cursor::parse(&c.encode()), Ok(c));
        for junk in ["", "abc", "12_", "x_1"] {
            assert_eq!(Cursor::parse(junk).unwrap_err().field, "cursor", "{junk}");
        }
    }

    #[test]
    fn page_sizes_default_and_are_bounded() {
        assert_eq!(page_size(None), Ok(DEFAULT_PAGE));
        assert_eq!(page_size(Some("100")), Ok(100));
        assert!(page_size(Some("0")).is_err());
        assert!(page_size(Some("101")).is_err());
        assert!(page_size(Some("ten")).is_err());
    }

    #[test]
    fn a_search_takes_its_words_literally() {
        assert_eq!(like_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
        assert_eq!(like_pattern("Refund"), "%refund%");
        assert!(search_query(Some("   ")).is_err());
        assert!(search_query(Some(&"x".repeat(201))).is_err());
        assert_eq!(search_query(Some(" refund ")), Ok("refund".into()));
    }

    #[test]
    fn a_search_matches_word_prefixes_and_quotes_every_word() {
        assert_eq!(
            fts_prefix_query("Refu \"OR\" cust*"),
            Some("\"refu\"* \"or\"* \"cust\"*".into())
        );
        assert_eq!(fts_prefix_query("?? --"), None);
    }

    #[test]
    fn a_snippet_shows_the_words_in_their_context() {
        let text = "Hello there. My parcel was held at customs for a week and nobody told me.";
        let s = snippet(text, "CUSTOMS", 30);
        assert!(s.contains("customs"), "{s}");
        assert!(s.starts_with('…') && s.ends_with('…'), "{s}");
        assert_eq!(snippet("short", "short", 30), "short");
        assert_eq!(snippet("Ünïcödé text here", "text", 8), "…é text h…");
        // Characters that grow when lower-cased never push the window past the text.
        let grown = format!("{}refund", "İ".repeat(100));
        assert!(snippet(&grown, "refund", 120).contains("refund"));
        assert!(snippet(&"İ".repeat(300), "İİ", 30).starts_with('İ'));
    }
}
