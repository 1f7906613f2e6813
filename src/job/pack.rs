//! Making a board pack from what the store holds: read the results, the values entered by
//! hand, the retargets, the risk log's history, the commentary, the action log's updates,
//! the loads in force and the published benchmarks; build and render the pack; write the
//! HTML (and a PDF when Chromium is there) into a folder.
//!
//! Owns: the reads and the files. Shared by `sendwatch report` and the live board view.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::config::Settings;
use crate::kpi::Period;
use crate::kpi::manual::retarget;
use crate::pack::{self, Audience};
use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum PackJobError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Render(#[from] pack::PackError),
    #[error("cannot write {path}: {message}")]
    Write { path: String, message: String },
}

/// Whether to print a PDF beside the HTML.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum PdfMode {
    /// When a Chromium is installed.
    #[default]
    Auto,
    /// Fail when no Chromium can print it.
    Always,
    Never,
}

/// What was written.
#[derive(Debug)]
pub struct Written {
    pub html: PathBuf,
    /// The PDF, or why there is none.
    pub pdf: Result<PathBuf, String>,
    pub kpis: usize,
    pub exceptions: usize,
}

/// Everything a pack or a board page is made from, as read from the store.
pub struct Gathered {
    pub kpis: crate::kpi::Catalogue,
    pub owners: std::collections::BTreeMap<String, String>,
    pub results: Vec<crate::kpi::StoredResult>,
    pub entered: Vec<crate::kpi::manual::Entered>,
    pub events: Vec<crate::risk::RiskEvent>,
    pub loads: Vec<crate::store::LoadRecord>,
    pub commentary: Vec<crate::kpi::commentary::Commentary>,
    pub action_updates: Vec<crate::action::Recorded>,
    /// Each timeliness KPI's published benchmarks, by KPI id.
    pub benchmarks: std::collections::BTreeMap<String, crate::view::benchmark::Benchmark>,
    /// The answers by link still drafts (said to await approval, never counted).
    pub drafts: Vec<crate::store::StoredAnswer>,
}

impl Gathered {
    /// Read it: the stored results, values entered by hand, retargets (merged into the
    /// catalogue), the risk log's history and each source's load in force.
    pub async fn read(store: &Store, settings: &Settings) -> Result<Gathered, StoreError> {
        let results = store.stored_results().await?;
        let entered = store.manual_values().await?;
        let stored = store.retargets().await?;
        let events = store.risk_events().await?;
        // Every entry: the pack takes the latest per KPI and period, the KPI page lists them.
        let commentary = store.commentary_history(None).await?;
        let action_updates = store.action_updates(None).await?;
        let mut loads = Vec::new();
        for name in settings.sources.keys() {
            if let Some(l) = store.current_load(name).await? {
                loads.push(l);
            }
        }
        let mut kpis = settings.kpis.clone();
        retarget::merge(&mut kpis, &stored);
        crate::stats::national::lay_over(store, &mut kpis).await?;
        let compared =
            crate::stats::compare::read(store, &settings.stats, &settings.general.area).await?;
        let benchmarks =
            crate::view::benchmark::build_all(&kpis, &settings.stats.measures, &compared);
        let owners = crate::notify::sub_group_names(&settings.sub_groups);
        let drafts = store.answers(Some("draft")).await?;
        Ok(Gathered {
            kpis,
            owners,
            results,
            entered,
            events,
            loads,
            commentary,
            action_updates,
            benchmarks,
            drafts,
        })
    }

    /// The pack's inputs over what was read.
    pub fn inputs<'a>(
        &'a self,
        settings: &'a Settings,
        audience: Audience,
        period: Option<Period>,
        now: DateTime<Utc>,
    ) -> pack::Inputs<'a> {
        pack::Inputs {
            area: &settings.general.area,
            audience,
            period,
            now,
            kpis: &self.kpis,
            owners: &self.owners,
            results: &self.results,
            entered: &self.entered,
            risks: &settings.risks,
            risk_log: &settings.risk_log,
            risk_events: &self.events,
            commentary: &self.commentary,
            loads: &self.loads,
            actions: &settings.actions,
            action_updates: &self.action_updates,
            today: now.with_timezone(&settings.time_zone()).date_naive(),
            disclosure: settings.disclosure(),
            rag: settings.rag,
            benchmarks: &self.benchmarks,
            answers: &self.drafts,
        }
    }
}

/// The file name for a pack: area, audience and period, safe on any file system.
pub fn file_stem(area: &str, audience: Audience, period: Option<Period>) -> String {
    let slug = |s: &str| {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect::<String>()
            .split('-')
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join("-")
    };
    let when = period.map_or_else(|| "latest".to_string(), |p| slug(&p.to_string()));
    format!("{}-send-{}-pack-{when}", slug(area), audience.as_str())
}

/// What pack to make, and where.
#[derive(Debug, Clone)]
pub struct PackRequest<'a> {
    pub audience: Audience,
    pub period: Option<Period>,
    /// The folder (created 0700; files 0600).
    pub out: &'a Path,
    pub pdf: PdfMode,
    /// A council's own `pack.html.j2`, if any.
    pub templates_dir: Option<&'a Path>,
}

/// Build, render and write the pack, then the PDF.
pub async fn write_pack(
    store: &Store,
    settings: &Settings,
    req: &PackRequest<'_>,
    now: DateTime<Utc>,
) -> Result<Written, PackJobError> {
    let (audience, period, out, pdf) = (req.audience, req.period, req.out, req.pdf);
    let gathered = Gathered::read(store, settings).await?;
    let built = pack::build(&gathered.inputs(settings, audience, period, now));
    let html = pack::render_html(&built, req.templates_dir, settings.disclosure())?;
    let stem = file_stem(&settings.general.area, audience, period);
    let html_path = out.join(format!("{stem}.html"));
    let failed = |path: &Path, e: std::io::Error| PackJobError::Write {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    crate::notify::deliver::private_folder(out).map_err(|e| failed(out, e))?;
    crate::notify::deliver::private_write(&html_path, html.as_bytes())
        .map_err(|e| failed(&html_path, e))?;
    let pdf_path = out.join(format!("{stem}.pdf"));
    let pdf = match (pdf, pack::pdf::find_chromium(None)) {
        (PdfMode::Never, _) => Err("not asked for (--pdf never)".to_string()),
        (_, None) => Err("no Chromium found on PATH (chromium, google-chrome)".to_string()),
        (_, Some(browser)) => match pack::pdf::print_pdf(&browser, &html_path, &pdf_path).await {
            Ok(()) => {
                crate::notify::deliver::private_file(&pdf_path)
                    .map_err(|e| failed(&pdf_path, e))?;
                Ok(pdf_path)
            }
            Err(e) => Err(e.to_string()),
        },
    };
    Ok(Written {
        html: html_path,
        pdf,
        kpis: built.kpis.len(),
        exceptions: built.exceptions.len(),
    })
}
