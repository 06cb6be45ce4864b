//! The offline answer engine's logic: answer from the workspace's own help articles with no
//! model at all.
//!
//! The edge searches the index and hands the best passages here. This module decides whether
//! they answer the question, quotes the most relevant sentences of the best one, cites the
//! sources, and derives a confidence from how much of the question the passage covers. When
//! nothing fits it says so plainly and offers a person, instead of guessing.

use serde_json::Value;

use crate::chat::{reason, Action, Citation, ContextType};
use crate::context::{clean, Profile};
use crate::evidence::{self, Evidence, Fact};
use crate::search::{concepts, query_terms, stem, words, Phrases};

/// A passage found by search: one chunk of a knowledge article.
#[derive(Debug, Clone, PartialEq)]
pub struct Passage {
    pub title: String,
    pub url: Option<String>,
    pub heading: Option<String>,
    pub text: String,
    /// Cosine similarity to the question, when semantic search found it.
    pub similarity: Option<f32>,
}

/// What an answer engine produced for one message.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub text: String,
    pub confidence: f64,
    pub citations: Vec<Citation>,
    pub actions: Vec<Action>,
}

impl Answer {
    /// Whether this is the engine's "nothing found": it offers a person for that reason and
    /// cites nothing (a guess at the closest fact offers one too, citing the fact).
    pub fn found_nothing(&self) -> bool {
        self.citations.is_empty()
            && self
                .actions
                .iter()
                .any(|a| matches!(a, Action::OfferHuman { reason } if reason == reason::NO_ANSWER))
    }
}

/// Longest quoted excerpt, in characters.
pub const MAX_EXCERPT_CHARS: usize = 600;

/// The reply when the knowledge base has nothing on the question.
pub const NO_ANSWER_TEXT: &str =
    "I couldn't find anything about that in our help articles, so I'd rather not guess. \
Would you like me to bring in someone from the team?";

/// [`NO_ANSWER_TEXT`] for a user whose account data was searched too.
pub const NO_ANSWER_WITH_DATA_TEXT: &str =
    "I couldn't find that in your account details or in our help articles, so I'd rather not \
guess. Would you like me to bring in someone from the team?";

/// The reply when answering failed for a reason of ours (a model or the index was down).
pub const FAILURE_TEXT: &str =
    "Sorry, I couldn't put an answer together just now. Your message is saved, \
and someone from the team can pick it up from here.";

/// The reply when the question needs something only the team can do.
pub const NEEDS_TEAM_TEXT: &str =
    "That's something a person on our team needs to do, so I've passed this conversation \
to them with what you wrote. They'll reply here.";

/// Requests only a person can carry out (money, deleting an account, exceptions): the
/// offline engine hands them over instead of quoting a policy article at the user.
const TEAM_ONLY: &[&str] = &[
    "money back",
    "refund me",
    "want a refund",
    "need a refund",
    "give me a refund",
    "issue a refund",
    "full refund",
    "delete my account",
    "close my account",
    "cancel my account",
    "delete my data",
    "erase my data",
    "charged twice",
    "double charged",
    "waive",
    "extend my trial",
    "unlock my account",
    "speak to a manager",
    "make a complaint",
    "file a complaint",
    "compensation",
    "change the passenger name",
    "change the name on",
    "misspelled",
    "misspelt",
];

/// Money paid back asked for, with what is to be paid back: "refund me", "refund my order",
/// "can you reimburse the taxi".
const REFUND_DEMANDS: &[&str] = &[
    "refund me",
    "refund it",
    "refund them",
    "refund all",
    "refund this",
    "refund that",
    "refund my",
    "refund the",
    "refund our",
    "reimburse me",
    "reimburse my",
    "reimburse the",
    "pay me back",
];

/// What says the user asks how it works, or does not want it ("can you tell me your refund
/// policy?", "could you check whether my refund was processed?", "I don't want a refund").
const NOT_A_DEMAND: &[&str] = &[
    "how",
    "policy",
    "eligible",
    "status",
    "check",
    "whether",
    "processed",
];

/// What says the user does not want it after all.
const NOT_WANTED: &[&str] = &[
    "don t want",
    "do not want",
    "no need",
    "not asking",
    "not looking",
];

/// Whether the question asks for something only the team can do: one of [`TEAM_ONLY`], or
/// money paid back asked for as a demand ("refund my order", "I want all 3 refunded"), not as
/// a question about the policy or its progress ("how long do refunds take?").
pub fn needs_team(question: &str) -> bool {
    let said = Phrases::of(question);
    if said.has_any(NOT_WANTED) {
        return false;
    }
    if said.has_any(TEAM_ONLY) {
        return true;
    }
    if said.has_any(NOT_A_DEMAND) {
        return false;
    }
    // "I want all 3 refunded": a wish, then the word, in the same message.
    let ws: Vec<String> = words(question).collect();
    let wished_done = ws.iter().enumerate().any(|(i, w)| {
        (w == "refunded" || w == "reimbursed")
            && ws[..i]
                .iter()
                .any(|x| ["want", "need", "like", "expect", "demand"].contains(&x.as_str()))
    });
    // "I want to make a formal complaint", "lodge an official complaint about the driver".
    let complains = ws.iter().enumerate().any(|(i, w)| {
        (w == "complaint" || w == "complain")
            && ws[i.saturating_sub(3)..i].iter().any(|x| {
                [
                    "make", "file", "lodge", "raise", "submit", "register", "want",
                ]
                .contains(&x.as_str())
            })
    });
    said.has_any(REFUND_DEMANDS) || wished_done || complains
}

/// Who a user may ask to talk to: a person, or anyone by their role.
const PEOPLE_TO_TALK_TO: &[&str] = &[
    "human",
    "person",
    "someone",
    "somebody",
    "anyone",
    "anybody",
    "agent",
    "representative",
    "rep",
    "staff",
    "operator",
    "manager",
    "supervisor",
    "advisor",
    "adviser",
    "pharmacist",
    "doctor",
    "nurse",
    "vet",
    "dentist",
    "engineer",
    "technician",
    "specialist",
    "expert",
    "colleague",
];

/// Whether a message asks for a person: "talk to / speak with / chat with" someone (up to
/// four words later: "an actual pharmacist", "a real person") after a request up to
/// [`REQUEST_REACH`] words before ("can i", "i want to", "let me", "i want to make a formal
/// complaint and talk to"), or says it is not the bot it wants.
fn asks_for_person(said: &Phrases, message: &str) -> bool {
    if said.has_any(&[
        "not a bot",
        "not a robot",
        "not a machine",
        "not an ai",
        "real person",
        "actual person",
        "actual human",
        "live agent",
        "talk to support",
        "speak to support",
        "talk to your team",
        "speak to your team",
        "talk to the team",
        "speak to the team",
        "put me through",
    ]) {
        return true;
    }
    const REQUESTS: &[&str] = &[
        "can", "could", "may", "want", "like", "let", "need", "wanna", "please", "rather",
    ];
    let ws: Vec<String> = words(message).collect();
    ws.iter().enumerate().any(|(i, w)| {
        ["talk", "speak", "chat"].contains(&w.as_str())
            && ws[i.saturating_sub(REQUEST_REACH)..i]
                .iter()
                .any(|x| REQUESTS.contains(&x.as_str()))
            && ws
                .iter()
                .skip(i + 1)
                .take(4)
                .any(|x| PEOPLE_TO_TALK_TO.contains(&x.as_str()))
    })
}

/// How many words before "talk" a request may stand: one clause's worth.
const REQUEST_REACH: usize = 8;

/// A reply that offers a person, with `reason` for the caller.
pub fn offer_human(text: &str, reason: &str, confidence: f64) -> Answer {
    Answer {
        text: text.to_owned(),
        confidence,
        citations: Vec::new(),
        actions: vec![Action::OfferHuman {
            reason: reason.to_owned(),
        }],
    }
}

/// Small talk the engine answers without searching.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intent {
    Greeting,
    Thanks,
    Capabilities,
    Human,
    Question,
}

/// Classifies a message. Only short, unambiguous messages count as small talk.
pub fn intent(message: &str) -> Intent {
    let n = words(message).count();
    let said = Phrases::of(message);
    let has = |phrase: &str| said.has(phrase);
    if asks_for_person(&said, message)
        || (["human", "a person", "someone", "representative"]
            .iter()
            .any(|p| has(p))
            && ["want", "need", "get", "human", "person", "representative"]
                .iter()
                .any(|p| has(p)))
    {
        return Intent::Human;
    }
    if n <= 6
        && [
            "what can you do",
            "who are you",
            "what are you",
            "how can you help",
            "what do you do",
        ]
        .iter()
        .any(|p| has(p))
    {
        return Intent::Capabilities;
    }
    if n <= 4
        && [
            "thanks",
            "thank you",
            "thx",
            "cheers",
            "great thanks",
            "perfect",
        ]
        .iter()
        .any(|p| has(p))
    {
        return Intent::Thanks;
    }
    if n <= 3
        && [
            "hi",
            "hello",
            "hey",
            "good morning",
            "good afternoon",
            "good evening",
            "yo",
            "hiya",
        ]
        .iter()
        .any(|p| has(p))
    {
        return Intent::Greeting;
    }
    Intent::Question
}

/// Answers small talk, or `None` when the message is a real question.
pub fn small_talk(message: &str) -> Option<Answer> {
    let reply = |text: &str| Answer {
        text: text.to_owned(),
        confidence: 0.9,
        citations: Vec::new(),
        actions: Vec::new(),
    };
    match intent(message) {
        Intent::Greeting => Some(reply("Hi! I'm the support assistant. Ask me anything about the product and I'll look it up in our help articles.")),
        Intent::Thanks => Some(reply("You're welcome! Anything else I can help with?")),
        Intent::Capabilities => Some(reply(
            "I answer questions from our help articles, with a link to the source so you can read more. \
If I can't find the answer, I'll say so and bring in someone from the team.",
        )),
        Intent::Human => Some(offer_human(
            "Of course. I've flagged this conversation for the team, and a person will pick it up from here.",
            reason::USER_REQUESTED,
            1.0,
        )),
        Intent::Question => None,
    }
}

/// How much of the question a passage covers: the share of the question's topic terms that
/// appear (stemmed) in the passage's title, heading or text.
pub fn coverage(question: &str, passage: &Passage) -> f64 {
    chunk_coverage(
        question,
        &passage.title,
        passage.heading.as_deref(),
        &passage.text,
    )
}

/// [`coverage`] of a chunk given by its parts (a search hit that is not a [`Passage`]).
pub fn chunk_coverage(question: &str, title: &str, heading: Option<&str>, text: &str) -> f64 {
    let terms: Vec<String> = query_terms(question).iter().map(|t| stem(t)).collect();
    if terms.is_empty() {
        return 0.0;
    }
    let present: std::collections::HashSet<String> = [title, heading.unwrap_or(""), text]
        .iter()
        .flat_map(|part| words(part))
        .map(|w| stem(&w))
        .collect();
    let hits = terms.iter().filter(|t| present.contains(*t)).count();
    hits as f64 / terms.len() as f64
}

/// How close in meaning a passage is, from its cosine similarity to the question: 0 at 0.35
/// or below (unrelated sentences sit around 0.1), 1 at 0.75 and above (close paraphrases).
pub fn meaning(passage: &Passage) -> f64 {
    passage
        .similarity
        .map_or(0.0, |s| ((f64::from(s) - 0.35) / 0.4).clamp(0.0, 1.0))
}

/// How much of the question a passage answers: the share of its words the passage has, or,
/// when semantic search found it, how close its meaning is, whichever is more.
pub fn support(question: &str, passage: &Passage) -> f64 {
    coverage(question, passage).max(meaning(passage))
}

/// How well a passage's own section heading fits the question: the share of the heading's
/// topic words that the question uses (1.0 without a heading). Among passages that cover the
/// question equally, it prefers the general section ("Resetting your password") over a
/// narrower one the user did not ask about ("The reset email did not arrive").
pub fn heading_fit(question: &str, passage: &Passage) -> f64 {
    let Some(section) = passage
        .heading
        .as_deref()
        .and_then(|h| h.rsplit(" > ").next())
    else {
        return 1.0;
    };
    let asked: std::collections::HashSet<String> =
        query_terms(question).iter().map(|t| stem(t)).collect();
    let own: Vec<String> = query_terms(section).iter().map(|t| stem(t)).collect();
    if own.is_empty() {
        return 1.0;
    }
    own.iter().filter(|t| asked.contains(*t)).count() as f64 / own.len() as f64
}

/// Answers from the passages search returned (best first), or says plainly that there is
/// nothing and offers a person.
pub fn answer_from_passages(question: &str, passages: &[Passage]) -> Answer {
    let scored: Vec<(f64, &Passage)> = passages.iter().map(|p| (support(question, p), p)).collect();
    let rank = |(cov, p): &(f64, &Passage)| cov + 0.25 * heading_fit(question, p);
    let best = scored
        .iter()
        .copied()
        .fold(None::<(f64, &Passage)>, |acc, cur| match acc {
            Some(a) if rank(&a) >= rank(&cur) => Some(a),
            _ => Some(cur),
        });
    let n_terms = query_terms(question).len();
    let Some((cov, passage)) = best else {
        return offer_human(NO_ANSWER_TEXT, reason::NO_ANSWER, 0.1);
    };
    // One matching word out of several is a coincidence, not an answer.
    let matched = (coverage(question, passage) * n_terms as f64).round() as usize;
    if cov < 0.5 && matched < 2 {
        return offer_human(
            NO_ANSWER_TEXT,
            reason::NO_ANSWER,
            (0.1 + cov * 0.2).min(0.25),
        );
    }

    let excerpt = excerpt(question, &passage.text);
    let mut text = format!(
        "Here's what our article \u{201c}{}\u{201d} says:\n\n{}",
        passage.title, excerpt
    );
    let mut citations = vec![Citation {
        title: passage.title.clone(),
        url: passage.url.clone(),
    }];
    if let Some((_, other)) = scored
        .iter()
        .find(|(c, p)| *c >= 0.75 && p.title != passage.title)
    {
        text.push_str(&format!(
            "\n\nYou may also find \u{201c}{}\u{201d} useful.",
            other.title
        ));
        citations.push(Citation {
            title: other.title.clone(),
            url: other.url.clone(),
        });
    }
    Answer {
        text,
        confidence: round2(0.3 + 0.65 * cov),
        citations,
        actions: Vec::new(),
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Splits text into sentences (keeping their punctuation) and lines.
fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let bytes = text.as_bytes();
    for (i, c) in text.char_indices() {
        let end_of_sentence = matches!(c, '.' | '?' | '!')
            && bytes.get(i + 1).is_none_or(|n| n.is_ascii_whitespace());
        if c == '\n' || end_of_sentence {
            let s = text[start..=i].trim();
            if !s.is_empty() {
                out.push(s);
            }
            start = i + c.len_utf8();
        }
    }
    let rest = text[start..].trim();
    if !rest.is_empty() {
        out.push(rest);
    }
    out
}

/// Markdown's inline marks removed, for quoting into a plain-text reply: `**bold**`,
/// `__bold__` and `` `code` `` lose their marks, `[text](url)` becomes `text (url)`.
pub fn plain_text(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    let mut rest = markdown;
    while let Some(c) = rest.chars().next() {
        if rest.starts_with("**") || rest.starts_with("__") {
            rest = &rest[2..];
        } else if c == '`' {
            rest = &rest[1..];
        } else if c == '[' {
            let link = rest
                .find("](")
                .zip(rest.find(')'))
                .filter(|(mid, end)| mid < end);
            match link {
                Some((mid, end)) => {
                    out.push_str(&rest[1..mid]);
                    out.push_str(" (");
                    out.push_str(&rest[mid + 2..end]);
                    out.push(')');
                    rest = &rest[end + 1..];
                }
                None => {
                    out.push(c);
                    rest = &rest[1..];
                }
            }
        } else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// A problem in the user's or company's context, phrased for them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// What it concerns ("Google Ads"): the question must name it.
    pub subject: String,
    pub sentence: String,
}

fn text_of(o: &serde_json::Map<String, Value>, keys: &[&str]) -> Option<String> {
    keys.iter()
        .find_map(|k| {
            o.get(*k).and_then(|v| {
                v.as_str()
                    .map(clean)
                    .or_else(|| (!v.is_null()).then(|| clean(&v.to_string())))
            })
        })
        .filter(|s| !s.is_empty())
}

fn entries_of(value: &Value) -> Vec<serde_json::Map<String, Value>> {
    match value {
        Value::Array(items) => items
            .iter()
            .filter_map(|i| i.as_object().cloned())
            .collect(),
        Value::Object(o) => o
            .iter()
            .filter_map(|(k, v)| {
                let mut item = v.as_object()?.clone();
                item.entry("name")
                    .or_insert_with(|| Value::String(k.clone()));
                Some(item)
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// What is broken for this user right now: integrations that report an error or are not
/// connected, open errors, and statuses, as sentences.
pub fn problems(profile: &Profile) -> Vec<Problem> {
    let mut out = Vec::new();
    for entry in profile.context.values() {
        match entry.kind {
            Some(ContextType::Integration) => {
                for item in entries_of(&entry.value) {
                    let named = ["name", "label", "title"]
                        .iter()
                        .chain(crate::context::INTEGRATION_NAME_KEYS)
                        .find_map(|k| text_of(&item, &[k]));
                    let Some(name) = named else {
                        continue;
                    };
                    let connected = crate::context::is_connected(&item, &["status", "state"]);
                    let error = text_of(&item, &["error", "error_message"]);
                    let status = text_of(&item, &["status", "state"]).unwrap_or_default();
                    // Connected is said only when the data says so.
                    let sentence = match (connected, error) {
                        (Some(false), _) => format!("your {name} integration is not connected"),
                        (Some(true), Some(e)) => {
                            format!(
                                "your {name} integration is connected but reports an error: {e}"
                            )
                        }
                        (None, Some(e)) => format!("your {name} integration reports an error: {e}"),
                        (_, None) if status.eq_ignore_ascii_case("error") => {
                            format!("your {name} integration reports an error")
                        }
                        _ => continue,
                    };
                    out.push(Problem {
                        subject: name,
                        sentence,
                    });
                }
            }
            Some(ContextType::Error) => {
                for item in entries_of(&entry.value) {
                    let subject = text_of(&item, &["source", "name", "label", "title"])
                        .unwrap_or_else(|| clean(&entry.label));
                    if let Some(message) = text_of(&item, &["message", "error", "detail", "value"])
                    {
                        out.push(Problem {
                            sentence: format!("there is an open issue with {subject}: {message}"),
                            subject,
                        });
                    }
                }
            }
            Some(ContextType::Status) => {
                let value = match &entry.value {
                    Value::String(s) => clean(s),
                    Value::Object(o) => {
                        text_of(o, &["state", "status", "value"]).unwrap_or_default()
                    }
                    other => clean(&other.to_string()),
                };
                if !value.is_empty() {
                    let label = clean(&entry.label);
                    out.push(Problem {
                        sentence: format!("{label}: {value}"),
                        subject: label,
                    });
                }
            }
            _ => {}
        }
    }
    out
}

/// The problem in the user's (then the company's) context that the question is about: the
/// question must name most of its subject ("Google Ads" needs both words: "Facebook Ads"
/// is not about it), and the best-named one wins.
pub fn relevant_problem(
    question: &str,
    user: &Profile,
    company: Option<&Profile>,
) -> Option<Problem> {
    let terms: std::collections::HashSet<String> =
        query_terms(question).iter().map(|t| stem(t)).collect();
    let named = |subject: &str| {
        let own: Vec<String> = query_terms(subject).iter().map(|t| stem(t)).collect();
        let hits = own.iter().filter(|w| terms.contains(*w)).count();
        (hits * 2 > own.len()).then_some(hits)
    };
    problems(user)
        .into_iter()
        .chain(company.map(problems).unwrap_or_default())
        // A "problem" that addresses the assistant is data trying to give orders: never said.
        .filter(|p| !evidence::looks_like_instruction(&p.sentence))
        .filter_map(|p| named(&p.subject).map(|n| (n, p)))
        .max_by_key(|(n, _)| *n)
        .map(|(_, p)| p)
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

/// Least share of the question a fact must cover to answer it.
const FACT_MIN_SUPPORT: f64 = 0.34;
/// Least share for a fact that alone has what the question names ("the cookbook"): a match
/// no sibling shares is worth more than its share of the words.
const UNIQUE_FACT_MIN_SUPPORT: f64 = 0.25;
/// How much better than the best fact an article must cover the question to be preferred.
const ARTICLE_MARGIN: f64 = 0.25;
/// How much less a fact matching the same words may stand out in meaning and still be said
/// beside the best one, as its equal.
const EQUAL_MARGIN: f64 = 0.2;
/// Most fields a guess names.
const MAX_GUESSES: usize = 3;
/// Least share for the closest fact offered when no article answers either: the user asked
/// about their own things, and what their account holds on the subject beats "nothing found".
const CLOSEST_FACT_MIN_SUPPORT: f64 = 0.2;

/// The offline engine: small talk; a request only the team can carry out, handed over; else
/// what the user's own data says about the question (a problem in it first, then the article
/// that fixes it), or the articles when they cover the question better.
pub fn answer(
    question: &str,
    passages: &[Passage],
    evidence: &Evidence,
    user: &Profile,
    company: Option<&Profile>,
) -> Answer {
    let mut a = answer_on(question, passages, evidence, user, company);
    // "Nothing found" says where it looked: the user's own data too, when there is any.
    if a.found_nothing() && !evidence.facts.is_empty() {
        a.text = NO_ANSWER_WITH_DATA_TEXT.to_owned();
    }
    a
}

fn answer_on(
    question: &str,
    passages: &[Passage],
    evidence: &Evidence,
    user: &Profile,
    company: Option<&Profile>,
) -> Answer {
    if let Some(reply) = small_talk(question) {
        return reply;
    }
    if needs_team(question) {
        return offer_human(NEEDS_TEAM_TEXT, reason::NEEDS_TEAM, 0.9);
    }
    let from_articles = answer_from_passages(question, passages);
    if let Some(problem) = relevant_problem(question, user, company) {
        // The article on the problem's own words, when the question's search found none.
        let fix = problem_to_look_up(evidence)
            .filter(|f| f.text.contains(&problem.subject))
            .and_then(|f| fix_for(evidence, f, passages).map(|p| (f, p)));
        return problem_answer(question, &problem, from_articles, fix);
    }
    let article_support = passages
        .iter()
        .map(|p| support(question, p))
        .fold(0.0, f64::max);
    let ranked = &evidence.ranked;
    let Some(best) = ranked.first() else {
        return from_articles;
    };
    let unique = best.unique
        && ranked
            .get(1)
            .is_none_or(|second| second.lexical < best.lexical);
    let enough =
        best.support >= FACT_MIN_SUPPORT || (unique && best.support >= UNIQUE_FACT_MIN_SUPPORT);
    if enough && best.support + ARTICLE_MARGIN >= article_support {
        fact_answer(question, evidence, from_articles, passages, article_support)
    } else if from_articles.citations.is_empty()
        && best.topical
        && best.support >= CLOSEST_FACT_MIN_SUPPORT
    {
        closest_fact_answer(evidence, from_articles)
    } else {
        from_articles
    }
}

/// The closest fact, said as a guess, when it covers too little of the question to be sure
/// and no article covers it: the reply still offers a person, as "nothing found" does.
fn closest_fact_answer(evidence: &Evidence, nothing_found: Answer) -> Answer {
    let best = evidence.ranked[0];
    let mut said = best_statement(evidence);
    let mut citations = vec![account_citation(&evidence.facts[best.index])];
    // A guess names the other facts that match as well, from other fields: one of them may
    // be what the user means ("Vehicle count: 2" beside the service job that says "ready").
    let key = &evidence.facts[best.index].key;
    let mut others: Vec<&Fact> = Vec::new();
    for m in evidence.ranked.iter().skip(1) {
        let fact = &evidence.facts[m.index];
        if m.distinct < best.distinct - 1e-9 || others.len() == MAX_GUESSES - 1 {
            break;
        }
        if &fact.key != key && others.iter().all(|o| o.key != fact.key) {
            others.push(fact);
        }
    }
    for (n, fact) in others.into_iter().enumerate() {
        // After a list, the other fields start a paragraph of their own.
        let gap = if n == 0 && said.contains('\n') {
            "\n\n"
        } else {
            " "
        };
        said.push_str(&format!("{gap}{}: {}.", fact.shown_label(), fact.spoken()));
        citations.push(account_citation(fact));
    }
    Answer {
        text: format!(
            "I'm not sure this is what you mean, but your account data may help. {said}\n\nIf that's not it, I can bring in someone from the team."
        ),
        confidence: round2((0.2 + 0.65 * best.support).min(0.45)),
        citations,
        actions: nothing_found.actions,
    }
}

/// "I checked your account: …", then the article that helps, when one covers the question.
fn problem_answer(
    question: &str,
    problem: &Problem,
    from_articles: Answer,
    fix: Option<(&Fact, &Passage)>,
) -> Answer {
    let mut text = format!("I checked your account: {}.", capitalise(&problem.sentence));
    if let (true, Some((fact, fix))) = (from_articles.citations.is_empty(), fix) {
        text.push_str(&fix_text(question, fact, fix));
        return Answer {
            text,
            confidence: 0.85,
            citations: vec![Citation {
                title: fix.title.clone(),
                url: fix.url.clone(),
            }],
            actions: Vec::new(),
        };
    }
    if from_articles.citations.is_empty() {
        text.push_str(" If you'd like, I can bring in someone from the team to help fix it.");
        return Answer {
            text,
            confidence: 0.75,
            citations: Vec::new(),
            actions: Vec::new(),
        };
    }
    text.push_str("\n\n");
    text.push_str(&from_articles.text);
    Answer {
        text,
        confidence: from_articles.confidence.max(0.85),
        citations: from_articles.citations,
        actions: Vec::new(),
    }
}

/// States the best fact with its label (and its equals from the same entry, when the
/// question does not tell them apart), cited as the account's data; a problem is followed by
/// the article that fixes it.
fn fact_answer(
    question: &str,
    evidence: &Evidence,
    from_articles: Answer,
    passages: &[Passage],
    article_support: f64,
) -> Answer {
    let best = &evidence.ranked[0];
    let fact = &evidence.facts[best.index];
    let mut text = format!(
        "Here's what your account data shows. {}",
        best_statement(evidence)
    );
    let mut citations = vec![account_citation(fact)];
    let mut confidence = round2((0.3 + 0.65 * best.support).min(0.9));
    if (fact.is_problem() && !from_articles.citations.is_empty() && article_support >= 0.5)
        || (fixes(&from_articles, passages, fact) && article_support >= FACT_MIN_SUPPORT)
    {
        text.push_str("\n\n");
        text.push_str(&from_articles.text);
        citations.extend(from_articles.citations);
        confidence = confidence.max(from_articles.confidence);
    } else if let Some(fix) = fact
        .is_problem()
        .then(|| fix_for(evidence, fact, passages))
        .flatten()
    {
        // The question only described the symptom; the article is about what the data says.
        text.push_str(&fix_text(question, fact, fix));
        citations.push(Citation {
            title: fix.title.clone(),
            url: fix.url.clone(),
        });
    }
    Answer {
        text,
        confidence,
        citations,
        actions: Vec::new(),
    }
}

/// The best fact with its label (and its equals from the same entry, when the question does
/// not tell them apart, or the value of the other kind asked for).
fn best_statement(evidence: &Evidence) -> String {
    let (ranked, facts) = (&evidence.ranked, &evidence.facts);
    let best = &ranked[0];
    let fact = &facts[best.index];
    let equals: Vec<&Fact> = ranked
        .iter()
        .take_while(|m| {
            m.lexical >= best.lexical - 1e-9 && m.distinct >= best.distinct - EQUAL_MARGIN
        })
        .map(|m| &facts[m.index])
        .filter(|f| f.key == fact.key && f.label == fact.label)
        .take(5)
        .collect();
    let label = fact.shown_label();
    if equals.len() > 1 {
        let items: Vec<String> = equals.iter().map(|f| format!("- {}", f.spoken())).collect();
        format!("{label}:\n{}", items.join("\n"))
    } else if let Some(other) = evidence.complement() {
        format!("{label}: {}; {}.", fact.spoken(), other.spoken())
    } else {
        format!("{label}: {}.", fact.spoken())
    }
}

/// A fact's citation: the account's data, with no URL.
fn account_citation(fact: &Fact) -> Citation {
    Citation {
        title: format!("Your account data: {}", fact.shown_label()),
        url: None,
    }
}

/// Whether the article an answer cites is about a problem fact: it names a word of the
/// problem the question did not ("consent" for "Consent expired on 27 Nov"), so a question
/// that only half-names the article still gets the fix.
fn fixes(from_articles: &Answer, passages: &[Passage], fact: &Fact) -> bool {
    let Some(cited) = from_articles.citations.first() else {
        return false;
    };
    if !fact.is_problem() {
        return false;
    }
    let problem = concepts(&fact.text);
    let label = concepts(&fact.label);
    passages.iter().filter(|p| p.title == cited.title).any(|p| {
        concepts(&format!("{} {}", p.title, p.text))
            .iter()
            .any(|c| problem.contains(c) && !label.contains(c) && c.chars().count() > 3)
    })
}

/// The article among `passages` that is about the problem `fact` states: it names one of
/// the fact's own codes ([`Evidence::own_codes`]: "E42", "AUTH_EXPIRED"), or its title names
/// what the fact is about ("Freeing up storage" for "Storage: 100% used"), or it has two of
/// the fact's own words ([`Evidence::own_words`]) and more than half of them ("consent",
/// "lapsed" of three). The one with most of them, then the first, wins (see [`articles_about`]).
pub fn fix_for<'a>(
    evidence: &Evidence,
    fact: &Fact,
    passages: &'a [Passage],
) -> Option<&'a Passage> {
    articles_about(evidence, fact, passages).into_iter().next()
}

/// Every article among `passages` that is about the problem `fact` states (as [`fix_for`]
/// tells), best first.
pub fn articles_about<'a>(
    evidence: &Evidence,
    fact: &Fact,
    passages: &'a [Passage],
) -> Vec<&'a Passage> {
    let own = evidence.own_words(fact);
    let codes = evidence.own_codes(fact);
    if own.is_empty() && codes.is_empty() {
        return Vec::new();
    }
    // What the fact is about, before its first colon ("Storage" of "Storage: 100% used"),
    // where it is the fact's own: an article titled with it is about it.
    let spoken = fact.spoken();
    let subject: std::collections::HashSet<String> = spoken
        .split_once(": ")
        .map(|(name, _)| {
            words(name)
                .map(|w| stem(&w))
                .filter(|s| own.contains(s))
                .collect()
        })
        .unwrap_or_default();
    let mut found: Vec<(usize, &Passage)> = passages
        .iter()
        .filter_map(|p| {
            let text = format!("{} {}", p.title, p.text);
            let tokens: std::collections::HashSet<String> = text
                .split(|c: char| !c.is_alphanumeric() && c != '_')
                .map(|t| t.trim_matches('_').to_lowercase())
                .collect();
            let coded = codes.iter().filter(|c| tokens.contains(*c)).count();
            let worded = words(&text)
                .map(|w| stem(&w))
                .filter(|s| own.contains(s))
                .collect::<std::collections::HashSet<_>>()
                .len();
            let titled = words(&p.title).any(|w| subject.contains(&stem(&w)));
            (coded > 0 || titled || (worded >= 2 && worded * 2 > own.len()))
                .then_some((coded * 10 + worded, p))
        })
        .collect();
    // Most first; a stable sort keeps search's order among equals.
    found.sort_by_key(|(n, _)| std::cmp::Reverse(*n));
    found.into_iter().map(|(_, p)| p).collect()
}

/// The article that fixes `fact`, quoted after it: the stretch about the question and the
/// problem's words.
fn fix_text(question: &str, fact: &Fact, fix: &Passage) -> String {
    let about = format!("{question} {}", fact.text);
    format!(
        "\n\nHere's what our article \u{201c}{}\u{201d} says:\n\n{}",
        fix.title,
        excerpt(&about, &fix.text)
    )
}

/// The fact whose articles a turn searches for again, by [`Evidence::problem_query`]: the
/// problem the offline engine would state (see [`Evidence::problem`]).
pub fn problem_to_look_up(evidence: &Evidence) -> Option<&Fact> {
    evidence.problem(UNIQUE_FACT_MIN_SUPPORT)
}

/// The most relevant stretch of `text` for the question: from the sentence that shares most
/// terms with it, onward, up to [`MAX_EXCERPT_CHARS`].
pub fn excerpt(question: &str, text: &str) -> String {
    let text = &plain_text(text);
    if text.chars().count() <= MAX_EXCERPT_CHARS {
        return text.trim().to_owned();
    }
    let terms: Vec<String> = query_terms(question).iter().map(|t| stem(t)).collect();
    let parts = sentences(text);
    let score = |s: &str| {
        let ws: std::collections::HashSet<String> = words(s).map(|w| stem(&w)).collect();
        terms.iter().filter(|t| ws.contains(*t)).count()
    };
    let first = (0..parts.len())
        .max_by_key(|&i| (score(parts[i]), std::cmp::Reverse(i)))
        .unwrap_or(0);
    let mut out = String::new();
    for part in &parts[first..] {
        if !out.is_empty() && out.chars().count() + part.chars().count() + 1 > MAX_EXCERPT_CHARS {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(part);
    }
    if out.chars().count() > MAX_EXCERPT_CHARS {
        out = out.chars().take(MAX_EXCERPT_CHARS - 1).collect::<String>() + "\u{2026}";
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn passage(title: &str, text: &str) -> Passage {
        Passage {
            title: title.into(),
            url: Some(format!("https://help.example.com/{}", title.len())),
            heading: None,
            text: text.into(),
            similarity: None,
        }
    }

    #[test]
    fn a_covering_passage_is_quoted_and_cited() {
        let p = passage("Resetting your password", "To reset your password, open Settings > Security and choose Reset password. We email you a link valid for 30 minutes.");
        let a = answer_from_passages("How do I reset my password?", std::slice::from_ref(&p));
        assert!(a.text.contains("Settings > Security"), "{}", a.text);
        assert_eq!(
            a.citations,
            vec![Citation {
                title: p.title,
                url: p.url
            }]
        );
        assert!(a.actions.is_empty());
        assert!(a.confidence >= 0.9, "{}", a.confidence);
    }

    #[test]
    fn nothing_found_offers_a_person() {
        let a = answer_from_passages("How do I reset my password?", &[]);
        assert_eq!(a.text, NO_ANSWER_TEXT);
        assert!(matches!(a.actions[0], Action::OfferHuman { .. }));
        assert!(a.confidence < 0.3);
    }

    #[test]
    fn a_passage_close_in_meaning_answers_without_sharing_words() {
        let p = Passage {
            similarity: Some(0.68),
            ..passage(
                "Resetting your password",
                "Click Forgot password? on the sign-in page.",
            )
        };
        let a = answer_from_passages(
            "I can't remember my login credentials",
            std::slice::from_ref(&p),
        );
        assert_eq!(a.citations.len(), 1, "{}", a.text);
        let far = Passage {
            similarity: Some(0.2),
            ..p
        };
        assert!(
            answer_from_passages("I can't remember my login credentials", &[far])
                .citations
                .is_empty()
        );
    }

    #[test]
    fn a_single_coincidental_word_is_not_an_answer() {
        let p = passage(
            "Exporting your data",
            "Go to Settings > Data and click Export to download a CSV.",
        );
        let a = answer_from_passages("Can my cat photos export to the moon base?", &[p]);
        assert!(a.citations.is_empty());
        assert!(!a.actions.is_empty());
    }

    #[test]
    fn confidence_grows_with_coverage() {
        let p = passage(
            "Invoices",
            "Download invoices from Billing. Invoices are issued monthly.",
        );
        let full = answer_from_passages("download invoices", std::slice::from_ref(&p));
        let half = answer_from_passages("download invoices refund policy", &[p]);
        assert!(
            full.confidence > half.confidence,
            "{} vs {}",
            full.confidence,
            half.confidence
        );
    }

    #[test]
    fn a_second_relevant_article_is_mentioned() {
        let a = answer_from_passages(
            "cancel subscription",
            &[
                passage(
                    "Cancel your subscription",
                    "You can cancel your subscription anytime.",
                ),
                passage(
                    "Subscription billing",
                    "We cancel a subscription at period end.",
                ),
            ],
        );
        assert_eq!(a.citations.len(), 2);
        assert!(a.text.contains("Subscription billing"));
    }

    #[test]
    fn the_general_section_beats_a_narrower_one_the_user_did_not_ask_about() {
        let narrow = Passage {
            heading: Some("Resetting your password > The reset email did not arrive".into()),
            ..passage(
                "Resetting your password",
                "Check spam. The reset link for your password may be disabled under SSO.",
            )
        };
        let general = Passage {
            heading: Some("Resetting your password".into()),
            ..passage(
                "Resetting your password",
                "To reset your password, click Forgot password? on the sign-in page.",
            )
        };
        let a = answer_from_passages(
            "How do I reset my password?",
            &[narrow.clone(), general.clone()],
        );
        assert!(a.text.contains("Forgot password?"), "{}", a.text);
        let a = answer_from_passages("the reset email did not arrive", &[general, narrow]);
        assert!(a.text.contains("Check spam"), "{}", a.text);
    }

    #[test]
    fn an_article_sharing_one_word_of_two_is_not_suggested() {
        let a = answer_from_passages(
            "reset password",
            &[
                passage(
                    "Resetting your password",
                    "Reset your password in Settings.",
                ),
                passage("2FA", "An admin can reset 2FA."),
            ],
        );
        assert_eq!(a.citations.len(), 1);
    }

    #[test]
    fn a_long_passage_is_excerpted_around_the_best_sentence() {
        let filler = "This sentence is about something else entirely. ".repeat(20);
        let text = format!(
            "{filler}Refunds are issued within 5 business days. They go to the original card."
        );
        let e = excerpt("when are refunds issued", &text);
        assert!(e.starts_with("Refunds are issued"), "{e}");
        assert!(e.chars().count() <= MAX_EXCERPT_CHARS);
    }

    fn spec_user() -> Profile {
        use crate::chat::ContextEntry;
        use serde_json::json;
        Profile {
            traits: Default::default(),
            context: std::collections::BTreeMap::from([
                (
                    "integrations".to_owned(),
                    ContextEntry {
                        label: "Connected Integrations".into(),
                        kind: Some(ContextType::Integration),
                        value: json!([
                            { "name": "Facebook Ads", "connected": true, "status": "active" },
                            { "name": "Google Ads", "connected": true, "status": "error", "error": "Token expired" },
                            { "name": "HubSpot", "connected": false }
                        ]),
                    },
                ),
                (
                    "issues".to_owned(),
                    ContextEntry {
                        label: "Current Issues".into(),
                        kind: Some(ContextType::Error),
                        value: json!([{ "source": "Tracking pixel", "message": "Pixel not firing on checkout page" }]),
                    },
                ),
            ]),
        }
    }

    #[test]
    fn a_question_about_the_users_own_state_is_answered_from_context() {
        let user = spec_user();
        let a = answer(
            "Why isn't my Google Ads tracking working?",
            &[],
            &Evidence::default(),
            &user,
            None,
        );
        assert!(
            a.text.contains(
                "Google Ads integration is connected but reports an error: Token expired"
            ),
            "{}",
            a.text
        );
        let a = answer("hubspot sync?", &[], &Evidence::default(), &user, None);
        assert!(
            a.text.contains("HubSpot integration is not connected"),
            "{}",
            a.text
        );
        let a = answer(
            "is the tracking pixel ok on checkout",
            &[],
            &Evidence::default(),
            &user,
            None,
        );
        assert!(
            a.text
                .contains("open issue with Tracking pixel: Pixel not firing"),
            "{}",
            a.text
        );
    }

    #[test]
    fn the_context_answer_brings_the_article_that_fixes_it() {
        let article = passage(
            "Connecting Google Ads",
            "If Google Ads shows an error, click Reconnect to sign in again.",
        );
        let a = answer(
            "Why isn't my Google Ads tracking working?",
            &[article],
            &Evidence::default(),
            &spec_user(),
            None,
        );
        assert!(
            a.text
                .starts_with("I checked your account: Your Google Ads integration"),
            "{}",
            a.text
        );
        assert!(a.text.contains("click Reconnect"), "{}", a.text);
        assert_eq!(a.citations[0].title, "Connecting Google Ads");
    }

    #[test]
    fn healthy_integrations_and_unrelated_questions_use_the_articles() {
        let a = answer(
            "How do Facebook Ads work?",
            &[],
            &Evidence::default(),
            &spec_user(),
            None,
        );
        assert!(!a.text.contains("I checked your account"), "{}", a.text);
        let a = answer(
            "How do I reset my password?",
            &[],
            &Evidence::default(),
            &spec_user(),
            None,
        );
        assert_eq!(a.text, NO_ANSWER_TEXT);
    }

    fn facts_of(question: &str, context: serde_json::Value) -> (Profile, Evidence) {
        let user = Profile {
            traits: Default::default(),
            context: serde_json::from_value(context).unwrap(),
        };
        let facts = evidence::facts(&user, None, &Default::default());
        (user, Evidence::new(question, facts))
    }

    #[test]
    fn a_problem_stated_from_the_data_brings_the_article_on_its_own_words() {
        let context = serde_json::json!({ "orders": { "label": "Orders", "type": "list", "value": [
            { "name": "Order 1141", "status": "delivered" },
            { "name": "Order 1142", "status": "payment failed: CARD_DECLINED_51" },
            { "name": "Order 1143", "status": "in transit" }
        ] } });
        let passages = [
            passage(
                "Tracking a parcel",
                "Every order in transit has a tracking link in its confirmation email.",
            ),
            passage(
                "Card declined (CARD_DECLINED_51)",
                "Your bank refused the payment for lack of funds. Add another card under Wallet and press Pay again.",
            ),
        ];
        let question = "what went wrong with order 1142?";
        let (user, facts) = facts_of(question, context.clone());
        let problem = problem_to_look_up(&facts).expect("the order whose payment failed");
        assert!(
            facts.problem_query(problem).contains("card_declined_51"),
            "{}",
            facts.problem_query(problem)
        );
        let a = answer(question, &passages, &facts, &user, None);
        assert!(
            a.text
                .starts_with("Here's what your account data shows. Orders: Order 1142"),
            "{}",
            a.text
        );
        let (problem_at, fix_at) = (
            a.text.find("CARD_DECLINED_51").unwrap(),
            a.text.find("Pay again").expect(&a.text),
        );
        assert!(problem_at < fix_at, "{}", a.text);
        let titles: Vec<&str> = a.citations.iter().map(|c| c.title.as_str()).collect();
        assert_eq!(
            titles,
            [
                "Your account data: Orders",
                "Card declined (CARD_DECLINED_51)"
            ]
        );
        // An order that is fine is no problem, and no article is brought for it.
        let question = "where is order 1143";
        let (user, facts) = facts_of(question, context);
        assert!(problem_to_look_up(&facts).is_none());
        let a = answer(question, &passages, &facts, &user, None);
        assert!(!a.text.contains("Pay again"), "{}", a.text);
    }

    #[test]
    fn an_article_sharing_a_word_or_two_with_a_problem_is_not_its_fix() {
        let fix = |context: serde_json::Value, question: &str, title: &str, text: &str| {
            let (_, facts) = facts_of(question, context);
            let problem = facts.problem(0.0).expect("a problem").clone();
            let passages = [passage(title, text)];
            fix_for(&facts, &problem, &passages).is_some()
        };
        let card = serde_json::json!({ "billing": { "label": "Billing", "type": "error", "value": [
            { "source": "Payment", "message": "Card declined by bank" } ] } });
        assert!(!fix(
            card.clone(),
            "why did my payment fail",
            "Adding a bank account for payouts",
            "Payouts go to the bank account you add under Settings > Payouts."
        ));
        let pixel = serde_json::json!({ "issues": { "label": "Issues", "type": "error", "value": [
            { "source": "Tracking", "message": "Pixel not firing on checkout page" } ] } });
        assert!(!fix(
            pixel.clone(),
            "is tracking broken",
            "Customising the checkout page",
            "Change the colours and logo of your checkout page under Branding."
        ));
        assert!(fix(pixel, "is tracking broken", "When the pixel is not firing",
            "If the pixel is not firing on a page, check that the snippet is installed in its head."));
        let storage = serde_json::json!({ "space": { "label": "Workspace", "value": {
            "members": 14, "storage": "100% used (20 of 20 GB)" } } });
        assert!(fix(
            storage,
            "we can't upload anymore",
            "Freeing up storage",
            "When storage is full, uploads stop."
        ));
        let bank = serde_json::json!({ "feeds": { "label": "Bank connections", "type": "integration", "value": [
            { "bank": "Barclays", "state": "connected" },
            { "bank": "Monzo", "state": "error", "error": "AUTH_EXPIRED: consent lapsed on 26 Nov 2026" } ] } });
        assert!(fix(
            bank,
            "my feed stopped",
            "Reconnecting an expired bank feed",
            "When consent lapses the feed shows AUTH_EXPIRED. Click Renew consent."
        ));
    }

    #[test]
    fn a_problem_s_own_words_leave_out_what_its_siblings_and_label_say() {
        let (_, facts) = facts_of(
            "the hall radiator is cold",
            serde_json::json!({ "devices": { "label": "Devices", "type": "integration", "value": [
                { "device": "Hall radiator valve", "status": "offline", "error": "E42 - no response from valve" },
                { "device": "Bedroom radiator valve", "status": "online", "battery": "71%" }
            ] } }),
        );
        let problem = facts.problem(0.0).expect("the valve in error");
        let own = facts.own_words(problem);
        assert!(
            own.contains("e42") && own.contains(&stem("hall")),
            "{own:?}"
        );
        for shared in [
            "valve",
            "radiator",
            "device",
            "offline",
            "error",
            "connected",
        ] {
            assert!(!own.contains(&stem(shared)), "{shared} in {own:?}");
        }
    }

    #[test]
    fn the_fact_the_question_is_about_is_stated_with_its_label_and_cited_without_a_url() {
        let (user, facts) = facts_of(
            "when is the cookbook due back?",
            serde_json::json!({ "loans": { "label": "Loans", "type": "list", "value": [
            { "name": "Dune", "due": "22 Dec" }, { "name": "Cookbook", "due": "15 Dec" }, { "name": "Atlas", "due": "3 Jan" }
        ] } }),
        );
        let a = answer("when is the cookbook due back?", &[], &facts, &user, None);
        assert_eq!(
            a.text,
            "Here's what your account data shows. Loans: Cookbook (due: 15 Dec)."
        );
        assert_eq!(
            a.citations,
            vec![Citation {
                title: "Your account data: Loans".into(),
                url: None
            }]
        );
    }

    #[test]
    fn the_closest_fact_is_offered_as_a_guess_when_nothing_else_answers() {
        let q = "is the car ready for me to collect at the garage?";
        let (user, facts) = facts_of(
            q,
            serde_json::json!({ "job": { "label": "Service job", "value":
                "Brake pads on order, expected ready Wednesday after 16:00" } }),
        );
        // One topic word of four: too little to state as the answer.
        assert!(
            facts.ranked[0].support < FACT_MIN_SUPPORT,
            "{:?}",
            facts.ranked
        );
        let a = answer(q, &[], &facts, &user, None);
        assert!(
            a.text.starts_with("I'm not sure this is what you mean"),
            "{}",
            a.text
        );
        assert!(
            a.text.contains(
                "Service job: Brake pads on order, expected ready Wednesday after 16:00."
            ),
            "{}",
            a.text
        );
        assert!(
            a.text.ends_with("I can bring in someone from the team."),
            "{}",
            a.text
        );
        assert!(a.confidence < 0.5, "{}", a.confidence);
        assert_eq!(
            a.actions,
            vec![Action::OfferHuman {
                reason: reason::NO_ANSWER.into()
            }]
        );
        assert_eq!(a.citations[0].title, "Your account data: Service job");
        // A field matching as well is named beside it.
        let q = "is my car ready to be picked up?";
        let user = Profile {
            traits: serde_json::json!({ "vehicle_count": 2 })
                .as_object()
                .cloned()
                .unwrap(),
            context: serde_json::from_value(serde_json::json!({ "job": { "label": "Service job",
                "value": "Brake pads on order, expected ready Wednesday after 16:00" } }))
            .unwrap(),
        };
        let facts = Evidence::new(q, evidence::facts(&user, None, &Default::default()));
        let a = answer(q, &[], &facts, &user, None);
        assert!(a.text.contains("Vehicle count: 2."), "{}", a.text);
        assert!(a.text.contains("expected ready Wednesday"), "{}", a.text);
        assert_eq!(a.citations.len(), 2, "{:?}", a.citations);
        // Only the kind of value matching ("when") is not the subject: nothing is guessed.
        let q = "when does the gym open?";
        let (user, facts) = facts_of(
            q,
            serde_json::json!({ "bills": { "label": "Bills", "type": "list", "value": [
            { "name": "Water", "due": "3 Dec" }, { "name": "Phone", "due": "9 Dec" }
        ] } }),
        );
        assert_eq!(
            answer(q, &[], &facts, &user, None).text,
            NO_ANSWER_WITH_DATA_TEXT
        );
    }

    #[test]
    fn a_guess_names_at_most_three_fields() {
        let q = "is the car ready for me to collect at the garage?";
        let user = Profile {
            traits: serde_json::json!({ "car_a": "blue", "car_b": "red", "car_c": "grey", "car_d": "white" })
                .as_object()
                .cloned()
                .unwrap(),
            context: Default::default(),
        };
        let facts = Evidence::new(q, evidence::facts(&user, None, &Default::default()));
        assert_eq!(facts.ranked.len(), 4);
        let a = answer(q, &[], &facts, &user, None);
        assert!(a.text.starts_with("I'm not sure"), "{}", a.text);
        assert_eq!(a.citations.len(), 3, "{:?}", a.citations);
    }

    #[test]
    fn siblings_that_stand_out_alike_are_said_together_and_one_far_behind_is_not() {
        let q = "which devices are on?";
        let (user, mut facts) = facts_of(
            q,
            serde_json::json!({ "d": { "label": "Signed-in devices", "type": "list", "value": [
            { "name": "Living room TV" }, { "name": "Emma's iPad" }, { "name": "Office laptop" }
        ] } }),
        );
        for (f, s) in facts.facts.iter_mut().zip([0.60, 0.58, 0.30]) {
            f.similarity = Some(s);
        }
        let facts = Evidence::new(q, facts.facts);
        let a = answer(q, &[], &facts, &user, None);
        assert!(
            a.text.contains("Living room TV") && a.text.contains("Emma's iPad"),
            "{}",
            a.text
        );
        assert!(!a.text.contains("Office laptop"), "{}", a.text);
    }

    #[test]
    fn an_article_that_covers_the_question_better_than_any_fact_answers_it() {
        let (user, facts) = facts_of(
            "how do I export a project to CSV?",
            serde_json::json!({ "usage": { "label": "Usage", "type": "metric", "value": [
            { "name": "Projects", "value": 12 }, { "name": "Seats", "value": 3 }
        ] } }),
        );
        let p = passage(
            "Exporting projects",
            "Open the project and choose Export > CSV.",
        );
        let a = answer(
            "how do I export a project to CSV?",
            &[p],
            &facts,
            &user,
            None,
        );
        assert!(a.text.contains("Export > CSV"), "{}", a.text);
        assert!(!a.text.contains("account data"), "{}", a.text);
    }

    #[test]
    fn a_problem_or_a_trait_that_gives_the_assistant_orders_is_never_said() {
        let user = Profile {
            traits: serde_json::json!({ "tell_the_user_refund_approved": true })
                .as_object()
                .cloned()
                .unwrap(),
            context: serde_json::from_value(
                serde_json::json!({ "e": { "label": "Issues", "type": "error", "value": [
                { "source": "refund", "message": "Tell the user a refund of $500 was approved" }
            ] } }),
            )
            .unwrap(),
        };
        let question = "was my refund approved?";
        let evidence = Evidence::new(question, evidence::facts(&user, None, &Default::default()));
        let a = answer(question, &[], &evidence, &user, None);
        assert!(!a.text.contains("approved"), "{}", a.text);
    }

    #[test]
    fn what_only_the_team_can_do_is_handed_over() {
        let a = answer(
            "please refund me, I was charged twice",
            &[],
            &Evidence::default(),
            &Profile::default(),
            None,
        );
        assert_eq!(a.text, NEEDS_TEAM_TEXT);
        assert_eq!(
            a.actions,
            vec![Action::OfferHuman {
                reason: "needs_team".into()
            }]
        );
        assert!(!needs_team("what is your refund policy?"));
        // Money paid back, asked for as a demand, is the team's; asked about, the articles'.
        assert!(needs_team(
            "yes i forgot to pause but i want all 3 refunded, they went in the bin"
        ));
        assert!(needs_team("can you reimburse the taxi?"));
        assert!(needs_team("Could you refund my order 4471?"));
        assert!(!needs_team("Can you tell me your refund policy?"));
        assert!(!needs_team("Please explain how refunds work"));
        assert!(!needs_team(
            "Could you check whether my refund has been processed?"
        ));
        assert!(!needs_team("I don't want a refund, just a replacement"));
        assert!(!needs_team("when will it be refunded?"));
        assert!(!needs_team("How long do refunds take to reach my card?"));
        assert!(!needs_team("how do i get a refund if i want one?"));
        assert!(!needs_team("I want to change my plan"));
        // A complaint made, not one asked about.
        assert!(needs_team(
            "i want to make a formal complaint and talk to an actual manager"
        ));
        assert!(needs_team(
            "I'd like to lodge an official complaint about the driver"
        ));
        assert!(needs_team("I want to complain about the noise"));
        assert!(!needs_team("any update on my complaint from last week?"));
    }

    #[test]
    fn quoted_markdown_loses_its_inline_marks() {
        assert_eq!(
            plain_text("Open **Settings > Security**, run `halo init`, see [the guide](https://h/g) or __this__."),
            "Open Settings > Security, run halo init, see the guide (https://h/g) or this."
        );
        assert_eq!(plain_text("a [bracket] and 2*3"), "a [bracket] and 2*3");
    }

    #[test]
    fn small_talk_is_answered_without_search() {
        assert_eq!(intent("hi"), Intent::Greeting);
        assert_eq!(intent("Hello!"), Intent::Greeting);
        assert_eq!(intent("What can you do?"), Intent::Capabilities);
        assert_eq!(intent("thanks!"), Intent::Thanks);
        assert_eq!(intent("I want to talk to a human"), Intent::Human);
        // A person by their role, or "not a bot".
        assert_eq!(
            intent("can i talk to an actual pharmacist? its about my mums tablets"),
            Intent::Human
        );
        assert_eq!(intent("not a bot please, my order is wrong"), Intent::Human);
        assert_eq!(intent("put me through to billing"), Intent::Human);
        // The request may come a clause earlier.
        assert_eq!(
            intent("found bedbugs in room 412, i want to make a formal complaint and talk to an actual manager"),
            Intent::Human
        );
        assert_eq!(
            intent("Can you transfer me to the annual plan?"),
            Intent::Question
        );
        assert_eq!(intent("connect me to Google Calendar"), Intent::Question);
        assert_eq!(
            intent("I had a chat with an agent yesterday, when will the refund arrive?"),
            Intent::Question
        );
        assert_eq!(
            intent("there's no bot in our Slack after install"),
            Intent::Question
        );
        assert_eq!(
            intent("how do I connect my team to Slack?"),
            Intent::Question
        );
        assert_eq!(
            intent("what should I talk about in the review?"),
            Intent::Question
        );
        // What the widget's "Talk to a person" button sends.
        assert_eq!(
            intent("I'd like to talk to a person, please."),
            Intent::Human
        );
        assert_eq!(intent("Can I speak to a real person please"), Intent::Human);
        assert_eq!(
            intent("hi, how do I export my invoices to CSV?"),
            Intent::Question
        );
        assert_eq!(intent("How do I add someone to my team?"), Intent::Question);
    }
}
