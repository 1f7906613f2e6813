//! Delivery: outbox rows to SMTP (lettre) or to `.eml` files in a folder.
//!
//! An SMTP answer in the 5xx range is permanent: the row is marked failed and not retried.
//! Anything else (connection refused, timeout, 4xx) leaves it pending for another attempt,
//! now with a short backoff, and by the next run after that.

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;

use super::{DeliveryMode, DeliverySettings, SmtpTls};
use crate::store::{HtmlPart, OutboxRow, Store, StoreError};
use crate::telemetry::metrics as m;

/// Attempts per email within one run for errors that may pass.
const ATTEMPTS: u32 = 3;
/// How long one delivery pass holds an email it is sending (longer than its attempts take);
/// a process that dies holding it frees it when this passes.
const CLAIM: chrono::TimeDelta = chrono::TimeDelta::minutes(10);

#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error("cannot set up delivery: {0}")]
    Setup(String),
    #[error("{message}")]
    Send { message: String, permanent: bool },
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
        inner: AsyncSmtpTransport<Tokio1Executor>,
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
                let setup = |e: lettre::transport::smtp::Error| DeliveryError::Setup(e.to_string());
                let mut b = match s.tls {
                    SmtpTls::Starttls => {
                        AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&s.host)
                            .map_err(setup)?
                    }
                    SmtpTls::Tls => {
                        let params = TlsParameters::new(s.host.clone()).map_err(setup)?;
                        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&s.host)
                            .tls(Tls::Wrapper(params))
                    }
                    // Validation allows this only for loopback hosts.
                    SmtpTls::None => {
                        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&s.host)
                    }
                };
                b = b
                    .port(s.port)
                    .timeout(Some(Duration::from_secs(s.timeout_secs)));
                if let (Some(user), Some(pw)) = (&s.username, &s.password) {
                    b = b.credentials(Credentials::new(
                        user.clone(),
                        pw.expose_secret().to_string(),
                    ));
                }
                let describe = format!("SMTP {}:{} ({:?})", s.host, s.port, s.tls).to_lowercase();
                Ok(Transport::Smtp {
                    describe,
                    inner: b.build(),
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

    async fn send(&self, msg: Message) -> Result<(), DeliveryError> {
        match self {
            Transport::Folder { inner, dir } => {
                let failed = |e: String| DeliveryError::Send {
                    message: format!("cannot write the .eml file: {e}"),
                    permanent: false,
                };
                let id = inner.send(msg).await.map_err(|e| failed(e.to_string()))?;
                // Written under the umask inside a 0700 folder; narrowed to 0600 at once.
                private_file(&dir.join(format!("{id}.eml"))).map_err(|e| failed(e.to_string()))
            }
            Transport::Smtp { inner, .. } => {
                inner
                    .send(msg)
                    .await
                    .map(|_| ())
                    .map_err(|e| DeliveryError::Send {
                        permanent: e.is_permanent(),
                        message: format!("SMTP: {e}"),
                    })
            }
        }
    }
}

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
    pub failed: usize,
    pub still_pending: usize,
}

/// Build the message for an outbox row: its text alone, or with `html` (the row's HTML part
/// and inline images, [`Store::outbox_html`]) text first, then the HTML ([`super::mime`]).
/// The Message-ID is derived from the row, so a message re-sent after a crash carries the
/// same id and mail clients can tell it is the same.
pub(crate) fn message(
    row: &OutboxRow,
    html: Option<&HtmlPart>,
    from: &Mailbox,
) -> Result<Message, String> {
    let domain = from.email.domain().to_string();
    let mut b = Message::builder()
        .from(from.clone())
        .subject(row.subject.clone())
        .date(row.created_at.into())
        .message_id(Some(format!(
            "<sendwatch.{}.{}@{domain}>",
            row.run_id, row.id
        )));
    for r in row.recipient_list() {
        b = b.to(r
            .parse::<Mailbox>()
            .map_err(|e| format!("recipient: {e}"))?);
    }
    match html {
        Some(h) => b
            .multipart(super::mime::alternative(row.body_text.clone(), h)?)
            .map_err(|e| e.to_string()),
        None => b
            .header(ContentType::TEXT_PLAIN)
            .body(row.body_text.clone())
            .map_err(|e| e.to_string()),
    }
}

/// Deliver every pending outbox row (this run's and any left by an earlier run).
pub async fn deliver_pending(
    store: &Store,
    transport: &Transport,
    settings: &DeliverySettings,
    now: impl Fn() -> DateTime<Utc>,
) -> Result<DeliverySummary, DeliveryError> {
    let from: Mailbox = settings
        .from
        .parse()
        .map_err(|e| DeliveryError::Setup(format!("delivery.from: {e}")))?;
    let mut summary = DeliverySummary::default();
    for row in store.pending_mail().await? {
        let t = now();
        if !store.claim_mail(row.id, t, t + CLAIM).await? {
            continue; // another process is delivering it, or has
        }
        let html = store.outbox_html(row.id).await?;
        let msg = match message(&row, html.as_ref(), &from) {
            Ok(m) => m,
            Err(e) => {
                store.mark_attempt_failed(row.id, &e, true).await?;
                metrics::counter!(m::EMAILS_FAILED).increment(1);
                summary.failed += 1;
                continue;
            }
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            match transport.send(msg.clone()).await {
                Ok(()) => {
                    store.mark_sent(row.id, now()).await?;
                    metrics::counter!(m::EMAILS_SENT).increment(1);
                    tracing::info!(outbox_id = row.id, sub_group = %row.sub_group, via = %transport.describe(), "Report delivered.");
                    summary.sent += 1;
                    break;
                }
                Err(DeliveryError::Send { message, permanent }) => {
                    let last = permanent || attempt >= ATTEMPTS;
                    tracing::warn!(outbox_id = row.id, sub_group = %row.sub_group, attempt, permanent, error = %message, "Delivery failed.");
                    store
                        .mark_attempt_failed(row.id, &message, permanent)
                        .await?;
                    if last {
                        if permanent {
                            metrics::counter!(m::EMAILS_FAILED).increment(1);
                            summary.failed += 1;
                        } else {
                            summary.still_pending += 1;
                        }
                        break;
                    }
                    tokio::time::sleep(Duration::from_secs(u64::from(attempt))).await;
                    let t = now();
                    if !store.claim_mail(row.id, t, t + CLAIM).await? {
                        break; // another process took it over meanwhile
                    }
                }
                Err(other) => return Err(other),
            }
        }
    }
    Ok(summary)
}
