//! Crawling a help site: a real HTTP site on loopback, fetched by the Worker's outbound fetch.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use halo_tests::stub::{Answer, Stub};
use halo_tests::{app, call, percent_encode, Reply, Workspace};
use serde_json::json;

struct Site {
    base: String,
    /// Requests that reached the other origin, which a crawl must never follow.
    other_hits: Arc<AtomicUsize>,
}

fn site() -> &'static Site {
    static SITE: OnceLock<Site> = OnceLock::new();
    SITE.get_or_init(|| {
        let other_hits = Arc::new(AtomicUsize::new(0));
        let hits = other_hits.clone();
        let other = Stub::start(move |_| {
            hits.fetch_add(1, Ordering::SeqCst);
            Answer::new(200, "text/html", "<p>other origin</p>")
        });
        let o = other.base();
        // The site's own pages link to each other, and to the other origin.
        let base: Arc<OnceLock<String>> = Arc::new(OnceLock::new());
        let b = base.clone();
        let page = |title: &str, body: &str| format!("<html><head><title>{title}</title></head><body><nav>Menu</nav><h1>{title}</h1><p>{body}</p></body></html>");
        let stub = Stub::start(move |r| {
            let b = b.get().map(String::as_str).unwrap_or_default();
            let (status, content_type, body) = match r.path.as_str() {
                "/" => (200, "text/html; charset=utf-8", format!(
                    r#"<html><head><title>Help home</title></head><body><h1>Help home</h1><p>Welcome to the help center.</p>
                    <a href="/a.html">Alpha</a> <a href="b.html">Beta</a> <a href="/docs/c.html#part">Gamma</a>
                    <a href="{o}/x">elsewhere</a> <a href="/logo.png">logo</a> <a href="/missing.html">gone</a></body></html>"#)),
                "/a.html" => (200, "text/html", page("Alpha", "Alpha widgets ship on Mondays.")),
                "/b.html" => (200, "text/html", format!("{}<a href=\"/\">home</a><a href=\"/a.html\">alpha</a>", page("Beta", "Beta gadgets need batteries."))),
                "/docs/c.html" => (200, "text/html", page("Gamma", "Gamma sprockets are blue.")),
                "/logo.png" => (200, "image/png", "PNG".into()),
                "/sitemap.xml" => (200, "application/xml", format!(
                    "<urlset><url><loc>{b}/a.html</loc></url><url><loc>{b}/docs/c.html</loc></url><url><loc>{o}/x</loc></url></urlset>")),
                _ => (404, "text/html", "<p>not found</p>".into()),
            };
            Answer::new(status, content_type, body)
        });
        let _ = base.set(stub.base());
        Site {
            base: stub.base(),
            other_hits,
        }
    })
}

fn crawl(ws: &Workspace, body: serde_json::Value) -> Reply {
    call(
        app(),
        "POST",
        "/api/sdk/knowledge/crawl",
        Some(&ws.secret_key),
        Some(body),
    )
}

fn found(ws: &Workspace, q: &str) -> usize {
    let r = call(
        app(),
        "GET",
        &format!("/api/sdk/knowledge/search?q={}", percent_encode(q)),
        Some(&ws.secret_key),
        None,
    );
    r.body["results"].as_array().map_or(0, Vec::len)
}

fn statuses(r: &Reply) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = r.body["pages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["url"]
                    .as_str()
                    .unwrap()
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .to_owned(),
                p["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn a_crawl_follows_same_site_links_and_ingests_the_pages() {
    let site = site();
    let ws = app().workspace();
    let r = crawl(
        &ws,
        json!({ "url": format!("{}/", site.base), "max_pages": 10 }),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["ingested"], json!(4), "{}", r.body);
    let s = statuses(&r);
    for (page, status) in [
        ("", "ingested"),
        ("a.html", "ingested"),
        ("b.html", "ingested"),
        ("c.html", "ingested"),
        ("logo.png", "skipped"),
        ("missing.html", "failed"),
    ] {
        assert!(
            s.contains(&(page.to_owned(), status.to_owned())),
            "{page} {status} in {s:?}"
        );
    }
    assert_eq!(
        site.other_hits.load(Ordering::SeqCst),
        0,
        "another origin is never fetched"
    );
    assert_eq!(found(&ws, "sprockets blue"), 1);
    assert_eq!(found(&ws, "menu"), 0, "page chrome is not indexed");
    let again = crawl(
        &ws,
        json!({ "url": format!("{}/", site.base), "max_pages": 10 }),
    );
    assert!(
        statuses(&again).contains(&("a.html".to_owned(), "replaced".to_owned())),
        "re-crawling replaces: {}",
        again.body
    );
    let list = call(
        app(),
        "GET",
        "/api/sdk/knowledge/sources",
        Some(&ws.secret_key),
        None,
    );
    assert_eq!(
        list.body["sources"].as_array().unwrap().len(),
        4,
        "no duplicates after a re-crawl"
    );
}

#[test]
fn a_crawl_stops_at_max_pages() {
    let ws = app().workspace();
    let r = crawl(
        &ws,
        json!({ "url": format!("{}/", site().base), "max_pages": 2 }),
    );
    assert_eq!(r.body["ingested"], json!(2), "{}", r.body);
}

#[test]
fn a_sitemap_ingests_its_same_site_pages_only() {
    let site = site();
    let ws = app().workspace();
    let r = crawl(&ws, json!({ "url": format!("{}/sitemap.xml", site.base) }));
    assert_eq!(r.body["ingested"], json!(2), "{}", r.body);
    assert!(
        statuses(&r).contains(&("x".to_owned(), "skipped".to_owned())),
        "{}",
        r.body
    );
    assert_eq!(found(&ws, "alpha widgets"), 1);
    assert_eq!(found(&ws, "beta gadgets"), 0, "not in the sitemap");
    assert_eq!(site.other_hits.load(Ordering::SeqCst), 0);
}

#[test]
fn a_crawl_request_is_checked_and_needs_the_secret_key() {
    let ws = app().workspace();
    assert_eq!(
        crawl(&ws, json!({ "url": "file:///etc/passwd" })).error(),
        ("invalid_value".into(), Some("url".into()))
    );
    assert_eq!(
        crawl(&ws, json!({ "url": "http://h.test/", "max_pages": 0 }))
            .error()
            .1,
        Some("max_pages".into())
    );
    let r = call(
        app(),
        "POST",
        "/api/sdk/knowledge/crawl",
        Some(&ws.widget_key),
        Some(json!({ "url": "http://h.test/" })),
    );
    assert_eq!(r.status, 403);
}

#[test]
fn a_crawl_longer_than_one_step_continues_as_a_job_and_reports_progress() {
    let site = site();
    // A Worker whose steps take one page each, so the crawl must continue across invocations.
    static STEPPED: OnceLock<halo_tests::Server> = OnceLock::new();
    let server =
        STEPPED.get_or_init(|| halo_tests::Server::start(&[("CRAWL_PAGES_PER_STEP", "1")]));
    let ws = server.workspace();
    let first = call(
        server,
        "POST",
        "/api/sdk/knowledge/crawl",
        Some(&ws.secret_key),
        Some(json!({ "url": format!("{}/", site.base), "max_pages": 10 })),
    );
    assert_eq!(
        (first.status, &first.body["status"], &first.body["ingested"]),
        (202, &json!("running"), &json!(1)),
        "{}",
        first.body
    );
    let job = first.body["job_id"].as_str().unwrap().to_owned();

    // The cron trigger advances it...
    let cron = halo_tests::send(
        server,
        "GET",
        "/__scheduled?cron=*+*+*+*+*",
        None,
        &[],
        None,
    );
    assert_eq!(cron.status, 200);
    let after_cron = call(
        server,
        "GET",
        &format!("/api/sdk/knowledge/jobs/{job}"),
        Some(&ws.secret_key),
        None,
    );
    // ...and so does polling it (the GET runs one step too), until it is done.
    assert!(
        after_cron.body["ingested"].as_u64().unwrap() >= 3,
        "cron step + polling step: {}",
        after_cron.body
    );
    let mut last = after_cron;
    for _ in 0..10 {
        if last.body["status"] == json!("done") {
            break;
        }
        last = call(
            server,
            "GET",
            &format!("/api/sdk/knowledge/jobs/{job}"),
            Some(&ws.secret_key),
            None,
        );
    }
    assert_eq!(
        (last.status, &last.body["status"], &last.body["ingested"]),
        (200, &json!("done"), &json!(4)),
        "{}",
        last.body
    );
    let other = server.workspace();
    assert_eq!(
        call(
            server,
            "GET",
            &format!("/api/sdk/knowledge/jobs/{job}"),
            Some(&other.secret_key),
            None
        )
        .status,
        404,
        "jobs are per workspace"
    );
}
