//! Outbound actions as webhooks: a workspace points `file_bug` and `request_refund` at its own
//! endpoints (URL, secret, payload template). Each delivery is signed with HMAC-SHA256 so the
//! receiver can check it came from Halo and was not replayed:
//!
//! `X-Halo-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`
//!
//! With no webhook configured (or a failed delivery) the action becomes a ticket instead.

use std::collections::BTreeMap;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use sha2::Sha256;

use crate::chat::{FieldError, InvalidField};

/// The actions that can be webhooks.
pub const ACTIONS: &[&str] = &["file_bug", "request_refund"];
pub const MIN_SECRET_CHARS: usize = 16;
pub const MAX_TEMPLATE_BYTES: usize = 8_192;

/// One action's webhook, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Webhook {
    pub url: String,
    pub secret: String,
    /// A JSON object whose string values may name `{{title}}`, `{{details}}`, `{{reason}}`,
    /// `{{amount}}`, `{{user_id}}`, `{{session_id}}`, `{{ticket_id}}`; `None`: the default
    /// payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<Value>,
}

/// A workspace's webhooks by action.
pub type Webhooks = BTreeMap<String, Webhook>;

/// Reads the stored document; anything unreadable is none.
pub fn from_stored(s: Option<&str>) -> Webhooks {
    s.and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or_default()
}

/// Validates `webhooks` from the admin API: `{ file_bug?: { url, secret, template? } | null,
/// request_refund?: … }`; `null` removes one.
pub fn parse(v: &Value) -> Result<BTreeMap<String, Option<Webhook>>, FieldError> {
    let bad = |f: String, why: &'static str| FieldError::new(f, InvalidField::Invalid(why));
    let o = v.as_object().ok_or_else(|| {
        FieldError::new(
            "webhooks",
            InvalidField::WrongType {
                expected: "an object",
            },
        )
    })?;
    let mut out = BTreeMap::new();
    for (action, hook) in o {
        let at = |f: &str| format!("webhooks.{action}{f}");
        if !ACTIONS.contains(&action.as_str()) {
            return Err(bad(
                at(""),
                "is not an action with webhooks (file_bug, request_refund)",
            ));
        }
        if hook.is_null() {
            out.insert(action.clone(), None);
            continue;
        }
        let h: Webhook = serde_json::from_value(hook.clone())
            .map_err(|_| bad(at(""), "must be { url, secret, template? }"))?;
        let url = h.url.trim();
        if !(url.starts_with("https://") || url.starts_with("http://"))
            || url.len() > 2_048
            || url.contains(char::is_whitespace)
        {
            return Err(bad(at(".url"), "must be an http(s) URL"));
        }
        if h.secret.chars().count() < MIN_SECRET_CHARS || h.secret.len() > 256 {
            return Err(bad(at(".secret"), "must be 16 to 256 characters"));
        }
        if let Some(t) = &h.template {
            if !t.is_object() || t.to_string().len() > MAX_TEMPLATE_BYTES {
                return Err(bad(
                    at(".template"),
                    "must be a JSON object of at most 8 KB",
                ));
            }
        }
        out.insert(action.clone(), Some(h));
    }
    Ok(out)
}

/// A change of webhooks where a hook sent without a `secret` (or with the `…` it is shown
/// as) keeps the one stored for its action: the console edits a URL or template without
/// asking for the secret again.
pub fn with_kept_secrets(patch: &Value, current: &Webhooks) -> Value {
    let mut out = patch.clone();
    if let Some(o) = out.as_object_mut() {
        for (action, hook) in o.iter_mut() {
            let (Some(h), Some(stored)) = (hook.as_object_mut(), current.get(action)) else {
                continue;
            };
            let kept = match h.get("secret") {
                None | Some(Value::Null) => true,
                Some(Value::String(s)) => s == "…" || s.is_empty(),
                Some(_) => false,
            };
            if kept {
                h.insert("secret".into(), Value::String(stored.secret.clone()));
            }
        }
    }
    out
}

/// The webhooks as the admin API shows them: never the secrets.
pub fn redacted(hooks: &Webhooks) -> Value {
    Value::Object(
        hooks
            .iter()
            .map(|(k, h)| {
                (
                    k.clone(),
                    json!({ "url": h.url, "template": h.template, "secret": "…" }),
                )
            })
            .collect::<Map<String, Value>>(),
    )
}

fn fill(v: &Value, vars: &BTreeMap<&str, String>) -> Value {
    match v {
        Value::String(s) => {
            let mut out = s.clone();
            for (k, val) in vars {
                out = out.replace(&format!("{{{{{k}}}}}"), val);
            }
            Value::String(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(|i| fill(i, vars)).collect()),
        Value::Object(o) => {
            Value::Object(o.iter().map(|(k, i)| (k.clone(), fill(i, vars))).collect())
        }
        other => other.clone(),
    }
}

/// The body of a delivery: the template with its placeholders filled, or by default
/// `{ "action", "data": { …vars } }`.
pub fn payload(action: &str, template: Option<&Value>, vars: &BTreeMap<&str, String>) -> Value {
    match template {
        Some(t) => fill(t, vars),
        None => json!({ "action": action, "data": vars }),
    }
}

/// The values a test delivery fills the template with (the console's "send test").
pub fn sample_vars() -> BTreeMap<&'static str, String> {
    [
        ("title", "Test delivery from Halo"),
        ("details", "This is a test: no customer is waiting on it."),
        ("reason", "test"),
        ("amount", "0"),
        ("user_id", "test-user"),
        ("session_id", "test-session"),
        ("ticket_id", "test-ticket"),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_owned()))
    .collect()
}

/// Lower-case hex of HMAC-SHA256(`secret`, `message`).
pub fn hmac_hex(secret: &str, message: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(message.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The `X-Halo-Signature` header for `body` sent at `timestamp` (unix seconds).
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    format!(
        "t={timestamp},v1={}",
        hmac_hex(secret, &format!("{timestamp}.{body}"))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hook_changed_without_its_secret_keeps_the_stored_one() {
        let stored: Webhooks = [(
            "file_bug".to_owned(),
            Webhook {
                url: "https://old.example.test/bugs".into(),
                secret: "a-secret-of-enough-length".into(),
                template: None,
            },
        )]
        .into();
        let patch = json!({
            "file_bug": { "url": "https://new.example.test/bugs", "secret": "…" },
            "request_refund": { "url": "https://pay.example.test/refunds" },
        });
        let kept = with_kept_secrets(&patch, &stored);
        assert_eq!(kept["file_bug"]["secret"], "a-secret-of-enough-length");
        assert_eq!(kept["file_bug"]["url"], "https://new.example.test/bugs");
        // No stored hook to keep a secret from: the change must bring one.
        assert!(kept["request_refund"].get("secret").is_none());
        assert!(parse(&kept).is_err());
    }

    #[test]
    fn the_signature_is_hmac_sha256_of_the_timestamp_and_body() {
        // The well-known HMAC-SHA256 test vector.
        assert_eq!(
            hmac_hex("key", "The quick brown fox jumps over the lazy dog"),
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
        let s = signature("whsec_0123456789abcdef", 1_700_000_000, "{\"a\":1}");
        assert_eq!(
            s,
            format!(
                "t=1700000000,v1={}",
                hmac_hex("whsec_0123456789abcdef", "1700000000.{\"a\":1}")
            )
        );
        assert_ne!(
            s,
            signature("whsec_0123456789abcdef", 1_700_000_001, "{\"a\":1}")
        );
    }

    #[test]
    fn templates_are_filled_and_the_default_payload_names_the_action() {
        let vars: BTreeMap<&str, String> = [
            ("title", "Export broken".to_owned()),
            ("user_id", "u1".to_owned()),
        ]
        .into();
        let t = json!({ "summary": "Bug: {{title}}", "labels": ["halo", "{{user_id}}"], "n": 3 });
        assert_eq!(
            payload("file_bug", Some(&t), &vars),
            json!({ "summary": "Bug: Export broken", "labels": ["halo", "u1"], "n": 3 })
        );
        assert_eq!(
            payload("file_bug", None, &vars),
            json!({ "action": "file_bug", "data": { "title": "Export broken", "user_id": "u1" } })
        );
    }

    #[test]
    fn webhooks_are_validated() {
        let ok = parse(&json!({ "file_bug": { "url": "https://hooks.example.test/bug", "secret": "0123456789abcdef" }, "request_refund": null })).unwrap();
        assert!(ok["file_bug"].is_some() && ok["request_refund"].is_none());
        let cases = [
            (
                json!({ "deploy": { "url": "https://x.test", "secret": "0123456789abcdef" } }),
                "webhooks.deploy",
            ),
            (
                json!({ "file_bug": { "url": "ftp://x.test", "secret": "0123456789abcdef" } }),
                "webhooks.file_bug.url",
            ),
            (
                json!({ "file_bug": { "url": "https://x.test", "secret": "short" } }),
                "webhooks.file_bug.secret",
            ),
            (
                json!({ "file_bug": { "url": "https://x.test", "secret": "0123456789abcdef", "template": [1] } }),
                "webhooks.file_bug.template",
            ),
            (
                json!({ "file_bug": { "url": "https://x.test" } }),
                "webhooks.file_bug",
            ),
            (json!([]), "webhooks"),
        ];
        for (v, field) in cases {
            assert_eq!(parse(&v).unwrap_err().field, field, "{v}");
        }
        let shown = redacted(&from_stored(Some(
            &json!({ "file_bug": { "url": "https://x.test", "secret": "0123456789abcdef" } })
                .to_string(),
        )));
        assert!(!shown.to_string().contains("0123456789abcdef"));
    }
}
