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

use std::io::Read as _;
use std::path::Path;
use std::time::Duration;

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Certificate, TlsParameters};
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
    /// `ca_file`'s certificates, trusted besides the system's.
    pub ca: Option<Certificate>,
}

/// The most `[delivery.smtp] ca_file` may hold.
const MAX_CA_BYTES: u64 = 1 << 20;

/// Read `[delivery.smtp] ca_file`: PEM certificates, at most 1 MiB. The error names the file
/// and what is wrong with it.
pub fn read_ca_file(path: &Path) -> Result<Certificate, String> {
    let shown = path.display();
    let file = std::fs::File::open(path).map_err(|e| format!("{shown}: {e}"))?;
    let mut pem = Vec::new();
    file.take(MAX_CA_BYTES + 1)
        .read_to_end(&mut pem)
        .map_err(|e| format!("{shown}: {e}"))?;
    if pem.len() as u64 > MAX_CA_BYTES {
        return Err(format!("{shown}: larger than {MAX_CA_BYTES} bytes"));
    }
    if !pem.windows(27).any(|w| w == b"-----BEGIN CERTIFICATE-----") {
        return Err(format!("{shown}: no PEM certificate in it"));
    }
    Certificate::from_pem(&pem).map_err(|e| format!("{shown}: {e}"))
}

/// TLS to `host`, verified against the system's roots and `ca` if given.
pub fn tls_parameters(
    host: &str,
    ca: Option<&Certificate>,
) -> Result<TlsParameters, lettre::transport::smtp::Error> {
    let mut b = TlsParameters::builder(host.to_string());
    if let Some(c) = ca {
        b = b.add_root_certificate(c.clone());
    }
    b.build()
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
            SmtpTls::Tls => Some(tls_parameters(&self.host, self.ca.as_ref())?),
            SmtpTls::Starttls | SmtpTls::None => None,
        };
        let mut conn =
            AsyncSmtpConnection::connect_tokio1(server, Some(self.timeout), &hello, wrapper, None)
                .await?;
        if self.tls == SmtpTls::Starttls {
            conn.starttls(tls_parameters(&self.host, self.ca.as_ref())?, &hello)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ca_file_is_read_and_a_bad_one_named_with_what_is_wrong() {
        let good = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls/ca.pem");
        let ca = read_ca_file(&good).expect("the test CA");
        tls_parameters("127.0.0.1", Some(&ca)).expect("TLS with the extra root");

        let dir = tempfile::tempdir().expect("tempdir");
        let not_pem = dir.path().join("not.pem");
        std::fs::write(&not_pem, "not a certificate\n").expect("write");
        let huge = dir.path().join("huge.pem");
        std::fs::write(&huge, vec![b'a'; (MAX_CA_BYTES + 1) as usize]).expect("write");
        let missing = dir.path().join("missing.pem");
        for (path, says) in [
            (&not_pem, "no PEM certificate in it"),
            (&huge, "larger than 1048576 bytes"),
            (&missing, "No such file"),
        ] {
            let Err(err) = read_ca_file(path) else {
                panic!("{} was taken", path.display())
            };
            assert!(err.starts_with(&path.display().to_string()), "{err}");
            assert!(err.contains(says), "{err}");
        }
    }
}
