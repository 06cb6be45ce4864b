//! Email as a channel, the rules without the I/O: reading a raw message (MIME through
//! `mail-parser`), trimming quoted replies and signatures, telling automatic mail from a
//! person's, simple spam signals, the per-ticket reply address and its MAC, the Mailgun
//! webhook's signature, and writing an outbound message.
//!
//! The parser is `mail-parser` (Stalwart Labs): maintained, no unsafe in the parts used, no
//! dependencies but a small hashing macro, and it builds for wasm32. Without its
//! `full_encoding` feature it decodes UTF-8, US-ASCII and the single-byte charsets
//! (ISO-8859-*, Windows-125*, KOI8); multi-byte Asian charsets would need `encoding_rs`
//! (about 1 MB of tables in the Worker), so they are read as the parser falls back.

use hmac::{Hmac, Mac};
use mail_parser::{Address as Addresses, HeaderValue, MessageParser, MimeHeaders};
use sha2::Sha256;

use crate::keys::constant_time_eq;

/// Largest raw message accepted (the rest is refused with a reason, and logged).
pub const MAX_EMAIL_BYTES: usize = 10 * 1024 * 1024;
/// Most MIME parts read; a message with more is kept as far as this.
pub const MAX_PARTS: usize = 100;
/// Longest text kept of a message, in characters.
pub const MAX_TEXT_CHARS: usize = 100_000;
/// How far a Mailgun webhook's timestamp may be from now.
pub const MAILGUN_WINDOW_SECS: i64 = 300;

/// A mailbox: its address (lower case) and display name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    pub email: String,
    pub name: Option<String>,
}

/// An attachment, kept as metadata only (its body is not stored yet).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Attachment {
    pub name: String,
    pub content_type: String,
    pub size: usize,
}

/// Why a message is automatic, so that it gets no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Automatic {
    /// `Auto-Submitted` other than `no`.
    AutoSubmitted,
    /// `X-Autoreply`, `X-Autorespond`, or an out-of-office subject.
    AutoReply,
    /// A delivery status notification.
    Bounce,
    /// Mailing-list mail (`List-Id`, `List-Unsubscribe`) or `Precedence: bulk | list | junk`.
    List,
    /// Mail we sent ourselves, come back.
    Ours,
}

impl Automatic {
    pub fn as_str(self) -> &'static str {
        match self {
            Automatic::AutoSubmitted => "auto_submitted",
            Automatic::AutoReply => "auto_reply",
            Automatic::Bounce => "bounce",
            Automatic::List => "mailing_list",
            Automatic::Ours => "our_own_mail",
        }
    }
}

/// A received message as the channel uses it.
#[derive(Debug, Clone, PartialEq)]
pub struct Email {
    /// Without the angle brackets.
    pub message_id: Option<String>,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    pub from: Option<Mailbox>,
    /// Every `To` and `Cc` address, lower case.
    pub recipients: Vec<String>,
    pub subject: String,
    /// The whole text (an HTML-only message as text).
    pub text: String,
    /// The new part of the text: quoted earlier mail and the signature trimmed.
    pub reply: String,
    pub attachments: Vec<Attachment>,
    pub automatic: Option<Automatic>,
    /// The receiving provider's spam verdict, when it gave one.
    pub provider_spam: Option<bool>,
    /// The MIME structure could not be read; what could be is kept.
    pub malformed: bool,
    /// More than [`MAX_PARTS`] parts: the rest were not read.
    pub truncated: bool,
}

/// The header marking mail Halo sent, so that it is never answered when it comes back.
pub const OUR_HEADER: &str = "X-Halo-Outbound";

fn ids(v: &HeaderValue<'_>) -> Vec<String> {
    match v {
        HeaderValue::Text(t) => vec![t.trim_matches(['<', '>', ' ']).to_owned()],
        HeaderValue::TextList(list) => list
            .iter()
            .map(|t| t.trim_matches(['<', '>', ' ']).to_owned())
            .collect(),
        _ => Vec::new(),
    }
    .into_iter()
    .filter(|s| !s.is_empty())
    .collect()
}

fn mailboxes(a: Option<&Addresses<'_>>) -> Vec<Mailbox> {
    a.map(|a| {
        a.iter()
            .filter_map(|m| {
                Some(Mailbox {
                    email: m.address.as_deref()?.trim().to_ascii_lowercase(),
                    name: m
                        .name
                        .as_deref()
                        .map(|n| n.trim().to_owned())
                        .filter(|n| !n.is_empty()),
                })
            })
            .collect()
    })
    .unwrap_or_default()
}

fn bounded(mut s: String) -> String {
    if let Some((i, _)) = s.char_indices().nth(MAX_TEXT_CHARS) {
        s.truncate(i);
    }
    s
}

/// Reads a raw message. Never fails: malformed MIME gives what could be read (at worst the
/// bytes as text), flagged `malformed`, so that no email is lost.
pub fn parse(raw: &[u8]) -> Email {
    let Some(msg) = MessageParser::default().parse(raw) else {
        let text = bounded(String::from_utf8_lossy(raw).into_owned());
        return Email {
            message_id: None,
            in_reply_to: Vec::new(),
            references: Vec::new(),
            from: None,
            recipients: Vec::new(),
            subject: String::new(),
            reply: trim_reply(&text),
            text,
            attachments: Vec::new(),
            automatic: None,
            provider_spam: None,
            malformed: true,
            truncated: false,
        };
    };
    let header = |name: &'static str| msg.header_raw(name).map(|v| v.trim().to_owned());
    let truncated = msg.parts.len() > MAX_PARTS;
    let text = msg.body_text(0).map(|t| t.into_owned()).unwrap_or_default();
    let mut text = bounded(text.replace("\r\n", "\n"));
    // A body the parser could not decode (a broken transfer encoding, an unclosed part):
    // it keeps such a text part as bytes, as if attached; else the raw lines after the
    // headers, less MIME's own. Either way what was written is kept.
    let undecoded = text.trim().is_empty();
    let unnamed_text = |p: &&mail_parser::MessagePart<'_>| {
        p.attachment_name().is_none()
            && p.content_type()
                .is_some_and(|c| c.ctype().eq_ignore_ascii_case("text"))
    };
    if undecoded {
        text = match msg.attachments().find(unnamed_text) {
            Some(p) => bounded(String::from_utf8_lossy(p.contents()).into_owned()),
            None => bounded(raw_body_text(raw)),
        };
    }

    let attachments = msg
        .attachments()
        .filter(|p| !(undecoded && unnamed_text(p)))
        .take(MAX_PARTS)
        .map(|p| Attachment {
            name: p.attachment_name().unwrap_or("attachment").to_owned(),
            content_type: p
                .content_type()
                .map(|c| match c.subtype() {
                    Some(s) => format!("{}/{s}", c.ctype()),
                    None => c.ctype().to_owned(),
                })
                .unwrap_or_else(|| "application/octet-stream".into()),
            size: p.len(),
        })
        .collect();
    let content_type = msg
        .root_part()
        .content_type()
        .map(|c| format!("{}/{}", c.ctype(), c.subtype().unwrap_or("")).to_ascii_lowercase());
    let subject = msg.subject().unwrap_or("").trim().to_owned();
    let from = mailboxes(msg.from()).into_iter().next();
    let recipients = mailboxes(msg.to())
        .into_iter()
        .chain(mailboxes(msg.cc()))
        .map(|m| m.email)
        .collect();
    let automatic = automatic(
        &|name| header(name),
        content_type.as_deref(),
        &subject,
        from.as_ref().map(|f| f.email.as_str()),
    );
    let provider_spam = ["X-Mailgun-Sflag", "X-Spam-Flag", "X-Spam-Status"]
        .iter()
        .find_map(|h| header(h))
        .map(|v| {
            let v = v.to_ascii_lowercase();
            v.starts_with("yes") || v.starts_with("true")
        });
    Email {
        message_id: msg
            .message_id()
            .map(|m| m.trim_matches(['<', '>']).to_owned()),
        in_reply_to: ids(msg.in_reply_to()),
        references: ids(msg.references()),
        from,
        recipients,
        reply: trim_reply(&text),
        text,
        subject,
        attachments,
        automatic,
        provider_spam,
        malformed: undecoded,
        truncated,
    }
}

/// The lines after a message's headers, less MIME boundaries and part headers.
fn raw_body_text(raw: &[u8]) -> String {
    let s = String::from_utf8_lossy(raw).replace("\r\n", "\n");
    let body = s.split_once("\n\n").map_or(s.as_str(), |(_, b)| b);
    body.lines()
        .filter(|l| {
            let t = l.trim();
            !t.starts_with("--")
                && !t.to_ascii_lowercase().starts_with("content-")
                && !t.to_ascii_lowercase().starts_with("mime-version")
        })
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_owned()
}

/// Why a message is automatic, from its headers (`header(name)`), its MIME type, subject and
/// sender. `None`: a person wrote it.
pub fn automatic(
    header: &dyn Fn(&'static str) -> Option<String>,
    content_type: Option<&str>,
    subject: &str,
    from: Option<&str>,
) -> Option<Automatic> {
    if header(OUR_HEADER).is_some() {
        return Some(Automatic::Ours);
    }
    if header("Auto-Submitted").is_some_and(|v| !v.trim().eq_ignore_ascii_case("no")) {
        return Some(Automatic::AutoSubmitted);
    }
    let bounce_sender = from.is_some_and(|f| {
        let local = f.split('@').next().unwrap_or("");
        local.eq_ignore_ascii_case("mailer-daemon") || local.eq_ignore_ascii_case("postmaster")
    });
    if content_type == Some("multipart/report") || bounce_sender {
        return Some(Automatic::Bounce);
    }
    if ["X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress"]
        .iter()
        .any(|h| header(h).is_some())
    {
        return Some(Automatic::AutoReply);
    }
    let s = subject.to_ascii_lowercase();
    if [
        "out of office",
        "automatic reply",
        "auto-reply",
        "autoreply",
        "abwesenheitsnotiz",
    ]
    .iter()
    .any(|p| s.starts_with(p))
    {
        return Some(Automatic::AutoReply);
    }
    if header("List-Id").is_some() || header("List-Unsubscribe").is_some() {
        return Some(Automatic::List);
    }
    if header("Precedence").is_some_and(|p| {
        matches!(
            p.trim().to_ascii_lowercase().as_str(),
            "bulk" | "list" | "junk"
        )
    }) {
        return Some(Automatic::List);
    }
    None
}

/// Whether a line starts the quoted earlier mail of a reply (Gmail's "On … wrote:",
/// Outlook's separators and header block).
fn starts_quote(line: &str, next: Option<&str>) -> bool {
    let l = line.trim();
    let joined = match next {
        Some(n) => format!("{l} {}", n.trim()),
        None => l.to_owned(),
    };
    let wrote = |s: &str| {
        let s = s.to_ascii_lowercase();
        (s.starts_with("on ") || s.starts_with("le ") || s.starts_with("am "))
            && (s.ends_with("wrote:") || s.ends_with("a écrit :") || s.ends_with("schrieb:"))
    };
    wrote(l)
        || (l.to_ascii_lowercase().starts_with("on ") && wrote(&joined))
        || l.starts_with("-----Original Message-----")
        || l.starts_with("----- Original Message -----")
        || (l.len() >= 20 && l.chars().all(|c| c == '_'))
        || (l.starts_with("From: ")
            && next.is_some_and(|n| {
                let n = n.trim_start();
                n.starts_with("Sent: ") || n.starts_with("Date: ")
            }))
}

/// The new part of a reply: the text before the quoted earlier mail, without a trailing
/// block of `>` lines or the signature (after `-- `, or "Sent from my …").
pub fn trim_reply(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut end = lines.len();
    for (i, line) in lines.iter().enumerate() {
        if starts_quote(line, lines.get(i + 1).copied()) {
            end = i;
            break;
        }
        if *line == "-- " || line.trim() == "--" {
            end = i;
            break;
        }
    }
    let mut kept: Vec<&str> = lines[..end].to_vec();
    // A trailing quoted block (Apple Mail, plain text clients), then blank lines.
    while kept
        .last()
        .is_some_and(|l| l.trim().is_empty() || l.trim_start().starts_with('>'))
    {
        kept.pop();
    }
    if kept.last().is_some_and(|l| {
        let l = l.trim().to_ascii_lowercase();
        l.starts_with("sent from my ") || l.starts_with("get outlook for ")
    }) {
        kept.pop();
    }
    let reply = kept.join("\n").trim().to_owned();
    if reply.is_empty() {
        text.trim().to_owned()
    } else {
        reply
    }
}

/// Phrases that, with another signal, make a message spam.
const SPAM_PHRASES: &[&str] = &[
    "you have won",
    "claim your prize",
    "100% free",
    "crypto giveaway",
    "wire transfer fee",
    "lottery winner",
    "increase your ranking",
    "cheap viagra",
    "seo services",
    "act now",
];

/// The documented spam signals a message shows (the provider's verdict aside): spam phrases,
/// a shouting subject, a body that is mostly links, no text at all.
pub fn spam_signals(e: &Email) -> Vec<&'static str> {
    let mut out = Vec::new();
    let body = e.text.to_ascii_lowercase();
    if SPAM_PHRASES
        .iter()
        .any(|p| body.contains(p) || e.subject.to_ascii_lowercase().contains(p))
    {
        out.push("spam_phrases");
    }
    let letters: Vec<char> = e.subject.chars().filter(|c| c.is_alphabetic()).collect();
    if letters.len() >= 8 && letters.iter().all(|c| c.is_uppercase())
        || e.subject.matches('!').count() >= 3
    {
        out.push("shouting_subject");
    }
    let links = body.matches("http://").count() + body.matches("https://").count();
    let words = body.split_whitespace().count();
    if links >= 5 && links * 4 >= words {
        out.push("mostly_links");
    }
    if words == 0 && e.attachments.is_empty() {
        out.push("no_text");
    }
    out
}

/// Whether a message is spam: the provider says so, or it shows two signals or more.
/// A trusted sender is never spam (see [`is_trusted`]).
pub fn is_spam(e: &Email) -> bool {
    e.provider_spam == Some(true) || spam_signals(e).len() >= 2
}

/// Whether `sender` is on the list of trusted senders or domains (`a@b.com`, `b.com`,
/// `@b.com`).
pub fn is_trusted(sender: &str, trusted: &[String]) -> bool {
    let sender = sender.to_ascii_lowercase();
    let domain = sender.rsplit('@').next().unwrap_or("");
    trusted.iter().any(|t| {
        let t = t.trim().trim_start_matches('@').to_ascii_lowercase();
        t == sender || t == domain
    })
}

fn mac_hex(secret: &str, message: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(message.as_bytes());
    crate::ids::hex(&mac.finalize().into_bytes())
}

/// Characters of the reply address's MAC (64 bits: guessing one is hopeless).
const REPLY_MAC_CHARS: usize = 16;

/// A ticket's reply address: `reply+<ticket>.<mac>@<domain>`, the MAC so that nobody can
/// write into another ticket by guessing its address.
pub fn reply_address(ticket_id: &str, secret: &str, domain: &str) -> String {
    let mac = mac_hex(secret, &format!("reply:{ticket_id}"));
    format!("reply+{ticket_id}.{}@{domain}", &mac[..REPLY_MAC_CHARS])
}

/// The ticket a reply address names, if its MAC checks out (compared in constant time).
pub fn ticket_of_reply_address(address: &str, secret: &str) -> Option<String> {
    let local = address.split('@').next()?.to_ascii_lowercase();
    let rest = local.strip_prefix("reply+")?;
    let (ticket, mac) = rest.rsplit_once('.')?;
    let expected = mac_hex(secret, &format!("reply:{ticket}"));
    constant_time_eq(mac.as_bytes(), &expected.as_bytes()[..REPLY_MAC_CHARS])
        .then(|| ticket.to_owned())
}

/// Why a Mailgun webhook was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailgunRefusal {
    BadSignature,
    Stale,
}

/// Checks a Mailgun webhook: `signature` must be HMAC-SHA256(signing key, timestamp +
/// token) in hex, and the timestamp within [`MAILGUN_WINDOW_SECS`] of `now`. (The token is
/// remembered by the caller, so that a replay is refused too.)
pub fn check_mailgun(
    signing_key: &str,
    timestamp: &str,
    token: &str,
    signature: &str,
    now_secs: i64,
) -> Result<(), MailgunRefusal> {
    let expected = mac_hex(signing_key, &format!("{timestamp}{token}"));
    if !constant_time_eq(
        expected.as_bytes(),
        signature.trim().to_ascii_lowercase().as_bytes(),
    ) {
        return Err(MailgunRefusal::BadSignature);
    }
    let at: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| MailgunRefusal::Stale)?;
    if (now_secs - at).abs() > MAILGUN_WINDOW_SECS {
        return Err(MailgunRefusal::Stale);
    }
    Ok(())
}

/// An HTTP Basic `Authorization` value (Mailgun's API takes `api:<key>`).
pub fn basic_auth(user: &str, password: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

/// An email to send.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    pub from: Mailbox,
    pub to: String,
    pub reply_to: String,
    pub subject: String,
    pub text: String,
    /// Without angle brackets.
    pub message_id: String,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    /// An AI auto-reply (`Auto-Submitted: auto-replied`), so that well-behaved autoresponders
    /// do not answer it.
    pub automatic: bool,
}

/// A reply's subject: the ticket's, with one `Re: `.
pub fn reply_subject(subject: &str) -> String {
    let s = subject.trim();
    if s.to_ascii_lowercase().starts_with("re:") {
        s.to_owned()
    } else if s.is_empty() {
        "Re: your message".to_owned()
    } else {
        format!("Re: {s}")
    }
}

fn header_text(s: &str) -> String {
    use base64::Engine;
    let clean: String = s.chars().filter(|c| !c.is_control()).collect();
    if clean.is_ascii() {
        clean
    } else {
        format!(
            "=?UTF-8?B?{}?=",
            base64::engine::general_purpose::STANDARD.encode(clean.as_bytes())
        )
    }
}

fn base64_lines(s: &str) -> String {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(s.as_bytes());
    encoded
        .as_bytes()
        .chunks(76)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("\r\n")
}

/// The text as simple HTML: escaped, paragraphs at blank lines, line breaks kept.
pub fn simple_html(text: &str) -> String {
    let escaped = text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;");
    let paragraphs: Vec<String> = escaped
        .split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .map(|p| format!("<p>{}</p>", p.trim().replace('\n', "<br>")))
        .collect();
    format!(
        "<!doctype html><html><body style=\"font-family:sans-serif;font-size:14px\">{}</body></html>",
        paragraphs.join("")
    )
}

impl Outgoing {
    /// The message as RFC 5322 text: threading headers, `Reply-To`, our marker, and the text
    /// as plain text plus simple HTML (`multipart/alternative`, base64 so that no line is too
    /// long and any character goes through).
    pub fn to_mime(&self, date: &str, boundary: &str) -> String {
        let from = match &self.from.name {
            Some(n) => format!("{} <{}>", header_text(n), self.from.email),
            None => self.from.email.clone(),
        };
        let mut h = vec![
            format!("From: {from}"),
            format!("To: {}", self.to),
            format!("Reply-To: {}", self.reply_to),
            format!("Subject: {}", header_text(&self.subject)),
            format!("Date: {date}"),
            format!("Message-ID: <{}>", self.message_id),
            "MIME-Version: 1.0".to_owned(),
            format!("{OUR_HEADER}: 1"),
        ];
        if let Some(r) = &self.in_reply_to {
            h.push(format!("In-Reply-To: <{r}>"));
        }
        if !self.references.is_empty() {
            let refs: Vec<String> = self.references.iter().map(|r| format!("<{r}>")).collect();
            h.push(format!("References: {}", refs.join(" ")));
        }
        if self.automatic {
            h.push("Auto-Submitted: auto-replied".to_owned());
        }
        h.push(format!(
            "Content-Type: multipart/alternative; boundary=\"{boundary}\""
        ));
        format!(
            "{}\r\n\r\n--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--{boundary}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--{boundary}--\r\n",
            h.join("\r\n"),
            base64_lines(&self.text),
            base64_lines(&simple_html(&self.text)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!(
            "{}/../tests/fixtures/email/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn a_plain_message_gives_its_ids_sender_subject_and_text() {
        let e = parse(&fixture("plain.eml"));
        assert_eq!(e.message_id.as_deref(), Some("plain-1@customer.example"));
        let from = e.from.unwrap();
        assert_eq!(
            (from.email.as_str(), from.name.as_deref()),
            ("ada@customer.example", Some("Ada Lovelace"))
        );
        assert_eq!(e.subject, "My export keeps failing");
        assert!(e.text.contains("error 42"));
        assert_eq!(e.automatic, None);
        assert!(!e.malformed);
        assert!(e.recipients.contains(&"support@acme.example".to_owned()));
    }

    #[test]
    fn multipart_alternative_prefers_the_text_part() {
        let e = parse(&fixture("alternative.eml"));
        assert!(
            e.text.contains("the invoice for March is missing"),
            "{}",
            e.text
        );
        assert!(!e.text.contains("<p>"));
    }

    #[test]
    fn an_html_only_message_becomes_text() {
        let e = parse(&fixture("html-only.eml"));
        assert!(e.text.contains("Where is my parcel"), "{}", e.text);
        assert!(!e.text.contains("<b>"), "{}", e.text);
    }

    #[test]
    fn attachments_are_kept_as_name_type_and_size() {
        let e = parse(&fixture("attachment.eml"));
        assert_eq!(e.attachments.len(), 1);
        let a = &e.attachments[0];
        assert_eq!(
            (a.name.as_str(), a.content_type.as_str()),
            ("error-log.txt", "text/plain")
        );
        assert_eq!(a.size, "Line 1: error 42\nLine 2: retrying\n".len());
        assert!(e.text.contains("log attached"));
    }

    #[test]
    fn latin_1_quoted_printable_and_encoded_subjects_are_decoded() {
        let e = parse(&fixture("latin1.eml"));
        assert_eq!(e.subject, "Problème de facture");
        assert!(
            e.text.contains("reçu la facture, merci de vérifier"),
            "{}",
            e.text
        );
    }

    #[test]
    fn quoted_replies_and_signatures_are_trimmed_from_gmail_and_outlook_replies() {
        let gmail = parse(&fixture("gmail-reply.eml"));
        assert_eq!(
            gmail.reply,
            "Thanks, that worked. One more thing: can I export to PDF too?"
        );
        assert!(gmail.text.contains("wrote:"), "the full text is kept");
        assert_eq!(
            gmail.in_reply_to,
            vec!["halo-out-1@halo.example".to_owned()]
        );
        let outlook = parse(&fixture("outlook-reply.eml"));
        assert_eq!(outlook.reply, "Still failing after the update, see below.");
        assert!(outlook
            .references
            .contains(&"halo-out-1@halo.example".to_owned()));
    }

    #[test]
    fn automatic_mail_is_told_apart() {
        assert_eq!(
            parse(&fixture("auto-reply.eml")).automatic,
            Some(Automatic::AutoSubmitted)
        );
        assert_eq!(
            parse(&fixture("bounce.eml")).automatic,
            Some(Automatic::Bounce)
        );
        assert_eq!(parse(&fixture("list.eml")).automatic, Some(Automatic::List));
        let ours = Outgoing {
            from: Mailbox {
                email: "support@halo.example".into(),
                name: None,
            },
            to: "ada@customer.example".into(),
            reply_to: "reply+t.x@halo.example".into(),
            subject: "Re: hi".into(),
            text: "Hello".into(),
            message_id: "m@halo.example".into(),
            in_reply_to: None,
            references: Vec::new(),
            automatic: false,
        };
        let back = parse(
            ours.to_mime("Tue, 1 Dec 2026 10:00:00 +0000", "b1")
                .as_bytes(),
        );
        assert_eq!(back.automatic, Some(Automatic::Ours));
    }

    #[test]
    fn malformed_mime_still_gives_its_text() {
        let e = parse(&fixture("malformed.eml"));
        assert!(e.text.contains("please help"), "{}", e.text);
        assert!(e.malformed);
        assert_eq!(
            e.message_id.as_deref(),
            Some("malformed-1@customer.example")
        );
        let garbage = parse(b"\xff\xfe not an email at all, please help");
        assert!(garbage.text.contains("please help"));
    }

    #[test]
    fn spam_needs_the_providers_verdict_or_two_signals() {
        let mut e = parse(&fixture("plain.eml"));
        assert!(!is_spam(&e));
        e.subject = "YOU HAVE WON A PRIZE!!!".into();
        e.text = "You have won: claim your prize now".into();
        assert_eq!(spam_signals(&e), vec!["spam_phrases", "shouting_subject"]);
        assert!(is_spam(&e));
        let mut verdict = parse(&fixture("plain.eml"));
        verdict.provider_spam = Some(true);
        assert!(is_spam(&verdict));
        assert!(is_trusted(
            "Boss@Partner.example",
            &["partner.example".into()]
        ));
        assert!(is_trusted("a@b.example", &["a@b.example".into()]));
        assert!(!is_trusted("a@evil.example", &["@b.example".into()]));
    }

    #[test]
    fn a_reply_address_names_its_ticket_only_with_the_right_mac() {
        let addr = reply_address("t-123", "secret-1", "mail.halo.example");
        assert!(addr.starts_with("reply+t-123."));
        assert_eq!(
            ticket_of_reply_address(&addr, "secret-1").as_deref(),
            Some("t-123")
        );
        assert_eq!(ticket_of_reply_address(&addr, "secret-2"), None);
        let forged = addr.replace("t-123", "t-124");
        assert_eq!(ticket_of_reply_address(&forged, "secret-1"), None);
        assert_eq!(
            ticket_of_reply_address("support@mail.halo.example", "secret-1"),
            None
        );
    }

    #[test]
    fn a_mailgun_signature_is_checked_with_its_timestamp_window() {
        let sig = mac_hex("key-1", "1700000000tok");
        assert_eq!(
            check_mailgun("key-1", "1700000000", "tok", &sig, 1_700_000_100),
            Ok(())
        );
        assert_eq!(
            check_mailgun("key-2", "1700000000", "tok", &sig, 1_700_000_100),
            Err(MailgunRefusal::BadSignature)
        );
        assert_eq!(
            check_mailgun("key-1", "1700000000", "tok", &sig, 1_700_001_000),
            Err(MailgunRefusal::Stale)
        );
        assert_eq!(
            check_mailgun("key-1", "1700000000", "other", &sig, 1_700_000_100),
            Err(MailgunRefusal::BadSignature)
        );
    }

    #[test]
    fn an_outgoing_reply_threads_and_reads_back() {
        let out = Outgoing {
            from: Mailbox {
                email: "support@halo.example".into(),
                name: Some("Acme Support".into()),
            },
            to: "ada@customer.example".into(),
            reply_to: "reply+t-1.abc@halo.example".into(),
            subject: reply_subject("Problème de facture"),
            text: "Bonjour Ada,\n\nC'est réglé.\n<script>".into(),
            message_id: "out-2@halo.example".into(),
            in_reply_to: Some("plain-1@customer.example".into()),
            references: vec!["plain-1@customer.example".into()],
            automatic: true,
        };
        let mime = out.to_mime("Tue, 1 Dec 2026 10:00:00 +0000", "b2");
        assert!(mime.contains("Auto-Submitted: auto-replied"));
        let back = parse(mime.as_bytes());
        assert_eq!(back.subject, "Re: Problème de facture");
        assert_eq!(
            back.in_reply_to,
            vec!["plain-1@customer.example".to_owned()]
        );
        assert_eq!(back.message_id.as_deref(), Some("out-2@halo.example"));
        assert!(back.text.contains("C'est réglé."));
        assert!(simple_html(&out.text).contains("&lt;script&gt;"));
        assert_eq!(reply_subject("Re: hi"), "Re: hi");
    }
}
