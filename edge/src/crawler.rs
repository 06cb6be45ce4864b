//! Crawling a help site as a job: `POST /api/sdk/knowledge/crawl` starts it and runs a first
//! step; the rest runs in further bounded steps (pages and time) so that no single Worker
//! invocation exceeds its limits. Steps are run by the cron trigger and by
//! `GET /api/sdk/knowledge/jobs/:id`, which also reports progress. The job's state lives in D1
//! between steps.

use std::collections::VecDeque;
use std::time::Duration;

use halo_shared::admin::{NewSource, SourceKind};
use halo_shared::crawl::{links, normalise, same_site, sitemap_urls, CrawlRequest, MAX_PAGE_BYTES};
use halo_shared::html::title as html_title;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use worker::{query, D1Database, Env, Method, Request, Response, Url};

use crate::auth;
use crate::error::{ApiError, ApiResult};
use crate::http::{json_response, read_json};
use crate::knowledge::{embed_source, embedded_json, ingest, merge};
use crate::outbound;
use crate::platform::setting;
use crate::platform::Bindings;
use crate::platform::{new_id, now_ms};

/// Each page gets this long, body included.
const PAGE_TIMEOUT: Duration = Duration::from_secs(8);
/// A step starts no new page after this long.
const STEP_BUDGET_MS: i64 = 15_000;
/// Pages per step unless `CRAWL_PAGES_PER_STEP` says otherwise.
const DEFAULT_PAGES_PER_STEP: u32 = 10;
/// Jobs the cron trigger advances per run.
const JOBS_PER_CRON: u32 = 3;

/// Everything a crawl needs between steps.
#[derive(Debug, Serialize, Deserialize)]
struct CrawlJob {
    start: String,
    sitemap: bool,
    max_pages: u32,
    queue: VecDeque<String>,
    seen: Vec<String>,
    pages: Vec<Value>,
    ingested: u32,
}

impl CrawlJob {
    fn done(&self) -> bool {
        self.ingested >= self.max_pages || self.queue.is_empty()
    }

    fn progress(&self, id: &str) -> halo_shared::crawl::CrawlProgress {
        halo_shared::crawl::CrawlProgress {
            job_id: id.to_owned(),
            status: if self.done() { "done" } else { "running" }.into(),
            ingested: self.ingested,
            max_pages: self.max_pages,
            queued: if self.done() {
                0
            } else {
                self.queue.len() as u32
            },
            pages: self.pages.clone(),
        }
    }
}

/// GETs a page within the page timeout and size cap: its content type and body.
async fn get(url: &str) -> Result<(String, Option<Vec<u8>>), String> {
    let request = Request::new(url, Method::Get).map_err(|e| format!("request: {e}"))?;
    let fetched = outbound::fetch(request, PAGE_TIMEOUT, MAX_PAGE_BYTES).await?;
    if !(200..300).contains(&fetched.status) {
        return Err(format!("the site answered {}", fetched.status));
    }
    Ok((fetched.content_type, fetched.body))
}

/// Runs one bounded step of a crawl.
async fn step(env: &Env, db: &D1Database, org: &str, job: &mut CrawlJob) -> ApiResult<()> {
    let started = now_ms();
    let per_step = setting(env, "CRAWL_PAGES_PER_STEP")
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_PAGES_PER_STEP);
    let start =
        Url::parse(&job.start).map_err(|e| ApiError::Internal(format!("stored crawl URL: {e}")))?;
    let mut this_step = 0;
    while !job.done() && this_step < per_step && now_ms() - started < STEP_BUDGET_MS {
        let Some(url) = job.queue.pop_front() else {
            break;
        };
        if job.seen.contains(&url) {
            continue;
        }
        job.seen.push(url.clone());
        let (content_type, body) = match get(&url).await {
            Ok((ct, Some(body))) => (ct, body),
            Ok((_, None)) => {
                job.pages.push(
                    json!({ "url": url, "status": "skipped", "reason": "larger than 2 MiB" }),
                );
                continue;
            }
            Err(e) => {
                job.pages
                    .push(json!({ "url": url, "status": "failed", "reason": e }));
                continue;
            }
        };
        if !content_type.contains("html") {
            job.pages.push(json!({ "url": url, "status": "skipped", "reason": format!("not HTML ({content_type})") }));
            continue;
        }
        let html = String::from_utf8_lossy(&body).into_owned();
        let page_url = Url::parse(&url).unwrap_or_else(|_| start.clone());
        if !job.sitemap {
            for link in links(&html, &page_url) {
                let link = link.to_string();
                if !job.seen.contains(&link) && !job.queue.contains(&link) {
                    job.queue.push_back(link);
                }
            }
        }
        let title = html_title(&html).unwrap_or_else(|| page_url.path().to_owned());
        let source = NewSource {
            title,
            url: Some(url.clone()),
            kind: SourceKind::Html,
            content: html,
        };
        let (id, created, chunks) = ingest(db, org, &source).await?;
        job.ingested += 1;
        this_step += 1;
        let mut page = json!({
            "url": url, "status": if created { "ingested" } else { "replaced" }, "id": id,
            "title": source.title, "chunks": chunks,
        });
        merge(
            &mut page,
            embedded_json(embed_source(env, db, org, &id).await),
        );
        job.pages.push(page);
    }
    Ok(())
}

async fn save(db: &D1Database, org: &str, id: &str, job: &CrawlJob, new: bool) -> ApiResult<()> {
    let state = serde_json::to_string(job).map_err(|e| ApiError::Internal(e.to_string()))?;
    let status = if job.done() { "done" } else { "running" };
    let now = now_ms();
    let statement = if new {
        query!(
            db,
            "INSERT INTO knowledge_jobs (id, org_id, kind, status, state, created_at, updated_at) VALUES (?1, ?2, 'crawl', ?3, ?4, ?5, ?5)",
            id,
            org,
            status,
            state,
            now
        )?
    } else {
        query!(
            db,
            "UPDATE knowledge_jobs SET status = ?3, state = ?4, updated_at = ?5 WHERE org_id = ?1 AND id = ?2",
            org,
            id,
            status,
            state,
            now
        )?
    };
    statement.run().await?;
    Ok(())
}

async fn load(db: &D1Database, org: &str, id: &str) -> ApiResult<Option<CrawlJob>> {
    #[derive(Deserialize)]
    struct Row {
        state: String,
    }
    let row: Option<Row> = query!(
        db,
        "SELECT state FROM knowledge_jobs WHERE org_id = ?1 AND id = ?2",
        org,
        id
    )?
    .first(None)
    .await?;
    row.map(|r| {
        serde_json::from_str(&r.state).map_err(|e| ApiError::Internal(format!("stored job: {e}")))
    })
    .transpose()
}

fn answer(id: &str, job: &CrawlJob) -> Response {
    json_response(&job.progress(id), if job.done() { 200 } else { 202 })
}

/// `POST /api/sdk/knowledge/crawl` `{ url, sitemap?, max_pages? }`: starts a crawl of a help
/// site (same site only, at most `max_pages`, each page bounded in size and time) that ingests
/// each page as an HTML document, replacing earlier versions by URL. Answers 200 when the
/// first step finished it, else 202 with the job to follow.
pub async fn start_crawl(req: &mut Request, b: &Bindings) -> ApiResult<Response> {
    let Bindings { env, db } = b;
    let org = auth::settings_workspace(req, db, auth::Access::Write).await?;
    let crawl = CrawlRequest::parse(&read_json(req).await?)?;
    let mut job = CrawlJob {
        start: crawl.url.to_string(),
        sitemap: crawl.sitemap,
        max_pages: crawl.max_pages,
        queue: VecDeque::new(),
        seen: Vec::new(),
        pages: Vec::new(),
        ingested: 0,
    };
    if crawl.sitemap {
        match get(crawl.url.as_str()).await {
            Ok((_, Some(body))) => {
                for loc in sitemap_urls(&String::from_utf8_lossy(&body)) {
                    match Url::parse(&loc) {
                        Ok(u) if same_site(&crawl.url, &u) => job.queue.push_back(normalise(u).to_string()),
                        _ => job.pages.push(json!({ "url": loc, "status": "skipped", "reason": "not on the same site" })),
                    }
                }
            }
            Ok((_, None)) => job.pages.push(json!({ "url": crawl.url.as_str(), "status": "failed", "reason": "sitemap too large" })),
            Err(e) => job.pages.push(json!({ "url": crawl.url.as_str(), "status": "failed", "reason": e })),
        }
    } else {
        job.queue
            .push_back(normalise(crawl.url.clone()).to_string());
    }
    let id = new_id();
    step(env, db, &org, &mut job).await?;
    save(db, &org, &id, &job, true).await?;
    Ok(answer(&id, &job))
}

/// `GET /api/sdk/knowledge/jobs/:id`: a crawl's progress; a running crawl is advanced by one
/// step first (so polling drives it where no cron runs, as under `wrangler dev`).
pub async fn get_job(req: &Request, b: &Bindings, id: &str) -> ApiResult<Response> {
    let Bindings { env, db } = b;
    let org = auth::settings_workspace(req, db, auth::Access::Read).await?;
    let mut job = load(db, &org, id)
        .await?
        .ok_or(ApiError::NotFound("No job with this id in this workspace."))?;
    if !job.done() {
        step(env, db, &org, &mut job).await?;
        save(db, &org, id, &job, false).await?;
    }
    Ok(answer(id, &job))
}

/// The cron trigger: advances the least recently advanced running jobs by one step each.
pub async fn advance_jobs(b: &Bindings) -> ApiResult<()> {
    let Bindings { env, db } = b;
    #[derive(Deserialize)]
    struct Row {
        id: String,
        org_id: String,
    }
    let rows: Vec<Row> = query!(
        db,
        "SELECT id, org_id FROM knowledge_jobs WHERE status = 'running' ORDER BY updated_at LIMIT ?1",
        JOBS_PER_CRON
    )?
    .all()
    .await?
    .results()?;
    for row in rows {
        if let Some(mut job) = load(db, &row.org_id, &row.id).await? {
            step(env, db, &row.org_id, &mut job).await?;
            save(db, &row.org_id, &row.id, &job, false).await?;
        }
    }
    Ok(())
}
