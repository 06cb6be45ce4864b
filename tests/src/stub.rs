//! One stub HTTP server for every outbound peer the Worker calls in tests (a model provider,
//! a webhook receiver, a help site to crawl): it reads each request whole, keeps it, and
//! answers what the test's handler says.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A request the stub received.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    /// Header names lower-cased, values trimmed.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Received {
    /// A header's value, by its lower-case name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// What the stub answers.
pub enum Answer {
    /// A whole body.
    Whole {
        status: u16,
        content_type: String,
        body: String,
    },
    /// A 200 sent in parts, each after its pause (a streamed model answer).
    Parts {
        content_type: String,
        parts: Vec<(Duration, String)>,
    },
    /// No answer at all for this long, then the connection closes (a provider that hangs).
    Hang(Duration),
}

impl Answer {
    pub fn new(status: u16, content_type: &str, body: impl Into<String>) -> Self {
        Answer::Whole {
            status,
            content_type: content_type.to_owned(),
            body: body.into(),
        }
    }

    pub fn json(status: u16, body: &serde_json::Value) -> Self {
        Answer::new(status, "application/json", body.to_string())
    }
}

/// A running stub: its port and every request it received, in order.
pub struct Stub {
    pub port: u16,
    pub received: Arc<Mutex<Vec<Received>>>,
}

impl Stub {
    /// Serves on a free loopback port, one thread per connection, for the life of the tests.
    pub fn start(handler: impl Fn(&Received) -> Answer + Send + Sync + 'static) -> Stub {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("a local address").port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let (keep, handler) = (received.clone(), Arc::new(handler));
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (keep, handler) = (keep.clone(), handler.clone());
                std::thread::spawn(move || {
                    if let Some(request) = read(&stream) {
                        keep.lock().unwrap().push(request.clone());
                        answer(stream, handler(&request));
                    }
                });
            }
        });
        Stub { port, received }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The requests received so far.
    pub fn requests(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

fn read(stream: &TcpStream) -> Option<Received> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut words = line.split_whitespace();
    let method = words.next()?.to_owned();
    let path = words.next().unwrap_or("/").to_owned();
    let (mut headers, mut length) = (Vec::new(), 0usize);
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim().to_owned());
            if k == "content-length" {
                length = v.parse().unwrap_or(0);
            }
            headers.push((k, v));
        }
    }
    let mut body = vec![0u8; length];
    let _ = reader.read_exact(&mut body);
    Some(Received {
        method,
        path,
        headers,
        body,
    })
}

fn answer(mut stream: TcpStream, answer: Answer) {
    match answer {
        Answer::Whole {
            status,
            content_type,
            body,
        } => {
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
        Answer::Parts {
            content_type,
            parts,
        } => {
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\nconnection: close\r\n\r\n"
            );
            for (pause, part) in parts {
                std::thread::sleep(pause);
                let _ = stream.write_all(part.as_bytes());
                let _ = stream.flush();
            }
        }
        Answer::Hang(pause) => std::thread::sleep(pause),
    }
}
