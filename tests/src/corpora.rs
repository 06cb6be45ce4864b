//! Real FAQ corpora that nobody here wrote, from Debian packages, as (question, answer) pairs:
//! the Python FAQ (`python3.11-doc`) and the Debian FAQ (`debian-faq`).

use std::path::Path;

/// One question and its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Faq {
    pub question: String,
    pub answer: String,
}

/// Where `python3.11-doc` installs the FAQ's reStructuredText sources.
pub const PYTHON_FAQ_DIR: &str = "/usr/share/doc/python3.11/html/_sources/faq";
/// Where `debian-faq` installs its plain-text edition.
pub const DEBIAN_FAQ_TXT_GZ: &str = "/usr/share/doc/debian/FAQ/debian-faq.en.txt.gz";

fn is_underline(line: &str, ch: char) -> bool {
    line.len() >= 3 && line.chars().all(|c| c == ch)
}

/// Questions are titles underlined with `-`; the answer runs to the next `-` or `=` title.
pub fn parse_python_rst(text: &str) -> Vec<Faq> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out: Vec<Faq> = Vec::new();
    let mut current: Option<(String, Vec<&str>)> = None;
    let mut i = 0;
    while i < lines.len() {
        let next = lines.get(i + 1).copied().unwrap_or("");
        let is_title =
            !lines[i].trim().is_empty() && (is_underline(next, '-') || is_underline(next, '='));
        if is_title {
            if let Some((q, a)) = current.take() {
                out.push(Faq {
                    question: q,
                    answer: a.join("\n").trim().to_owned(),
                });
            }
            if is_underline(next, '-') {
                current = Some((lines[i].trim().to_owned(), Vec::new()));
            }
            i += 2;
            continue;
        }
        if let Some((_, a)) = current.as_mut() {
            a.push(lines[i]);
        }
        i += 1;
    }
    if let Some((q, a)) = current {
        out.push(Faq {
            question: q,
            answer: a.join("\n").trim().to_owned(),
        });
    }
    out.retain(|f| !f.answer.is_empty());
    out
}

/// Questions are `N.M. Title` lines at column 0 (a title may wrap onto more column-0 lines);
/// the indented answer runs to the next `N.M.` or `N.` title. `N.M.K.` parts stay in it.
pub fn parse_debian_txt(text: &str) -> Vec<Faq> {
    let lines: Vec<&str> = text.lines().collect();
    let numbered = |l: &str| -> usize {
        let mut parts = 0;
        let mut rest = l;
        loop {
            let digits = rest.chars().take_while(char::is_ascii_digit).count();
            if digits == 0 || !rest[digits..].starts_with('.') {
                return parts;
            }
            parts += 1;
            rest = &rest[digits + 1..];
            if rest.starts_with(char::is_whitespace) {
                return parts;
            }
        }
    };
    let mut out = Vec::new();
    let mut current: Option<(String, Vec<&str>)> = None;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let level = if line.starts_with(' ') {
            0
        } else {
            numbered(line)
        };
        if level == 1 || level == 2 {
            if let Some((q, a)) = current.take() {
                out.push(Faq {
                    question: q,
                    answer: a.join("\n").trim().to_owned(),
                });
            }
            // The number is followed by a no-break space in the package's text.
            let mut title = line
                .trim_start_matches(|c: char| c.is_ascii_digit() || c == '.')
                .trim()
                .to_owned();
            while let Some(more) = lines
                .get(i + 1)
                .filter(|l| !l.trim().is_empty() && !l.starts_with(' '))
            {
                title.push(' ');
                title.push_str(more.trim());
                i += 1;
            }
            if level == 2 {
                current = Some((title, Vec::new()));
            }
        } else if let Some((_, a)) = current.as_mut() {
            a.push(line);
        }
        i += 1;
    }
    if let Some((q, a)) = current {
        out.push(Faq {
            question: q,
            answer: a.join("\n").trim().to_owned(),
        });
    }
    out.retain(|f| !f.answer.is_empty());
    out
}

/// The Python FAQ, from all its files in name order.
pub fn python_faq() -> std::io::Result<Vec<Faq>> {
    let mut files: Vec<_> = std::fs::read_dir(PYTHON_FAQ_DIR)?
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files
        .iter()
        .filter(|f| f.to_string_lossy().ends_with(".rst.txt"))
    {
        out.extend(parse_python_rst(&std::fs::read_to_string(f)?));
    }
    Ok(out)
}

/// The Debian FAQ (decompressed with `zcat`).
pub fn debian_faq() -> std::io::Result<Vec<Faq>> {
    let out = std::process::Command::new("zcat")
        .arg(Path::new(DEBIAN_FAQ_TXT_GZ))
        .output()?;
    if !out.status.success() {
        return Err(std::io::Error::other(
            "zcat failed: is debian-faq installed?",
        ));
    }
    Ok(parse_debian_txt(&String::from_utf8_lossy(&out.stdout)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rst_questions_are_dash_underlined_titles() {
        let text = "=====\nFAQ\n=====\n\nGeneral\n=======\n\nWhat is it?\n-----------\n\nA thing.\n\nMore.\n\nWhy?\n----\n\nBecause.\n\nNext part\n=========\n\nintro\n";
        assert_eq!(
            parse_python_rst(text),
            vec![
                Faq {
                    question: "What is it?".into(),
                    answer: "A thing.\n\nMore.".into()
                },
                Faq {
                    question: "Why?".into(),
                    answer: "Because.".into()
                },
            ]
        );
    }

    #[test]
    fn debian_questions_may_wrap_and_keep_their_subparts() {
        let text = "    1.1. In the table of contents\n\n1. Chapter\n\n1.1.\u{a0}How can I download the updates only\none time?\n\n    Use a proxy.\n\n1.1.1. Details\n\n    Like this.\n\n1.2. Next?\n\n    Yes.\n\n2. Other chapter\n";

        let faqs = parse_debian_txt(text);
        assert_eq!(faqs.len(), 2);
        assert_eq!(
            faqs[0].question,
            "How can I download the updates only one time?"
        );
        assert!(faqs[0].answer.contains("Use a proxy.") && faqs[0].answer.contains("Like this."));
        assert_eq!(
            faqs[1],
            Faq {
                question: "Next?".into(),
                answer: "Yes.".into()
            }
        );
    }
}
