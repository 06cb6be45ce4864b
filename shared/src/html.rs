//! HTML to plain text that keeps the document's structure: `<h1>`–`<h6>` become markdown
//! headings (so the chunker can follow them), block elements become paragraph breaks, list
//! items become `- ` lines, and scripts, styles and page chrome (nav, header, footer, aside,
//! forms) are dropped. Entities are decoded. Not a full HTML parser: enough for help pages.

/// Elements whose whole content is dropped.
const SKIPPED: &[&str] = &[
    "script", "style", "noscript", "template", "svg", "nav", "header", "footer", "aside", "form",
    "iframe", "head",
];
/// Elements that end a paragraph.
const BLOCKS: &[&str] = &[
    "p",
    "div",
    "section",
    "article",
    "main",
    "br",
    "hr",
    "table",
    "tr",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "blockquote",
    "pre",
    "figure",
    "figcaption",
    "body",
    "html",
];

/// The text of `<title>`, if any.
pub fn title(html: &str) -> Option<String> {
    let lower = html.to_ascii_lowercase();
    let start = lower.find("<title")?;
    let open_end = start + lower[start..].find('>')? + 1;
    let close = open_end + lower[open_end..].find("</title")?;
    let t = decode_entities(&html[open_end..close])
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    (!t.is_empty()).then_some(t)
}

/// Decodes the common named entities and numeric references.
pub fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let end = rest[1..].find(';').map(|e| e + 1).filter(|e| *e <= 10);
        let decoded = end.and_then(|e| {
            let name = &rest[1..e];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" | "#39" => Some('\''),
                "nbsp" => Some(' '),
                "mdash" => Some('\u{2014}'),
                "ndash" => Some('\u{2013}'),
                "hellip" => Some('\u{2026}'),
                "rsquo" => Some('\u{2019}'),
                "lsquo" => Some('\u{2018}'),
                "rdquo" => Some('\u{201d}'),
                "ldquo" => Some('\u{201c}'),
                n if n.starts_with("#x") || n.starts_with("#X") => u32::from_str_radix(&n[2..], 16)
                    .ok()
                    .and_then(char::from_u32),
                n if n.starts_with('#') => n[1..].parse().ok().and_then(char::from_u32),
                _ => None,
            };
            c.map(|c| (c, e))
        });
        match decoded {
            Some((c, e)) => {
                out.push(c);
                rest = &rest[e + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The text of an HTML document, structured as markdown-ish text.
pub fn to_text(html: &str) -> String {
    let mut out = String::new();
    let mut skip_until: Option<String> = None;
    let mut rest = html;
    while !rest.is_empty() {
        let Some(lt) = rest.find('<') else {
            if skip_until.is_none() {
                out.push_str(&decode_entities(rest));
            }
            break;
        };
        if skip_until.is_none() {
            out.push_str(&decode_entities(&rest[..lt]));
        }
        rest = &rest[lt..];
        if rest.starts_with("<!--") {
            rest = rest.find("-->").map_or("", |e| &rest[e + 3..]);
            continue;
        }
        let Some(gt) = rest.find('>') else { break };
        let tag = &rest[1..gt];
        rest = &rest[gt + 1..];
        let closing = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        if let Some(until) = &skip_until {
            if closing && &name == until {
                skip_until = None;
            }
            continue;
        }
        if !closing && SKIPPED.contains(&name.as_str()) && !tag.ends_with('/') {
            skip_until = Some(name);
            continue;
        }
        match name.as_str() {
            h if h.len() == 2 && h.starts_with('h') && h.as_bytes()[1].is_ascii_digit() => {
                let level = usize::from(h.as_bytes()[1] - b'0');
                if (1..=6).contains(&level) {
                    out.push_str("\n\n");
                    if !closing {
                        out.push_str(&"#".repeat(level));
                        out.push(' ');
                    }
                }
            }
            "li" if !closing => out.push_str("\n- "),
            b if BLOCKS.contains(&b) => out.push_str("\n\n"),
            "td" | "th" if closing => out.push_str(" | "),
            _ => {}
        }
    }
    tidy(&out)
}

/// Collapses spaces within lines and blank lines between paragraphs; headings stay on one line.
fn tidy(text: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    let mut blank = false;
    for raw in text.lines() {
        let line = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        if line.is_empty() || line == "-" {
            blank = !lines.is_empty();
            continue;
        }
        let heading = line.starts_with('#');
        if blank || heading || line.starts_with("- ") {
            if !lines.is_empty() && (blank || heading) {
                lines.push(String::new());
            }
            lines.push(line);
        } else if let Some(last) = lines.last_mut().filter(|l| !l.starts_with('#')) {
            last.push(' ');
            last.push_str(&line);
        } else {
            lines.push(line);
        }
        blank = heading;
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::chunk_markdown;

    const PAGE: &str = r#"<!doctype html><html><head><title>Refunds &amp; billing | Help</title>
<style>p { color: red }</style><script>var x = "<p>not text</p>";</script></head>
<body><nav><a href="/">Home</a> <a href="/pricing">Pricing</a></nav>
<main><h1>Refunds</h1><p>Yearly plans are refunded
in full within <b>14&nbsp;days</b>.</p><!-- hidden -->
<h2>How long it takes</h2><ul><li>Card: 5&ndash;10 days</li><li>PayPal: 1 day</li></ul></main>
<footer>© Demo Co</footer></body></html>"#;

    #[test]
    fn a_help_page_becomes_structured_text_without_chrome() {
        let text = to_text(PAGE);
        assert_eq!(
            text,
            "# Refunds\n\nYearly plans are refunded in full within 14 days.\n\n## How long it takes\n\n- Card: 5\u{2013}10 days\n- PayPal: 1 day"
        );
    }

    #[test]
    fn the_title_and_the_heading_paths_survive() {
        assert_eq!(title(PAGE).as_deref(), Some("Refunds & billing | Help"));
        let chunks = chunk_markdown(&to_text(PAGE));
        assert_eq!(
            chunks.last().unwrap().heading.as_deref(),
            Some("Refunds > How long it takes")
        );
    }

    #[test]
    fn entities_decode_and_unknown_ones_stay() {
        assert_eq!(
            decode_entities("a &lt;b&gt; &#233; &#x41; &bogus; & c"),
            "a <b> é A &bogus; & c"
        );
    }

    #[test]
    fn broken_markup_does_not_lose_text_or_panic() {
        assert_eq!(to_text("before <b unclosed"), "before");
        assert_eq!(to_text("<p>ok</p><script>never closed"), "ok");
        assert_eq!(to_text("plain & simple"), "plain & simple");
    }
}
