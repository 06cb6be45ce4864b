//! The inbox API for teammates (inbox token): the live feed of conversations with mood,
//! outcome and AI score; take over (the AI pauses and a ticket In Progress is assigned to the
//! teammate), reply as a person, hand back; whisper to the AI; feedback on its answers;
//! internal notes and replies on tickets; contacts and companies with their tickets and
//! conversations.

use halo_shared::chat::{FieldError, InvalidField, MAX_MESSAGE_CHARS};
use halo_shared::conversation::{required_text, Feedback, Mood, Outcome, Whisper};
use halo_shared::inbox::{
    page_size, CompanyView, ContactView, ConversationDetail, ConversationSummary, Cursor, Ticket,
    TranscriptLine,
};
use halo_shared::tickets::{apply, Event, Status};
use serde_json::{json, Value};
use worker::{Env, Request, Response};

use crate::auth;
use crate::error::{ApiError, ApiResult};
use crate::http::{json_ok, json_response, query_param, read_json};
use crate::live;
use crate::platform::now_ms;
use crate::platform::Bindings;
use crate::store::{
    self, contacts, inbox as inbox_store, teammates, tickets as ticket_store, Scope,
};
use crate::tickets::{self, Escalation};
use halo_shared::live::LineRole;

/// Tells the conversation's live room and the workspace feed about a line just stored.
async fn announce(
    env: &Env,
    org: &str,
    session_id: &str,
    line: &(String, i64),
    role: LineRole,
    text: &str,
) {
    let event = live::messages_event(session_id, &[(&line.0, role, text, line.1)]);
    live::publish(env, org, session_id, &event).await;
}

const NO_CONVERSATION: ApiError =
    ApiError::NotFound("No conversation with this session_id in this workspace.");

/// `POST /api/inbox/conversations/:session_id/takeover`.
pub async fn take_over_conversation(
    req: &Request,
    b: &Bindings,
    session_id: &str,
) -> ApiResult<Response> {
    let Bindings { env, db } = b;
    let tm = auth::teammate(req, db).await?;
    let c = store::conversation_by_session(db, Scope::Org(&tm.org_id), session_id)
        .await?
        .ok_or(NO_CONVERSATION)?;
    teammates::set_taken_over(db, &tm.org_id, session_id, Some(&tm.id)).await?;
    let joined = format!("{} joined the conversation.", tm.name);
    let line = teammates::add_line(db, &tm.org_id, session_id, LineRole::System, &joined).await?;
    announce(
        env,
        &tm.org_id,
        session_id,
        &line,
        LineRole::System,
        &joined,
    )
    .await;
    let (ticket_id, _) = match ticket_store::open_for_session(db, &tm.org_id, session_id).await? {
        Some((id, status)) => {
            let now = Status::from_stored(&status, None).unwrap_or(Status::Open);
            let next = apply(now, Event::TakeOver, now_ms()).unwrap_or(Status::InProgress);
            ticket_store::set_status(db, &tm.org_id, &id, next, Some(Some(&tm.id)))?
                .run()
                .await?;
            (id, next)
        }
        None => {
            let escalation = Escalation {
                session_id,
                user_external_id: c.external_id.as_deref(),
                company_external_id: None,
                channel: &c.channel,
                confidence: 0.0,
                reason: halo_shared::chat::reason::TAKEN_OVER,
                source: "takeover",
                status: Status::InProgress,
                assignee: Some(&tm.id),
                team: None,
            };
            let (id, _) = tickets::escalate(db, &tm.org_id, &escalation).await?;
            (id, Status::InProgress)
        }
    };
    json_ok(
        &json!({ "session_id": session_id, "taken_over_by": tm.id, "ticket_id": ticket_id, "ticket_status": "in_progress" }),
    )
}

/// `POST /api/inbox/conversations/:session_id/reply` `{ text }`: a teammate's message.
pub async fn reply_to_conversation(
    req: &mut Request,
    b: &Bindings,
    session_id: &str,
) -> ApiResult<Response> {
    let Bindings { env, db } = b;
    let tm = auth::teammate(req, db).await?;
    let body = read_json(req).await?;
    let text = required_text(body.get("text"), "text", MAX_MESSAGE_CHARS)?;
    store::conversation_by_session(db, Scope::Org(&tm.org_id), session_id)
        .await?
        .ok_or(NO_CONVERSATION)?;
    let line = teammates::add_line(db, &tm.org_id, session_id, LineRole::Teammate, &text).await?;
    announce(
        env,
        &tm.org_id,
        session_id,
        &line,
        LineRole::Teammate,
        &text,
    )
    .await;
    let id = line.0;
    if let Some(row) = ticket_store::latest_for_session(db, &tm.org_id, session_id).await? {
        teammate_wrote(db, &tm.org_id, &row, &text, "chat").await?;
    }
    json_ok(&json!({ "message_id": id, "session_id": session_id }))
}

/// `POST /api/inbox/conversations/:session_id/handback`: the AI answers again.
pub async fn hand_back_conversation(
    req: &Request,
    b: &Bindings,
    session_id: &str,
) -> ApiResult<Response> {
    let Bindings { env, db } = b;
    let tm = auth::teammate(req, db).await?;
    if !teammates::set_taken_over(db, &tm.org_id, session_id, None).await? {
        return Err(NO_CONVERSATION);
    }
    let back = format!("{} handed the conversation back to the AI.", tm.name);
    let line = teammates::add_line(db, &tm.org_id, session_id, LineRole::System, &back).await?;
    announce(env, &tm.org_id, session_id, &line, LineRole::System, &back).await;
    json_ok(&json!({ "session_id": session_id, "taken_over_by": null }))
}

fn parse_message_json(s: &Option<String>) -> Value {
    s.as_deref()
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or(Value::Null)
}

/// `GET /api/inbox/conversations?live=true&mood=&outcome=&user_id=&company_id=&cursor=&limit=`:
/// conversations, latest activity first, each with its mood, outcome, AI score, latest line
/// and whether the teammate has seen the customer's latest; `next_cursor` continues the list.
pub async fn list_conversations(req: &Request, b: &Bindings) -> ApiResult<Response> {
    let db = &b.db;
    let tm = auth::teammate(req, db).await?;
    let live = match query_param(req, "live").as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            return Err(FieldError::new(
                "live",
                InvalidField::NotOneOf {
                    allowed: "true, false",
                },
            )
            .into())
        }
    };
    let mood = query_param(req, "mood");
    if mood.as_deref().is_some_and(|m| Mood::parse(m).is_none()) {
        return Err(FieldError::new(
            "mood",
            InvalidField::NotOneOf {
                allowed: "happy, neutral, confused, frustrated, angry",
            },
        )
        .into());
    }
    let outcome = query_param(req, "outcome");
    if outcome
        .as_deref()
        .is_some_and(|o| Outcome::parse(o).is_none())
    {
        return Err(FieldError::new(
            "outcome",
            InvalidField::NotOneOf {
                allowed: "resolved, escalated, abandoned",
            },
        )
        .into());
    }
    let (user_id, company_id) = (query_param(req, "user_id"), query_param(req, "company_id"));
    let after = query_param(req, "cursor")
        .map(|c| Cursor::parse(&c))
        .transpose()?;
    let limit = page_size(query_param(req, "limit").as_deref())?;
    let filter = inbox_store::Filter {
        live,
        mood: mood.as_deref(),
        outcome: outcome.as_deref(),
        user_id: user_id.as_deref(),
        company_id: company_id.as_deref(),
        teammate_id: Some(&tm.id),
        after: after.as_ref(),
        limit: limit + 1,
    };
    let mut rows = inbox_store::conversations(db, &tm.org_id, &filter).await?;
    let next_cursor = tickets::next_page(&mut rows, limit, |c| Cursor {
        at: c.updated_at,
        id: c.session_id.clone(),
    });
    json_ok(&json!({
        "conversations": rows.iter().map(inbox_store::Summary::view).collect::<Vec<_>>(),
        "next_cursor": next_cursor,
    }))
}

/// `GET /api/inbox/conversations/:session_id`: the conversation with its transcript (per-message
/// confidence, sentiment, the user's rating and trainer feedback) and its whispers.
pub async fn get_conversation(
    req: &Request,
    b: &Bindings,
    session_id: &str,
) -> ApiResult<Response> {
    let db = &b.db;
    let tm = auth::teammate(req, db).await?;
    let c = store::conversation_by_session(db, Scope::Org(&tm.org_id), session_id)
        .await?
        .ok_or(NO_CONVERSATION)?;
    let summary = inbox_store::summary(db, &tm.org_id, session_id, Some(&tm.id))
        .await?
        .ok_or(NO_CONVERSATION)?;
    let messages = inbox_store::details(db, &tm.org_id, &c.id)
        .await?
        .into_iter()
        .map(|m| TranscriptLine {
            mood: (m.role == "user").then(|| {
                halo_shared::conversation::mood(&m.body)
                    .1
                    .as_str()
                    .to_owned()
            }),
            rating: m
                .rating
                .map(|r| (if r > 0 { "up" } else { "down" }).to_owned()),
            feedback: parse_message_json(&Some(m.feedback)),
            citations: parse_message_json(&m.citations),
            actions: parse_message_json(&m.actions),
            trace: parse_message_json(&m.trace),
            id: m.id,
            role: m.role,
            text: m.body,
            confidence: m.confidence,
            sentiment: m.sentiment,
            engine: m.engine,
            error: m.error,
            created_at: m.created_at,
        })
        .collect();
    let conversation = ConversationDetail {
        summary: summary.view(),
        messages,
        whispers: inbox_store::whispers_of(db, &tm.org_id, &c.id).await?,
    };
    json_ok(&json!({ "conversation": conversation }))
}

/// `POST /api/inbox/conversations/:session_id/whisper` `{ text, persist? }`: a note to the AI
/// that steers its next reply (with `persist`, every reply to this customer). The customer
/// never sees it.
pub async fn whisper_conversation(
    req: &mut Request,
    b: &Bindings,
    session_id: &str,
) -> ApiResult<Response> {
    let db = &b.db;
    let tm = auth::teammate(req, db).await?;
    let w = Whisper::parse(&read_json(req).await?)?;
    let id = inbox_store::add_whisper(db, &tm.org_id, session_id, &tm.id, &w.text, w.persist)
        .await?
        .ok_or(NO_CONVERSATION)?;
    Ok(json_response(
        &json!({ "whisper_id": id, "session_id": session_id, "persist": w.persist }),
        201,
    ))
}

/// `POST /api/inbox/messages/:message_id/feedback` `{ kind: feedback|correction, text }`:
/// a teammate's note on an AI answer, stored for training.
pub async fn give_feedback(
    req: &mut Request,
    b: &Bindings,
    message_id: &str,
) -> ApiResult<Response> {
    let db = &b.db;
    let tm = auth::teammate(req, db).await?;
    let f = Feedback::parse(&read_json(req).await?)?;
    let id = inbox_store::add_feedback(db, &tm.org_id, message_id, &tm.id, f.kind, &f.text)
        .await?
        .ok_or(ApiError::NotFound(
            "No AI answer with this id in this workspace.",
        ))?;
    Ok(json_response(
        &json!({ "feedback_id": id, "message_id": message_id, "kind": f.kind }),
        201,
    ))
}

const NO_TICKET: ApiError = ApiError::NotFound("No ticket with this id in this workspace.");

/// `POST /api/inbox/tickets/:id/notes` `{ text }`: an internal note on the ticket; the
/// customer never sees it.
pub async fn add_note(req: &mut Request, b: &Bindings, ticket_id: &str) -> ApiResult<Response> {
    let db = &b.db;
    let (org, _) = auth::team_member(req, db).await?;
    let body = read_json(req).await?;
    let text = required_text(body.get("text"), "text", MAX_MESSAGE_CHARS)?;
    ticket_store::status_of(db, &org, ticket_id)
        .await?
        .ok_or(NO_TICKET)?;
    ticket_store::add_message(db, &org, ticket_id, "note", "teammate", &text)?
        .run()
        .await?;
    let messages = ticket_store::messages(db, &org, ticket_id).await?;
    Ok(json_response(
        &json!({ "ticket_id": ticket_id, "messages": messages }),
        201,
    ))
}

/// `POST /api/inbox/tickets/:id/reply` `{ text }`: a reply to the customer. It joins the
/// ticket's thread and, when the ticket came from a conversation, that conversation, where
/// the widget shows it at once.
pub async fn reply_to_ticket(
    req: &mut Request,
    b: &Bindings,
    ticket_id: &str,
) -> ApiResult<Response> {
    let Bindings { env, db } = b;
    let (org, _) = auth::team_member(req, db).await?;
    let body = read_json(req).await?;
    let text = required_text(body.get("text"), "text", MAX_MESSAGE_CHARS)?;
    let row = ticket_store::ticket(db, &org, ticket_id)
        .await?
        .ok_or(NO_TICKET)?;
    let status = ticket_store::status_of(db, &org, ticket_id)
        .await?
        .ok_or(NO_TICKET)?;
    let line = match &row.session_id {
        Some(session) => {
            let line = teammates::add_line(db, &org, session, LineRole::Teammate, &text).await?;
            announce(env, &org, session, &line, LineRole::Teammate, &text).await;
            Some(line.0)
        }
        None => None,
    };
    // On an email ticket the reply goes out as email too, threaded on the customer's latest.
    let emailed = if row.channel == "email" {
        let thread = crate::store::email::thread(db, &org, ticket_id).await?;
        match thread
            .iter()
            .rev()
            .find(|e| e.direction == "in")
            .and_then(|e| e.from_address.clone())
        {
            Some(to) => {
                let reply = crate::mail::Reply {
                    org: &org,
                    ticket_id,
                    to: &to,
                    subject: &row.subject,
                    text: &text,
                    automatic: false,
                };
                Some(crate::mail::send_reply(env, db, &reply).await?)
            }
            None => None,
        }
    } else {
        None
    };
    let kind = if emailed.is_some() { "email" } else { "chat" };
    teammate_wrote(db, &org, &status, &text, kind).await?;
    json_ok(
        &json!({ "ticket_id": ticket_id, "session_id": row.session_id, "message_id": line, "email": emailed }),
    )
}

/// `GET /api/inbox/tickets/:id/emails`: the ticket's emails in and out, oldest first (what
/// was received, what was sent, or recorded by the local sink).
pub async fn list_ticket_emails(
    req: &Request,
    b: &Bindings,
    ticket_id: &str,
) -> ApiResult<Response> {
    let db = &b.db;
    let (org, _) = auth::team_member(req, db).await?;
    ticket_store::ticket(db, &org, ticket_id)
        .await?
        .ok_or(NO_TICKET)?;
    json_ok(&json!({ "emails": crate::store::email::thread(db, &org, ticket_id).await? }))
}

/// A teammate's reply joins the ticket's thread and wakes it as the state machine says.
async fn teammate_wrote(
    db: &worker::D1Database,
    org: &str,
    row: &ticket_store::StatusRow,
    text: &str,
    kind: &str,
) -> ApiResult<()> {
    let before = Status::from_stored(&row.status, row.snoozed_until).unwrap_or(Status::Open);
    let after = apply(before, Event::TeammateActivity, now_ms()).unwrap_or(before);
    let mut batch = vec![ticket_store::add_message(
        db, org, &row.id, kind, "teammate", text,
    )?];
    if after != before {
        batch.push(ticket_store::set_status(db, org, &row.id, after, None)?);
    }
    db.batch(batch).await?;
    Ok(())
}

/// `GET /api/inbox/contacts/:user_id`: a contact with their company, tickets and conversations.
pub async fn get_contact(req: &Request, b: &Bindings, user_id: &str) -> ApiResult<Response> {
    let db = &b.db;
    let tm = auth::teammate(req, db).await?;
    let known = contacts::known(db, &tm.org_id, Some(user_id), None).await?;
    let user = known.user.ok_or(ApiError::NotFound(
        "No contact with this user_id in this workspace.",
    ))?;
    // What the AI is given about this contact, exactly as a chat turn renders it.
    let ai_view = halo_shared::context::render(
        &user.profile(),
        known.company.as_ref().map(|c| c.profile()).as_ref(),
        &known.descriptions,
    );
    let (tickets, conversations) = interactions(db, &tm.org_id, Some(user_id), None).await?;
    json_ok(&ContactView {
        user,
        company: known.company,
        ai_view,
        tickets,
        conversations,
    })
}

/// `GET /api/inbox/companies/:company_id`: a company with every interaction of its users.
pub async fn get_company(req: &Request, b: &Bindings, company_id: &str) -> ApiResult<Response> {
    let db = &b.db;
    let tm = auth::teammate(req, db).await?;
    let company =
        contacts::company(db, &tm.org_id, company_id)
            .await?
            .ok_or(ApiError::NotFound(
                "No company with this company_id in this workspace.",
            ))?;
    let (tickets, conversations) = interactions(db, &tm.org_id, None, Some(company_id)).await?;
    json_ok(&CompanyView {
        company,
        tickets,
        conversations,
    })
}

/// Every ticket (whatever its status) and conversation of a contact or of a company's users.
async fn interactions(
    db: &worker::D1Database,
    org: &str,
    user_id: Option<&str>,
    company_id: Option<&str>,
) -> ApiResult<(Vec<Ticket>, Vec<ConversationSummary>)> {
    let tickets = ticket_store::Filter {
        user_id,
        company_id,
        every_status: true,
        ..Default::default()
    };
    let conversations = inbox_store::Filter {
        user_id,
        company_id,
        ..Default::default()
    };
    let (tickets, conversations) = futures_util::future::join(
        ticket_store::list(db, org, &tickets),
        inbox_store::conversations(db, org, &conversations),
    )
    .await;
    Ok((
        tickets?
            .into_iter()
            .map(ticket_store::TicketRow::view)
            .collect(),
        conversations?
            .iter()
            .map(inbox_store::Summary::view)
            .collect(),
    ))
}
