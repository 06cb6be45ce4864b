//! The operator's workspace API, guarded by the `ADMIN_TOKEN` secret.

use halo_shared::admin::NewWorkspace;
use halo_shared::console::{self, LinkKind};
use halo_shared::keys::{IdentitySecret, SecretKey, TeammateToken, WidgetKey};
use halo_shared::llm::DEFAULT_INSTRUCTIONS;
use serde_json::json;
use worker::{D1Database, Request, Response};

use crate::auth::require_admin;
use crate::error::{ApiError, ApiResult};
use crate::http::{json_ok, json_response, read_json};
use crate::platform::Bindings;
use crate::platform::{key_hash, new_id, random_bytes};
use crate::store::{self, Workspace};

fn workspace_json(env: &worker::Env, ws: &Workspace) -> serde_json::Value {
    json!({
        "inbound_email": crate::mail::inbound_address(env, &ws.id, ws.inbound_email.as_deref()),
        "org_id": ws.id,
        "name": ws.name,
        "allowed_origins": ws.allowed_origins(),
        "identity_verification": ws.identity_verification != 0,
        "routing": halo_shared::routing::Routing::from_stored(Some(&ws.routing)),
                "escalation_threshold": ws.escalation_threshold,
        "webhooks": halo_shared::webhooks::redacted(&halo_shared::webhooks::from_stored(Some(ws.webhooks.expose()))),
        "created_at": ws.created_at,
    })
}

/// `POST /api/admin/workspaces`: creates a workspace and returns its keys, this once only.
pub async fn create_workspace(req: &mut Request, b: &Bindings) -> ApiResult<Response> {
    let env = &b.env;
    require_admin(req, env)?;
    let new = NewWorkspace::parse(&read_json(req).await?)?;
    let id = new_id();
    let agent_id = new_id();
    let widget_key = WidgetKey::from_random(&random_bytes());
    let secret_key = SecretKey::from_random(&random_bytes());
    let identity_secret = IdentitySecret::from_random(&random_bytes());
    let db = &b.db;
    store::insert_workspace(
        db,
        &store::NewWorkspace {
            id: &id,
            name: &new.name,
            widget_key: widget_key.as_str(),
            secret_key: secret_key.as_str(),
            identity_secret: identity_secret.as_str(),
            allowed_origins: new.allowed_origins.as_ref().map(|o| json!(o).to_string()),
            agent_id: &agent_id,
            agent_instructions: DEFAULT_INSTRUCTIONS,
        },
    )
    .await?;
    Ok(json_response(
        &json!({
            "org_id": id,
            "name": new.name,
            "widget_key": widget_key.as_str(),
            "secret_key": secret_key.as_str(),
            "identity_secret": identity_secret.as_str(),
            "agent_id": agent_id,
            "allowed_origins": new.allowed_origins,
        }),
        201,
    ))
}

async fn existing(db: &D1Database, id: &str) -> ApiResult<Workspace> {
    store::workspace_by_id(db, id)
        .await?
        .ok_or(ApiError::NotFound("No such workspace."))
}

/// `GET /api/admin/workspaces/:id`: the settings, never the keys.
pub async fn get_workspace(req: &Request, b: &Bindings, id: &str) -> ApiResult<Response> {
    let env = &b.env;
    require_admin(req, env)?;
    json_ok(&workspace_json(env, &existing(&b.db, id).await?))
}

/// `PATCH /api/admin/workspaces/:id`: renames or sets the allowed origins.
pub async fn update_workspace(req: &mut Request, b: &Bindings, id: &str) -> ApiResult<Response> {
    let env = &b.env;
    require_admin(req, env)?;
    let body = read_json(req).await?;
    let current = existing(&b.db, id).await?;
    crate::workspace::apply_update(&b.db, &current, &body).await?;

    json_ok(&workspace_json(env, &existing(&b.db, id).await?))
}

/// `POST /api/admin/workspaces/:id/teammates` `{ name, email?, role? }`: adds a teammate and
/// returns their inbox API token, this once only. With an email, also the one-time invite link
/// (valid 7 days) where they set their password for the console: how a workspace gets its
/// first owner (`"role": "owner"`).
pub async fn create_teammate(req: &mut Request, b: &Bindings, org_id: &str) -> ApiResult<Response> {
    let env = &b.env;
    require_admin(req, env)?;
    let body = read_json(req).await?;
    let name = console::teammate_name("name", body.get("name"))?;
    let email = body
        .get("email")
        .filter(|v| !v.is_null())
        .map(|v| console::Email::parse("email", Some(v)))
        .transpose()?;
    let role = console::role_field("role", body.get("role"), console::Role::Agent)?;
    existing(&b.db, org_id).await?;
    if let Some(email) = &email {
        if store::console::email_taken(&b.db, org_id, email.as_str()).await? {
            return Err(ApiError::Conflict {
                code: "teammate_exists",
                message: "A teammate with this email is already in the workspace.",
            });
        }
    }
    let id = new_id();
    let token = TeammateToken::from_random(&random_bytes());
    let new = store::teammates::NewTeammate {
        id: &id,
        name: &name,
        email: email.as_ref().map(console::Email::as_str),
        role,
        token_hash: &key_hash(token.as_str()),
    };
    store::teammates::insert(&b.db, org_id, &new).await?;
    let mut out = json!({ "teammate_id": id, "name": name, "role": role, "token": token.as_str() });
    if email.is_some() {
        let origin = req.url()?.origin().ascii_serialization();
        let (url, expires_at) =
            crate::console::issue_link(&b.db, &origin, org_id, &id, LinkKind::Invite).await?;
        out["invite_url"] = json!(url);
        out["invite_expires_at"] = json!(expires_at);
    }
    Ok(json_response(&out, 201))
}

/// `POST /api/admin/workspaces/:id/teammates/:teammate_id/signin-link`: a one-time link that
/// signs the teammate in to the console (valid a day), e.g. the one `make dev` prints.
pub async fn create_signin_link(
    req: &Request,
    b: &Bindings,
    org_id: &str,
    teammate_id: &str,
) -> ApiResult<Response> {
    require_admin(req, &b.env)?;
    store::console::teammate(&b.db, org_id, teammate_id)
        .await?
        .ok_or(ApiError::NotFound(
            "No teammate with this id in this workspace.",
        ))?;
    let origin = req.url()?.origin().ascii_serialization();
    let (url, expires_at) =
        crate::console::issue_link(&b.db, &origin, org_id, teammate_id, LinkKind::SignIn).await?;
    Ok(json_response(
        &json!({ "url": url, "expires_at": expires_at }),
        201,
    ))
}
