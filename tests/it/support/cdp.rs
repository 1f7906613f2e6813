//! Headless Chromium driven through the DevTools protocol, for tests that use a page as a
//! person would: open a link, type into its form, press its button, read what came back.
//! `--dump-dom` only loads a page; this talks to one live tab over `--remote-debugging-pipe`
//! (Chromium reads commands on its fd 3 and writes answers and events on its fd 4, each a
//! JSON message ended by a NUL byte), so no port is opened and nothing leaves loopback.
//!
//! Owns: the child Chromium, its two pipes, one tab (a flattened session), bounded waits.
//! Every wait ends by its deadline with a panic saying what was awaited.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::os::fd::{FromRawFd, RawFd};
use std::os::unix::process::CommandExt as _;
use std::process::{Child, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::tools::headless;

/// How long one command, a page load or Chromium's start may take.
const WAIT: Duration = Duration::from_secs(30);

/// One headless Chromium with one tab, for a test registered with `.chromium()`.
pub struct Browser {
    child: Child,
    /// Chromium's fd 3: commands.
    to: File,
    /// Messages read from Chromium's fd 4 by a reader thread (which ends at its EOF).
    from: Receiver<Value>,
    /// Events that came while a command's answer was awaited, oldest first.
    events: VecDeque<Value>,
    next_id: u64,
    session: String,
    /// Chromium's own output, shown when something fails.
    log: File,
    _profile: tempfile::TempDir,
}

/// A pipe whose two ends close on exec (a child gets only the end dup'ed for it).
fn pipe() -> (RawFd, RawFd) {
    let mut fds = [0; 2];
    // SAFETY: fds is a valid array of two ints for pipe2 to fill.
    let rc = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    assert_eq!(rc, 0, "pipe2: {}", std::io::Error::last_os_error());
    (fds[0], fds[1])
}

impl Browser {
    /// Starts Chromium (fresh profile, kept to loopback) and opens one blank tab.
    pub fn start() -> Browser {
        let profile = tempfile::tempdir().expect("tempdir for Chromium's profile");
        let (cmd_read, cmd_write) = pipe();
        let (out_read, out_write) = pipe();
        let log = tempfile::tempfile().expect("temp file for Chromium's output");
        let mut cmd = headless(&profile.path().join("profile"));
        cmd.arg("--remote-debugging-pipe")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log.try_clone().expect("log"));
        // SAFETY: runs in the forked child before exec and calls only fcntl, dup2 and close
        // (async-signal-safe, no allocation). The ends are first moved to 10 or above so that
        // placing one on 3 cannot overwrite the other; dup2's copies do not close on exec.
        unsafe {
            cmd.pre_exec(move || {
                let commands = libc::fcntl(cmd_read, libc::F_DUPFD_CLOEXEC, 10);
                let answers = libc::fcntl(out_write, libc::F_DUPFD_CLOEXEC, 10);
                if commands < 0
                    || answers < 0
                    || libc::dup2(commands, 3) < 0
                    || libc::dup2(answers, 4) < 0
                {
                    return Err(std::io::Error::last_os_error());
                }
                libc::close(commands);
                libc::close(answers);
                Ok(())
            });
        }
        let spawned = cmd.spawn();
        // SAFETY: the child's ends are ours alone to close (the child has its copies); the
        // parent's ends are owned by the Files made here and nowhere else.
        let (to, from_chromium) = unsafe {
            libc::close(cmd_read);
            libc::close(out_write);
            (File::from_raw_fd(cmd_write), File::from_raw_fd(out_read))
        };
        let child = spawned.expect("start Chromium");
        let (tx, from) = channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(from_chromium);
            loop {
                let mut buf = Vec::new();
                match r.read_until(0, &mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
                if buf.last() == Some(&0) {
                    buf.pop();
                }
                let Ok(v) = serde_json::from_slice::<Value>(&buf) else {
                    continue;
                };
                if tx.send(v).is_err() {
                    break;
                }
            }
        });
        let mut b = Browser {
            child,
            to,
            from,
            events: VecDeque::new(),
            next_id: 0,
            session: String::new(),
            log,
            _profile: profile,
        };
        let target = b.call("Target.createTarget", json!({"url": "about:blank"}));
        let target = target["targetId"]
            .as_str()
            .expect("a target id")
            .to_string();
        let attached = b.call(
            "Target.attachToTarget",
            json!({"targetId": target, "flatten": true}),
        );
        b.session = attached["sessionId"]
            .as_str()
            .expect("a session id")
            .to_string();
        b.call("Page.enable", json!({}));
        b
    }

    /// What Chromium printed, for a failure's message.
    fn printed(&mut self) -> String {
        let mut s = String::new();
        let _ = self.log.seek(SeekFrom::Start(0));
        let _ = self.log.read_to_string(&mut s);
        s
    }

    /// The next message from Chromium, by `deadline`; panics saying `what` was awaited.
    fn receive(&mut self, deadline: Instant, what: &str) -> Value {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.from.recv_timeout(left) {
            Ok(v) => v,
            Err(RecvTimeoutError::Timeout) => {
                panic!("Chromium: no {what} within {WAIT:?}\n{}", self.printed())
            }
            Err(RecvTimeoutError::Disconnected) => {
                panic!(
                    "Chromium closed its pipe awaiting {what}\n{}",
                    self.printed()
                )
            }
        }
    }

    /// Sends `method` (to the tab once attached) and returns its result; an error panics.
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if !self.session.is_empty() {
            msg["sessionId"] = json!(self.session);
        }
        let mut bytes = serde_json::to_vec(&msg).expect("JSON");
        bytes.push(0);
        self.to.write_all(&bytes).expect("write to Chromium");
        let deadline = Instant::now() + WAIT;
        loop {
            let v = self.receive(deadline, method);
            if v["id"].as_u64() == Some(id) {
                if let Some(e) = v.get("error") {
                    panic!("Chromium refused {method}: {e}");
                }
                return v["result"].clone();
            }
            if v.get("method").is_some() {
                self.events.push_back(v);
            }
        }
    }

    /// Waits for the tab's event `method` that came after the last [`Browser::forget_events`].
    fn wait_event(&mut self, method: &str) {
        let mine = |v: &Value, s: &str| v["method"] == method && v["sessionId"] == s;
        if let Some(at) = self.events.iter().position(|v| mine(v, &self.session)) {
            self.events.drain(..=at);
            return;
        }
        self.events.clear();
        let deadline = Instant::now() + WAIT;
        loop {
            let v = self.receive(deadline, method);
            if mine(&v, &self.session) {
                return;
            }
        }
    }

    /// Drops the events seen so far, so that a wait sees only what follows.
    fn forget_events(&mut self) {
        self.events.clear();
        while let Ok(v) = self.from.try_recv() {
            drop(v);
        }
    }

    /// Opens `url` in the tab and waits for it to load; returns its HTML.
    pub fn open(&mut self, url: &str) -> String {
        self.forget_events();
        let nav = self.call("Page.navigate", json!({"url": url}));
        if let Some(e) = nav.get("errorText") {
            panic!("Chromium could not open {url}: {e}");
        }
        self.wait_event("Page.loadEventFired");
        self.html()
    }

    /// The value of `expression` evaluated in the page; a thrown exception panics.
    pub fn eval(&mut self, expression: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true}),
        );
        if let Some(e) = r.get("exceptionDetails") {
            panic!("`{expression}` threw: {e}");
        }
        r["result"]["value"].clone()
    }

    /// The page's HTML as it stands.
    pub fn html(&mut self) -> String {
        self.eval("document.documentElement.outerHTML")
            .as_str()
            .expect("the page's HTML")
            .to_string()
    }

    /// Types `text` into the field with id `field`, as a keyboard would: focus, then the
    /// text inserted where the caret is (after anything already there).
    pub fn type_into(&mut self, field: &str, text: &str) {
        let found = self.eval(&format!(
            "(() => {{ const f = document.getElementById({}); \
             if (!f) return false; f.focus(); return document.activeElement === f; }})()",
            json!(field)
        ));
        assert_eq!(found, json!(true), "no field `{field}` to type into");
        self.call("Input.insertText", json!({"text": text}));
    }

    /// Clicks the button `selector` (a CSS selector) and waits for the page its form's post
    /// brings back; returns that page's HTML.
    pub fn press(&mut self, selector: &str) -> String {
        self.forget_events();
        let clicked = self.eval(&format!(
            "(() => {{ const b = document.querySelector({}); \
             if (!b) return false; b.click(); return true; }})()",
            json!(selector)
        ));
        assert_eq!(clicked, json!(true), "no `{selector}` to press");
        self.wait_event("Page.loadEventFired");
        self.html()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Asked to close, Chromium ends itself; a kill is the fallback, each wait bounded.
        if !std::thread::panicking() {
            let msg = json!({"id": 0, "method": "Browser.close"});
            let mut bytes = serde_json::to_vec(&msg).unwrap_or_default();
            bytes.push(0);
            let _ = self.to.write_all(&bytes);
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            match self.child.try_wait() {
                Ok(Some(_)) | Err(_) => return,
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
