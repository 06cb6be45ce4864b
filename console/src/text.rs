//! Customer, AI and teammate text in the console: the widget's safe markdown subset
//! (`halo_shared::markdown`), built as elements and text nodes, never parsed as HTML.

use halo_shared::markdown::{self, Block, Span};
use leptos::prelude::*;

fn spans(spans: Vec<Span>) -> impl IntoView {
    spans
        .into_iter()
        .map(|s| match s {
            Span::Text(t) => t.into_any(),
            Span::Bold(t) => view! { <strong>{t}</strong> }.into_any(),
            Span::Code(t) => view! { <code>{t}</code> }.into_any(),
            // markdown::spans only makes links of http(s) URLs.
            Span::Link { text, url } => {
                view! { <a href=url target="_blank" rel="noopener noreferrer">{text}</a> }
                    .into_any()
            }
        })
        .collect_view()
}

/// `text` as safe markdown.
pub fn rich(text: &str) -> impl IntoView {
    markdown::parse(text)
        .into_iter()
        .map(|b| match b {
            Block::Paragraph(s) => view! { <p>{spans(s)}</p> }.into_any(),
            Block::Code(code) => view! { <pre><code>{code}</code></pre> }.into_any(),
            Block::List { ordered, items } => {
                let items = items
                    .into_iter()
                    .map(|i| view! { <li>{spans(i)}</li> })
                    .collect_view();
                if ordered {
                    view! { <ol>{items}</ol> }.into_any()
                } else {
                    view! { <ul>{items}</ul> }.into_any()
                }
            }
        })
        .collect_view()
}

/// A time (ms since the epoch) as the teammate's local date and time.
pub fn when(ms: i64) -> String {
    let d = js_sys::Date::new(&(ms as f64).into());
    let today = js_sys::Date::new_0();
    let time: String = d.to_locale_time_string("en-GB").into();
    let time = time.get(..5).unwrap_or(&time).to_owned();
    if d.to_date_string() == today.to_date_string() {
        time
    } else {
        let day: String = d.to_locale_date_string("en-GB", &Default::default()).into();
        format!("{day} {time}")
    }
}

/// A textarea's lines, trimmed, the empty ones left out (a list typed one per line).
pub fn lines_of(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}
