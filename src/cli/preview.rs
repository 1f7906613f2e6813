//! `sendwatch preview [JOB] [--period P] [--out DIR]`: who a run would mail, with what
//! (recipient, sub-groups, subject, item count, and whether it is news now: "would send:
//! changed", "no news"), and with `--out` each email written as
//! `.eml`, `.html` and `.txt`. Nothing is fetched, recorded, queued or sent ([`App::preview`]).

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;

use super::Failure;
use crate::config::Settings;
use crate::job::App;
use crate::kpi::Period;

pub(super) async fn run(
    settings: Settings,
    job: Option<String>,
    period: Option<Period>,
    out: Option<&Path>,
) -> Result<ExitCode, Failure> {
    let jobs = super::job_names(&settings, job)?;
    let app = App::build(settings).await.context("starting")?;
    for name in jobs {
        let p = app
            .preview(&name, period)
            .await
            .with_context(|| format!("job `{name}`"))?;
        println!(
            "job {name}: {} email{} would be queued (before the repeat interval is applied); nothing sent or recorded",
            p.planned.len(),
            if p.planned.len() == 1 { "" } else { "s" }
        );
        for (m, news) in p.planned.iter().zip(&p.news) {
            println!("  to {}", m.recipient);
            println!("    sub-groups: {}", m.sub_group_names.join("; "));
            println!("    subject:    {}", m.mail.subject);
            println!(
                "    items:      {} ({} chart{})",
                m.items,
                m.mail.images.len(),
                if m.mail.images.len() == 1 { "" } else { "s" }
            );
            println!("    news:       {news}");
        }
        if let Some(dir) = out {
            let files = app
                .write_preview(&p, dir)
                .with_context(|| format!("writing the preview into {}", dir.display()))?;
            println!("  wrote {} files into {}", files.len(), dir.display());
        }
    }
    app.store.close().await;
    Ok(ExitCode::SUCCESS)
}
