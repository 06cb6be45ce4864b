//! Rate limits: how many requests a visitor, an address and a workspace may make a minute,
//! with defaults a workspace can change, and the sliding-window rule that decides.
//!
//! A window counts the current minute and weighs the previous one by how much of it is still
//! inside the last 60 seconds, so a burst at a minute's edge cannot pass twice the limit.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::chat::{field_error as err, FieldError, InvalidField};

/// The window every limit counts in.
pub const WINDOW_MS: i64 = 60_000;
/// The highest limit a workspace may set.
pub const MAX_LIMIT: u32 = 100_000;

/// A workspace's limits, each per minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    /// Chat messages per visitor (session or user).
    pub chat_per_visitor: u32,
    /// Chat messages per client IP address.
    pub chat_per_ip: u32,
    /// Chat messages for the whole workspace.
    pub chat_per_workspace: u32,
    /// Sessions opened per visitor or address.
    pub sessions_per_visitor: u32,
    /// Identify calls, ratings and catch-up reads per visitor.
    pub calls_per_visitor: u32,
    /// Model requests a day (UTC) for the workspace; past it the offline engine answers.
    pub llm_requests_per_day: u32,
    /// Model tokens a day (UTC), from the providers' `usage`.
    pub llm_tokens_per_day: u32,
    /// Turns a model answers in one conversation; past it the offline engine answers.
    pub ai_turns_per_conversation: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            chat_per_visitor: 20,
            chat_per_ip: 120,
            chat_per_workspace: 1_200,
            sessions_per_visitor: 30,
            calls_per_visitor: 120,
            llm_requests_per_day: 10_000,
            llm_tokens_per_day: 20_000_000,
            ai_turns_per_conversation: 50,
        }
    }
}

impl Limits {
    pub fn from_stored(stored: Option<&str>) -> Limits {
        stored
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or_default()
    }

    /// `{ <limit>: n }` applied to these limits (each 1 to [`MAX_LIMIT`]).
    pub fn updated(&self, patch: &Value) -> Result<Limits, FieldError> {
        let o = patch.as_object().ok_or_else(|| {
            err(
                "limits",
                InvalidField::WrongType {
                    expected: "an object",
                },
            )
        })?;
        let mut next = *self;
        for (key, v) in o {
            let name = format!("limits.{key}");
            let n = v
                .as_u64()
                .filter(|n| (1..=u64::from(max_of(key))).contains(n))
                .ok_or_else(|| {
                    err(
                        &name,
                        InvalidField::Invalid("must be a whole number from 1 to its maximum (100000; tokens 1000000000)"),
                    )
                })? as u32;
            match key.as_str() {
                "chat_per_visitor" => next.chat_per_visitor = n,
                "chat_per_ip" => next.chat_per_ip = n,
                "chat_per_workspace" => next.chat_per_workspace = n,
                "sessions_per_visitor" => next.sessions_per_visitor = n,
                "calls_per_visitor" => next.calls_per_visitor = n,
                "llm_requests_per_day" => next.llm_requests_per_day = n,
                "llm_tokens_per_day" => next.llm_tokens_per_day = n,
                "ai_turns_per_conversation" => next.ai_turns_per_conversation = n,
                _ => return Err(err(&name, InvalidField::Invalid("is not a limit"))),
            }
        }
        Ok(next)
    }
}

fn max_of(key: &str) -> u32 {
    if key == "llm_tokens_per_day" {
        1_000_000_000
    } else {
        MAX_LIMIT
    }
}

/// What a workspace spent on models today.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Days since the Unix epoch (UTC).
    pub day: i64,
    pub requests: u32,
    pub tokens: u64,
}

/// The UTC day a moment (ms) falls on.
pub fn day_of(ms: i64) -> i64 {
    ms.div_euclid(86_400_000)
}

/// Why a turn may not use a model: the day's budget is spent, or this conversation has had
/// its share of model turns. `None`: it may.
pub fn model_refusal(limits: &Limits, today: &Usage, model_turns: u32) -> Option<&'static str> {
    if today.requests >= limits.llm_requests_per_day {
        Some("the workspace's daily budget of model requests is spent")
    } else if today.tokens >= u64::from(limits.llm_tokens_per_day) {
        Some("the workspace's daily budget of model tokens is spent")
    } else if model_turns >= limits.ai_turns_per_conversation {
        Some("this conversation has had its share of model-answered turns")
    } else {
        None
    }
}

/// The test faults `HALO_FAULTS` names (see edge/src/faults.rs), honoured only for a request
/// to a loopback host, which a deployed Worker never serves.
pub fn faults_for<'a>(setting: &'a str, host: Option<&str>) -> Vec<&'a str> {
    if !matches!(host, Some("127.0.0.1" | "localhost" | "[::1]")) {
        return Vec::new();
    }
    setting
        .split(',')
        .map(str::trim)
        .filter(|f| ["reply_store", "live", "message_ack"].contains(f))
        .collect()
}

/// One key's counts: the current window's and the previous one's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counter {
    /// Where the current window started (ms).
    pub start: i64,
    pub current: u32,
    pub previous: u32,
}

impl Counter {
    /// Moves the windows on to the one holding `now`.
    fn roll(&mut self, now: i64) {
        let window = now - now.rem_euclid(WINDOW_MS);
        if window == self.start {
            return;
        }
        self.previous = if window - self.start == WINDOW_MS {
            self.current
        } else {
            0
        };
        self.current = 0;
        self.start = window;
    }

    /// The requests counted in the last minute, the previous window weighed (in thousandths
    /// of a request, to stay in integers).
    fn weighed(&self, now: i64) -> i64 {
        let elapsed = now - self.start;
        let previous_share = (WINDOW_MS - elapsed).max(0);
        i64::from(self.previous) * previous_share * 1000 / WINDOW_MS
            + i64::from(self.current) * 1000
    }

    /// Seconds until one more request would fit under `limit`.
    fn wait(&self, now: i64, limit: u32) -> u64 {
        let elapsed = now - self.start;
        let to_next_window = WINDOW_MS - elapsed;
        if self.current >= limit || self.previous == 0 {
            // Only a new window helps (and then the current one weighs as the previous).
            return ((to_next_window + 999) / 1000).max(1) as u64;
        }
        // previous * (W - e - t) / W + current < limit  =>  t > W - e - (limit - current) * W / previous
        let room = i64::from(limit - self.current) * WINDOW_MS / i64::from(self.previous);
        let t = (WINDOW_MS - elapsed - room).max(0);
        ((t + 999) / 1000).max(1) as u64
    }
}

/// One limit to check: a key and its limit a minute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    pub key: String,
    pub limit: u32,
}

/// Decides a request against every check: `None` lets it through and counts it under each
/// key; `Some(seconds)` refuses it (counting nothing) until the slowest key has room.
pub fn admit(
    counters: &mut std::collections::BTreeMap<String, Counter>,
    checks: &[Check],
    now: i64,
) -> Option<u64> {
    let mut wait = None::<u64>;
    for c in checks {
        let counter = counters.entry(c.key.clone()).or_default();
        counter.roll(now);
        if counter.weighed(now) + 1000 > i64::from(c.limit) * 1000 {
            let w = counter.wait(now, c.limit);
            wait = Some(wait.map_or(w, |x| x.max(w)));
        }
    }
    if wait.is_some() {
        return wait;
    }
    for c in checks {
        if let Some(counter) = counters.get_mut(&c.key) {
            counter.current += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::BTreeMap;

    fn check(key: &str, limit: u32) -> Check {
        Check {
            key: key.into(),
            limit,
        }
    }

    #[test]
    fn the_limit_passes_and_the_next_request_waits_for_the_window() {
        let mut counters = BTreeMap::new();
        let t0 = 1_800_000_000_000 - 1_800_000_000_000 % WINDOW_MS;
        for i in 0..20 {
            assert_eq!(
                admit(&mut counters, &[check("v", 20)], t0 + i * 100),
                None,
                "{i}"
            );
        }
        let refused = admit(&mut counters, &[check("v", 20)], t0 + 2_100);
        assert_eq!(refused, Some(58), "the rest of the minute");
        // Refusals count nothing: later in the next window, the old minute weighs less.
        assert_eq!(
            admit(&mut counters, &[check("v", 20)], t0 + WINDOW_MS + 30_000),
            None
        );
    }

    #[test]
    fn a_burst_at_the_edge_of_a_minute_cannot_pass_twice_the_limit() {
        let mut counters = BTreeMap::new();
        let t0 = 1_800_000_000_000 - 1_800_000_000_000 % WINDOW_MS;
        let mut passed = 0;
        for i in 0..40 {
            // 20 at the end of one minute, 20 at the start of the next.
            let at = if i < 20 { t0 + 59_000 } else { t0 + 61_000 };
            if admit(&mut counters, &[check("v", 20)], at).is_none() {
                passed += 1;
            }
        }
        assert!(passed <= 21, "{passed} passed in two seconds");
    }

    #[test]
    fn a_request_needs_room_under_every_key_and_a_refusal_counts_under_none() {
        let mut counters = BTreeMap::new();
        let now = 1_800_000_000_000;
        assert_eq!(admit(&mut counters, &[check("ws", 2)], now), None);
        assert_eq!(
            admit(&mut counters, &[check("a", 5), check("ws", 2)], now),
            None
        );
        assert!(admit(&mut counters, &[check("b", 5), check("ws", 2)], now).is_some());
        assert_eq!(
            counters["b"].current, 0,
            "the refused request was not counted for b"
        );
        assert_eq!(counters["a"].current, 1);
    }

    #[test]
    fn past_the_days_budget_or_the_conversations_share_no_model_answers() {
        let l = Limits::default()
            .updated(&json!({ "llm_requests_per_day": 2, "llm_tokens_per_day": 1000, "ai_turns_per_conversation": 3 }))
            .unwrap();
        let fresh = Usage {
            day: 1,
            requests: 1,
            tokens: 10,
        };
        assert_eq!(model_refusal(&l, &fresh, 0), None);
        assert!(model_refusal(
            &l,
            &Usage {
                requests: 2,
                ..fresh
            },
            0
        )
        .is_some_and(|r| r.contains("requests")));
        assert!(model_refusal(
            &l,
            &Usage {
                tokens: 1000,
                ..fresh
            },
            0
        )
        .is_some_and(|r| r.contains("tokens")));
        assert!(model_refusal(&l, &fresh, 3).is_some_and(|r| r.contains("conversation")));
        assert_eq!(day_of(86_400_000 * 3 + 5), 3);
    }

    #[test]
    fn test_faults_apply_on_loopback_only() {
        assert_eq!(
            faults_for(
                "reply_store, live, message_ack, nonsense",
                Some("127.0.0.1")
            ),
            vec!["reply_store", "live", "message_ack"]
        );
        assert!(faults_for("reply_store,live", Some("halo.example.com")).is_empty());
        assert!(faults_for("reply_store", None).is_empty());
    }

    #[test]
    fn a_workspace_changes_its_limits_within_bounds() {
        let l = Limits::default()
            .updated(&json!({ "chat_per_visitor": 5 }))
            .unwrap();
        assert_eq!((l.chat_per_visitor, l.chat_per_ip), (5, 120));
        for (patch, field) in [
            (json!({ "chat_per_visitor": 0 }), "limits.chat_per_visitor"),
            (json!({ "chat_per_ip": 100_001 }), "limits.chat_per_ip"),
            (json!({ "per_moon": 3 }), "limits.per_moon"),
        ] {
            assert_eq!(Limits::default().updated(&patch).unwrap_err().field, field);
        }
    }
}
