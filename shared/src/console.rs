//! The console's sign-in rules and wire types: teammates' roles, passwords and their stored
//! form, one-time links (invites and sign-in links), sessions in a cookie, sign-in
//! throttling, and the same-origin rule for cookie-authenticated requests.
//!
//! The Worker derives password hashes with the runtime's WebCrypto; everything here is the
//! pure part: what is allowed, how long things live, what a value looks like on the wire.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::chat::{FieldError, InvalidField};

/// PBKDF2-HMAC-SHA256 iterations: Cloudflare's production runtime refuses more than 100,000.
/// The count is stored with each hash, so it can rise later without locking anyone out.
pub const PBKDF2_ITERATIONS: u32 = 100_000;
/// Bytes of random salt per password.
pub const SALT_BYTES: usize = 16;
/// Bytes of derived key stored per password.
pub const HASH_BYTES: usize = 32;
/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longest password accepted (it bounds the work of one sign-in).
pub const MAX_PASSWORD_CHARS: usize = 200;
/// Longest email address.
pub const MAX_EMAIL_CHARS: usize = 320;
/// Longest teammate name.
pub const MAX_NAME_CHARS: usize = 200;

const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 24 * 60 * MINUTE_MS;
/// An invite link works for 7 days, once.
pub const INVITE_TTL_MS: i64 = 7 * DAY_MS;
/// A sign-in link (the operator's, e.g. `make dev`'s) works for a day, once.
pub const SIGNIN_LINK_TTL_MS: i64 = DAY_MS;
/// A session lasts 14 days after its last use.
pub const SESSION_TTL_MS: i64 = 14 * DAY_MS;
/// A session's expiry is pushed forward at most this often (not a write per request).
pub const SESSION_REFRESH_MS: i64 = 60 * MINUTE_MS;
/// Failed sign-ins counted per email and per IP address...
pub const SIGNIN_WINDOW_MS: i64 = 15 * MINUTE_MS;
/// ...and how many are allowed in the window before further tries are refused.
pub const SIGNIN_MAX_FAILURES: usize = 5;
/// The session cookie's name. `__Host-`: the browser takes it only with `Secure`, `Path=/`
/// and no `Domain`, so a sibling subdomain cannot plant one.
pub const SESSION_COOKIE: &str = "__Host-halo_session";

/// What a teammate may do in their workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything an admin can, and the workspace is theirs: cannot be removed by an admin.
    Owner,
    /// Invites, removes and changes the roles of teammates.
    Admin,
    /// Works conversations and tickets.
    Agent,
}

impl Role {
    pub const ALLOWED: &'static str = "owner, admin, agent";

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "owner" => Some(Role::Owner),
            "admin" => Some(Role::Admin),
            "agent" => Some(Role::Agent),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Agent => "agent",
        }
    }

    /// Whether this role invites, removes and changes the roles of teammates.
    pub fn manages_team(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }

    /// Whether a teammate of this role may give `to` to a teammate whose role is `from`
    /// (`from` is `None` for a new invite). Only an owner makes or unmakes owners.
    pub fn may_assign(self, from: Option<Role>, to: Role) -> bool {
        match self {
            Role::Owner => true,
            Role::Admin => to != Role::Owner && from != Some(Role::Owner),
            Role::Agent => false,
        }
    }
}

/// Why a team change is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TeamChange {
    #[error("only owners and admins manage teammates")]
    NotAManager,
    #[error("only an owner can make, change or remove an owner")]
    OwnersOnly,
    #[error("a workspace keeps at least one owner")]
    LastOwner,
}

/// Whether `actor` may change `target` (whose role is `from`) to `to`, or remove them
/// (`to` is `None`). `owners` is how many owners the workspace has now.
pub fn team_change(
    actor: Role,
    from: Role,
    to: Option<Role>,
    owners: usize,
) -> Result<(), TeamChange> {
    if !actor.manages_team() {
        return Err(TeamChange::NotAManager);
    }
    let allowed = match to {
        Some(to) => actor.may_assign(Some(from), to),
        None => actor == Role::Owner || from != Role::Owner,
    };
    if !allowed {
        return Err(TeamChange::OwnersOnly);
    }
    if from == Role::Owner && to != Some(Role::Owner) && owners <= 1 {
        return Err(TeamChange::LastOwner);
    }
    Ok(())
}

/// An email address as teammates sign in with it: trimmed, lower-cased, one `@` with text on
/// both sides, no spaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(field: &str, v: Option<&Value>) -> Result<Email, FieldError> {
        let s = required_string(field, v, MAX_EMAIL_CHARS)?;
        let s = s.trim().to_lowercase();
        let shaped = match s.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty() && domain.contains('.') && !domain.contains('@')
            }
            None => false,
        };
        if !shaped || s.chars().any(char::is_whitespace) {
            return Err(FieldError::new(
                field,
                InvalidField::Invalid("must be an email address"),
            ));
        }
        Ok(Email(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password: at least [`MIN_PASSWORD_CHARS`], at most [`MAX_PASSWORD_CHARS`].
pub fn new_password(field: &str, v: Option<&Value>) -> Result<String, FieldError> {
    let s = required_string(field, v, MAX_PASSWORD_CHARS)?;
    if s.chars().count() < MIN_PASSWORD_CHARS {
        return Err(FieldError::new(
            field,
            InvalidField::Invalid("must be at least 10 characters"),
        ));
    }
    Ok(s)
}

/// A password presented at sign-in: any non-empty string up to the maximum.
pub fn presented_password(field: &str, v: Option<&Value>) -> Result<String, FieldError> {
    required_string(field, v, MAX_PASSWORD_CHARS)
}

/// A teammate's display name: trimmed, not empty, bounded.
pub fn teammate_name(field: &str, v: Option<&Value>) -> Result<String, FieldError> {
    let s = required_string(field, v, MAX_NAME_CHARS)?;
    let s = s.trim();
    if s.is_empty() {
        return Err(FieldError::new(field, InvalidField::Empty));
    }
    Ok(s.to_owned())
}

/// A role field, `default` when absent.
pub fn role_field(field: &str, v: Option<&Value>, default: Role) -> Result<Role, FieldError> {
    match v.filter(|v| !v.is_null()) {
        None => Ok(default),
        Some(Value::String(s)) => Role::parse(s).ok_or(FieldError::new(
            field,
            InvalidField::NotOneOf {
                allowed: Role::ALLOWED,
            },
        )),
        Some(_) => Err(FieldError::new(
            field,
            InvalidField::WrongType {
                expected: "a string",
            },
        )),
    }
}

fn required_string(field: &str, v: Option<&Value>, max: usize) -> Result<String, FieldError> {
    match v.filter(|v| !v.is_null()) {
        None => Err(FieldError::new(field, InvalidField::Missing)),
        Some(Value::String(s)) if s.is_empty() => Err(FieldError::new(field, InvalidField::Empty)),
        Some(Value::String(s)) => {
            let len = s.chars().count();
            if len > max {
                Err(FieldError::new(field, InvalidField::TooLong { max, len }))
            } else {
                Ok(s.clone())
            }
        }
        Some(_) => Err(FieldError::new(
            field,
            InvalidField::WrongType {
                expected: "a string",
            },
        )),
    }
}

/// A stored password: `pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPassword {
    pub iterations: u32,
    pub salt: Vec<u8>,
    pub hash: Vec<u8>,
}

impl StoredPassword {
    const SCHEME: &'static str = "pbkdf2-sha256";

    pub fn encode(&self) -> String {
        format!(
            "{}${}${}${}",
            Self::SCHEME,
            self.iterations,
            crate::ids::hex(&self.salt),
            crate::ids::hex(&self.hash)
        )
    }

    /// `None` for anything not in the stored form (such a row can never sign in).
    pub fn decode(s: &str) -> Option<StoredPassword> {
        let mut parts = s.split('$');
        if parts.next()? != Self::SCHEME {
            return None;
        }
        let iterations = parts.next()?.parse().ok().filter(|n| *n > 0)?;
        let salt = unhex(parts.next()?)?;
        let hash = unhex(parts.next()?)?;
        if parts.next().is_some() || hash.is_empty() {
            return None;
        }
        Some(StoredPassword {
            iterations,
            salt,
            hash,
        })
    }
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// What a one-time link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    /// Sets the invited teammate's name and password, then signs them in.
    Invite,
    /// Signs an existing teammate in.
    SignIn,
}

impl LinkKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkKind::Invite => "invite",
            LinkKind::SignIn => "signin",
        }
    }

    pub fn ttl_ms(self) -> i64 {
        match self {
            LinkKind::Invite => INVITE_TTL_MS,
            LinkKind::SignIn => SIGNIN_LINK_TTL_MS,
        }
    }

    /// The console path a link of this kind opens.
    pub fn path(self, token: &str) -> String {
        match self {
            LinkKind::Invite => format!("/app/invite/{token}"),
            LinkKind::SignIn => format!("/app/link/{token}"),
        }
    }
}

/// Whether a stored link can still be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    Valid,
    Used,
    Expired,
}

pub fn link_state(expires_at: i64, used_at: Option<i64>, now: i64) -> LinkState {
    match used_at {
        Some(_) => LinkState::Used,
        None if now >= expires_at => LinkState::Expired,
        None => LinkState::Valid,
    }
}

/// Whether a session expiring at `expires_at` still holds at `now`, and if so, the new expiry
/// to store (`Some` only when it moved by more than [`SESSION_REFRESH_MS`]).
pub fn session_renewal(expires_at: i64, now: i64) -> Option<Option<i64>> {
    if now >= expires_at {
        return None;
    }
    let renewed = now + SESSION_TTL_MS;
    Some((renewed - expires_at > SESSION_REFRESH_MS).then_some(renewed))
}

/// Seconds until another sign-in may be tried, given the times of recent failures for one
/// email or one address; `None` while fewer than [`SIGNIN_MAX_FAILURES`] fall in the window.
pub fn throttled(failures: &[i64], now: i64) -> Option<u64> {
    let mut recent: Vec<i64> = failures
        .iter()
        .copied()
        .filter(|at| now - at < SIGNIN_WINDOW_MS)
        .collect();
    if recent.len() < SIGNIN_MAX_FAILURES {
        return None;
    }
    recent.sort_unstable();
    // The window reopens when enough of the oldest failures have aged out of it.
    let reopening = recent[recent.len() - SIGNIN_MAX_FAILURES] + SIGNIN_WINDOW_MS;
    Some(((reopening - now).max(1000) as u64).div_ceil(1000))
}

/// The throttling key of a client address: an IPv4 address whole, an IPv6 address by its
/// /64 (one customer line holds a whole /64, so single addresses would be free to rotate).
pub fn address_key(ip: &str) -> String {
    match ip.trim().parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Ok(std::net::IpAddr::V4(v4)) => v4.to_string(),
        Err(_) => "unknown".into(),
    }
}

/// The value of cookie `name` in a `Cookie` header.
pub fn cookie<'a>(header: Option<&'a str>, name: &str) -> Option<&'a str> {
    header?.split(';').find_map(|pair| {
        let (k, v) = pair.trim().split_once('=')?;
        (k == name).then_some(v.trim())
    })
}

/// The `Set-Cookie` value that holds a session.
pub fn session_cookie(token: &str) -> String {
    format!(
        "{SESSION_COOKIE}={token}; HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age={}",
        SESSION_TTL_MS / 1000
    )
}

/// The `Set-Cookie` value that ends a session in the browser.
pub fn cleared_cookie() -> String {
    format!("{SESSION_COOKIE}=; HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age=0")
}

/// Whether a cookie-authenticated request may act: reads (`GET`, `HEAD`) always may; anything
/// that changes state, and every WebSocket, must come from the console's own origin, so that
/// another site cannot act as the teammate whose cookie the browser holds.
pub fn cookie_request_allowed(
    method: &str,
    websocket: bool,
    origin: Option<&str>,
    request_url: &str,
) -> bool {
    if matches!(method, "GET" | "HEAD") && !websocket {
        return true;
    }
    let Some(origin) = origin else {
        return false;
    };
    match url::Url::parse(request_url) {
        Ok(u) => u.origin().ascii_serialization() == origin,
        Err(_) => false,
    }
}

/// A teammate as the console shows them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeammateView {
    pub id: String,
    pub name: String,
    pub email: Option<String>,
    pub role: Role,
    /// False until an invited teammate has set their password.
    pub active: bool,
}

/// `GET /api/console/me`: who is signed in, and where.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Me {
    pub teammate: TeammateView,
    pub workspace: WorkspaceRef,
}

/// A workspace by id and name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkspaceRef {
    pub id: String,
    pub name: String,
}

/// `GET /api/console/invites/:token`: what an invite is for, before it is accepted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InviteView {
    pub email: Option<String>,
    pub role: Role,
    pub workspace: WorkspaceRef,
}

/// `POST /api/console/teammates`: the invited teammate and the link to pass on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Invited {
    pub teammate: TeammateView,
    pub invite_url: String,
    pub expires_at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_owners_and_admins_manage_the_team_and_only_owners_touch_owners() {
        assert_eq!(
            team_change(Role::Agent, Role::Agent, Some(Role::Admin), 1),
            Err(TeamChange::NotAManager)
        );
        assert_eq!(
            team_change(Role::Admin, Role::Agent, Some(Role::Admin), 1),
            Ok(())
        );
        assert_eq!(
            team_change(Role::Admin, Role::Agent, Some(Role::Owner), 1),
            Err(TeamChange::OwnersOnly)
        );
        assert_eq!(
            team_change(Role::Admin, Role::Owner, None, 2),
            Err(TeamChange::OwnersOnly)
        );
        assert_eq!(team_change(Role::Owner, Role::Owner, None, 2), Ok(()));
        assert!(!Role::Admin.may_assign(None, Role::Owner));
        assert!(Role::Owner.may_assign(None, Role::Owner));
    }

    #[test]
    fn the_last_owner_can_neither_leave_nor_be_demoted() {
        assert_eq!(
            team_change(Role::Owner, Role::Owner, None, 1),
            Err(TeamChange::LastOwner)
        );
        assert_eq!(
            team_change(Role::Owner, Role::Owner, Some(Role::Agent), 1),
            Err(TeamChange::LastOwner)
        );
        assert_eq!(
            team_change(Role::Owner, Role::Owner, Some(Role::Owner), 1),
            Ok(())
        );
    }

    #[test]
    fn emails_are_normalised_and_checked_for_shape() {
        let e = Email::parse("email", Some(&json!("  Ada@Example.COM "))).unwrap();
        assert_eq!(e.as_str(), "ada@example.com");
        for bad in [
            json!("ada"),
            json!("@x.io"),
            json!("a b@x.io"),
            json!("a@x"),
        ] {
            assert!(Email::parse("email", Some(&bad)).is_err(), "{bad}");
        }
        assert_eq!(
            Email::parse("email", Some(&json!(3))).unwrap_err().code(),
            "invalid_type"
        );
    }

    #[test]
    fn a_new_password_has_at_least_ten_characters() {
        assert!(new_password("password", Some(&json!("short-one"))).is_err());
        assert!(new_password("password", Some(&json!("long enough"))).is_ok());
        let long = "x".repeat(MAX_PASSWORD_CHARS + 1);
        assert_eq!(
            new_password("password", Some(&json!(long)))
                .unwrap_err()
                .code(),
            "too_long"
        );
    }

    #[test]
    fn a_stored_password_round_trips_and_junk_is_not_a_password() {
        let p = StoredPassword {
            iterations: PBKDF2_ITERATIONS,
            salt: vec![1, 2, 255],
            hash: vec![9; 32],
        };
        let s = p.encode();
        assert!(s.starts_with("pbkdf2-sha256$100000$0102ff$"));
        assert_eq!(StoredPassword::decode(&s), Some(p));
        for junk in [
            "",
            "plain",
            "pbkdf2-sha256$0$00$00",
            "md5$1$00$00",
            "pbkdf2-sha256$1$0$00",
        ] {
            assert_eq!(StoredPassword::decode(junk), None, "{junk}");
        }
    }

    #[test]
    fn a_link_works_once_and_until_it_expires() {
        assert_eq!(link_state(100, None, 99), LinkState::Valid);
        assert_eq!(link_state(100, None, 100), LinkState::Expired);
        assert_eq!(link_state(100, Some(50), 60), LinkState::Used);
        assert_eq!(LinkKind::Invite.ttl_ms(), 7 * 24 * 3600 * 1000);
    }

    #[test]
    fn a_session_slides_forward_at_most_once_an_hour() {
        let now = 1_000_000_000;
        assert_eq!(session_renewal(now - 1, now), None, "expired");
        assert_eq!(
            session_renewal(now + SESSION_TTL_MS - 1000, now),
            Some(None),
            "just renewed"
        );
        assert_eq!(
            session_renewal(now + 1000, now),
            Some(Some(now + SESSION_TTL_MS))
        );
    }

    #[test]
    fn five_failures_in_fifteen_minutes_throttle_until_the_oldest_ages_out() {
        let now = 10 * SIGNIN_WINDOW_MS;
        let four = [now - 1000, now - 2000, now - 3000, now - 4000];
        assert_eq!(throttled(&four, now), None);
        let five = [now - 60_000, now - 1000, now - 2000, now - 3000, now - 4000];
        assert_eq!(throttled(&five, now), Some(14 * 60));
        let old = [
            now - SIGNIN_WINDOW_MS - 1,
            now - 1,
            now - 2,
            now - 3,
            now - 4,
        ];
        assert_eq!(
            throttled(&old, now),
            None,
            "the oldest is outside the window"
        );
    }

    #[test]
    fn an_ipv6_client_is_throttled_by_its_64_and_an_ipv4_one_by_its_address() {
        assert_eq!(
            address_key("2001:db8:1:2:aaaa::1"),
            address_key("2001:db8:1:2:ffff:ffff:ffff:ffff")
        );
        assert_ne!(
            address_key("2001:db8:1:2::1"),
            address_key("2001:db8:1:3::1")
        );
        assert_eq!(address_key("198.51.100.7"), "198.51.100.7");
        assert_eq!(address_key("not an address"), "unknown");
    }

    #[test]
    fn cookies_are_read_by_name_and_set_http_only_secure_and_lax() {
        let h = Some("a=1; __Host-halo_session=cs_abc ; b=2");
        assert_eq!(cookie(h, SESSION_COOKIE), Some("cs_abc"));
        assert_eq!(cookie(Some("__Host-halo_sessionx=1"), SESSION_COOKIE), None);
        assert_eq!(cookie(Some("halo_session=cs_abc"), SESSION_COOKIE), None);
        let set = session_cookie("cs_abc");
        for part in [
            "HttpOnly",
            "Secure",
            "SameSite=Lax",
            "Path=/",
            "Max-Age=1209600",
        ] {
            assert!(set.contains(part), "{set}");
        }
        assert!(cleared_cookie().contains("Max-Age=0"));
    }

    #[test]
    fn a_cookie_may_change_state_only_from_the_consoles_own_origin() {
        let url = "http://127.0.0.1:8787/api/inbox/tickets/1";
        assert!(cookie_request_allowed("GET", false, None, url));
        assert!(cookie_request_allowed(
            "PATCH",
            false,
            Some("http://127.0.0.1:8787"),
            url
        ));
        assert!(!cookie_request_allowed(
            "PATCH",
            false,
            Some("https://evil.example"),
            url
        ));
        assert!(!cookie_request_allowed("POST", false, None, url));
        assert!(!cookie_request_allowed(
            "GET",
            true,
            Some("https://evil.example"),
            url
        ));
    }
}
