//! Passwords: PBKDF2-HMAC-SHA256 through the runtime's WebCrypto (`crypto.subtle`), with a
//! per-password random salt and the iteration count stored with the hash
//! (`halo_shared::console::StoredPassword`). Comparison is constant-time.

use halo_shared::console::{StoredPassword, HASH_BYTES, PBKDF2_ITERATIONS, SALT_BYTES};
use halo_shared::keys::constant_time_eq;
use worker::js_sys::{self, Array, Object, Reflect, Uint8Array};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;

use crate::platform::random_bytes;

/// A stored hash of a new password.
pub async fn hash(password: &str) -> Result<String, String> {
    let salt: [u8; SALT_BYTES] = random_bytes();
    let hash = derive(password, &salt, PBKDF2_ITERATIONS).await?;
    Ok(StoredPassword {
        iterations: PBKDF2_ITERATIONS,
        salt: salt.to_vec(),
        hash,
    }
    .encode())
}

/// Whether `password` is the one `stored` was made from. A stored value that is not a
/// password hash (`None` included) never matches, but costs the same work, so that timing
/// does not tell whether an account exists.
pub async fn verify(password: &str, stored: Option<&str>) -> Result<bool, String> {
    match stored.and_then(StoredPassword::decode) {
        Some(s) => {
            let derived = derive(password, &s.salt, s.iterations).await?;
            Ok(constant_time_eq(&derived, &s.hash))
        }
        None => {
            derive(password, &[0; SALT_BYTES], PBKDF2_ITERATIONS).await?;
            Ok(false)
        }
    }
}

fn js_err(what: &str) -> impl Fn(JsValue) -> String + '_ {
    move |e| format!("{what}: {e:?}")
}

fn set(o: &Object, k: &str, v: &JsValue) -> Result<(), String> {
    Reflect::set(o, &k.into(), v)
        .map(|_| ())
        .map_err(js_err("object"))
}

/// Calls `subtle[method](...args)` and awaits the promise.
async fn subtle(method: &str, args: &[JsValue]) -> Result<JsValue, String> {
    let crypto = Reflect::get(&js_sys::global(), &"crypto".into()).map_err(js_err("crypto"))?;
    let subtle = Reflect::get(&crypto, &"subtle".into()).map_err(js_err("crypto.subtle"))?;
    let f: js_sys::Function = Reflect::get(&subtle, &method.into())
        .map_err(js_err(method))?
        .dyn_into()
        .map_err(js_err(method))?;
    let promise: js_sys::Promise = f
        .apply(&subtle, &args.iter().collect::<Array>())
        .map_err(js_err(method))?
        .dyn_into()
        .map_err(js_err(method))?;
    JsFuture::from(promise).await.map_err(js_err(method))
}

async fn derive(password: &str, salt: &[u8], iterations: u32) -> Result<Vec<u8>, String> {
    let pbkdf2 = Object::new();
    set(&pbkdf2, "name", &"PBKDF2".into())?;
    let usages: Array = [JsValue::from("deriveBits")].into_iter().collect();
    let key = subtle(
        "importKey",
        &[
            "raw".into(),
            Uint8Array::from(password.as_bytes()).into(),
            pbkdf2.clone().into(),
            false.into(),
            usages.into(),
        ],
    )
    .await?;
    set(&pbkdf2, "hash", &"SHA-256".into())?;
    set(&pbkdf2, "salt", &Uint8Array::from(salt).into())?;
    set(&pbkdf2, "iterations", &iterations.into())?;
    let bits = subtle(
        "deriveBits",
        &[pbkdf2.into(), key, ((HASH_BYTES * 8) as u32).into()],
    )
    .await?;
    Ok(Uint8Array::new(&bits).to_vec())
}
