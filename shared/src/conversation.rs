//! What the team sees about a conversation: the user's mood from a sentiment score on each
//! message, the outcome, the AI score, per-message ratings, trainer feedback and whispers.
//!
//! Sentiment is a small lexicon scorer (no model, so it runs on every message for free): word
//! polarities, flipped by a negation just before, strengthened by intensifiers, capitals and
//! exclamation marks, squashed into -1..1.

use serde::Serialize;
use serde_json::Value;

use crate::chat::{body_object, bounded_string, FieldError, InvalidField};

/// Longest trainer note or whisper.
pub const MAX_NOTE_CHARS: usize = 4_000;

const POSITIVE: &[(&str, f64)] = &[
    ("thanks", 1.5),
    ("thank", 1.5),
    ("thx", 1.0),
    ("great", 2.0),
    ("awesome", 2.5),
    ("perfect", 2.5),
    ("excellent", 2.5),
    ("amazing", 2.5),
    ("love", 2.5),
    ("helpful", 2.0),
    ("works", 1.0),
    ("worked", 1.5),
    ("working", 0.5),
    ("solved", 2.0),
    ("fixed", 1.5),
    ("good", 1.5),
    ("nice", 1.5),
    ("appreciate", 2.0),
    ("glad", 1.5),
    ("happy", 2.0),
    ("brilliant", 2.5),
    ("cool", 1.0),
    ("easy", 1.0),
    ("clear", 1.0),
];

const NEGATIVE: &[(&str, f64)] = &[
    ("bad", -1.5),
    ("broken", -1.5),
    ("wrong", -1.5),
    ("error", -1.0),
    ("errors", -1.0),
    ("fail", -1.5),
    ("fails", -1.5),
    ("failed", -1.5),
    ("failing", -1.5),
    ("crash", -1.5),
    ("crashes", -1.5),
    ("stuck", -1.5),
    ("slow", -1.0),
    ("problem", -1.0),
    ("issue", -0.5),
    ("bug", -1.0),
    ("annoying", -2.0),
    ("annoyed", -2.0),
    ("frustrated", -2.5),
    ("frustrating", -2.5),
    ("disappointed", -2.5),
    ("disappointing", -2.5),
    ("upset", -2.5),
    ("unhappy", -2.5),
    ("useless", -3.0),
    ("terrible", -3.0),
    ("awful", -3.0),
    ("horrible", -3.0),
    ("worst", -3.5),
    ("hate", -3.5),
    ("ridiculous", -3.0),
    ("unacceptable", -3.5),
    ("furious", -4.0),
    ("angry", -3.5),
    ("pathetic", -3.5),
    ("garbage", -3.5),
    ("scam", -4.0),
    ("wtf", -3.5),
    ("joke", -1.5),
    ("waste", -2.5),
    ("again", -0.5),
    ("still", -0.5),
    ("cancel", -1.0),
    ("refund", -0.5),
];

const NEGATIONS: &[&str] = &[
    "not", "no", "never", "dont", "doesnt", "didnt", "isnt", "wasnt", "cant", "cannot", "wont",
    "aint", "hardly",
];
const INTENSIFIERS: &[&str] = &[
    "very",
    "really",
    "so",
    "extremely",
    "totally",
    "completely",
    "absolutely",
    "super",
];
const CONFUSION: &[&str] = &[
    "confused",
    "confusing",
    "dont understand",
    "do not understand",
    "didnt understand",
    "not sure what",
    "not sure how",
    "what do you mean",
    "makes no sense",
    "doesnt make sense",
    "unclear",
    "lost",
    "no idea",
];

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .filter(|w| !w.is_empty())
        .map(|w| w.replace('\'', "").to_lowercase())
        .collect()
}

/// The sentiment of a message, from -1 (hostile) to 1 (delighted); 0 is neutral.
pub fn sentiment(text: &str) -> f64 {
    let raw: Vec<&str> = text
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .filter(|w| !w.is_empty())
        .collect();
    let ws = words(text);
    let mut total = 0.0;
    for (i, w) in ws.iter().enumerate() {
        let polarity = POSITIVE
            .iter()
            .chain(NEGATIVE)
            .find(|(k, _)| k == w)
            .map(|(_, v)| *v);
        let Some(mut v) = polarity else { continue };
        let before = &ws[i.saturating_sub(2)..i];
        if before.iter().any(|b| NEGATIONS.contains(&b.as_str())) {
            v = -v * 0.75;
        }
        if i > 0 && INTENSIFIERS.contains(&ws[i - 1].as_str()) {
            v *= 1.5;
        }
        let shouted = raw
            .get(i)
            .is_some_and(|r| r.len() > 2 && r.chars().all(|c| !c.is_lowercase()));
        if shouted && v < 0.0 {
            v *= 1.5;
        }
        total += v;
    }
    let bangs = text.matches('!').count().min(3) as f64;
    if total < 0.0 {
        total -= 0.5 * bangs;
    } else if total > 0.0 {
        total += 0.25 * bangs;
    }
    // Squash into -1..1: one strong word is about ±0.5, a tirade approaches ±1.
    total / (total.abs() + 3.0)
}

/// The user's mood, as the live feed shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mood {
    Happy,
    Neutral,
    Confused,
    Frustrated,
    Angry,
}

impl Mood {
    pub fn as_str(self) -> &'static str {
        match self {
            Mood::Happy => "happy",
            Mood::Neutral => "neutral",
            Mood::Confused => "confused",
            Mood::Frustrated => "frustrated",
            Mood::Angry => "angry",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Mood::Happy,
            Mood::Neutral,
            Mood::Confused,
            Mood::Frustrated,
            Mood::Angry,
        ]
        .into_iter()
        .find(|m| m.as_str() == s)
    }
}

/// The mood a message shows: its sentiment, and whether it says the user is lost.
pub fn mood(text: &str) -> (f64, Mood) {
    let score = sentiment(text);
    let joined = format!(" {} ", words(text).join(" "));
    let lost = CONFUSION.iter().any(|c| joined.contains(&format!(" {c} "))) || text.contains("??");
    let mood = if score <= -0.6 {
        Mood::Angry
    } else if lost {
        Mood::Confused
    } else if score <= -0.25 {
        Mood::Frustrated
    } else if score >= 0.3 {
        Mood::Happy
    } else {
        Mood::Neutral
    };
    (score, mood)
}

/// Whether a message tells the AI its answer worked ("thanks, that fixed it").
pub fn says_resolved(text: &str) -> bool {
    let joined = format!(" {} ", words(text).join(" "));
    let thanks = [" thanks ", " thank you ", " thx ", " cheers "]
        .iter()
        .any(|p| joined.contains(p));
    let worked = [
        " that worked ",
        " it worked ",
        " that fixed ",
        " fixed it ",
        " solved ",
        " works now ",
        " all good ",
        " got it ",
        " perfect ",
    ]
    .iter()
    .any(|p| joined.contains(p));
    (thanks || worked) && sentiment(text) > 0.0
}

/// How a conversation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Resolved,
    Escalated,
    Abandoned,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Resolved => "resolved",
            Outcome::Escalated => "escalated",
            Outcome::Abandoned => "abandoned",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Outcome::Resolved, Outcome::Escalated, Outcome::Abandoned]
            .into_iter()
            .find(|o| o.as_str() == s)
    }
}

/// What the AI score is computed from.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ScoreInputs {
    pub outcome: Option<Outcome>,
    /// Mean sentiment of the user's messages (-1..1), `None` before the first one.
    pub mean_sentiment: Option<f64>,
    pub thumbs_up: u32,
    pub thumbs_down: u32,
    /// Trainer corrections of the AI's answers.
    pub corrections: u32,
}

/// The AI score (0-100), a documented heuristic:
/// - start at 50;
/// - outcome: Resolved +30, Escalated -15, Abandoned -10, still open 0;
/// - sentiment: +20 × the mean sentiment of the user's messages (-20..+20);
/// - ratings: +10 per thumbs-up, -15 per thumbs-down, together within -30..+30;
/// - trainer corrections: -10 each, at most -30;
/// - clamped to 0..100 and rounded.
pub fn ai_score(i: &ScoreInputs) -> u8 {
    let outcome = match i.outcome {
        Some(Outcome::Resolved) => 30.0,
        Some(Outcome::Escalated) => -15.0,
        Some(Outcome::Abandoned) => -10.0,
        None => 0.0,
    };
    let sentiment = 20.0 * i.mean_sentiment.unwrap_or(0.0).clamp(-1.0, 1.0);
    let ratings =
        (10.0 * f64::from(i.thumbs_up) - 15.0 * f64::from(i.thumbs_down)).clamp(-30.0, 30.0);
    let corrections = (-10.0 * f64::from(i.corrections)).max(-30.0);
    (50.0 + outcome + sentiment + ratings + corrections)
        .clamp(0.0, 100.0)
        .round() as u8
}

/// A user's rating of one AI answer: `{ "message_id", "rating": "up" | "down" | null }`
/// (`null` takes the rating back).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rating {
    pub message_id: String,
    pub rating: Option<i8>,
}

impl Rating {
    pub fn parse(body: &Value) -> Result<Self, FieldError> {
        let o = body_object(body)?;
        let message_id = required_text(o.get("message_id"), "message_id", 64)?;
        let rating = match o.get("rating") {
            None => return Err(FieldError::new("rating", InvalidField::Missing)),
            Some(Value::Null) => None,
            Some(Value::String(s)) if s == "up" => Some(1),
            Some(Value::String(s)) if s == "down" => Some(-1),
            Some(_) => {
                return Err(FieldError::new(
                    "rating",
                    InvalidField::NotOneOf {
                        allowed: "up, down, null",
                    },
                ))
            }
        };
        Ok(Self { message_id, rating })
    }
}

/// A teammate's note on an AI answer, kept for training: `{ kind, text }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feedback {
    /// `feedback` (a remark on the answer) or `correction` (what it should have said).
    pub kind: &'static str,
    pub text: String,
}

impl Feedback {
    pub fn parse(body: &Value) -> Result<Self, FieldError> {
        let o = body_object(body)?;
        let kind = match o.get("kind") {
            None | Some(Value::Null) => "feedback",
            Some(Value::String(s)) if s == "feedback" => "feedback",
            Some(Value::String(s)) if s == "correction" => "correction",
            Some(_) => {
                return Err(FieldError::new(
                    "kind",
                    InvalidField::NotOneOf {
                        allowed: "feedback, correction",
                    },
                ))
            }
        };
        let text = required_text(o.get("text"), "text", MAX_NOTE_CHARS)?;
        Ok(Self { kind, text })
    }
}

/// A teammate's whisper to the AI: `{ text, persist? }`. It steers the AI's next reply in the
/// conversation; with `persist: true` it is kept for that customer and steers every reply to
/// them from then on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Whisper {
    pub text: String,
    pub persist: bool,
}

impl Whisper {
    pub fn parse(body: &Value) -> Result<Self, FieldError> {
        let o = body_object(body)?;
        let text = required_text(o.get("text"), "text", MAX_NOTE_CHARS)?;
        let persist = match o.get("persist") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                return Err(FieldError::new(
                    "persist",
                    InvalidField::WrongType {
                        expected: "a boolean",
                    },
                ))
            }
        };
        Ok(Self { text, persist })
    }
}

/// A required, non-blank string of at most `max` characters.
pub fn required_text(v: Option<&Value>, field: &str, max: usize) -> Result<String, FieldError> {
    let v = v
        .filter(|v| !v.is_null())
        .ok_or_else(|| FieldError::new(field, InvalidField::Missing))?;
    let s = bounded_string(field, v, max)?;
    if s.trim().is_empty() {
        return Err(FieldError::new(field, InvalidField::Empty));
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn moods_follow_what_people_write() {
        let cases = [
            ("Thanks, that worked perfectly!", Mood::Happy),
            ("Awesome, really helpful", Mood::Happy),
            ("How do I export my data?", Mood::Neutral),
            ("My export is not working", Mood::Neutral),
            ("The export failed again and I'm stuck", Mood::Frustrated),
            (
                "I'm confused, what do you mean by workspace?",
                Mood::Confused,
            ),
            ("I don't understand the billing page", Mood::Confused),
            ("This is USELESS, worst support ever!!!", Mood::Angry),
            (
                "I hate this, it's a scam and totally unacceptable",
                Mood::Angry,
            ),
            ("not bad at all", Mood::Neutral),
        ];
        for (text, want) in cases {
            assert_eq!(mood(text).1, want, "{text:?} scored {}", sentiment(text));
        }
    }

    #[test]
    fn sentiment_stays_within_bounds_and_negation_flips_it() {
        let long_rant = "terrible awful horrible worst hate ".repeat(50);
        assert!(sentiment(&long_rant) > -1.0 && sentiment(&long_rant) < -0.95);
        assert!(sentiment("great") > 0.0);
        assert!(sentiment("not great") < 0.0);
        assert!(sentiment("very bad") < sentiment("bad"));
        assert!(sentiment("BROKEN") < sentiment("broken"));
        assert_eq!(sentiment(""), 0.0);
    }

    #[test]
    fn resolution_is_thanks_or_it_worked_but_not_sarcasm() {
        assert!(says_resolved("Thanks, that fixed it"));
        assert!(says_resolved("perfect, it worked"));
        assert!(!says_resolved("thanks for nothing, this is useless"));
        assert!(!says_resolved("How do I reset my password?"));
    }

    #[test]
    fn the_ai_score_is_the_documented_sum() {
        let base = ScoreInputs::default();
        assert_eq!(ai_score(&base), 50);
        let resolved_happy = ScoreInputs {
            outcome: Some(Outcome::Resolved),
            mean_sentiment: Some(0.5),
            thumbs_up: 1,
            ..base
        };
        assert_eq!(ai_score(&resolved_happy), 100); // 50 + 30 + 10 + 10 = 100
        let escalated_angry = ScoreInputs {
            outcome: Some(Outcome::Escalated),
            mean_sentiment: Some(-0.8),
            thumbs_down: 1,
            corrections: 1,
            ..base
        };
        assert_eq!(ai_score(&escalated_angry), 0); // 50 - 15 - 16 - 15 - 10 = -6 → 0
        let abandoned = ScoreInputs {
            outcome: Some(Outcome::Abandoned),
            ..base
        };
        assert_eq!(ai_score(&abandoned), 40);
        let many_downs = ScoreInputs {
            thumbs_down: 10,
            ..base
        };
        assert_eq!(ai_score(&many_downs), 20, "ratings are capped at -30");
    }

    #[test]
    fn ratings_feedback_and_whispers_are_validated() {
        let r = Rating::parse(&json!({ "message_id": "m1", "rating": "up" })).unwrap();
        assert_eq!(r.rating, Some(1));
        assert_eq!(
            Rating::parse(&json!({ "message_id": "m1", "rating": null }))
                .unwrap()
                .rating,
            None
        );
        assert_eq!(
            Rating::parse(&json!({ "message_id": "m1", "rating": 5 }))
                .unwrap_err()
                .field,
            "rating"
        );
        assert_eq!(
            Rating::parse(&json!({ "rating": "up" })).unwrap_err().field,
            "message_id"
        );
        let f = Feedback::parse(&json!({ "kind": "correction", "text": "Say 30 days." })).unwrap();
        assert_eq!(f.kind, "correction");
        assert!(Feedback::parse(&json!({ "kind": "praise", "text": "x" })).is_err());
        assert!(Feedback::parse(&json!({ "text": "  " })).is_err());
        let w =
            Whisper::parse(&json!({ "text": "Offer the annual plan", "persist": true })).unwrap();
        assert!(w.persist);
        assert!(Whisper::parse(&json!({ "text": "x", "persist": "yes" })).is_err());
        assert!(Whisper::parse(&json!({ "text": "x".repeat(MAX_NOTE_CHARS + 1) })).is_err());
    }
}
