//! `sendwatch load FILE --source NAME`: one extract by hand, with a progress bar on a
//! terminal, and what became of it; `sendwatch load approve LOAD_ID`.

use std::process::ExitCode;

use anyhow::Context as _;

use super::{EXIT_FAILED, Failure, LoadCommand};
use crate::config::Settings;
use crate::job::App;

/// `load approve LOAD_ID`, or `load FILE --source NAME [--dry-run]`.
pub(super) async fn run(
    settings: Settings,
    action: Option<LoadCommand>,
    file: Option<std::path::PathBuf>,
    source: Option<String>,
    dry_run: bool,
) -> Result<ExitCode, Failure> {
    if let Some(LoadCommand::Approve { load_id }) = action {
        return approve(settings, load_id).await;
    }
    let (Some(file), Some(source)) = (file, source) else {
        return Err(anyhow::anyhow!("load needs FILE and --source NAME").into());
    };
    let app = App::build(settings).await.context("starting")?;
    let code = load_by_hand(&app, &source, &file, dry_run).await?;
    app.store.close().await;
    Ok(code)
}

/// `load approve LOAD_ID`: swap in a load the shrink guard held.
async fn approve(settings: Settings, load_id: i64) -> Result<ExitCode, Failure> {
    let app = App::build(settings).await.context("starting")?;
    let source = app
        .store
        .approve_load(load_id, chrono::Utc::now())
        .await
        .with_context(|| format!("approving load {load_id}"))?;
    println!("load {load_id} approved: it is now the current data of source {source}");
    app.store.close().await;
    Ok(ExitCode::SUCCESS)
}

pub(super) async fn load_by_hand(
    app: &App,
    source: &str,
    file: &std::path::Path,
    dry_run: bool,
) -> Result<ExitCode, Failure> {
    use std::io::IsTerminal;
    use std::sync::atomic::Ordering;
    let progress = crate::job::ingest::Progress::default();
    let bar = std::io::stderr().is_terminal().then(|| {
        let total = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
        let bar = indicatif::ProgressBar::new(total);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {binary_bytes}/{binary_total_bytes} {msg} ({elapsed})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        let (b, p) = (bar.clone(), progress.clone());
        let ticker = tokio::spawn(async move {
            loop {
                b.set_position(p.bytes.load(Ordering::Relaxed));
                b.set_message(format!("{} rows", p.rows.load(Ordering::Relaxed)));
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        });
        (bar, ticker)
    });
    let result = app
        .load_by_hand(source, file, dry_run, Some(progress))
        .await;
    if let Some((bar, ticker)) = bar {
        ticker.abort();
        bar.finish_and_clear();
    }
    let (run_id, outcome) = result.with_context(|| format!("loading {}", file.display()))?;
    use crate::store::SourceOutcome;
    let ok = match outcome {
        SourceOutcome::Loaded {
            load_id,
            rows,
            set_aside,
            as_of,
        } => {
            println!(
                "run {run_id}: source {source}: loaded (load {load_id}, {rows} rows{}, data to {})",
                aside(set_aside),
                crate::disclose::data_month(as_of)
            );
            true
        }
        SourceOutcome::Checked {
            rows,
            set_aside,
            as_of,
        } => {
            println!(
                "run {run_id}: source {source}: dry run, valid ({rows} rows{}, data to {}); nothing stored",
                aside(set_aside),
                crate::disclose::data_month(as_of)
            );
            true
        }
        SourceOutcome::Held {
            load_id,
            rows,
            reason,
        } => {
            println!(
                "run {run_id}: source {source}: HELD as load {load_id} ({rows} rows), not swapped in: {reason}\n  to accept it: sendwatch load approve {load_id}"
            );
            false
        }
        SourceOutcome::Rejected { error } => {
            println!("run {run_id}: source {source}: REJECTED, last good load kept: {error}");
            false
        }
        // A load by hand reads the file given: it is neither fetched nor unchanged.
        SourceOutcome::Unchanged { .. } | SourceOutcome::FetchFailed { .. } => false,
    };
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FAILED)
    })
}

pub(super) fn aside(n: u64) -> String {
    if n == 0 {
        String::new()
    } else {
        format!(", {n} set aside")
    }
}
