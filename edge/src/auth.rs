//! Who is calling: a browser with the publishable widget key, the customer's backend with the
//! secret server key, or the operator with the admin token. Each returns the one workspace
//! (or permission) the credential proves, so handlers cannot forget to scope a query.

use halo_shared::console;
use halo_shared::identity::{verify_with_any, TrustedClaims};
use halo_shared::keys::{
    bearer, constant_time_eq, SecretKey, SessionToken, TeammateToken, WidgetKey,
};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use worker::{D1Database, Env, Request};

use crate::error::{ApiError, ApiResult};
use crate::http::authorization;
use crate::platform::setting;
use crate::platform::{key_hash, now_ms};
use crate::store::{self, Agent, Conversation, Workspace};

/// The hash of the publishable widget key a request presents (a missing or malformed key is
/// 401). The store resolves it to a workspace; an unknown key is 401 there.
pub fn widget_key_hash(req: &Request) -> ApiResult<String> {
    let header = authorization(req);
    let key = WidgetKey::parse(bearer(header.as_deref())?)?;
    Ok(key_hash(key.as_str()))
}

/// A widget call's workspace (and agent) as the store found them for its key: 401 for an
/// unknown key, 403 for a page origin the workspace does not allow.
pub fn widget_caller(
    req: &Request,
    found: Option<(Workspace, Option<Agent>)>,
) -> ApiResult<(Workspace, Option<Agent>)> {
    let (ws, agent) = found.ok_or(ApiError::Unauthorized("Unknown widget key."))?;
    check_origin(&ws, req)?;
    Ok((ws, agent))
}

/// The workspace of the widget key hashed as `hash` (see [`widget_caller`]), with its agent
/// for `agent_id`, or else for `channel`.
pub async fn widget_workspace(
    req: &Request,
    db: &D1Database,
    hash: &str,
    agent_id: Option<&str>,
    channel: Option<&str>,
) -> ApiResult<(Workspace, Option<Agent>)> {
    let found = store::workspace_and_agent_by_widget_key(db, hash, agent_id, channel).await?;
    widget_caller(req, found)
}

/// The workspace a secret server key belongs to. A widget key here is refused: a key that is
/// published in web pages must never unlock server endpoints.
pub async fn secret_workspace(req: &Request, db: &D1Database) -> ApiResult<Workspace> {
    let header = authorization(req);
    let token = bearer(header.as_deref())?;
    if WidgetKey::parse(token).is_ok() {
        return Err(ApiError::Forbidden {
            code: "secret_key_required",
            message: "This endpoint needs the secret server key; the publishable widget key cannot call it.",
        });
    }
    let key = SecretKey::parse(token)?;
    store::workspace_by_secret_key(db, &key_hash(key.as_str()))
        .await?
        .ok_or(ApiError::Unauthorized("Unknown secret key."))
}

/// The teammate an inbox token or a console session cookie belongs to (401 for anything
/// else, keys of any kind included).
pub async fn teammate(req: &Request, db: &D1Database) -> ApiResult<store::teammates::Teammate> {
    let header = authorization(req);
    if header.is_none() && session_cookie(req).is_some() {
        return session_teammate(req, db).await;
    }
    let token = TeammateToken::parse(bearer(header.as_deref())?)?;
    store::teammates::by_token_hash(db, &key_hash(token.as_str()))
        .await?
        .ok_or(ApiError::Unauthorized("Unknown inbox token."))
}

/// Who may work a workspace's tickets and contacts: its backend (secret key) or one of its
/// teammates (inbox token). Returns the workspace id and the teammate, if it is one.
pub async fn team_member(
    req: &Request,
    db: &D1Database,
) -> ApiResult<(String, Option<store::teammates::Teammate>)> {
    let header = authorization(req);
    if header.is_none() && session_cookie(req).is_some() {
        let tm = session_teammate(req, db).await?;
        return Ok((tm.org_id.clone(), Some(tm)));
    }
    if TeammateToken::parse(bearer(header.as_deref())?).is_ok() {
        let tm = teammate(req, db).await?;
        return Ok((tm.org_id.clone(), Some(tm)));
    }
    Ok((secret_workspace(req, db).await?.id, None))
}

/// The console session cookie a request carries, if any.
pub fn session_cookie(req: &Request) -> Option<String> {
    let header = req.headers().get("cookie").ok().flatten();
    console::cookie(header.as_deref(), console::SESSION_COOKIE).map(str::to_owned)
}

/// The teammate whose console session the request's cookie holds: 401 when there is none or
/// it has ended, 403 when a request that changes something (or opens a WebSocket) comes from
/// another origin than the console's own. A live session's expiry slides forward.
pub async fn session_teammate(
    req: &Request,
    db: &D1Database,
) -> ApiResult<store::teammates::Teammate> {
    let cookie = session_cookie(req).ok_or(ApiError::Unauthorized("Sign in first."))?;
    let websocket = req
        .headers()
        .get("upgrade")?
        .is_some_and(|u| u.eq_ignore_ascii_case("websocket"));
    let origin = req.headers().get("origin")?;
    let url = req.url()?.to_string();
    if !console::cookie_request_allowed(req.method().as_ref(), websocket, origin.as_deref(), &url) {
        return Err(ApiError::Forbidden {
            code: "cross_origin",
            message: "A signed-in request that changes something must come from the console's own origin.",
        });
    }
    let ended = ApiError::Unauthorized("The session has ended: sign in again.");
    let token = SessionToken::parse(&cookie).map_err(|_| ended.clone())?;
    let hash = key_hash(token.as_str());
    let (tm, expires_at) = store::console::session(db, &hash)
        .await?
        .ok_or(ended.clone())?;
    match console::session_renewal(expires_at, now_ms()) {
        None => Err(ended),
        Some(renewed) => {
            if let Some(at) = renewed {
                store::console::renew_session(db, &hash, at).await?;
            }
            Ok(tm)
        }
    }
}

/// What a workspace-settings call does: reads are for every teammate, changes for owners
/// and admins.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

/// The workspace whose settings (knowledge, attributes) a call works on: the secret key's,
/// or a teammate's (inbox token or console session) when their role allows `access`.
pub async fn settings_workspace(
    req: &Request,
    db: &D1Database,
    access: Access,
) -> ApiResult<String> {
    let (org, tm) = team_member(req, db).await?;
    if access == Access::Write && tm.is_some_and(|t| !t.role().manages_team()) {
        return Err(ApiError::Forbidden {
            code: "role_forbidden",
            message: "Only owners and admins change the workspace's settings.",
        });
    }
    Ok(org)
}

/// Checks the operator's `ADMIN_TOKEN`. Compared as SHA-256 digests in constant time so that
/// neither the length nor a prefix of the token leaks through timing.
pub fn require_admin(req: &Request, env: &Env) -> ApiResult<()> {
    let expected = setting(env, "ADMIN_TOKEN").ok_or(ApiError::NotConfigured(
        "The admin API is disabled: set the ADMIN_TOKEN secret (wrangler secret put ADMIN_TOKEN).",
    ))?;
    let header = authorization(req);
    let presented = bearer(header.as_deref())?;
    if constant_time_eq(
        &Sha256::digest(presented.as_bytes()),
        &Sha256::digest(expected.as_bytes()),
    ) {
        Ok(())
    } else {
        Err(ApiError::Unauthorized("Wrong admin token."))
    }
}

/// Refuses (403) a browser whose origin may not use this workspace's widget key.
pub fn check_origin(ws: &Workspace, req: &Request) -> ApiResult<()> {
    let origin = req.headers().get("origin")?;
    if origin_allowed(ws, origin.as_deref()) {
        Ok(())
    } else {
        Err(ApiError::Forbidden {
            code: "origin_not_allowed",
            message: "This site's origin is not in the workspace's allowed origins.",
        })
    }
}

/// The CORS header of a widget-key answer: any origin by default (never with credentials),
/// or the caller's own origin when the workspace lists its allowed origins.
pub fn cors_for(ws: &Workspace, req: &Request, resp: &mut worker::Response) -> ApiResult<()> {
    let headers = resp.headers_mut();
    match (ws.allowed_origins(), req.headers().get("origin")?) {
        (Some(_), Some(o)) => {
            headers.set("access-control-allow-origin", &o)?;
            headers.set("vary", "Origin")?;
        }
        _ => headers.set("access-control-allow-origin", "*")?,
    }
    Ok(())
}

/// Whether a browser at `origin` may use this workspace's widget key. `None` (no `Origin`
/// header) is a server-side caller, which CORS does not concern.
pub fn origin_allowed(ws: &Workspace, origin: Option<&str>) -> bool {
    match (ws.allowed_origins(), origin) {
        (None, _) | (_, None) => true,
        (Some(list), Some(o)) => list
            .iter()
            .any(|allowed| allowed == "*" || allowed.eq_ignore_ascii_case(o)),
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

/// Checks a user's identity token. `Ok(Some)` carries the claims a valid token vouches for;
/// `Ok(None)` is an unverified user, allowed only while the workspace does not require
/// verification. Runs before anything is stored, so a refused request changes nothing.
pub fn verify_token(
    ws: &store::Workspace,
    user_id: &str,
    token: Option<&str>,
) -> ApiResult<Option<TrustedClaims>> {
    match token {
        Some(token) => verify_with_any(token, &ws.identity_secrets(), user_id)
            .map(Some)
            .map_err(|e| ApiError::Identity { code: "invalid_user_token", message: format!("The user_token was refused: {e}.") }),
        None if ws.identity_verification != 0 => Err(ApiError::Identity {
            code: "user_token_required",
            message: "This workspace verifies identities: send a user_token signed with the identity secret.".into(),
        }),
        None => Ok(None),
    }
}

/// The company a widget request may use for its user, from the company the page `sent` at
/// `field` and the token's claims ([`halo_shared::identity::vouched_company`]).
pub fn vouched_company(
    ws: &store::Workspace,
    claims: Option<&TrustedClaims>,
    sent: Option<String>,
    field: &str,
) -> (Option<String>, Option<halo_shared::chat::Warning>) {
    halo_shared::identity::vouched_company(
        ws.identity_verification != 0,
        claims.and_then(|c| c.company_id.as_deref()),
        sent,
        field,
    )
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
