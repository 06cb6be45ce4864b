//! The workspace settings' wire shapes, as the Worker writes them and the console reads them:
//! knowledge sources, what a knowledge search returns, and the discovered attributes.

use serde::{Deserialize, Serialize};

/// A knowledge source (`GET /api/sdk/knowledge/sources`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Source {
    pub id: String,
    pub title: String,
    pub url: Option<String>,
    pub kind: String,
    /// How many chunks it was split into.
    pub chunks: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A passage a knowledge search found (`GET /api/sdk/knowledge/search`): what the answer
/// engines are given for a question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KnowledgeHit {
    pub chunk_id: i64,
    pub source_id: String,
    pub title: String,
    pub url: Option<String>,
    pub heading: Option<String>,
    pub text: String,
    #[serde(default)]
    pub similarity: Option<f32>,
    #[serde(default)]
    pub relevance: Option<f32>,
}

/// An account-data passage the engine would get for a question (the search tester's second
/// list, with `user_id`): a fact about the contact or their company and how well it matches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountFact {
    pub key: String,
    pub label: String,
    pub text: String,
    pub support: f64,
}

/// A trait or context key the workspace has sent (`GET /api/sdk/attributes`), with the
/// team's description the AI receives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attribute {
    /// `user`, `company` or `context`.
    pub scope: String,
    pub key: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub sample: Option<String>,
    pub description: Option<String>,
    pub first_seen_at: i64,
    pub last_seen_at: i64,
}

/// A workspace credential as the console lists it (`GET /api/console/keys`): never the
/// secret value, only its hint; the widget key in full, since every page with the widget
/// publishes it anyway.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyView {
    pub id: String,
    pub kind: crate::keys::KeyKind,
    /// `sk_live_…3f9a`.
    pub hint: String,
    /// The full key, for the widget key only (`None` for a widget key issued before keys
    /// were kept, which a rotation replaces).
    #[serde(default)]
    pub widget_key: Option<String>,
    pub created_at: i64,
    /// `None`: the current key; else it was replaced and works until then.
    #[serde(default)]
    pub expires_at: Option<i64>,
}

/// The steps of the setup wizard, in order.
pub const SETUP_STEPS: &[&str] = &["company", "knowledge", "agent", "install", "team"];

/// Where the owner is in the setup wizard: each step done or skipped, and whether they
/// closed it. Stored per workspace, so the wizard resumes where it was left.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Setup {
    /// Step name -> `done` or `skipped`.
    pub steps: std::collections::BTreeMap<String, String>,
    /// The owner closed the wizard; it opens again only from the menu.
    pub dismissed: bool,
}

impl Setup {
    pub fn from_stored(stored: Option<&str>) -> Setup {
        stored
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or_default()
    }

    /// The first step neither done nor skipped.
    pub fn next_step(&self) -> Option<&'static str> {
        SETUP_STEPS
            .iter()
            .copied()
            .find(|s| !self.steps.contains_key(*s))
    }

    /// `{ steps?: { <step>: "done" | "skipped" | null }, dismissed? }` applied to this state.
    pub fn updated(&self, patch: &serde_json::Value) -> Result<Setup, crate::chat::FieldError> {
        use crate::chat::{field_error as err, InvalidField};
        let o = patch.as_object().ok_or_else(|| {
            err(
                "setup",
                InvalidField::WrongType {
                    expected: "an object",
                },
            )
        })?;
        let mut next = self.clone();
        for (key, v) in o {
            match key.as_str() {
                "dismissed" => {
                    next.dismissed = v.as_bool().ok_or_else(|| {
                        err(
                            "setup.dismissed",
                            InvalidField::WrongType {
                                expected: "a boolean",
                            },
                        )
                    })?
                }
                "steps" => {
                    let steps = v.as_object().ok_or_else(|| {
                        err(
                            "setup.steps",
                            InvalidField::WrongType {
                                expected: "an object",
                            },
                        )
                    })?;
                    for (step, state) in steps {
                        let name = format!("setup.steps.{step}");
                        if !SETUP_STEPS.contains(&step.as_str()) {
                            return Err(err(&name, InvalidField::Invalid("is not a setup step")));
                        }
                        match state.as_str() {
                            _ if state.is_null() => {
                                next.steps.remove(step);
                            }
                            Some(s @ ("done" | "skipped")) => {
                                next.steps.insert(step.clone(), s.to_owned());
                            }
                            _ => {
                                return Err(err(
                                    &name,
                                    InvalidField::NotOneOf {
                                        allowed: "done, skipped, null",
                                    },
                                ))
                            }
                        }
                    }
                }
                other => {
                    return Err(err(
                        &format!("setup.{other}"),
                        InvalidField::Invalid("is not a setup field"),
                    ))
                }
            }
        }
        Ok(next)
    }
}

/// The install check: when the first message from the widget on a site arrived, and from
/// which origin.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InstallCheck {
    pub first_message_at: Option<i64>,
    pub first_message_origin: Option<String>,
}

/// What the AI does with an email: nothing, a suggested reply for the team (an internal
/// note), or an answer sent when it is confident (else the suggestion).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EmailAi {
    Off,
    #[default]
    Draft,
    Send,
}

/// A workspace's email settings (`email` of the settings PATCH).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EmailSettings {
    pub ai: EmailAi,
    /// Senders (`a@b.com`) or domains (`b.com`) whose mail is never spam.
    pub trusted: Vec<String>,
    /// The Mailgun webhook signing key, if the workspace receives mail through Mailgun.
    pub mailgun_signing_key: Option<String>,
}

impl EmailSettings {
    pub fn from_stored(stored: Option<&str>) -> EmailSettings {
        stored
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or_default()
    }

    /// `{ ai?, trusted?, mailgun_signing_key? }` applied to these settings.
    pub fn updated(
        &self,
        patch: &serde_json::Value,
    ) -> Result<EmailSettings, crate::chat::FieldError> {
        use crate::chat::{field_error as err, InvalidField};
        let o = patch.as_object().ok_or_else(|| {
            err(
                "email",
                InvalidField::WrongType {
                    expected: "an object",
                },
            )
        })?;
        let mut next = self.clone();
        for (key, v) in o {
            let name = format!("email.{key}");
            match key.as_str() {
                "ai" => {
                    next.ai = serde_json::from_value(v.clone()).map_err(|_| {
                        err(
                            &name,
                            InvalidField::NotOneOf {
                                allowed: "off, draft, send",
                            },
                        )
                    })?
                }
                "trusted" => {
                    let list: Vec<String> = serde_json::from_value(v.clone()).map_err(|_| {
                        err(
                            &name,
                            InvalidField::WrongType {
                                expected: "an array of strings",
                            },
                        )
                    })?;
                    if list.len() > 200 {
                        return Err(err(
                            &name,
                            InvalidField::TooMany {
                                max: 200,
                                len: list.len(),
                            },
                        ));
                    }
                    if let Some(bad) = list.iter().position(|t| {
                        t.trim().is_empty() || t.len() > 254 || t.contains(char::is_whitespace)
                    }) {
                        return Err(err(
                            &format!("{name}[{bad}]"),
                            InvalidField::Invalid("must be an address or a domain"),
                        ));
                    }
                    next.trusted = list
                        .into_iter()
                        .map(|t| t.trim().to_ascii_lowercase())
                        .collect();
                }
                "mailgun_signing_key" => {
                    next.mailgun_signing_key = match v {
                        serde_json::Value::Null => None,
                        serde_json::Value::String(k) if (8..=200).contains(&k.len()) => {
                            Some(k.clone())
                        }
                        _ => {
                            return Err(err(
                                &name,
                                InvalidField::Invalid(
                                    "must be the 8 to 200 characters of the key, or null",
                                ),
                            ))
                        }
                    }
                }
                _ => return Err(err(&name, InvalidField::Invalid("is not an email setting"))),
            }
        }
        Ok(next)
    }
}

/// A workspace's settings as the console reads them (`GET /api/console/workspace`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkspaceSettings {
    pub org_id: String,
    pub name: String,
    pub allowed_origins: Option<Vec<String>>,
    pub identity_verification: bool,
    /// Whether a verified user (a valid identity token) has been seen.
    pub verified_traffic: bool,
    pub appearance: crate::appearance::Appearance,
    pub setup: Setup,
    pub install: InstallCheck,
    /// The current widget key, for the snippet (`None` when only its hash is kept).
    pub widget_key: Option<String>,
    pub routing: crate::routing::Routing,
    /// By action; secrets shown as `…`.
    pub webhooks: serde_json::Value,
    /// Where the workspace receives email.
    pub inbound_email: String,
    /// The email channel's settings (the Mailgun key shown as `…`).
    pub email: EmailSettings,
    /// Rate limits a minute, and the model budget.
    pub limits: crate::limits::Limits,
    /// What the workspace spent on models today (UTC).
    pub usage: crate::limits::Usage,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_wizard_resumes_at_the_first_step_neither_done_nor_skipped() {
        let s = Setup::default()
            .updated(&json!({ "steps": { "company": "done", "knowledge": "skipped" } }))
            .unwrap();
        assert_eq!(s.next_step(), Some("agent"));
        let s = s
            .updated(&json!({ "steps": { "knowledge": null, "agent": "done" } }))
            .unwrap();
        assert_eq!(s.next_step(), Some("knowledge"));
        let all = SETUP_STEPS
            .iter()
            .map(|s| (s.to_string(), json!("done")))
            .collect::<serde_json::Map<_, _>>();
        assert_eq!(
            Setup::default()
                .updated(&json!({ "steps": all }))
                .unwrap()
                .next_step(),
            None
        );
    }

    #[test]
    fn unknown_steps_and_states_are_refused_by_name() {
        for (patch, field) in [
            (
                json!({ "steps": { "billing": "done" } }),
                "setup.steps.billing",
            ),
            (
                json!({ "steps": { "agent": "maybe" } }),
                "setup.steps.agent",
            ),
            (json!({ "dismissed": "yes" }), "setup.dismissed"),
            (json!({ "colour": 1 }), "setup.colour"),
        ] {
            assert_eq!(Setup::default().updated(&patch).unwrap_err().field, field);
        }
    }
}
