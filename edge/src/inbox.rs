//! The inbox API for teammates (inbox token): take over a live conversation (the AI pauses
//! and a ticket In Progress is assigned to the teammate), reply as a person, hand back.

use halo_shared::chat::{bounded_string, FieldError, InvalidField, MAX_MESSAGE_CHARS};
use halo_shared::tickets::{apply, Event, Status};
use serde_json::json;
use worker::{Env, Request, Response};

use crate::auth;
use crate::error::{ApiError, ApiResult};
use crate::http::{json_ok, read_json};
use crate::live;
use crate::platform::now_ms;
use crate::store::{self, teammates, tickets as ticket_store, Scope};
use crate::tickets::{self, Escalation};

/// Tells the conversation's live room and the workspace feed about a line just stored.
async fn announce(
    env: &Env,
    org: &str,
    session_id: &str,
    line: &(String, i64),
    role: &str,
    text: &str,
) {
    let event = live::messages_event(session_id, &[(&line.0, role, text, line.1)]);
    live::publish(env, org, session_id, &event).await;
}

const NO_CONVERSATION: ApiError =
    ApiError::NotFound("No conversation with this session_id in this workspace.");

/// `POST /api/inbox/conversations/:session_id/takeover`.
pub async fn take_over(req: &Request, env: &Env, session_id: &str) -> ApiResult<Response> {
    let db = env.d1("DB")?;
    let tm = auth::teammate(req, &db).await?;
    let c = store::conversation_by_session(&db, Scope::Org(&tm.org_id), session_id)
        .await?
        .ok_or(NO_CONVERSATION)?;
    teammates::set_taken_over(&db, &tm.org_id, session_id, Some(&tm.id)).await?;
    let joined = format!("{} joined the conversation.", tm.name);
    let line = teammates::add_line(&db, &tm.org_id, session_id, "system", &joined).await?;
    announce(env, &tm.org_id, session_id, &line, "system", &joined).await;
    let (ticket_id, _) = match ticket_store::open_for_session(&db, &tm.org_id, session_id).await? {
        Some((id, status)) => {
            let now = Status::from_stored(&status, None).unwrap_or(Status::Open);
            let next = apply(now, Event::TakeOver, now_ms()).unwrap_or(Status::InProgress);
            ticket_store::set_status(&db, &tm.org_id, &id, next, Some(Some(&tm.id)))?
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
                reason: "taken_over",
                source: "takeover",
                status: Status::InProgress,
                assignee: Some(&tm.id),
            };
            let (id, _) = tickets::escalate(&db, &tm.org_id, &escalation).await?;
            (id, Status::InProgress)
        }
    };
    json_ok(
        &json!({ "session_id": session_id, "taken_over_by": tm.id, "ticket_id": ticket_id, "ticket_status": "in_progress" }),
    )
}

/// `POST /api/inbox/conversations/:session_id/reply` `{ text }`: a teammate's message.
pub async fn reply(req: &mut Request, env: &Env, session_id: &str) -> ApiResult<Response> {
    let db = env.d1("DB")?;
    let tm = auth::teammate(req, &db).await?;
    let body = read_json(req).await?;
    let text = match body.get("text").filter(|v| !v.is_null()) {
        None => {
            return Err(ApiError::Field(FieldError {
                field: "text".into(),
                kind: InvalidField::Missing,
            }))
        }
        Some(v) => bounded_string("text", v, MAX_MESSAGE_CHARS)?,
    };
    if text.trim().is_empty() {
        return Err(ApiError::Field(FieldError {
            field: "text".into(),
            kind: InvalidField::Empty,
        }));
    }
    store::conversation_by_session(&db, Scope::Org(&tm.org_id), session_id)
        .await?
        .ok_or(NO_CONVERSATION)?;
    let line = teammates::add_line(&db, &tm.org_id, session_id, "teammate", &text).await?;
    announce(env, &tm.org_id, session_id, &line, "teammate", &text).await;
    let id = line.0;
    if let Some(row) = ticket_store::latest_for_session(&db, &tm.org_id, session_id).await? {
        let before = Status::from_stored(&row.status, row.snoozed_until).unwrap_or(Status::Open);
        let after = apply(before, Event::TeammateActivity, now_ms()).unwrap_or(before);
        let mut batch = vec![ticket_store::add_message(
            &db, &tm.org_id, &row.id, "chat", "teammate", &text,
        )?];
        if after != before {
            batch.push(ticket_store::set_status(
                &db, &tm.org_id, &row.id, after, None,
            )?);
        }
        db.batch(batch).await?;
    }
    json_ok(&json!({ "message_id": id, "session_id": session_id }))
}

/// `POST /api/inbox/conversations/:session_id/handback`: the AI answers again.
pub async fn hand_back(req: &Request, env: &Env, session_id: &str) -> ApiResult<Response> {
    let db = env.d1("DB")?;
    let tm = auth::teammate(req, &db).await?;
    if !teammates::set_taken_over(&db, &tm.org_id, session_id, None).await? {
        return Err(NO_CONVERSATION);
    }
    let back = format!("{} handed the conversation back to the AI.", tm.name);
    let line = teammates::add_line(&db, &tm.org_id, session_id, "system", &back).await?;
    announce(env, &tm.org_id, session_id, &line, "system", &back).await;
    json_ok(&json!({ "session_id": session_id, "taken_over_by": null }))
}
