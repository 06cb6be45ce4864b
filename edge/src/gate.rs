//! Rate limits (`halo_shared::limits`): a Durable Object per workspace counts its requests
//! by key (visitor, address, the workspace itself) in sliding one-minute windows and admits
//! or refuses each request in one round trip.
//!
//! Why not the platform's Rate Limiting binding: `worker::RateLimiter` works under `wrangler
//! dev` (miniflare implements it), but its limit and period are fixed per binding in
//! wrangler.toml, so a workspace could not change its own. A Durable Object can, and is
//! still the platform's own part: one per workspace, its counts in memory (a restarted
//! object starts them again, which only ever lets a little more through).

use std::cell::RefCell;
use std::collections::BTreeMap;

use halo_shared::limits::{admit as decide, Check, Counter, Limits};
use serde_json::json;
use worker::{
    durable_object, DurableObject, Env, Method, Request, RequestInit, Response, Result, State,
};

use crate::error::{ApiError, ApiResult};
use crate::platform::now_ms;

/// The binding of the [`RateGate`] namespace in wrangler.toml.
const BINDING: &str = "GATE";

/// Most keys one gate keeps before it forgets the idle ones.
const MAX_KEYS: usize = 50_000;

#[durable_object]
pub struct RateGate {
    counters: RefCell<BTreeMap<String, Counter>>,
}

impl DurableObject for RateGate {
    fn new(_state: State, _env: Env) -> Self {
        Self {
            counters: RefCell::new(BTreeMap::new()),
        }
    }

    /// `POST /admit` `[{ key, limit }]`: `{ retry_after: null | seconds }`.
    async fn fetch(&self, mut req: Request) -> Result<Response> {
        if req.method() != Method::Post {
            return Response::error("Not found", 404);
        }
        let checks: Vec<Check> = req.json().await?;
        let now = now_ms();
        let mut counters = self.counters.borrow_mut();
        if counters.len() > MAX_KEYS {
            counters.retain(|_, c| now - c.start < 2 * halo_shared::limits::WINDOW_MS);
        }
        let wait = decide(&mut counters, &checks, now);
        Response::from_json(&json!({ "retry_after": wait }))
    }
}

/// What a request is, for its limits.
pub enum Kind {
    Chat,
    Session,
    /// Identify, rating, catch-up.
    Call,
}

/// Admits a widget request of `kind` from `visitor` at `ip` to workspace `org` under its
/// `limits`, or refuses it with 429 and when to try again. A gate that cannot be reached
/// lets the request through (and logs it): the limits protect the bill, not the answer.
pub async fn admit(
    env: &Env,
    org: &str,
    limits: &Limits,
    kind: Kind,
    visitor: &str,
    ip: &str,
) -> ApiResult<()> {
    let checks = match kind {
        Kind::Chat => vec![
            Check {
                key: format!("chat:v:{visitor}"),
                limit: limits.chat_per_visitor,
            },
            Check {
                key: format!("chat:ip:{ip}"),
                limit: limits.chat_per_ip,
            },
            Check {
                key: "chat:ws".into(),
                limit: limits.chat_per_workspace,
            },
        ],
        // An anonymous visitor opening the widget has no id yet: only the address counts
        // (several people behind one address share it, hence the larger limit).
        Kind::Session if visitor.starts_with("ip:") => vec![Check {
            key: format!("session:ip:{ip}"),
            limit: limits.sessions_per_visitor.saturating_mul(4),
        }],
        Kind::Session => vec![
            Check {
                key: format!("session:v:{visitor}"),
                limit: limits.sessions_per_visitor,
            },
            Check {
                key: format!("session:ip:{ip}"),
                limit: limits.sessions_per_visitor.saturating_mul(4),
            },
        ],
        Kind::Call => vec![Check {
            key: format!("call:v:{visitor}"),
            limit: limits.calls_per_visitor,
        }],
    };
    match ask(env, org, &checks).await {
        Ok(None) => Ok(()),
        Ok(Some(retry_after)) => Err(ApiError::RateLimited {
            message: "Too many requests: wait a moment and try again.",
            retry_after,
        }),
        Err(e) => {
            worker::console_error!("the rate gate could not be reached: {e}");
            Ok(())
        }
    }
}

async fn ask(env: &Env, org: &str, checks: &[Check]) -> Result<Option<u64>> {
    let stub = env.durable_object(BINDING)?.id_from_name(org)?.get_stub()?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_body(Some(wasm_bindgen::JsValue::from_str(
            &serde_json::to_string(checks)?,
        )));
    let mut resp = stub
        .fetch_with_request(Request::new_with_init("https://gate/admit", &init)?)
        .await?;
    let v: serde_json::Value = resp.json().await?;
    Ok(v["retry_after"].as_u64())
}

/// [`admit`] for a widget request to `ws`: the visitor is the user, else the session, else
/// the address.
pub async fn admit_widget(
    env: &Env,
    req: &Request,
    ws: &crate::store::Workspace,
    kind: Kind,
    user: Option<&str>,
    session: Option<&str>,
) -> ApiResult<()> {
    let ip = client_ip(req);
    let visitor = match (user, session) {
        (Some(u), _) => format!("u:{u}"),
        (None, Some(s)) => format!("s:{s}"),
        (None, None) => format!("ip:{ip}"),
    };
    let limits = Limits::from_stored(Some(&ws.limits));
    admit(env, &ws.id, &limits, kind, &visitor, &ip).await
}

/// The address a request comes from (`CF-Connecting-IP`; an IPv6 address by its /64).
pub fn client_ip(req: &Request) -> String {
    let ip = req
        .headers()
        .get("cf-connecting-ip")
        .ok()
        .flatten()
        .unwrap_or_else(|| "unknown".into());
    halo_shared::console::address_key(&ip)
}
