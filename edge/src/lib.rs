//! Halo's edge: a Cloudflare Worker that answers the widget's chat requests.
//!
//! It owns the HTTP surface (routing, CORS, auth by key), storage in D1 and the answer
//! engines. Domain rules (what a valid request is, how an offline answer is formed) live in
//! `halo-shared`; handlers here stay thin: authenticate, parse, call the store or an engine,
//! answer. It must never answer a request with another workspace's data: every store query
//! takes the workspace id that the caller's key proved.

mod admin;
mod agents;
mod auth;
mod chat;
mod console;
mod crawler;
mod email;
mod engine;
mod error;
mod faults;
mod gate;
mod http;
mod inbox;
mod knowledge;
mod live;
mod mail;
mod outbound;
mod password;
mod people;
mod platform;
mod rerank;
mod respond;
mod routes;
mod semantic;
mod store;
mod tickets;
mod turn;
mod views;
mod workspace;

use worker::{event, Context, Env, Request, Response, Result, ScheduleContext, ScheduledEvent};

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
    Ok(routes::route(req, env, ctx).await)
}

/// Email Routing's delivery (under `wrangler dev`: `POST /cdn-cgi/handler/email?from=…&to=…`).
#[event(email)]
async fn email(message: worker::ForwardableEmailMessage, env: Env, ctx: Context) -> Result<()> {
    email::on_email(message, env, ctx).await
}

/// The cron trigger (wrangler.toml `[triggers]`): continues long-running knowledge jobs, wakes
/// snoozed tickets whose time has come and marks idle conversations Abandoned.
#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    let b = match platform::Bindings::resolve(env) {
        Ok(b) => b,
        Err(e) => return worker::console_error!("the scheduled jobs have no database: {e}"),
    };
    if let Err(e) = crawler::advance_jobs(&b).await {
        worker::console_error!("advancing knowledge jobs failed: {e:?}");
    }
    match knowledge::backfill_embeddings(&b.env, &b.db).await {
        Ok(0) => {}
        Ok(n) => worker::console_log!("embedded {n} chunks that were missing their vectors"),
        Err(e) => worker::console_warn!("the embedding backfill failed (it runs again): {e}"),
    }
    if let Err(e) = tickets::wake_snoozed(&b.db).await {
        worker::console_error!("waking snoozed tickets failed: {e}");
    }
    let idle = halo_shared::routing::DEFAULT_ABANDON_SECONDS;
    if let Err(e) = store::inbox::abandon_idle(&b.db, idle).await {
        worker::console_error!("marking idle conversations abandoned failed: {e}");
    }
}
