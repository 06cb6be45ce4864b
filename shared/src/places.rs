//! Countries and languages by their ISO codes and English names (`places.txt`, written by
//! `scripts/places.py` from Debian's iso-codes), so the offline engine sees that "the German
//! version" is the job marked "EN>DE", and "when I land in the US" is about the add-on
//! "World roaming (incl. USA)". General knowledge no synonym list holds.
//!
//! Codes count only as apps write them: in capitals ("DE", "USA") or as a web domain's ending
//! (".ie"). Lower case, "it", "no" and "us" are words. A code alone names a country ("UK",
//! "USA"), unless it is an abbreviation more often than a place ("AI", "ID", "GB", "VAT");
//! beside another language code it names a language ("EN>DE", "EN/SV").

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::search::words;

const TABLE: &str = include_str!("places.txt");
/// The marks of a country's and a language's concept: no word can equal them.
const COUNTRY: char = '\u{2691}';
const LANGUAGE: char = '\u{2690}';

struct Index {
    /// A country's code as written (upper case) to its concept.
    countries: HashMap<String, String>,
    /// A language's code, upper case, to its concept.
    languages: HashMap<String, String>,
    /// A one-word name, lower case, to its concepts.
    words: HashMap<String, Vec<String>>,
    /// Names of several words, as " a b " in lower case, with their concept.
    phrases: Vec<(String, String)>,
}

/// Codes that are, alone, more often an abbreviation or a word than a country.
const NOT_ALONE: &[&str] = &[
    "AI", "AM", "AN", "AS", "AT", "BE", "BY", "CV", "DO", "GB", "HR", "ID", "IN", "IS", "IT", "MD",
    "ME", "MS", "NA", "NO", "OR", "PM", "PR", "PS", "SD", "SO", "TM", "TO", "TV", "AND", "ARE",
    "ARM", "CAN", "COD", "COM", "DOM", "FIN", "GAB", "MAC", "MAR", "PAN", "PER", "PNG", "TON",
    "VAT",
];

/// File name endings that are also countries' codes ("main.rs" is no Serbian domain).
const FILE_ENDINGS: &[&str] = &[
    "rs", "md", "py", "js", "ts", "sh", "cs", "db", "gz", "so", "ai", "ps", "ml", "mk", "am",
];

fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut index = Index {
            countries: HashMap::new(),
            languages: HashMap::new(),
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
            let country = kind == "c";
            let concept = format!("{}{id}", if country { COUNTRY } else { LANGUAGE });
            let by_code = if country {
                &mut index.countries
            } else {
                &mut index.languages
            };
            for code in codes.split(' ').filter(|c| !c.is_empty()) {
                by_code.insert(code.to_uppercase(), concept.clone());
            }
            for name in names.split('|') {
                // "Guinea-Bissau", "Côte d'Ivoire": as the text's words are read.
                let ws: Vec<String> = words(name).collect();
                match ws.as_slice() {
                    [] => {}
                    [one] => {
                        let list = index.words.entry(one.clone()).or_default();
                        if !list.contains(&concept) {
                            list.push(concept.clone());
                        }
                    }
                    _ => index
                        .phrases
                        .push((format!(" {} ", ws.join(" ")), concept.clone())),
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

/// The places a text names, by word: each token that names one or more (its lower-case form
/// with their concepts), then each name of several words (under that name). A word's
/// meanings stay together: one question term, not one per meaning.
pub fn in_text(text: &str) -> Vec<(String, Vec<String>)> {
    let index = index();
    let mut tokens: Vec<(usize, usize)> = Vec::new();
    let mut at = 0;
    while let Some(start) = text[at..]
        .find(|c: char| c.is_alphanumeric())
        .map(|i| at + i)
    {
        let end = text[start..]
            .find(|c: char| !c.is_alphanumeric())
            .map_or(text.len(), |i| start + i);
        tokens.push((start, end));
        at = end;
    }
    let token = |i: usize| &text[tokens[i].0..tokens[i].1];
    let capitals =
        |t: &str| (2..=3).contains(&t.len()) && t.chars().all(|c| c.is_ascii_uppercase());
    // A text in capitals ("MY CARD IS NOT WORKING") has no codes to tell from its words.
    let long: Vec<&str> = (0..tokens.len())
        .map(token)
        .filter(|t| t.chars().count() >= 4)
        .collect();
    let shouted = !long.is_empty()
        && long
            .iter()
            .filter(|t| t.chars().all(|c| !c.is_lowercase()))
            .count()
            * 2
            > long.len();
    // "EN>DE", "en/sv", "EN - FR": two codes of languages joined by one mark.
    let joined = |a: usize, b: usize| {
        let between = text[tokens[a].1..tokens[b].0].trim();
        between.chars().count() == 1 && between.chars().all(|c| ">/-\u{2192},".contains(c))
    };
    let language = |i: usize| {
        let t = token(i);
        (capitals(t) || t.chars().all(|c| c.is_ascii_lowercase()))
            && index.languages.contains_key(&t.to_uppercase())
    };
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for i in 0..tokens.len() {
        let t = token(i);
        let paired = language(i)
            && ((i > 0 && joined(i - 1, i) && language(i - 1))
                || (i + 1 < tokens.len() && joined(i, i + 1) && language(i + 1)));
        let concepts: Vec<String> = if paired {
            index
                .languages
                .get(&t.to_uppercase())
                .cloned()
                .into_iter()
                .collect()
        } else if capitals(t) && !shouted && !NOT_ALONE.contains(&t) {
            index.countries.get(t).cloned().into_iter().collect()
        } else if is_domain_end(text, tokens[i]) && !FILE_ENDINGS.contains(&t) {
            index
                .countries
                .get(&t.to_uppercase())
                .cloned()
                .into_iter()
                .collect()
        } else {
            of_word(t).to_vec()
        };
        if !concepts.is_empty() {
            out.push((t.to_lowercase(), concepts));
        }
    }
    let lower = format!(" {} ", words(text).collect::<Vec<_>>().join(" "));
    for (name, concept) in &index.phrases {
        if lower.contains(name.as_str()) {
            out.push((name.trim().to_owned(), vec![concept.clone()]));
        }
    }
    out
}

/// "halo-demo.ie": two lower-case letters after a dot that ends a word of two letters or more,
/// and not before another word ("e.g.it", "site.co.uk" reads as its last part).
fn is_domain_end(text: &str, (start, end): (usize, usize)) -> bool {
    let token = &text[start..end];
    if token.len() != 2 || !token.chars().all(|c| c.is_ascii_lowercase()) {
        return false;
    }
    let Some(before) = text[..start].strip_suffix('.') else {
        return false;
    };
    let label = before
        .chars()
        .rev()
        .take_while(|c| c.is_alphanumeric() || *c == '-')
        .count();
    let after = &text[end..];
    let continues =
        after.starts_with('.') && after[1..].chars().next().is_some_and(char::is_alphanumeric);
    label >= 2 && !continues
}

/// Every concept of [`in_text`], once.
pub fn concepts_in(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (_, concepts) in in_text(text) {
        for c in concepts {
            if !out.contains(&c) {
                out.push(c);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(text: &str) -> Vec<String> {
        concepts_in(text)
    }

    #[test]
    fn two_language_codes_joined_name_languages() {
        assert_eq!(of("Brochure EN>DE"), ["\u{2690}en", "\u{2690}de"]);
        assert_eq!(of("EN/SV"), ["\u{2690}en", "\u{2690}sv"]);
        assert!(of_word("German").contains(&"\u{2690}de".to_owned()));
    }

    #[test]
    fn a_code_alone_names_a_country_the_uk_too() {
        assert_eq!(of("World roaming (incl. USA)"), of("when I land in the US"));
        assert_eq!(of("Can you ship it to the UK?"), ["\u{2691}gb"]);
        assert_eq!(of("SV"), ["\u{2691}sv"]);
        assert_eq!(of("the United States"), ["\u{2691}us"]);
        assert_eq!(of("Guinea-Bissau"), ["\u{2691}gw"]);
    }

    #[test]
    fn abbreviations_words_and_shouting_name_nothing() {
        for text in [
            "it is no use to us, do it by noon",
            "Is the AI able to change my address?",
            "My IT ticket, ID 4471, TV and 20 GB of data at 10 AM",
            "VAT Q3, 12 MAY 2024, a PNG file",
            "MY CARD IS NOT WORKING",
            "nail polish and a turkey sandwich",
        ] {
            assert!(of(text).is_empty(), "{text}: {:?}", of(text));
        }
    }

    #[test]
    fn a_domain_ending_names_a_country_and_file_names_and_typos_do_not() {
        assert_eq!(of("halo-demo.ie"), ["\u{2691}ie"]);
        assert_eq!(of("halo-demo.ie"), of("Ireland"));
        for text in [
            "main.rs",
            "notes.md",
            "Thanks.It works",
            "I tried.No luck",
            "e.g.it",
            "Call me at 10.30",
        ] {
            assert!(of(text).is_empty(), "{text}: {:?}", of(text));
        }
    }
}
