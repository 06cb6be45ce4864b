//! Workspace key formats.
//!
//! A workspace has three credentials, each a prefix followed by 64 hex digits (256 random bits):
//! - the publishable widget key `ab_live_…`, safe to put in a web page; it can only chat;
//! - the secret server key `sk_live_…`, for the customer's backend REST calls;
//! - the identity secret `ha_secret_…`, with which the customer's server signs user JWTs.
//!
//! Parsing checks the shape only; whether a key belongs to a workspace is the store's question.

use crate::ids::hex;

/// Number of random bytes behind every key.
pub const KEY_BYTES: usize = 32;

/// Why a presented key was refused before any lookup.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidKey {
    #[error("no key was presented")]
    Missing,
    #[error("the key is malformed")]
    Malformed,
    /// A well-made key of another kind (the secret key where the widget key belongs): the
    /// prefix this call takes.
    #[error("the key is of another kind")]
    WrongKind(&'static str),
}

/// Every kind's prefix, to tell a key of the wrong kind from a malformed one.
const PREFIXES: &[&str] = &[
    WidgetKey::PREFIX,
    SecretKey::PREFIX,
    IdentitySecret::PREFIX,
    TeammateToken::PREFIX,
    SessionToken::PREFIX,
];

macro_rules! key_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            /// The prefix every key of this kind starts with.
            pub const PREFIX: &'static str = $prefix;

            /// Accepts exactly `PREFIX` followed by 64 lower-case hex digits.
            pub fn parse(s: &str) -> Result<Self, InvalidKey> {
                if s.is_empty() {
                    return Err(InvalidKey::Missing);
                }
                let well_formed = |body: &str| {
                    body.len() == KEY_BYTES * 2
                        && body.bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
                };
                if !s.starts_with($prefix)
                    && PREFIXES
                        .iter()
                        .any(|p| s.strip_prefix(p).is_some_and(well_formed))
                {
                    return Err(InvalidKey::WrongKind($prefix));
                }
                let body = s.strip_prefix($prefix).ok_or(InvalidKey::Malformed)?;
                let well_formed = well_formed(body);
                if well_formed {
                    Ok(Self(s.to_owned()))
                } else {
                    Err(InvalidKey::Malformed)
                }
            }

            /// A new key from fresh random bytes.
            pub fn from_random(bytes: &[u8; KEY_BYTES]) -> Self {
                Self(format!("{}{}", $prefix, hex(bytes)))
            }

            /// The full key text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        // Keys never appear in logs by accident.
        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}(\"{}…\")", stringify!($name), $prefix)
            }
        }
    };
}

key_type!(
    /// The publishable widget key: identifies the workspace from a browser; may only chat.
    WidgetKey,
    "ab_live_"
);
key_type!(
    /// The secret server key: authorises the customer's backend for REST calls.
    SecretKey,
    "sk_live_"
);
key_type!(
    /// The identity secret: the HMAC key for user JWTs. Never leaves the customer's server.
    IdentitySecret,
    "ha_secret_"
);
key_type!(
    /// A teammate's inbox API token.
    TeammateToken,
    "tm_live_"
);
key_type!(
    /// A console session: the value of the teammate's session cookie.
    SessionToken,
    "cs_"
);
key_type!(
    /// A one-time link's token (an invite, a sign-in link), the last part of its path.
    LinkToken,
    "tl_"
);

/// Pulls the credential out of an `Authorization: Bearer …` header value.
pub fn bearer(header: Option<&str>) -> Result<&str, InvalidKey> {
    let value = header.ok_or(InvalidKey::Missing)?.trim();
    let (scheme, token) = value.split_once(' ').ok_or(InvalidKey::Malformed)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(InvalidKey::Malformed);
    }
    match token.trim() {
        "" => Err(InvalidKey::Missing),
        t => Ok(t),
    }
}

/// Compares two byte strings in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The kinds of workspace credential that can be rotated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyKind {
    /// The publishable widget key (kept in clear: it is in every page that has the widget).
    Widget,
    /// The secret server key (kept only as a hash: shown once, when it is issued).
    Secret,
    /// The identity secret (kept in clear: it verifies every user token).
    Identity,
}

impl KeyKind {
    pub const ALLOWED: &'static str = "widget, secret, identity";

    pub fn parse(s: &str) -> Option<KeyKind> {
        match s {
            "widget" => Some(KeyKind::Widget),
            "secret" => Some(KeyKind::Secret),
            "identity" => Some(KeyKind::Identity),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            KeyKind::Widget => "widget",
            KeyKind::Secret => "secret",
            KeyKind::Identity => "identity",
        }
    }
}

/// What identifies a key on screen without giving it away: its prefix and last four
/// characters (`sk_live_…3f9a`).
pub fn hint(key: &str) -> String {
    let prefix_end = key.rfind('_').map_or(0, |i| i + 1);
    let tail = key.len().saturating_sub(4).max(prefix_end);
    format!("{}…{}", &key[..prefix_end], &key[tail..])
}

/// The longest grace period a rotated key may keep working: 30 days.
pub const MAX_GRACE_SECONDS: u64 = 30 * 24 * 3600;

/// `POST /api/console/keys` `{ kind, grace_seconds }`: issue a new key of `kind`; the keys it
/// replaces keep working for `grace_seconds` (0: they stop now), then stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotation {
    pub kind: KeyKind,
    pub grace_seconds: u64,
}

impl Rotation {
    pub fn parse(body: &serde_json::Value) -> Result<Rotation, crate::chat::FieldError> {
        use crate::chat::{body_object, field_error as err, InvalidField};
        let o = body_object(body)?;
        let kind = match o.get("kind") {
            None | Some(serde_json::Value::Null) => return Err(err("kind", InvalidField::Missing)),
            Some(v) => v.as_str().and_then(KeyKind::parse).ok_or_else(|| {
                err(
                    "kind",
                    InvalidField::NotOneOf {
                        allowed: KeyKind::ALLOWED,
                    },
                )
            })?,
        };
        let grace_seconds = match o.get("grace_seconds") {
            None => 0,
            Some(v) => v
                .as_u64()
                .filter(|g| *g <= MAX_GRACE_SECONDS)
                .ok_or_else(|| {
                    err(
                        "grace_seconds",
                        InvalidField::Invalid(
                            "must be a whole number of seconds from 0 to 2592000 (30 days)",
                        ),
                    )
                })?,
        };
        Ok(Rotation {
            kind,
            grace_seconds,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hint_shows_the_prefix_and_the_last_four_characters_only() {
        let key = SecretKey::from_random(&[0xab; KEY_BYTES]);
        assert_eq!(hint(key.as_str()), "sk_live_…abab");
        assert_eq!(hint("ha_secret_0123456789"), "ha_secret_…6789");
        assert_eq!(hint("short"), "…hort");
    }

    #[test]
    fn a_rotation_names_a_kind_and_a_grace_period_of_at_most_30_days() {
        use serde_json::json;
        let r = Rotation::parse(&json!({ "kind": "widget", "grace_seconds": 3600 })).unwrap();
        assert_eq!((r.kind, r.grace_seconds), (KeyKind::Widget, 3600));
        assert_eq!(
            Rotation::parse(&json!({ "kind": "identity" }))
                .unwrap()
                .grace_seconds,
            0
        );
        for (body, field) in [
            (json!({}), "kind"),
            (json!({ "kind": "admin" }), "kind"),
            (
                json!({ "kind": "secret", "grace_seconds": -1 }),
                "grace_seconds",
            ),
            (
                json!({ "kind": "secret", "grace_seconds": 2_592_001 }),
                "grace_seconds",
            ),
            (
                json!({ "kind": "secret", "grace_seconds": "1h" }),
                "grace_seconds",
            ),
        ] {
            assert_eq!(Rotation::parse(&body).unwrap_err().field, field, "{body}");
        }
    }

    #[test]
    fn a_generated_key_parses_back() {
        let key = WidgetKey::from_random(&[7; KEY_BYTES]);
        assert!(key.as_str().starts_with("ab_live_"));
        assert_eq!(key.as_str().len(), 8 + 64);
        assert_eq!(WidgetKey::parse(key.as_str()), Ok(key));
    }

    #[test]
    fn truncated_or_non_hex_keys_are_malformed() {
        let good = IdentitySecret::from_random(&[0xab; KEY_BYTES]);
        let short = &good.as_str()[..good.as_str().len() - 1];
        assert_eq!(IdentitySecret::parse(short), Err(InvalidKey::Malformed));
        let upper = good.as_str().to_uppercase();
        assert_eq!(IdentitySecret::parse(&upper), Err(InvalidKey::Malformed));
        assert_eq!(IdentitySecret::parse(""), Err(InvalidKey::Missing));
    }

    #[test]
    fn a_key_of_another_kind_is_named_as_such() {
        let secret = SecretKey::from_random(&[7; KEY_BYTES]);
        assert_eq!(
            WidgetKey::parse(secret.as_str()),
            Err(InvalidKey::WrongKind(WidgetKey::PREFIX))
        );
        // Only a well-made key of another kind is named so: a broken one is malformed.
        assert_eq!(WidgetKey::parse("sk_live_oops"), Err(InvalidKey::Malformed));
        assert_eq!(WidgetKey::parse("pk_test_123"), Err(InvalidKey::Malformed));
        assert_eq!(SecretKey::parse(secret.as_str()), Ok(secret));
    }

    #[test]
    fn debug_output_never_shows_the_key() {
        let key = SecretKey::from_random(&[9; KEY_BYTES]);
        assert!(!format!("{key:?}").contains("0909"));
    }

    #[test]
    fn bearer_tokens_are_extracted() {
        assert_eq!(bearer(Some("Bearer abc")), Ok("abc"));
        assert_eq!(bearer(Some("bearer   abc ")), Ok("abc"));
        assert_eq!(bearer(Some("Basic abc")), Err(InvalidKey::Malformed));
        assert_eq!(bearer(Some("Bearer ")), Err(InvalidKey::Malformed));
        assert_eq!(bearer(None), Err(InvalidKey::Missing));
    }

    #[test]
    fn constant_time_eq_compares_contents_and_lengths() {
        assert!(constant_time_eq(b"same", b"same"));
        assert!(!constant_time_eq(b"same", b"sane"));
        assert!(!constant_time_eq(b"same", b"same!"));
    }
}
