//! Request bodies that write traits and context: the REST identify endpoints, the context
//! endpoint, and the widget's identify call; and the discovered-attribute records they yield.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::chat::{
    self, body_object as object, field_error as err, ContextEntry, FieldError, InvalidField,
    Warning, Warnings, MAX_TOKEN_CHARS,
};
use crate::context::clean;

/// Keys of an identify body that are not traits.
const USER_RESERVED: &[&str] = &[
    "user_id",
    "user_token",
    "company_id",
    "company",
    "custom_fields",
    "context",
];
const COMPANY_RESERVED: &[&str] = &["company_id", "custom_fields", "context"];
/// Most context keys one request may delete.
pub const MAX_DELETES: usize = 50;
/// Longest description of a discovered attribute.
pub const MAX_DESCRIPTION_CHARS: usize = 500;

fn required_id(o: &Map<String, Value>, field: &str) -> Result<String, FieldError> {
    match o.get(field).filter(|v| !v.is_null()) {
        None => Err(err(field, InvalidField::Missing)),
        Some(v) => chat::identifier(field, v),
    }
}

/// Top-level keys (other than `reserved`) plus the `custom_fields` object, as traits: any
/// JSON value, `null` removes a trait. What cannot be kept is left out with a warning.
fn traits_of(
    o: &Map<String, Value>,
    reserved: &[&str],
    at: &str,
    warnings: &mut Warnings,
) -> Map<String, Value> {
    let mut all: Map<String, Value> = o
        .iter()
        .filter(|(k, _)| !reserved.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if let Some(extra) = o.get("custom_fields").filter(|v| !v.is_null()) {
        all.extend(chat::traits(&format!("{at}custom_fields"), extra, warnings));
    }
    // Top-level traits are named as sent (`bio`), a company's under `company.`.
    chat::traits(at.trim_end_matches('.'), &Value::Object(all), warnings)
}

fn context_of(
    o: &Map<String, Value>,
    at: &str,
    warnings: &mut Warnings,
) -> BTreeMap<String, ContextEntry> {
    o.get("context")
        .filter(|v| !v.is_null())
        .map(|v| chat::context(&format!("{at}context"), v, warnings))
        .unwrap_or_default()
}

/// A company and its traits: `POST /api/sdk/companies/identify`, or `company` inside a user's.
#[derive(Debug, Clone, PartialEq)]
pub struct CompanyIdentify {
    pub company_id: String,
    pub traits: Map<String, Value>,
    pub context: BTreeMap<String, ContextEntry>,
    /// What of the traits and context was left out, and why.
    pub warnings: Vec<Warning>,
}

impl CompanyIdentify {
    pub fn parse(body: &Value) -> Result<Self, FieldError> {
        Self::parse_at(body, "")
    }

    /// Parses a company at `at` (`""` or `"company."`), which prefixes warnings' fields.
    fn parse_at(body: &Value, at: &str) -> Result<Self, FieldError> {
        let o = object(body)?;
        let mut warnings = Warnings::default();
        Ok(Self {
            company_id: required_id(o, "company_id")?,
            traits: traits_of(o, COMPANY_RESERVED, at, &mut warnings),
            context: context_of(o, at, &mut warnings),
            warnings: warnings.into_vec(),
        })
    }
}

/// A user and their traits: `POST /api/sdk/users/identify` (secret key) and the widget's
/// identify call (widget key, where `user_token` matters).
#[derive(Debug, Clone, PartialEq)]
pub struct UserIdentify {
    pub user_id: String,
    pub user_token: Option<String>,
    pub traits: Map<String, Value>,
    /// Links the user to this company (created if new).
    pub company_id: Option<String>,
    /// `company_id: null` (and no `company`): the user is to be tied to no company. Only the
    /// company's server does this (`POST /api/sdk/users/identify`); a page's null is ignored.
    pub unlink_company: bool,
    /// Company traits sent along (`company: { company_id, … }`).
    pub company: Option<CompanyIdentify>,
    pub context: BTreeMap<String, ContextEntry>,
    /// What of the user's and the company's traits and context was left out, and why.
    pub warnings: Vec<Warning>,
}

impl UserIdentify {
    pub fn parse(body: &Value) -> Result<Self, FieldError> {
        let o = object(body)?;
        let user_id = required_id(o, "user_id")?;
        if user_id == "anonymous" {
            return Err(err(
                "user_id",
                InvalidField::Invalid("must identify a user, not \"anonymous\""),
            ));
        }
        let user_token = o
            .get("user_token")
            .filter(|v| !v.is_null())
            .map(|v| chat::bounded_string("user_token", v, MAX_TOKEN_CHARS))
            .transpose()?;
        let company = o
            .get("company")
            .filter(|v| !v.is_null())
            .map(|v| match v {
                // `company: "acme"` names the company by its id.
                Value::String(_) => Ok(CompanyIdentify {
                    company_id: chat::identifier("company", v)?,
                    traits: Map::new(),
                    context: BTreeMap::new(),
                    warnings: Vec::new(),
                }),
                Value::Object(_) => {
                    CompanyIdentify::parse_at(v, "company.").map_err(|e| FieldError {
                        field: format!("company.{}", e.field),
                        kind: e.kind,
                    })
                }
                _ => Err(err(
                    "company",
                    InvalidField::Invalid(
                        "must be an object with a `company_id`, or the company's id",
                    ),
                )),
            })
            .transpose()?;
        let company_id = match o.get("company_id").filter(|v| !v.is_null()) {
            Some(v) => Some(chat::identifier("company_id", v)?),
            None => company.as_ref().map(|c| c.company_id.clone()),
        };
        let unlink_company = company.is_none() && o.get("company_id").is_some_and(Value::is_null);
        let mut warnings = Warnings::default();
        warnings.extend(company.iter().flat_map(|c| c.warnings.clone()));
        Ok(Self {
            user_id,
            user_token,
            traits: traits_of(o, USER_RESERVED, "", &mut warnings),
            company_id,
            unlink_company,
            company,
            context: context_of(o, "", &mut warnings),
            warnings: warnings.into_vec(),
        })
    }
}

/// Whose context a context request changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContextOwner {
    User(String),
    Company(String),
}

/// `POST /api/sdk/context`: set and/or delete context entries of one user or one company.
#[derive(Debug, Clone, PartialEq)]
pub struct ContextUpdate {
    pub owner: ContextOwner,
    pub set: BTreeMap<String, ContextEntry>,
    pub delete: Vec<String>,
    /// The entries of `set` that were left out, and why.
    pub warnings: Vec<Warning>,
}

impl ContextUpdate {
    pub fn parse(body: &Value) -> Result<Self, FieldError> {
        let o = object(body)?;
        let has = |k: &str| o.get(k).is_some_and(|v| !v.is_null());
        let owner = match (has("user_id"), has("company_id")) {
            (true, false) => ContextOwner::User(required_id(o, "user_id")?),
            (false, true) => ContextOwner::Company(required_id(o, "company_id")?),
            _ => {
                return Err(err(
                    "user_id",
                    InvalidField::Invalid(
                        "or `company_id` names the owner: send one of them, not both",
                    ),
                ))
            }
        };
        let mut warnings = Warnings::default();
        let set = o
            .get("set")
            .filter(|v| !v.is_null())
            .map(|v| chat::context("set", v, &mut warnings))
            .unwrap_or_default();
        // A key that cannot be one is left out with a warning, as a bad entry of `set` is.
        let mut delete = Vec::new();
        if let Some(v) = o.get("delete").filter(|v| !v.is_null()) {
            match chat::bounded_array("delete", v, MAX_DELETES, "an array of context keys") {
                Ok(keys) => {
                    for (i, k) in keys.iter().enumerate() {
                        match chat::identifier(&format!("delete[{i}]"), k) {
                            Ok(k) => delete.push(k),
                            Err(e) => warnings.push(Warning::dropped(&e)),
                        }
                    }
                }
                Err(e) => warnings.push(Warning::dropped(&e)),
            }
        }
        // Entries that were sent but left out are answered with their warnings, not refused.
        if set.is_empty() && delete.is_empty() && warnings.is_empty() {
            return Err(err(
                "set",
                InvalidField::Invalid("send entries to set or keys to delete"),
            ));
        }
        Ok(Self {
            owner,
            set,
            delete,
            warnings: warnings.into_vec(),
        })
    }
}

/// Where a discovered attribute was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    User,
    Company,
    Context,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::User => "user",
            Scope::Company => "company",
            Scope::Context => "context",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "user" => Scope::User,
            "company" => Scope::Company,
            "context" => Scope::Context,
            _ => return None,
        })
    }
}

/// One sighting of a key: its scope, type and a short sample value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sighting {
    pub scope: Scope,
    pub key: String,
    pub kind: String,
    pub sample: String,
}

fn sample(v: &Value) -> String {
    let s = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    clean(&s).chars().take(100).collect()
}

/// The sightings of trait keys (`null` values, which delete, are not sightings).
pub fn trait_sightings(scope: Scope, traits: &Map<String, Value>) -> Vec<Sighting> {
    traits
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| Sighting {
            scope,
            key: k.clone(),
            kind: match v {
                Value::String(_) => "string",
                Value::Number(_) => "number",
                Value::Bool(_) => "boolean",
                _ => "json",
            }
            .into(),
            sample: sample(v),
        })
        .collect()
}

/// The sightings of context keys, typed by their context type.
pub fn context_sightings(context: &BTreeMap<String, ContextEntry>) -> Vec<Sighting> {
    context
        .iter()
        .map(|(k, e)| Sighting {
            scope: Scope::Context,
            key: k.clone(),
            kind: serde_json::to_value(e.kind.unwrap_or(chat::ContextType::Custom))
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_else(|| "custom".into()),
            sample: sample(&e.value),
        })
        .collect()
}

/// `PATCH /api/sdk/attributes`: the team's description of a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeDescription {
    pub scope: Scope,
    pub key: String,
    pub description: Option<String>,
}

impl AttributeDescription {
    pub fn parse(body: &Value) -> Result<Self, FieldError> {
        let o = object(body)?;
        let scope = match o.get("scope").and_then(Value::as_str) {
            None => return Err(err("scope", InvalidField::Missing)),
            Some(s) => Scope::parse(s).ok_or(err(
                "scope",
                InvalidField::NotOneOf {
                    allowed: "user, company, context",
                },
            ))?,
        };
        let key = match o.get("key").filter(|v| !v.is_null()) {
            None => return Err(err("key", InvalidField::Missing)),
            Some(v) => chat::identifier("key", v)?,
        };
        let description = match o.get("description") {
            None => return Err(err("description", InvalidField::Missing)),
            Some(Value::Null) => None,
            Some(v) => Some(
                chat::bounded_string("description", v, MAX_DESCRIPTION_CHARS)?
                    .trim()
                    .to_owned(),
            )
            .filter(|d| !d.is_empty()),
        };
        Ok(Self {
            scope,
            key,
            description,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_user_identify_splits_traits_company_and_context() {
        let u = UserIdentify::parse(&json!({
            "user_id": "u1", "email": "a@b.c", "plan": "pro", "seats": 3,
            "custom_fields": { "acquisition_channel": "partner" },
            "company": { "company_id": "acme", "name": "Acme", "industry": "SaaS" },
            "context": { "billing": { "label": "Billing", "type": "status", "value": "past_due" } }
        }))
        .unwrap();
        assert_eq!(u.traits, json!({ "email": "a@b.c", "plan": "pro", "seats": 3, "acquisition_channel": "partner" }).as_object().unwrap().clone());
        assert_eq!(u.company_id.as_deref(), Some("acme"));
        assert_eq!(u.company.unwrap().traits["industry"], json!("SaaS"));
        assert_eq!(u.context["billing"].value, json!("past_due"));
    }

    #[test]
    fn identify_refuses_what_cannot_be_stored() {
        assert_eq!(
            UserIdentify::parse(&json!({ "email": "a@b.c" }))
                .unwrap_err()
                .field,
            "user_id"
        );
        assert_eq!(
            UserIdentify::parse(&json!({ "user_id": "anonymous" }))
                .unwrap_err()
                .field,
            "user_id"
        );
        let u = UserIdentify::parse(&json!({ "user_id": "u", "nested": { "a": 1 } })).unwrap();
        assert_eq!(u.traits["nested"], json!({ "a": 1 }));
        let e = UserIdentify::parse(&json!({ "user_id": "u", "company": { "name": "x" } }))
            .unwrap_err();
        assert_eq!(e.field, "company.company_id");
        // A company named by its id alone; anything else is named as `company`.
        let u = UserIdentify::parse(&json!({ "user_id": "u", "company": "acme" })).unwrap();
        assert_eq!(u.company_id.as_deref(), Some("acme"));
        let e = UserIdentify::parse(&json!({ "user_id": "u", "company": 7 })).unwrap_err();
        assert_eq!(e.field, "company");
        // `company_id: null` asks for no company; an absent one leaves the link alone.
        let u = UserIdentify::parse(&json!({ "user_id": "u", "company_id": null })).unwrap();
        assert!(u.unlink_company && u.company_id.is_none());
        let u = UserIdentify::parse(&json!({ "user_id": "u" })).unwrap();
        assert!(!u.unlink_company);
        let u =
            UserIdentify::parse(&json!({ "user_id": "u", "company_id": null, "company": "acme" }))
                .unwrap();
        assert!(!u.unlink_company && u.company_id.as_deref() == Some("acme"));
        assert_eq!(
            CompanyIdentify::parse(&json!({ "name": "Acme" }))
                .unwrap_err()
                .field,
            "company_id"
        );
    }

    #[test]
    fn a_context_update_names_exactly_one_owner_and_something_to_do() {
        let set = json!({ "a": { "label": "A", "value": 1 } });
        assert!(ContextUpdate::parse(&json!({ "user_id": "u", "set": set })).is_ok());
        assert!(ContextUpdate::parse(&json!({ "company_id": "c", "delete": ["a"] })).is_ok());
        assert_eq!(
            ContextUpdate::parse(&json!({ "user_id": "u", "company_id": "c", "set": set }))
                .unwrap_err()
                .field,
            "user_id"
        );
        assert_eq!(
            ContextUpdate::parse(&json!({ "user_id": "u" }))
                .unwrap_err()
                .field,
            "set"
        );
        // Keys to delete that cannot be keys are left out with a warning; the rest is done.
        let u =
            ContextUpdate::parse(&json!({ "user_id": "u", "set": set, "delete": ["gone", 5, ""] }))
                .unwrap();
        assert_eq!(
            (u.set.len(), u.delete.as_slice()),
            (1, ["gone".to_owned()].as_slice())
        );
        let fields: Vec<&str> = u.warnings.iter().map(|w| w.field.as_str()).collect();
        assert_eq!(fields, ["delete[1]", "delete[2]"]);
        let u = ContextUpdate::parse(&json!({ "user_id": "u", "delete": "a" })).unwrap();
        assert_eq!(
            (u.delete.len(), u.warnings[0].field.as_str()),
            (0, "delete")
        );
    }

    #[test]
    fn sightings_carry_type_and_a_short_sample() {
        let s = trait_sightings(
            Scope::User,
            json!({ "plan": "pro", "seats": 3, "gone": null })
                .as_object()
                .unwrap(),
        );
        assert_eq!(s.len(), 2);
        assert_eq!(
            (s[0].key.as_str(), s[0].kind.as_str(), s[0].sample.as_str()),
            ("plan", "string", "pro")
        );
        let ctx = BTreeMap::from([(
            "i".to_owned(),
            ContextEntry {
                label: "I".into(),
                kind: Some(chat::ContextType::Integration),
                value: json!(["x".repeat(300)]),
            },
        )]);
        let c = context_sightings(&ctx);
        assert_eq!(
            (c[0].kind.as_str(), c[0].sample.chars().count()),
            ("integration", 100)
        );
    }

    #[test]
    fn a_description_is_set_or_cleared() {
        let d = AttributeDescription::parse(
            &json!({ "scope": "user", "key": "plan", "description": "Billing plan" }),
        )
        .unwrap();
        assert_eq!(d.description.as_deref(), Some("Billing plan"));
        let d = AttributeDescription::parse(
            &json!({ "scope": "context", "key": "k", "description": null }),
        )
        .unwrap();
        assert_eq!(d.description, None);
        assert_eq!(
            AttributeDescription::parse(&json!({ "scope": "org", "key": "k", "description": "" }))
                .unwrap_err()
                .field,
            "scope"
        );
    }
}
