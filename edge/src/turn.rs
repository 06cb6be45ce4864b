//! One turn of a conversation, for every channel (the widget's `POST /api/sdk/chat` today;
//! email and the console call the same [`run`]): who is asking, record the message, gather
//! what the AI should see, decide (a teammate has it, a rule routes it to a team, or the AI
//! answers), answer, escalate, store the reply and tell the live rooms. The decisions are
//! `halo_shared::turn`'s pure functions; this module reads and writes around them.

use std::collections::BTreeMap;

use futures_util::future::join;
use halo_shared::answer::{self, Passage};
use halo_shared::chat::reason;
use halo_shared::chat::{Action, ChatRequest, ChatResponse, HistoryItem, Routed, Speaker, UserRef};
use halo_shared::context::{self, Profile};
use halo_shared::conversation;
use halo_shared::evidence::{self, Evidence};
use halo_shared::identity::TrustedClaims;
use halo_shared::live::LineRole;
use halo_shared::profile::{context_sightings, trait_sightings, Scope as ProfileScope};
use halo_shared::routing::{Routing, Rule, Subject};
use halo_shared::tickets::Status;
use halo_shared::turn::{self, AgentChoice};
use serde_json::{json, Map, Value};
use worker::{Context, D1Database, Env};

use crate::engine::{self, Outcome, Provider, Question};
use crate::error::{ApiError, ApiResult};
use crate::knowledge::{self, Mode};
use crate::live;
use crate::platform::{new_id, now_ms};
use crate::semantic::{score_facts, Embedder};
use crate::store::contacts::{self, Known, UserWrite};
use crate::store::{
    self, Agent, AiMessage, Conversation, NewConversation, Turn, UserMessage, Workspace,
};
use crate::tickets;

/// Passages given to an engine per question.
const PASSAGES_PER_QUESTION: u32 = 4;
/// Articles looked up by the words of a problem in the user's data (see `problem_articles`).
const PROBLEM_PASSAGES: u32 = 2;
/// Stored turns given to a model when the client sends no history.
const STORED_TURNS: u32 = 20;
/// How long a webhook may take to answer.
const WEBHOOK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// A message from any channel, once its channel has found the workspace it is for.
pub struct Inbound {
    pub ws: Workspace,
    /// The workspace's agent for the message's `agent_id` (or its channel's default).
    pub agent: Option<Agent>,
    /// The conversation the message's `session_id` names, if there is one (the lookup's
    /// failure is reported after the user's token is checked, as identity comes first).
    pub existing: ApiResult<Option<Conversation>>,
    pub chat: ChatRequest,
    /// The web page's origin a widget message came from (the install check notes the first).
    pub page_origin: Option<String>,
    /// The team speaks as the contact it chose (the agents' playground): no identity token is
    /// asked for, and none is vouched for (the contact is not marked verified). Set only by
    /// a teammate's or the backend's endpoint, never from a widget request.
    pub vouched: bool,
}

/// Who is asking, and in which conversation.
struct Who {
    claims: Option<TrustedClaims>,
    continuing: Option<Conversation>,
    agent: Agent,
    session_id: String,
    /// The page's traits, with what a valid token vouches for on top.
    request_traits: Map<String, Value>,
    /// Only what a valid token vouches for.
    user_traits: Map<String, Value>,
    company_ref: Option<String>,
}

/// What search found for the question, and the question's embedding when one was made.
type Found = (Vec<Passage>, Option<Vec<f32>>);

/// What was read while the message was written.
struct Recorded {
    message_id: String,
    searched: Option<ApiResult<Found>>,
    loaded: worker::Result<Known>,
    whispers: worker::Result<Vec<store::inbox::Whisper>>,
}

/// What the AI sees.
struct Seen {
    passages: Vec<Passage>,
    search_failed: bool,
    stored_traits: Map<String, Value>,
    user: Profile,
    company: Option<Profile>,
    rendered: String,
    evidence: Evidence,
}

/// The workspace's routing for this message: whether the user is priority, and the rule it
/// meets.
struct Route {
    priority: bool,
    rule: Option<Rule>,
}

/// Runs one turn and returns the reply. The user's message is stored before anything that
/// could fail while answering; live rooms hear of both sides once the reply is on its way.
pub async fn run(
    env: &Env,
    ctx: &Context,
    db: &D1Database,
    inbound: Inbound,
) -> ApiResult<ChatResponse> {
    let Inbound {
        ws,
        agent,
        existing,
        chat,
        page_origin,
        vouched,
    } = inbound;
    let mut chat = chat;
    let who = who(&ws, agent, existing, &mut chat, vouched)?;
    let Recorded {
        message_id,
        searched,
        loaded,
        whispers,
    } = record(env, db, &ws, &chat, &who, page_origin.as_deref()).await?;
    // The company the page named is the one the company's server linked the user to: it was
    // used after all, through the link.
    let linked = loaded.as_ref().ok().and_then(|k| k.company.as_ref());
    if linked.is_some_and(|c| Some(c.company_id.as_str()) == chat.company_id.as_deref()) {
        chat.warnings.retain(|w| w.code != "company_not_verified");
    }
    let out = |reply: Reply, chat: ChatRequest, who: Who, at: i64| {
        finish(ctx, env, &ws, chat, who, &message_id, reply, at)
    };
    if let Some(reply) = taken_over(db, &ws, &chat, &who).await {
        return Ok(out(reply, chat, who, now_ms()));
    }
    let mut failures: Vec<String> = Vec::new();
    let seen = gather(env, db, &ws, &chat, &who, searched, loaded, &mut failures).await;
    let route = route(&ws, &chat, &who, &seen);
    if let Some((reply, at)) = to_team(db, &ws, &chat, &who, &route, &mut failures).await? {
        return Ok(out(reply, chat, who, at));
    }
    let whispers = whispers.unwrap_or_else(|e| {
        failures.push(format!("whispers: {e}"));
        Vec::new()
    });
    let reply_id = new_id();
    let said = Said {
        seen: &seen,
        whispers: &whispers,
        reply_id: &reply_id,
    };
    let mut outcome = answer(env, db, &ws, &chat, &who, &said, &mut failures).await;
    escalate(db, &ws, &chat, &who, &route, &mut outcome, &mut failures).await;
    let stored = store_reply(db, &ws, &who, &said, &outcome, &failures).await?;
    let reply = Reply {
        answer: outcome.answer,
        message_id: stored.then_some(reply_id),
        routed: None,
    };
    Ok(out(reply, chat, who, now_ms()))
}

/// What the AI is given and where its reply goes: the turn's evidence, the team's whispers
/// and the reply's id (known before it is generated, so its streamed text can name it).
struct Said<'a> {
    seen: &'a Seen,
    whispers: &'a [store::inbox::Whisper],
    reply_id: &'a str,
}

/// An escalated conversation's message joins its ticket (waking or reopening it); if a
/// teammate has taken the conversation over, the AI stays quiet and this is the reply.
async fn taken_over(
    db: &D1Database,
    ws: &Workspace,
    chat: &ChatRequest,
    who: &Who,
) -> Option<Reply> {
    let ticket = who.continuing.as_ref().and_then(|c| c.ticket());
    if let Some(ticket) = &ticket {
        if let Err(e) = tickets::customer_wrote(db, &ws.id, ticket, &chat.message).await {
            worker::console_error!("adding the message to the ticket failed: {e}");
        }
    }
    let taken = who
        .continuing
        .as_ref()
        .is_some_and(|c| c.taken_over_by.is_some());
    taken.then(|| {
        let routed = Routed {
            action: Routed::TAKEN_OVER.into(),
            ticket_id: ticket.map(|t| t.id),
        };
        Reply::system(turn::TAKEN_OVER_TEXT.into(), None, routed)
    })
}

/// A direct routing rule sends the message straight to its team: a ticket, and the team's
/// acknowledgement stored as a system line (the widget shows it once), with its time. If
/// the ticket cannot be opened, the AI answers instead (the message is stored either way).
async fn to_team(
    db: &D1Database,
    ws: &Workspace,
    chat: &ChatRequest,
    who: &Who,
    route: &Route,
    failures: &mut Vec<String>,
) -> ApiResult<Option<(Reply, i64)>> {
    let Some(rule) = route.rule.as_ref().filter(|r| r.direct) else {
        return Ok(None);
    };
    let e = escalation(chat, who, route, reason::ROUTING_RULE, 1.0);
    let ticket_id = match tickets::escalate(db, &ws.id, &e).await {
        Ok((ticket_id, _)) => Some(ticket_id),
        Err(e) => {
            failures.push(format!("routing: {e}"));
            None
        }
    };
    let Some(ticket_id) = ticket_id else {
        return Ok(None);
    };
    let text = turn::team_acknowledgement(rule.reply.as_deref(), rule.team.as_deref());
    let (line_id, at) =
        store::teammates::add_line(db, &ws.id, &who.session_id, LineRole::System, &text).await?;
    let routed = Routed {
        action: Routed::TO_TEAM.into(),
        ticket_id: Some(ticket_id),
    };
    Ok(Some((Reply::system(text, Some(line_id), routed), at)))
}

/// Who is asking: a user's token is checked (before anything is stored, so a refused
/// request changes nothing), the conversation continues only with its own user, and the
/// agent and the session follow from that.
fn who(
    ws: &Workspace,
    agent: Option<Agent>,
    existing: ApiResult<Option<Conversation>>,
    chat: &mut ChatRequest,
    vouched: bool,
) -> ApiResult<Who> {
    let claims = match &chat.user {
        UserRef::External(id) if !vouched => {
            crate::auth::verify_token(ws, id, chat.user_token.as_deref())?
        }
        _ => None,
    };
    // Only a company it may use is read or linked (`company_ref`); the request keeps what the
    // page sent, for the team to see.
    let (company_ref, warning) =
        crate::auth::vouched_company(ws, claims.as_ref(), chat.company_id.clone(), "company_id");
    chat.warnings.extend(warning);
    let existing = existing?;
    let owned_by = |c: &Conversation| turn::continues(c.external_id.as_deref(), &chat.user);
    let taken_by_another = existing.as_ref().is_some_and(|c| !owned_by(c));
    let continuing = existing.filter(|c| owned_by(c));
    let choice = turn::agent_choice(chat.agent_id.is_some(), continuing.is_some());
    let agent = match (choice, &continuing) {
        (AgentChoice::Requested, _) => agent.ok_or_else(|| {
            ApiError::Field(halo_shared::chat::FieldError {
                field: "agent_id".into(),
                kind: halo_shared::chat::InvalidField::Invalid("names no agent of this workspace"),
            })
        })?,
        (AgentChoice::Pinned, Some(c)) => c.agent(),
        _ => agent.ok_or(ApiError::Internal("the workspace has no agent".into()))?,
    };
    let session_id = turn::session_choice(
        continuing.as_ref().map(|c| c.session_id.as_str()),
        chat.session_id.as_deref(),
        taken_by_another,
    )
    .unwrap_or_else(new_id);
    let user_traits = claims
        .as_ref()
        .map(crate::auth::trusted_traits)
        .unwrap_or_default();
    // The trusted claims of a valid token override what the page sent.
    let mut request_traits = chat.custom_fields.clone();
    request_traits.extend(user_traits.clone());
    Ok(Who {
        claims,
        continuing,
        agent,
        session_id,
        request_traits,
        user_traits,
        company_ref,
    })
}

/// Stores the user's words, and reads the profile and the whispers in the same batch; the
/// search only reads, so it runs meanwhile. Nothing is generated until the write has
/// succeeded.
async fn record(
    env: &Env,
    db: &D1Database,
    ws: &Workspace,
    chat: &ChatRequest,
    who: &Who,
    page_origin: Option<&str>,
) -> ApiResult<Recorded> {
    let request = request_record(chat);
    let (sentiment, mood) = conversation::mood(&chat.message);
    let conversation_id = new_id();
    let message_id = new_id();
    let external_id = chat.user.external_id();
    let trusted_company = who.claims.as_ref().and_then(|c| c.company_id.as_deref());
    let sightings: Vec<_> = trait_sightings(ProfileScope::User, &chat.custom_fields)
        .into_iter()
        .chain(context_sightings(&chat.context))
        .collect();
    let write = Turn {
        session_id: &who.session_id,
        new_conversation: who.continuing.is_none().then_some(NewConversation {
            id: &conversation_id,
            channel: chat.channel.as_str(),
            company_ref: who.company_ref.as_deref(),
        }),
        user: external_id.map(|id| UserWrite {
            external_id: id,
            traits: &who.user_traits,
            context: json!({}),
            company_external_id: trusted_company,
            verified: who.claims.is_some(),
        }),
        company_external_id: trusted_company,
        agent_id: &who.agent.id,
        message: Some(UserMessage {
            id: &message_id,
            body: &chat.message,
            request: &request,
            images: &chat.images,
            sentiment,
            mood: mood.as_str(),
            resolved: who.continuing.is_some() && conversation::says_resolved(&chat.message),
        }),
        sightings: &sightings,
        first_widget_origin: page_origin.filter(|_| ws.widget_seen_at.is_none()),
    };
    // Whispers from the team for this reply: none can exist for a new visitor.
    let verified_user = who.claims.as_ref().and(external_id);
    let wants_whispers = who.continuing.is_some() || verified_user.is_some();
    let org = ws.id.as_str();
    let company_ref = who.company_ref.as_deref();
    let profile_and_whispers = async {
        // The profile and the whispers are read in the batch that writes the message, after
        // its writes (so the profile has this turn's traits): one round trip for all three.
        let mut batch = store::user_message_statements(db, org, &write)?;
        // A read that cannot even be prepared is left out (and reported as failed): it must
        // not keep the message from being stored.
        let mut read = |statement: worker::Result<worker::D1PreparedStatement>| {
            statement.map(|s| {
                batch.push(s);
                batch.len() - 1
            })
        };
        let known_at = read(contacts::known_statement(db, org, external_id, company_ref));
        let whispers_at = wants_whispers.then(|| {
            read(store::inbox::whispers_statement(
                db,
                org,
                &who.session_id,
                verified_user,
            ))
        });
        let answered = db.batch(batch).await.and_then(|results| {
            if crate::faults::message_ack() {
                return Err(worker::Error::RustError(
                    "the batch's answer was lost (HALO_FAULTS)".into(),
                ));
            }
            Ok(results)
        });
        match answered {
            Ok(results) => {
                let loaded =
                    known_at.and_then(|at| contacts::known_from(store::first_row(&results, at)?));
                let whispers = match whispers_at {
                    Some(at) => at.and_then(|at| store::batch_result(&results, at)?.results()),
                    None => Ok(Vec::new()),
                };
                Ok((loaded, whispers))
            }
            Err(e) => {
                // Nothing is lost to a read: the message is stored on its own, then read as
                // before (a failing write fails the turn here, as it would have anyway). A
                // batch whose answer was lost may have committed: then it is not written twice.
                worker::console_warn!("the turn's batch failed, storing the message alone: {e}");
                if !store::message_stored(db, org, &message_id).await? {
                    store::record_user_message(db, org, &write).await?;
                }
                let whispers = async {
                    if !wants_whispers {
                        return Ok(Vec::new());
                    }
                    store::inbox::whispers_for(db, org, &who.session_id, verified_user).await
                };
                Ok(join(contacts::known(db, org, external_id, company_ref), whispers).await)
            }
        }
    };
    let (stored, searched) = join(profile_and_whispers, search(env, db, org, &chat.message)).await;
    let (loaded, whispers) = stored.map_err(|e: worker::Error| ApiError::from(e))?;
    Ok(Recorded {
        message_id,
        searched,
        loaded,
        whispers,
    })
}

/// The request minus the message text and the token: stored with the message so the team can
/// see what the page sent.
fn request_record(chat: &ChatRequest) -> Value {
    json!({
        "user_id": chat.user.external_id(),
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

/// The passages for a question (none for small talk), and the question's embedding.
async fn search(env: &Env, db: &D1Database, org: &str, message: &str) -> Option<ApiResult<Found>> {
    if answer::small_talk(message).is_some() {
        return None;
    }
    let found =
        knowledge::retrieve_with_vector(env, db, org, message, PASSAGES_PER_QUESTION, Mode::Hybrid)
            .await;
    Some(found.map(|(hits, vector)| {
        let passages = hits.into_iter().map(store::Hit::into_passage).collect();
        (passages, vector)
    }))
}

/// What the AI should see: the passages, the user's and company's merged profile rendered,
/// and their facts ranked for the question (by meaning too, with an embedder). A read that
/// failed leaves its part empty and is named in `failures`.
#[allow(clippy::too_many_arguments)]
async fn gather(
    env: &Env,
    db: &D1Database,
    ws: &Workspace,
    chat: &ChatRequest,
    who: &Who,
    searched: Option<ApiResult<Found>>,
    loaded: worker::Result<Known>,
    failures: &mut Vec<String>,
) -> Seen {
    let mut search_failed = false;
    let (passages, question_vector) = match searched {
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
        &who.request_traits,
        &stored_user.context,
        &chat.context,
    );
    let company = loaded.company.map(|c| c.profile());
    let rendered = context::render(&user, company.as_ref(), &loaded.descriptions);
    let mut facts = evidence::facts(&user, company.as_ref(), &loaded.descriptions);
    if let (Some(v), Some(embedder)) = (&question_vector, Embedder::from_env(env)) {
        // Account data is searched by meaning too; an embedder failure leaves it to words.
        if let Err(e) = score_facts(&embedder, db, &ws.id, v, &mut facts).await {
            worker::console_warn!("embedding account data failed: {e}");
        }
    }
    let evidence = Evidence::on(
        &chat.message,
        facts,
        Some(halo_shared::dates::Day::from_unix_ms(now_ms())),
    );
    let mut passages = passages;
    if let Some(problem) = answer::problem_to_look_up(&evidence) {
        let query = evidence.problem_query(problem);
        let found = problem_articles(env, db, &ws.id, &query, &passages).await;
        // Only what is about the problem joins the passages (and the model's prompt).
        let about: Vec<Passage> = answer::articles_about(&evidence, problem, &found)
            .into_iter()
            .cloned()
            .collect();
        passages.extend(about);
    }
    Seen {
        passages,
        search_failed,
        stored_traits: stored_user.traits,
        evidence,
        user,
        company,
        rendered,
    }
}

/// The articles about a problem the user's data states, searched by its words ("AUTH_EXPIRED:
/// consent lapsed"), that the question's own search did not return: the question may only
/// describe the symptom. Full-text only (an error's code and words are what it finds best);
/// a failed search adds nothing.
async fn problem_articles(
    env: &Env,
    db: &D1Database,
    org: &str,
    problem: &str,
    have: &[Passage],
) -> Vec<Passage> {
    match knowledge::retrieve(env, db, org, problem, PROBLEM_PASSAGES, Mode::Lexical).await {
        Ok(hits) => hits
            .into_iter()
            .map(store::Hit::into_passage)
            .filter(|p| !have.iter().any(|h| h.title == p.title && h.text == p.text))
            .collect(),
        Err(e) => {
            worker::console_warn!("searching the articles for the user's problem failed: {e:?}");
            Vec::new()
        }
    }
}

/// The workspace's routing for the message. Under identity verification, only what the
/// workspace stored or a token vouched for decides priority and routing: a page could claim
/// `plan: enterprise`.
fn route(ws: &Workspace, chat: &ChatRequest, who: &Who, seen: &Seen) -> Route {
    let routing = Routing::from_stored(Some(&ws.routing));
    let trusted = (ws.identity_verification != 0).then(|| {
        let mut t = seen.stored_traits.clone();
        t.extend(who.user_traits.clone());
        t
    });
    let subject = Subject {
        user: trusted.as_ref().unwrap_or(&seen.user.traits),
        company: seen.company.as_ref().map(|c| &c.traits),
        message: &chat.message,
        channel: chat.channel.as_str(),
    };
    Route {
        priority: routing.is_priority(&subject),
        rule: routing.rule_for(&subject).cloned(),
    }
}

/// The ticket a turn opens, for `reason`, as the routing decided.
fn escalation<'a>(
    chat: &'a ChatRequest,
    who: &'a Who,
    route: &'a Route,
    reason: &'a str,
    confidence: f64,
) -> tickets::Escalation<'a> {
    tickets::Escalation {
        session_id: &who.session_id,
        user_external_id: chat.user.external_id(),
        company_external_id: who.company_ref.as_deref(),
        channel: chat.channel.as_str(),
        confidence,
        reason,
        source: "escalation",
        status: if route.priority {
            Status::Priority
        } else {
            Status::Open
        },
        assignee: route.rule.as_ref().and_then(|r| r.assignee.as_deref()),
        team: route.rule.as_ref().and_then(|r| r.team.as_deref()),
    }
}

/// The agent's answer: its provider (falling back to the offline engine), given the
/// agent's instructions with the team's whispers, the history, the passages, the facts and
/// the agent's tools. Failures so far settle what the answer offers.
async fn answer(
    env: &Env,
    db: &D1Database,
    ws: &Workspace,
    chat: &ChatRequest,
    who: &Who,
    said: &Said<'_>,
    failures: &mut Vec<String>,
) -> Outcome {
    let Said {
        seen,
        whispers,
        reply_id,
    } = *said;
    let agent = &who.agent;
    let instructions = halo_shared::llm::with_guidance(
        &agent.prompt_instructions(),
        &whispers.iter().map(|w| w.body.as_str()).collect::<Vec<_>>(),
    );
    let provider = within_budget(
        db,
        ws,
        &who.session_id,
        Provider::for_agent(env, &agent.llm),
        failures,
    )
    .await;
    let history = match (&provider, chat.history.is_empty()) {
        (Some(_), true) if who.continuing.is_some() => stored_history(db, &ws.id, &who.session_id)
            .await
            .unwrap_or_else(|e| {
                failures.push(format!("history: {e}"));
                Vec::new()
            }),
        _ => chat.history.clone(),
    };
    let question = Question {
        message: &chat.message,
        instructions: &instructions,
        user: &seen.user,
        company: seen.company.as_ref(),
        context: &seen.rendered,
        history: &history,
        passages: &seen.passages,
        facts: &seen.evidence,
        tools: Some(engine::ToolContext {
            env,
            db,
            org: &ws.id,
            skills: &agent.skills,
        }),
        // The reply's id is known before it is generated, so its streamed text can name it.
        progress: Some(engine::Progress {
            env,
            org: &ws.id,
            session_id: &who.session_id,
            message_id: reply_id,
        }),
    };
    let mut outcome = engine::answer(provider.as_ref(), &question).await;
    if outcome.spent.calls > 0 {
        let day = halo_shared::limits::day_of(now_ms());
        let spent = &outcome.spent;
        if let Err(e) = store::usage::spend(db, &ws.id, day, spent.calls, spent.tokens).await {
            worker::console_error!("counting the model's usage failed: {e}");
        }
    }
    failures.extend(outcome.error.take());
    turn::settle_failures(
        &mut outcome.answer,
        seen.search_failed,
        !failures.is_empty(),
    );
    outcome
}

/// A request for a person (or for something only the team can do), a tool's hand-over that
/// no webhook took, or an answer below the agent's threshold becomes a ticket in the team's
/// inbox with the transcript.
async fn escalate(
    db: &D1Database,
    ws: &Workspace,
    chat: &ChatRequest,
    who: &Who,
    route: &Route,
    outcome: &mut Outcome,
    failures: &mut Vec<String>,
) {
    let unsure = turn::unsure(
        who.agent.escalation_threshold,
        outcome.answer.confidence,
        &chat.message,
    );
    let mut hand_over = outcome.hand_over.take();
    // An outbound action with a webhook goes there; without one, or if it fails, a ticket.
    if let Some(h) = &hand_over {
        let hooks = halo_shared::webhooks::from_stored(Some(ws.webhooks.expose()));
        if let Some(hook) = hooks.get(h.reason) {
            let mut vars: BTreeMap<&str, String> = h.vars.iter().cloned().collect();
            vars.insert(
                "user_id",
                chat.user.external_id().unwrap_or_default().to_owned(),
            );
            vars.insert("session_id", who.session_id.clone());
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
    let why = turn::escalation_reason(
        &outcome.answer.actions,
        hand_over.as_ref().map(|h| h.reason),
        unsure,
    );
    let Some(why) = why else {
        return;
    };
    let e = escalation(chat, who, route, why, outcome.answer.confidence);
    match tickets::escalate(db, &ws.id, &e).await {
        Ok((ticket_id, status)) => {
            if why == reason::LOW_CONFIDENCE {
                outcome.answer.text.push_str(turn::LOW_CONFIDENCE_TEXT);
            }
            if let Some(h) = &hand_over {
                // What the model said about it (the bug, the refund) goes on the ticket.
                let note =
                    store::tickets::add_message(db, &ws.id, &ticket_id, "note", "ai", &h.note);
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

/// The provider, unless the workspace's daily model budget is spent or this conversation has
/// had its share of model turns: then the offline engine answers, and the reply records why.
async fn within_budget(
    db: &D1Database,
    ws: &Workspace,
    session_id: &str,
    provider: Option<Provider>,
    failures: &mut Vec<String>,
) -> Option<Provider> {
    provider.as_ref()?;
    let limits = halo_shared::limits::Limits::from_stored(Some(&ws.limits));
    let day = halo_shared::limits::day_of(now_ms());
    let (today, turns) = futures_util::future::join(
        store::usage::on_day(db, &ws.id, day),
        store::usage::model_turns(db, &ws.id, session_id),
    )
    .await;
    match (today, turns) {
        (Ok(today), Ok(turns)) => {
            match halo_shared::limits::model_refusal(&limits, &today, turns) {
                Some(why) => {
                    failures.push(format!("budget: {why}; the offline engine answered"));
                    None
                }
                None => provider,
            }
        }
        (Err(e), _) | (_, Err(e)) => {
            // The budget protects the bill, not the answer: unknown spending lets it through.
            worker::console_error!("reading the model budget failed: {e}");
            provider
        }
    }
}

/// Stores the reply with what the AI saw (for the team), and marks one-off whispers used.
/// Returns whether the reply was stored: the user's message is safe either way, and the
/// reply still goes out.
async fn store_reply(
    db: &D1Database,
    ws: &Workspace,
    who: &Who,
    said: &Said<'_>,
    outcome: &Outcome,
    failures: &[String],
) -> ApiResult<bool> {
    let Said {
        seen,
        whispers,
        reply_id,
    } = *said;
    let error = (!failures.is_empty()).then(|| failures.join("; "));
    let a = &outcome.answer;
    let citations = serde_json::to_value(&a.citations).unwrap_or(Value::Null);
    let actions = serde_json::to_value(&a.actions).unwrap_or(Value::Null);
    let trace = json!({
        "context": seen.rendered,
        "whispers": whispers,
        "tools": outcome.tool_runs,
        "passages": seen.passages.iter().map(|p| json!({ "title": p.title, "url": p.url, "heading": p.heading, "text": p.text })).collect::<Vec<_>>(),
        "facts": seen.evidence.top().map(|(m, f)| {
            json!({ "key": f.key, "label": f.label, "text": f.text, "support": m.support })
        }).collect::<Vec<_>>(),
    });
    let reply = AiMessage {
        id: reply_id,
        session_id: &who.session_id,
        body: &a.text,
        engine: outcome.engine,
        confidence: a.confidence,
        citations: &citations,
        actions: &actions,
        error: error.as_deref(),
        needs_human: turn::needs_human(&a.actions),
        trace: &trace,
    };
    let stored = if crate::faults::reply_store() {
        Err(worker::Error::RustError(
            "D1 is failing (HALO_FAULTS=reply_store)".into(),
        ))
    } else {
        store::record_ai_message(db, &ws.id, &reply).await
    };
    if let Err(e) = &stored {
        worker::console_error!("storing the reply failed: {e}");
    }
    let one_off: Vec<&str> = whispers
        .iter()
        .filter(|w| w.persist == 0)
        .map(|w| w.id.as_str())
        .collect();
    if let Some(used) = store::inbox::use_whispers(db, &ws.id, &one_off)? {
        if let Err(e) = used.run().await {
            worker::console_error!("marking whispers used failed: {e}");
        }
    }
    Ok(stored.is_ok())
}

/// How a turn ends: the answer given, the stored line it is (if any), and where it went.
struct Reply {
    answer: answer::Answer,
    message_id: Option<String>,
    routed: Option<Routed>,
}

impl Reply {
    /// A reply of the team's side (a teammate has it, a rule routed it): no AI answer.
    fn system(text: String, message_id: Option<String>, routed: Routed) -> Self {
        Reply {
            answer: answer::Answer {
                text,
                confidence: 1.0,
                citations: Vec::new(),
                actions: Vec::new(),
            },
            message_id,
            routed: Some(routed),
        }
    }
}

/// The one way out of a turn: the response, and the live event for both sides (published
/// once the response is on its way; both lines are already in D1).
#[allow(clippy::too_many_arguments)]
fn finish(
    ctx: &Context,
    env: &Env,
    ws: &Workspace,
    chat: ChatRequest,
    who: Who,
    message_id: &str,
    reply: Reply,
    at: i64,
) -> ChatResponse {
    let role = if reply.routed.is_some() {
        LineRole::System
    } else {
        LineRole::Ai
    };
    let mut lines = vec![(message_id, LineRole::User, chat.message.as_str(), at)];
    // A taken-over turn has no reply line of its own: the teammate's will come.
    if reply.routed.is_none() || reply.message_id.is_some() {
        lines.push((
            reply.message_id.as_deref().unwrap_or_default(),
            role,
            reply.answer.text.as_str(),
            at,
        ));
    }
    let event = live::messages_event(&who.session_id, &lines);
    let (env, org, session) = (env.clone(), ws.id.clone(), who.session_id.clone());
    ctx.wait_until(async move { live::publish(&env, &org, &session, &event).await });
    ChatResponse {
        text: reply.answer.text,
        session_id: who.session_id,
        agent_id: who.agent.id,
        actions: reply.answer.actions,
        confidence: reply.answer.confidence,
        routed: reply.routed,
        message_id: reply.message_id,
        citations: reply.answer.citations,
        warnings: chat.warnings,
    }
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

/// POSTs a signed webhook (`X-Halo-Signature`, see `halo_shared::webhooks`); its status if 2xx.
pub async fn deliver(
    action: &str,
    hook: &halo_shared::webhooks::Webhook,
    vars: &BTreeMap<&str, String>,
) -> Result<u16, String> {
    let body = halo_shared::webhooks::payload(action, hook.template.as_ref(), vars).to_string();
    let ts = now_ms() / 1000;
    let signature = halo_shared::webhooks::signature(&hook.secret, ts, &body);
    let headers = [
        ("x-halo-event", action),
        ("x-halo-signature", signature.as_str()),
    ];
    let request = crate::outbound::post_json(&hook.url, &headers, &body)?;
    let fetched = crate::outbound::fetch(request, WEBHOOK_TIMEOUT, 64 * 1024).await?;
    if (200..300).contains(&fetched.status) {
        Ok(fetched.status)
    } else {
        Err(format!("answered {}", fetched.status))
    }
}
