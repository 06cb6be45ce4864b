//! Crawling a help site: the request, and the pure parts of following it (links of a page,
//! URLs of a sitemap, what counts as the same site). The fetching is the edge's.

use serde_json::Value;
use url::Url;

use crate::chat::{body_object, field_error as err, FieldError, InvalidField};

/// Most pages one crawl ingests (a Worker request may make only so many subrequests).
pub const MAX_PAGES: u32 = 50;
/// Pages ingested when the request does not say.
pub const DEFAULT_PAGES: u32 = 20;
/// Largest page read, in bytes; a larger one is skipped.
pub const MAX_PAGE_BYTES: usize = 2 * 1024 * 1024;

/// A crawl's progress (`POST /api/sdk/knowledge/crawl`, `GET /api/sdk/knowledge/jobs/:id`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CrawlProgress {
    pub job_id: String,
    /// `running` or `done`.
    pub status: String,
    pub ingested: u32,
    pub max_pages: u32,
    pub queued: u32,
    /// Each page tried: `{ url, status: ingested | failed | skipped, reason? }`.
    pub pages: Vec<serde_json::Value>,
}

impl CrawlProgress {
    pub fn done(&self) -> bool {
        self.status == "done"
    }

    /// How many pages failed.
    pub fn failed(&self) -> usize {
        self.pages
            .iter()
            .filter(|p| p["status"] == "failed")
            .count()
    }
}

/// `POST /api/sdk/knowledge/crawl`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrawlRequest {
    pub url: Url,
    /// The URL is a sitemap: ingest the pages it lists instead of following links.
    pub sitemap: bool,
    pub max_pages: u32,
}

impl CrawlRequest {
    pub fn parse(body: &Value) -> Result<Self, FieldError> {
        let o = body_object(body)?;
        let raw = o
            .get("url")
            .and_then(Value::as_str)
            .ok_or_else(|| err("url", InvalidField::Missing))?;
        let url = Url::parse(raw)
            .ok()
            .filter(|u| {
                matches!(u.scheme(), "http" | "https") && u.host().is_some() && raw.len() <= 2048
            })
            .ok_or_else(|| err("url", InvalidField::Invalid("must be an http(s) URL")))?;
        let sitemap = match o.get("sitemap") {
            None | Some(Value::Null) => url.path().ends_with(".xml"),
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                return Err(err(
                    "sitemap",
                    InvalidField::WrongType {
                        expected: "a boolean",
                    },
                ))
            }
        };
        let max_pages = match o.get("max_pages") {
            None | Some(Value::Null) => DEFAULT_PAGES,
            Some(v) => v
                .as_u64()
                .filter(|n| (1..=u64::from(MAX_PAGES)).contains(n))
                .map(|n| n as u32)
                .ok_or_else(|| {
                    err(
                        "max_pages",
                        InvalidField::Invalid("must be a whole number from 1 to 50"),
                    )
                })?,
        };
        Ok(Self {
            url,
            sitemap,
            max_pages,
        })
    }
}

/// Same scheme, host and port: the only pages a crawl follows.
pub fn same_site(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// A URL without its fragment (`#section` is the same page).
pub fn normalise(mut u: Url) -> Url {
    u.set_fragment(None);
    u
}

fn attribute_values<'a>(html: &'a str, attr: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    let lower = html.to_ascii_lowercase();
    let needle = format!("{attr}=");
    let mut positions = Vec::new();
    let mut from = 0;
    while let Some(i) = lower[from..].find(&needle) {
        positions.push(from + i + needle.len());
        from += i + needle.len();
    }
    positions.into_iter().filter_map(move |start| {
        let rest = &html[start..];
        let quote = rest.chars().next()?;
        if quote == '"' || quote == '\'' {
            rest[1..].find(quote).map(|end| &rest[1..1 + end])
        } else {
            Some(
                rest.split(|c: char| c.is_whitespace() || c == '>')
                    .next()
                    .unwrap_or(""),
            )
        }
    })
}

/// The same-site pages a page links to, resolved against its URL, in order, without repeats.
pub fn links(html: &str, page: &Url) -> Vec<Url> {
    let mut out: Vec<Url> = Vec::new();
    for href in attribute_values(html, "href") {
        let href = crate::html::decode_entities(href.trim());
        let Ok(u) = page.join(&href) else { continue };
        let u = normalise(u);
        if matches!(u.scheme(), "http" | "https") && same_site(page, &u) && !out.contains(&u) {
            out.push(u);
        }
    }
    out
}

/// The `<loc>` URLs of a sitemap.
pub fn sitemap_urls(xml: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find("<loc>") {
        rest = &rest[i + 5..];
        let Some(end) = rest.find("</loc>") else {
            break;
        };
        out.push(crate::html::decode_entities(rest[..end].trim()));
        rest = &rest[end..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn a_page_yields_its_same_site_links_once() {
        let html = r#"<a href="/a">A</a> <a href='b.html#top'>B</a> <a href=/a>again</a>
            <a href="https://other.example/x">other site</a> <a href="http://help.example:8080/c">other port</a>
            <a href="mailto:x@y.z">mail</a> <a href="/q?x=1&amp;y=2">query</a>"#;
        let got: Vec<String> = links(html, &url("http://help.example/docs/index.html"))
            .iter()
            .map(Url::to_string)
            .collect();
        assert_eq!(
            got,
            [
                "http://help.example/a",
                "http://help.example/docs/b.html",
                "http://help.example/q?x=1&y=2"
            ]
        );
    }

    #[test]
    fn a_sitemap_lists_its_urls() {
        let xml = "<urlset><url><loc> https://h.example/a </loc></url><url><loc>https://h.example/b?x=1&amp;y=2</loc></url></urlset>";
        assert_eq!(
            sitemap_urls(xml),
            ["https://h.example/a", "https://h.example/b?x=1&y=2"]
        );
    }

    #[test]
    fn a_crawl_request_is_bounded() {
        let r = CrawlRequest::parse(&json!({ "url": "https://h.example/sitemap.xml" })).unwrap();
        assert_eq!((r.sitemap, r.max_pages), (true, DEFAULT_PAGES));
        assert_eq!(
            CrawlRequest::parse(&json!({ "url": "ftp://h.example/" }))
                .unwrap_err()
                .field,
            "url"
        );
        assert_eq!(
            CrawlRequest::parse(&json!({ "url": "https://h.example/", "max_pages": 51 }))
                .unwrap_err()
                .field,
            "max_pages"
        );
        assert_eq!(CrawlRequest::parse(&json!({})).unwrap_err().field, "url");
    }
}
