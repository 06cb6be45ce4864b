//! What the runtime gives us: randomness, hashing, the clock, the Worker's settings.

use halo_shared::ids;
use sha2::{Digest, Sha256};

/// Fresh bytes from the platform's CSPRNG (`crypto.getRandomValues`).
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    getrandom::getrandom(&mut buf).expect("the Workers runtime always has crypto.getRandomValues");
    buf
}

/// A new random UUID (v4).
pub fn new_id() -> String {
    ids::uuid_v4(random_bytes())
}

/// Hex SHA-256 of a credential: what we store and look keys up by. Keys carry 256 random
/// bits, so a fast hash is enough; a slow password hash would only add latency.
pub fn key_hash(key: &str) -> String {
    ids::hex(&Sha256::digest(key.as_bytes()))
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    worker::Date::now().as_millis() as i64
}

/// A string var from `wrangler.toml` or a secret, trimmed; `None` when unset or empty.
pub fn setting(env: &worker::Env, name: &str) -> Option<String> {
    env.secret(name)
        .map(|s| s.to_string())
        .or_else(|_| env.var(name).map(|v| v.to_string()))
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

/// The Worker's bindings, resolved once per request and handed to every handler: its
/// environment (vars, secrets, the other bindings) and the D1 database.
pub struct Bindings {
    pub env: worker::Env,
    pub db: worker::D1Database,
}

impl Bindings {
    pub fn resolve(env: worker::Env) -> worker::Result<Self> {
        let db = env.d1("DB")?;
        Ok(Bindings { env, db })
    }
}
