//! Countries and languages by their ISO codes and English names (`places.txt`, written by
//! `scripts/places.py` from Debian's iso-codes), so the offline engine sees that "the German
//! version" is the job marked "EN>DE", and "when I land in the US" is about the add-on
//! "World roaming (incl. USA)". General knowledge no synonym list holds.
//!
//! Codes count only as apps write them: in capitals ("DE", "USA") or as a web domain's ending
//! (".ie"). Lower case, "it", "no" and "us" are words.

use std::collections::HashMap;
use std::sync::OnceLock;

const TABLE: &str = include_str!("places.txt");
/// The marks of a country's and a language's concept: no word can equal them.
const COUNTRY: char = '\u{2691}';
const LANGUAGE: char = '\u{2690}';

struct Index {
    /// A code as written (upper case) to the concepts it names.
    codes: HashMap<String, Vec<String>>,
    /// A one-word name, lower case, to its concepts.
    words: HashMap<String, Vec<String>>,
    /// Names of several words, lower case, with their concept.
    phrases: Vec<(String, String)>,
}

fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut index = Index {
            codes: HashMap::new(),
            words: HashMap::new(),
            phrases: Vec::new(),
        };
        for line in TABLE.lines() {
            let mut cols = line.split('\t');
            let (Some(kind), Some(id), Some(codes), Some(names)) =
                (cols.next(), cols.next(), cols.next(), cols.next())
            else {
                continue;
            };
            // Markers that no word can equal: a country and a language are two concepts.
            let concept = format!("{}{id}", if kind == "c" { COUNTRY } else { LANGUAGE });
            for code in codes.split(' ') {
                index
                    .codes
                    .entry(code.to_uppercase())
                    .or_default()
                    .push(concept.clone());
            }
            for name in names.split('|').filter(|n| !n.is_empty()) {
                if name.contains(' ') {
                    index.phrases.push((name.to_owned(), concept.clone()));
                } else {
                    index
                        .words
                        .entry(name.to_owned())
                        .or_default()
                        .push(concept.clone());
                }
            }
        }
        index
    })
}

/// The countries and languages a one-word name stands for ("german", "ireland").
pub fn of_word(word: &str) -> &'static [String] {
    index()
        .words
        .get(&word.to_lowercase())
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// The countries and languages a text names: by name, by a code in capitals, or by a web
/// domain's ending.
pub fn in_text(text: &str) -> Vec<String> {
    let index = index();
    let mut out: Vec<String> = Vec::new();
    // A text in capitals ("MY CARD IS NOT WORKING") has no codes to tell from its words.
    let letters = text.chars().filter(|c| c.is_alphabetic()).count();
    let capital_letters = text.chars().filter(|c| c.is_uppercase()).count();
    let shouted = capital_letters * 2 > letters && letters > 6;
    let mut add = |concepts: &[String]| {
        for c in concepts {
            if !out.contains(c) {
                out.push(c.clone());
            }
        }
    };
    let mut at = 0;
    while let Some(start) = text[at..]
        .find(|c: char| c.is_alphanumeric())
        .map(|i| at + i)
    {
        let end = text[start..]
            .find(|c: char| !c.is_alphanumeric())
            .map_or(text.len(), |i| start + i);
        let token = &text[start..end];
        // "halo-demo.ie": two letters after a dot that follows a word.
        let before = &text[..start];
        let domain_end = token.len() == 2
            && before.ends_with('.')
            && before[..before.len() - 1]
                .chars()
                .next_back()
                .is_some_and(char::is_alphanumeric);
        let capitals =
            (2..=3).contains(&token.len()) && token.chars().all(|c| c.is_ascii_uppercase());
        if (capitals && !shouted) || domain_end {
            let concepts = index.codes.get(&token.to_uppercase());
            for c in concepts.into_iter().flatten() {
                // A domain ends in a country's code, never a language's.
                if !domain_end || c.starts_with(COUNTRY) {
                    add(std::slice::from_ref(c));
                }
            }
        } else {
            add(of_word(token));
        }
        at = end;
    }
    let lower = format!(
        " {} ",
        crate::search::words(text).collect::<Vec<_>>().join(" ")
    );
    for (name, concept) in &index.phrases {
        if lower.contains(&format!(" {name} ")) {
            add(std::slice::from_ref(concept));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_codes_in_capitals_and_domains_name_places_and_lower_case_words_do_not() {
        let de = in_text("Brochure EN>DE");
        assert!(de.contains(&"\u{2690}de".to_owned()), "{de:?}");
        assert!(de.contains(&"\u{2690}en".to_owned()), "{de:?}");
        assert!(of_word("German").contains(&"\u{2690}de".to_owned()));
        assert_eq!(
            in_text("World roaming (incl. USA)"),
            in_text("when I land in the US")
        );
        assert_eq!(in_text("the United States"), vec!["\u{2691}us".to_owned()]);
        assert_eq!(in_text("halo-demo.ie"), vec!["\u{2691}ie".to_owned()]);
        assert_eq!(in_text("halo-demo.ie"), in_text("Ireland"));
        assert!(in_text("it is no use to us, do it by noon").is_empty());
        assert!(in_text("Call me at 10.30").is_empty());
        assert!(in_text("MY CARD IS NOT WORKING").is_empty());
    }
}
