//! Splitting a document into passages that follow its structure.
//!
//! Markdown headings start a new section; each chunk keeps its heading path
//! ("Billing > Refunds") for citations. Long sections are split between paragraphs so a chunk
//! stays under [`MAX_CHUNK_CHARS`].

/// Longest chunk, in characters, unless a single paragraph is longer.
pub const MAX_CHUNK_CHARS: usize = 1_200;

/// A passage of a document with the headings above it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    pub heading: Option<String>,
    pub body: String,
}

/// Longest overlap carried into the next chunk of a section, in characters.
pub const MAX_OVERLAP_CHARS: usize = 200;

/// The last sentence of `text` if it is short enough to carry over, else nothing.
fn last_sentence(text: &str) -> String {
    let trimmed = text.trim_end();
    let head = &trimmed[..trimmed.len() - trimmed.chars().last().map_or(0, char::len_utf8)];
    let cut = head.rfind(['.', '!', '?', '\n']).map_or(0, |i| i + 1);
    let s = trimmed[cut..].trim();
    if s.chars().count() <= MAX_OVERLAP_CHARS {
        s.to_owned()
    } else {
        String::new()
    }
}

/// Chunks markdown or plain text (plain text is markdown without headings).
pub fn chunk_markdown(text: &str) -> Vec<Chunk> {
    let mut chunks = Vec::new();
    let mut path: Vec<(usize, String)> = Vec::new();
    let mut paragraphs: Vec<String> = Vec::new();
    let mut current = String::new();

    let flush_paragraph = |current: &mut String, paragraphs: &mut Vec<String>| {
        let p = current.trim();
        if !p.is_empty() {
            paragraphs.push(p.to_owned());
        }
        current.clear();
    };
    let flush_section = |paragraphs: &mut Vec<String>,
                         path: &[(usize, String)],
                         chunks: &mut Vec<Chunk>| {
        let heading = (!path.is_empty()).then(|| {
            path.iter()
                .map(|(_, h)| h.as_str())
                .collect::<Vec<_>>()
                .join(" > ")
        });
        let mut body = String::new();
        for p in paragraphs.drain(..) {
            if !body.is_empty() && body.chars().count() + p.chars().count() + 2 > MAX_CHUNK_CHARS {
                // A little overlap: the next chunk starts with the last sentence of this one,
                // so an answer that straddles the cut is whole in at least one chunk.
                let carry = last_sentence(&body);
                chunks.push(Chunk {
                    heading: heading.clone(),
                    body: std::mem::take(&mut body),
                });
                body = carry;
            }
            if !body.is_empty() {
                body.push_str("\n\n");
            }
            body.push_str(&p);
        }
        if !body.is_empty() {
            chunks.push(Chunk { heading, body });
        }
    };

    for line in text.lines() {
        let trimmed = line.trim_start();
        let level = trimmed.chars().take_while(|&c| c == '#').count();
        if (1..=6).contains(&level) && trimmed[level..].starts_with(' ') {
            flush_paragraph(&mut current, &mut paragraphs);
            flush_section(&mut paragraphs, &path, &mut chunks);
            path.retain(|(l, _)| *l < level);
            path.push((
                level,
                trimmed[level..]
                    .trim()
                    .trim_end_matches('#')
                    .trim()
                    .to_owned(),
            ));
        } else if trimmed.is_empty() {
            flush_paragraph(&mut current, &mut paragraphs);
        } else {
            if !current.is_empty() {
                current.push('\n');
            }
            current.push_str(line.trim_end());
        }
    }
    flush_paragraph(&mut current, &mut paragraphs);
    flush_section(&mut paragraphs, &path, &mut chunks);
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_become_paths() {
        let c = chunk_markdown(
            "Intro text.\n\n# Billing\n\n## Refunds\n\nFive days.\n\n# Security\n\nUse 2FA.",
        );
        assert_eq!(
            c,
            vec![
                Chunk {
                    heading: None,
                    body: "Intro text.".into()
                },
                Chunk {
                    heading: Some("Billing > Refunds".into()),
                    body: "Five days.".into()
                },
                Chunk {
                    heading: Some("Security".into()),
                    body: "Use 2FA.".into()
                },
            ]
        );
    }

    #[test]
    fn long_sections_split_between_paragraphs() {
        let para = "word ".repeat(100);
        let text = format!("# H\n\n{para}\n\n{para}\n\n{para}");
        let c = chunk_markdown(&text);
        assert!(c.len() >= 2);
        assert!(c.iter().all(
            |ch| ch.body.chars().count() <= MAX_CHUNK_CHARS + MAX_OVERLAP_CHARS
                && ch.heading.as_deref() == Some("H")
        ));
    }

    #[test]
    fn a_split_section_overlaps_by_a_sentence() {
        let para = |n: usize| {
            format!(
                "Paragraph {n} talks at length. {} It ends with sentence {n}.",
                "Filler words here. ".repeat(30)
            )
        };
        let text = format!("# H\n\n{}\n\n{}", para(1), para(2));
        let c = chunk_markdown(&text);
        assert_eq!(c.len(), 2);
        assert!(
            c[1].body.starts_with("It ends with sentence 1."),
            "{}",
            c[1].body
        );
    }

    #[test]
    fn a_hash_without_a_space_is_text() {
        let c = chunk_markdown("#hashtag is not a heading");
        assert_eq!(c[0].heading, None);
    }
}
