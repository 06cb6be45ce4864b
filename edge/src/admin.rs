//! The operator's workspace API, guarded by the `ADMIN_TOKEN` secret.

use halo_shared::admin::{NewWorkspace, WorkspaceUpdate};
use halo_shared::chat::{bounded_string, FieldError, InvalidField};
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

fn workspace_json(ws: &Workspace) -> serde_json::Value {
    json!({
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
            widget_key_hash: &key_hash(widget_key.as_str()),
            secret_key_hash: &key_hash(secret_key.as_str()),
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
    json_ok(&workspace_json(&existing(&b.db, id).await?))
}

/// `PATCH /api/admin/workspaces/:id`: renames or sets the allowed origins.
pub async fn update_workspace(req: &mut Request, b: &Bindings, id: &str) -> ApiResult<Response> {
    let env = &b.env;
    require_admin(req, env)?;
    let update = WorkspaceUpdate::parse(&read_json(req).await?)?;
    let current = existing(&b.db, id).await?;
    let webhooks = update.webhooks.as_ref().map(|changes| {
        let mut hooks = halo_shared::webhooks::from_stored(Some(current.webhooks.expose()));
        for (action, hook) in changes {
            match hook {
                Some(h) => hooks.insert(action.clone(), h.clone()),
                None => hooks.remove(action),
            };
        }
        json!(hooks).to_string()
    });
    let origins = update
        .allowed_origins
        .map(|o| o.map(|list| json!(list).to_string()));
    let db = &b.db;
    let routing = update.routing.as_ref().map(|r| json!(r).to_string());
    store::update_workspace(
        db,
        id,
        update.name.as_deref(),
        origins,
        routing,
        update.escalation_threshold,
        webhooks,
    )
    .await?;
    if let Some(on) = update.identity_verification {
        store::set_identity_verification(db, id, on).await?;
    }

    json_ok(&workspace_json(&existing(&b.db, id).await?))
}

/// `POST /api/admin/workspaces/:id/teammates` `{ name, email? }`: adds a teammate and returns
/// their inbox token, this once only.
pub async fn create_teammate(req: &mut Request, b: &Bindings, org_id: &str) -> ApiResult<Response> {
    let env = &b.env;
    require_admin(req, env)?;
    let body = read_json(req).await?;
    let name = match body.get("name").filter(|v| !v.is_null()) {
        None => {
            return Err(ApiError::Field(FieldError {
                field: "name".into(),
                kind: InvalidField::Missing,
            }))
        }
        Some(v) => bounded_string("name", v, 200)?,
    };
    if name.trim().is_empty() {
        return Err(ApiError::Field(FieldError {
            field: "name".into(),
            kind: InvalidField::Empty,
        }));
    }
    let email = body
        .get("email")
        .filter(|v| !v.is_null())
        .map(|v| bounded_string("email", v, 320))
        .transpose()?;
    existing(&b.db, org_id).await?;
    let id = new_id();
    let token = TeammateToken::from_random(&random_bytes());
    store::teammates::insert(
        &b.db,
        org_id,
        &id,
        name.trim(),
        email.as_deref(),
        &key_hash(token.as_str()),
    )
    .await?;
    Ok(json_response(
        &json!({ "teammate_id": id, "name": name.trim(), "token": token.as_str() }),
        201,
    ))
}
