//! `sendwatch run-now [JOB]`: run a job (or every enabled one) once now and print what it did.

use std::process::ExitCode;

use anyhow::Context as _;

use super::{EXIT_BUSY, EXIT_FAILED, Failure, report};
use crate::config::Settings;
use crate::job::{App, RunOptions};
use crate::store::RunStatus;

/// Run each job named (every enabled job if none is); exit 1 if a run failed, else 75 if a
/// job was already running and this run was not started.
pub(super) async fn run(
    settings: Settings,
    job: Option<String>,
    period: Option<crate::kpi::Period>,
    force: bool,
    no_wait: bool,
) -> Result<ExitCode, Failure> {
    let jobs = super::job_names(&settings, job)?;
    let app = App::build(settings).await.context("starting")?;
    let (mut failed, mut busy) = (false, false);
    for name in jobs {
        let opts = RunOptions {
            period,
            force,
            wait: !no_wait,
            ..RunOptions::manual()
        };
        let report = match app.run_job(&name, opts).await {
            Ok(report) => report,
            // Another run holds the job: said, and the other jobs still run.
            Err(e @ crate::job::JobError::Busy { .. }) => {
                eprintln!("{e}");
                busy = true;
                continue;
            }
            Err(e) => {
                return Err(anyhow::Error::new(e)
                    .context(format!("job `{name}`"))
                    .into());
            }
        };
        report::print_report(&report, app.settings.disclosure());
        failed |= report.status == RunStatus::Failed;
    }
    app.store.close().await;
    Ok(if failed {
        ExitCode::from(EXIT_FAILED)
    } else if busy {
        ExitCode::from(EXIT_BUSY)
    } else {
        ExitCode::SUCCESS
    })
}
