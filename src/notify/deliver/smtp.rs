//! One SMTP session per email, driven step by step so that a failure says whether the
//! server could have taken the message.
//!
//! lettre's transport reports a dropped connection the same way (a "network" or an
//! "incomplete response" error) whether it happened at the greeting or after the message's
//! content was sent, and the async transport times out only the connect. Here every step
//! has `timeout_secs`, and a failure is [`Failure::NotSent`] up to and including the answer to
//! the DATA command, a refusal with a code (4xx, 5xx) of the content is also not sent, and
//! anything else once the content has been written (the connection drops, a timeout, an
//! unreadable answer) is [`Failure::Ambiguous`]: the server may have queued it.

use std::time::Duration;

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};

use crate::notify::SmtpTls;

/// Why one send did not end in a 250 for the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The server did not take the message: no connection, a refusal before or of the
    /// content. `permanent` for a 5xx (or what no retry can mend); `of_content` when the
    /// refusal answered the content itself (the server saw it all).
    NotSent {
        message: String,
        permanent: bool,
        of_content: bool,
    },
    /// The content was sent and no answer came: it may have been delivered.
    Ambiguous { message: String },
}

#[derive(Clone)]
pub struct SmtpClient {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub timeout: Duration,
    pub credentials: Option<Credentials>,
}

impl SmtpClient {
    /// Send `body` (the formatted message) to the envelope's recipients.
    pub async fn send(&self, envelope: &Envelope, body: &[u8]) -> Result<(), Failure> {
        let not_sent = |step: &str, e: lettre::transport::smtp::Error| Failure::NotSent {
            message: format!("SMTP {step}: {e}"),
            permanent: e.is_permanent(),
            of_content: false,
        };
        let mut conn = self
            .step("connect", self.connect())
            .await?
            .map_err(|e| not_sent("connect", e))?;
        let mut options = Vec::new();
        if !body.is_ascii() {
            if !conn.server_info().supports_feature(Extension::EightBitMime) {
                conn.abort().await;
                return Err(Failure::NotSent {
                    message: "SMTP: the server does not take 8-bit mail (8BITMIME)".into(),
                    permanent: true,
                    of_content: false,
                });
            }
            options.push(MailParameter::Body(MailBodyParameter::EightBitMime));
        }
        let r = self
            .step(
                "MAIL FROM",
                conn.command(Mail::new(envelope.from().cloned(), options)),
            )
            .await?;
        if let Err(e) = r {
            conn.abort().await;
            return Err(not_sent("MAIL FROM", e));
        }
        for to in envelope.to() {
            let r = self
                .step("RCPT TO", conn.command(Rcpt::new(to.clone(), vec![])))
                .await?;
            if let Err(e) = r {
                conn.abort().await;
                return Err(not_sent("RCPT TO", e));
            }
        }
        let r = self.step("DATA", conn.command(Data)).await?;
        if let Err(e) = r {
            conn.abort().await;
            return Err(not_sent("DATA", e));
        }
        // From here on the server may have the message.
        let answer = tokio::time::timeout(self.timeout, conn.message(body)).await;
        match answer {
            Ok(Ok(_)) => {
                // The message is taken; a QUIT that goes wrong changes nothing.
                let _ = tokio::time::timeout(self.timeout, conn.quit()).await;
                Ok(())
            }
            Ok(Err(e)) if e.status().is_some() => {
                conn.abort().await;
                Err(Failure::NotSent {
                    message: format!("SMTP end of DATA: {e}"),
                    permanent: e.is_permanent(),
                    of_content: true,
                })
            }
            Ok(Err(e)) => Err(Failure::Ambiguous {
                message: format!("SMTP: no answer after the message was sent ({e})"),
            }),
            Err(_) => Err(Failure::Ambiguous {
                message: format!(
                    "SMTP: no answer within {} s after the message was sent",
                    self.timeout.as_secs()
                ),
            }),
        }
    }

    /// Connect, greet, start TLS and log in as the settings say.
    async fn connect(&self) -> Result<AsyncSmtpConnection, lettre::transport::smtp::Error> {
        let hello = ClientId::default();
        let server = (self.host.as_str(), self.port);
        let wrapper = match self.tls {
            SmtpTls::Tls => Some(TlsParameters::new(self.host.clone())?),
            SmtpTls::Starttls | SmtpTls::None => None,
        };
        let mut conn =
            AsyncSmtpConnection::connect_tokio1(server, Some(self.timeout), &hello, wrapper, None)
                .await?;
        if self.tls == SmtpTls::Starttls {
            conn.starttls(TlsParameters::new(self.host.clone())?, &hello)
                .await?;
        }
        if let Some(c) = &self.credentials {
            conn.auth(&[Mechanism::Plain, Mechanism::Login], c).await?;
        }
        Ok(conn)
    }

    /// One step before the content, with the timeout: a timeout there is not sent.
    async fn step<T>(
        &self,
        step: &str,
        f: impl std::future::Future<Output = T>,
    ) -> Result<T, Failure> {
        tokio::time::timeout(self.timeout, f)
            .await
            .map_err(|_| Failure::NotSent {
                message: format!("SMTP {step}: no answer within {} s", self.timeout.as_secs()),
                permanent: false,
                of_content: false,
            })
    }
}
