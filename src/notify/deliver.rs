//! Delivery: outbox rows to SMTP or to `.eml` files in a folder, each row claimed first.
//!
//! A pass claims due rows one at a time (see [`crate::store::Store::claim_due_mail`]) and
//! makes one attempt at each: two passes, in two processes or on two hosts, never send the
//! same row. What becomes of a failed attempt is [`retry::next`]'s to say: a 5xx gives the row
//! up as failed; a 4xx or no connection leaves it pending for a later pass after a growing,
//! jittered wait (`[delivery.retry]`), up to a number of attempts; no answer after the content
//! was sent ([`smtp::Failure::Ambiguous`]) gets one later retry with the same Message-ID and
//! no more. Rows given up are told to the administrator, once each, in one notice through the
//! outbox.

mod retry;
mod smtp;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncFileTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;

pub use smtp::{Failure, read_ca_file, tls_parameters};

use super::{DeliveryMode, DeliverySettings};
use crate::store::{OutboxRow, OutboxStatus, Store, StoreError, StoredBody};
use crate::telemetry::metrics as m;

/// The most rows one pass attempts: a pass ends, and the next carries on.
const PASS_ROWS: usize = 1000;
/// An error column holds this much of the server's answer at most.
const ERROR_CHARS: usize = 400;

#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error("cannot set up delivery: {0}")]
    Setup(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Where mail goes.
#[derive(Clone)]
pub enum Transport {
    Folder {
        dir: PathBuf,
        inner: AsyncFileTransport<Tokio1Executor>,
    },
    Smtp {
        describe: String,
        client: smtp::SmtpClient,
    },
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Transport {
    pub fn build(d: &DeliverySettings) -> Result<Transport, DeliveryError> {
        match d.mode {
            DeliveryMode::Folder => {
                // Only the service user may read the reports: the folder 0700, each file 0600.
                private_folder(&d.folder).map_err(|e| {
                    DeliveryError::Setup(format!("cannot create {}: {e}", d.folder.display()))
                })?;
                Ok(Transport::Folder {
                    dir: d.folder.clone(),
                    inner: AsyncFileTransport::new(&d.folder),
                })
            }
            DeliveryMode::Smtp => {
                let s = &d.smtp;
                let credentials = match (&s.username, &s.password) {
                    (Some(user), Some(pw)) => Some(Credentials::new(
                        user.clone(),
                        pw.expose_secret().to_string(),
                    )),
                    _ => None,
                };
                let ca = match &s.ca_file {
                    Some(path) => Some(smtp::read_ca_file(path).map_err(|e| {
                        DeliveryError::Setup(format!("delivery.smtp.ca_file: {e}"))
                    })?),
                    None => None,
                };
                let describe = format!("SMTP {}:{} ({:?})", s.host, s.port, s.tls).to_lowercase();
                Ok(Transport::Smtp {
                    describe,
                    client: smtp::SmtpClient {
                        host: s.host.clone(),
                        port: s.port,
                        tls: s.tls,
                        timeout: s.timeout(),
                        credentials,
                        ca,
                    },
                })
            }
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Transport::Folder { dir, .. } => format!("folder {}", dir.display()),
            Transport::Smtp { describe, .. } => describe.clone(),
        }
    }

    async fn send(&self, msg: Message) -> Result<(), Failure> {
        match self {
            Transport::Folder { inner, dir } => {
                let failed = |e: String| Failure::NotSent {
                    message: format!("cannot write the .eml file: {e}"),
                    permanent: false,
                    of_content: false,
                };
                let id = inner.send(msg).await.map_err(|e| failed(e.to_string()))?;
                // Written under the umask inside a 0700 folder; narrowed to 0600 at once.
                private_file(&dir.join(format!("{id}.eml"))).map_err(|e| failed(e.to_string()))
            }
            Transport::Smtp { client, .. } => client.send(msg.envelope(), &msg.formatted()).await,
        }
    }
}

/// Write `bytes` to `path`, readable by the owner only (an existing file is narrowed first).
pub(crate) fn private_write(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    if path.exists() {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    std::io::Write::write_all(&mut f, bytes)?;
    f.sync_all()
}

/// Create `dir` (and its parents) and narrow it to the service user: 0700.
pub(crate) fn private_folder(dir: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

pub(crate) fn private_file(path: &std::path::Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// What a delivery pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliverySummary {
    pub sent: usize,
    /// Given up as failed in this pass (refused for good, or out of attempts).
    pub failed: usize,
    /// Attempted in this pass and left pending for a later one.
    pub still_pending: usize,
    /// Given up as ambiguous in this pass: it may have arrived.
    pub ambiguous: usize,
}

/// What a delivery pass needs beyond `[delivery]`.
#[derive(Debug, Clone, Copy)]
pub struct Pass<'a> {
    /// How long a claim holds without renewal (`[ledger] lease_secs`); renewed every third
    /// of it while a row is being sent.
    pub lease: TimeDelta,
    /// Told of rows given up; unset, they are only logged.
    pub admin: Option<&'a str>,
    pub area: &'a str,
    /// This process (host:pid), part of the name a pass's claims carry.
    pub runner: &'a str,
    /// The template environment the administrator's notice is laid out in (the digests').
    pub templates: &'a super::Templates,
}

/// Build the message for an outbox row: its text alone, or with its HTML part and inline
/// images, text first, and any attached files after ([`Store::outbox_body`], shaped by
/// [`super::mime`]).
/// The Message-ID is derived from the row and the installation's random id
/// ([`Store::installation_id`]), so a message re-sent after a crash carries the same id and
/// mail clients can tell it is the same, while another installation's (or a reinstall's)
/// rows with the same numbers never share one.
pub(crate) fn message(
    row: &OutboxRow,
    body: &StoredBody,
    from: &Mailbox,
    installation: &str,
) -> Result<Message, String> {
    let domain = from.email.domain().to_string();
    let mut b = Message::builder()
        .from(from.clone())
        .subject(row.subject.clone())
        .date(row.created_at.into())
        .message_id(Some(format!(
            "<sendwatch.{installation}.{}.{}@{domain}>",
            row.run_id, row.id
        )));
    for r in row.recipient_list() {
        b = b.to(r
            .parse::<Mailbox>()
            .map_err(|e| format!("recipient: {e}"))?);
    }
    match super::mime::body(row.body_text.clone(), body.html.as_deref(), &body.parts)? {
        Some(multi) => b.multipart(multi).map_err(|e| e.to_string()),
        None => b
            .header(ContentType::TEXT_PLAIN)
            .body(row.body_text.clone())
            .map_err(|e| e.to_string()),
    }
}

/// Deliver the outbox rows that are due: this run's, and any an earlier pass put off or a
/// dead process left claimed. One attempt per row per pass.
pub async fn deliver_pending(
    store: &Store,
    transport: &Transport,
    settings: &DeliverySettings,
    pass: &Pass<'_>,
    now: impl Fn() -> DateTime<Utc>,
) -> Result<DeliverySummary, DeliveryError> {
    let from: Mailbox = settings
        .from
        .parse()
        .map_err(|e| DeliveryError::Setup(format!("delivery.from: {e}")))?;
    let who = pass_name(pass.runner);
    // Read with the first row to send, not on every pass (the daemon runs one each tick).
    let mut installation: Option<String> = None;
    let started = now();
    let mut summary = DeliverySummary::default();
    let mut told = false;
    for _ in 0..PASS_ROWS {
        let t = now();
        let Some(row) = store
            .claim_due_mail(&who, t, started, t + pass.lease)
            .await?
        else {
            // Rows given up (in this pass or one that died before telling) go to the
            // administrator in one notice, itself delivered by this pass.
            if !told {
                told = true;
                if tell_admin(store, settings, pass, now()).await? > 0 {
                    continue;
                }
            }
            break;
        };
        let body = store.outbox_body(row.id).await?;
        let installation = match &installation {
            Some(id) => id,
            None => installation.insert(store.installation_id().await?),
        };
        let outcome = match message(&row, &body, &from, installation) {
            Ok(msg) => attempt(store, transport, &row, &who, pass.lease, msg, &now).await,
            Err(e) => Err(Failure::NotSent {
                message: format!("cannot build the message: {e}"),
                permanent: true,
                of_content: false,
            }),
        };
        record(store, settings, &row, &who, outcome, &mut summary, now()).await?;
    }
    Ok(summary)
}

/// A name for this pass, unique among passes in all processes at once.
fn pass_name(runner: &str) -> String {
    static PASSES: AtomicU64 = AtomicU64::new(0);
    let n = PASSES.fetch_add(1, Ordering::Relaxed);
    format!("{runner}#{n}")
}

/// Send `msg`, renewing the row's claim every third of the lease while the server works.
async fn attempt(
    store: &Store,
    transport: &Transport,
    row: &OutboxRow,
    who: &str,
    lease: TimeDelta,
    msg: Message,
    now: &impl Fn() -> DateTime<Utc>,
) -> Result<(), Failure> {
    let every = (lease / 3).to_std().unwrap_or(Duration::from_secs(1));
    let send = transport.send(msg);
    tokio::pin!(send);
    let mut renew = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    loop {
        tokio::select! {
            r = &mut send => return r,
            _ = renew.tick() => {
                // Never give up a send half-way for this: the session goes on either way.
                match store.renew_mail_claim(row.id, who, now() + lease).await {
                    Ok(true) => {}
                    Ok(false) => tracing::warn!(outbox_id = row.id, "The claim on an email being sent has lapsed; another pass may send it too."),
                    Err(e) => tracing::warn!(outbox_id = row.id, error = %e, "Could not renew the claim on an email being sent."),
                }
            }
        }
    }
}

/// Record what one attempt came to.
async fn record(
    store: &Store,
    settings: &DeliverySettings,
    row: &OutboxRow,
    who: &str,
    outcome: Result<(), Failure>,
    summary: &mut DeliverySummary,
    t: DateTime<Utc>,
) -> Result<(), DeliveryError> {
    let failure = match outcome {
        Ok(()) => {
            store.mark_sent(row.id, who, t).await?;
            metrics::counter!(m::EMAILS_SENT).increment(1);
            tracing::info!(outbox_id = row.id, sub_group = %row.sub_group, retry = row.attempts > 0, "Email delivered.");
            summary.sent += 1;
            return Ok(());
        }
        Err(f) => f,
    };
    let (message, ambiguous_now) = match &failure {
        Failure::NotSent { message, .. } => (message, false),
        Failure::Ambiguous { message } => (message, true),
    };
    let error: String = message.chars().take(ERROR_CHARS).collect();
    let attempts = u32::try_from(row.attempts).unwrap_or(0).saturating_add(1);
    let seed =
        (row.id as u64).rotate_left(32) ^ u64::from(attempts) ^ t.timestamp_subsec_nanos() as u64;
    let next = retry::next(
        &failure,
        attempts,
        row.ambiguous_at.is_some(),
        &settings.retry,
        seed,
    );
    match next {
        retry::Next::Retry { after, ambiguous } => {
            tracing::warn!(outbox_id = row.id, sub_group = %row.sub_group, attempts, ambiguous, retry_in_secs = after.num_seconds(), error = %error, "Delivery failed; tried again later.");
            store
                .mark_retry(row.id, who, &error, t + after, ambiguous.then_some(t))
                .await?;
            if ambiguous {
                metrics::counter!(m::EMAILS_AMBIGUOUS).increment(1);
            }
            summary.still_pending += 1;
        }
        retry::Next::GiveUp(status) => {
            tracing::error!(outbox_id = row.id, sub_group = %row.sub_group, attempts, status = status.as_str(), error = %error, "Delivery given up.");
            store.mark_given_up(row.id, who, status, &error).await?;
            if ambiguous_now && status == OutboxStatus::Ambiguous {
                metrics::counter!(m::EMAILS_AMBIGUOUS).increment(1);
            }
            if status == OutboxStatus::Ambiguous {
                summary.ambiguous += 1;
            } else {
                metrics::counter!(m::EMAILS_FAILED).increment(1);
                summary.failed += 1;
            }
        }
    }
    Ok(())
}

/// Queue one notice to the administrator of the rows given up and not yet told; how many.
async fn tell_admin(
    store: &Store,
    settings: &DeliverySettings,
    pass: &Pass<'_>,
    t: DateTime<Utc>,
) -> Result<usize, DeliveryError> {
    let Some(admin) = pass.admin else {
        return Ok(0);
    };
    let n = store
        .tell_failed_mail(
            |run_id, rows| {
                let r = super::admin::render_delivery_notice(
                    pass.templates,
                    &super::admin::DeliveryNotice {
                        area: pass.area,
                        subject_prefix: &settings.subject_prefix,
                        failed: rows,
                        now: t,
                    },
                );
                super::outbox::admin_mail(run_id, admin, &r)
            },
            t,
        )
        .await?;
    if n > 0 {
        tracing::warn!(emails = n, "Emails given up: the administrator is told.");
    }
    Ok(n)
}
