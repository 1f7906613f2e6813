//! A real, minimal HTTP/1.1 server on 127.0.0.1 for tests: canned responses
//! per path, optional Basic auth, per-path hit counts, optional delays.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// What the server answers for one path.
#[derive(Clone, Debug)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
    /// Sleep this long before answering (for client timeout tests).
    pub delay: Option<Duration>,
}

impl Response {
    /// 200 with `body`.
    pub fn ok(body: impl Into<Vec<u8>>) -> Response {
        Response {
            status: 200,
            body: body.into(),
            delay: None,
        }
    }

    /// `code` with an empty body.
    pub fn status(code: u16) -> Response {
        Response {
            status: code,
            body: Vec::new(),
            delay: None,
        }
    }

    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> Response {
        self.body = body.into();
        self
    }

    pub fn with_delay(mut self, delay: Duration) -> Response {
        self.delay = Some(delay);
        self
    }
}

#[derive(Default)]
struct State {
    routes: HashMap<String, Response>,
    hits: HashMap<String, usize>,
    /// Expected `Authorization` header value, when auth is required.
    auth: Option<String>,
}

/// HTTP server task; stops when dropped (or when the test's runtime ends).
pub struct HttpServer {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: JoinHandle<()>,
}

impl HttpServer {
    pub async fn start() -> HttpServer {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local_addr");
        let state = Arc::new(Mutex::new(State::default()));
        let task_state = state.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                // One task per connection so a delayed answer does not block others.
                tokio::spawn(serve(stream, task_state.clone()));
            }
        });
        HttpServer { addr, state, task }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT/<path>`; `path` may or may not start with '/'.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, normalise(path))
    }

    /// Answer `resp` for `path` (query strings are ignored when matching).
    pub fn set(&self, path: &str, resp: Response) {
        self.state
            .lock()
            .unwrap()
            .routes
            .insert(normalise(path), resp);
    }

    /// From now on, any request without these Basic credentials gets 401.
    pub fn require_basic_auth(&self, user: &str, pass: &str) {
        let value = format!("Basic {}", base64(format!("{user}:{pass}").as_bytes()));
        self.state.lock().unwrap().auth = Some(value);
    }

    /// Requests received for `path`, whatever was answered (401s included).
    pub fn hits(&self, path: &str) -> usize {
        self.state
            .lock()
            .unwrap()
            .hits
            .get(&normalise(path))
            .copied()
            .unwrap_or(0)
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// An http URL on 127.0.0.1 where nothing listens (connection refused).
/// The port was free a moment ago; another process could take it, but on a
/// test machine that is rare enough.
pub fn refused_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let port = listener.local_addr().expect("local_addr").port();
    drop(listener);
    format!("http://127.0.0.1:{port}/")
}

fn normalise(path: &str) -> String {
    let path = path.split('?').next().unwrap_or("");
    if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    }
}

async fn serve(mut stream: TcpStream, state: Arc<Mutex<State>>) {
    let Some((target, headers)) = read_request(&mut stream).await else {
        return;
    };
    let path = normalise(&target);

    let (resp, www_auth) = {
        let mut st = state.lock().unwrap();
        *st.hits.entry(path.clone()).or_default() += 1;
        let authorised = match &st.auth {
            None => true,
            Some(want) => header(&headers, "authorization") == Some(want.as_str()),
        };
        if !authorised {
            (Response::status(401).with_body("unauthorised"), true)
        } else {
            let resp = st.routes.get(&path).cloned();
            (
                resp.unwrap_or_else(|| Response::status(404).with_body("not found")),
                false,
            )
        }
    };

    if let Some(delay) = resp.delay {
        tokio::time::sleep(delay).await;
    }

    let mut head = format!(
        "HTTP/1.1 {} {}\r\nContent-Length: {}\r\nConnection: close\r\n",
        resp.status,
        reason(resp.status),
        resp.body.len()
    );
    if www_auth {
        head.push_str("WWW-Authenticate: Basic realm=\"test\"\r\n");
    }
    head.push_str("\r\n");
    // The client may have given up (timeout tests); write errors are expected then.
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(&resp.body).await;
    let _ = stream.shutdown().await;
}

/// Reads the request head (and discards any Content-Length body).
/// Returns the request target and lower-cased headers.
async fn read_request(stream: &mut TcpStream) -> Option<(String, Vec<(String, String)>)> {
    const MAX_HEAD: usize = 64 * 1024;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i;
        }
        if buf.len() > MAX_HEAD {
            return None;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let _method = request_line.next()?;
    let target = request_line.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();

    // Drain a request body so closing the socket does not reset the connection
    // before the client has read our answer.
    let body_len: usize = header(&headers, "content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut have = buf.len() - (head_end + 4);
    while have < body_len {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        have += n;
    }
    Some((target, headers))
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

/// Standard base64 with padding; small enough not to need a crate.
fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn base64_matches_rfc4648_vectors() {
    let cases = [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
    ];
    for (plain, want) in cases {
        assert_eq!(base64(plain.as_bytes()), want);
    }
}
