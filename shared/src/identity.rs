//! Identity verification: the user JWT (`user_token`) the customer's server signs with the
//! workspace's identity secret.
//!
//! Strict by design: the algorithm is pinned to HS256 (no `none`, no other HMAC sizes, no
//! RSA/EC), headers that point at other keys (`jwk`, `jku`, `x5u`, `x5c`) are refused, the MAC
//! is compared in constant time, `exp` and `nbf` are honoured with at most [`LEEWAY_SECS`] of
//! leeway when present, `iat` may not be in the future, and the `user_id` claim must be present
//! and equal to the request's `user_id`.
//!
//! Signature and time checks are `jsonwebtoken`'s validation, run on a crypto provider of our
//! own that knows only HMAC-SHA256 (`hmac` + `sha2`): its `rust_crypto` feature would pull RSA
//! and elliptic-curve code into the Worker and double its size.

use hmac::{Hmac, Mac};
use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Validation};
use serde::Deserialize;
use serde_json::Value;
use sha2::Sha256;

use crate::chat::{Warning, MAX_TOKEN_CHARS};

/// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds.
pub const LEEWAY_SECS: u64 = 60;

struct Hs256(Hmac<Sha256>);

impl signature::Verifier<Vec<u8>> for Hs256 {
    fn verify(&self, msg: &[u8], signature: &Vec<u8>) -> Result<(), signature::Error> {
        let mut mac = self.0.clone();
        mac.update(msg);
        // verify_slice compares in constant time.
        mac.verify_slice(signature)
            .map_err(|_| signature::Error::new())
    }
}

impl JwtVerifier for Hs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

fn hs256_verifier(
    alg: &Algorithm,
    key: &DecodingKey,
) -> jsonwebtoken::errors::Result<Box<dyn JwtVerifier>> {
    if *alg != Algorithm::HS256 {
        return Err(ErrorKind::InvalidAlgorithm.into());
    }
    let mac = Hmac::<Sha256>::new_from_slice(key.try_get_as_bytes()?)
        .map_err(|_| ErrorKind::InvalidKeyFormat)?;
    Ok(Box::new(Hs256(mac)))
}

fn no_signer(_: &Algorithm, _: &EncodingKey) -> jsonwebtoken::errors::Result<Box<dyn JwtSigner>> {
    // Halo only verifies: tokens are signed by the customer's server.
    Err(ErrorKind::InvalidAlgorithm.into())
}

static HS256_ONLY: CryptoProvider = CryptoProvider {
    signer_factory: no_signer,
    verifier_factory: hs256_verifier,
    key_utils: KeyUtils::new_unimplemented(),
};

/// Why a user token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidToken {
    #[error("the token is not a well-formed JWT")]
    Malformed,
    #[error("the token is longer than {MAX_TOKEN_CHARS} characters")]
    TooLong,
    #[error("the token must be signed with HS256")]
    WrongAlgorithm,
    #[error("the token's header names a key ({0}); only the identity secret is accepted")]
    ForeignKeyHeader(&'static str),
    #[error("the token's signature does not match the identity secret")]
    BadSignature,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token was issued in the future")]
    IssuedInFuture,
    #[error("the token has no user_id claim")]
    MissingUserId,
    #[error("the token's user_id does not match the request's user_id")]
    UserIdMismatch,
}

/// The claims a valid token vouches for. These override what the browser sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct TrustedClaims {
    pub user_id: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub plan: Option<String>,
    #[serde(default)]
    pub company_id: Option<String>,
}

/// The company a widget request may tie its user to, and read for the AI: the one the user's
/// token names; without such a claim, the one the page sent, unless the workspace verifies
/// identities. There the page cannot vouch for membership (anyone can send any id), so a
/// company only a page names would let a visitor, or a verified user of another company,
/// read that company's data through the AI or write its traits. A sent company that is not
/// used is named in a warning at `field`; the message itself is answered as ever.
pub fn vouched_company(
    verifying: bool,
    claimed: Option<&str>,
    sent: Option<String>,
    field: &str,
) -> (Option<String>, Option<Warning>) {
    let warning = |message: String| Warning {
        field: field.to_owned(),
        code: "company_not_verified".into(),
        message,
    };
    match (claimed, sent) {
        (Some(claimed), Some(sent)) if sent != claimed => (
            Some(claimed.to_owned()),
            Some(warning(format!(
                "the user_token names the company \"{claimed}\"; the one sent was not used"
            ))),
        ),
        (Some(claimed), _) => (Some(claimed.to_owned()), None),
        (None, Some(_)) if verifying => (
            None,
            Some(warning(
                "this workspace verifies identities: a company is taken from the user_token's company_id claim, or from a link your server made, never from the page alone".into(),
            )),
        ),
        (None, sent) => (sent, None),
    }
}

#[derive(Deserialize)]
struct Claims {
    #[serde(default)]
    user_id: Option<Value>,
    #[serde(default)]
    iat: Option<f64>,
    #[serde(flatten)]
    rest: serde_json::Map<String, Value>,
}

fn b64url_json(part: &str) -> Option<Value> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Checks the header ourselves before anything else: exactly `"alg": "HS256"`, and no header
/// that would point verification at another key.
fn check_header(token: &str) -> Result<(), InvalidToken> {
    let mut parts = token.split('.');
    let (Some(header), Some(_), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(InvalidToken::Malformed);
    };
    let header = b64url_json(header).ok_or(InvalidToken::Malformed)?;
    let header = header.as_object().ok_or(InvalidToken::Malformed)?;
    for key in ["jwk", "jku", "x5u", "x5c"] {
        if header.contains_key(key) {
            return Err(InvalidToken::ForeignKeyHeader(key));
        }
    }
    match header.get("alg").and_then(Value::as_str) {
        Some("HS256") => Ok(()),
        _ => Err(InvalidToken::WrongAlgorithm),
    }
}

/// Verifies `token` against the workspace's identity `secret` for the request's `user_id`.
pub fn verify_user_token(
    token: &str,
    secret: &[u8],
    user_id: &str,
) -> Result<TrustedClaims, InvalidToken> {
    if token.len() > MAX_TOKEN_CHARS {
        return Err(InvalidToken::TooLong);
    }
    check_header(token)?;
    let _ = HS256_ONLY.install_default(); // Err only means it is installed already.
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = LEEWAY_SECS;
    validation.required_spec_claims.clear(); // exp and nbf are checked when present
    validation.validate_exp = true;
    validation.validate_nbf = true;
    validation.validate_aud = false;
    let data =
        jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(secret), &validation)
            .map_err(|e| match e.kind() {
                ErrorKind::InvalidSignature => InvalidToken::BadSignature,
                ErrorKind::ExpiredSignature => InvalidToken::Expired,
                ErrorKind::ImmatureSignature => InvalidToken::NotYetValid,
                ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
                    InvalidToken::WrongAlgorithm
                }
                _ => InvalidToken::Malformed,
            })?;
    let claims = data.claims;
    if claims
        .iat
        .is_some_and(|iat| iat > (jsonwebtoken::get_current_timestamp() + LEEWAY_SECS) as f64)
    {
        return Err(InvalidToken::IssuedInFuture);
    }
    let token_user = match claims.user_id {
        None | Some(Value::Null) => return Err(InvalidToken::MissingUserId),
        Some(Value::String(s)) => s,
        Some(Value::Number(n)) => n.to_string(),
        Some(_) => return Err(InvalidToken::Malformed),
    };
    if token_user != user_id {
        return Err(InvalidToken::UserIdMismatch);
    }
    let text = |k: &str| {
        claims
            .rest
            .get(k)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    Ok(TrustedClaims {
        user_id: token_user,
        email: text("email"),
        name: text("name"),
        role: text("role"),
        plan: text("plan"),
        company_id: text("company_id"),
    })
}

/// Verifies `token` with each of the workspace's identity secrets that still work (the
/// current one, and one in its rotation grace period). The refusal, when every secret
/// refuses, is the reason of the secret that signed it (expired, wrong user) if one did.
pub fn verify_with_any<S: AsRef<[u8]>>(
    token: &str,
    secrets: &[S],
    user_id: &str,
) -> Result<TrustedClaims, InvalidToken> {
    let mut refusal = InvalidToken::BadSignature;
    for secret in secrets {
        match verify_user_token(token, secret.as_ref(), user_id) {
            Ok(claims) => return Ok(claims),
            Err(InvalidToken::BadSignature) => {}
            Err(other) => refusal = other,
        }
    }
    Err(refusal)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use base64::Engine;
    use serde_json::json;

    const SECRET: &[u8] = b"ha_secret_test";

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Signs like a customer's server would (or like an attacker trying variants would).
    pub fn sign(header: Value, claims: Value, secret: &[u8]) -> String {
        let signing_input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap();
        mac.update(signing_input.as_bytes());
        format!("{signing_input}.{}", b64(&mac.finalize().into_bytes()))
    }

    fn now() -> i64 {
        jsonwebtoken::get_current_timestamp() as i64
    }

    fn hs256(claims: Value) -> String {
        sign(json!({ "alg": "HS256", "typ": "JWT" }), claims, SECRET)
    }

    #[test]
    fn a_token_signed_with_either_live_secret_verifies_and_the_signers_reason_is_kept() {
        let (old, new) = (SECRET, b"ha_secret_rotated".as_slice());
        let token = hs256(json!({ "user_id": "u1" }));
        assert!(verify_with_any(&token, &[new, old], "u1").is_ok());
        assert_eq!(
            verify_with_any(&token, &[new], "u1").unwrap_err(),
            InvalidToken::BadSignature
        );
        assert_eq!(
            verify_with_any(&token, &[new, old], "u2").unwrap_err(),
            InvalidToken::UserIdMismatch
        );
        let none: [&[u8]; 0] = [];
        assert!(verify_with_any(&token, &none, "u1").is_err());
    }

    #[test]
    fn a_valid_token_yields_its_trusted_claims() {
        let t = hs256(
            json!({ "user_id": "u1", "email": "a@b.c", "plan": "pro", "iat": now(), "exp": now() + 600 }),
        );
        let c = verify_user_token(&t, SECRET, "u1").unwrap();
        assert_eq!(
            (c.user_id.as_str(), c.email.as_deref(), c.plan.as_deref()),
            ("u1", Some("a@b.c"), Some("pro"))
        );
    }

    #[test]
    fn a_token_without_exp_is_accepted() {
        assert!(verify_user_token(&hs256(json!({ "user_id": "u1" })), SECRET, "u1").is_ok());
    }

    #[test]
    fn every_rule_refuses_its_bad_token() {
        let alg_none = format!(
            "{}.{}.",
            b64(br#"{"alg":"none"}"#),
            b64(br#"{"user_id":"u1"}"#)
        );
        let hs512 = sign(
            json!({ "alg": "HS512" }),
            json!({ "user_id": "u1" }),
            SECRET,
        );
        let rs256 = sign(
            json!({ "alg": "RS256" }),
            json!({ "user_id": "u1" }),
            SECRET,
        );
        let jwk = sign(
            json!({ "alg": "HS256", "jwk": { "kty": "oct", "k": "AAAA" } }),
            json!({ "user_id": "u1" }),
            SECRET,
        );
        let jku = sign(
            json!({ "alg": "HS256", "jku": "https://evil.example/keys" }),
            json!({ "user_id": "u1" }),
            SECRET,
        );
        let good = hs256(json!({ "user_id": "u1" }));
        let (head, rest) = good.split_once('.').unwrap();
        let (_, sig) = rest.split_once('.').unwrap();
        let tampered = format!("{head}.{}.{sig}", b64(br#"{"user_id":"admin"}"#));
        let cases: Vec<(String, &str, InvalidToken)> = vec![
            ("not a jwt".into(), "u1", InvalidToken::Malformed),
            ("a.b.c.d".into(), "u1", InvalidToken::Malformed),
            ("x".repeat(MAX_TOKEN_CHARS + 1), "u1", InvalidToken::TooLong),
            (alg_none, "u1", InvalidToken::WrongAlgorithm),
            (hs512, "u1", InvalidToken::WrongAlgorithm),
            (rs256, "u1", InvalidToken::WrongAlgorithm),
            (jwk, "u1", InvalidToken::ForeignKeyHeader("jwk")),
            (jku, "u1", InvalidToken::ForeignKeyHeader("jku")),
            (tampered, "admin", InvalidToken::BadSignature),
            (
                sign(
                    json!({ "alg": "HS256" }),
                    json!({ "user_id": "u1" }),
                    b"another secret",
                ),
                "u1",
                InvalidToken::BadSignature,
            ),
            (
                hs256(json!({ "user_id": "u1", "exp": now() - 120 })),
                "u1",
                InvalidToken::Expired,
            ),
            (
                hs256(json!({ "user_id": "u1", "nbf": now() + 300 })),
                "u1",
                InvalidToken::NotYetValid,
            ),
            (
                hs256(json!({ "user_id": "u1", "iat": now() + 300 })),
                "u1",
                InvalidToken::IssuedInFuture,
            ),
            (
                hs256(json!({ "sub": "u1" })),
                "u1",
                InvalidToken::MissingUserId,
            ),
            (
                hs256(json!({ "user_id": "u2" })),
                "u1",
                InvalidToken::UserIdMismatch,
            ),
        ];
        for (token, user, expected) in cases {
            assert_eq!(
                verify_user_token(&token, SECRET, user),
                Err(expected.clone()),
                "{expected:?}"
            );
        }
    }

    #[test]
    fn clock_skew_within_the_leeway_is_tolerated() {
        let t = hs256(
            json!({ "user_id": "u1", "exp": now() - 30, "nbf": now() + 30, "iat": now() + 30 }),
        );
        assert!(verify_user_token(&t, SECRET, "u1").is_ok());
    }

    #[test]
    fn a_company_comes_from_the_token_and_only_from_it_when_identities_are_verified() {
        let sent = || Some("other-co".to_owned());
        // Verified: the claim wins, a page-sent company alone counts for nothing.
        let (c, w) = vouched_company(true, Some("acme"), sent(), "company_id");
        assert_eq!(c.as_deref(), Some("acme"));
        assert_eq!(
            w.expect("the override is said").code,
            "company_not_verified"
        );
        let (c, w) = vouched_company(true, None, sent(), "company_id");
        assert_eq!(c, None);
        assert_eq!(w.expect("the drop is said").field, "company_id");
        assert_eq!(
            vouched_company(true, Some("acme"), Some("acme".into()), "company_id"),
            (Some("acme".into()), None)
        );
        assert_eq!(
            vouched_company(true, None, None, "company_id"),
            (None, None)
        );
        // Unverified: the page is trusted, as for the user's id.
        assert_eq!(
            vouched_company(false, None, sent(), "company_id"),
            (sent(), None)
        );
        assert!(vouched_company(false, Some("acme"), sent(), "company")
            .1
            .is_some());
    }
}
