//! Outbound email: one trait, three real implementations, chosen by `EMAIL_SENDER`:
//! - `cloudflare`: the platform's `send_email` binding (`EMAIL` in wrangler.toml; the sender
//!   domain must be set up in Email Routing, and the binding may send only to verified
//!   destinations unless the domain sends through Email Routing's sending);
//! - `mailgun`: Mailgun's messages API (`MAILGUN_API_KEY`, `MAILGUN_DOMAIN`, and
//!   `MAILGUN_API_BASE` for the EU region);
//! - `sink` (the default, and what `wrangler dev` and the tests use): sends nothing; every
//!   message is recorded all the same, with the status `recorded`, so tests read what would
//!   have gone out.
//!
//! Whichever sends, the message is recorded in `emails` with its Message-ID, which is how a
//! customer's reply finds its ticket again.

use halo_shared::email::{reply_address, reply_subject, Mailbox, Outgoing};
use serde_json::json;
use worker::Env;

use crate::platform::{new_id, setting};
use crate::store::email::{self as mail_store, EmailWrite};

/// Sends one message; `Ok` with the provider's id for it, if it gave one.
#[allow(async_fn_in_trait)] // one thread: the futures need not be Send
pub trait Mailer {
    /// The `email` status a sent message is recorded with.
    const SENT: &'static str;
    async fn send(&self, message: &Outgoing, mime: &str) -> Result<Option<String>, String>;
}

/// The platform's `send_email` binding.
pub struct Cloudflare(worker::SendEmail);

impl Mailer for Cloudflare {
    const SENT: &'static str = "sent";
    async fn send(&self, m: &Outgoing, mime: &str) -> Result<Option<String>, String> {
        let message = worker::email::EmailMessage::new(&m.from.email, &m.to, mime)
            .map_err(|e| format!("EmailMessage: {e:?}"))?;
        let sent = self
            .0
            .send(&message)
            .await
            .map_err(|e| format!("send_email: {e:?}"))?;
        Ok(Some(sent.message_id()))
    }
}

/// Mailgun's messages API (`POST /v3/<domain>/messages.mime`).
pub struct Mailgun {
    api_key: String,
    domain: String,
    base: String,
}

impl Mailer for Mailgun {
    const SENT: &'static str = "sent";
    async fn send(&self, m: &Outgoing, mime: &str) -> Result<Option<String>, String> {
        let boundary = format!("halo{}", new_id().replace('-', ""));
        let part = |name: &str, value: &str, file: bool| {
            let disposition = if file {
                format!("form-data; name=\"{name}\"; filename=\"message.eml\"\r\nContent-Type: message/rfc822")
            } else {
                format!("form-data; name=\"{name}\"")
            };
            format!("--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n{value}\r\n")
        };
        let body = format!(
            "{}{}--{boundary}--\r\n",
            part("to", &m.to, false),
            part("message", mime, true)
        );
        let url = format!("{}/v3/{}/messages.mime", self.base, self.domain);
        let headers = worker::Headers::new();
        headers
            .set(
                "authorization",
                &halo_shared::email::basic_auth("api", &self.api_key),
            )
            .map_err(|e| e.to_string())?;
        headers
            .set(
                "content-type",
                &format!("multipart/form-data; boundary={boundary}"),
            )
            .map_err(|e| e.to_string())?;
        let init = worker::RequestInit {
            method: worker::Method::Post,
            headers,
            body: Some(body.into()),
            ..Default::default()
        };
        let request = worker::Request::new_with_init(&url, &init).map_err(|e| e.to_string())?;
        let fetched =
            crate::outbound::fetch(request, std::time::Duration::from_secs(10), 64 * 1024).await?;
        if !(200..300).contains(&fetched.status) {
            return Err(format!("Mailgun answered {}", fetched.status));
        }
        let id = fetched
            .body
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|v| v["id"].as_str().map(str::to_owned));
        Ok(id)
    }
}

/// Records without sending.
pub struct Sink;

impl Mailer for Sink {
    const SENT: &'static str = "recorded";
    async fn send(&self, _m: &Outgoing, _mime: &str) -> Result<Option<String>, String> {
        Ok(None)
    }
}

/// The domain of our addresses (`EMAIL_DOMAIN`).
pub fn domain(env: &Env) -> String {
    setting(env, "EMAIL_DOMAIN").unwrap_or_else(|| "mail.halo.localhost".into())
}

/// A workspace's inbound address: the one it chose, else `<org id>@EMAIL_DOMAIN`.
pub fn inbound_address(env: &Env, org: &str, chosen: Option<&str>) -> String {
    chosen
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{org}@{}", domain(env)))
}

/// What a reply on a ticket says, and to whom.
pub struct Reply<'a> {
    pub org: &'a str,
    pub ticket_id: &'a str,
    pub to: &'a str,
    pub subject: &'a str,
    pub text: &'a str,
    /// An AI auto-reply.
    pub automatic: bool,
}

/// Sends a reply on an email ticket, threaded on the ticket's latest email, from the
/// workspace's address with the ticket's reply address as `Reply-To`, and records it.
/// Returns the recorded status (`sent`, `recorded`, `failed`).
pub async fn send_reply(
    env: &Env,
    db: &worker::D1Database,
    r: &Reply<'_>,
) -> worker::Result<String> {
    let room = mail_store::mailroom(db, r.org)
        .await?
        .ok_or_else(|| worker::Error::RustError("no such workspace".into()))?;
    let thread = mail_store::thread(db, r.org, r.ticket_id).await?;
    let last_in = thread.iter().rev().find(|e| e.direction == "in");
    let mut references: Vec<String> = last_in.map(|e| e.refs.clone()).unwrap_or_default();
    if let Some(e) = last_in {
        if !references.contains(&e.message_id) {
            references.push(e.message_id.clone());
        }
    }
    let domain = domain(env);
    let secret = room.email_secret.clone().unwrap_or_default();
    let message = Outgoing {
        from: Mailbox {
            email: inbound_address(env, r.org, room.inbound_email.as_deref()),
            name: Some(room.name.clone()),
        },
        to: r.to.to_owned(),
        reply_to: reply_address(r.ticket_id, &secret, &domain),
        subject: reply_subject(r.subject),
        text: r.text.to_owned(),
        message_id: format!("{}@{domain}", new_id()),
        in_reply_to: last_in.map(|e| e.message_id.clone()),
        references,
        automatic: r.automatic,
    };
    let date = worker::Date::now().to_string();
    let mime = message.to_mime(&date, &format!("halo-{}", new_id()));
    let (status, reason) = match setting(env, "EMAIL_SENDER").as_deref() {
        Some("cloudflare") => match env.send_email("EMAIL") {
            Ok(binding) => outcome::<Cloudflare>(Cloudflare(binding).send(&message, &mime).await),
            Err(e) => ("failed", Some(format!("the EMAIL binding: {e}"))),
        },
        Some("mailgun") => match (
            setting(env, "MAILGUN_API_KEY"),
            setting(env, "MAILGUN_DOMAIN"),
        ) {
            (Some(api_key), Some(domain)) => {
                let base = setting(env, "MAILGUN_API_BASE")
                    .unwrap_or_else(|| "https://api.mailgun.net".into());
                outcome::<Mailgun>(
                    Mailgun {
                        api_key,
                        domain,
                        base,
                    }
                    .send(&message, &mime)
                    .await,
                )
            }
            _ => (
                "failed",
                Some("MAILGUN_API_KEY and MAILGUN_DOMAIN are not set".into()),
            ),
        },
        _ => outcome::<Sink>(Sink.send(&message, &mime).await),
    };
    if let Some(why) = &reason {
        worker::console_error!("sending the reply on ticket {} failed: {why}", r.ticket_id);
    }
    let attachments = json!([]);
    mail_store::record(
        db,
        r.org,
        &EmailWrite {
            ticket_id: Some(r.ticket_id),
            direction: "out",
            message_id: &message.message_id,
            in_reply_to: message.in_reply_to.as_deref(),
            refs: &message.references,
            from: Some(&message.from.email),
            to: Some(&message.to),
            reply_to: Some(&message.reply_to),
            subject: &message.subject,
            body: &message.text,
            attachments: &attachments,
            status,
            reason: reason.as_deref(),
            size: mime.len(),
        },
    )
    .await?;
    Ok(status.to_owned())
}

fn outcome<M: Mailer>(sent: Result<Option<String>, String>) -> (&'static str, Option<String>) {
    match sent {
        Ok(_) => (M::SENT, None),
        Err(e) => ("failed", Some(e)),
    }
}
