//! A real, minimal HTTP/1.1 server on 127.0.0.1 for tests, plain or over TLS
//! ([`HttpServer::start_tls`], the test CA's certificate): canned responses
//! per path (or a scripted sequence of them), extra response headers, optional
//! Basic auth, `If-None-Match` answered with 304, per-path hit counts and the
//! last request's headers, optional delays, and misbehaving bodies: chunked,
//! cut short (the connection dropped mid-body) or never finished.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// How the body goes out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyMode {
    /// `Content-Length` and the whole body.
    Whole,
    /// `Transfer-Encoding: chunked`, in chunks of this many bytes (no length announced).
    Chunked(usize),
    /// Announce the whole length, send only this many bytes, then close the connection.
    CutShort(usize),
    /// Announce the whole length, send half the body, then never send the rest.
    Hang,
}

/// What the server answers for one path.
#[derive(Clone, Debug)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
    /// Sleep this long before answering (for client timeout tests).
    pub delay: Option<Duration>,
    /// Extra response headers, e.g. `ETag`, `Last-Modified`, `Retry-After`.
    pub headers: Vec<(String, String)>,
    pub mode: BodyMode,
}

impl Response {
    /// 200 with `body`.
    pub fn ok(body: impl Into<Vec<u8>>) -> Response {
        Response {
            status: 200,
            body: body.into(),
            delay: None,
            headers: Vec::new(),
            mode: BodyMode::Whole,
        }
    }

    /// `code` with an empty body.
    pub fn status(code: u16) -> Response {
        Response {
            status: code,
            body: Vec::new(),
            delay: None,
            headers: Vec::new(),
            mode: BodyMode::Whole,
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

    /// Add a response header. An `ETag` also makes a matching `If-None-Match` get 304.
    pub fn with_header(mut self, name: &str, value: &str) -> Response {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn with_mode(mut self, mode: BodyMode) -> Response {
        self.mode = mode;
        self
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct State {
    /// Answers per path, in order; the last one repeats.
    routes: HashMap<String, VecDeque<Response>>,
    hits: HashMap<String, usize>,
    /// The headers of the latest request per path (names lower-cased).
    last_headers: HashMap<String, Vec<(String, String)>>,
    /// Expected `Authorization` header value, when auth is required.
    auth: Option<String>,
}

/// HTTP server task; stops when dropped (or when the test's runtime ends).
pub struct HttpServer {
    addr: SocketAddr,
    tls: bool,
    state: Arc<Mutex<State>>,
    task: JoinHandle<()>,
}

/// tests/fixtures/tls/server.pem and its key: 127.0.0.1 and localhost, signed by `ca.pem`
/// there (a source trusts it with `ca_file`).
fn test_tls_acceptor() -> TlsAcceptor {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls");
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(dir.join("server.pem"))
        .expect("read server.pem")
        .collect::<Result<_, _>>()
        .expect("parse server.pem");
    let key = PrivateKeyDer::from_pem_file(dir.join("server.key")).expect("read server.key");
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("server certificate and key");
    TlsAcceptor::from(Arc::new(config))
}

impl HttpServer {
    pub async fn start() -> HttpServer {
        HttpServer::start_with(None).await
    }

    /// The same server speaking TLS with the test CA's certificate: its URLs are `https://`.
    pub async fn start_tls() -> HttpServer {
        HttpServer::start_with(Some(test_tls_acceptor())).await
    }

    async fn start_with(tls: Option<TlsAcceptor>) -> HttpServer {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local_addr");
        let state = Arc::new(Mutex::new(State::default()));
        let task_state = state.clone();
        let is_tls = tls.is_some();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                // One task per connection so a delayed answer does not block others.
                let state = task_state.clone();
                match &tls {
                    None => drop(tokio::spawn(serve(stream, state))),
                    Some(acceptor) => {
                        let accept = acceptor.accept(stream);
                        tokio::spawn(async move {
                            // A client that refuses the certificate ends here, unserved.
                            if let Ok(stream) = accept.await {
                                serve(stream, state).await;
                            }
                        });
                    }
                }
            }
        });
        HttpServer {
            addr,
            tls: is_tls,
            state,
            task,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT/<path>` (`https://` over TLS); `path` may or may not start
    /// with '/'.
    pub fn url(&self, path: &str) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}{}", self.addr, normalise(path))
    }

    /// Answer `resp` for `path` (query strings are ignored when matching).
    pub fn set(&self, path: &str, resp: Response) {
        self.set_sequence(path, vec![resp]);
    }

    /// Answer `path` with each of `resps` in turn, then keep answering the last one.
    pub fn set_sequence(&self, path: &str, resps: Vec<Response>) {
        assert!(!resps.is_empty(), "a sequence needs at least one response");
        self.state
            .lock()
            .unwrap()
            .routes
            .insert(normalise(path), resps.into());
    }

    /// The value of header `name` in the latest request for `path`.
    pub fn last_request_header(&self, path: &str, name: &str) -> Option<String> {
        let st = self.state.lock().unwrap();
        let headers = st.last_headers.get(&normalise(path))?;
        header(headers, &name.to_ascii_lowercase()).map(str::to_string)
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

async fn serve<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S, state: Arc<Mutex<State>>) {
    let Some((target, headers)) = read_request(&mut stream).await else {
        return;
    };
    let path = normalise(&target);

    let (mut resp, www_auth) = {
        let mut st = state.lock().unwrap();
        *st.hits.entry(path.clone()).or_default() += 1;
        st.last_headers.insert(path.clone(), headers.clone());
        let authorised = match &st.auth {
            None => true,
            Some(want) => header(&headers, "authorization") == Some(want.as_str()),
        };
        if !authorised {
            (Response::status(401).with_body("unauthorised"), true)
        } else {
            let resp = st.routes.get_mut(&path).and_then(|q| {
                if q.len() > 1 {
                    q.pop_front()
                } else {
                    q.front().cloned()
                }
            });
            (
                resp.unwrap_or_else(|| Response::status(404).with_body("not found")),
                false,
            )
        }
    };

    if let Some(delay) = resp.delay {
        tokio::time::sleep(delay).await;
    }

    // Conditional GET: a matching If-None-Match gets 304 and no body.
    let etag = resp.header("etag").map(str::to_string);
    if let (Some(etag), Some(inm)) = (etag, header(&headers, "if-none-match"))
        && resp.status == 200
        && inm.split(',').any(|t| t.trim() == etag || t.trim() == "*")
    {
        resp = Response::status(304).with_header("ETag", &etag);
    }

    let mut head = format!("HTTP/1.1 {} {}\r\n", resp.status, reason(resp.status));
    match resp.mode {
        _ if resp.status == 304 => {}
        BodyMode::Chunked(_) => head.push_str("Transfer-Encoding: chunked\r\n"),
        _ => head.push_str(&format!("Content-Length: {}\r\n", resp.body.len())),
    }
    head.push_str("Connection: close\r\n");
    for (k, v) in &resp.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if www_auth {
        head.push_str("WWW-Authenticate: Basic realm=\"test\"\r\n");
    }
    head.push_str("\r\n");
    // The client may have given up (timeout tests); write errors are expected then.
    let _ = stream.write_all(head.as_bytes()).await;
    if resp.status != 304 {
        let body = &resp.body;
        match resp.mode {
            BodyMode::Whole => {
                let _ = stream.write_all(body).await;
            }
            BodyMode::Chunked(size) => {
                for chunk in body.chunks(size.max(1)) {
                    let framed =
                        [format!("{:x}\r\n", chunk.len()).as_bytes(), chunk, b"\r\n"].concat();
                    if stream.write_all(&framed).await.is_err() {
                        return;
                    }
                }
                let _ = stream.write_all(b"0\r\n\r\n").await;
            }
            BodyMode::CutShort(n) => {
                let _ = stream.write_all(&body[..n.min(body.len())]).await;
            }
            BodyMode::Hang => {
                let _ = stream.write_all(&body[..body.len() / 2]).await;
                let _ = stream.flush().await;
                // Never finish; the test's runtime ends this task.
                tokio::time::sleep(Duration::from_secs(3600)).await;
            }
        }
    }
    let _ = stream.shutdown().await;
}

/// Reads the request head (and discards any Content-Length body).
/// Returns the request target and lower-cased headers.
async fn read_request<S: AsyncRead + Unpin>(
    stream: &mut S,
) -> Option<(String, Vec<(String, String)>)> {
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

// Registered in tests() below; `deny` overrides support's allow, so a fn left out fails the build.
#[deny(dead_code)]
pub fn tests() -> Vec<super::trials::Spec> {
    vec![super::trials::trial!(base64_matches_rfc4648_vectors)]
}

#[deny(dead_code)]
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
