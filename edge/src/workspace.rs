//! A workspace's settings from the console (`/api/console/workspace`): name and origins,
//! identity verification, the widget's look, the setup wizard's progress, routing and
//! webhooks (with a test delivery); its keys and their rotation (`/api/console/keys`); the
//! identity secret, shown on re-entering the password. And the widget's public config
//! (`GET /api/sdk/widget/config`), which the widget reads when it boots.

use futures_util::future::join;
use halo_shared::admin::WorkspaceUpdate;
use halo_shared::appearance::Appearance;
use halo_shared::chat::{FieldError, InvalidField};
use halo_shared::keys::{
    self as key_formats, IdentitySecret, KeyKind, Rotation, SecretKey, WidgetKey,
};
use halo_shared::settings::{InstallCheck, Setup, WorkspaceSettings};
use halo_shared::{console, webhooks};
use serde_json::{json, Value};
use worker::{D1Database, Request, Response};

use crate::auth::{self, Access};
use crate::error::{ApiError, ApiResult};
use crate::http::{json_ok, json_response, query_param, read_json};
use crate::platform::{key_hash, new_id, now_ms, random_bytes, Bindings};
use crate::store::{self, keys, Workspace, WorkspaceChanges};

async fn existing(db: &D1Database, id: &str) -> ApiResult<Workspace> {
    store::workspace_by_id(db, id)
        .await?
        .ok_or(ApiError::NotFound("No such workspace."))
}

/// Checks a settings change and writes it, its JSON documents merged with the stored ones.
/// The admin API and the console change settings through this one function.
pub async fn apply_update(db: &D1Database, current: &Workspace, body: &Value) -> ApiResult<()> {
    let stored_hooks = webhooks::from_stored(Some(current.webhooks.expose()));
    let mut body = body.clone();
    if let Some(patch) = body.get("webhooks").filter(|v| v.is_object()) {
        body["webhooks"] = webhooks::with_kept_secrets(patch, &stored_hooks);
    }
    let update = WorkspaceUpdate::parse(&body)?;
    let hooks = update.webhooks.map(|changes| {
        let mut hooks = stored_hooks;
        for (action, hook) in changes {
            match hook {
                Some(h) => hooks.insert(action, h),
                None => hooks.remove(&action),
            };
        }
        json!(hooks).to_string()
    });
    let appearance = match &update.appearance {
        Some(patch) => Some(
            Appearance::from_stored(Some(&current.appearance))
                .updated(patch)
                .map(|a| json!(a).to_string())?,
        ),
        None => None,
    };
    let setup = match &update.setup {
        Some(patch) => Some(
            Setup::from_stored(Some(&current.setup))
                .updated(patch)
                .map(|s| json!(s).to_string())?,
        ),
        None => None,
    };
    let email = match &update.email {
        Some(patch) => Some(
            halo_shared::settings::EmailSettings::from_stored(Some(&current.email))
                .updated(patch)
                .map(|s| json!(s).to_string())?,
        ),
        None => None,
    };
    let changes = WorkspaceChanges {
        name: update.name,
        allowed_origins: update
            .allowed_origins
            .map(|o| o.map(|list| json!(list).to_string())),
        identity_verification: update.identity_verification,
        routing: update.routing.as_ref().map(|r| json!(r).to_string()),
        escalation_threshold: update.escalation_threshold,
        webhooks: hooks,
        appearance,
        setup,
        email,
        limits: match &update.limits {
            Some(patch) => Some(
                halo_shared::limits::Limits::from_stored(Some(&current.limits))
                    .updated(patch)
                    .map(|l| json!(l).to_string())?,
            ),
            None => None,
        },
    };
    store::update_workspace(db, &current.id, changes).await?;
    Ok(())
}

async fn settings_of(
    env: &worker::Env,
    db: &D1Database,
    org: &str,
) -> ApiResult<WorkspaceSettings> {
    let usage = store::usage::on_day(db, org, halo_shared::limits::day_of(now_ms())).await?;
    let (ws, (verified, widget_key)) = join(
        existing(db, org),
        join(
            store::verified_traffic(db, org),
            keys::current_clear(db, org, KeyKind::Widget),
        ),
    )
    .await;
    let ws = ws?;
    Ok(WorkspaceSettings {
        allowed_origins: ws.allowed_origins(),
        identity_verification: ws.identity_verification != 0,
        verified_traffic: verified?,
        appearance: Appearance::from_stored(Some(&ws.appearance)),
        setup: Setup::from_stored(Some(&ws.setup)),
        install: InstallCheck {
            first_message_at: ws.widget_seen_at,
            first_message_origin: ws.widget_seen_origin.clone(),
        },
        widget_key: widget_key?,
        routing: halo_shared::routing::Routing::from_stored(Some(&ws.routing)),
        webhooks: webhooks::redacted(&webhooks::from_stored(Some(ws.webhooks.expose()))),
        inbound_email: crate::mail::inbound_address(env, org, ws.inbound_email.as_deref()),
        email: {
            let mut e = halo_shared::settings::EmailSettings::from_stored(Some(ws.email.as_str()));
            e.mailgun_signing_key = e.mailgun_signing_key.map(|_| "…".to_owned());
            e
        },
        limits: halo_shared::limits::Limits::from_stored(Some(&ws.limits)),
        usage,
        org_id: ws.id,
        name: ws.name,
    })
}

/// `GET /api/console/workspace`: the settings every teammate reads.
pub async fn get_settings(req: &Request, b: &Bindings) -> ApiResult<Response> {
    let org = auth::settings_workspace(req, &b.db, Access::Read).await?;
    json_ok(&settings_of(&b.env, &b.db, &org).await?)
}

/// `PATCH /api/console/workspace` `{ name?, allowed_origins?, identity_verification?,
/// appearance?, setup?, routing?, escalation_threshold?, webhooks? }` (owners and admins).
pub async fn update_settings(req: &mut Request, b: &Bindings) -> ApiResult<Response> {
    let org = auth::settings_workspace(req, &b.db, Access::Write).await?;
    let body = read_json(req).await?;
    let current = existing(&b.db, &org).await?;
    apply_update(&b.db, &current, &body).await?;
    json_ok(&settings_of(&b.env, &b.db, &org).await?)
}

/// `GET /api/console/keys`: the keys that still work, by their hints.
pub async fn list_keys(req: &Request, b: &Bindings) -> ApiResult<Response> {
    let org = auth::settings_workspace(req, &b.db, Access::Read).await?;
    json_ok(&json!({ "keys": keys::list(&b.db, &org).await? }))
}

/// `POST /api/console/keys` `{ kind, grace_seconds? }` (owners and admins): issues a new key
/// of `kind` and answers it in full, this once; the keys it replaces keep working for the
/// grace period, then stop.
pub async fn rotate_key(req: &mut Request, b: &Bindings) -> ApiResult<Response> {
    let org = auth::settings_workspace(req, &b.db, Access::Write).await?;
    let rotation = Rotation::parse(&read_json(req).await?)?;
    let bytes = random_bytes();
    let value = match rotation.kind {
        KeyKind::Widget => WidgetKey::from_random(&bytes).as_str().to_owned(),
        KeyKind::Secret => SecretKey::from_random(&bytes).as_str().to_owned(),
        KeyKind::Identity => IdentitySecret::from_random(&bytes).as_str().to_owned(),
    };
    let now = now_ms();
    let grace_until = now + (rotation.grace_seconds as i64) * 1000;
    let key = keys::NewKey {
        kind: rotation.kind,
        value: &value,
    };
    keys::rotate(&b.db, &org, &key, now, grace_until).await?;
    Ok(json_response(
        &json!({
            "kind": rotation.kind,
            "key": value,
            "hint": key_formats::hint(&value),
            "previous_keys_expire_at": grace_until,
        }),
        201,
    ))
}

/// `POST /api/console/identity-secret` `{ password }` (owners and admins, signed in): the
/// current identity secret, once the teammate's password checks out. Five wrong passwords in
/// 15 minutes make further tries 429, as at sign-in.
pub async fn reveal_identity_secret(req: &mut Request, b: &Bindings) -> ApiResult<Response> {
    let db = &b.db;
    let org = auth::settings_workspace(req, db, Access::Write).await?;
    let (_, tm) = auth::team_member(req, db).await?;
    let tm = tm.ok_or(ApiError::Forbidden {
        code: "teammate_required",
        message: "The identity secret is shown to a signed-in teammate only.",
    })?;
    let body = read_json(req).await?;
    let password = body
        .get("password")
        .and_then(Value::as_str)
        .filter(|p| !p.is_empty())
        .ok_or_else(|| FieldError::new("password", InvalidField::Missing))?;
    let key = format!("reveal:{}", tm.id);
    let now = now_ms();
    let attempt = new_id();
    let keys = [key.as_str()];
    store::console::record_attempt(db, &keys, now, &attempt).await?;
    let earlier = store::console::failures(db, &keys, now, &attempt).await?;
    if let Some(retry_after) = earlier
        .iter()
        .filter_map(|f| console::throttled(f, now))
        .max()
    {
        store::console::forget_attempt(db, &attempt).await?;
        return Err(ApiError::RateLimited {
            message: "Too many wrong passwords: wait a few minutes and try again.",
            retry_after,
        });
    }
    let row = store::console::teammate(db, &org, &tm.id)
        .await?
        .ok_or(ApiError::Unauthorized("Sign in first."))?;
    let right = crate::password::verify(password, row.password_hash.as_deref())
        .await
        .map_err(ApiError::Internal)?;
    if !right {
        return Err(ApiError::Forbidden {
            code: "wrong_password",
            message: "That is not your password.",
        });
    }
    store::console::forget_attempt(db, &attempt).await?;
    let secret = keys::current_clear(db, &org, KeyKind::Identity)
        .await?
        .ok_or(ApiError::Internal(
            "the workspace has no identity secret".into(),
        ))?;
    json_ok(&json!({ "identity_secret": secret, "hint": key_formats::hint(&secret) }))
}

/// `POST /api/console/webhooks/:action/test` (owners and admins): sends the action's webhook
/// a sample delivery, signed as a real one, and says how its receiver answered.
pub async fn test_webhook(req: &Request, b: &Bindings, action: &str) -> ApiResult<Response> {
    let org = auth::settings_workspace(req, &b.db, Access::Write).await?;
    if !webhooks::ACTIONS.contains(&action) {
        return Err(ApiError::NotFound(
            "No such action: webhooks are for file_bug and request_refund.",
        ));
    }
    let ws = existing(&b.db, &org).await?;
    let hooks = webhooks::from_stored(Some(ws.webhooks.expose()));
    let hook = hooks.get(action).ok_or(ApiError::NotFound(
        "This action has no webhook: set one first.",
    ))?;
    let vars = webhooks::sample_vars();
    let (ok, status, error) = match crate::turn::deliver(action, hook, &vars).await {
        Ok(status) => (true, Some(status), None),
        Err(e) => (false, None, Some(e)),
    };
    json_ok(&json!({ "ok": ok, "status": status, "error": error }))
}

/// How long a browser (or the CDN) may reuse the widget's config before asking again.
const CONFIG_MAX_AGE_SECONDS: u32 = 300;

/// `GET /api/sdk/widget/config?key=<widget key>`: the widget's look, public and cacheable
/// (a query parameter, not a header, so that the browser sends it without a preflight and
/// may cache it). An `If-None-Match` that matches is a 304 with no body.
pub async fn widget_config(req: &Request, b: &Bindings) -> ApiResult<Response> {
    let key = query_param(req, "key").unwrap_or_default();
    let key = WidgetKey::parse(&key)?;
    let (ws, _) =
        store::workspace_and_agent_by_widget_key(&b.db, &key_hash(key.as_str()), None, None)
            .await?
            .ok_or(ApiError::Unauthorized("Unknown widget key."))?;
    let appearance = Appearance::from_stored(Some(&ws.appearance));
    let body = json!({ "org_id": ws.id, "appearance": appearance.to_public() }).to_string();
    let etag = format!("\"{}\"", &key_hash(&body)[..16]);
    let matched = req
        .headers()
        .get("if-none-match")?
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut resp = if matched {
        Response::empty()?.with_status(304)
    } else {
        json_response(
            &serde_json::from_str::<Value>(&body).unwrap_or(Value::Null),
            200,
        )
    };
    let headers = resp.headers_mut();
    headers.set(
        "cache-control",
        &format!("public, max-age={CONFIG_MAX_AGE_SECONDS}"),
    )?;
    headers.set("etag", &etag)?;
    headers.set("access-control-allow-origin", "*")?;
    Ok(resp)
}
