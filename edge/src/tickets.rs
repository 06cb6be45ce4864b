//! Tickets: created by the customer's backend (secret key), by escalation and by takeover;
//! listed, read and worked by the backend or by teammates (inbox token).

use halo_shared::inbox::{page_size, Cursor, TicketView};
use halo_shared::tickets::{apply, Event, NewTicket, Status, TicketUpdate, MAX_SUBJECT_CHARS};
use serde_json::{json, Value};
use worker::{Request, Response};

use crate::auth;
use crate::error::{ApiError, ApiResult};
use crate::http::{json_ok, json_response, query_param, read_json};
use crate::platform::Bindings;
use crate::platform::{new_id, now_ms};
use crate::store::tickets::{self, TicketRow, TicketWrite};

const NO_TICKET: ApiError = ApiError::NotFound("No ticket with this id in this workspace.");

/// `POST /api/sdk/tickets/create`: a ticket with whatever status the caller specifies.
pub async fn create_ticket(req: &mut Request, b: &Bindings) -> ApiResult<Response> {
    let db = &b.db;
    let ws = auth::secret_workspace(req, db).await?;
    let t = NewTicket::parse(&read_json(req).await?, now_ms())?;
    let id = new_id();
    let custom = Value::Object(t.custom_fields.clone());
    let write = TicketWrite {
        id: &id,
        subject: &t.subject,
        status: t.status,
        assignee: t.assignee.as_deref(),
        team: None,
        channel: "api",
        source: "api",
        user_external_id: t.user_id.as_deref(),
        company_external_id: t.company_id.as_deref(),
        session_id: None,
        custom_fields: &custom,
        ai_confidence: None,
        escalation_reason: None,
        first_message: t.message.as_deref().map(|m| ("chat", "customer", m)),
    };
    db.batch(tickets::create(db, &ws.id, &write)?).await?;
    let row = tickets::ticket(db, &ws.id, &id)
        .await?
        .ok_or(ApiError::Internal("the new ticket is missing".into()))?;
    Ok(json_response(&json!({ "ticket": row.view() }), 201))
}

/// `GET /api/sdk/tickets?status=&assignee=&team=&view=&cursor=&limit=` (also
/// `/api/inbox/tickets`): Snoozed and Spam are hidden unless asked for; `assignee=unassigned`
/// lists the unassigned, `assignee=me` a teammate's own; `view` is one of the console's views
/// (`mine`, `unassigned`, `open`, `priority`, `snoozed`, `resolved`, `spam`). Newest activity
/// first, a page at a time: `next_cursor` continues the list.
pub async fn list_tickets(req: &Request, b: &Bindings) -> ApiResult<Response> {
    let db = &b.db;
    let (org, tm) = auth::team_member(req, db).await?;
    let status = query_param(req, "status");
    if status
        .as_deref()
        .is_some_and(|s| Status::from_stored(s, Some(0)).is_none())
    {
        return Err(ApiError::Field(halo_shared::chat::FieldError {
            field: "status".into(),
            kind: halo_shared::chat::InvalidField::NotOneOf {
                allowed: "open, priority, in_progress, snoozed, resolved, spam",
            },
        }));
    }
    let view = match query_param(req, "view") {
        None => None,
        Some(v) => Some(
            TicketView::parse(&v).ok_or(halo_shared::chat::FieldError::new(
                "view",
                halo_shared::chat::InvalidField::NotOneOf {
                    allowed: TicketView::ALLOWED,
                },
            ))?,
        ),
    };
    let asked = match view {
        Some(TicketView::Mine) => Some("me".to_owned()),
        Some(TicketView::Unassigned) => Some("unassigned".to_owned()),
        _ => query_param(req, "assignee"),
    };
    let assignee = match (asked, &tm) {
        (Some(a), Some(tm)) if a == "me" => Some(tm.id.clone()),
        (a, _) => a,
    };
    let team = query_param(req, "team");
    let after = query_param(req, "cursor")
        .map(|c| Cursor::parse(&c))
        .transpose()?;
    let limit = page_size(query_param(req, "limit").as_deref())?;
    let filter = tickets::Filter {
        status: status.as_deref(),
        assignee: assignee.as_deref(),
        team: team.as_deref(),
        statuses: view.map(TicketView::statuses),
        // A view names its statuses, Snoozed and Spam included.
        every_status: view.is_some(),
        teammate_id: tm.as_ref().map(|t| t.id.as_str()),
        after: after.as_ref(),
        limit: limit + 1,
        ..Default::default()
    };
    let mut rows = tickets::list(db, &org, &filter).await?;
    let next_cursor = next_page(&mut rows, limit, |t| Cursor {
        at: t.updated_at,
        id: t.id.clone(),
    });
    json_ok(&json!({
        "tickets": rows.into_iter().map(TicketRow::view).collect::<Vec<_>>(),
        "next_cursor": next_cursor,
    }))
}

/// Cuts a list read with one row more than a page down to the page, and says where the next
/// page starts (`None` when this was the last).
pub fn next_page<T>(
    rows: &mut Vec<T>,
    limit: u32,
    cursor: impl Fn(&T) -> Cursor,
) -> Option<String> {
    if rows.len() <= limit as usize {
        return None;
    }
    rows.truncate(limit as usize);
    rows.last().map(|r| cursor(r).encode())
}

/// `GET /api/sdk/tickets/:id`: the ticket and its thread.
pub async fn get_ticket(req: &Request, b: &Bindings, id: &str) -> ApiResult<Response> {
    let db = &b.db;
    let (org, _) = auth::team_member(req, db).await?;
    let row = tickets::ticket(db, &org, id).await?.ok_or(NO_TICKET)?;
    let messages = tickets::messages(db, &org, id).await?;
    json_ok(&json!({ "ticket": row.view(), "messages": messages }))
}

/// The subject of an escalated conversation: its first words.
pub fn subject_from(first_message: &str) -> String {
    let one_line = first_message
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let mut s: String = one_line.chars().take(MAX_SUBJECT_CHARS - 1).collect();
    if one_line.chars().count() >= MAX_SUBJECT_CHARS {
        s.push('\u{2026}');
    }
    if s.is_empty() {
        "Chat escalated to the team".into()
    } else {
        s
    }
}

/// A conversation going to the team.
pub struct Escalation<'a> {
    pub session_id: &'a str,
    pub user_external_id: Option<&'a str>,
    pub company_external_id: Option<&'a str>,
    pub channel: &'a str,
    pub confidence: f64,
    pub reason: &'a str,
    /// `escalation` (the AI handed over) or `takeover` (a teammate jumped in).
    pub source: &'a str,
    pub status: Status,
    pub assignee: Option<&'a str>,
    pub team: Option<&'a str>,
}

/// Escalates a conversation to the team: reuses its open ticket, or opens one with the
/// transcript attached (status, team and assignee as the caller decided from the workspace's
/// priority filters and routing rules). Marks the conversation's outcome Escalated. Returns
/// the ticket's id and status.
pub async fn escalate(
    db: &worker::D1Database,
    org: &str,
    e: &Escalation<'_>,
) -> worker::Result<(String, String)> {
    if let Some(open) = tickets::open_for_session(db, org, e.session_id).await? {
        return Ok(open);
    }
    let turns = crate::store::recent_turns(db, org, e.session_id, 200).await?;
    let first = turns
        .iter()
        .find(|(role, _)| role == "user")
        .map(|(_, t)| t.as_str())
        .unwrap_or("");
    let transcript = turns
        .iter()
        .map(|(role, text)| format!("{}: {text}", if role == "user" { "Customer" } else { "AI" }))
        .collect::<Vec<_>>()
        .join("\n\n");
    let id = new_id();
    let status = e.status;
    let write = TicketWrite {
        id: &id,
        subject: &subject_from(first),
        status,
        assignee: e.assignee,
        team: e.team,
        channel: e.channel,
        source: e.source,
        user_external_id: e.user_external_id,
        company_external_id: e.company_external_id,
        session_id: Some(e.session_id),
        custom_fields: &json!({}),
        ai_confidence: Some(e.confidence),
        escalation_reason: Some(e.reason),
        first_message: Some(("transcript", "system", &transcript)),
    };
    db.batch(tickets::create(db, org, &write)?).await?;
    // Another escalation of the conversation may have opened its ticket first: that one.
    match tickets::open_for_session(db, org, e.session_id).await? {
        Some(open) => Ok(open),
        None => Ok((id, status.as_str().to_owned())),
    }
}

fn current(row: &tickets::StatusRow) -> ApiResult<Status> {
    Status::from_stored(&row.status, row.snoozed_until).ok_or(ApiError::Internal(format!(
        "stored ticket status {}",
        row.status
    )))
}

/// `PATCH /api/sdk/tickets/:id` `{ status?, snoozed_until?, assignee? }`: a transition of the
/// ticket state machine (a snooze needs a future time) and/or a new assignee.
pub async fn update_ticket(req: &mut Request, b: &Bindings, id: &str) -> ApiResult<Response> {
    let db = &b.db;
    let (org, tm) = auth::team_member(req, db).await?;
    let update = TicketUpdate::parse(&read_json(req).await?)?;
    let row = tickets::status_of(db, &org, id).await?.ok_or(NO_TICKET)?;
    // A teammate assigns to a teammate of the workspace (the backend may name anyone).
    if let (Some(_), Some(Some(assignee))) = (&tm, &update.assignee) {
        if crate::store::console::teammate(db, &org, assignee)
            .await?
            .is_none()
        {
            return Err(halo_shared::chat::FieldError::new(
                "assignee",
                halo_shared::chat::InvalidField::Invalid(
                    "must be the id of a teammate of this workspace",
                ),
            )
            .into());
        }
    }
    let mut status = current(&row)?;
    if let Some(event) = update.event {
        status = apply(status, event, now_ms()).map_err(|e| {
            ApiError::Field(halo_shared::chat::FieldError {
                field: "snoozed_until".into(),
                kind: halo_shared::chat::InvalidField::Invalid(match e {
                    halo_shared::tickets::InvalidTransition::SnoozeInThePast => {
                        "must be in the future"
                    }
                    halo_shared::tickets::InvalidTransition::SnoozeWithoutTime => {
                        "a snoozed ticket needs snoozed_until"
                    }
                }),
            })
        })?;
    }
    let assignee = update.assignee.as_ref().map(|a| a.as_deref());
    let mut batch = vec![tickets::set_status(db, &org, id, status, assignee)?];
    if let Some(subject) = &update.subject {
        batch.push(tickets::set_subject(db, &org, id, subject)?);
    }
    db.batch(batch).await?;
    let row = tickets::ticket(db, &org, id).await?.ok_or(NO_TICKET)?;
    json_ok(&json!({ "ticket": row.view() }))
}

/// A customer message in a conversation that has a ticket: it joins the ticket's thread and
/// wakes or reopens the ticket as the state machine says.
pub async fn customer_wrote(
    db: &worker::D1Database,
    org: &str,
    row: &tickets::StatusRow,
    body: &str,
) -> worker::Result<()> {
    let Some(before) = Status::from_stored(&row.status, row.snoozed_until) else {
        return Ok(());
    };
    let after = apply(before, Event::CustomerMessage, now_ms()).unwrap_or(before);
    let mut batch = vec![tickets::add_message(
        db, org, &row.id, "chat", "customer", body,
    )?];
    if after != before {
        batch.push(tickets::set_status(db, org, &row.id, after, None)?);
    }
    db.batch(batch).await?;
    Ok(())
}

/// The cron job: wakes snoozed tickets whose time has come.
pub async fn wake_snoozed(db: &worker::D1Database) -> worker::Result<usize> {
    let now = now_ms();
    let due = tickets::due_snoozed(db, now, 100).await?;
    let mut batch = Vec::new();
    for (org, row) in &due {
        if let Some(before) = Status::from_stored(&row.status, row.snoozed_until) {
            let after = apply(before, Event::Tick, now).unwrap_or(before);
            if after != before {
                batch.push(tickets::set_status(db, org, &row.id, after, None)?);
            }
        }
    }
    let woken = batch.len();
    if !batch.is_empty() {
        db.batch(batch).await?;
    }
    Ok(woken)
}
