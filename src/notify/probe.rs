//! `check-config --connect`'s SMTP probe: connect, EHLO (and STARTTLS or implicit TLS as
//! configured), QUIT. No AUTH and no mail: it says whether the server is there and talks.

use lettre::transport::smtp::client::AsyncSmtpConnection;
use lettre::transport::smtp::extension::ClientId;

use super::{SmtpSettings, SmtpTls};

/// What the server answered, or why it could not be reached, in one plain sentence.
pub async fn probe_smtp(s: &SmtpSettings) -> Result<String, String> {
    let limit = s.timeout();
    let hello = ClientId::default();
    let ca = match &s.ca_file {
        Some(path) => Some(super::deliver::read_ca_file(path).map_err(|e| format!("ca_file {e}"))?),
        None => None,
    };
    let tls = |host: &str| {
        super::deliver::tls_parameters(host, ca.as_ref()).map_err(|e| format!("TLS: {e}"))
    };
    let wrapper = match s.tls {
        SmtpTls::Tls => Some(tls(&s.host)?),
        SmtpTls::Starttls | SmtpTls::None => None,
    };
    let attempt = async {
        let mut conn = AsyncSmtpConnection::connect_tokio1(
            (s.host.as_str(), s.port),
            Some(limit),
            &hello,
            wrapper,
            None,
        )
        .await
        .map_err(|e| plain(&e))?;
        if s.tls == SmtpTls::Starttls {
            conn.starttls(tls(&s.host)?, &hello)
                .await
                .map_err(|e| plain(&e))?;
        }
        let name = conn.server_info().name().to_string();
        let _ = conn.quit().await;
        Ok::<_, String>(name)
    };
    match tokio::time::timeout(limit, attempt).await {
        Ok(Ok(name)) => Ok(format!(
            "{}:{} answered EHLO as {name} ({})",
            s.host,
            s.port,
            match s.tls {
                SmtpTls::Starttls => "STARTTLS",
                SmtpTls::Tls => "TLS",
                SmtpTls::None => "plain text",
            }
        )),
        Ok(Err(e)) => Err(format!("{}:{}: {e}", s.host, s.port)),
        Err(_) => Err(format!(
            "{}:{}: no answer within {} s",
            s.host,
            s.port,
            limit.as_secs()
        )),
    }
}

/// The innermost cause ("Connection refused (os error 111)"), not lettre's chain.
fn plain(e: &lettre::transport::smtp::Error) -> String {
    let mut cur: &dyn std::error::Error = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}
