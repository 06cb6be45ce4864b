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
    /// The team: teammates, invites, roles.
    Team,
    /// Settings: the knowledge base.
    Knowledge,
    /// Settings: the traits and context keys the app sends.
    Data,
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
            Place::Team | Place::Knowledge | Place::Data => None,
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
            ["team"] => Page::Inbox(Place::Team),
            ["settings", "knowledge"] => Page::Inbox(Place::Knowledge),
            ["settings", "data"] => Page::Inbox(Place::Data),
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
            Page::Inbox(Place::Team) => "/app/team".into(),
            Page::Inbox(Place::Knowledge) => "/app/settings/knowledge".into(),
            Page::Inbox(Place::Data) => "/app/settings/data".into(),
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
            Page::Inbox(Place::Team),
            Page::Inbox(Place::Knowledge),
            Page::Inbox(Place::Data),
        ];
        for p in pages {
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
