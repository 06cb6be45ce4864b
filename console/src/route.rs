//! Where the console is: each page and inbox place has a path under `/app/`, so a link, a
//! reload or the back button lands where the teammate was.

use halo_shared::inbox::TicketView;

/// A page of the console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Page {
    SignIn,
    /// Accepting an invite: set name and password.
    Invite(String),
    /// A one-time sign-in link.
    Link(String),
    Inbox(Place),
}

/// A place in the inbox: a list, and what is open in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// Live conversations, with one open (by session id).
    Live(Option<String>),
    /// A ticket view, with one ticket open.
    Tickets(TicketView, Option<String>),
    /// The contact directory, with one contact open (by user id).
    Contacts(Option<String>),
    /// The companies, with one open (by company id).
    Companies(Option<String>),
    /// A settings page (the team's included), or the setup wizard.
    Settings(Section),
}

/// The settings pages, in the menu's order, and the setup wizard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// The setup wizard.
    Setup,
    Install,
    Widget,
    Knowledge,
    Agents,
    Routing,
    Webhooks,
    Email,
    Data,
    Security,
    /// Teammates, invites, roles.
    Team,
}

impl Section {
    /// The pages the menu lists (the wizard has its own entry).
    pub const MENU: [Section; 10] = [
        Section::Install,
        Section::Widget,
        Section::Knowledge,
        Section::Agents,
        Section::Routing,
        Section::Webhooks,
        Section::Email,
        Section::Data,
        Section::Security,
        Section::Team,
    ];

    /// The last part of its path.
    pub fn slug(self) -> &'static str {
        match self {
            Section::Setup => "setup",
            Section::Install => "install",
            Section::Widget => "widget",
            Section::Knowledge => "knowledge",
            Section::Agents => "agents",
            Section::Routing => "routing",
            Section::Webhooks => "webhooks",
            Section::Email => "email",
            Section::Data => "data",
            Section::Security => "security",
            Section::Team => "team",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Section::Setup => "Set up Halo",
            Section::Install => "Install",
            Section::Widget => "Widget",
            Section::Knowledge => "Knowledge",
            Section::Agents => "Agents",
            Section::Routing => "Routing",
            Section::Webhooks => "Webhooks",
            Section::Email => "Email",
            Section::Data => "Data",
            Section::Security => "Security",
            Section::Team => "Team",
        }
    }

    pub fn from_slug(slug: &str) -> Option<Section> {
        Section::MENU
            .into_iter()
            .chain([Section::Setup])
            .find(|s| s.slug() == slug)
    }
}

impl Place {
    /// The list this place shows, without what is open in it.
    pub fn list(&self) -> Place {
        match self {
            Place::Live(_) => Place::Live(None),
            Place::Tickets(v, _) => Place::Tickets(*v, None),
            Place::Contacts(_) => Place::Contacts(None),
            Place::Companies(_) => Place::Companies(None),
            other => other.clone(),
        }
    }

    /// The same list with `id` open.
    pub fn open(&self, id: &str) -> Place {
        let id = Some(id.to_owned());
        match self {
            Place::Live(_) => Place::Live(id),
            Place::Tickets(v, _) => Place::Tickets(*v, id),
            Place::Contacts(_) => Place::Contacts(id),
            Place::Companies(_) => Place::Companies(id),
            other => other.clone(),
        }
    }

    /// The id of what is open, if anything.
    pub fn opened(&self) -> Option<&str> {
        match self {
            Place::Live(id)
            | Place::Tickets(_, id)
            | Place::Contacts(id)
            | Place::Companies(id) => id.as_deref(),
            Place::Settings(_) => None,
        }
    }
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Page {
    /// The page a path shows; anything unknown under `/app/` is the live feed.
    pub fn from_path(path: &str) -> Page {
        let rest = path.trim_start_matches("/app").trim_matches('/');
        let parts: Vec<String> = rest
            .split('/')
            .filter(|p| !p.is_empty())
            .map(decode)
            .collect();
        let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
        match parts.as_slice() {
            ["signin"] => Page::SignIn,
            ["invite", token] => Page::Invite((*token).to_owned()),
            ["link", token] => Page::Link((*token).to_owned()),
            ["live", id] => Page::Inbox(Place::Live(Some((*id).to_owned()))),
            ["tickets", view] => Page::Inbox(Place::Tickets(
                TicketView::parse(view).unwrap_or(TicketView::Open),
                None,
            )),
            ["tickets", view, id] => Page::Inbox(Place::Tickets(
                TicketView::parse(view).unwrap_or(TicketView::Open),
                Some((*id).to_owned()),
            )),
            ["contacts"] => Page::Inbox(Place::Contacts(None)),
            ["contacts", id] => Page::Inbox(Place::Contacts(Some((*id).to_owned()))),
            ["companies"] => Page::Inbox(Place::Companies(None)),
            ["companies", id] => Page::Inbox(Place::Companies(Some((*id).to_owned()))),
            ["team"] => Page::Inbox(Place::Settings(Section::Team)),
            ["setup"] => Page::Inbox(Place::Settings(Section::Setup)),
            ["settings", slug] => match Section::from_slug(slug) {
                Some(s) => Page::Inbox(Place::Settings(s)),
                None => Page::Inbox(Place::Live(None)),
            },
            _ => Page::Inbox(Place::Live(None)),
        }
    }

    pub fn path(&self) -> String {
        match self {
            Page::SignIn => "/app/signin".into(),
            Page::Invite(t) => format!("/app/invite/{}", encode(t)),
            Page::Link(t) => format!("/app/link/{}", encode(t)),
            Page::Inbox(Place::Live(None)) => "/app/live".into(),
            Page::Inbox(Place::Live(Some(id))) => format!("/app/live/{}", encode(id)),
            Page::Inbox(Place::Tickets(v, None)) => format!("/app/tickets/{}", v.as_str()),
            Page::Inbox(Place::Tickets(v, Some(id))) => {
                format!("/app/tickets/{}/{}", v.as_str(), encode(id))
            }
            Page::Inbox(Place::Contacts(None)) => "/app/contacts".into(),
            Page::Inbox(Place::Contacts(Some(id))) => format!("/app/contacts/{}", encode(id)),
            Page::Inbox(Place::Companies(None)) => "/app/companies".into(),
            Page::Inbox(Place::Companies(Some(id))) => format!("/app/companies/{}", encode(id)),
            Page::Inbox(Place::Settings(Section::Team)) => "/app/team".into(),
            Page::Inbox(Place::Settings(Section::Setup)) => "/app/setup".into(),
            Page::Inbox(Place::Settings(s)) => format!("/app/settings/{}", s.slug()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_reads_back_from_its_path() {
        let pages = [
            Page::SignIn,
            Page::Invite("tl_abc".into()),
            Page::Link("tl_def".into()),
            Page::Inbox(Place::Live(None)),
            Page::Inbox(Place::Live(Some("s-1".into()))),
            Page::Inbox(Place::Tickets(TicketView::Snoozed, None)),
            Page::Inbox(Place::Tickets(TicketView::Mine, Some("t 1/2".into()))),
            Page::Inbox(Place::Contacts(Some("user@example.com".into()))),
            Page::Inbox(Place::Companies(Some("acme".into()))),
        ];
        let sections = Section::MENU
            .into_iter()
            .chain([Section::Setup])
            .map(|s| Page::Inbox(Place::Settings(s)));
        for p in pages.into_iter().chain(sections) {
            assert_eq!(Page::from_path(&p.path()), p, "{}", p.path());
        }
    }

    #[test]
    fn the_console_root_and_unknown_paths_open_the_live_feed() {
        for path in ["/app/", "/app", "/app/nowhere/at/all"] {
            assert_eq!(Page::from_path(path), Page::Inbox(Place::Live(None)));
        }
        assert_eq!(
            Page::from_path("/app/tickets/bogus"),
            Page::Inbox(Place::Tickets(TicketView::Open, None))
        );
    }
}
