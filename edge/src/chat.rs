//! The widget's chat endpoints: `POST /api/sdk/chat` (an adapter of the turn pipeline,
//! `crate::turn`), the session opening, the rating and the transcript read.

use halo_shared::chat::{ChatRequest, FieldError, InvalidField, UserRef};
use halo_shared::conversation;
use halo_shared::turn;
use serde_json::{json, Value};
use worker::{Context, Request, Response};

use crate::auth::{self, trusted_traits, verify_token, widget_may_use};
use crate::error::{ApiError, ApiResult};
use crate::http::{json_ok, json_response, read_json};
use crate::live;
use crate::platform::new_id;
use crate::platform::Bindings;
use crate::store::contacts::UserWrite;
use crate::store::{self, NewConversation, Scope, Turn};
use crate::turn::Inbound;

/// Whether `c` may go on with the user a request names (see [`turn::continues`]).
fn continues(c: &store::Conversation, user: &UserRef) -> bool {
    turn::continues(c.external_id.as_deref(), user)
}

/// `POST /api/sdk/chat`: the widget key's workspace (and the session the request names,
/// read in the same round trip and scoped by the key itself, so it can only find this
/// workspace's conversation), then one turn, answered with CORS for the page's origin.
pub async fn post_chat(req: &mut Request, b: &Bindings, ctx: &Context) -> ApiResult<Response> {
    let Bindings { env, db } = b;
    // A missing or malformed key is refused before the body is even read.
    let key_hash = auth::widget_key_hash(req)?;
    let body = read_json(req).await;
    let parsed = body.as_ref().ok().map(ChatRequest::parse);
    let valid = parsed.as_ref().and_then(|c| c.as_ref().ok());
    let agent_id = valid.and_then(|c| c.agent_id.as_deref());
    let channel = valid.map(|c| c.channel.as_str());
    let session_id = valid.and_then(|c| c.session_id.as_deref());
    let (caller, existing) =
        store::widget_caller_and_conversation(db, &key_hash, agent_id, channel, session_id).await?;
    let (ws, agent) = auth::widget_caller(req, caller)?;
    let chat = match parsed {
        Some(parsed) => parsed?,
        None => return Err(body.err().unwrap_or(ApiError::InvalidJson)),
    };
    let user = match &chat.user {
        UserRef::External(id) => Some(id.as_str()),
        UserRef::Anonymous => None,
    };
    let session = chat.session_id.as_deref();
    crate::gate::admit_widget(env, req, &ws, crate::gate::Kind::Chat, user, session).await?;
    let existing = Ok(existing);
    let cors_ws = ws.clone();
    let inbound = Inbound {
        ws,
        agent,
        existing,
        chat,
        page_origin: req.headers().get("origin")?,
        vouched: false,
    };
    let response = crate::turn::run(env, ctx, db, inbound).await?;
    let mut resp = json_response(&response, 200);
    auth::cors_for(&cors_ws, req, &mut resp)?;
    Ok(resp)
}

/// `GET /api/sdk/conversations/:session_id` (secret key): the conversation and its transcript.
pub async fn get_conversation(
    req: &Request,
    b: &Bindings,
    session_id: &str,
) -> ApiResult<Response> {
    let db = &b.db;
    let ws = auth::secret_workspace(req, db).await?;
    let c = store::conversation_by_session(db, Scope::Org(&ws.id), session_id)
        .await?
        .ok_or(ApiError::NotFound(
            "No conversation with this session_id in this workspace.",
        ))?;
    let messages: Vec<Value> = store::messages(db, &ws.id, &c.id)
        .await?
        .into_iter()
        .map(|m| {
            let parse = |s: &Option<String>| s.as_deref().and_then(|s| serde_json::from_str::<Value>(s).ok()).unwrap_or(Value::Null);
            json!({
                "id": m.id, "role": m.role, "text": m.body, "engine": m.engine, "confidence": m.confidence,
                "citations": parse(&m.citations), "actions": parse(&m.actions), "error": m.error, "trace": parse(&m.trace), "created_at": m.created_at,
            })
        })
        .collect();
    json_ok(&json!({
        "session_id": c.session_id,
        "user_id": c.external_id,
        "agent_id": c.agent_id,
        "channel": c.channel,
        "needs_human": c.needs_human != 0,
        "mood": c.mood,
        "outcome": c.outcome,
        "last_error": c.last_error,
        "created_at": c.created_at,
        "messages": messages,
    }))
}

/// `POST /api/sdk/conversations/:session_id/ratings` (widget key) `{ message_id, rating }`:
/// the user's thumbs up or down on an AI answer (`null` takes it back). A thumbs-up resolves a
/// live conversation.
pub async fn rate_answer(req: &mut Request, b: &Bindings, session_id: &str) -> ApiResult<Response> {
    // `{ message_id, rating, user_id?, user_token? }`: a user's conversation needs them.
    let hash = auth::widget_key_hash(req)?;
    let db = &b.db;
    let (ws, _) = auth::widget_workspace(req, db, &hash, None, None).await?;
    let body = read_json(req).await?;
    let user = body.get("user_id").and_then(Value::as_str);
    crate::gate::admit_widget(
        &b.env,
        req,
        &ws,
        crate::gate::Kind::Call,
        user,
        Some(session_id),
    )
    .await?;
    let rating = conversation::Rating::parse(&body)?;
    let c = store::conversation_by_session(db, Scope::Org(&ws.id), session_id)
        .await?
        .ok_or(ApiError::NotFound(
            "No conversation with this session_id in this workspace.",
        ))?;
    let text = |k: &str| body.get(k).and_then(Value::as_str);
    widget_may_use(&ws, &c, text("user_id"), text("user_token"))?;
    if !store::inbox::rate(db, &ws.id, session_id, &rating.message_id, rating.rating).await? {
        return Err(ApiError::NotFound(
            "No AI answer with this message_id in this conversation.",
        ));
    }
    let mut resp = json_response(
        &json!({ "message_id": rating.message_id, "rating": rating.rating.map(|r| if r > 0 { "up" } else { "down" }) }),
        200,
    );
    auth::cors_for(&ws, req, &mut resp)?;
    Ok(resp)
}

/// `POST /api/sdk/sessions` (widget key) `{ user_id?, user_token?, session_id?, company_id?,
/// channel?, agent_id? }`: opens a conversation when the widget opens, before the user writes,
/// so the team's live feed sees the visitor at once. A `session_id` that this user may continue
/// is returned as it is (200); otherwise a new conversation is opened (201).
pub async fn open_session(req: &mut Request, b: &Bindings) -> ApiResult<Response> {
    let Bindings { env, db } = b;
    let key_hash = auth::widget_key_hash(req)?;
    let body = read_json(req).await?;
    let open = ChatRequest::parse_session(&body)?;
    let (ws, agent) = auth::widget_workspace(
        req,
        db,
        &key_hash,
        open.agent_id.as_deref(),
        Some(open.channel.as_str()),
    )
    .await?;
    let user = match &open.user {
        UserRef::External(id) => Some(id.as_str()),
        UserRef::Anonymous => None,
    };
    crate::gate::admit_widget(env, req, &ws, crate::gate::Kind::Session, user, None).await?;
    let claims = match &open.user {
        UserRef::External(id) => verify_token(&ws, id, open.user_token.as_deref())?,
        UserRef::Anonymous => None,
    };
    let agent = agent.ok_or_else(|| match open.agent_id {
        Some(_) => ApiError::Field(FieldError::new(
            "agent_id",
            InvalidField::Invalid("names no agent of this workspace"),
        )),
        None => ApiError::Internal("the workspace has no agent".into()),
    })?;
    let existing = match &open.session_id {
        Some(s) => store::conversation_by_session(db, Scope::Org(&ws.id), s).await?,
        None => None,
    };
    let respond = |session_id: &str, status: u16| -> ApiResult<Response> {
        let mut resp = json_response(
            &json!({ "session_id": session_id, "agent_id": agent.id }),
            status,
        );
        auth::cors_for(&ws, req, &mut resp)?;
        Ok(resp)
    };
    if let Some(c) = existing.as_ref().filter(|c| continues(c, &open.user)) {
        return respond(&c.session_id, 200);
    }
    let session_id = match (&existing, &open.session_id) {
        (None, Some(s)) => s.clone(),
        _ => new_id(),
    };
    let user_traits = claims.as_ref().map(trusted_traits).unwrap_or_default();
    // Opening a session answers no warnings: a company it may not use is simply not used.
    let (company_ref, _) =
        auth::vouched_company(&ws, claims.as_ref(), open.company_id.clone(), "company_id");
    let conversation_id = new_id();
    let turn = Turn {
        session_id: &session_id,
        new_conversation: Some(NewConversation {
            id: &conversation_id,
            channel: open.channel.as_str(),
            company_ref: company_ref.as_deref(),
        }),
        user: match &open.user {
            UserRef::External(id) => Some(UserWrite {
                external_id: id,
                traits: &user_traits,
                context: json!({}),
                company_external_id: claims.as_ref().and_then(|c| c.company_id.as_deref()),
                verified: claims.is_some(),
            }),
            UserRef::Anonymous => None,
        },
        company_external_id: claims.as_ref().and_then(|c| c.company_id.as_deref()),
        agent_id: &agent.id,
        message: None,
        sightings: &[],
        first_widget_origin: None,
    };
    store::record_user_message(db, &ws.id, &turn).await?;
    let event = halo_shared::live::Event::Conversation {
        session_id: session_id.clone(),
        state: "opened".into(),
    };
    live::publish(env, &ws.id, &session_id, &event).await;
    respond(&session_id, 201)
}
