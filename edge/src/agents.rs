//! `/api/sdk/agents` (secret key, or a teammate: all read, owners and admins change): a workspace's agents, created, read, changed, archived.

use halo_shared::agents::AgentFields;
use halo_shared::chat::{FieldError, InvalidField};
use serde_json::json;
use worker::{Context, Request, Response};

use crate::auth::{self, Access};
use crate::error::{ApiError, ApiResult};
use crate::http::{json_ok, json_response, read_json};
use crate::platform::new_id;
use crate::platform::Bindings;
use crate::store::{self, agents};

const NO_AGENT: ApiError = ApiError::NotFound("No agent with this id in this workspace.");

/// `GET /api/sdk/agents`: the agents, the active one first.
pub async fn list_agents(req: &Request, b: &Bindings) -> ApiResult<Response> {
    let db = &b.db;
    let org = auth::settings_workspace(req, db, Access::Read).await?;
    let rows = agents::list(db, &org).await?;
    json_ok(&json!({ "agents": rows.iter().map(agents::AgentRow::to_json).collect::<Vec<_>>() }))
}

/// `POST /api/sdk/agents` `{ name, instructions?, skills?, channels?, escalation_threshold?,
/// rules?, llm?, active? }`.
pub async fn create_agent(req: &mut Request, b: &Bindings) -> ApiResult<Response> {
    let db = &b.db;
    let org = auth::settings_workspace(req, db, Access::Write).await?;
    let fields = AgentFields::parse(&read_json(req).await?, true)?;
    let id = new_id();
    let mut batch = vec![agents::insert(db, &org, &id, &fields)?];
    if fields.active == Some(true) {
        batch.push(agents::activate(db, &org, &id)?);
    }
    db.batch(batch).await?;
    let row = agents::get(db, &org, &id).await?.ok_or(NO_AGENT)?;
    Ok(json_response(&json!({ "agent": row.to_json() }), 201))
}

/// `GET /api/sdk/agents/:id`.
pub async fn get_agent(req: &Request, b: &Bindings, id: &str) -> ApiResult<Response> {
    let db = &b.db;
    let org = auth::settings_workspace(req, db, Access::Read).await?;
    let row = agents::get(db, &org, id).await?.ok_or(NO_AGENT)?;
    json_ok(&json!({ "agent": row.to_json() }))
}

/// `PATCH /api/sdk/agents/:id`: changes the fields sent; `active: true` makes it the active
/// agent (`active: false` is refused: activate another agent instead).
pub async fn update_agent(req: &mut Request, b: &Bindings, id: &str) -> ApiResult<Response> {
    let db = &b.db;
    let org = auth::settings_workspace(req, db, Access::Write).await?;
    let fields = AgentFields::parse(&read_json(req).await?, false)?;
    if fields.active == Some(false) {
        return Err(ApiError::Field(FieldError::new(
            "active",
            InvalidField::Invalid(
                "a workspace always has an active agent: activate another one instead",
            ),
        )));
    }
    if !agents::update(db, &org, id, &fields).await? {
        return Err(NO_AGENT);
    }
    let row = agents::get(db, &org, id).await?.ok_or(NO_AGENT)?;
    json_ok(&json!({ "agent": row.to_json() }))
}

/// `POST /api/sdk/agents/:id/playground` `{ message, user_id?, session_id? }` (any teammate,
/// or the backend): one turn with this agent as the chosen contact (or an anonymous visitor),
/// through the same pipeline as the widget's. The contact is vouched for by the team, so no
/// identity token is needed and none is recorded. Answers the reply and what the AI saw
/// (`trace`). The conversation is a real one of that contact, so the team sees it.
pub async fn try_agent(
    req: &mut Request,
    b: &Bindings,
    ctx: &Context,
    id: &str,
) -> ApiResult<Response> {
    let db = &b.db;
    let org = auth::settings_workspace(req, db, Access::Read).await?;
    let body = read_json(req).await?;
    let mut chat = body.clone();
    if let Some(o) = chat.as_object_mut() {
        o.retain(|k, _| ["message", "user_id", "session_id"].contains(&k.as_str()));
        o.insert("agent_id".into(), json!(id));
    }
    let chat = halo_shared::chat::ChatRequest::parse(&chat)?;
    let agent = agents::get(db, &org, id).await?.ok_or(NO_AGENT)?;
    let ws = store::workspace_by_id(db, &org)
        .await?
        .ok_or(ApiError::NotFound("No such workspace."))?;
    let existing = match chat.session_id.as_deref() {
        Some(s) => store::conversation_by_session(db, store::Scope::Org(&org), s)
            .await
            .map_err(ApiError::from),
        None => Ok(None),
    };
    let inbound = crate::turn::Inbound {
        ws,
        agent: Some(agent.as_agent()),
        existing,
        chat,
        page_origin: None,
        vouched: true,
    };
    let reply = crate::turn::run(&b.env, ctx, db, inbound).await?;
    let trace = match &reply.message_id {
        Some(m) => store::message_trace(db, &org, m).await?,
        None => None,
    };
    let trace = trace
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .unwrap_or(serde_json::Value::Null);
    json_ok(&json!({ "reply": reply, "trace": trace }))
}

/// `DELETE /api/sdk/agents/:id`: archives the agent. Conversations pinned to it keep it; new
/// requests can no longer name it. The active agent cannot be archived.
pub async fn archive_agent(req: &Request, b: &Bindings, id: &str) -> ApiResult<Response> {
    let db = &b.db;
    let org = auth::settings_workspace(req, db, Access::Write).await?;
    let row = agents::get(db, &org, id).await?.ok_or(NO_AGENT)?;
    if row.is_active != 0 {
        return Err(ApiError::Field(FieldError::new(
            "agent_id",
            InvalidField::Invalid(
                "the active agent cannot be archived: activate another one first",
            ),
        )));
    }
    agents::archive(db, &org, id).await?;
    json_ok(&json!({ "agent_id": id, "archived": true }))
}
