//! Live updates: a Durable Object per conversation (and one per workspace for the inbox's live
//! feed) relays events to the WebSockets connected to it.
//!
//! Sockets are accepted with the hibernation API, so an idle room costs nothing: the runtime
//! keeps the connections while the object sleeps and wakes it for a message or a publish.
//! Rooms hold no state of their own; D1 stays the record, and a client that reconnects catches
//! up from it (`GET /api/sdk/conversations/:session_id/updates`).

use halo_shared::keys::{TeammateToken, WidgetKey};
use halo_shared::live::{ClientMessage, Event, Line, LineRole, Presence, Viewer};
use serde_json::json;
use worker::{
    durable_object, DurableObject, Env, Method, Request, RequestInit, Response, Result, State,
    WebSocket, WebSocketIncomingMessage, WebSocketPair,
};

use crate::auth;
use crate::error::{ApiError, ApiResult};
use crate::http::{json_response, query_param};
use crate::platform::key_hash;
use crate::platform::Bindings;
use crate::store::{self, teammates, Scope};

/// The binding of the [`LiveRoom`] namespace in wrangler.toml.
const BINDING: &str = "LIVE";

/// At most this many sockets per room and audience; a further one is refused (a page left open
/// in many tabs cannot exhaust a room, nor keep teammates out of it).
const MAX_SOCKETS: usize = 100;

#[durable_object(websocket)]
pub struct LiveRoom {
    state: State,
    env: Env,
}

/// How long a console socket's session is trusted before the room checks it again, on the
/// next event it would deliver (`LIVE_SESSION_CHECK_MS`, default a minute): a session that
/// ended (signed out, removed teammate, expired) gets no more events after that.
const SESSION_CHECK_MS: i64 = 60_000;

impl DurableObject for LiveRoom {
    fn new(state: State, env: Env) -> Self {
        Self { state, env }
    }

    /// `GET /connect` (a WebSocket upgrade) joins the room; `POST /publish` sends the body to
    /// every socket in it. Only the Worker reaches these: the room is not routable from outside.
    async fn fetch(&self, mut req: Request) -> Result<Response> {
        match (req.method(), req.path().as_str()) {
            (Method::Get, "/connect") => {
                let url = req.url()?;
                let param = |name: &str| {
                    url.query_pairs()
                        .find(|(k, _)| k == name)
                        .map(|(_, v)| v.into_owned())
                };
                let audience = param("audience")
                    .filter(|a| a == "widget" || a == "team")
                    .unwrap_or_else(|| "widget".into());
                if self.state.get_websockets_with_tag(&audience).len() >= MAX_SOCKETS {
                    return Response::error(
                        "This conversation has too many live connections.",
                        429,
                    );
                }
                let pair = WebSocketPair::new()?;
                self.state
                    .accept_websocket_with_tags(&pair.server, &[audience.as_str()]);
                if let (Some(teammate_id), Some(name)) = (param("teammate"), param("name")) {
                    let viewer = Viewer {
                        teammate_id,
                        name,
                        session: param("session"),
                        quiet: param("quiet").is_some(),
                        checked_at: crate::platform::now_ms(),
                    };
                    self.join(&pair.server, viewer)?;
                }
                Response::from_websocket(pair.client)
            }
            (Method::Post, "/disconnect") => {
                // A sign-out or a removal: the teammate's sockets (of one session, or all) close.
                let url = req.url()?;
                let param = |name: &str| {
                    url.query_pairs()
                        .find(|(k, _)| k == name)
                        .map(|(_, v)| v.into_owned())
                };
                let (teammate, session) = (param("teammate"), param("session"));
                for ws in self.state.get_websockets_with_tag(Audience::Team.tag()) {
                    if let Ok(Some(v)) = ws.deserialize_attachment::<Viewer>() {
                        let same_session = session.is_none() || v.session == session;
                        if Some(&v.teammate_id) == teammate.as_ref() && same_session {
                            let _ = ws.close(Some(4001), Some("signed out"));
                        }
                    }
                }
                Ok(Response::empty()?.with_status(204))
            }
            (Method::Post, "/publish") => {
                let event = req.text().await?;
                for ws in self.state.get_websockets() {
                    if !self.session_holds(&ws).await {
                        let _ = ws.close(Some(4001), Some("signed out"));
                        continue;
                    }
                    // A socket that is closing is skipped; the others still get the event.
                    let _ = ws.send_with_str(&event);
                }
                Ok(Response::empty()?.with_status(204))
            }
            _ => Response::error("Not found", 404),
        }
    }

    /// Clients send `ping` to keep intermediaries from dropping an idle socket; a teammate's
    /// console also says what its teammate is doing (`presence`), which the room passes on to
    /// the other teammates in it.
    async fn websocket_message(
        &self,
        ws: WebSocket,
        message: WebSocketIncomingMessage,
    ) -> Result<()> {
        if let WebSocketIncomingMessage::String(s) = message {
            if s == "ping" {
                ws.send_with_str("pong")?;
            } else if let (Ok(ClientMessage::Presence { state }), Ok(Some(viewer))) = (
                serde_json::from_str::<ClientMessage>(&s),
                ws.deserialize_attachment::<Viewer>(),
            ) {
                if !viewer.quiet {
                    self.tell_team(&ws, &viewer, state);
                }
            }
        }
        Ok(())
    }

    async fn websocket_close(
        &self,
        ws: WebSocket,
        code: usize,
        _reason: String,
        _was_clean: bool,
    ) -> Result<()> {
        if let Ok(Some(viewer)) = ws.deserialize_attachment::<Viewer>() {
            if !viewer.quiet {
                self.tell_team(&ws, &viewer, Presence::Left);
            }
        }
        // 1005/1006 are reserved and may not be sent back.
        let code = u16::try_from(code)
            .ok()
            .filter(|c| *c != 1005 && *c != 1006);
        let _ = ws.close(Some(code.unwrap_or(1000)), Some("closing"));
        Ok(())
    }

    async fn websocket_error(&self, _ws: WebSocket, _error: worker::Error) -> Result<()> {
        Ok(())
    }
}

impl LiveRoom {
    /// Whether a socket may still receive events: a console socket's session is looked up
    /// again once its last check is older than the check interval (a failed lookup keeps
    /// the socket; the next event tries again).
    async fn session_holds(&self, ws: &WebSocket) -> bool {
        let Ok(Some(mut viewer)) = ws.deserialize_attachment::<Viewer>() else {
            return true;
        };
        let Some(session) = viewer.session.clone() else {
            return true;
        };
        let now = crate::platform::now_ms();
        let every = crate::platform::setting(&self.env, "LIVE_SESSION_CHECK_MS")
            .and_then(|v| v.parse().ok())
            .unwrap_or(SESSION_CHECK_MS);
        if now - viewer.checked_at < every {
            return true;
        }
        let Ok(db) = self.env.d1("DB") else {
            return true;
        };
        match store::console::session(&db, &session).await {
            Ok(Some((_, expires_at))) if expires_at > now => {
                viewer.checked_at = now;
                let _ = ws.serialize_attachment(&viewer);
                true
            }
            Ok(_) => false,
            Err(_) => true,
        }
    }

    /// A teammate's socket joins: it learns who else is here, and they learn of it.
    fn join(&self, ws: &WebSocket, viewer: Viewer) -> Result<()> {
        ws.serialize_attachment(&viewer)?;
        if viewer.quiet {
            return Ok(());
        }
        let mut told = vec![viewer.teammate_id.clone()];
        for other in self.state.get_websockets_with_tag(Audience::Team.tag()) {
            if let Ok(Some(v)) = other.deserialize_attachment::<Viewer>() {
                if !v.quiet && !told.contains(&v.teammate_id) {
                    let _ = ws.send_with_str(presence(&v, Presence::Viewing));
                    told.push(v.teammate_id);
                }
            }
        }
        self.tell_team(ws, &viewer, Presence::Viewing);
        Ok(())
    }

    /// Sends a teammate's presence to the room's other team sockets (not the widget's, and
    /// not to that teammate's own other tabs).
    fn tell_team(&self, from: &WebSocket, viewer: &Viewer, state: Presence) {
        let event = presence(viewer, state);
        for other in self.state.get_websockets_with_tag(Audience::Team.tag()) {
            let same = other
                .deserialize_attachment::<Viewer>()
                .ok()
                .flatten()
                .is_some_and(|v| v.teammate_id == viewer.teammate_id);
            if !same && other.as_ref() != from.as_ref() {
                let _ = other.send_with_str(&event);
            }
        }
    }
}

fn presence(viewer: &Viewer, state: Presence) -> String {
    serde_json::to_string(&Event::Presence {
        teammate_id: viewer.teammate_id.clone(),
        name: viewer.name.clone(),
        state,
    })
    .unwrap_or_default()
}

/// The room of one conversation.
pub fn conversation_room(org: &str, session_id: &str) -> String {
    format!("conversation:{org}:{session_id}")
}

/// The room of a workspace's live feed (every conversation's events).
pub fn feed_room(org: &str) -> String {
    format!("feed:{org}")
}

/// Who a socket belongs to. Each audience has its own cap, so customers' tabs can never crowd
/// teammates out of a room; today every event suits both.
#[derive(Clone, Copy)]
pub enum Audience {
    Widget,
    Team,
}

impl Audience {
    fn tag(self) -> &'static str {
        match self {
            Audience::Widget => "widget",
            Audience::Team => "team",
        }
    }
}

/// A teammate's socket: who, with which console session (if any), and whether it is the
/// feed's (no presence).
struct Seat<'a> {
    teammate: &'a teammates::Teammate,
    session: Option<String>,
    quiet: bool,
}

/// Closes the live feed sockets of a teammate: of one console session (by its hash), or all
/// of them (`None`). Best effort, like publishing.
pub async fn disconnect(env: &Env, org: &str, teammate_id: &str, session: Option<&str>) {
    let mut url = match worker::Url::parse("https://live/disconnect") {
        Ok(u) => u,
        Err(_) => return,
    };
    url.query_pairs_mut().append_pair("teammate", teammate_id);
    if let Some(s) = session {
        url.query_pairs_mut().append_pair("session", s);
    }
    let sent = async {
        let stub = env
            .durable_object(BINDING)?
            .id_from_name(&feed_room(org))?
            .get_stub()?;
        let mut init = RequestInit::new();
        init.with_method(Method::Post);
        stub.fetch_with_request(Request::new_with_init(url.as_str(), &init)?)
            .await
    };
    if let Err(e) = sent.await {
        worker::console_error!("closing a teammate's live sockets failed: {e}");
    }
}

/// Hands a WebSocket upgrade request to a room; the response is the 101 with the client end.
/// A teammate's socket of a conversation or ticket names them, for presence.
async fn connect(
    env: &Env,
    room: &str,
    audience: Audience,
    viewer: Option<&Seat<'_>>,
) -> Result<Response> {
    let stub = env
        .durable_object(BINDING)?
        .id_from_name(room)?
        .get_stub()?;
    let mut init = RequestInit::new();
    init.with_method(Method::Get);
    let headers = worker::Headers::new();
    headers.set("Upgrade", "websocket")?;
    init.with_headers(headers);
    let mut url = worker::Url::parse("https://live/connect")?;
    url.query_pairs_mut()
        .append_pair("audience", audience.tag());
    if let Some(seat) = viewer {
        url.query_pairs_mut()
            .append_pair("teammate", &seat.teammate.id)
            .append_pair("name", &seat.teammate.name);
        if let Some(s) = &seat.session {
            url.query_pairs_mut().append_pair("session", s);
        }
        if seat.quiet {
            url.query_pairs_mut().append_pair("quiet", "1");
        }
    }
    let url = url.to_string();
    stub.fetch_with_request(Request::new_with_init(&url, &init)?)
        .await
}

/// Sends `event` to the conversation's room and to the workspace's feed. Best effort: a
/// failure is logged and never fails the caller, since the event is already stored in D1.
pub async fn publish(env: &Env, org: &str, session_id: &str, event: &Event) {
    let body = serde_json::to_string(event).unwrap_or_default();
    let rooms = [conversation_room(org, session_id), feed_room(org)];
    let (a, b) =
        futures_util::future::join(send(env, &rooms[0], &body), send(env, &rooms[1], &body)).await;
    for r in [a, b] {
        if let Err(e) = r {
            worker::console_error!("publishing a live event failed: {e}");
        }
    }
}

async fn send(env: &Env, room: &str, body: &str) -> Result<()> {
    if crate::faults::live() {
        return Err(worker::Error::RustError(
            "the live room is unavailable (HALO_FAULTS=live)".into(),
        ));
    }
    let stub = env
        .durable_object(BINDING)?
        .id_from_name(room)?
        .get_stub()?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_body(Some(wasm_bindgen::JsValue::from_str(body)));
    stub.fetch_with_request(Request::new_with_init("https://live/publish", &init)?)
        .await?;
    Ok(())
}

/// A `messages` event: lines of one conversation, as clients render them.
pub fn messages_event(session_id: &str, lines: &[(&str, LineRole, &str, i64)]) -> Event {
    Event::Messages {
        session_id: session_id.to_owned(),
        messages: lines
            .iter()
            .map(|(id, role, text, at)| Line {
                id: (*id).to_owned(),
                role: *role,
                text: (*text).to_owned(),
                created_at: *at,
            })
            .collect(),
    }
}

fn require_upgrade(req: &Request) -> ApiResult<()> {
    let upgrade = req.headers().get("upgrade")?.unwrap_or_default();
    if upgrade.eq_ignore_ascii_case("websocket") {
        Ok(())
    } else {
        Err(ApiError::UpgradeRequired)
    }
}

const NO_CONVERSATION: ApiError =
    ApiError::NotFound("No conversation with this session_id in this workspace.");

/// `GET /api/sdk/conversations/:session_id/live?key=ab_live_…&user_id=&user_token=`
/// (WebSocket): the widget's live connection to its conversation. Browsers cannot set headers
/// on a WebSocket, so the publishable key comes in the query string; the session id names the
/// conversation, and a user's conversation also needs their id (and token, under identity
/// verification).
pub async fn widget_socket(req: &Request, b: &Bindings, session_id: &str) -> ApiResult<Response> {
    let env = &b.env;
    require_upgrade(req)?;
    let key = query_param(req, "key");
    let key = WidgetKey::parse(key.as_deref().unwrap_or(""))?;
    let db = &b.db;
    let (ws, _) = auth::widget_workspace(req, db, &key_hash(key.as_str()), None, None).await?;
    let c = store::conversation_by_session(db, Scope::Org(&ws.id), session_id)
        .await?
        .ok_or(NO_CONVERSATION)?;
    owner_check(req, &ws, &c)?;
    Ok(connect(
        env,
        &conversation_room(&ws.id, session_id),
        Audience::Widget,
        None,
    )
    .await?)
}

/// A user's conversation is theirs alone: `user_id` (and `user_token` when the workspace
/// verifies identities) come in the query string.
fn owner_check(req: &Request, ws: &store::Workspace, c: &store::Conversation) -> ApiResult<()> {
    crate::auth::widget_may_use(
        ws,
        c,
        query_param(req, "user_id").as_deref(),
        query_param(req, "user_token").as_deref(),
    )
}

/// `GET /api/inbox/live?token=tm_live_…` (WebSocket; or the console's session cookie): every
/// conversation's events in the teammate's workspace, as they happen.
pub async fn feed_socket(req: &Request, b: &Bindings) -> ApiResult<Response> {
    let env = &b.env;
    require_upgrade(req)?;
    let (tm, session) = teammate_from_query(req, &b.db).await?;
    let seat = Seat {
        teammate: &tm,
        session,
        quiet: true,
    };
    Ok(connect(env, &feed_room(&tm.org_id), Audience::Team, Some(&seat)).await?)
}

/// `GET /api/inbox/conversations/:session_id/live?token=tm_live_…` (WebSocket): one
/// conversation's events, and which other teammates have it open or are replying.
pub async fn inbox_socket(req: &Request, b: &Bindings, session_id: &str) -> ApiResult<Response> {
    let env = &b.env;
    require_upgrade(req)?;
    let (tm, session) = teammate_from_query(req, &b.db).await?;
    let db = &b.db;
    store::conversation_by_session(db, Scope::Org(&tm.org_id), session_id)
        .await?
        .ok_or(NO_CONVERSATION)?;
    let seat = Seat {
        teammate: &tm,
        session,
        quiet: false,
    };
    Ok(connect(
        env,
        &conversation_room(&tm.org_id, session_id),
        Audience::Team,
        Some(&seat),
    )
    .await?)
}

/// `GET /api/inbox/tickets/:id/live` (WebSocket): a ticket's room, for the teammates who have
/// it open (its conversation's room when it came from one, so the conversation's lines come
/// too).
pub async fn ticket_socket(req: &Request, b: &Bindings, ticket_id: &str) -> ApiResult<Response> {
    require_upgrade(req)?;
    let (tm, session) = teammate_from_query(req, &b.db).await?;
    let ticket = store::tickets::ticket(&b.db, &tm.org_id, ticket_id)
        .await?
        .ok_or(ApiError::NotFound(
            "No ticket with this id in this workspace.",
        ))?;
    let room = match &ticket.session_id {
        Some(session) => conversation_room(&tm.org_id, session),
        None => format!("ticket:{}:{ticket_id}", tm.org_id),
    };
    let seat = Seat {
        teammate: &tm,
        session,
        quiet: false,
    };
    Ok(connect(&b.env, &room, Audience::Team, Some(&seat)).await?)
}

/// The teammate a socket is for, by the `token` in its query string, or (the console) by its
/// session cookie from the console's own origin; with the session's hash then.
async fn teammate_from_query(
    req: &Request,
    db: &worker::D1Database,
) -> ApiResult<(teammates::Teammate, Option<String>)> {
    let token = query_param(req, "token");
    if token.is_none() {
        if let Some(cookie) = crate::auth::session_cookie(req) {
            let tm = crate::auth::session_teammate(req, db).await?;
            return Ok((tm, Some(key_hash(&cookie))));
        }
    }
    let token = TeammateToken::parse(token.as_deref().unwrap_or(""))?;
    let tm = teammates::by_token_hash(db, &key_hash(token.as_str()))
        .await?
        .ok_or(ApiError::Unauthorized("Unknown inbox token."))?;
    Ok((tm, None))
}

/// Most lines one catch-up read returns.
const MAX_UPDATES: u32 = 100;

/// `GET /api/sdk/conversations/:session_id/updates?after=<ms>&user_id=&user_token=` (widget
/// key): the teammate and system lines written after `after`, so a widget that was closed,
/// reloaded or disconnected catches up on what the live connection would have shown.
pub async fn widget_updates(req: &Request, b: &Bindings, session_id: &str) -> ApiResult<Response> {
    let hash = auth::widget_key_hash(req)?;
    let after = match query_param(req, "after") {
        None => 0,
        Some(a) => a.parse::<i64>().ok().filter(|a| *a >= 0).ok_or_else(|| {
            ApiError::Field(halo_shared::chat::FieldError::new(
                "after",
                halo_shared::chat::InvalidField::Invalid("must be a timestamp in milliseconds"),
            ))
        })?,
    };
    let db = &b.db;
    let (ws, _) = auth::widget_workspace(req, db, &hash, None, None).await?;
    let user = query_param(req, "user_id");
    crate::gate::admit_widget(
        &b.env,
        req,
        &ws,
        crate::gate::Kind::Call,
        user.as_deref(),
        Some(session_id),
    )
    .await?;
    let c = store::conversation_by_session(db, Scope::Org(&ws.id), session_id)
        .await?
        .ok_or(NO_CONVERSATION)?;
    owner_check(req, &ws, &c)?;
    let lines = teammates::lines_after(db, &ws.id, &c.id, after, MAX_UPDATES).await?;
    // Stored lines carry a role the store wrote; one it does not know is not shown.
    let messages: Vec<Line> = lines
        .into_iter()
        .filter_map(|l| {
            Some(Line {
                role: LineRole::parse(&l.role)?,
                id: l.id,
                text: l.body,
                created_at: l.created_at,
            })
        })
        .collect();
    let mut resp = json_response(
        &json!({ "session_id": session_id, "taken_over": c.taken_over_by.is_some(), "messages": messages }),
        200,
    );
    auth::cors_for(&ws, req, &mut resp)?;
    Ok(resp)
}
