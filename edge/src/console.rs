//! The console's own endpoints (`/api/console/...`): sign-in with email and password,
//! one-time links (invites, sign-in links), sessions in an `HttpOnly` cookie, and the team
//! (invite, change a role, remove). The inbox itself is the inbox API, which takes the same
//! session cookie.

use halo_shared::console::{
    self, link_state, new_password, presented_password, role_field, team_change, teammate_name,
    Email, InviteView, Invited, LinkKind, LinkState, Me, Role, TeamChange, WorkspaceRef,
};
use halo_shared::keys::{LinkToken, SessionToken, TeammateToken};
use serde_json::{json, Value};
use worker::{D1Database, Request, Response};

use crate::auth;
use crate::error::{ApiError, ApiResult};
use crate::http::{authorization, json_response, read_json};
use crate::password;
use crate::platform::{key_hash, new_id, now_ms, random_bytes, Bindings};
use crate::store::{self, console as team_store, teammates::Teammate};

const NO_TEAMMATE: ApiError = ApiError::NotFound("No teammate with this id in this workspace.");
const NO_LINK: ApiError = ApiError::NotFound("No such link.");

/// The origin (`scheme://host:port`) the request was made to: links point back at it.
fn own_origin(req: &Request) -> ApiResult<String> {
    Ok(req.url()?.origin().ascii_serialization())
}

/// Refuses a sign-in posted from another site (login CSRF); a caller without `Origin` (not a
/// browser) may sign in.
fn same_origin_or_none(req: &Request) -> ApiResult<()> {
    match req.headers().get("origin")? {
        Some(o) if o != own_origin(req)? => Err(ApiError::Forbidden {
            code: "cross_origin",
            message: "Sign in from the console's own origin.",
        }),
        _ => Ok(()),
    }
}

/// A new one-time link for a teammate: its full URL and expiry.
pub async fn issue_link(
    db: &D1Database,
    origin: &str,
    org: &str,
    teammate_id: &str,
    kind: LinkKind,
) -> ApiResult<(String, i64)> {
    let token = LinkToken::from_random(&random_bytes());
    let expires_at = now_ms() + kind.ttl_ms();
    team_store::create_link(
        db,
        org,
        teammate_id,
        kind,
        &key_hash(token.as_str()),
        expires_at,
    )
    .await?;
    Ok((format!("{origin}{}", kind.path(token.as_str())), expires_at))
}

/// Starts a session for the teammate: the answer `body` with `status`, carrying the cookie.
async fn signed_in(
    db: &D1Database,
    org: &str,
    teammate_id: &str,
    status: u16,
) -> ApiResult<Response> {
    let token = SessionToken::from_random(&random_bytes());
    let now = now_ms();
    team_store::create_session(
        db,
        org,
        teammate_id,
        &key_hash(token.as_str()),
        now,
        now + console::SESSION_TTL_MS,
    )
    .await?;
    let me = me_of(db, org, teammate_id).await?;
    let mut resp = json_response(&me, status);
    resp.headers_mut()
        .set("set-cookie", &console::session_cookie(token.as_str()))?;
    Ok(resp)
}

async fn me_of(db: &D1Database, org: &str, teammate_id: &str) -> ApiResult<Me> {
    let tm = team_store::teammate(db, org, teammate_id)
        .await?
        .ok_or(NO_TEAMMATE)?;
    let ws = store::workspace_by_id(db, org)
        .await?
        .ok_or(ApiError::Internal(
            "a teammate's workspace is missing".into(),
        ))?;
    Ok(Me {
        teammate: tm.view(),
        workspace: WorkspaceRef {
            id: ws.id,
            name: ws.name,
        },
    })
}

/// `POST /api/console/signin` `{ email, password }`: a session cookie and who signed in.
/// Five failures in 15 minutes for one email, or from one address, make further tries 429.
pub async fn sign_in(req: &mut Request, b: &Bindings) -> ApiResult<Response> {
    let db = &b.db;
    same_origin_or_none(req)?;
    let body = read_json(req).await?;
    let email = Email::parse("email", body.get("email"))?;
    let password = presented_password("password", body.get("password"))?;
    let ip = req
        .headers()
        .get("cf-connecting-ip")?
        .unwrap_or_else(|| "unknown".into());
    let (email_key, ip_key) = (
        format!("email:{}", email.as_str()),
        format!("ip:{}", console::address_key(&ip)),
    );
    let keys = [email_key.as_str(), ip_key.as_str()];
    let now = now_ms();
    // The try is written first, so that tries made at the same moment count each other.
    let attempt = new_id();
    team_store::record_attempt(db, &keys, now, &attempt).await?;
    let earlier = team_store::failures(db, &keys, now, &attempt).await?;
    if let Some(retry_after) = earlier
        .iter()
        .filter_map(|f| console::throttled(f, now))
        .max()
    {
        // A refused try checks nothing, so it is not kept as one.
        team_store::forget_attempt(db, &attempt).await?;
        return Err(ApiError::RateLimited {
            message: "Too many failed sign-ins: wait a few minutes and try again.",
            retry_after,
        });
    }
    let candidates = team_store::by_email(db, email.as_str()).await?;
    let mut signed = None;
    for tm in candidates.iter().filter(|t| t.password_hash.is_some()) {
        if password::verify(&password, tm.password_hash.as_deref())
            .await
            .map_err(ApiError::Internal)?
        {
            signed = Some(tm);
            break;
        }
    }
    let Some(tm) = signed else {
        if candidates.iter().all(|t| t.password_hash.is_none()) {
            // The same work as a real check, so timing does not tell who has an account.
            password::verify(&password, None)
                .await
                .map_err(ApiError::Internal)?;
        }
        // The try stays written: it is a failure.
        return Err(ApiError::Unauthorized("Wrong email or password."));
    };
    // A success is not a failure; earlier failures still count until they age out, so
    // signing in to an account of one's own cannot reset the count for an email.
    team_store::forget_attempt(db, &attempt).await?;
    signed_in(db, &tm.org_id, &tm.id, 200).await
}

/// `POST /api/console/signout` `{ everywhere? }`: ends this session (or every session of the
/// teammate) and clears the cookie.
pub async fn sign_out(req: &mut Request, b: &Bindings) -> ApiResult<Response> {
    let db = &b.db;
    let tm = auth::session_teammate(req, db).await?;
    let body = read_json(req).await?;
    let everywhere = match body.get("everywhere") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(halo_shared::chat::FieldError::new(
                "everywhere",
                halo_shared::chat::InvalidField::WrongType {
                    expected: "a boolean",
                },
            )
            .into())
        }
    };
    let cookie = auth::session_cookie(req).unwrap_or_default();
    let hash = key_hash(&cookie);
    team_store::end_session(db, &tm, &hash, everywhere).await?;
    // Its open live feed closes too (every one of the teammate's, signing out everywhere).
    let session = (!everywhere).then_some(hash.as_str());
    crate::live::disconnect(&b.env, &tm.org_id, &tm.id, session).await;
    let mut resp = json_response(
        &json!({ "signed_out": true, "everywhere": everywhere }),
        200,
    );
    resp.headers_mut()
        .set("set-cookie", &console::cleared_cookie())?;
    Ok(resp)
}

/// `GET /api/console/me`: the signed-in teammate and their workspace.
/// With the session cookie, the cookie is set again: the console reads this on every load,
/// so the browser's copy lasts 14 days from the last visit, as the stored session does.
pub async fn get_me(req: &Request, b: &Bindings) -> ApiResult<Response> {
    let tm = auth::teammate(req, &b.db).await?;
    let mut resp = json_response(&me_of(&b.db, &tm.org_id, &tm.id).await?, 200);
    if authorization(req).is_none() {
        if let Some(cookie) = auth::session_cookie(req) {
            resp.headers_mut()
                .set("set-cookie", &console::session_cookie(&cookie))?;
        }
    }
    Ok(resp)
}

/// A link of `kind` by the token in its URL, if it can still be used (404 for an unknown or
/// malformed token, 410 for a used or expired one).
async fn usable_link(
    db: &D1Database,
    token: &str,
    kind: LinkKind,
) -> ApiResult<(String, team_store::Link)> {
    let token = LinkToken::parse(token).map_err(|_| NO_LINK)?;
    let hash = key_hash(token.as_str());
    let link = team_store::link(db, &hash)
        .await?
        .filter(|l| l.kind == kind.as_str())
        .ok_or(NO_LINK)?;
    match link_state(link.expires_at, link.used_at, now_ms()) {
        LinkState::Valid => Ok((hash, link)),
        LinkState::Used => Err(ApiError::Gone {
            code: "link_used",
            message: "This link was already used. Ask for a new one.",
        }),
        LinkState::Expired => Err(ApiError::Gone {
            code: "link_expired",
            message: "This link has expired. Ask for a new one.",
        }),
    }
}

/// Marks a link used, or 410 when another request used it first.
async fn consume(db: &D1Database, hash: &str) -> ApiResult<()> {
    if team_store::use_link(db, hash, now_ms()).await? {
        Ok(())
    } else {
        Err(ApiError::Gone {
            code: "link_used",
            message: "This link was already used. Ask for a new one.",
        })
    }
}

/// `GET /api/console/invites/:token`: the invite's email, role and workspace.
pub async fn get_invite(_req: &Request, b: &Bindings, token: &str) -> ApiResult<Response> {
    let db = &b.db;
    let (_, link) = usable_link(db, token, LinkKind::Invite).await?;
    let tm = team_store::teammate(db, &link.org_id, &link.teammate_id)
        .await?
        .ok_or(NO_LINK)?;
    let me = me_of(db, &link.org_id, &tm.id).await?;
    let view = InviteView {
        email: tm.email.clone(),
        role: tm.role(),
        workspace: me.workspace,
    };
    Ok(json_response(&view, 200))
}

/// `POST /api/console/invites/:token` `{ name, password }`: the invited teammate sets their
/// name and password and is signed in. The link works once.
pub async fn accept_invite(req: &mut Request, b: &Bindings, token: &str) -> ApiResult<Response> {
    let db = &b.db;
    same_origin_or_none(req)?;
    let body = read_json(req).await?;
    let name = teammate_name("name", body.get("name"))?;
    let password = new_password("password", body.get("password"))?;
    let (hash, link) = usable_link(db, token, LinkKind::Invite).await?;
    let stored = password::hash(&password)
        .await
        .map_err(ApiError::Internal)?;
    consume(db, &hash).await?;
    team_store::set_profile(db, &link.org_id, &link.teammate_id, &name, &stored)?
        .run()
        .await?;
    signed_in(db, &link.org_id, &link.teammate_id, 201).await
}

/// `POST /api/console/links/:token`: a one-time sign-in link signs its teammate in.
pub async fn use_signin_link(req: &Request, b: &Bindings, token: &str) -> ApiResult<Response> {
    let db = &b.db;
    same_origin_or_none(req)?;
    let (hash, link) = usable_link(db, token, LinkKind::SignIn).await?;
    consume(db, &hash).await?;
    signed_in(db, &link.org_id, &link.teammate_id, 200).await
}

/// `POST /api/console/password` `{ current?, password }`: the signed-in teammate sets a new
/// password; `current` is required once they have one. Their other sessions end.
pub async fn set_password(req: &mut Request, b: &Bindings) -> ApiResult<Response> {
    let db = &b.db;
    let tm = auth::session_teammate(req, db).await?;
    let body = read_json(req).await?;
    let password = new_password("password", body.get("password"))?;
    let row = team_store::teammate(db, &tm.org_id, &tm.id)
        .await?
        .ok_or(NO_TEAMMATE)?;
    if row.password_hash.is_some() {
        let current = presented_password("current", body.get("current"))?;
        if !password::verify(&current, row.password_hash.as_deref())
            .await
            .map_err(ApiError::Internal)?
        {
            return Err(ApiError::Forbidden {
                code: "wrong_password",
                message: "The current password is not right.",
            });
        }
    }
    let stored = password::hash(&password)
        .await
        .map_err(ApiError::Internal)?;
    let this = key_hash(&auth::session_cookie(req).unwrap_or_default());
    db.batch(vec![
        team_store::set_profile(db, &tm.org_id, &tm.id, &tm.name, &stored)?,
        team_store::end_other_sessions(db, &tm.org_id, &tm.id, &this)?,
    ])
    .await?;
    Ok(json_response(&json!({ "password_set": true }), 200))
}

/// `GET /api/console/teammates`: the workspace's teammates (for assigning, and the team page).
pub async fn list_teammates(req: &Request, b: &Bindings) -> ApiResult<Response> {
    let tm = auth::teammate(req, &b.db).await?;
    let team = team_store::team(&b.db, &tm.org_id).await?;
    let views: Vec<_> = team.iter().map(team_store::TeammateRow::view).collect();
    Ok(json_response(&json!({ "teammates": views }), 200))
}

fn refused(e: TeamChange) -> ApiError {
    ApiError::Forbidden {
        code: match e {
            TeamChange::NotAManager | TeamChange::OwnersOnly => "role_forbidden",
            TeamChange::LastOwner => "last_owner",
        },
        message: match e {
            TeamChange::NotAManager => "Only owners and admins manage teammates.",
            TeamChange::OwnersOnly => "Only an owner can make, change or remove an owner.",
            TeamChange::LastOwner => "A workspace keeps at least one owner.",
        },
    }
}

/// Adds a teammate who has not signed in yet and returns their invite link. Their inbox
/// token is a random one nobody is shown: they work through the console.
pub async fn add_invited(
    db: &D1Database,
    origin: &str,
    org: &str,
    email: &Email,
    name: &str,
    role: Role,
) -> ApiResult<Invited> {
    if team_store::email_taken(db, org, email.as_str()).await? {
        return Err(ApiError::Conflict {
            code: "teammate_exists",
            message: "A teammate with this email is already in the workspace.",
        });
    }
    let id = new_id();
    let unshown = TeammateToken::from_random(&random_bytes());
    let new = store::teammates::NewTeammate {
        id: &id,
        name,
        email: Some(email.as_str()),
        role,
        token_hash: &key_hash(unshown.as_str()),
    };
    store::teammates::insert(db, org, &new).await?;
    let (invite_url, expires_at) = issue_link(db, origin, org, &id, LinkKind::Invite).await?;
    let teammate = team_store::teammate(db, org, &id)
        .await?
        .ok_or(ApiError::Internal("the new teammate is missing".into()))?
        .view();
    Ok(Invited {
        teammate,
        invite_url,
        expires_at,
    })
}

/// `POST /api/console/teammates` `{ email, role?, name? }` (owners and admins): invites a
/// teammate; the answer has the one-time invite link (valid 7 days) to pass on.
pub async fn invite_teammate(req: &mut Request, b: &Bindings) -> ApiResult<Response> {
    let db = &b.db;
    let actor = auth::teammate(req, db).await?;
    let body = read_json(req).await?;
    let email = Email::parse("email", body.get("email"))?;
    let role = role_field("role", body.get("role"), Role::Agent)?;
    let name = match body.get("name").filter(|v| !v.is_null()) {
        Some(v) => teammate_name("name", Some(v))?,
        None => email.as_str().split('@').next().unwrap_or("").to_owned(),
    };
    if !actor.role().manages_team() {
        return Err(refused(TeamChange::NotAManager));
    }
    if !actor.role().may_assign(None, role) {
        return Err(refused(TeamChange::OwnersOnly));
    }
    let origin = own_origin(req)?;
    let invited = add_invited(db, &origin, &actor.org_id, &email, &name, role).await?;
    Ok(json_response(&invited, 201))
}

/// The target of a team change and how many owners the workspace has.
async fn target(
    db: &D1Database,
    actor: &Teammate,
    id: &str,
) -> ApiResult<(team_store::TeammateRow, usize)> {
    let target = team_store::teammate(db, &actor.org_id, id)
        .await?
        .ok_or(NO_TEAMMATE)?;
    Ok((target, team_store::owners(db, &actor.org_id).await?))
}

/// `PATCH /api/console/teammates/:id` `{ role }` (owners and admins).
pub async fn update_teammate(req: &mut Request, b: &Bindings, id: &str) -> ApiResult<Response> {
    let db = &b.db;
    let actor = auth::teammate(req, db).await?;
    let body = read_json(req).await?;
    if body.get("role").is_none_or(Value::is_null) {
        return Err(halo_shared::chat::FieldError::new(
            "role",
            halo_shared::chat::InvalidField::Missing,
        )
        .into());
    }
    let role = role_field("role", body.get("role"), Role::Agent)?;
    let (target, owners) = target(db, &actor, id).await?;
    team_change(actor.role(), target.role(), Some(role), owners).map_err(refused)?;
    if !team_store::set_role(db, &actor.org_id, id, role).await? {
        // Another change took the workspace's other owner meanwhile.
        return Err(refused(TeamChange::LastOwner));
    }
    let updated = team_store::teammate(db, &actor.org_id, id)
        .await?
        .ok_or(NO_TEAMMATE)?;
    Ok(json_response(&json!({ "teammate": updated.view() }), 200))
}

/// `DELETE /api/console/teammates/:id` (owners and admins): the teammate's sessions, links
/// and inbox token stop working.
pub async fn remove_teammate(req: &Request, b: &Bindings, id: &str) -> ApiResult<Response> {
    let db = &b.db;
    let actor = auth::teammate(req, db).await?;
    let (target, owners) = target(db, &actor, id).await?;
    team_change(actor.role(), target.role(), None, owners).map_err(refused)?;
    if !team_store::remove(db, &actor.org_id, id, now_ms()).await? {
        return Err(refused(TeamChange::LastOwner));
    }
    crate::live::disconnect(&b.env, &actor.org_id, id, None).await;
    Ok(json_response(&json!({ "id": id, "removed": true }), 200))
}
