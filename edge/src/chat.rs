//! `POST /api/sdk/chat` and the transcript read.

use futures_util::future::join;
use halo_shared::answer::{self, Passage};
use halo_shared::chat::{
    Action, ChatRequest, ChatResponse, FieldError, HistoryItem, InvalidField, Speaker, UserRef,
};
use halo_shared::search::fts_match_query;
use serde_json::{json, Value};
use worker::{Env, Request, Response};

use crate::auth;
use crate::engine::{self, OpenAiCompatible, Question};
use crate::error::{ApiError, ApiResult};
use crate::http::{json_ok, json_response, read_json};
use crate::platform::new_id;
use crate::store::{self, AiMessage, Contact, Conversation, NewConversation, Scope, UserMessage};

/// Passages given to an engine per question.
const PASSAGES_PER_QUESTION: u32 = 4;
/// Stored turns given to a model when the client sends no history.
const STORED_TURNS: u32 = 20;

/// Whether `conversation` may go on with the user this request names. A visitor's session
/// continues when they log in; another identified user's session never does.
fn continues(conversation: &Conversation, user: &UserRef) -> bool {
    match (&conversation.external_id, user) {
        (None, _) => true,
        (Some(owner), UserRef::External(id)) => owner == id,
        (Some(_), UserRef::Anonymous) => false,
    }
}

/// The request minus the message text and the token: stored with the message so the team can
/// see what the page sent.
fn request_record(chat: &ChatRequest) -> Value {
    json!({
        "user_id": match &chat.user { UserRef::Anonymous => None, UserRef::External(id) => Some(id) },
        "user_token_sent": chat.user_token.is_some(),
        "company_id": chat.company_id,
        "channel": chat.channel.as_str(),
        "agent_id": chat.agent_id,
        "custom_fields": chat.custom_fields,
        "context": chat.context,
        "behavior": chat.behavior,
        "history_items": chat.history.len(),
        "images": chat.images.len(),
    })
}

pub async fn post_chat(req: &mut Request, env: &Env) -> ApiResult<Response> {
    let db = env.d1("DB")?;
    // The body is read first because the agent it names is looked up together with the key;
    // a refused key still answers 401 before any complaint about the body.
    let body = read_json(req).await;
    let chat = body.as_ref().ok().map(ChatRequest::parse);
    let agent_id = chat
        .as_ref()
        .and_then(|c| c.as_ref().ok())
        .and_then(|c| c.agent_id.as_deref());
    let session_id = chat
        .as_ref()
        .and_then(|c| c.as_ref().ok())
        .and_then(|c| c.session_id.as_deref());
    let key_hash = auth::widget_key_hash(req)?;
    // The key's workspace and the session it names are read at the same time; the session
    // lookup is scoped by the key itself, so it can only find this workspace's conversation.
    let (caller, existing) = join(
        store::workspace_and_agent_by_widget_key(&db, &key_hash, agent_id),
        async {
            match session_id {
                Some(s) => {
                    store::conversation_by_session(&db, Scope::WidgetKeyHash(&key_hash), s).await
                }
                None => Ok(None),
            }
        },
    )
    .await;
    let (ws, agent) = caller?.ok_or(ApiError::Unauthorized("Unknown widget key."))?;
    let existing = existing?;
    let origin = req.headers().get("origin")?;
    if !auth::origin_allowed(&ws, origin.as_deref()) {
        return Err(ApiError::Forbidden {
            code: "origin_not_allowed",
            message: "This site's origin is not in the workspace's allowed origins.",
        });
    }
    let chat = match chat {
        Some(parsed) => parsed?,
        None => return Err(body.err().unwrap_or(ApiError::InvalidJson)),
    };
    let agent = agent.ok_or_else(|| {
        ApiError::Field(FieldError {
            field: "agent_id".into(),
            kind: InvalidField::Invalid("names no agent of this workspace"),
        })
    })?;

    let (conversation_id, session_id, is_new) = match existing {
        Some(c) if continues(&c, &chat.user) => (c.id, c.session_id, false),
        taken => {
            // An unknown session id is the caller's to choose; one that belongs to someone
            // else is never reused.
            let session_id = match (&chat.session_id, taken) {
                (Some(s), None) => s.clone(),
                _ => new_id(),
            };
            (new_id(), session_id, true)
        }
    };

    // The user's words are stored before anything that could fail while answering.
    let request = request_record(&chat);
    let new_conversation = NewConversation {
        id: &conversation_id,
        session_id: &session_id,
        contact: match &chat.user {
            UserRef::External(id) => Contact::External(id),
            UserRef::Anonymous => Contact::Visitor,
        },
        agent_id: &agent.id,
        channel: chat.channel.as_str(),
        company_ref: chat.company_id.as_deref(),
    };
    let message_id = new_id();
    let user_message = UserMessage {
        id: &message_id,
        conversation_id: &conversation_id,
        body: &chat.message,
        request: &request,
        images: &chat.images,
    };
    let stored = store::record_user_message(
        &db,
        &ws.id,
        is_new.then_some(&new_conversation),
        &user_message,
    );
    // Searching only reads, so it runs while the message is written; nothing is generated
    // until the write has succeeded.
    let search = async {
        match fts_match_query(&chat.message) {
            Some(q) if answer::small_talk(&chat.message).is_none() => {
                Some(store::search_passages(&db, &ws.id, &q, PASSAGES_PER_QUESTION).await)
            }
            _ => None,
        }
    };
    let (stored, searched) = join(stored, search).await;
    stored?;

    let mut failures: Vec<String> = Vec::new();
    let passages: Vec<Passage> = match searched {
        Some(Ok(passages)) => passages,
        Some(Err(e)) => {
            failures.push(format!("search: {e}"));
            Vec::new()
        }
        None => Vec::new(),
    };
    let provider = OpenAiCompatible::from_env(env);
    let history = match (&provider, chat.history.is_empty()) {
        (Some(_), true) if !is_new => stored_history(&db, &ws.id, &conversation_id)
            .await
            .unwrap_or_else(|e| {
                failures.push(format!("history: {e}"));
                Vec::new()
            }),
        _ => chat.history.clone(),
    };
    let question = Question {
        message: &chat.message,
        instructions: &agent.instructions,
        history: &history,
        passages: &passages,
    };
    let mut outcome = engine::answer(provider.as_ref(), &question).await;
    failures.extend(outcome.error.take());
    if !failures.is_empty() && outcome.answer.actions.is_empty() {
        outcome.answer.actions.push(Action::OfferHuman {
            reason: "engine_failed".into(),
        });
    }
    let error = (!failures.is_empty()).then(|| failures.join("; "));

    let a = &outcome.answer;
    let citations = serde_json::to_value(&a.citations).unwrap_or(Value::Null);
    let actions = serde_json::to_value(&a.actions).unwrap_or(Value::Null);
    let needs_human = a
        .actions
        .iter()
        .any(|x| matches!(x, Action::OfferHuman { reason } if reason != "no_answer"));
    if let Err(e) = store::record_ai_message(
        &db,
        &ws.id,
        &AiMessage {
            conversation_id: &conversation_id,
            body: &a.text,
            engine: outcome.engine,
            confidence: a.confidence,
            citations: &citations,
            actions: &actions,
            error: error.as_deref(),
            needs_human,
        },
    )
    .await
    {
        // The user's message is safe; the reply still goes out even if storing it failed.
        worker::console_error!("storing the reply failed: {e}");
    }

    let response = ChatResponse {
        text: outcome.answer.text,
        session_id,
        agent_id: agent.id,
        actions: outcome.answer.actions,
        confidence: outcome.answer.confidence,
        routed: None,
        citations: outcome.answer.citations,
    };
    let mut resp = json_response(&response, 200);
    let headers = resp.headers_mut();
    match (ws.allowed_origins(), origin) {
        (Some(_), Some(o)) => {
            headers.set("access-control-allow-origin", &o)?;
            headers.set("vary", "Origin")?;
        }
        _ => headers.set("access-control-allow-origin", "*")?,
    }
    Ok(resp)
}

async fn stored_history(
    db: &worker::D1Database,
    org: &str,
    conversation_id: &str,
) -> worker::Result<Vec<HistoryItem>> {
    let mut turns = store::recent_turns(db, org, conversation_id, STORED_TURNS + 1).await?;
    turns.pop(); // the message being answered, stored a moment ago
    Ok(turns
        .into_iter()
        .map(|(role, text)| HistoryItem {
            speaker: if role == "user" {
                Speaker::User
            } else {
                Speaker::Assistant
            },
            text,
        })
        .collect())
}

/// `GET /api/sdk/conversations/:session_id` (secret key): the conversation and its transcript.
pub async fn get_conversation(req: &Request, env: &Env, session_id: &str) -> ApiResult<Response> {
    let db = env.d1("DB")?;
    let ws = auth::secret_workspace(req, &db).await?;
    let c = store::conversation_by_session(&db, Scope::Org(&ws.id), session_id)
        .await?
        .ok_or(ApiError::NotFound(
            "No conversation with this session_id in this workspace.",
        ))?;
    let messages: Vec<Value> = store::messages(&db, &ws.id, &c.id)
        .await?
        .into_iter()
        .map(|m| {
            let parse = |s: &Option<String>| s.as_deref().and_then(|s| serde_json::from_str::<Value>(s).ok()).unwrap_or(Value::Null);
            json!({
                "id": m.id, "role": m.role, "text": m.body, "engine": m.engine, "confidence": m.confidence,
                "citations": parse(&m.citations), "actions": parse(&m.actions), "error": m.error, "created_at": m.created_at,
            })
        })
        .collect();
    json_ok(&json!({
        "session_id": c.session_id,
        "user_id": c.external_id,
        "agent_id": c.agent_id,
        "channel": c.channel,
        "needs_human": c.needs_human != 0,
        "last_error": c.last_error,
        "created_at": c.created_at,
        "messages": messages,
    }))
}
