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
    fn stemming_joins_common_inflections() {
        assert_eq!(stem("invoices"), stem("invoice"));
        assert_eq!(stem("cancelled"), stem("cancel"));
        assert_eq!(stem("exporting"), stem("export"));
        assert_eq!(stem("companies"), stem("company"));
        assert_eq!(stem("access"), "access");
    }
}
