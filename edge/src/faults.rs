//! Faults on purpose, for the tests: `HALO_FAULTS` (a `wrangler dev` var, comma-separated)
//! makes a dependency fail, so tests can show that nothing is lost when it does.
//! - `reply_store`: storing the AI's reply fails (D1 failing after the user's message was
//!   stored);
//! - `live`: every live room is unreachable (the Durable Object unavailable);
//! - `message_ack`: the batch that stores the user's message commits, but its answer is
//!   lost (D1 reporting a failure after committing).
//!
//! A fault is honoured only for a request to a loopback host (`127.0.0.1`, `localhost`),
//! which a deployed Worker never serves: setting the var in production config does nothing.
//! The switch is a process-wide flag set at the start of each request; under `wrangler dev`
//! every request is loopback and the var the same, so concurrent requests agree on it.

use std::sync::atomic::{AtomicU8, Ordering};

const REPLY_STORE: u8 = 1;
const LIVE: u8 = 2;
const MESSAGE_ACK: u8 = 4;

static ACTIVE: AtomicU8 = AtomicU8::new(0);

/// Reads the switch for a request to `host`.
pub fn arm(env: &worker::Env, host: Option<&str>) {
    let setting = crate::platform::setting(env, "HALO_FAULTS").unwrap_or_default();
    let mut bits = 0;
    for name in halo_shared::limits::faults_for(&setting, host) {
        bits |= match name {
            "reply_store" => REPLY_STORE,
            "message_ack" => MESSAGE_ACK,
            "live" => LIVE,
            _ => 0,
        };
    }
    ACTIVE.store(bits, Ordering::Relaxed);
}

fn on(bit: u8) -> bool {
    ACTIVE.load(Ordering::Relaxed) & bit != 0
}

/// Storing the AI's reply fails.
pub fn reply_store() -> bool {
    on(REPLY_STORE)
}

/// The answer of the batch that stores the user's message is lost.
pub fn message_ack() -> bool {
    on(MESSAGE_ACK)
}

/// The live rooms are unreachable.
pub fn live() -> bool {
    on(LIVE)
}
