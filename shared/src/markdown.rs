//! A small, safe markdown subset for answers: paragraphs, bullet and numbered lists, fenced
//! code blocks, and inline bold, code and links. Only `http(s)` links become links; there is
//! no raw HTML (it shows as text) and no images. The output is a tree of blocks and spans that
//! the panel renders as elements and text nodes, never through `innerHTML`.

/// A run of inline text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Span {
    Text(String),
    Bold(String),
    Code(String),
    Link { text: String, url: String },
}

/// A block of an answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Block {
    Paragraph(Vec<Span>),
    List {
        ordered: bool,
        items: Vec<Vec<Span>>,
    },
    Code(String),
}

fn list_item(line: &str) -> Option<(bool, &str)> {
    let t = line.trim_start();
    if let Some(rest) = t.strip_prefix("- ").or_else(|| t.strip_prefix("* ")) {
        return Some((false, rest));
    }
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    if digits > 0 && digits <= 3 {
        if let Some(rest) = t[digits..].strip_prefix(". ") {
            return Some((true, rest));
        }
    }
    None
}

/// Splits an answer into blocks.
pub fn parse(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut para: Vec<&str> = Vec::new();
    let mut lines = text.lines().peekable();
    let flush = |para: &mut Vec<&str>, blocks: &mut Vec<Block>| {
        if !para.is_empty() {
            blocks.push(Block::Paragraph(spans(&para.join("\n"))));
            para.clear();
        }
    };
    while let Some(line) = lines.next() {
        if line.trim_start().starts_with("```") {
            flush(&mut para, &mut blocks);
            let mut code = Vec::new();
            for l in lines.by_ref() {
                if l.trim_start().starts_with("```") {
                    break;
                }
                code.push(l);
            }
            blocks.push(Block::Code(code.join("\n")));
        } else if let Some((ordered, first)) = list_item(line) {
            flush(&mut para, &mut blocks);
            let mut items = vec![spans(first)];
            while let Some((o, rest)) = lines.peek().and_then(|l| list_item(l)) {
                if o != ordered {
                    break;
                }
                items.push(spans(rest));
                lines.next();
            }
            blocks.push(Block::List { ordered, items });
        } else if line.trim().is_empty() {
            flush(&mut para, &mut blocks);
        } else {
            para.push(line);
        }
    }
    flush(&mut para, &mut blocks);
    blocks
}

fn web_url(url: &str) -> bool {
    (url.starts_with("https://") || url.starts_with("http://"))
        && !url
            .chars()
            .any(|c| c.is_whitespace() || c == '"' || c == '<' || c == '>')
}

/// Reads inline bold (`**x**`), code (`` `x` ``) and links (`[text](http…)`); anything else,
/// HTML included, stays text.
pub fn spans(text: &str) -> Vec<Span> {
    let mut out: Vec<Span> = Vec::new();
    let mut plain = String::new();
    let mut rest = text;
    let push_plain = |plain: &mut String, out: &mut Vec<Span>| {
        if !plain.is_empty() {
            out.push(Span::Text(std::mem::take(plain)));
        }
    };
    while let Some(c) = rest.chars().next() {
        let found = if let Some(after) = rest.strip_prefix("**") {
            after
                .find("**")
                .filter(|&end| end > 0)
                .map(|end| (Span::Bold(after[..end].to_owned()), &after[end + 2..]))
        } else if let Some(after) = rest.strip_prefix('`') {
            after
                .find('`')
                .filter(|&end| end > 0)
                .map(|end| (Span::Code(after[..end].to_owned()), &after[end + 1..]))
        } else if let Some(after) = rest.strip_prefix('[') {
            after.find("](").and_then(|mid| {
                let tail = &after[mid + 2..];
                let end = tail.find(')')?;
                let (label, url) = (&after[..mid], &tail[..end]);
                (web_url(url) && !label.is_empty() && !label.contains('[')).then(|| {
                    (
                        Span::Link {
                            text: label.to_owned(),
                            url: url.to_owned(),
                        },
                        &tail[end + 1..],
                    )
                })
            })
        } else {
            None
        };
        match found {
            Some((span, after)) => {
                push_plain(&mut plain, &mut out);
                out.push(span);
                rest = after;
            }
            None => {
                plain.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    push_plain(&mut plain, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Span {
        Span::Text(s.into())
    }

    #[test]
    fn paragraphs_lists_and_code_blocks() {
        let md = "Do this:\n\n1. Open **Settings**\n2. Click `Export`\n\n- one\n- two\n\n```\nlet x = 1;\n```\nDone.";
        assert_eq!(
            parse(md),
            [
                Block::Paragraph(vec![text("Do this:")]),
                Block::List {
                    ordered: true,
                    items: vec![
                        vec![text("Open "), Span::Bold("Settings".into())],
                        vec![text("Click "), Span::Code("Export".into())],
                    ]
                },
                Block::List {
                    ordered: false,
                    items: vec![vec![text("one")], vec![text("two")]]
                },
                Block::Code("let x = 1;".into()),
                Block::Paragraph(vec![text("Done.")]),
            ]
        );
    }

    #[test]
    fn only_web_links_become_links_and_html_stays_text() {
        assert_eq!(
            spans("See [the guide](https://help.example.test/g) now"),
            [
                text("See "),
                Span::Link {
                    text: "the guide".into(),
                    url: "https://help.example.test/g".into()
                },
                text(" now")
            ]
        );
        for unsafe_link in [
            "[x](javascript:alert(1))",
            "[x](data:text/html,hi)",
            "[x](//evil.test)",
            "![img](https://x.test/a.png)",
        ] {
            assert!(
                !spans(unsafe_link)
                    .iter()
                    .any(|s| matches!(s, Span::Link { url, .. } if !url.starts_with("http"))),
                "{unsafe_link}"
            );
        }
        assert_eq!(
            spans("<img src=x onerror=alert(1)>"),
            [text("<img src=x onerror=alert(1)>")]
        );
        assert_eq!(
            spans("2 ** 3 and a lone ` tick"),
            [text("2 ** 3 and a lone ` tick")]
        );
    }
}
