//! The router: every endpoint's path and methods, CORS for the widget's endpoints, and every
//! error turned into its JSON answer.

use worker::{Context, Env, Headers, Method, Request, Response};

use crate::error::ApiError;
use crate::http::json_ok;
use crate::respond::plain_500;
use crate::{admin, agents, chat, crawler, inbox, knowledge, live, people, tickets};

/// Routes a request to its handler and turns every error into its JSON answer.
pub async fn route(mut req: Request, env: Env, ctx: Context) -> Response {
    let path = req.path();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let method = req.method();
    let result = match (method.clone(), segments.as_slice()) {
        (
            Method::Options,
            ["api", "sdk", "chat" | "sessions"]
            | ["api", "sdk", "widget", "identify"]
            | ["api", "sdk", "conversations", _, "updates" | "ratings"],
        ) => Ok(preflight()),
        (Method::Get, ["health"]) => json_ok(&serde_json::json!({ "ok": true })),
        (Method::Post, ["api", "sdk", "chat"]) => chat::post_chat(&mut req, &env, &ctx).await,
        (Method::Post, ["api", "sdk", "sessions"]) => chat::open_session(&mut req, &env).await,
        (Method::Get, ["api", "sdk", "agents"]) => agents::list(&req, &env).await,
        (Method::Post, ["api", "sdk", "agents"]) => agents::create(&mut req, &env).await,
        (Method::Get, ["api", "sdk", "agents", id]) => agents::get(&req, &env, id).await,
        (Method::Patch, ["api", "sdk", "agents", id]) => agents::update(&mut req, &env, id).await,
        (Method::Delete, ["api", "sdk", "agents", id]) => agents::archive(&req, &env, id).await,
        (Method::Post, ["api", "sdk", "knowledge", "sources"]) => {
            knowledge::create_source(&mut req, &env).await
        }
        (Method::Put, ["api", "sdk", "knowledge", "sources", id]) => {
            knowledge::replace_source(&mut req, &env, id).await
        }
        (Method::Delete, ["api", "sdk", "knowledge", "sources", id]) => {
            knowledge::delete_source(&req, &env, id).await
        }
        (Method::Get, ["api", "sdk", "knowledge", "search"]) => knowledge::search(&req, &env).await,
        (Method::Post, ["api", "sdk", "knowledge", "crawl"]) => {
            crawler::start_crawl(&mut req, &env).await
        }
        (Method::Get, ["api", "sdk", "knowledge", "jobs", id]) => {
            crawler::get_job(&req, &env, id).await
        }
        (Method::Get, ["api", "sdk", "knowledge", "sources"]) => {
            knowledge::list_sources(&req, &env).await
        }
        (Method::Get, ["api", "sdk", "conversations", session, "live"]) => {
            live::widget_socket(&req, &env, session).await
        }
        (Method::Get, ["api", "sdk", "conversations", session, "updates"]) => {
            live::widget_updates(&req, &env, session).await
        }
        (Method::Get, ["api", "inbox", "live"]) => live::feed_socket(&req, &env).await,
        (Method::Get, ["api", "inbox", "conversations", session, "live"]) => {
            live::inbox_socket(&req, &env, session).await
        }
        (Method::Get, ["api", "inbox", "conversations"]) => {
            inbox::list_conversations(&req, &env).await
        }
        (Method::Get, ["api", "inbox", "conversations", session]) => {
            inbox::get_conversation(&req, &env, session).await
        }
        (Method::Post, ["api", "inbox", "conversations", session, "whisper"]) => {
            inbox::whisper(&mut req, &env, session).await
        }
        (Method::Post, ["api", "inbox", "messages", id, "feedback"]) => {
            inbox::feedback(&mut req, &env, id).await
        }
        (Method::Get, ["api", "inbox", "tickets"]) => tickets::list_tickets(&req, &env).await,
        (Method::Get, ["api", "inbox", "tickets", id]) => tickets::get_ticket(&req, &env, id).await,
        (Method::Patch, ["api", "inbox", "tickets", id]) => {
            tickets::update_ticket(&mut req, &env, id).await
        }
        (Method::Post, ["api", "inbox", "tickets", id, "notes"]) => {
            inbox::add_note(&mut req, &env, id).await
        }
        (Method::Post, ["api", "inbox", "tickets", id, "reply"]) => {
            inbox::reply_to_ticket(&mut req, &env, id).await
        }
        (Method::Get, ["api", "inbox", "contacts", id]) => inbox::get_contact(&req, &env, id).await,
        (Method::Get, ["api", "inbox", "companies", id]) => {
            inbox::get_company(&req, &env, id).await
        }
        (Method::Post, ["api", "sdk", "conversations", session, "ratings"]) => {
            chat::rate(&mut req, &env, session).await
        }
        (Method::Post, ["api", "inbox", "conversations", session, "takeover"]) => {
            inbox::take_over(&req, &env, session).await
        }
        (Method::Post, ["api", "inbox", "conversations", session, "reply"]) => {
            inbox::reply(&mut req, &env, session).await
        }
        (Method::Post, ["api", "inbox", "conversations", session, "handback"]) => {
            inbox::hand_back(&req, &env, session).await
        }
        (Method::Post, ["api", "admin", "workspaces", id, "teammates"]) => {
            admin::create_teammate(&mut req, &env, id).await
        }
        (Method::Post, ["api", "sdk", "tickets", "create"]) => {
            tickets::create_ticket(&mut req, &env).await
        }
        (Method::Get, ["api", "sdk", "tickets"]) => tickets::list_tickets(&req, &env).await,
        (Method::Get, ["api", "sdk", "tickets", id]) => tickets::get_ticket(&req, &env, id).await,
        (Method::Patch, ["api", "sdk", "tickets", id]) => {
            tickets::update_ticket(&mut req, &env, id).await
        }

        (Method::Post, ["api", "sdk", "widget", "identify"]) => {
            people::identify_from_widget(&mut req, &env).await
        }
        (Method::Post, ["api", "sdk", "users", "identify"]) => {
            people::identify_user(&mut req, &env).await
        }
        (Method::Post, ["api", "sdk", "companies", "identify"]) => {
            people::identify_company(&mut req, &env).await
        }
        (Method::Post, ["api", "sdk", "context"]) => people::update_context(&mut req, &env).await,
        (Method::Get, ["api", "sdk", "users", id]) => people::get_user(&req, &env, id).await,
        (Method::Get, ["api", "sdk", "companies", id]) => people::get_company(&req, &env, id).await,
        (Method::Get, ["api", "sdk", "attributes"]) => people::list_attributes(&req, &env).await,
        (Method::Patch, ["api", "sdk", "attributes"]) => {
            people::describe_attribute(&mut req, &env).await
        }
        (Method::Get, ["api", "sdk", "conversations", session_id]) => {
            chat::get_conversation(&req, &env, session_id).await
        }
        (Method::Post, ["api", "admin", "workspaces"]) => {
            admin::create_workspace(&mut req, &env).await
        }
        (Method::Get, ["api", "admin", "workspaces", id]) => {
            admin::get_workspace(&req, &env, id).await
        }
        (Method::Patch, ["api", "admin", "workspaces", id]) => {
            admin::update_workspace(&mut req, &env, id).await
        }
        (
            _,
            ["api", "sdk", "chat" | "sessions"]
            | ["api", "sdk", "agents"]
            | ["api", "sdk", "agents", _]
            | ["health"]
            | ["api", "admin", "workspaces"]
            | ["api", "admin", "workspaces", _]
            | ["api", "sdk", "knowledge", "sources"]
            | ["api", "sdk", "knowledge", "sources", _]
            | ["api", "sdk", "knowledge", "search"]
            | ["api", "sdk", "knowledge", "crawl"]
            | ["api", "sdk", "knowledge", "jobs", _]
            | ["api", "sdk", "conversations", _]
            | ["api", "sdk", "conversations", _, "live" | "updates"]
            | ["api", "inbox", "live"]
            | ["api", "inbox", "conversations"]
            | ["api", "inbox", "conversations", _]
            | ["api", "inbox", "messages", _, "feedback"]
            | ["api", "inbox", "tickets"]
            | ["api", "inbox", "tickets", _]
            | ["api", "inbox", "tickets", _, "notes" | "reply"]
            | ["api", "inbox", "contacts" | "companies", _]
            | ["api", "sdk", "conversations", _, "ratings"]
            | ["api", "sdk", "widget", "identify"]
            | ["api", "sdk", "users", _]
            | ["api", "sdk", "companies", _]
            | ["api", "sdk", "context"]
            | ["api", "sdk", "tickets"]
            | ["api", "inbox", "conversations", _, _]
            | ["api", "admin", "workspaces", _, "teammates"]
            | ["api", "sdk", "tickets", _]
            | ["api", "sdk", "attributes"],
        ) => Err(ApiError::MethodNotAllowed),
        _ => Err(ApiError::NotFound("No such endpoint.")),
    };
    let mut response = result.unwrap_or_else(ApiError::into_response);
    // Browsers may read the chat endpoint's answers, errors included; CORS for a known
    // workspace was already decided by the handler, which then set the header itself.
    let widget_read = path.starts_with("/api/sdk/conversations/")
        && (path.ends_with("/updates") || path.ends_with("/ratings"));
    if (path == "/api/sdk/chat" || path == "/api/sdk/sessions" || widget_read)
        && !response
            .headers()
            .has("access-control-allow-origin")
            .unwrap_or(false)
    {
        let _ = response
            .headers_mut()
            .set("access-control-allow-origin", "*");
    }
    response
}

/// Answers a CORS preflight for the publishable-key endpoints. Which origins may really call
/// is decided per workspace on the request itself, once the key says which workspace it is.
fn preflight() -> Response {
    let headers = Headers::new();
    for (k, v) in [
        ("access-control-allow-origin", "*"),
        ("access-control-allow-methods", "GET, POST, OPTIONS"),
        (
            "access-control-allow-headers",
            "authorization, content-type",
        ),
        ("access-control-max-age", "86400"),
    ] {
        let _ = headers.set(k, v);
    }
    Response::empty()
        .map(|r| r.with_status(204).with_headers(headers))
        .unwrap_or_else(|_| plain_500())
}
