//! Email in: a message delivered by Cloudflare Email Routing (the Worker's `email` handler)
//! or POSTed by Mailgun (`POST /api/email/inbound/mailgun`) becomes a ticket, or joins the
//! ticket it replies to, and goes through the turn pipeline as the email channel.
//!
//! The steps, in order: size; parse (never fails: a malformed message keeps what could be
//! read); the workspace (a ticket's reply address, else the inbound address); the message
//! recorded by its Message-ID, once (a retry is a duplicate); automatic mail recorded and
//! left alone; the sender's contact; the thread (reply address, then `In-Reply-To` /
//! `References`, else a new ticket); spam; then the AI, as the workspace says.

use halo_shared::chat::{Channel, ChatRequest, UserRef};
use halo_shared::email::{self, Email, MAX_EMAIL_BYTES};
use halo_shared::settings::{EmailAi, EmailSettings};
use halo_shared::tickets::Status;
use serde_json::json;
use worker::{Context, D1Database, Env};

use crate::error::{ApiError, ApiResult};
use crate::platform::{key_hash, new_id, now_ms, Bindings};
use crate::store::email::{self as mail_store, EmailWrite};
use crate::store::{self, tickets as ticket_store};

/// What became of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// A new ticket, or a message on an existing one.
    Ticket {
        ticket_id: String,
        new: bool,
        spam: bool,
    },
    /// Seen before (the same Message-ID): nothing was done again.
    Duplicate,
    /// Automatic mail (an auto-reply, a bounce, a list): recorded, never answered.
    Ignored(&'static str),
}

/// Refusals that a retry cannot fix.
pub fn too_large(size: usize) -> ApiError {
    worker::console_warn!("an email of {size} bytes was refused (at most {MAX_EMAIL_BYTES})");
    ApiError::PayloadTooLarge {
        max: MAX_EMAIL_BYTES,
    }
}

/// The workspace (and the ticket, for a reply address) a message is for.
async fn addressee(
    db: &D1Database,
    recipients: &[String],
) -> ApiResult<Option<(String, Option<String>)>> {
    for to in recipients {
        let to = to.trim().trim_matches(['<', '>']).to_ascii_lowercase();
        if to.starts_with("reply+") {
            let ticket = to
                .strip_prefix("reply+")
                .and_then(|r| r.split_once('@'))
                .and_then(|(local, _)| local.rsplit_once('.'))
                .map(|(t, _)| t.to_owned());
            if let Some(ticket) = ticket {
                if let Some((org, secret)) = mail_store::ticket_workspace(db, &ticket).await? {
                    if email::ticket_of_reply_address(&to, &secret).as_deref()
                        == Some(ticket.as_str())
                    {
                        return Ok(Some((org, Some(ticket))));
                    }
                }
            }
            continue;
        }
        if let Some(org) = mail_store::workspace_of_address(db, &to).await? {
            return Ok(Some((org, None)));
        }
    }
    Ok(None)
}

/// Receives one raw message for `envelope_to` (the address it was delivered to).
pub async fn receive(
    b: &Bindings,
    ctx: &Context,
    raw: &[u8],
    envelope_to: &str,
) -> ApiResult<Received> {
    if raw.len() > MAX_EMAIL_BYTES {
        return Err(too_large(raw.len()));
    }
    let db = &b.db;
    let parsed = email::parse(raw);
    let mut recipients = vec![envelope_to.to_owned()];
    recipients.extend(parsed.recipients.iter().cloned());
    let (org, replied_ticket) = addressee(db, &recipients).await?.ok_or(ApiError::NotFound(
        "No workspace receives mail at this address.",
    ))?;
    // A message without a Message-ID is known by its bytes.
    let message_id = parsed.message_id.clone().unwrap_or_else(|| {
        format!(
            "{}@no-message-id",
            &key_hash(&String::from_utf8_lossy(raw))[..32]
        )
    });
    let sender = parsed.from.as_ref().map(|f| f.email.clone());
    let attachments = json!(parsed.attachments);
    let status = if parsed.automatic.is_some() {
        "ignored"
    } else {
        "received"
    };
    let first = mail_store::record(
        db,
        &org,
        &EmailWrite {
            ticket_id: None,
            direction: "in",
            message_id: &message_id,
            in_reply_to: parsed.in_reply_to.first().map(String::as_str),
            refs: &parsed.references,
            from: sender.as_deref(),
            to: Some(envelope_to),
            reply_to: None,
            subject: &parsed.subject,
            body: &parsed.text,
            attachments: &attachments,
            status,
            reason: parsed.automatic.map(|a| a.as_str()),
            size: raw.len(),
        },
    )
    .await?;
    if !first {
        return Ok(Received::Duplicate);
    }
    if let Some(why) = parsed.automatic {
        return Ok(Received::Ignored(why.as_str()));
    }
    let Some(sender) = sender else {
        mail_store::settle(db, &org, &message_id, None, "ignored", Some("no sender")).await?;
        return Ok(Received::Ignored("no_sender"));
    };
    let room = mail_store::mailroom(db, &org)
        .await?
        .ok_or(ApiError::NotFound("No such workspace."))?;
    let settings = EmailSettings::from_stored(Some(&room.email));
    let name = parsed.from.as_ref().and_then(|f| f.name.as_deref());
    let contact = mail_store::contact_for(db, &org, &sender, name).await?;
    let mut thread_ids = parsed.in_reply_to.clone();
    thread_ids.extend(parsed.references.iter().cloned());
    let existing = match replied_ticket {
        Some(t) => Some(t),
        None => mail_store::ticket_of_thread(db, &org, &thread_ids).await?,
    };
    let (ticket_id, new, spam) = match existing {
        Some(ticket_id) => {
            join_ticket(db, &org, &ticket_id, &parsed).await?;
            let spam = ticket_store::status_of(db, &org, &ticket_id)
                .await?
                .is_some_and(|s| s.status == "spam");
            (ticket_id, false, spam)
        }
        None => {
            let spam = !email::is_trusted(&sender, &settings.trusted)
                && (email::is_spam(&parsed)
                    || mail_store::sender_marked_spam(db, &org, &sender).await?);
            let ticket_id = open_ticket(db, &org, &contact, &parsed, spam).await?;
            (ticket_id, true, spam)
        }
    };
    let final_status = if spam { "spam" } else { "received" };
    mail_store::settle(db, &org, &message_id, Some(&ticket_id), final_status, None).await?;
    if !spam && settings.ai != EmailAi::Off {
        answer(
            b,
            ctx,
            &org,
            &ticket_id,
            &contact,
            &sender,
            &parsed,
            settings.ai,
        )
        .await?;
    }
    Ok(Received::Ticket {
        ticket_id,
        new,
        spam,
    })
}

/// The conversation an email ticket's turns are in.
fn session_of(ticket_id: &str) -> String {
    format!("email-{ticket_id}")
}

/// Opens a ticket (Open, or Spam) for a new message, with its conversation on the email
/// channel, the contact's.
async fn open_ticket(
    db: &D1Database,
    org: &str,
    contact: &str,
    e: &Email,
    spam: bool,
) -> ApiResult<String> {
    let id = new_id();
    let agent = store::agents::channel_agent(db, org, Channel::Email.as_str())
        .await?
        .ok_or(ApiError::Internal("the workspace has no agent".into()))?;
    let subject = if e.subject.is_empty() {
        "(no subject)"
    } else {
        &e.subject
    };
    let status = if spam { Status::Spam } else { Status::Open };
    let session = session_of(&id);
    let mut batch = vec![store::conversation_for_contact(
        db,
        org,
        &session,
        contact,
        &agent,
        Channel::Email.as_str(),
    )?];
    batch.extend(ticket_store::create(
        db,
        org,
        &ticket_store::TicketWrite {
            id: &id,
            subject,
            status,
            assignee: None,
            team: None,
            channel: Channel::Email.as_str(),
            source: "email",
            user_external_id: Some(contact),
            company_external_id: None,
            session_id: Some(&session),
            custom_fields: &json!({}),
            ai_confidence: None,
            escalation_reason: None,
            first_message: Some(("email", "customer", &e.text)),
        },
    )?);
    db.batch(batch).await?;
    Ok(id)
}

/// Adds a message to its ticket's thread; a Resolved ticket opens again.
async fn join_ticket(db: &D1Database, org: &str, ticket_id: &str, e: &Email) -> ApiResult<()> {
    let mut batch = vec![ticket_store::add_message(
        db, org, ticket_id, "email", "customer", &e.text,
    )?];
    if let Some(row) = ticket_store::status_of(db, org, ticket_id).await? {
        let before = Status::from_stored(&row.status, row.snoozed_until).unwrap_or(Status::Open);
        let after = halo_shared::tickets::apply(
            before,
            halo_shared::tickets::Event::CustomerMessage,
            now_ms(),
        )
        .unwrap_or(before);
        if after != before {
            batch.push(ticket_store::set_status(db, org, ticket_id, after, None)?);
        }
    }
    db.batch(batch).await?;
    Ok(())
}

/// The AI on an email: one turn through the pipeline on the ticket's conversation. A
/// confident answer goes out by email when the workspace says `send`, and resolves the
/// ticket; otherwise it waits for the team as an internal note (the suggested reply).
#[allow(clippy::too_many_arguments)]
async fn answer(
    b: &Bindings,
    ctx: &Context,
    org: &str,
    ticket_id: &str,
    contact: &str,
    sender: &str,
    e: &Email,
    mode: EmailAi,
) -> ApiResult<()> {
    let db = &b.db;
    let session = session_of(ticket_id);
    let mut chat =
        ChatRequest::parse(&json!({ "message": question_of(e), "session_id": session }))?;
    chat.user = UserRef::External(contact.to_owned());
    chat.channel = Channel::Email;
    let ws = store::workspace_by_id(db, org)
        .await?
        .ok_or(ApiError::NotFound("No such workspace."))?;
    let existing = store::conversation_by_session(db, store::Scope::Org(org), &session)
        .await
        .map_err(ApiError::from);
    let agent = existing
        .as_ref()
        .ok()
        .and_then(|c| c.as_ref())
        .map(|c| c.agent());
    let threshold = agent.as_ref().map_or(0.0, |a| a.escalation_threshold);
    let inbound = crate::turn::Inbound {
        ws,
        agent,
        existing,
        chat,
        page_origin: None,
        vouched: true,
    };
    let reply = crate::turn::run(&b.env, ctx, db, inbound).await?;
    let wants_person = reply.actions.iter().any(|a| {
        matches!(
            a,
            halo_shared::chat::Action::OfferHuman { .. }
                | halo_shared::chat::Action::CreateTicket { .. }
        )
    });
    let confident =
        reply.confidence >= threshold.max(0.5) && !wants_person && !reply.text.trim().is_empty();
    if mode == EmailAi::Send && confident {
        let status = crate::mail::send_reply(
            &b.env,
            db,
            &crate::mail::Reply {
                org,
                ticket_id,
                to: sender,
                subject: &e.subject,
                text: &reply.text,
                automatic: true,
            },
        )
        .await?;
        let mut batch = vec![ticket_store::add_message(
            db,
            org,
            ticket_id,
            "email",
            "ai",
            &reply.text,
        )?];
        if status != "failed" {
            batch.push(ticket_store::set_status(
                db,
                org,
                ticket_id,
                Status::Resolved,
                None,
            )?);
        }
        db.batch(batch).await?;
    } else {
        let note = format!(
            "Suggested reply from the AI (confidence {:.0}%):\n\n{}",
            reply.confidence * 100.0,
            reply.text
        );
        ticket_store::add_message(db, org, ticket_id, "note", "ai", &note)?
            .run()
            .await?;
    }
    Ok(())
}

/// What the AI is asked: the new part of the message, with its subject when that says more.
fn question_of(e: &Email) -> String {
    let body: String = e
        .reply
        .chars()
        .take(halo_shared::chat::MAX_MESSAGE_CHARS - 300)
        .collect();
    if e.subject.is_empty()
        || body
            .to_ascii_lowercase()
            .contains(&e.subject.to_ascii_lowercase())
    {
        body
    } else {
        format!(
            "{}\n\n{body}",
            e.subject.trim_start_matches(['R', 'r', 'E', 'e', ':', ' '])
        )
    }
}

/// The Worker's `email` handler: Email Routing's delivery. A message over the size limit is
/// rejected with its reason (the sender's server tells them); one for no workspace too.
pub async fn on_email(
    message: worker::ForwardableEmailMessage,
    env: Env,
    ctx: Context,
) -> worker::Result<()> {
    let to = message.to();
    let size = message.raw_size() as usize;
    if size > MAX_EMAIL_BYTES {
        let _ = too_large(size);
        message.set_reject(&format!(
            "The message is {size} bytes; this address takes at most {MAX_EMAIL_BYTES}."
        ));
        return Ok(());
    }
    let raw = message.raw_bytes().await?;
    let b = Bindings::resolve(env)?;
    match receive(&b, &ctx, &raw, &to).await {
        Ok(r) => worker::console_log!("email to {to}: {r:?}"),
        Err(ApiError::NotFound(why)) => message.set_reject(why),
        Err(e) => {
            // Our own failure: refusing would make the sender's server retry later, which is
            // what we want; the message is not lost.
            worker::console_error!("receiving an email to {to} failed: {e:?}");
            message.set_reject("Temporary failure: please try again later.");
        }
    }
    Ok(())
}

/// `POST /api/email/inbound/mailgun`: a Mailgun route's forward (`body-mime`, or its parsed
/// fields), signed with the workspace's webhook signing key; a replayed token is refused.
pub async fn mailgun_inbound(
    req: &mut worker::Request,
    b: &Bindings,
    ctx: &Context,
) -> ApiResult<worker::Response> {
    let form = req.form_data().await.map_err(|_| ApiError::InvalidJson)?;
    let field = |name: &str| match form.get(name) {
        Some(worker::FormEntry::Field(v)) => Some(v),
        _ => None,
    };
    let (timestamp, token, signature) = (
        field("timestamp").unwrap_or_default(),
        field("token").unwrap_or_default(),
        field("signature").unwrap_or_default(),
    );
    let recipient = field("recipient").unwrap_or_default();
    let raw = match field("body-mime") {
        Some(mime) => mime.into_bytes(),
        None => mime_of_fields(&field),
    };
    if raw.len() > MAX_EMAIL_BYTES {
        // 406 tells Mailgun not to retry: a retry cannot make it smaller.
        return Ok(crate::http::json_response(
            &json!({ "error": { "code": "payload_too_large", "message": format!("The message is over {MAX_EMAIL_BYTES} bytes.") } }),
            406,
        ));
    }
    let db = &b.db;
    let org = match addressee(db, std::slice::from_ref(&recipient)).await? {
        Some((org, _)) => org,
        None => {
            return Err(ApiError::NotFound(
                "No workspace receives mail at this address.",
            ))
        }
    };
    let room = mail_store::mailroom(db, &org)
        .await?
        .ok_or(ApiError::NotFound("No such workspace."))?;
    let key = EmailSettings::from_stored(Some(&room.email))
        .mailgun_signing_key
        .ok_or(ApiError::Forbidden {
            code: "mailgun_not_configured",
            message: "This workspace has no Mailgun signing key.",
        })?;
    email::check_mailgun(&key, &timestamp, &token, &signature, now_ms() / 1000).map_err(|_| {
        ApiError::Forbidden {
            code: "bad_signature",
            message: "The webhook's signature or timestamp is wrong.",
        }
    })?;
    if !mail_store::fresh_token(db, &token).await? {
        return Err(ApiError::Forbidden {
            code: "replayed",
            message: "This webhook token was already used.",
        });
    }
    let received = receive(b, ctx, &raw, &recipient).await?;
    let (status, ticket) = match &received {
        Received::Ticket { ticket_id, .. } => ("ticket", Some(ticket_id.clone())),
        Received::Duplicate => ("duplicate", None),
        Received::Ignored(_) => ("ignored", None),
    };
    crate::http::json_ok(&json!({ "status": status, "ticket_id": ticket }))
}

/// A message made of a Mailgun route's parsed fields, when it sent no `body-mime`.
fn mime_of_fields(field: &dyn Fn(&str) -> Option<String>) -> Vec<u8> {
    let mut out = String::new();
    for (name, header) in [
        ("from", "From"),
        ("To", "To"),
        ("subject", "Subject"),
        ("Message-Id", "Message-ID"),
        ("In-Reply-To", "In-Reply-To"),
        ("References", "References"),
    ] {
        if let Some(v) = field(name) {
            out.push_str(&format!("{header}: {}\r\n", v.replace(['\r', '\n'], " ")));
        }
    }
    out.push_str("Content-Type: text/plain; charset=utf-8\r\n\r\n");
    out.push_str(&field("body-plain").unwrap_or_default());
    out.into_bytes()
}
