//! A pack job's run (`pack = { ... }` on a job): make the board pack from what the runs
//! stored and mail it, HTML and PDF attached, to each of its recipients through the outbox.
//! The pack passes the disclosure control every output does; the mail's own words are the
//! pack's title and period, no figure. Keyed by job, audience, day and recipient, so the same
//! pack is not queued twice however often the job runs that day.

use chrono::{DateTime, Days, NaiveDate, Utc};

use super::pack::{PackRequest, PdfMode, write_pack};
use super::{App, JobError, RunReport};
use crate::news::Part;
use crate::notify;
use crate::pack::PackJobSettings;
use crate::store::RunStatus;

impl App {
    pub(super) async fn run_pack(
        &self,
        job: &str,
        p: &PackJobSettings,
        run_id: i64,
        started: DateTime<Utc>,
    ) -> Result<RunReport, JobError> {
        let settings = &self.settings;
        let today = started.with_timezone(&settings.time_zone()).date_naive();
        let mut queued = 0;
        let summary = match p.days_before_meeting {
            Some(days)
                if !today
                    .checked_add_days(Days::new(u64::from(days)))
                    .is_some_and(|d| settings.action_log.meetings.contains(&d)) =>
            {
                format!("no board meeting {days} days from {today}: no pack")
            }
            _ => {
                queued = self
                    .make_and_queue_pack(job, p, run_id, started, today)
                    .await?;
                format!("pack ({}) made; {queued} queued", p.audience.as_str())
            }
        };
        let delivery = self.deliver_due().await?;
        let status = if delivery.failed == 0 {
            RunStatus::Ok
        } else {
            RunStatus::Failed
        };
        let summary = format!(
            "{summary}; sent {}, failed {}, pending {}",
            delivery.sent, delivery.failed, delivery.still_pending
        );
        self.store
            .finish_run(run_id, status, &summary, self.clock.now())
            .await?;
        tracing::info!(status = status.as_str(), %summary, "Run finished.");
        Ok(RunReport {
            run_id,
            job: job.to_string(),
            status,
            sources: Vec::new(),
            evaluations: Vec::new(),
            risks: Vec::new(),
            queued,
            delivery,
            delivered_via: self.notifier.transport.describe(),
            stages: super::Stages::default(),
        })
    }

    /// Write the pack of `p`'s audience and queue it, with its PDF if there is one, to each of
    /// its recipients once per job, audience and day; how many were queued.
    async fn make_and_queue_pack(
        &self,
        job: &str,
        p: &PackJobSettings,
        run_id: i64,
        started: DateTime<Utc>,
        today: NaiveDate,
    ) -> Result<usize, JobError> {
        let settings = &self.settings;
        let mut queued = 0;
        let out = settings.general.data_dir.join("packs").join(job);
        let req = PackRequest {
            audience: p.audience,
            period: None,
            out: &out,
            pdf: PdfMode::Auto,
            templates_dir: None,
        };
        let written = write_pack(&self.store, settings, &req, started)
            .await
            .map_err(|e| JobError::Pack(e.to_string()))?;
        let mut files = vec![file(&written.html, "text/html; charset=utf-8")?];
        if let Ok(pdf) = &written.pdf {
            files.push(file(pdf, "application/pdf")?);
        }
        let title = p.audience.title();
        let subject = format!(
            "{} {} SEND improvement plan: {title}, {today}",
            settings.delivery.subject_prefix, settings.general.area
        );
        let body = format!(
            "The {title} for the {} SEND improvement plan, made {today} from the figures \
             sendwatch holds, is attached as a web page{}.\n\nIt holds {} KPIs, {} of \
             them in exception, the risk log, the action log and where each figure came \
             from. Open the attachment in a browser; it needs no network.\n",
            settings.general.area,
            if files.len() > 1 { " and a PDF" } else { "" },
            written.kpis,
            written.exceptions,
        );
        for to in p.recipients(&settings.sub_groups) {
            let key = format!(
                "pack|{job}|{}|{today}|{}",
                p.audience.as_str(),
                to.to_ascii_lowercase()
            );
            let mail = notify::PackMail {
                run_id,
                audience: p.audience.as_str(),
                to: &to,
                subject: subject.trim(),
                text: &body,
                files: &files,
                key,
            };
            if notify::outbox::queue_pack(&self.store, &mail, started).await? {
                queued += 1;
            }
        }
        Ok(queued)
    }
}

/// A written file, read back (bounded: a pack is a few hundred kilobytes).
fn file(path: &std::path::Path, content_type: &str) -> Result<Part, JobError> {
    const MAX: u64 = 32 << 20;
    let bytes = std::fs::metadata(path)
        .and_then(|m| {
            if m.len() > MAX {
                Err(std::io::Error::other("larger than 32 MiB"))
            } else {
                std::fs::read(path)
            }
        })
        .map_err(|e| JobError::Pack(format!("cannot read {}: {e}", path.display())))?;
    let filename = path
        .file_name()
        .map_or_else(|| "pack".into(), |n| n.to_string_lossy().into_owned());
    Ok(Part::attachment(filename, content_type, bytes))
}
