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
