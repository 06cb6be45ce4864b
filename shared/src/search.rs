//! Turning user text into search terms.
//!
//! User text never reaches FTS5's MATCH syntax as-is: [`fts_match_query`] keeps only word
//! tokens, drops stop words and quotes each term, so quotes, operators (`AND`, `NEAR`, `*`,
//! `^`, `:`) and column filters in a question are plain words or nothing.

/// Most terms sent to the index for one question.
pub const MAX_QUERY_TERMS: usize = 16;

const STOP_WORDS: &[&str] = &[
    "a",
    "able",
    "about",
    "after",
    "again",
    "all",
    "already",
    "also",
    "am",
    "an",
    "and",
    "any",
    "anymore",
    "anyone",
    "anything",
    "are",
    "as",
    "at",
    "be",
    "because",
    "been",
    "before",
    "being",
    "but",
    "by",
    "can",
    "cannot",
    "could",
    "did",
    "do",
    "does",
    "doing",
    "don",
    "done",
    "exactly",
    "for",
    "from",
    "get",
    "got",
    "had",
    "has",
    "have",
    "having",
    "he",
    "hello",
    "help",
    "her",
    "here",
    "hey",
    "hi",
    "him",
    "his",
    "how",
    "i",
    "if",
    "im",
    "in",
    "into",
    "is",
    "isn",
    "it",
    "its",
    "just",
    "know",
    "let",
    "like",
    "long",
    "many",
    "me",
    "might",
    "more",
    "most",
    "much",
    "my",
    "need",
    "no",
    "not",
    "now",
    "of",
    "often",
    "ok",
    "okay",
    "on",
    "once",
    "only",
    "or",
    "other",
    "our",
    "out",
    "please",
    "possible",
    "really",
    "should",
    "so",
    "some",
    "something",
    "soon",
    "still",
    "such",
    "sure",
    "take",
    "takes",
    "tell",
    "than",
    "thank",
    "thanks",
    "that",
    "the",
    "their",
    "them",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "through",
    "to",
    "too",
    "up",
    "us",
    "use",
    "using",
    "very",
    "want",
    "was",
    "way",
    "we",
    "were",
    "what",
    "when",
    "where",
    "which",
    "while",
    "who",
    "why",
    "will",
    "with",
    "would",
    "yes",
    "you",
    "your",
    "yours",
];

/// True for words that carry no topic ("how", "my", "the", …).
pub fn is_stop_word(word: &str) -> bool {
    STOP_WORDS.binary_search(&word).is_ok()
}

/// Lower-cased word tokens of `text` (letters and digits of any script; apostrophes split).
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// A text's words, to ask whether it says a phrase: whole words, in order ("talk to a
/// person" is in "I'd like to talk to a person, please" but "pay" is not in "payout").
#[derive(Debug, Clone)]
pub struct Phrases(String);

impl Phrases {
    pub fn of(text: &str) -> Self {
        Self(format!(" {} ", words(text).collect::<Vec<_>>().join(" ")))
    }

    pub fn has(&self, phrase: &str) -> bool {
        self.0.contains(&format!(" {phrase} "))
    }

    pub fn has_any(&self, phrases: &[&str]) -> bool {
        phrases.iter().any(|p| self.has(p))
    }
}

/// The distinct topic terms of a question, in order of first appearance.
pub fn query_terms(text: &str) -> Vec<String> {
    let mut terms: Vec<String> = Vec::new();
    for w in words(text) {
        let long_enough = w.chars().count() > 1 || w.chars().all(|c| !c.is_ascii());
        if long_enough && !is_stop_word(&w) && !terms.contains(&w) {
            terms.push(w);
            if terms.len() == MAX_QUERY_TERMS {
                break;
            }
        }
    }
    terms
}

/// An FTS5 MATCH expression that ORs the quoted terms of `text`, or `None` when the text
/// has no topic words at all (then there is nothing to search for).
pub fn fts_match_query(text: &str) -> Option<String> {
    let terms = query_terms(text);
    if terms.is_empty() {
        return None;
    }
    // Tokens hold only alphanumerics, so wrapping them in double quotes is always a valid
    // FTS5 string; the porter tokenizer still stems inside quotes.
    Some(
        terms
            .iter()
            .map(|t| format!("\"{t}\""))
            .collect::<Vec<_>>()
            .join(" OR "),
    )
}

/// A light English stemmer (plural and verb suffixes), enough to compare a question's terms
/// with a passage's words the way the index's porter tokenizer roughly does.
pub fn stem(word: &str) -> String {
    let w = word.to_lowercase();
    let n = w.chars().count();
    for (suffix, min_stem) in [
        ("ations", 3),
        ("ation", 3),
        ("ments", 3),
        ("ment", 3),
        ("ings", 3),
        ("ing", 3),
        ("ies", 2),
        ("ied", 2),
        ("es", 3),
        ("ed", 3),
        ("ly", 3),
        ("s", 3),
    ] {
        if let Some(stem) = w.strip_suffix(suffix) {
            if stem.chars().count() >= min_stem && n > suffix.len() {
                if suffix == "s" && w.ends_with("ss") {
                    continue;
                }
                let stem = stem.trim_end_matches('e');
                return match suffix {
                    "ies" | "ied" => format!("{stem}y"),
                    _ => undouble(stem),
                };
            }
        }
    }
    undouble(w.trim_end_matches('e'))
}

/// Words that support conversations use for the same thing, each group folded to its first
/// word by [`concepts`]: a question about a "package stuck at the border" meets data about a
/// "parcel held at customs". General vocabulary of support, not of any one product.
const SYNONYMS: &[&[&str]] = &[
    &[
        "parcel",
        "package",
        "shipment",
        "delivery",
        "consignment",
        "box",
    ],
    &[
        "held", "hold", "stuck", "delayed", "blocked", "waiting", "pending",
    ],
    &["customs", "border", "duty"],
    &["book", "booking", "reserve", "reservation", "schedule"],
    &["class", "session", "lesson", "workout"],
    &["appointment", "visit", "consultation", "checkup", "call"],
    &["refund", "reimburse", "reimbursement", "repay", "money"],
    &["concert", "gig", "show", "event", "performance"],
    &[
        "bill", "invoice", "charge", "charged", "fee", "cost", "price",
    ],
    &["payment", "pay", "paid", "transfer", "sent", "money"],
    &["card", "debit", "credit"],
    &[
        "decline", "declined", "rejected", "refused", "denied", "bounced",
    ],
    &[
        "plan",
        "tier",
        "subscription",
        "membership",
        "upgrade",
        "downgrade",
    ],
    &["storage", "space", "disk", "quota", "room"],
    &[
        "left",
        "remaining",
        "remain",
        "balance",
        "allowance",
        "still",
        "available",
    ],
    &[
        "expire",
        "expired",
        "expiry",
        "expiration",
        "renew",
        "renewal",
        "valid",
    ],
    &["ticket", "tickets", "pass", "passes"],
    &["login", "signin", "password", "credential"],
    &[
        "error", "fail", "failed", "failure", "broken", "wrong", "problem", "issue",
    ],
    &[
        "integration",
        "connection",
        "connect",
        "sync",
        "syncing",
        "linked",
    ],
    &["flight", "plane", "fly", "trip"],
    &["boat", "ferry", "sailing", "crossing", "ship", "vessel"],
    &["carriage", "coach", "wagon"],
    &[
        "child", "children", "kid", "kids", "son", "daughter", "junior", "minor",
    ],
    &[
        "arrive",
        "arriving",
        "arrival",
        "eta",
        "coming",
        "deliver",
        "delivered",
        "delivery",
    ],
    &[
        "deposit",
        "preauthorised",
        "preauthorized",
        "authorised",
        "authorized",
        "hold",
        "held",
    ],
    &["car", "vehicle", "rental"],
    &["rent", "landlord", "lease", "tenancy"],
    &["return", "returned", "back", "sent", "home", "inbound"],
    &["data", "gb", "gigs", "gig"],
    &[
        "internet",
        "wifi",
        "broadband",
        "fibre",
        "fiber",
        "line",
        "outage",
        "router",
        "modem",
    ],
    &["phone", "mobile", "cell"],
    &["roaming", "abroad", "overseas", "usa", "america", "world"],
    &["device", "screen", "tv", "tablet", "laptop", "ipad"],
    &["order", "purchase", "bought", "buy"],
    &[
        "cancel",
        "cancelled",
        "canceled",
        "cancellation",
        "terminate",
    ],
    &["find", "found", "discover", "heard"],
    &["door", "badge", "access", "entry", "floor"],
    &["location", "server", "region"],
    &["upload", "import", "spreadsheet", "csv", "file"],
    &["fix", "repair", "maintenance", "technician", "engineer"],
    &["tax", "filing", "filed"],
    &["shipping", "carrier", "postage"],
    &["electricity", "energy", "power", "meter"],
    &["contact", "customer", "lead"],
    &[
        "progress",
        "complete",
        "completed",
        "status",
        "news",
        "update",
    ],
    &["email", "mail", "inbox", "message"],
    &[
        "signup",
        "register",
        "registration",
        "join",
        "enrol",
        "enroll",
    ],
    &["delete", "remove", "erase"],
    &["change", "update", "edit", "modify"],
    &["slow", "lag", "laggy", "speed", "sluggish"],
    &["offline", "unavailable", "unreachable", "maintenance"],
    &["discount", "coupon", "promo", "voucher"],
    &["points", "rewards", "loyalty", "miles"],
    &["warranty", "guarantee"],
    &["receipt", "invoice", "statement"],
    &["damaged", "defective", "faulty", "broken"],
    &["late", "delayed", "overdue"],
    // Days and months as people write them and as apps print them ("saturday", "Sat 13:00").
    &["monday", "mon"],
    &["tuesday", "tue", "tues"],
    &["wednesday", "wed"],
    &["thursday", "thu", "thurs"],
    &["friday", "fri"],
    &["saturday", "sat"],
    &["sunday", "sun"],
    &["january", "jan"],
    &["february", "feb"],
    &["march", "mar"],
    &["april", "apr"],
    &["june", "jun"],
    &["july", "jul"],
    &["august", "aug"],
    &["september", "sep", "sept"],
    &["october", "oct"],
    &["november", "nov"],
    &["december", "dec"],
    &["collect", "collection", "collected", "pickup", "pick"],
    &["medication", "meds", "medicine", "prescription", "pills"],
    &["guest", "friend", "companion", "visitor"],
    &["hygienist", "cleaning", "hygiene", "polish"],
    &["owe", "owed", "owing", "outstanding", "balance"],
    &["ready", "yet", "prepared"],
];

/// Each synonym (as written and stemmed) to the concepts of the groups it belongs to, built
/// once: [`word_concepts`] runs for every word of every fact of every turn.
fn synonym_index() -> &'static std::collections::HashMap<String, Vec<String>> {
    static INDEX: std::sync::OnceLock<std::collections::HashMap<String, Vec<String>>> =
        std::sync::OnceLock::new();
    INDEX.get_or_init(|| {
        let mut index: std::collections::HashMap<String, Vec<String>> = Default::default();
        for group in SYNONYMS {
            let concept = stem(group[0]);
            for word in *group {
                for key in [word.to_string(), stem(word)] {
                    let entry = index.entry(key).or_default();
                    if !entry.contains(&concept) {
                        entry.push(concept.clone());
                    }
                }
            }
        }
        index
    })
}

/// The concepts one word stands for: its stem, or the first word (stemmed) of each
/// [`SYNONYMS`] group it belongs to.
pub fn word_concepts(word: &str) -> Vec<String> {
    let w = word.to_lowercase();
    let s = stem(&w);
    let index = synonym_index();
    let mut groups: Vec<String> = index.get(&w).cloned().unwrap_or_default();
    for c in index.get(&s).into_iter().flatten() {
        if !groups.contains(c) {
            groups.push(c.clone());
        }
    }
    if groups.is_empty() {
        vec![s]
    } else {
        groups
    }
}

/// The topic concepts of a text: its words, stemmed, with [`SYNONYMS`] folded together, so
/// two texts that say the same thing in other words share concepts.
pub fn concepts(text: &str) -> std::collections::HashSet<String> {
    words(text)
        .filter(|w| !is_stop_word(w) || synonym_index().contains_key(w.as_str()))
        .flat_map(|w| word_concepts(&w))
        .collect()
}

/// The times of day a text names, each as `@HH:MM` on a 24-hour clock: "7am", "7 pm",
/// "7:30pm", "07:00", "19:15", "09:00-10:00". A question about "the 7am boat" meets the
/// sailing at "07:00". Numbers without a clock mark ("7", "1.5") are not times.
pub fn clock_times(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (_, _, t) in clock_spans(text) {
        if !out.contains(&t) {
            out.push(t);
        }
    }
    out
}

/// The text with its times of day blanked out, so "7am" and "30pm" are not read again as
/// words or numbers ("the 7am boat on 11 Dec" keeps its "11").
pub fn without_clock_times(text: &str) -> String {
    let spans = clock_spans(text);
    text.chars()
        .enumerate()
        .map(|(i, c)| {
            if spans.iter().any(|(a, b, _)| (*a..*b).contains(&i)) {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// Each time of day in `text`: where it starts and ends (in chars) and its `@HH:MM`.
fn clock_spans(text: &str) -> Vec<(usize, usize, String)> {
    // One char for each char of the text, lower-cased (only compared, never sliced).
    let chars: Vec<char> = text
        .chars()
        .map(|c| c.to_lowercase().next().unwrap_or(c))
        .collect();
    let digits_at = |i: usize| chars[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        // A time starts a word, or follows the `T` of an ISO timestamp ("2026-12-11T07:00").
        let iso = i >= 2 && chars[i - 1] == 't' && chars[i - 2].is_ascii_digit();
        let starts =
            chars[i].is_ascii_digit() && (i == 0 || !chars[i - 1].is_alphanumeric() || iso);
        if !starts {
            i += 1;
            continue;
        }
        let n = digits_at(i);
        let hour: u32 = chars[i..i + n]
            .iter()
            .collect::<String>()
            .parse()
            .unwrap_or(99);
        let mut j = i + n;
        let mut minute = None;
        if n <= 2 && matches!(chars.get(j), Some(':' | '.')) && digits_at(j + 1) == 2 {
            minute = chars[j + 1..j + 3].iter().collect::<String>().parse().ok();
            j += 3;
        }
        let mut k = j;
        while chars.get(k) == Some(&' ') {
            k += 1;
        }
        let tail: String = chars[k.min(chars.len())..].iter().take(4).collect();
        let meridiem = ["am", "a.m", "pm", "p.m"]
            .iter()
            .find(|m| {
                tail.starts_with(*m)
                    && !tail[m.len()..]
                        .chars()
                        .next()
                        .is_some_and(|c| c.is_alphabetic())
            })
            .map(|m| (m.starts_with('p'), k + m.len()));
        let time = match (meridiem, minute) {
            (Some((pm, end)), m)
                if n <= 2 && (1..=12).contains(&hour) && m.is_none_or(|m| m < 60) =>
            {
                Some((hour % 12 + if pm { 12 } else { 0 }, m.unwrap_or(0), end))
            }
            // Without am/pm only a colon makes a clock ("19:15", not "19.15" or "1.5").
            (None, Some(m)) if n <= 2 && chars[i + n] == ':' && hour < 24 && m < 60 => {
                Some((hour, m, j))
            }
            _ => None,
        };
        if let Some((h, m, end)) = time {
            out.push((i, end, format!("@{h:02}:{m:02}")));
        }
        i = j.max(i + 1);
    }
    out
}

/// "cancell" and "cancel", "stopp" and "stop" meet; "ss" stays ("access").
fn undouble(stem: &str) -> String {
    let mut chars = stem.chars().rev();
    match (chars.next(), chars.next()) {
        (Some(a), Some(b)) if a == b && a != 's' && a.is_alphabetic() && !"aeiou".contains(a) => {
            stem[..stem.len() - a.len_utf8()].to_owned()
        }
        _ => stem.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_of_day_are_read_on_one_clock() {
        assert_eq!(clock_times("the 7am boat"), ["@07:00"]);
        assert_eq!(clock_times("at 7 pm or 7:30PM"), ["@19:00", "@19:30"]);
        assert_eq!(clock_times("FB-2207, Thu 11 Dec 07:00"), ["@07:00"]);
        assert_eq!(clock_times("crew 09:00-10:00"), ["@09:00", "@10:00"]);
        assert_eq!(clock_times("12am and 12pm"), ["@00:00", "@12:00"]);
        assert!(clock_times(
            "7 parcels, 1.5 kg, 19.15 EUR, room 12, 2026-12-01, 25:00, 13pm, 7 amps"
        )
        .is_empty());
        assert_eq!(clock_times("due 2026-12-11T07:00:00Z"), ["@07:00"]);
        assert_eq!(
            without_clock_times("the 7am boat on 11 Dec, or 7:30 pm?"),
            "the     boat on 11 Dec, or        ?"
        );
    }

    #[test]
    fn stop_words_are_sorted_for_binary_search() {
        assert!(STOP_WORDS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn a_question_becomes_quoted_or_terms() {
        assert_eq!(
            fts_match_query("How do I reset my password?").as_deref(),
            Some("\"reset\" OR \"password\"")
        );
    }

    #[test]
    fn fts_syntax_in_user_text_is_neutralised() {
        let q = fts_match_query(r#"title:"refund" AND NEAR(x y) OR -z* ^col"#).unwrap();
        assert_eq!(q, "\"title\" OR \"refund\" OR \"near\" OR \"col\"");
        assert!(!q.contains('*') && !q.contains(':') && !q.contains('^'));
    }

    #[test]
    fn unicode_words_survive() {
        assert_eq!(
            fts_match_query("Rückerstattung für 注文").as_deref(),
            Some("\"rückerstattung\" OR \"für\" OR \"注文\"")
        );
    }

    #[test]
    fn text_without_topic_words_has_no_query() {
        assert_eq!(fts_match_query("how do I?"), None);
        assert_eq!(fts_match_query("\"\" ** ()"), None);
    }

    #[test]
    fn query_terms_are_distinct_and_capped() {
        let text = (0..40)
            .map(|i| format!("term{i} term{i}"))
            .collect::<Vec<_>>()
            .join(" ");
        let terms = query_terms(&text);
        assert_eq!(terms.len(), MAX_QUERY_TERMS);
        assert_eq!(terms[1], "term1");
    }

    #[test]
    fn other_words_for_the_same_thing_share_a_concept() {
        let question = concepts("my package is stuck at the border");
        let data = concepts("Parcel B2: held at customs");
        for c in ["parcel", "held", "custom"] {
            assert!(
                question.contains(c) && data.contains(c),
                "{c}: {question:?} / {data:?}"
            );
        }
        assert!(!concepts("invoice").contains("parcel"));
    }

    #[test]
    fn stemming_joins_common_inflections() {
        assert_eq!(stem("invoices"), stem("invoice"));
        assert_eq!(stem("cancelled"), stem("cancel"));
        assert_eq!(stem("exporting"), stem("export"));
        assert_eq!(stem("companies"), stem("company"));
        assert_eq!(stem("access"), "access");
    }
}
