//! The console's one client of the API: same-origin JSON requests that carry the session
//! cookie (the browser adds it; the console never sees it), answers read into `halo-shared`'s
//! types, and the JSON error shape turned into a message to show.

use serde::de::DeserializeOwned;
use serde_json::Value;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{RequestInit, Response};

/// A refused or failed request, as the teammate is told.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// The HTTP status, 0 when the server was not reached.
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl Failure {
    fn offline() -> Failure {
        Failure {
            status: 0,
            code: "offline".into(),
            message: "Halo cannot be reached. Check the connection and try again.".into(),
        }
    }

    /// The session is over (or never was): the console shows the sign-in page.
    pub fn signed_out(&self) -> bool {
        self.status == 401
    }
}

async fn fetch(method: &str, path: &str, body: Option<&Value>) -> Result<(u16, String), Failure> {
    let window = web_sys::window().ok_or_else(Failure::offline)?;
    let init = RequestInit::new();
    init.set_method(method);
    if let Some(b) = body {
        init.set_body(&b.to_string().into());
        let headers = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&headers, &"content-type".into(), &"application/json".into());
        init.set_headers(&headers);
    }
    let resp = JsFuture::from(window.fetch_with_str_and_init(path, &init))
        .await
        .map_err(|_| Failure::offline())?;
    let resp: Response = resp.dyn_into().map_err(|_| Failure::offline())?;
    let text = match resp.text() {
        Ok(p) => JsFuture::from(p)
            .await
            .ok()
            .and_then(|t| t.as_string())
            .unwrap_or_default(),
        Err(_) => String::new(),
    };
    Ok((resp.status(), text))
}

fn failure(status: u16, text: &str) -> Failure {
    let v: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    let e = &v["error"];
    Failure {
        status,
        code: e["code"].as_str().unwrap_or("error").to_owned(),
        message: e["message"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| format!("The request failed ({status}).")),
    }
}

/// Sends a request and reads a 2xx answer as `T`.
pub async fn call<T: DeserializeOwned>(
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> Result<T, Failure> {
    let (status, text) = fetch(method, path, body).await?;
    if !(200..300).contains(&status) {
        return Err(failure(status, &text));
    }
    serde_json::from_str(&text).map_err(|e| Failure {
        status,
        code: "unexpected_answer".into(),
        message: format!("The answer could not be read: {e}"),
    })
}

pub async fn get<T: DeserializeOwned>(path: &str) -> Result<T, Failure> {
    call("GET", path, None).await
}

pub async fn post<T: DeserializeOwned>(path: &str, body: &Value) -> Result<T, Failure> {
    call("POST", path, Some(body)).await
}

pub async fn patch<T: DeserializeOwned>(path: &str, body: &Value) -> Result<T, Failure> {
    call("PATCH", path, Some(body)).await
}

/// A query-string value, percent-encoded.
pub fn encode(s: &str) -> String {
    js_sys::encode_uri_component(s).into()
}

/// Waits `ms` milliseconds (for polling).
pub async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = JsFuture::from(promise).await;
}

/// Puts `text` on the clipboard (the browser may refuse: the text stays selectable).
pub fn copy(text: &str) {
    let Some(w) = web_sys::window() else { return };
    let clipboard = js_sys::Reflect::get(&w.navigator(), &"clipboard".into()).ok();
    let write = clipboard
        .as_ref()
        .and_then(|c| js_sys::Reflect::get(c, &"writeText".into()).ok())
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
    if let (Some(c), Some(f)) = (clipboard, write) {
        let _ = f.call1(&c, &text.into());
    }
}
