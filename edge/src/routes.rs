//! The router: every endpoint's path and methods, CORS for the widget's endpoints, and every
//! error turned into its JSON answer.

use worker::{Context, Env, Headers, Method, Request, Response};

use crate::error::{ApiError, ApiResult};
use crate::http::json_ok;
use crate::platform::Bindings;
use crate::respond::plain_500;
use crate::{
    admin, agents, chat, console, crawler, inbox, knowledge, live, people, tickets, views,
    workspace,
};

/// The handler for the request's method among those a path has, else 405: the one table
/// that says both what exists and what is allowed.
macro_rules! by_method {
    ($method:expr, { $($m:ident => $handler:expr),+ $(,)? }) => {
        match $method {
            $(Method::$m => $handler,)+
            _ => Err(ApiError::MethodNotAllowed),
        }
    };
}

/// Routes a request to its handler and turns every error into its JSON answer.
pub async fn route(mut req: Request, env: Env, ctx: Context) -> Response {
    let path = req.path();
    crate::faults::arm(&env, req.url().ok().as_ref().and_then(|u| u.host_str()));
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let method = req.method();
    let result = match segments.as_slice() {
        ["health"] => by_method!(method, { Get => json_ok(&serde_json::json!({ "ok": true })) }),
        ["api", "email", "inbound", "mailgun"] => match Bindings::resolve(env) {
            Err(e) => Err(ApiError::from(e)),
            Ok(b) => {
                by_method!(method, { Post => crate::email::mailgun_inbound(&mut req, &b, &ctx).await })
            }
        },
        ["api", area @ ("sdk" | "inbox" | "console" | "admin"), rest @ ..] => {
            match Bindings::resolve(env) {
                Err(e) => Err(ApiError::from(e)),
                Ok(b) if *area == "sdk" => sdk(method, rest, &mut req, &b, &ctx).await,
                Ok(b) if *area == "inbox" => inbox_api(method, rest, &mut req, &b).await,
                Ok(b) if *area == "console" => console_api(method, rest, &mut req, &b).await,
                Ok(b) => admin_api(method, rest, &mut req, &b).await,
            }
        }
        // The console is one page: every path under /app/ that is not a file is its shell.
        ["app", ..] => by_method!(method, { Get => console_shell(&req, &env).await }),
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

/// `/api/sdk/...`: the widget's endpoints (with CORS preflights) and the customer backend's.
async fn sdk(
    method: Method,
    path: &[&str],
    req: &mut Request,
    b: &Bindings,
    ctx: &Context,
) -> ApiResult<Response> {
    match path {
        ["chat"] => by_method!(method, {
            Options => Ok(preflight()),
            Post => chat::post_chat(req, b, ctx).await,
        }),
        ["sessions"] => by_method!(method, {
            Options => Ok(preflight()),
            Post => chat::open_session(req, b).await,
        }),
        ["widget", "config"] => by_method!(method, {
            Get => workspace::widget_config(req, b).await,
        }),
        ["widget", "identify"] => by_method!(method, {
            Options => Ok(preflight()),
            Post => people::identify_from_widget(req, b).await,
        }),
        ["conversations", session, "updates"] => by_method!(method, {
            Options => Ok(preflight()),
            Get => live::widget_updates(req, b, session).await,
        }),
        ["conversations", session, "ratings"] => by_method!(method, {
            Options => Ok(preflight()),
            Post => chat::rate_answer(req, b, session).await,
        }),
        ["conversations", session, "live"] => by_method!(method, {
            Get => live::widget_socket(req, b, session).await,
        }),
        ["conversations", session] => by_method!(method, {
            Get => chat::get_conversation(req, b, session).await,
        }),
        ["agents"] => by_method!(method, {
            Get => agents::list_agents(req, b).await,
            Post => agents::create_agent(req, b).await,
        }),
        ["agents", id, "playground"] => by_method!(method, {
            Post => agents::try_agent(req, b, ctx, id).await,
        }),
        ["agents", id] => by_method!(method, {
            Get => agents::get_agent(req, b, id).await,
            Patch => agents::update_agent(req, b, id).await,
            Delete => agents::archive_agent(req, b, id).await,
        }),
        ["knowledge", rest @ ..] => knowledge_api(method, rest, req, b).await,
        ["tickets"] => by_method!(method, { Get => tickets::list_tickets(req, b).await }),
        // "create" and "identify" are also ids to read, as they always were.
        ["tickets", "create"] => by_method!(method, {
            Post => tickets::create_ticket(req, b).await,
            Get => tickets::get_ticket(req, b, "create").await,
            Patch => tickets::update_ticket(req, b, "create").await,
        }),
        ["tickets", id] => by_method!(method, {
            Get => tickets::get_ticket(req, b, id).await,
            Patch => tickets::update_ticket(req, b, id).await,
        }),
        ["users", "identify"] => by_method!(method, {
            Post => people::identify_user(req, b).await,
            Get => people::get_user(req, b, "identify").await,
        }),
        ["users", id] => by_method!(method, { Get => people::get_user(req, b, id).await }),
        ["companies", "identify"] => by_method!(method, {
            Post => people::identify_company(req, b).await,
            Get => people::get_company(req, b, "identify").await,
        }),
        ["companies", id] => by_method!(method, { Get => people::get_company(req, b, id).await }),
        ["context"] => by_method!(method, { Post => people::update_context(req, b).await }),
        ["attributes"] => by_method!(method, {
            Get => people::list_attributes(req, b).await,
            Patch => people::describe_attribute(req, b).await,
        }),
        _ => Err(ApiError::NotFound("No such endpoint.")),
    }
}

/// `/api/sdk/knowledge/...` (secret key).
async fn knowledge_api(
    method: Method,
    path: &[&str],
    req: &mut Request,
    b: &Bindings,
) -> ApiResult<Response> {
    match path {
        ["sources"] => by_method!(method, {
            Get => knowledge::list_sources(req, b).await,
            Post => knowledge::create_source(req, b).await,
        }),
        ["sources", id] => by_method!(method, {
            Put => knowledge::replace_source(req, b, id).await,
            Delete => knowledge::delete_source(req, b, id).await,
        }),
        ["search"] => by_method!(method, { Get => knowledge::search_knowledge(req, b).await }),
        ["crawl"] => by_method!(method, { Post => crawler::start_crawl(req, b).await }),
        ["jobs", id] => by_method!(method, { Get => crawler::get_job(req, b, id).await }),
        _ => Err(ApiError::NotFound("No such endpoint.")),
    }
}

/// `/api/inbox/...`: the teammates' API (inbox token).
async fn inbox_api(
    method: Method,
    path: &[&str],
    req: &mut Request,
    b: &Bindings,
) -> ApiResult<Response> {
    match path {
        ["live"] => by_method!(method, { Get => live::feed_socket(req, b).await }),
        ["conversations"] => {
            by_method!(method, { Get => inbox::list_conversations(req, b).await })
        }
        ["conversations", session] => by_method!(method, {
            Get => inbox::get_conversation(req, b, session).await,
        }),
        ["conversations", session, action] => match (method, *action) {
            (Method::Get, "live") => live::inbox_socket(req, b, session).await,
            (Method::Post, "whisper") => inbox::whisper_conversation(req, b, session).await,
            (Method::Post, "takeover") => inbox::take_over_conversation(req, b, session).await,
            (Method::Post, "reply") => inbox::reply_to_conversation(req, b, session).await,
            (Method::Post, "handback") => inbox::hand_back_conversation(req, b, session).await,
            _ => Err(ApiError::MethodNotAllowed),
        },
        ["messages", id, "feedback"] => by_method!(method, {
            Post => inbox::give_feedback(req, b, id).await,
        }),
        ["tickets"] => by_method!(method, { Get => tickets::list_tickets(req, b).await }),
        ["tickets", id] => by_method!(method, {
            Get => tickets::get_ticket(req, b, id).await,
            Patch => tickets::update_ticket(req, b, id).await,
        }),
        ["tickets", id, "live"] => {
            by_method!(method, { Get => live::ticket_socket(req, b, id).await })
        }
        ["tickets", id, "notes"] => {
            by_method!(method, { Post => inbox::add_note(req, b, id).await })
        }
        ["tickets", id, "emails"] => by_method!(method, {
            Get => inbox::list_ticket_emails(req, b, id).await,
        }),
        ["tickets", id, "reply"] => by_method!(method, {
            Post => inbox::reply_to_ticket(req, b, id).await,
        }),
        ["contacts"] => by_method!(method, { Get => views::list_contacts(req, b).await }),
        ["contacts", id] => by_method!(method, { Get => inbox::get_contact(req, b, id).await }),
        ["companies"] => by_method!(method, { Get => views::list_companies(req, b).await }),
        ["companies", id] => by_method!(method, { Get => inbox::get_company(req, b, id).await }),
        ["counts"] => by_method!(method, { Get => views::get_counts(req, b).await }),
        ["seen"] => by_method!(method, { Post => views::mark_seen(req, b).await }),
        ["search"] => by_method!(method, { Get => views::search_inbox(req, b).await }),
        _ => Err(ApiError::NotFound("No such endpoint.")),
    }
}

/// The console's page (`dist/app/index.html`) for a path of its own, such as an invite link.
async fn console_shell(req: &Request, env: &Env) -> ApiResult<Response> {
    let mut url = req.url()?;
    url.set_path("/app/");
    url.set_query(None);
    Ok(env.assets("ASSETS")?.fetch(url.to_string(), None).await?)
}

/// `/api/console/...`: sign-in, sessions and the team (session cookie or inbox token).
async fn console_api(
    method: Method,
    path: &[&str],
    req: &mut Request,
    b: &Bindings,
) -> ApiResult<Response> {
    match path {
        ["signin"] => by_method!(method, { Post => console::sign_in(req, b).await }),
        ["signout"] => by_method!(method, { Post => console::sign_out(req, b).await }),
        ["me"] => by_method!(method, { Get => console::get_me(req, b).await }),
        ["password"] => by_method!(method, { Post => console::set_password(req, b).await }),
        ["invites", token] => by_method!(method, {
            Get => console::get_invite(req, b, token).await,
            Post => console::accept_invite(req, b, token).await,
        }),
        ["links", token] => by_method!(method, {
            Post => console::use_signin_link(req, b, token).await,
        }),
        ["teammates"] => by_method!(method, {
            Get => console::list_teammates(req, b).await,
            Post => console::invite_teammate(req, b).await,
        }),
        ["workspace"] => by_method!(method, {
            Get => workspace::get_settings(req, b).await,
            Patch => workspace::update_settings(req, b).await,
        }),
        ["keys"] => by_method!(method, {
            Get => workspace::list_keys(req, b).await,
            Post => workspace::rotate_key(req, b).await,
        }),
        ["identity-secret"] => by_method!(method, {
            Post => workspace::reveal_identity_secret(req, b).await,
        }),
        ["webhooks", action, "test"] => by_method!(method, {
            Post => workspace::test_webhook(req, b, action).await,
        }),
        ["teammates", id] => by_method!(method, {
            Patch => console::update_teammate(req, b, id).await,
            Delete => console::remove_teammate(req, b, id).await,
        }),
        _ => Err(ApiError::NotFound("No such endpoint.")),
    }
}

/// `/api/admin/...`: the operator's API (`ADMIN_TOKEN`).
async fn admin_api(
    method: Method,
    path: &[&str],
    req: &mut Request,
    b: &Bindings,
) -> ApiResult<Response> {
    match path {
        ["workspaces"] => by_method!(method, { Post => admin::create_workspace(req, b).await }),
        ["workspaces", id] => by_method!(method, {
            Get => admin::get_workspace(req, b, id).await,
            Patch => admin::update_workspace(req, b, id).await,
        }),
        ["workspaces", id, "teammates"] => by_method!(method, {
            Post => admin::create_teammate(req, b, id).await,
        }),
        ["workspaces", id, "teammates", teammate, "signin-link"] => by_method!(method, {
            Post => admin::create_signin_link(req, b, id, teammate).await,
        }),
        _ => Err(ApiError::NotFound("No such endpoint.")),
    }
}
