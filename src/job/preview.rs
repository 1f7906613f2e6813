//! `sendwatch preview`: what a run of a job would mail, and to whom, from the data already
//! loaded: no fetch, no run in the ledger, nothing recorded, queued or sent. The KPIs are
//! evaluated as a run would (not stored), the risk register assessed against the stored
//! history with those evaluations in place (not recorded), and every digest rendered as a
//! run renders it ([`super::digests`]).
//!
//! With `--out DIR` each email is written as `.eml`, `.html` and `.txt`, named by recipient,
//! period and sub-groups: the folder 0700, each file 0600 (they carry the same figures as the
//! mail, for the service user only).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::digests::Found;
use super::{App, JobError};
use crate::kpi::{Evaluation, Period};
use crate::notify::Planned;
use crate::store::SourceState;

/// What a run would mail.
#[derive(Debug, Clone)]
pub struct Preview {
    pub job: String,
    /// The instant it was made at (the clock read once).
    pub now: chrono::DateTime<chrono::Utc>,
    pub evaluations: Vec<Evaluation>,
    pub planned: Vec<Planned>,
    /// For each of `planned`, in order: what queueing it now would decide (news and why, or
    /// no news), against what was told, recording nothing.
    pub news: Vec<crate::notify::Decision>,
}

impl App {
    /// Evaluate `job` on the loaded data and render its digests, recording nothing.
    pub async fn preview(&self, job: &str, period: Option<Period>) -> Result<Preview, JobError> {
        let run = self.run_of(job, None, self.clock.now(), period)?;
        let mut notes = BTreeMap::new();
        for name in &run.settings.sources {
            notes.insert(
                name.clone(),
                SourceState {
                    source: name.clone(),
                    outcome: None,
                    load: self.store.current_load(name).await?,
                },
            );
        }
        let found = self.find(&run, &notes).await?;
        let planned = self
            .plan_digests(&Found {
                run: &run,
                findings: &found,
                notes: &notes,
                router: &self.router(),
            })
            .await?;
        let repeat = self.settings.notify.repeat_interval();
        let mut news = Vec::new();
        for p in &planned {
            news.push(
                crate::notify::outbox::would_send(
                    &self.store,
                    &p.recipient,
                    &p.key,
                    repeat,
                    run.now,
                )
                .await?,
            );
        }
        Ok(Preview {
            job: job.to_string(),
            now: run.now,
            evaluations: found.evaluations,
            planned,
            news,
        })
    }

    /// Write each email of `preview` into `dir` as `.eml` (as it would be sent), `.html` and
    /// `.txt`; the paths written.
    pub fn write_preview(&self, preview: &Preview, dir: &Path) -> Result<Vec<PathBuf>, JobError> {
        let failed = |p: &Path, e: &dyn std::fmt::Display| {
            JobError::File(format!("cannot write {}: {e}", p.display()))
        };
        super::ingest::private_dir(dir).map_err(|e| failed(dir, &e))?;
        let from: lettre::message::Mailbox = self
            .settings
            .delivery
            .from
            .parse()
            .map_err(|e| JobError::File(format!("delivery.from: {e}")))?;
        let mut written = Vec::new();
        for p in &preview.planned {
            let stem = file_stem(&p.recipient, &p.periods, &p.sub_groups);
            let row = crate::store::OutboxRow {
                id: 0,
                run_id: 0,
                sub_group: p.sub_groups.join(","),
                recipients: p.recipient.clone(),
                subject: p.mail.subject.clone(),
                body_text: p.mail.text.clone(),
                // Never stored: the row a message is built from.
                status: crate::store::OutboxStatus::Pending,
                attempts: 0,
                last_error: None,
                created_at: preview.now,
                sent_at: None,
                next_attempt_at: None,
                ambiguous_at: None,
                reason: None,
            };
            let body = crate::store::StoredBody {
                html: Some(p.mail.html.clone()),
                parts: p.mail.parts(),
            };
            let eml = crate::notify::deliver::message(&row, &body, &from, "preview")
                .map_err(|e| JobError::File(format!("{}: {e}", p.recipient)))?
                .formatted();
            // The .html opens in a browser, which has no message to fetch cid: parts from.
            let html = inline_images(&p.mail);
            for (ext, bytes) in [
                ("eml", eml.as_slice()),
                ("html", html.as_bytes()),
                ("txt", p.mail.text.as_bytes()),
            ] {
                let path = dir.join(format!("{stem}.{ext}"));
                crate::notify::deliver::private_write(&path, bytes)
                    .map_err(|e| failed(&path, &e))?;
                written.push(path);
            }
        }
        Ok(written)
    }
}

/// The mail's HTML with each inline chart (`cid:NAME`) as a `data:` URI, so that the file
/// shows its charts in a browser.
fn inline_images(mail: &crate::notify::render::Mail) -> String {
    let mut html = mail.html.clone();
    for i in &mail.images {
        let uri = format!("data:image/png;base64,{}", base64(&i.png));
        html = html.replace(&format!("cid:{}", i.cid), &uri);
    }
    html
}

/// Standard base64 with padding (RFC 4648).
fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(char::from(ABC[((n >> (18 - 6 * k)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// "p_at_example.org--2021-07--performance": letters, digits, `.`, `_` and `-` only, so no
/// name can leave the folder or surprise a shell.
pub fn file_stem(recipient: &str, periods: &str, sub_groups: &[String]) -> String {
    let safe = |s: &str| -> String {
        let s = s.to_ascii_lowercase().replace('@', "_at_");
        let mut out: String = s
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        while out.starts_with('.') {
            out.remove(0);
        }
        out.chars().take(80).collect()
    };
    format!(
        "{}--{}--{}",
        safe(recipient),
        safe(periods),
        safe(&sub_groups.join("+"))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_name_says_who_when_and_which_sub_groups_and_stays_in_its_folder() {
        assert_eq!(
            file_stem(
                "Bob.Smith@Example.org",
                "2021-07,2021-Q2",
                &["performance".into(), "health".into()]
            ),
            "bob.smith_at_example.org--2021-07_2021-q2--performance_health"
        );
        let odd = file_stem("../../etc/passwd", "risk log", &["a/b".into()]);
        assert!(!odd.contains('/') && !odd.starts_with('.'), "{odd}");
    }

    #[test]
    fn the_html_file_carries_its_charts_as_data_uris() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        let mail = crate::notify::render::Mail {
            html: r#"<img src="cid:chart1.preview@sendwatch">"#.into(),
            images: vec![crate::notify::render::Image {
                cid: "chart1.preview@sendwatch".into(),
                png: b"foo".to_vec(),
            }],
            ..Default::default()
        };
        assert_eq!(
            inline_images(&mail),
            r#"<img src="data:image/png;base64,Zm9v">"#
        );
    }
}
