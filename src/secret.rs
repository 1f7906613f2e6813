//! Secrets in settings: inline, `*_file`, or a systemd credential; never printed.
//!
//! Underneath every stage that holds a secret (config, source, store). Owns: the "at most one of X and X_file" rule, reading secret files (trailing newline
//! trimmed), the `$CREDENTIALS_DIRECTORY` fallback, and redacting URLs for logs.

use std::path::{Path, PathBuf};

use secrecy::SecretString;

/// Reject a secret given both inline and as a file.
pub fn check_pair(
    bad: &mut dyn FnMut(String, String),
    key: &str,
    value: &Option<SecretString>,
    file: &Option<PathBuf>,
) {
    if value.is_some() && file.is_some() {
        bad(
            key.to_string(),
            format!("give at most one of {key} and {key}_file"),
        );
    }
}

/// One secret to resolve: where it may come from and where it goes.
pub struct SecretSpec<'a> {
    /// Key for error messages, e.g. `delivery.smtp.password`.
    pub key: &'a str,
    /// File name looked up in `$CREDENTIALS_DIRECTORY` when neither value nor file is set.
    pub credential: String,
    pub value: &'a mut Option<SecretString>,
    pub file: &'a Option<PathBuf>,
}

impl SecretSpec<'_> {
    /// Read the secret from its file or credential if not given inline. The error is the key at
    /// fault and what is wrong.
    pub fn resolve(self, credentials_dir: Option<&Path>) -> Result<(), (String, String)> {
        if self.value.is_some() {
            return Ok(());
        }
        let path = match (self.file, credentials_dir) {
            (Some(f), _) => f.clone(),
            (None, Some(dir)) if dir.join(&self.credential).is_file() => dir.join(&self.credential),
            _ => return Ok(()),
        };
        let text = std::fs::read_to_string(&path).map_err(|e| {
            (
                format!("{}_file", self.key),
                format!("cannot read {}: {e}", path.display()),
            )
        })?;
        let trimmed = text.strip_suffix('\n').unwrap_or(&text);
        let trimmed = trimmed.strip_suffix('\r').unwrap_or(trimmed);
        *self.value = Some(SecretString::from(trimmed.to_string()));
        Ok(())
    }
}

/// A URL fit for a log line, a mail or the `loads` table: any password replaced by `***`,
/// every query-string value by `***` (the keys stay, so `?auth=***&page=***` still says what
/// was asked), and any fragment by `***`. Every query value is hidden, not only keys that
/// look like credentials: `?auth=`, `?pwd=`, `?session=` and whatever else a server names its
/// secret cannot all be listed. A string with no `scheme://` (a local path) is returned as is.
/// Idempotent, so a URL redacted twice reads the same.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (rest, fragment) = match rest.split_once('#') {
        Some((r, f)) if !f.is_empty() => (r, "#***"),
        Some((r, _)) => (r, "#"),
        None => (rest, ""),
    };
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, Some(q)),
        None => (rest, None),
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{user}:***@{host}")
        }
        None => authority.to_string(),
    };
    let query = match query {
        None => String::new(),
        Some(q) => {
            let pairs: Vec<String> = q
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((k, v)) if !v.is_empty() => format!("{k}=***"),
                    _ => pair.to_string(),
                })
                .collect();
            format!("?{}", pairs.join("&"))
        }
    };
    format!("{scheme}://{authority}{path}{query}{fragment}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn file_secret_is_trimmed_of_one_trailing_newline() {
        let dir = tempfile::tempdir().expect("tempdir");
        let f = dir.path().join("pw");
        std::fs::write(&f, "s3cret \r\n").expect("write");
        let mut value = None;
        SecretSpec {
            key: "k",
            credential: "x".into(),
            value: &mut value,
            file: &Some(f),
        }
        .resolve(None)
        .expect("resolves");
        assert_eq!(value.expect("set").expose_secret(), "s3cret ");
    }

    #[test]
    fn credentials_directory_is_the_fallback() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("smtp_password"), "from-systemd\n").expect("write");
        let mut value = None;
        SecretSpec {
            key: "k",
            credential: "smtp_password".into(),
            value: &mut value,
            file: &None,
        }
        .resolve(Some(dir.path()))
        .expect("resolves");
        assert_eq!(value.expect("set").expose_secret(), "from-systemd");
    }

    #[test]
    fn missing_secret_file_names_the_key() {
        let mut value = None;
        let issue = SecretSpec {
            key: "delivery.smtp.password",
            credential: "smtp_password".into(),
            value: &mut value,
            file: &Some(PathBuf::from("/nonexistent/pw")),
        }
        .resolve(None)
        .unwrap_err();
        assert_eq!(issue.0, "delivery.smtp.password_file");
    }

    #[test]
    fn urls_lose_their_password() {
        assert_eq!(
            redact_url("postgres://app:topsecret@db.local:5432/sw"),
            "postgres://app:***@db.local:5432/sw"
        );
        assert_eq!(redact_url("sqlite://data/x.db"), "sqlite://data/x.db");
        assert_eq!(
            redact_url("examples/x.csv?token=1"),
            "examples/x.csv?token=1"
        );
    }

    #[test]
    fn every_query_value_is_hidden_and_only_the_keys_shown() {
        // Credentials under names no list would hold, beside a plain page number.
        assert_eq!(
            redact_url("https://h.example/x.csv?auth=SECRETVALUE&pwd=p4ss&session=s3ss&page=2"),
            "https://h.example/x.csv?auth=***&pwd=***&session=***&page=***"
        );
        assert_eq!(
            redact_url("https://u:pw@h.example?Access_Token=a&API_KEY=b&page=2"),
            "https://u:***@h.example?Access_Token=***&API_KEY=***&page=***"
        );
        assert_eq!(
            redact_url("https://h/x?sig=s&keep=v#access_token=t"),
            "https://h/x?sig=***&keep=***#***",
            "a fragment can carry a token too"
        );
        // Flags without a value and empty values hide nothing; the keys are kept in order.
        assert_eq!(
            redact_url("https://h/x?token&empty=&b=1"),
            "https://h/x?token&empty=&b=***"
        );
        assert_eq!(
            redact_url("http://h:8080?code=1"),
            "http://h:8080?code=***",
            "a query right after the host"
        );
        assert_eq!(
            redact_url("http://h/x?y=a:b@c"),
            "http://h/x?y=***",
            "an @ in the query is not userinfo"
        );
        let once = redact_url("https://u:pw@h/x?auth=SECRET#f");
        assert_eq!(redact_url(&once), once, "redacting twice changes nothing");
    }
}
