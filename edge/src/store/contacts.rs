//! Contacts (end users), companies, their traits and context, and discovered attributes.
//!
//! Traits with a dedicated column (name, email, role, plan, signed_up_at; name, plan, industry
//! for companies) live there; the rest in the `custom_fields` JSON blob; context in the
//! `context` JSON blob. Writes are partial: a key that is absent is left alone, a `null`
//! removes it, and any other value replaces the key's value whole ([`replace_keys`]).

use std::collections::BTreeMap;

use halo_shared::chat::ContextEntry;
use halo_shared::context::{COMPANY_TRAITS, USER_TRAITS};
use halo_shared::profile::Sighting;
use serde::Deserialize;
use serde_json::{Map, Value};
use worker::{query, D1Database, D1PreparedStatement, Result};

use crate::platform::{new_id, now_ms};

/// Splits traits into the column values (as text; `null` clears) and the custom rest.
fn split_traits(traits: &Map<String, Value>, columns: &[&str]) -> (Value, Value) {
    let mut cols = Map::new();
    let mut custom = Map::new();
    for (k, v) in traits {
        // A column holds text: a number or a flag is written as one, and an object or a
        // list (`email: { primary, work }`) is kept whole among the custom traits instead.
        let text = match v {
            Value::Null => Some(Value::Null),
            Value::String(s) => Some(Value::String(s.clone())),
            Value::Number(_) | Value::Bool(_) => Some(Value::String(v.to_string())),
            Value::Object(_) | Value::Array(_) => None,
        };
        if k == "team_size" {
            continue;
        }
        if !columns.contains(&k.as_str()) {
            custom.insert(k.clone(), v.clone());
            continue;
        }
        // One place holds it: writing the column clears a custom copy, and the other way
        // round (a `null` in a patch removes the key).
        match text {
            Some(text) => {
                cols.insert(k.clone(), text);
                custom.insert(k.clone(), Value::Null);
            }
            None => {
                cols.insert(k.clone(), Value::Null);
                custom.insert(k.clone(), v.clone());
            }
        }
    }
    (Value::Object(cols), Value::Object(custom))
}

/// A merge-patch for a context blob: entries to set, keys to delete (`null`).
pub fn context_patch(set: &BTreeMap<String, ContextEntry>, delete: &[String]) -> Value {
    let mut patch = Map::new();
    for k in delete {
        patch.insert(k.clone(), Value::Null);
    }
    for (k, e) in set {
        patch.insert(k.clone(), serde_json::to_value(e).unwrap_or(Value::Null));
    }
    Value::Object(patch)
}

/// SQL for the JSON object `target` with the top-level keys of the JSON object `patch`
/// replaced whole, or removed where the patch says `null`. Not SQLite's `json_patch`: its
/// merge-patch would blend a new value into the one it replaces and drop the `null`s inside
/// it, and any shape of trait or context value must be stored as it was sent.
fn replace_keys(target: &str, patch: &str) -> String {
    // Numbers are copied as their JSON text (`src -> fullkey`), not as SQL numbers, which
    // would round them to 15 digits; a key `->` cannot name (one with a `"`) falls back.
    format!(
        "(SELECT json_group_object(key, CASE type WHEN 'true' THEN json('true') WHEN 'false' THEN json('false')
            WHEN 'object' THEN json(value) WHEN 'array' THEN json(value)
            WHEN 'integer' THEN json(COALESCE(src -> fullkey, value)) WHEN 'real' THEN json(COALESCE(src -> fullkey, value))
            ELSE value END)
          FROM (SELECT key, value, type, fullkey, {target} AS src FROM json_each({target})
                  WHERE key NOT IN (SELECT key FROM json_each({patch}))
                UNION ALL SELECT key, value, type, fullkey, {patch} AS src FROM json_each({patch}) WHERE type != 'null'))"
    )
}

/// Upserts a company's traits and context patch.
pub fn upsert_company(
    db: &D1Database,
    org: &str,
    external_id: &str,
    traits: &Map<String, Value>,
    context: &Value,
) -> Result<D1PreparedStatement> {
    let (cols, custom) = split_traits(traits, COMPANY_TRAITS);
    let now = now_ms();
    let sql = format!(
        "INSERT INTO companies (id, org_id, external_id, name, plan, industry, custom_fields, context, created_at, updated_at)
         VALUES (?1, ?2, ?3, json_extract(?4, '$.name'), json_extract(?4, '$.plan'), json_extract(?4, '$.industry'),
                 {}, {}, ?7, ?7)
         ON CONFLICT (org_id, external_id) DO UPDATE SET
           name = CASE WHEN json_type(?4, '$.name') IS NULL THEN name ELSE excluded.name END,
           plan = CASE WHEN json_type(?4, '$.plan') IS NULL THEN plan ELSE excluded.plan END,
           industry = CASE WHEN json_type(?4, '$.industry') IS NULL THEN industry ELSE excluded.industry END,
           custom_fields = {},
           context = {},
           updated_at = excluded.updated_at",
        replace_keys("'{}'", "?5"),
        replace_keys("'{}'", "?6"),
        replace_keys("custom_fields", "?5"),
        replace_keys("context", "?6"),
    );
    query!(
        db,
        &sql,
        new_id(),
        org,
        external_id,
        cols.to_string(),
        custom.to_string(),
        context.to_string(),
        now
    )
}

/// What one write to a contact carries.
pub struct UserWrite<'a> {
    pub external_id: &'a str,
    pub traits: &'a Map<String, Value>,
    pub context: Value,
    /// Links the contact to this company, which must exist by then (same batch, earlier).
    pub company_external_id: Option<&'a str>,
    /// Whether a valid identity token vouched for this write. A verified contact stays so.
    pub verified: bool,
}

/// Upserts a contact: traits, context patch, company link, verified flag, last seen.
pub fn upsert_user(db: &D1Database, org: &str, w: &UserWrite<'_>) -> Result<D1PreparedStatement> {
    let (cols, custom) = split_traits(w.traits, USER_TRAITS);
    let now = now_ms();
    let sql = format!(
        "INSERT INTO end_users (id, org_id, external_id, verified, name, email, role, plan, signed_up_at,
                                custom_fields, context, company_id, created_at, last_seen_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, json_extract(?5, '$.name'), json_extract(?5, '$.email'), json_extract(?5, '$.role'),
                 json_extract(?5, '$.plan'), json_extract(?5, '$.signed_up_at'), {}, {},
                 (SELECT id FROM companies WHERE org_id = ?2 AND external_id = ?8), ?9, ?9, ?9)
         ON CONFLICT (org_id, external_id) WHERE external_id IS NOT NULL DO UPDATE SET
           verified = MAX(verified, excluded.verified),
           name = CASE WHEN json_type(?5, '$.name') IS NULL THEN name ELSE excluded.name END,
           email = CASE WHEN json_type(?5, '$.email') IS NULL THEN email ELSE excluded.email END,
           role = CASE WHEN json_type(?5, '$.role') IS NULL THEN role ELSE excluded.role END,
           plan = CASE WHEN json_type(?5, '$.plan') IS NULL THEN plan ELSE excluded.plan END,
           signed_up_at = CASE WHEN json_type(?5, '$.signed_up_at') IS NULL THEN signed_up_at ELSE excluded.signed_up_at END,
           custom_fields = {},
           context = {},
           company_id = COALESCE(excluded.company_id, company_id),
           last_seen_at = excluded.last_seen_at,
           updated_at = excluded.updated_at",
        replace_keys("'{}'", "?6"),
        replace_keys("'{}'", "?7"),
        replace_keys("custom_fields", "?6"),
        replace_keys("context", "?7"),
    );
    query!(
        db,
        &sql,
        new_id(),
        org,
        w.external_id,
        i32::from(w.verified),
        cols.to_string(),
        custom.to_string(),
        w.context.to_string(),
        w.company_external_id,
        now
    )
}

/// Ties the user to no company (the company stays, with its other users).
pub fn unlink_company(
    db: &D1Database,
    org: &str,
    external_id: &str,
) -> Result<D1PreparedStatement> {
    query!(
        db,
        "UPDATE end_users SET company_id = NULL, updated_at = ?3 WHERE org_id = ?1 AND external_id = ?2",
        org,
        external_id,
        now_ms()
    )
}

/// Records sightings of trait and context keys (type and sample of the latest).
pub fn record_sightings(
    db: &D1Database,
    org: &str,
    sightings: &[Sighting],
) -> Result<Vec<D1PreparedStatement>> {
    let now = now_ms();
    sightings
        .iter()
        .map(|s| {
            query!(
                db,
                "INSERT INTO attributes (org_id, scope, key, type, sample, first_seen_at, last_seen_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)
                 ON CONFLICT (org_id, scope, key) DO UPDATE SET type = excluded.type, sample = excluded.sample, last_seen_at = excluded.last_seen_at",
                org,
                s.scope.as_str(),
                &s.key,
                &s.kind,
                &s.sample,
                now
            )
        })
        .collect()
}

/// A stored contact and company as the API shows them (the wire shapes live in `shared`).
pub use halo_shared::inbox::{Company as StoredCompany, Contact as StoredUser};

/// A contact as one JSON object, over `end_users u LEFT JOIN companies c` (its company).
const USER_JSON: &str = "json_object(
    'user_id', u.external_id, 'verified', json(CASE WHEN u.verified THEN 'true' ELSE 'false' END),
    'name', u.name, 'email', u.email, 'role', u.role, 'plan', u.plan, 'signed_up_at', CAST(u.signed_up_at AS TEXT),
    'custom_fields', json(u.custom_fields), 'context', json(u.context), 'company_id', c.external_id,
    'created_at', u.created_at, 'last_seen_at', u.last_seen_at)";

/// A company as one JSON object, over `companies c`, with its team size.
const COMPANY_JSON: &str = "json_object(
    'company_id', c.external_id, 'name', c.name, 'plan', c.plan, 'industry', c.industry,
    'team_size', (SELECT COUNT(*) FROM end_users t WHERE t.org_id = c.org_id AND t.company_id = c.id),
    'custom_fields', json(c.custom_fields), 'context', json(c.context),
    'created_at', c.created_at, 'updated_at', c.updated_at)";

#[derive(Deserialize)]
struct JsonRow {
    j: Option<String>,
}

fn from_json<T: serde::de::DeserializeOwned>(row: Option<JsonRow>) -> Result<Option<T>> {
    row.and_then(|r| r.j)
        .map(|j| {
            serde_json::from_str(&j)
                .map_err(|e| worker::Error::RustError(format!("stored JSON: {e}")))
        })
        .transpose()
}

pub async fn user(db: &D1Database, org: &str, external_id: &str) -> Result<Option<StoredUser>> {
    let row = query!(
        db,
        &format!(
            "SELECT {USER_JSON} AS j FROM end_users u LEFT JOIN companies c ON c.id = u.company_id AND c.org_id = u.org_id
             WHERE u.org_id = ?1 AND u.external_id = ?2"
        ),
        org,
        external_id
    )?
    .first(None)
    .await?;
    from_json(row)
}

pub async fn company(
    db: &D1Database,
    org: &str,
    external_id: &str,
) -> Result<Option<StoredCompany>> {
    let row = query!(db, &format!("SELECT {COMPANY_JSON} AS j FROM companies c WHERE c.org_id = ?1 AND c.external_id = ?2"), org, external_id)?
        .first(None)
        .await?;
    from_json(row)
}

/// Everything the prompt needs about a person, in one round trip: the contact, their company
/// (the linked one, else the one `company_ref` names) and the team's field descriptions.
pub struct Known {
    pub user: Option<StoredUser>,
    pub company: Option<StoredCompany>,
    pub descriptions: BTreeMap<String, String>,
}

pub async fn known(
    db: &D1Database,
    org: &str,
    external_id: Option<&str>,
    company_ref: Option<&str>,
) -> Result<Known> {
    known_from(
        known_statement(db, org, external_id, company_ref)?
            .first(None)
            .await?,
    )
}

/// What [`known`] reads, as one statement (a turn reads it in the batch that stores its
/// message); [`known_from`] reads its row.
pub fn known_statement(
    db: &D1Database,
    org: &str,
    external_id: Option<&str>,
    company_ref: Option<&str>,
) -> Result<D1PreparedStatement> {
    query!(
        db,
        &format!(
            "SELECT
               (SELECT {USER_JSON} FROM end_users u LEFT JOIN companies c ON c.id = u.company_id AND c.org_id = u.org_id
                WHERE u.org_id = ?1 AND u.external_id = ?2) AS user,
               (SELECT {COMPANY_JSON} FROM companies c WHERE c.org_id = ?1 AND c.id = COALESCE(
                  (SELECT company_id FROM end_users WHERE org_id = ?1 AND external_id = ?2),
                  (SELECT id FROM companies WHERE org_id = ?1 AND external_id = ?3))) AS company,
               (SELECT json_group_object(key, description) FROM attributes
                WHERE org_id = ?1 AND description IS NOT NULL) AS descriptions"
        ),
        org,
        external_id,
        company_ref
    )
}

/// The row [`known_statement`] reads.
#[derive(Deserialize)]
pub struct KnownRow {
    user: Option<String>,
    company: Option<String>,
    descriptions: Option<String>,
}

pub fn known_from(row: Option<KnownRow>) -> Result<Known> {
    let Some(row) = row else {
        return Ok(Known {
            user: None,
            company: None,
            descriptions: BTreeMap::new(),
        });
    };
    Ok(Known {
        user: from_json(Some(JsonRow { j: row.user }))?,
        company: from_json(Some(JsonRow { j: row.company }))?,
        descriptions: from_json(Some(JsonRow {
            j: row.descriptions,
        }))?
        .unwrap_or_default(),
    })
}
/// A discovered attribute (the wire shape lives in `shared`).
pub use halo_shared::settings::Attribute as AttributeRow;

pub async fn attributes(db: &D1Database, org: &str) -> Result<Vec<AttributeRow>> {
    query!(
        db,
        "SELECT scope, key, type, sample, description, first_seen_at, last_seen_at FROM attributes WHERE org_id = ?1 ORDER BY scope, key",
        org
    )?
    .all()
    .await?
    .results()
}

/// Sets (or clears) a description; false when the key was never seen.
pub async fn describe(
    db: &D1Database,
    org: &str,
    scope: &str,
    key: &str,
    description: Option<&str>,
) -> Result<bool> {
    let result = query!(
        db,
        "UPDATE attributes SET description = ?4 WHERE org_id = ?1 AND scope = ?2 AND key = ?3",
        org,
        scope,
        key,
        description
    )?
    .run()
    .await?;
    Ok(result.meta()?.and_then(|m| m.changes).unwrap_or(0) > 0)
}
