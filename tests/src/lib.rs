//! A `spawn_app`-style harness: starts the real Worker under `wrangler dev` (real workerd, real
//! local D1) on free ports with a fresh database, and gives tests a small HTTP client.
//!
//! Each `wrangler dev` runs under a watchdog shell in its own process group: when the test
//! process exits, the watchdog stops the whole group, so no server outlives the run.

pub mod corpora;
pub mod scenarios;
pub mod stub;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the repo")
        .to_path_buf()
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn wrangler() -> PathBuf {
    root().join("node_modules/.bin/wrangler")
}

fn tool_env(cmd: &mut Command, state: &Path) {
    cmd.current_dir(root())
        .env("WRANGLER_SEND_METRICS", "false")
        .env("XDG_CONFIG_HOME", state.join("config"))
        .env("HALO_SKIP_BUILD", "1")
        .env("NO_COLOR", "1");
}

/// A command for `program` run under a watchdog shell in its own process group: when this
/// test process exits, the watchdog stops the whole group. Add the program's arguments.
fn watched(program: &Path) -> Command {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(r#"parent=$1; shift; "$@" & child=$!; while kill -0 "$parent" 2>/dev/null && kill -0 "$child" 2>/dev/null; do sleep 0.5; done; kill -- -$$ 2>/dev/null"#)
        .arg("sh")
        .arg(std::process::id().to_string())
        .arg(program);
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    cmd
}

/// A running `wrangler dev`.
pub struct Server {
    pub base: String,
    pub admin_token: String,
    pub state_dir: PathBuf,
    vars: Vec<(String, String)>,
    child: Option<Child>,
    log_path: PathBuf,
}

impl Server {
    /// Starts the Worker with a fresh local D1 (migrations applied) and the given vars.
    pub fn start(vars: &[(&str, &str)]) -> Server {
        remove_stale_state();
        // Local D1 has, rarely and only under load, failed a migration with a bare internal
        // assertion ("false == true") that no rerun reproduces; a fresh database gets one more
        // try. A migration that is really broken fails both.
        let mut attempts = 0;
        let state_dir = loop {
            attempts += 1;
            let dir = std::env::temp_dir().join(format!(
                "halo-test-{}-{}",
                std::process::id(),
                free_port()
            ));
            std::fs::create_dir_all(&dir).expect("state dir");
            let mut migrate = Command::new(wrangler());
            migrate
                .args(["d1", "migrations", "apply", "DB", "--local", "--persist-to"])
                .arg(&dir);
            tool_env(&mut migrate, &dir);
            let out = migrate
                .output()
                .expect("wrangler runs (did setup install the npm tools?)");
            let stderr = String::from_utf8_lossy(&out.stderr);
            if out.status.success() {
                break dir;
            }
            assert!(attempts < 2, "migrations failed twice: {stderr}");
            eprintln!("migrations failed, retrying on a fresh database: {stderr}");
            let _ = std::fs::remove_dir_all(&dir);
        };

        let admin_token = format!("test-admin-{}", free_port());
        // Every response says how many D1 round trips it waited on (edge/entry.mjs).
        let mut all: Vec<(String, String)> = vec![
            ("ADMIN_TOKEN".into(), admin_token.clone()),
            ("HALO_DEBUG_D1".into(), "1".into()),
        ];
        all.extend(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let mut server = Server {
            base: String::new(),
            admin_token,
            state_dir,
            vars: all,
            child: None,
            log_path: PathBuf::new(),
        };
        server.boot();
        server
    }

    fn boot(&mut self) {
        // Ports are picked free but could be taken by a parallel server before wrangler binds
        // them; that case is retried, never more than twice. workerd has also, once in a CI
        // run with four servers starting at once, exited at start with nothing but "The
        // Workers runtime failed to start": that start is retried the same way. A Worker that
        // cannot start fails all three.
        for _ in 0..3 {
            match self.try_boot() {
                Ok(()) => return,
                Err(log)
                    if log.contains("EADDRINUSE")
                        || log.contains("already in use")
                        || log.contains("The Workers runtime failed to start") =>
                {
                    eprintln!("wrangler dev did not start, trying again: {log}");
                    self.stop()
                }
                Err(log) => panic!("{log}"),
            }
        }
        panic!("wrangler dev did not start in 3 attempts");
    }

    fn try_boot(&mut self) -> Result<(), String> {
        let port = free_port();
        // Vars go in an env file: it replaces .dev.vars, so a developer's local secrets never
        // leak into a test run.
        let env_file = self.state_dir.join("test.env");
        let lines: String = self
            .vars
            .iter()
            .map(|(k, v)| format!("{k}=\"{v}\"\n"))
            .collect();
        std::fs::write(&env_file, lines).expect("env file");
        let log_path = self.state_dir.join(format!("wrangler-{port}.log"));
        let log = std::fs::File::create(&log_path).expect("log file");
        self.log_path = log_path.clone();
        let mut cmd = watched(&wrangler());
        cmd.args([
            "dev",
            "--ip",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--inspector-port",
            &free_port().to_string(),
        ])
        .args([
            "--show-interactive-dev-session=false",
            "--test-scheduled",
            "--log-level",
            "warn",
            "--persist-to",
        ])
        .arg(&self.state_dir)
        .arg("--env-file")
        .arg(&env_file)
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log"))
        .stderr(log);
        tool_env(&mut cmd, &self.state_dir);
        self.child = Some(cmd.spawn().expect("wrangler dev starts"));
        self.base = format!("http://127.0.0.1:{port}");
        let log_tail = |why: &str| {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            let lines: Vec<&str> = log.lines().collect();
            let tail = lines[lines.len().saturating_sub(40)..].join("\n");
            format!(
                "wrangler dev {why}; its log ({}):\n{tail}",
                log_path.display()
            )
        };
        // Ready means *this* server answers: our admin token opens the admin API (404 for a
        // workspace that does not exist), which another test's server would refuse.
        let probe = format!(
            "/api/admin/workspaces/{}",
            "00000000-0000-4000-8000-000000000000"
        );
        let deadline = Instant::now() + Duration::from_secs(90);
        while Instant::now() < deadline {
            if let Some(Ok(Some(_))) = self.child.as_mut().map(Child::try_wait) {
                return Err(log_tail("exited before it was ready"));
            }
            let probe_req = agent()
                .get(self.url(&probe))
                .header("authorization", format!("Bearer {}", self.admin_token))
                .call();
            // Only the Worker's own JSON 404 counts: another program that took the port
            // meanwhile (a model peer, a stub) answers 404 to an unknown path too.
            let ours = probe_req
                .ok()
                .filter(|r| r.status() == 404)
                .is_some_and(|mut r| {
                    r.body_mut()
                        .read_to_string()
                        .is_ok_and(|b| b.contains("No such workspace."))
                });
            if ours {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Err(log_tail("did not become ready in 90 s"))
    }

    /// The Worker's warnings and errors so far (wrangler's log at `--log-level warn`), for a
    /// failing test to say why.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// Stops the server (its whole process group) and waits for it.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .arg("--")
                .arg(format!("-{}", child.id()))
                .status();
            let _ = child.wait();
        }
    }

    /// Stops and starts again on the same local database.
    pub fn restart(&mut self) {
        self.stop();
        self.boot();
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A new workspace with its keys, through the admin API.
    pub fn workspace(&self) -> Workspace {
        self.workspace_with(json!({ "name": "Test workspace" }))
    }

    pub fn workspace_with(&self, body: Value) -> Workspace {
        let r = call(
            self,
            "POST",
            "/api/admin/workspaces",
            Some(&self.admin_token),
            Some(body),
        );
        assert_eq!(r.status, 201, "creating a workspace: {}", r.body);
        let s = |k: &str| r.body[k].as_str().expect(k).to_owned();
        Workspace {
            base: self.base.clone(),
            admin_token: self.admin_token.clone(),
            org_id: s("org_id"),
            widget_key: s("widget_key"),
            secret_key: s("secret_key"),
            identity_secret: s("identity_secret"),
            agent_id: s("agent_id"),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.state_dir);
        }
    }
}

/// Removes the state of servers from earlier runs whose test process is gone (shared servers
/// live in statics, which are never dropped).
fn remove_stale_state() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix("halo-test-")
            .and_then(|r| r.split('-').next())
        else {
            continue;
        };
        if !Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// The server most tests share: offline engine, no LLM configured.
pub fn app() -> &'static Server {
    static APP: OnceLock<Server> = OnceLock::new();
    APP.get_or_init(|| Server::start(&[]))
}

/// A workspace's ids and keys as the admin API returned them.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// The server it lives on, and that server's operator token.
    pub base: String,
    pub admin_token: String,
    pub org_id: String,
    pub widget_key: String,
    pub secret_key: String,
    pub identity_secret: String,
    pub agent_id: String,
}

/// An HTTP answer: status, JSON body (or `Value::Null`), and headers.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub headers: Vec<(String, String)>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The error object's `(code, field)`.
    pub fn error(&self) -> (String, Option<String>) {
        let e = &self.body["error"];
        (
            e["code"].as_str().unwrap_or("").to_owned(),
            e["field"].as_str().map(str::to_owned),
        )
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

/// Sends a request with an optional bearer token and JSON body.
pub fn call(
    server: &Server,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Reply {
    send(
        server,
        method,
        path,
        token,
        &[],
        body.map(|b| b.to_string()),
    )
}

/// Sends a request with extra headers and a raw body.
pub fn send(
    server: &Server,
    method: &str,
    path: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<String>,
) -> Reply {
    send_to(&server.base, method, path, token, headers, body)
}

/// [`send`] to the server at `base`.
fn send_to(
    base: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<String>,
) -> Reply {
    let mut req = ureq::http::Request::builder()
        .method(method)
        .uri(format!("{base}{path}"));
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let has_body = body.is_some();
    let req = req
        .header("content-type", "application/json")
        .body(body.unwrap_or_default())
        .expect("request");
    let agent = agent();
    let resp = if has_body || method != "GET" {
        agent.run(req)
    } else {
        agent.run(req.map(|_| ()))
    }
    .expect("the server answers");
    reply_of(resp)
}

/// POSTs `body` as it is, with `content_type`, to `base` + `path` (an email, a form).
pub fn post_raw(base: &str, path: &str, content_type: &str, body: &[u8]) -> Reply {
    let req = ureq::http::Request::builder()
        .method("POST")
        .uri(format!("{base}{path}"))
        .header("content-type", content_type)
        .body(body.to_vec())
        .expect("request");
    reply_of(agent().run(req).expect("the server answers"))
}

/// A response as a [`Reply`]: status, JSON body (or `Value::Null`), headers.
fn reply_of(mut resp: ureq::http::Response<ureq::Body>) -> Reply {
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().unwrap_or_default();
    Reply {
        status,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
        headers,
    }
}

impl Workspace {
    /// Sends a request to the workspace's server with `token` and a JSON body.
    pub fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        send_to(
            &self.base,
            method,
            path,
            token,
            &[],
            body.map(|b| b.to_string()),
        )
    }

    /// [`Workspace::call`] with extra headers (an `Origin`, an `If-None-Match`).
    pub fn call_with(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Reply {
        send_to(
            &self.base,
            method,
            path,
            token,
            headers,
            body.map(|b| b.to_string()),
        )
    }

    /// Posts a chat message with the widget key.
    pub fn chat(&self, body: Value) -> Reply {
        self.call("POST", "/api/sdk/chat", Some(&self.widget_key), Some(body))
    }

    /// Adds a knowledge article with the secret key.
    pub fn add_source(&self, title: &str, url: &str, content: &str) {
        let r = self.call(
            "POST",
            "/api/sdk/knowledge/sources",
            Some(&self.secret_key),
            Some(json!({ "title": title, "url": url, "content": content })),
        );
        assert_eq!(r.status, 201, "adding an article: {}", r.body);
    }

    /// The knowledge search's hits for `q` in `mode` (asserting the search answered 200).
    pub fn search(&self, q: &str, mode: &str) -> Vec<Value> {
        let path = format!(
            "/api/sdk/knowledge/search?q={}&mode={mode}",
            percent_encode(q)
        );
        let r = self.call("GET", &path, Some(&self.secret_key), None);
        assert_eq!(r.status, 200, "{}", r.body);
        r.body["results"].as_array().cloned().unwrap_or_default()
    }

    /// The transcript of a session, read with the secret key.
    pub fn conversation(&self, session_id: &str) -> Reply {
        self.call(
            "GET",
            &format!("/api/sdk/conversations/{session_id}"),
            Some(&self.secret_key),
            None,
        )
    }
}

impl Reply {
    /// The session a chat reply names.
    pub fn session_id(&self) -> &str {
        self.body["session_id"]
            .as_str()
            .expect("the reply names its session")
    }
}

/// Signs a JWT with HMAC-SHA256 over whatever header and claims it is given, as a customer's
/// server would (or as an attacker would, with a forged header).
pub fn sign_jwt(header: &Value, claims: &Value, secret: &str) -> String {
    use base64::Engine;
    use hmac::Mac;
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let mut mac =
        hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(input.as_bytes());
    format!("{input}.{}", b64(&mac.finalize().into_bytes()))
}

/// A valid user token for `claims`, signed with the workspace's identity secret.
pub fn user_token(ws: &Workspace, claims: Value) -> String {
    sign_jwt(
        &json!({ "alg": "HS256", "typ": "JWT" }),
        &claims,
        &ws.identity_secret,
    )
}

/// Seconds since the Unix epoch.
pub fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Percent-encodes `s` for a URL query value.
pub fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn tools_dir() -> PathBuf {
    std::env::var("HALO_TOOLS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".local/share/halo-tools")
        })
}

/// Starts scripts/embed-server.py with `args` on a free port and waits until it embeds;
/// the watchdog stops it when the test process ends. `None` without the embeddings venv.
fn start_embed_server(args: &[&str]) -> Option<String> {
    let python = tools_dir().join("venv/bin/python");
    if !python.exists() {
        return None;
    }
    let port = free_port();
    let mut cmd = watched(&python);
    cmd.arg(root().join("scripts/embed-server.py"))
        .args(["--port", &port.to_string()])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // Kept for the life of the run.
    static CHILDREN: std::sync::Mutex<Vec<Child>> = std::sync::Mutex::new(Vec::new());
    CHILDREN
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(cmd.spawn().expect("the embed server starts"));

    let base = format!("http://127.0.0.1:{port}/v1");
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        let probe = agent()
            .post(format!("{base}/embeddings"))
            .header("content-type", "application/json")
            .send(r#"{"input":"ready?"}"#);
        if probe.is_ok_and(|r| r.status() == 200) {
            return Some(base);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("the embed server did not become ready");
}

/// The offline embedding server (scripts/embed-server.py, MiniLM on onnxruntime) on a free
/// port, under the same watchdog as `wrangler dev`. `None` when its venv is not installed
/// (`scripts/setup.sh --embeddings`).
pub fn embed_server() -> Option<&'static str> {
    static BASE: OnceLock<Option<String>> = OnceLock::new();
    BASE.get_or_init(|| start_embed_server(&[])).as_deref()
}

/// A MiniLM server of the caller's own, that no other test's embedding waits on (for a test
/// of a call's outcome rather than of search); `None` as for [`embed_server`].
pub fn own_embed_server() -> Option<String> {
    start_embed_server(&[])
}

/// The Worker's settings for EmbeddingGemma-300M served by scripts/embed-server.py, when
/// `scripts/setup.sh --gemma` installed it (else `None`): its URL, its name, its prompts,
/// and a timeout for a batch of 32 passages at over a second each.
pub fn gemma_server() -> Option<Vec<(&'static str, &'static str)>> {
    static BASE: OnceLock<Option<String>> = OnceLock::new();
    let base = BASE.get_or_init(|| {
        let dir = tools_dir().join("embeddinggemma/model_download");
        if !dir.join("model.safetensors").exists() {
            return None;
        }
        let dir = dir.to_string_lossy().into_owned();
        start_embed_server(&["--model", "embeddinggemma", "--model-dir", &dir])
    });
    Some(vec![
        ("EMBEDDINGS_BASE_URL", base.as_deref()?),
        ("EMBEDDINGS_MODEL", "embeddinggemma-300m"),
        ("EMBEDDINGS_QUERY_PREFIX", "task: search result | query:"),
        ("EMBEDDINGS_DOCUMENT_PREFIX", "title: none | text:"),
        ("EMBEDDINGS_TIMEOUT_MS", "120000"),
    ])
}

/// A teammate of `ws` made through the admin API: `(teammate_id, inbox token)`.
pub fn teammate(ws: &Workspace, name: &str) -> (String, String) {
    teammate_on(app(), ws, name)
}

/// [`teammate`] on another server.
pub fn teammate_on(server: &Server, ws: &Workspace, name: &str) -> (String, String) {
    let r = call(
        server,
        "POST",
        &format!("/api/admin/workspaces/{}/teammates", ws.org_id),
        Some(&server.admin_token),
        Some(json!({ "name": name })),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let token = r.body["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("tm_live_") && token.len() == 8 + 64);
    (r.body["teammate_id"].as_str().unwrap().to_owned(), token)
}

/// A WebSocket client connected to `path` on the server.
pub type Socket = tungstenite::WebSocket<std::net::TcpStream>;

/// Opens a WebSocket to `path` (query string included); `Err` carries the HTTP status of a
/// refused upgrade.
pub fn live_socket(server: &Server, path: &str) -> Result<Socket, u16> {
    live_socket_with(server, path, &[])
}

/// [`live_socket`] with extra handshake headers (a browser's cookie and origin).
pub fn live_socket_with(
    server: &Server,
    path: &str,
    headers: &[(&str, &str)],
) -> Result<Socket, u16> {
    use tungstenite::client::IntoClientRequest;
    let url = format!("{}{path}", server.base.replacen("http://", "ws://", 1));
    let addr = server.base.trim_start_matches("http://").to_owned();
    let stream = std::net::TcpStream::connect(addr).expect("connect to wrangler dev");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let mut request = url.as_str().into_client_request().expect("a websocket URL");
    for (k, v) in headers {
        request.headers_mut().insert(
            tungstenite::http::HeaderName::from_bytes(k.as_bytes()).expect("a header name"),
            v.parse().expect("a header value"),
        );
    }
    match tungstenite::client(request, stream) {
        Ok((socket, _)) => Ok(socket),
        Err(tungstenite::HandshakeError::Failure(tungstenite::Error::Http(r))) => {
            Err(r.status().as_u16())
        }
        Err(e) => panic!("websocket handshake to {path} failed: {e}"),
    }
}

/// The next JSON event on a socket within `wait`, or `None` if none came.
/// Whether the server closes `socket` within `wait` (events before the close are skipped).
pub fn socket_closes(socket: &mut Socket, wait: std::time::Duration) -> bool {
    let until = Instant::now() + wait;
    while Instant::now() < until {
        socket
            .get_ref()
            .set_read_timeout(Some(std::time::Duration::from_millis(200)))
            .unwrap();
        match socket.read() {
            Ok(tungstenite::Message::Close(_)) => return true,
            Ok(_) => continue,
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                continue
            }
            Err(_) => return true,
        }
    }
    false
}

pub fn next_event(socket: &mut Socket, wait: std::time::Duration) -> Option<Value> {
    socket.get_ref().set_read_timeout(Some(wait)).unwrap();
    loop {
        match socket.read() {
            Ok(tungstenite::Message::Text(t)) => {
                return Some(serde_json::from_str(t.as_str()).expect("events are JSON"))
            }
            Ok(_) => continue,
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return None
            }
            Err(e) => panic!("reading the socket failed: {e}"),
        }
    }
}

/// A real local model server (scripts/llm-server.py: llama.cpp's OpenAI-compatible server
/// with SmolLM2-135M, installed by `setup.sh --llm`) on a free port.
pub struct ModelServer {
    /// `http://127.0.0.1:<port>/v1`
    pub base: String,
    child: Child,
}

impl ModelServer {
    pub fn start() -> ModelServer {
        let tools = tools_dir();
        let python = tools.join("llm-venv/bin/python");
        assert!(
            python.exists(),
            "no local model server: run `bash scripts/setup.sh --llm` (make test does)"
        );
        let port = free_port();
        let mut cmd = watched(&python);
        cmd.arg(root().join("scripts/llm-server.py"))
            .args(["--port", &port.to_string(), "--threads", "1"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = cmd.spawn().expect("the model server starts");
        let server = ModelServer {
            base: format!("http://127.0.0.1:{port}/v1"),
            child,
        };
        let deadline = Instant::now() + Duration::from_secs(90);
        while Instant::now() < deadline {
            let probe = agent().get(format!("{}/models", server.base)).call();
            if probe.is_ok_and(|r| r.status() == 200) {
                return server;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        panic!("the model server did not become ready");
    }

    /// Kills it at once, its whole process group, as a crash would.
    pub fn kill(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for ModelServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A browser's view of the console: the session cookie it holds, and the origin it sends
/// (the console's own, unless a test says otherwise).
#[derive(Debug, Clone)]
pub struct ConsoleSession {
    pub base: String,
    pub cookie: String,
}

/// The session cookie (`__Host-halo_session=…`) a reply sets, if it sets one with a value.
pub fn session_cookie_of(reply: &Reply) -> Option<String> {
    let set = reply.header("set-cookie")?;
    let pair = set.split(';').next()?.trim();
    let (name, value) = pair.split_once('=')?;
    (name == "__Host-halo_session" && !value.is_empty()).then(|| pair.to_owned())
}

impl ConsoleSession {
    /// A request with the cookie, from the console's own origin.
    pub fn call(&self, method: &str, path: &str, body: Option<Value>) -> Reply {
        self.call_from(Some(&self.base), method, path, body)
    }

    /// A request with the cookie and `origin` as the `Origin` header (`None`: no header).
    pub fn call_from(
        &self,
        origin: Option<&str>,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Reply {
        let mut headers = vec![("cookie", self.cookie.as_str())];
        if let Some(o) = origin {
            headers.push(("origin", o));
        }
        send_to(
            &self.base,
            method,
            path,
            None,
            &headers,
            body.map(|b| b.to_string()),
        )
    }
}

/// Signs in at `/api/console/signin` from the console's origin.
pub fn console_sign_in(base: &str, email: &str, password: &str) -> Reply {
    send_to(
        base,
        "POST",
        "/api/console/signin",
        None,
        &[("origin", base)],
        Some(json!({ "email": email, "password": password }).to_string()),
    )
}

/// The path of a console link (`http://host/app/invite/tl_…` -> `/app/invite/tl_…`).
pub fn link_path(url: &str) -> String {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    after_scheme[after_scheme.find('/').unwrap_or(after_scheme.len())..].to_owned()
}

impl Workspace {
    /// A teammate added by the operator with an email and role: `(teammate_id, invite URL)`.
    pub fn invited(&self, email: &str, role: &str) -> (String, String) {
        let r = send_to(
            &self.base,
            "POST",
            &format!("/api/admin/workspaces/{}/teammates", self.org_id),
            Some(&self.admin_token),
            &[],
            Some(json!({ "name": "Invited", "email": email, "role": role }).to_string()),
        );
        assert_eq!(r.status, 201, "{}", r.body);
        (
            r.body["teammate_id"].as_str().unwrap().to_owned(),
            r.body["invite_url"].as_str().unwrap().to_owned(),
        )
    }

    /// Accepts an invite with `name` and `password`; the reply carries the session cookie.
    pub fn accept(&self, invite_url: &str, name: &str, password: &str) -> Reply {
        let token = invite_url.rsplit('/').next().unwrap();
        send_to(
            &self.base,
            "POST",
            &format!("/api/console/invites/{token}"),
            None,
            &[("origin", &self.base)],
            Some(json!({ "name": name, "password": password }).to_string()),
        )
    }

    /// A teammate of `role` who accepted their invite and is signed in: their id, email and
    /// session. The password is `correct horse battery`.
    pub fn signed_in(&self, role: &str) -> (String, String, ConsoleSession) {
        let email = format!("{role}-{}@example.com", &self.org_id[..8]);
        let (id, url) = self.invited(&email, role);
        let r = self.accept(&url, &format!("{role} teammate"), "correct horse battery");
        assert_eq!(r.status, 201, "{}", r.body);
        let cookie = session_cookie_of(&r).expect("the accepted invite sets a session cookie");
        let session = ConsoleSession {
            base: self.base.clone(),
            cookie,
        };
        (id, email, session)
    }
}

impl Server {
    /// The SQLite file behind the server's local D1.
    pub fn d1_file(&self) -> PathBuf {
        let d1 = self.state_dir.join("v3").join("d1");
        std::fs::read_dir(d1.join("miniflare-D1DatabaseObject"))
            .expect("the local D1 directory")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| {
                p.extension().is_some_and(|x| x == "sqlite")
                    && p.file_stem().is_some_and(|s| s != "metadata")
            })
            .expect("the local D1 database file")
    }
}

static AGING: OnceLock<Server> = OnceLock::new();

/// A server of its own for tests that age rows with [`Server::age`], one at a time (the guard):
/// the local D1 refuses a write while another process holds the file, so nothing else may be
/// writing when a test reaches into it.
pub fn aging_server() -> (&'static Server, std::sync::MutexGuard<'static, ()>) {
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let guard = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    (AGING.get_or_init(|| Server::start(&[])), guard)
}

impl Server {
    /// Runs one SQL statement with `params` on the server's local D1 file, as time passing
    /// would (an invite or a session reaching its expiry): the only way a test can age a row.
    pub fn age(&self, sql: &str, params: &[&str]) {
        let file = self.d1_file();
        let script = "import sqlite3, sys\nc = sqlite3.connect(sys.argv[1], timeout=10)\nn = c.execute(sys.argv[2], sys.argv[3:]).rowcount\nc.commit()\nassert n > 0, 'no row changed'\n";
        let out = Command::new("python3")
            .args(["-c", script])
            .arg(&file)
            .arg(sql)
            .args(params)
            .output()
            .expect("python3 runs");
        assert!(
            out.status.success(),
            "{sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The body of a plain GET of `url`, as text (pages, not API answers).
pub fn get_text(url: &str) -> String {
    agent()
        .get(url)
        .call()
        .expect("the server answers")
        .body_mut()
        .read_to_string()
        .unwrap_or_default()
}

/// Runs a browser test script (`tests/browser/<script>`) with `args`; its log is printed, and a
/// failing script fails the calling test with it.
pub fn browser_test(script: &str, args: &[&str]) {
    let out = Command::new("node")
        .arg(root().join("tests/browser").join(script))
        .args(args)
        .output()
        .expect("node runs");
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{log}");
    assert!(out.status.success(), "browser test {script} failed:\n{log}");
}
