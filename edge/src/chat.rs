//! `POST /api/sdk/chat` and the transcript read.

use std::collections::BTreeMap;

use futures_util::future::{join, join4};
use halo_shared::answer::{self, Passage};
use halo_shared::chat::{
    Action, ChatRequest, ChatResponse, FieldError, HistoryItem, InvalidField, Routed, Speaker,
    UserRef,
};
use halo_shared::context;
use halo_shared::conversation;
use halo_shared::evidence;
use halo_shared::identity::{verify_user_token, TrustedClaims};
use halo_shared::profile::{context_sightings, trait_sightings, Scope as ProfileScope};
use halo_shared::routing::{Routing, Subject};
use halo_shared::tickets::Status;
use serde_json::{json, Map, Value};
use worker::{Context, D1Database, Env, Request, Response};

use crate::auth;
use crate::knowledge::{self, Mode};
use crate::semantic::{score_facts, Embedder};
use crate::tickets;

use crate::engine::{self, Provider, Question};
use crate::error::{ApiError, ApiResult};
use crate::http::{json_ok, json_response, read_json};
use crate::live;
use crate::platform::{new_id, now_ms};
use crate::store::contacts::{self, Known, UserWrite};
use crate::store::{
    self, Agent, AiMessage, Conversation, NewConversation, Scope, Turn, UserMessage,
};

/// The acknowledgement while a teammate handles the conversation.
const TAKEN_OVER_TEXT: &str = "A teammate is handling this conversation and will reply here.";

/// Added to an answer the agent was unsure of, once a ticket is open for it.
const LOW_CONFIDENCE_TEXT: &str =
    "\n\nI'm not fully sure about this, so I've also asked a teammate to follow up here.";

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

/// How long a webhook may take to answer.
const WEBHOOK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// POSTs a signed webhook (`X-Halo-Signature`, see `halo_shared::webhooks`); its status if 2xx.
async fn deliver(
    action: &str,
    hook: &halo_shared::webhooks::Webhook,
    vars: &BTreeMap<&str, String>,
) -> Result<u16, String> {
    let body = halo_shared::webhooks::payload(action, hook.template.as_ref(), vars).to_string();
    let ts = crate::platform::now_ms() / 1000;
    let headers = worker::Headers::new();
    let set = |k: &str, v: &str| headers.set(k, v).map_err(|e| e.to_string());
    set("content-type", "application/json")?;
    set("x-halo-event", action)?;
    set(
        "x-halo-signature",
        &halo_shared::webhooks::signature(&hook.secret, ts, &body),
    )?;
    let mut init = worker::RequestInit::new();
    init.with_method(worker::Method::Post)
        .with_headers(headers)
        .with_body(Some(body.into()));
    let request = Request::new_with_init(&hook.url, &init).map_err(|e| e.to_string())?;
    let fetched = crate::outbound::fetch(request, WEBHOOK_TIMEOUT, 64 * 1024).await?;
    if (200..300).contains(&fetched.status) {
        Ok(fetched.status)
    } else {
        Err(format!("answered {}", fetched.status))
    }
}

/// Whether a widget call (live socket, catch-up, rating) may act on conversation `c`. An
/// anonymous visitor's conversation needs only its session id; a user's needs their `user_id`
/// and, when the workspace verifies identities, a valid `user_token` for them, as a chat
/// message would.
pub fn widget_may_use(
    ws: &store::Workspace,
    c: &Conversation,
    user_id: Option<&str>,
    token: Option<&str>,
) -> ApiResult<()> {
    let Some(owner) = &c.external_id else {
        return Ok(());
    };
    if user_id != Some(owner.as_str()) {
        return Err(ApiError::NotFound(
            "No conversation with this session_id for this user.",
        ));
    }
    verify_token(ws, owner, token).map(|_| ())
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
        "warnings": chat.warnings,
    })
}

/// Checks a user's identity token. `Ok(Some)` carries the claims a valid token vouches for;
/// `Ok(None)` is an unverified user, allowed only while the workspace does not require
/// verification. Runs before anything is stored, so a refused request changes nothing.
pub fn verify_token(
    ws: &store::Workspace,
    user_id: &str,
    token: Option<&str>,
) -> ApiResult<Option<TrustedClaims>> {
    match token {
        Some(token) => verify_user_token(token, ws.identity_secret.expose().as_bytes(), user_id)
            .map(Some)
            .map_err(|e| ApiError::Identity { code: "invalid_user_token", message: format!("The user_token was refused: {e}.") }),
        None if ws.identity_verification != 0 => Err(ApiError::Identity {
            code: "user_token_required",
            message: "This workspace verifies identities: send a user_token signed with the identity secret.".into(),
        }),
        None => Ok(None),
    }
}

/// The traits a valid token vouches for, as traits.
pub fn trusted_traits(claims: &TrustedClaims) -> Map<String, Value> {
    [
        ("email", &claims.email),
        ("name", &claims.name),
        ("role", &claims.role),
        ("plan", &claims.plan),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.as_ref().map(|v| (k.to_owned(), Value::String(v.clone()))))
    .collect()
}

/// Publishes a live event once the response is on its way (the event is already in D1).
fn publish_later(ctx: &Context, env: &Env, org: &str, session_id: &str, event: Value) {
    let (env, org, session_id) = (env.clone(), org.to_owned(), session_id.to_owned());
    ctx.wait_until(async move { live::publish(&env, &org, &session_id, &event).await });
}

pub async fn post_chat(req: &mut Request, env: &Env, ctx: &Context) -> ApiResult<Response> {
    let db = env.d1("DB")?;
    // A missing or malformed key is refused before the body is even read.
    let key_hash = auth::widget_key_hash(req)?;
    let body = read_json(req).await;
    let parsed = body.as_ref().ok().map(ChatRequest::parse);
    let valid = parsed.as_ref().and_then(|c| c.as_ref().ok());
    let agent_id = valid.and_then(|c| c.agent_id.as_deref());
    let channel = valid.map(|c| c.channel.as_str());
    let session_id = valid.and_then(|c| c.session_id.as_deref());
    // The key's workspace and the session it names are read at the same time; the session
    // lookup is scoped by the key itself, so it can only find this workspace's conversation.
    let (caller, existing) = join(
        store::workspace_and_agent_by_widget_key(&db, &key_hash, agent_id, channel),
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
    let (ws, requested_agent) = caller?.ok_or(ApiError::Unauthorized("Unknown widget key."))?;
    auth::check_origin(&ws, req)?;
    let chat = match parsed {
        Some(parsed) => parsed?,
        None => return Err(body.err().unwrap_or(ApiError::InvalidJson)),
    };
    let claims = match &chat.user {
        UserRef::External(id) => verify_token(&ws, id, chat.user_token.as_deref())?,
        UserRef::Anonymous => None,
    };
    let existing = existing?;
    let taken_by_another = existing.as_ref().is_some_and(|c| !continues(c, &chat.user));
    let continuing = existing.filter(|c| continues(c, &chat.user));
    let agent = match (&chat.agent_id, &continuing) {
        (Some(_), _) => requested_agent.ok_or_else(|| {
            ApiError::Field(FieldError {
                field: "agent_id".into(),
                kind: InvalidField::Invalid("names no agent of this workspace"),
            })
        })?,
        // A conversation stays with the agent it was pinned to.
        (None, Some(c)) => Agent {
            id: c.agent_id.clone(),
            instructions: c.agent_instructions.clone(),
            escalation_threshold: c.agent_threshold,
            rules: c.agent_rules.clone(),
            skills: c.agent_skills.clone(),
            llm: c.agent_llm.clone(),
        },
        (None, None) => {
            requested_agent.ok_or(ApiError::Internal("the workspace has no agent".into()))?
        }
    };
    let session_id = match (&continuing, &chat.session_id) {
        (Some(c), _) => c.session_id.clone(),
        // An unknown session id is the caller's to choose; one that belongs to someone else
        // is never reused.
        (None, Some(s)) if !taken_by_another => s.clone(),
        _ => new_id(),
    };

    // The trusted claims of a valid token override what the page sent.
    let mut request_traits = chat.custom_fields.clone();
    if let Some(c) = &claims {
        request_traits.extend(trusted_traits(c));
    }
    let company_ref = claims
        .as_ref()
        .and_then(|c| c.company_id.clone())
        .or_else(|| chat.company_id.clone());
    let user_traits = claims.as_ref().map(trusted_traits).unwrap_or_default();
    let sightings: Vec<_> = trait_sightings(ProfileScope::User, &chat.custom_fields)
        .into_iter()
        .chain(context_sightings(&chat.context))
        .collect();

    // The user's words are stored before anything that could fail while answering.
    let request = request_record(&chat);
    let (sentiment, mood) = conversation::mood(&chat.message);
    let conversation_id = new_id();
    let message_id = new_id();
    let turn = Turn {
        session_id: &session_id,
        new_conversation: continuing.is_none().then_some(NewConversation {
            id: &conversation_id,
            channel: chat.channel.as_str(),
            company_ref: chat.company_id.as_deref(),
        }),
        user: match &chat.user {
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
        message: Some(UserMessage {
            id: &message_id,
            body: &chat.message,
            request: &request,
            images: &chat.images,
            sentiment,
            mood: mood.as_str(),
            resolved: continuing.is_some() && conversation::says_resolved(&chat.message),
        }),
        sightings: &sightings,
    };
    // Searching and loading the profile only read, so they run while the turn is written;
    // nothing is generated until the write has succeeded.
    let search = async {
        if answer::small_talk(&chat.message).is_some() {
            return None;
        }
        let hits = knowledge::retrieve_with_vector(
            env,
            &db,
            &ws.id,
            &chat.message,
            PASSAGES_PER_QUESTION,
            Mode::Hybrid,
        )
        .await;
        Some(hits.map(|(hits, vector)| {
            let passages = hits
                .into_iter()
                .map(|h| Passage {
                    title: h.title,
                    url: h.url,
                    heading: h.heading,
                    text: h.text,
                    similarity: h.similarity,
                })
                .collect::<Vec<_>>();
            (passages, vector)
        }))
    };
    let external_id = match &chat.user {
        UserRef::External(id) => Some(id.as_str()),
        UserRef::Anonymous => None,
    };
    // Whispers from the team for this reply: none can exist for a new visitor.
    let verified_user = claims.as_ref().and(external_id);
    let whispers = async {
        if continuing.is_none() && verified_user.is_none() {
            return Ok(Vec::new());
        }
        store::inbox::whispers_for(&db, &ws.id, &session_id, verified_user).await
    };
    let (stored, searched, loaded, whispers) = join4(
        store::record_user_message(&db, &ws.id, &turn),
        search,
        contacts::known(&db, &ws.id, external_id, company_ref.as_deref()),
        whispers,
    )
    .await;
    stored?;
    let ticket = continuing.as_ref().and_then(|c| c.ticket());
    if let Some(ticket) = &ticket {
        // A conversation that was escalated: the message joins the ticket, waking or
        // reopening it.
        if let Err(e) = tickets::customer_wrote(&db, &ws.id, ticket, &chat.message).await {
            worker::console_error!("adding the message to the ticket failed: {e}");
        }
    }
    if continuing
        .as_ref()
        .is_some_and(|c| c.taken_over_by.is_some())
    {
        // A teammate has taken over: the message is stored and reaches the ticket, and the
        // AI stays quiet.
        let ticket_id = ticket.map(|t| t.id);
        let response = ChatResponse {
            text: TAKEN_OVER_TEXT.into(),
            session_id,
            agent_id: agent.id,
            actions: Vec::new(),
            confidence: 1.0,
            routed: Some(Routed {
                action: "taken_over".into(),
                ticket_id,
            }),
            message_id: None,
            citations: Vec::new(),
            warnings: chat.warnings.clone(),
        };
        let event = live::messages_event(
            &response.session_id,
            &[(&message_id, "user", &chat.message, now_ms())],
        );
        publish_later(ctx, env, &ws.id, &response.session_id, event);
        let mut resp = json_response(&response, 200);
        auth::cors_for(&ws, req, &mut resp)?;
        return Ok(resp);
    }

    let mut failures: Vec<String> = Vec::new();
    let mut search_failed = false;
    let (passages, question_vector): (Vec<Passage>, Option<Vec<f32>>) = match searched {
        Some(Ok(found)) => found,
        Some(Err(e)) => {
            search_failed = true;
            failures.push(format!("search: {e:?}"));
            (Vec::new(), None)
        }
        None => (Vec::new(), None),
    };
    let loaded = loaded.unwrap_or_else(|e| {
        failures.push(format!("profile: {e}"));
        Known {
            user: None,
            company: None,
            descriptions: BTreeMap::new(),
        }
    });
    let stored_user = loaded.user.map(|u| u.profile()).unwrap_or_default();
    let user = context::merge(
        &stored_user.traits,
        &request_traits,
        &stored_user.context,
        &chat.context,
    );
    let company = loaded.company.map(|c| c.profile());
    let rendered = context::render(&user, company.as_ref(), &loaded.descriptions);
    let mut facts = evidence::facts(&user, company.as_ref(), &loaded.descriptions);
    if let (Some(v), Some(embedder)) = (&question_vector, Embedder::from_env(env)) {
        // Account data is searched by meaning too; an embedder failure leaves it to words.
        if let Err(e) = score_facts(&embedder, &db, &ws.id, v, &mut facts).await {
            worker::console_warn!("embedding account data failed: {e}");
        }
    }
    let facts = evidence::Evidence::new(&chat.message, facts);

    // The workspace's routing: who is priority, and which rule (if any) this message meets.
    // Under identity verification, only what the workspace stored or a token vouched for
    // decides priority and routing: a page could claim `plan: enterprise`.
    let routing = Routing::from_stored(Some(&ws.routing));
    let trusted_traits = (ws.identity_verification != 0).then(|| {
        let mut t = stored_user.traits.clone();
        t.extend(user_traits.clone());
        t
    });
    let subject = Subject {
        user: trusted_traits.as_ref().unwrap_or(&user.traits),
        company: company.as_ref().map(|c| &c.traits),
        message: &chat.message,
        channel: chat.channel.as_str(),
    };
    let priority = routing.is_priority(&subject);
    let rule = routing.rule_for(&subject);
    let escalation = |reason: &'static str, confidence: f64| tickets::Escalation {
        session_id: &session_id,
        user_external_id: external_id,
        company_external_id: company_ref.as_deref(),
        channel: chat.channel.as_str(),
        confidence,
        reason,
        source: "escalation",
        status: if priority {
            Status::Priority
        } else {
            Status::Open
        },
        assignee: rule.and_then(|r| r.assignee.as_deref()),
        team: rule.and_then(|r| r.team.as_deref()),
    };
    let direct = match rule.filter(|r| r.direct) {
        Some(rule) => {
            match tickets::escalate(&db, &ws.id, &escalation("routing_rule", 1.0)).await {
                Ok((ticket_id, _)) => Some((rule, ticket_id)),
                Err(e) => {
                    // The AI answers instead; the message is stored either way.
                    failures.push(format!("routing: {e}"));
                    None
                }
            }
        }
        None => None,
    };
    if let Some((rule, ticket_id)) = direct {
        // Direct-to-team: the message goes straight to the team, with no AI answer.
        let text = rule.reply.clone().unwrap_or_else(|| match &rule.team {
            Some(team) => {
                format!("Thanks! I've passed your message to our {team} team; they'll reply here.")
            }
            None => "Thanks! I've passed your message to the team; they'll reply here.".into(),
        });
        let (line_id, at) =
            store::teammates::add_line(&db, &ws.id, &session_id, "system", &text).await?;
        let response = ChatResponse {
            text,
            session_id,
            agent_id: agent.id,
            actions: Vec::new(),
            confidence: 1.0,
            routed: Some(Routed {
                action: "routed_to_team".into(),
                ticket_id: Some(ticket_id),
            }),
            // The acknowledgement is stored as a system line; the widget shows it once.
            message_id: Some(line_id.clone()),
            citations: Vec::new(),
            warnings: chat.warnings.clone(),
        };
        let event = live::messages_event(
            &response.session_id,
            &[
                (&message_id, "user", &chat.message, at),
                (&line_id, "system", &response.text, at),
            ],
        );
        publish_later(ctx, env, &ws.id, &response.session_id, event);
        let mut resp = json_response(&response, 200);
        auth::cors_for(&ws, req, &mut resp)?;
        return Ok(resp);
    }
    let whispers = whispers.unwrap_or_else(|e| {
        failures.push(format!("whispers: {e}"));
        Vec::new()
    });
    let instructions = halo_shared::llm::with_guidance(
        &agent.prompt_instructions(),
        &whispers.iter().map(|w| w.body.as_str()).collect::<Vec<_>>(),
    );

    let provider = Provider::for_agent(env, &agent.llm());
    let history = match (&provider, chat.history.is_empty()) {
        (Some(_), true) if continuing.is_some() => stored_history(&db, &ws.id, &session_id)
            .await
            .unwrap_or_else(|e| {
                failures.push(format!("history: {e}"));
                Vec::new()
            }),
        _ => chat.history.clone(),
    };
    let skills: Vec<String> = serde_json::from_str(&agent.skills).unwrap_or_default();
    // The reply's id is known before it is generated, so its streamed text can name it.
    let reply_id = new_id();
    let question = Question {
        message: &chat.message,
        instructions: &instructions,
        user: &user,
        company: company.as_ref(),
        context: &rendered,
        history: &history,
        passages: &passages,
        facts: &facts,
        tools: Some(engine::ToolContext {
            env,
            db: &db,
            org: &ws.id,
            skills: &skills,
        }),
        progress: Some(engine::Progress {
            env,
            org: &ws.id,
            session_id: &session_id,
            message_id: &reply_id,
        }),
    };
    let mut outcome = engine::answer(provider.as_ref(), &question).await;
    failures.extend(outcome.error.take());
    if search_failed && outcome.answer.text == answer::NO_ANSWER_TEXT {
        // "Nothing found" would be untrue: the search itself failed.
        outcome.answer = answer::offer_human(answer::FAILURE_TEXT, "engine_failed", 0.0);
    }
    if !failures.is_empty() {
        outcome
            .answer
            .actions
            .retain(|a| !matches!(a, Action::OfferHuman { .. }));
        outcome.answer.actions.push(Action::OfferHuman {
            reason: "engine_failed".into(),
        });
    }

    // A request for a person (or for something only the team can do), or an answer below the
    // agent's confidence threshold, becomes a ticket in the team's inbox with the transcript.
    let asked_for_person = outcome.answer.actions.iter().find_map(|a| match a {
        Action::OfferHuman { reason } if reason == "user_requested" => Some("user_requested"),
        Action::OfferHuman { reason } if reason == "needs_team" => Some("needs_team"),
        _ => None,
    });
    let unsure = agent.escalation_threshold > 0.0
        && outcome.answer.confidence < agent.escalation_threshold
        && answer::small_talk(&chat.message).is_none();
    let mut hand_over = outcome.hand_over.take();
    // An outbound action with a webhook goes there; without one, or if it fails, a ticket.
    if let Some(h) = &hand_over {
        let hooks = halo_shared::webhooks::from_stored(Some(ws.webhooks.expose()));
        if let Some(hook) = hooks.get(h.reason) {
            let mut vars: BTreeMap<&str, String> = h.vars.iter().cloned().collect();
            vars.insert("user_id", external_id.unwrap_or_default().to_owned());
            vars.insert("session_id", session_id.clone());
            match deliver(h.reason, hook, &vars).await {
                Ok(status) => {
                    outcome.answer.actions.push(Action::Webhook {
                        tool: h.reason.to_owned(),
                        status,
                    });
                    hand_over = None;
                }
                Err(e) => failures.push(format!("webhook {}: {e}", h.reason)),
            }
        }
    }
    let reason = match (asked_for_person, &hand_over, unsure) {
        (Some(why), _, _) => Some(why),
        (None, Some(h), _) => Some(h.reason),
        (None, None, true) => Some("low_confidence"),
        _ => None,
    };
    if let Some(reason) = reason {
        match tickets::escalate(&db, &ws.id, &escalation(reason, outcome.answer.confidence)).await {
            Ok((ticket_id, status)) => {
                if reason == "low_confidence" {
                    outcome.answer.text.push_str(LOW_CONFIDENCE_TEXT);
                }
                if let Some(h) = &hand_over {
                    // What the model said about it (the bug, the refund) goes on the ticket.
                    let note = crate::store::tickets::add_message(
                        &db, &ws.id, &ticket_id, "note", "ai", &h.note,
                    );
                    if let Err(e) = async { note?.run().await }.await {
                        worker::console_error!("adding the agent's note to the ticket failed: {e}");
                    }
                }
                outcome
                    .answer
                    .actions
                    .push(Action::CreateTicket { ticket_id, status })
            }
            Err(e) => worker::console_error!("escalating to a ticket failed: {e}"),
        }
    }

    let error = (!failures.is_empty()).then(|| failures.join("; "));
    let a = &outcome.answer;
    let citations = serde_json::to_value(&a.citations).unwrap_or(Value::Null);
    let actions = serde_json::to_value(&a.actions).unwrap_or(Value::Null);
    let needs_human = a
        .actions
        .iter()
        .any(|x| matches!(x, Action::OfferHuman { reason } if reason != "no_answer"));
    // What the AI saw, kept with the reply for the team.
    let trace = json!({
        "context": rendered,
        "whispers": whispers,
        "tools": outcome.tool_runs,
        "passages": passages.iter().map(|p| json!({ "title": p.title, "url": p.url, "heading": p.heading, "text": p.text })).collect::<Vec<_>>(),
        "facts": facts.top().map(|(m, f)| {
            json!({ "key": f.key, "label": f.label, "text": f.text, "support": m.support })
        }).collect::<Vec<_>>(),
    });
    let stored_reply = store::record_ai_message(
        &db,
        &ws.id,
        &AiMessage {
            id: &reply_id,
            session_id: &session_id,
            body: &a.text,
            engine: outcome.engine,
            confidence: a.confidence,
            citations: &citations,
            actions: &actions,
            error: error.as_deref(),
            needs_human,
            trace: &trace,
        },
    )
    .await;
    if let Err(e) = &stored_reply {
        // The user's message is safe; the reply still goes out even if storing it failed.
        worker::console_error!("storing the reply failed: {e}");
    }
    let one_off: Vec<&str> = whispers
        .iter()
        .filter(|w| w.persist == 0)
        .map(|w| w.id.as_str())
        .collect();
    if let Some(used) = store::inbox::use_whispers(&db, &ws.id, &one_off)? {
        if let Err(e) = used.run().await {
            worker::console_error!("marking whispers used failed: {e}");
        }
    }

    let response = ChatResponse {
        text: outcome.answer.text,
        session_id,
        agent_id: agent.id,
        actions: outcome.answer.actions,
        confidence: outcome.answer.confidence,
        routed: None,
        // Only a stored reply can be rated.
        message_id: stored_reply.is_ok().then_some(reply_id),
        citations: outcome.answer.citations,
        warnings: chat.warnings,
    };
    let at = now_ms();
    let event = live::messages_event(
        &response.session_id,
        &[
            (&message_id, "user", &chat.message, at),
            (
                response.message_id.as_deref().unwrap_or_default(),
                "ai",
                &response.text,
                at,
            ),
        ],
    );
    publish_later(ctx, env, &ws.id, &response.session_id, event);
    let mut resp = json_response(&response, 200);
    auth::cors_for(&ws, req, &mut resp)?;
    Ok(resp)
}

async fn stored_history(
    db: &D1Database,
    org: &str,
    session_id: &str,
) -> worker::Result<Vec<HistoryItem>> {
    let mut turns = store::recent_turns(db, org, session_id, STORED_TURNS + 1).await?;
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
pub async fn rate(req: &mut Request, env: &Env, session_id: &str) -> ApiResult<Response> {
    // `{ message_id, rating, user_id?, user_token? }`: a user's conversation needs them.
    let hash = auth::widget_key_hash(req)?;
    let db = env.d1("DB")?;
    let (ws, _) = store::workspace_and_agent_by_widget_key(&db, &hash, None, None)
        .await?
        .ok_or(ApiError::Unauthorized("Unknown widget key."))?;
    auth::check_origin(&ws, req)?;
    let body = read_json(req).await?;
    let rating = conversation::Rating::parse(&body)?;
    let c = store::conversation_by_session(&db, Scope::Org(&ws.id), session_id)
        .await?
        .ok_or(ApiError::NotFound(
            "No conversation with this session_id in this workspace.",
        ))?;
    let text = |k: &str| body.get(k).and_then(Value::as_str);
    widget_may_use(&ws, &c, text("user_id"), text("user_token"))?;
    if !store::inbox::rate(&db, &ws.id, session_id, &rating.message_id, rating.rating).await? {
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
pub async fn open_session(req: &mut Request, env: &Env) -> ApiResult<Response> {
    let db = env.d1("DB")?;
    let key_hash = auth::widget_key_hash(req)?;
    let body = read_json(req).await?;
    let open = ChatRequest::parse_session(&body)?;
    let (ws, agent) = store::workspace_and_agent_by_widget_key(
        &db,
        &key_hash,
        open.agent_id.as_deref(),
        Some(open.channel.as_str()),
    )
    .await?
    .ok_or(ApiError::Unauthorized("Unknown widget key."))?;
    auth::check_origin(&ws, req)?;
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
        Some(s) => store::conversation_by_session(&db, Scope::Org(&ws.id), s).await?,
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
    let conversation_id = new_id();
    let turn = Turn {
        session_id: &session_id,
        new_conversation: Some(NewConversation {
            id: &conversation_id,
            channel: open.channel.as_str(),
            company_ref: open.company_id.as_deref(),
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
    };
    store::record_user_message(&db, &ws.id, &turn).await?;
    let event = json!({ "type": "conversation", "session_id": session_id, "state": "opened" });
    live::publish(env, &ws.id, &session_id, &event).await;
    respond(&session_id, 201)
}
