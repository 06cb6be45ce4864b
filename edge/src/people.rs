//! Contacts and companies: identify (from the customer's backend with the secret key, or from
//! the widget with the publishable key), context updates, reads, and discovered attributes.

use halo_shared::chat::{FieldError, InvalidField, Warning};
use halo_shared::profile::{
    context_sightings, trait_sightings, AttributeDescription, CompanyIdentify, ContextOwner,
    ContextUpdate, Scope, Sighting, UserIdentify,
};
use serde_json::{json, Map, Value};
use worker::{D1Database, D1PreparedStatement, Request, Response};

use crate::auth;
use crate::error::{ApiError, ApiResult};
use crate::http::{json_ok, read_json};
use crate::platform::Bindings;
use crate::store::contacts::{self, context_patch, UserWrite};

fn sightings(
    user_traits: &Map<String, Value>,
    company: Option<&CompanyIdentify>,
    user: &UserIdentify,
) -> Vec<Sighting> {
    let mut s = trait_sightings(Scope::User, user_traits);
    s.extend(context_sightings(&user.context));
    if let Some(c) = company {
        s.extend(trait_sightings(Scope::Company, &c.traits));
        s.extend(context_sightings(&c.context));
    }
    s
}

/// Writes a user (and the company sent along) in one transaction; with `u.unlink_company`,
/// the user is tied to no company.
async fn write_user(
    db: &D1Database,
    org: &str,
    u: &UserIdentify,
    traits: &Map<String, Value>,
    company_id: Option<&str>,
    verified: bool,
) -> ApiResult<()> {
    let mut batch: Vec<D1PreparedStatement> = Vec::new();
    match (&u.company, company_id) {
        (Some(c), _) if Some(c.company_id.as_str()) == company_id => {
            batch.push(contacts::upsert_company(
                db,
                org,
                &c.company_id,
                &c.traits,
                &context_patch(&c.context, &[]),
            )?);
        }
        (_, Some(id)) => batch.push(contacts::upsert_company(
            db,
            org,
            id,
            &Map::new(),
            &json!({}),
        )?),
        _ => {}
    }
    batch.push(contacts::upsert_user(
        db,
        org,
        &UserWrite {
            external_id: &u.user_id,
            traits,
            context: context_patch(&u.context, &[]),
            company_external_id: company_id,
            verified,
        },
    )?);
    if u.unlink_company {
        batch.push(contacts::unlink_company(db, org, &u.user_id)?);
    }
    batch.extend(contacts::record_sightings(
        db,
        org,
        // Only a company written has its attributes discovered.
        &sightings(
            traits,
            u.company
                .as_ref()
                .filter(|c| Some(c.company_id.as_str()) == company_id),
            u,
        ),
    )?);
    db.batch(batch).await?;
    Ok(())
}

/// `body` with the request's `warnings` (what of its traits and context was left out), if any.
fn warned(mut body: Value, warnings: &[Warning]) -> Value {
    if !warnings.is_empty() {
        body["warnings"] = json!(warnings);
    }
    body
}

async fn user_json(db: &D1Database, org: &str, user_id: &str) -> ApiResult<Value> {
    let user = contacts::user(db, org, user_id)
        .await?
        .ok_or(ApiError::NotFound(
            "No contact with this user_id in this workspace.",
        ))?;
    let company = match &user.company_id {
        Some(c) => contacts::company(db, org, c).await?,
        None => None,
    };
    Ok(json!({ "user": user, "company": company }))
}

/// `POST /api/sdk/users/identify` (secret key): creates or updates a contact, before their
/// first login if need be. Server-side writes are trusted, so the contact is verified.
pub async fn identify_user(req: &mut Request, b: &Bindings) -> ApiResult<Response> {
    let db = &b.db;
    let ws = auth::secret_workspace(req, db).await?;
    let u = UserIdentify::parse(&read_json(req).await?)?;
    write_user(db, &ws.id, &u, &u.traits, u.company_id.as_deref(), true).await?;
    json_ok(&warned(
        user_json(db, &ws.id, &u.user_id).await?,
        &u.warnings,
    ))
}

/// `POST /api/sdk/companies/identify` (secret key).
pub async fn identify_company(req: &mut Request, b: &Bindings) -> ApiResult<Response> {
    let db = &b.db;
    let ws = auth::secret_workspace(req, db).await?;
    let c = CompanyIdentify::parse(&read_json(req).await?)?;
    let mut batch = vec![contacts::upsert_company(
        db,
        &ws.id,
        &c.company_id,
        &c.traits,
        &context_patch(&c.context, &[]),
    )?];
    let mut seen = trait_sightings(Scope::Company, &c.traits);
    seen.extend(context_sightings(&c.context));
    batch.extend(contacts::record_sightings(db, &ws.id, &seen)?);
    db.batch(batch).await?;
    let company = contacts::company(db, &ws.id, &c.company_id).await?;
    json_ok(&warned(json!({ "company": company }), &c.warnings))
}

/// `POST /api/sdk/context` (secret key): sets and deletes context entries of one user or one
/// company (created if new).
pub async fn update_context(req: &mut Request, b: &Bindings) -> ApiResult<Response> {
    let db = &b.db;
    let ws = auth::secret_workspace(req, db).await?;
    let update = ContextUpdate::parse(&read_json(req).await?)?;
    // When every entry sent was left out there is nothing to write (and no contact to make).
    if !(update.set.is_empty() && update.delete.is_empty()) {
        write_context(db, &ws.id, &update).await?;
    }
    let context = match &update.owner {
        ContextOwner::User(id) => contacts::user(db, &ws.id, id).await?.map(|u| u.context),
        ContextOwner::Company(id) => contacts::company(db, &ws.id, id).await?.map(|c| c.context),
    };
    json_ok(&warned(
        json!({ "context": context.unwrap_or_else(|| json!({})) }),
        &update.warnings,
    ))
}

/// Writes a context update (the owner is created if new) and its sightings, in one batch.
async fn write_context(db: &D1Database, org: &str, update: &ContextUpdate) -> ApiResult<()> {
    let patch = context_patch(&update.set, &update.delete);
    let mut batch = vec![match &update.owner {
        ContextOwner::User(id) => contacts::upsert_user(
            db,
            org,
            &UserWrite {
                external_id: id,
                traits: &Map::new(),
                context: patch,
                company_external_id: None,
                verified: true,
            },
        )?,
        ContextOwner::Company(id) => contacts::upsert_company(db, org, id, &Map::new(), &patch)?,
    }];
    batch.extend(contacts::record_sightings(
        db,
        org,
        &context_sightings(&update.set),
    )?);
    db.batch(batch).await?;
    Ok(())
}

/// `GET /api/sdk/users/:user_id` (secret key): the contact, verified flag included, and company.
pub async fn get_user(req: &Request, b: &Bindings, user_id: &str) -> ApiResult<Response> {
    let db = &b.db;
    let ws = auth::secret_workspace(req, db).await?;
    json_ok(&user_json(db, &ws.id, user_id).await?)
}

/// `GET /api/sdk/companies/:company_id` (secret key), with `team_size` from linked contacts.
pub async fn get_company(req: &Request, b: &Bindings, company_id: &str) -> ApiResult<Response> {
    let db = &b.db;
    let ws = auth::secret_workspace(req, db).await?;
    let company = contacts::company(db, &ws.id, company_id)
        .await?
        .ok_or(ApiError::NotFound(
            "No company with this company_id in this workspace.",
        ))?;
    json_ok(&json!({ "company": company }))
}

/// `GET /api/sdk/attributes` (secret key): every trait and context key seen.
pub async fn list_attributes(req: &Request, b: &Bindings) -> ApiResult<Response> {
    let db = &b.db;
    let org = auth::settings_workspace(req, db, auth::Access::Read).await?;
    json_ok(&json!({ "attributes": contacts::attributes(db, &org).await? }))
}

/// `PATCH /api/sdk/attributes` (secret key): sets or clears a key's description for the AI.
pub async fn describe_attribute(req: &mut Request, b: &Bindings) -> ApiResult<Response> {
    let db = &b.db;
    let org = auth::settings_workspace(req, db, auth::Access::Write).await?;
    let d = AttributeDescription::parse(&read_json(req).await?)?;
    if !contacts::describe(db, &org, d.scope.as_str(), &d.key, d.description.as_deref()).await? {
        return Err(ApiError::NotFound(
            "This key has not been seen in this scope.",
        ));
    }
    json_ok(&json!({ "scope": d.scope.as_str(), "key": d.key, "description": d.description }))
}

/// `POST /api/sdk/widget/identify` (widget key): what the widget's identify(),
/// identifyCompany() and setContext() said. With a valid `user_token` the contact is verified
/// and the token's claims win; without one it is unverified, and refused (401, nothing
/// written) when the workspace requires verification.
pub async fn identify_from_widget(req: &mut Request, b: &Bindings) -> ApiResult<Response> {
    let db = &b.db;
    let key_hash = auth::widget_key_hash(req)?;
    let body = read_json(req).await;
    let (ws, _) = auth::widget_workspace(req, db, &key_hash, None, None).await?;
    let mut u = UserIdentify::parse(&body?)?;
    crate::gate::admit_widget(
        &b.env,
        req,
        &ws,
        crate::gate::Kind::Call,
        Some(&u.user_id),
        None,
    )
    .await?;
    let claims = crate::auth::verify_token(&ws, &u.user_id, u.user_token.as_deref())?;
    let mut traits = u.traits.clone();
    if let Some(c) = &claims {
        traits.extend(crate::auth::trusted_traits(c));
    }
    let field = if u.company.is_some() {
        "company"
    } else {
        "company_id"
    };
    let (company_id, warning) =
        auth::vouched_company(&ws, claims.as_ref(), u.company_id.clone(), field);
    u.warnings.extend(warning);
    if company_id.as_deref().is_some_and(|c| c.is_empty()) {
        return Err(ApiError::Field(FieldError {
            field: "company_id".into(),
            kind: InvalidField::Empty,
        }));
    }
    // Only the company's server unties a user from their company.
    u.unlink_company = false;
    write_user(
        db,
        &ws.id,
        &u,
        &traits,
        company_id.as_deref(),
        claims.is_some(),
    )
    .await?;
    let mut resp = json_ok(&warned(
        json!({ "user_id": u.user_id, "verified": claims.is_some() }),
        &u.warnings,
    ))?;
    auth::cors_for(&ws, req, &mut resp)?;
    Ok(resp)
}
