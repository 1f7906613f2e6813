//! Timed child processes for the bench: wall time from spawn to reap, and the child's own peak
//! RSS and CPU time from `wait4` (exact per process, unlike `RUSAGE_CHILDREN`, which sums every
//! child reaped so far).
//!
//! A child's stdout and stderr go to files, not pipes, so a chatty child can never block on a
//! full pipe while we wait for it, and its stdin comes from a file (the `sqlite3` commands).

use std::ffi::OsStr;
use std::fs::File;
use std::io;
use std::os::unix::fs::PermissionsExt as _;
use std::os::unix::process::ExitStatusExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

/// What one timed run of a child gave.
#[derive(Debug)]
pub struct Ran {
    pub wall: Duration,
    /// The child's peak resident set size, in KiB (`ru_maxrss` on Linux).
    pub max_rss_kib: u64,
    /// The child's CPU time, user and system.
    pub cpu: Duration,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `cmd` to completion with stdin from `stdin` (or nothing), its output kept in
/// `<scratch>/<tag>.out` and `.err`, and fails unless it exits 0.
pub fn run_timed(
    mut cmd: Command,
    stdin: Option<&Path>,
    scratch: &Path,
    tag: &str,
) -> anyhow::Result<Ran> {
    let out_path = scratch.join(format!("{tag}.out"));
    let err_path = scratch.join(format!("{tag}.err"));
    let shown = format!("{:?}", cmd.get_program());
    cmd.stdout(File::create(&out_path).context("creating the stdout file")?)
        .stderr(File::create(&err_path).context("creating the stderr file")?);
    match stdin {
        Some(p) => cmd.stdin(File::open(p).with_context(|| format!("opening {}", p.display()))?),
        None => cmd.stdin(Stdio::null()),
    };
    let start = Instant::now();
    let child = cmd.spawn().with_context(|| format!("starting {shown}"))?;
    let (status, max_rss_kib, cpu) =
        wait4(child.id()).with_context(|| format!("waiting for {shown}"))?;
    let wall = start.elapsed();
    // The child is reaped; dropping the handle neither waits nor kills.
    drop(child);
    let stdout = read_lossy(&out_path);
    let stderr = read_lossy(&err_path);
    if !status.success() {
        bail!(
            "{shown} failed ({status}):\n{}{}",
            tail(&stdout, 20),
            tail(&stderr, 20)
        );
    }
    Ok(Ran {
        wall,
        max_rss_kib,
        cpu,
        stdout,
        stderr,
    })
}

/// Reaps exactly `pid` and returns its exit status, peak RSS (KiB) and CPU time.
fn wait4(pid: u32) -> io::Result<(ExitStatus, u64, Duration)> {
    let pid = libc::pid_t::try_from(pid)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "pid out of range"))?;
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain old data; all-zero bytes is a valid value of it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: both pointers are to live, properly aligned locals that outlive the call;
        // `pid` is our own child, which nothing else in this process waits for.
        let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if reaped == pid {
            break;
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
    let rss = u64::try_from(usage.ru_maxrss).unwrap_or(0);
    Ok((ExitStatus::from_raw(status), rss, cpu_time(&usage)))
}

/// User plus system time of a `rusage`.
pub fn cpu_time(usage: &libc::rusage) -> Duration {
    let tv = |t: libc::timeval| {
        Duration::from_secs(u64::try_from(t.tv_sec).unwrap_or(0))
            + Duration::from_micros(u64::try_from(t.tv_usec).unwrap_or(0))
    };
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// This process's CPU time so far, all threads.
pub fn own_cpu() -> Duration {
    // SAFETY: rusage is plain old data; all-zero bytes is a valid value of it, and getrusage
    // writes only into the live local it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: as above; RUSAGE_SELF is always valid, so the call cannot fail.
    unsafe {
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
    }
    cpu_time(&usage)
}

fn read_lossy(path: &Path) -> String {
    std::fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

/// The last `n` lines of `text`, for error messages.
fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let from = lines.len().saturating_sub(n);
    lines[from..]
        .iter()
        .map(|l| format!("  {l}\n"))
        .collect::<String>()
}

/// The program to run as a peer: the path given, which must exist, or else `name` found on
/// `PATH`. `Err` says why the peer is skipped.
pub fn locate(given: Option<&Path>, name: &str) -> Result<PathBuf, String> {
    match given {
        Some(p) if is_executable(p) => Ok(p.to_path_buf()),
        Some(p) => Err(format!("{} is not an executable file", p.display())),
        None => find_on_path(name, std::env::var_os("PATH").as_deref())
            .ok_or_else(|| format!("`{name}` not found on PATH")),
    }
}

fn find_on_path(name: &str, path: Option<&OsStr>) -> Option<PathBuf> {
    std::env::split_paths(path?)
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_is_timed_and_its_rss_and_output_kept() {
        let dir = std::env::temp_dir().join(format!("sendwatch-child-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch dir");
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo hello; echo oops >&2"]);
        let ran = run_timed(cmd, None, &dir, "ok").expect("sh runs");
        assert_eq!(ran.stdout, "hello\n");
        assert_eq!(ran.stderr, "oops\n");
        assert!(ran.max_rss_kib > 0);

        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo why >&2; exit 3"]);
        let err = run_timed(cmd, None, &dir, "fails").expect_err("exit 3 fails");
        assert!(format!("{err:#}").contains("why"), "{err:#}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_missing_peer_says_why() {
        assert!(find_on_path("sh", Some(OsStr::new("/nonexistent:/bin:/usr/bin"))).is_some());
        assert_eq!(find_on_path("sh", Some(OsStr::new("/nonexistent"))), None);
        let why = locate(Some(Path::new("/nonexistent/sqlite3")), "sqlite3").expect_err("missing");
        assert!(why.contains("/nonexistent/sqlite3"), "{why}");
    }
}
