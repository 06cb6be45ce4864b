//! Identity verification of user tokens on the chat endpoint and the widget's identify call.

use halo_tests::{app, call, now_secs, sign_jwt, user_token, Workspace};
use serde_json::{json, Value};

fn require_verification(ws: &Workspace, on: bool) {
    let app = app();
    let r = call(
        app,
        "PATCH",
        &format!("/api/admin/workspaces/{}", ws.org_id),
        Some(&app.admin_token),
        Some(json!({ "identity_verification": on })),
    );
    assert_eq!(
        (r.status, &r.body["identity_verification"]),
        (200, &json!(on)),
        "{}",
        r.body
    );
}

fn contact(ws: &Workspace, user_id: &str) -> (u16, Value) {
    let r = call(
        app(),
        "GET",
        &format!("/api/sdk/users/{user_id}"),
        Some(&ws.secret_key),
        None,
    );
    (r.status, r.body)
}

#[test]
fn a_valid_token_verifies_the_contact_and_its_claims_override_the_page() {
    let app = app();
    let ws = app.workspace();
    let token = user_token(
        &ws,
        json!({ "user_id": "u-ok", "email": "real@acme.test", "plan": "enterprise", "iat": now_secs(), "exp": now_secs() + 600 }),
    );
    let r = ws.chat(json!({ "message": "hi", "user_id": "u-ok", "user_token": token, "custom_fields": { "email": "forged@evil.test", "plan": "free" } }),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let (status, body) = contact(&ws, "u-ok");
    assert_eq!(status, 200);
    assert_eq!(body["user"]["verified"], json!(true));
    assert_eq!(body["user"]["email"], json!("real@acme.test"));
    assert_eq!(body["user"]["plan"], json!("enterprise"));
}

#[test]
fn every_bad_token_is_a_401_that_stores_nothing() {
    let app = app();
    let ws = app.workspace();
    let other = app.workspace();
    let now = now_secs();
    let hs256 = json!({ "alg": "HS256", "typ": "JWT" });
    let good = user_token(&ws, json!({ "user_id": "victim" }));
    let (head, rest) = good.split_once('.').unwrap();
    let sig = rest.split_once('.').unwrap().1;
    let forged_payload = {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(br#"{"user_id":"victim","plan":"enterprise"}"#)
    };
    let cases: Vec<(&str, String)> = vec![
        ("tampered payload", format!("{head}.{forged_payload}.{sig}")),
        (
            "another workspace's secret",
            user_token(&other, json!({ "user_id": "victim" })),
        ),
        (
            "alg none",
            format!(
                "{}.{}.",
                "eyJhbGciOiJub25lIn0", "eyJ1c2VyX2lkIjoidmljdGltIn0"
            ),
        ),
        (
            "HS512",
            sign_jwt(
                &json!({ "alg": "HS512" }),
                &json!({ "user_id": "victim" }),
                &ws.identity_secret,
            ),
        ),
        (
            "jwk header",
            sign_jwt(
                &json!({ "alg": "HS256", "jwk": { "kty": "oct" } }),
                &json!({ "user_id": "victim" }),
                &ws.identity_secret,
            ),
        ),
        (
            "expired",
            sign_jwt(
                &hs256,
                &json!({ "user_id": "victim", "exp": now - 3600 }),
                &ws.identity_secret,
            ),
        ),
        (
            "not yet valid",
            sign_jwt(
                &hs256,
                &json!({ "user_id": "victim", "nbf": now + 3600 }),
                &ws.identity_secret,
            ),
        ),
        (
            "issued in the future",
            sign_jwt(
                &hs256,
                &json!({ "user_id": "victim", "iat": now + 3600 }),
                &ws.identity_secret,
            ),
        ),
        (
            "no user_id claim",
            sign_jwt(&hs256, &json!({ "sub": "victim" }), &ws.identity_secret),
        ),
        (
            "another user's token",
            user_token(&ws, json!({ "user_id": "someone-else" })),
        ),
        ("garbage", "not.a.jwt".into()),
    ];
    for (what, token) in cases {
        let session = format!("sess-{}", what.replace(' ', "-").replace('\'', ""));
        let r = ws.chat(json!({ "message": "hi", "user_id": "victim", "user_token": token, "session_id": session }),
        );
        assert_eq!(
            (r.status, r.error().0.as_str()),
            (401, "invalid_user_token"),
            "{what}: {}",
            r.body
        );
        assert_eq!(
            ws.conversation(&session).status,
            404,
            "{what}: nothing stored"
        );
    }
    assert_eq!(contact(&ws, "victim").0, 404, "no contact was created");
}

#[test]
fn with_verification_on_a_named_user_needs_a_token_and_visitors_still_chat() {
    let app = app();
    let ws = app.workspace();
    require_verification(&ws, true);
    let r = ws.chat(json!({ "message": "hi", "user_id": "u-1", "session_id": "needs-token-1" }));
    assert_eq!(
        (r.status, r.error().0.as_str()),
        (401, "user_token_required")
    );
    assert_eq!(ws.conversation("needs-token-1").status, 404);
    assert_eq!(contact(&ws, "u-1").0, 404);
    let widget = call(
        app,
        "POST",
        "/api/sdk/widget/identify",
        Some(&ws.widget_key),
        Some(json!({ "user_id": "u-1", "plan": "pro" })),
    );
    assert_eq!(widget.status, 401);
    assert_eq!(
        contact(&ws, "u-1").0,
        404,
        "identify without a token changed nothing"
    );

    assert_eq!(
        ws.chat(json!({ "message": "hi" })).status,
        200,
        "anonymous visitors need no token"
    );
    let token = user_token(&ws, json!({ "user_id": "u-1" }));
    assert_eq!(
        ws.chat(json!({ "message": "hi", "user_id": "u-1", "user_token": token }))
            .status,
        200
    );
    assert_eq!(contact(&ws, "u-1").1["user"]["verified"], json!(true));
}

#[test]
fn with_verification_off_browser_contacts_are_marked_unverified() {
    let app = app();
    let ws = app.workspace();
    assert_eq!(
        ws.chat(json!({ "message": "hi", "user_id": "u-unverified" }))
            .status,
        200
    );
    assert_eq!(
        contact(&ws, "u-unverified").1["user"]["verified"],
        json!(false)
    );
    let w = call(
        app,
        "POST",
        "/api/sdk/widget/identify",
        Some(&ws.widget_key),
        Some(json!({ "user_id": "u-w", "name": "Wanda" })),
    );
    assert_eq!(
        (w.status, &w.body["verified"]),
        (200, &json!(false)),
        "{}",
        w.body
    );
    let (_, body) = contact(&ws, "u-w");
    assert_eq!(
        (&body["user"]["verified"], &body["user"]["name"]),
        (&json!(false), &json!("Wanda"))
    );
}

/// A company of `ws` with its renewal date in its context, written by the company's server.
fn company_renewing(ws: &Workspace, company_id: &str, date: &str) {
    let r = call(
        app(),
        "POST",
        "/api/sdk/companies/identify",
        Some(&ws.secret_key),
        Some(json!({
            "company_id": company_id,
            "plan": "enterprise",
            "context": { "renewal": { "label": "Contract renewal date", "value": date } },
        })),
    );
    assert_eq!(r.status, 200, "{}", r.body);
}

#[test]
fn with_verification_on_only_the_token_ties_a_user_to_a_company() {
    let app = app();
    let ws = app.workspace();
    require_verification(&ws, true);
    company_renewing(&ws, "acme", "March 3, 2027");
    company_renewing(&ws, "rival", "July 9, 2027");
    let question = "when does our contract renew?";

    // A member the token vouches for reads their own company's data.
    let member = user_token(&ws, json!({ "user_id": "u-acme", "company_id": "acme" }));
    let r = ws.chat(json!({ "message": question, "user_id": "u-acme", "user_token": member, "company_id": "rival" }));
    assert_eq!(r.status, 200, "{}", r.body);
    let text = r.body["text"].as_str().unwrap_or_default();
    assert!(text.contains("March 3, 2027"), "{text}");
    assert!(!text.contains("July 9"), "{text}");
    assert_eq!(
        r.body["warnings"][0]["code"], "company_not_verified",
        "{}",
        r.body
    );
    assert_eq!(contact(&ws, "u-acme").1["company"]["company_id"], "acme");

    // A page can name any company: a visitor, or a verified user with no company claim,
    // neither reads it nor is tied to it.
    let loner = user_token(&ws, json!({ "user_id": "u-loner" }));
    for body in [
        json!({ "message": question, "company_id": "rival" }),
        json!({ "message": question, "user_id": "u-loner", "user_token": loner, "company_id": "rival" }),
    ] {
        let r = ws.chat(body);
        assert_eq!(r.status, 200, "the message is answered: {}", r.body);
        let text = r.body["text"].as_str().unwrap_or_default();
        assert!(!text.contains("July 9"), "another company's data: {text}");
        assert_eq!(
            (
                &r.body["warnings"][0]["field"],
                &r.body["warnings"][0]["code"]
            ),
            (&json!("company_id"), &json!("company_not_verified")),
            "{}",
            r.body
        );
    }
    let w = call(
        app,
        "POST",
        "/api/sdk/widget/identify",
        Some(&ws.widget_key),
        Some(
            json!({ "user_id": "u-loner", "user_token": loner, "company": { "company_id": "rival", "plan": "free" } }),
        ),
    );
    assert_eq!(w.status, 200, "{}", w.body);
    assert_eq!(w.body["warnings"][0]["field"], "company", "{}", w.body);
    let (_, body) = contact(&ws, "u-loner");
    assert_eq!(body["user"]["verified"], json!(true));
    assert!(body["company"].is_null(), "not tied to the company: {body}");
    let rival = call(
        app,
        "GET",
        "/api/sdk/companies/rival",
        Some(&ws.secret_key),
        None,
    );
    assert_eq!(
        rival.body["company"]["plan"], "enterprise",
        "its traits untouched: {}",
        rival.body
    );

    // A link the company's server made stands without a claim: the AI reads that company,
    // and the ticket the user asks for is the company's.
    let r = call(
        app,
        "POST",
        "/api/sdk/users/identify",
        Some(&ws.secret_key),
        Some(json!({ "user_id": "u-linked", "company_id": "acme" })),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let linked = user_token(&ws, json!({ "user_id": "u-linked" }));
    let r = ws.chat(json!({ "message": question, "user_id": "u-linked", "user_token": linked, "company_id": "rival" }));
    let text = r.body["text"].as_str().unwrap_or_default();
    assert!(
        text.contains("March 3, 2027") && !text.contains("July 9"),
        "{text}"
    );
    let session = r.body["session_id"].as_str().expect("session").to_owned();
    // The page naming the linked company itself is no warning: that company is used.
    let r = ws.chat(json!({ "message": question, "user_id": "u-linked", "user_token": linked, "company_id": "acme", "session_id": session }));
    assert!(r.body.get("warnings").is_none(), "{}", r.body);
    let r = ws.chat(json!({ "message": "I want to talk to a person", "user_id": "u-linked", "user_token": linked, "session_id": session }));
    assert_eq!(r.status, 200, "{}", r.body);
    let tickets = call(app, "GET", "/api/sdk/tickets", Some(&ws.secret_key), None);
    let ticket = tickets.body["tickets"]
        .as_array()
        .and_then(|all| all.iter().find(|t| t["user_id"] == "u-linked"))
        .unwrap_or_else(|| panic!("the user's ticket: {}", tickets.body));
    assert_eq!(ticket["company_id"], "acme", "{ticket}");

    // Without verification the page is trusted, for the company as for the user.
    require_verification(&ws, false);
    let r = ws.chat(json!({ "message": question, "company_id": "rival" }));
    let text = r.body["text"].as_str().unwrap_or_default();
    assert!(text.contains("July 9, 2027"), "{text}");
}
