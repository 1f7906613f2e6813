//! The national bench's two loopback servers, in the bench's own process so that a replica's
//! peak RSS is the daemon's alone: an HTTP server giving each area's extracts (`GET
//! /AREA/KIND.csv`, from the generated files) and a minimal SMTP sink that answers
//! 220/250/354/250/221, takes every message and keeps its Message-ID, so that the bench can
//! check every digest arrived once.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use axum::body::Body;
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// The extracts server: serves `files` (URL path -> file) until dropped.
pub struct Extracts {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Extracts {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Extracts {
    pub async fn start(files: HashMap<String, PathBuf>) -> anyhow::Result<Extracts> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding the extracts server")?;
        let addr = listener.local_addr()?;
        let files = Arc::new(files);
        let app = axum::Router::new().fallback(move |uri: Uri| {
            let files = files.clone();
            async move { serve(&files, &uri).await }
        });
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                eprintln!("bench: the extracts server stopped: {e}");
            }
        });
        Ok(Extracts { addr, task })
    }

    /// The URL of `path` (`/area/tracker.csv`).
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

async fn serve(files: &HashMap<String, PathBuf>, uri: &Uri) -> Response {
    let Some(file) = files.get(uri.path()) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match tokio::fs::read(file).await {
        Ok(bytes) => ([(header::CONTENT_TYPE, "text/csv")], Body::from(bytes)).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// The SMTP sink: every message's Message-ID, in the order they arrived.
pub struct Sink {
    pub port: u16,
    received: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Sink {
    pub async fn start() -> anyhow::Result<Sink> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding the SMTP sink")?;
        let port = listener.local_addr()?.port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let kept = received.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let kept = kept.clone();
                tokio::spawn(async move {
                    // A session cut short is the client's business; the count says what came.
                    let _ = session(stream, &kept).await;
                });
            }
        });
        Ok(Sink {
            port,
            received,
            task,
        })
    }

    /// The Message-IDs received since the last call, and forgets them.
    pub fn take(&self) -> Vec<String> {
        self.received
            .lock()
            .map(|mut r| std::mem::take(&mut *r))
            .unwrap_or_default()
    }
}

/// One SMTP session: greeting, then a reply to each command; DATA's content is read to its
/// lone `.` and its Message-ID kept once the message is whole, before the 250 that says so.
async fn session(stream: TcpStream, kept: &Mutex<Vec<String>>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 sendwatch-bench sink\r\n").await?;
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let verb = line
            .get(..4)
            .map(str::to_ascii_uppercase)
            .unwrap_or_default();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-sendwatch-bench\r\n250 8BITMIME\r\n",
            "HELO" | "MAIL" | "RCPT" | "RSET" | "NOOP" => b"250 OK\r\n",
            "DATA" => {
                write.write_all(b"354 go on\r\n").await?;
                let id = content(&mut lines).await?;
                if let Ok(mut k) = kept.lock() {
                    k.push(id.unwrap_or_default());
                }
                b"250 queued\r\n"
            }
            "QUIT" => {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 not here\r\n",
        };
        write.write_all(reply).await?;
    }
}

/// Reads a message's content to its end (a line of `.` alone) and returns its Message-ID,
/// unfolded, if its header has one.
async fn content<R: tokio::io::AsyncBufRead + Unpin>(
    lines: &mut R,
) -> std::io::Result<Option<String>> {
    let mut line = String::new();
    let mut in_header = true;
    let mut id: Option<String> = None;
    let mut in_id = false;
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let text = line.trim_end_matches(['\r', '\n']);
        if text == "." {
            return Ok(id);
        }
        if !in_header {
            continue;
        }
        if text.is_empty() {
            in_header = false;
        } else if in_id && text.starts_with([' ', '\t']) {
            if let Some(v) = id.as_mut() {
                v.push_str(text.trim());
            }
        } else {
            in_id = false;
            if let Some((name, value)) = text.split_once(':')
                && name.eq_ignore_ascii_case("Message-ID")
            {
                id = Some(value.trim().to_string());
                in_id = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_message_id_is_read_unfolded_and_the_body_skipped() {
        let text = b"Subject: x\r\nMessage-ID:\r\n <a.1.2@example.org>\r\nTo: y\r\n\r\nMessage-ID: <no>\r\n..dot\r\n.\r\nQUIT\r\n";
        let mut r = BufReader::new(&text[..]);
        let id = content(&mut r).await.expect("reads");
        assert_eq!(id.as_deref(), Some("<a.1.2@example.org>"));
        let mut rest = String::new();
        r.read_line(&mut rest).await.expect("rest");
        assert_eq!(rest, "QUIT\r\n");
    }
}
