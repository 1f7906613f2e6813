//! `sendwatch kpi ...`: the board's KPI table from the stored results, and what people enter
//! into it: values of the KPIs no extract carries (`set`, `import`, `values`) and recovery
//! plans' target versions (`retarget`).
//!
//! The checks are [`crate::kpi::manual`]'s; here the clock is read, the login name found and
//! the store written. A refused entry stores nothing and exits 1.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

pub(super) use crate::disclose::stamp;
use anyhow::{Context as _, anyhow};
use chrono::{NaiveDate, Utc};
use clap::Subcommand;

use super::Failure;
use crate::config::Settings;
use crate::kpi::manual::{self, Draft, Entered, Field, import, retarget};
use crate::kpi::{Baseline, MilestoneSettings, Month, Retarget};
use crate::store::Store;

#[derive(Debug, Subcommand)]
pub enum KpiCommand {
    /// Print the board's KPI table: baseline, each milestone with its target and the stored
    /// value and RAG for its month, owner, and the values entered by hand.
    Show {
        /// One KPI id (e.g. 1/2a); all of them if not given.
        kpi: Option<String>,
        /// Show each KPI's value for this period (YYYY-MM, YYYY-Qn, AYyyyy/yy, FYyyyy/yy,
        /// YYYY; a KPI reported over longer periods shows the one holding its last month)
        /// instead of the latest.
        #[arg(long)]
        period: Option<crate::kpi::Period>,
        /// table, csv (one row per milestone) or json.
        #[arg(long, default_value = "table")]
        format: crate::view::Format,
        /// Print only the timeliness KPIs' published benchmarks (the area beside its region,
        /// England and its statistical neighbours per year); as CSV, one row per year and
        /// area with the release, file and line.
        #[arg(long)]
        benchmarks: bool,
    },
    /// Enter the value of a KPI no extract carries, for one period. A later entry for the same
    /// KPI and period supersedes this one; both are kept.
    Set {
        /// The KPI id, e.g. 3/3.
        kpi: String,
        /// 2020-03 (month), 2020-Q1 (quarter), AY2019/20, FY2019/20 or 2020 (calendar year),
        /// as the KPI is reported.
        #[arg(long)]
        period: String,
        /// The value: a percentage 0-100, weeks, or a count.
        #[arg(long, allow_negative_numbers = true)]
        value: f64,
        /// What the value is a share of, with --denominator (both or neither).
        #[arg(long, allow_negative_numbers = true, requires = "denominator")]
        numerator: Option<i64>,
        /// The whole the value is a share of, with --numerator (both or neither).
        #[arg(long, allow_negative_numbers = true, requires = "numerator")]
        denominator: Option<i64>,
        /// A line of context for the board's table (`kpi show` only; never mailed).
        #[arg(long)]
        note: Option<String>,
        /// Who is entering it (default: the login name).
        #[arg(long)]
        by: Option<String>,
    },
    /// Enter a meeting's worth of values from a CSV with the columns
    /// kpi,period,value,numerator,denominator,note,by. All are stored, or none.
    Import {
        /// The CSV file (UTF-8, a header row, at most 1 MiB).
        file: PathBuf,
        /// Who entered the rows whose `by` is blank (default: the login name).
        #[arg(long)]
        by: Option<String>,
    },
    /// Every value entered by hand, superseded ones too.
    Values {
        /// One KPI id; all of them if not given.
        kpi: Option<String>,
    },
    /// Record a recovery plan's new targets for a KPI from a month on; the schedule before
    /// stays in force for earlier periods and for the record.
    Retarget {
        /// The KPI id, e.g. 1/6.
        kpi: String,
        /// The first month (YYYY-MM) of the new schedule.
        #[arg(long)]
        effective: Month,
        /// Why, as agreed (e.g. "SENDCIB agreed recovery plan, January 2020").
        #[arg(long)]
        reason: String,
        /// "FROM=TARGET[:LABEL]", once per milestone, in date order. TARGET: 75 (fixed),
        /// "75 or national", national, baseline+10 (points), baseline+10% (relative),
        /// "establish baseline", na.
        #[arg(long = "milestone", value_parser = retarget::parse_milestone)]
        milestones: Vec<MilestoneSettings>,
        /// A new baseline, as the plan states it; with --baseline-value and --baseline-date,
        /// or --baseline-establish-by.
        #[arg(long)]
        baseline: Option<String>,
        /// The new baseline's value, in the KPI's unit.
        #[arg(long, requires = "baseline", allow_negative_numbers = true)]
        baseline_value: Option<f64>,
        /// The month (YYYY-MM) the baseline value describes.
        #[arg(long, requires = "baseline")]
        baseline_date: Option<Month>,
        /// The date (YYYY-MM-DD) by which a baseline still unknown is to be established.
        #[arg(long, requires = "baseline")]
        baseline_establish_by: Option<NaiveDate>,
        /// Who is recording it (default: the login name).
        #[arg(long)]
        by: Option<String>,
    },
}

pub(super) async fn run(settings: &Settings, command: KpiCommand) -> Result<ExitCode, Failure> {
    let now = Utc::now();
    let today = now.with_timezone(&settings.time_zone()).date_naive();
    match command {
        KpiCommand::Show {
            kpi,
            period,
            format,
            benchmarks,
        } => show(settings, kpi.as_deref(), period, format, benchmarks).await,
        KpiCommand::Set {
            kpi,
            period,
            value,
            numerator,
            denominator,
            note,
            by,
        } => {
            let draft = Draft {
                kpi: kpi.clone(),
                period,
                value,
                numerator,
                denominator,
                note,
                by: by.or_else(login_name).unwrap_or_default(),
            };
            set(settings, &kpi, &draft, now, today).await
        }
        KpiCommand::Import { file, by } => {
            let shown = file.display().to_string();
            let bytes = read_bounded(&file).with_context(|| format!("reading {shown}"))?;
            let default_by = by.or_else(login_name);
            let values = import::read(&bytes, &shown, &settings.kpis, default_by.as_deref(), today)
                .map_err(anyhow::Error::from)?;
            let store = open(settings).await?;
            let saved = store.save_manual_values(&values, now, "import").await;
            store.close().await;
            let ids = saved.context("storing the values")?;
            println!(
                "{shown}: {} value{} stored at {} (entries {}-{})",
                values.len(),
                if values.len() == 1 { "" } else { "s" },
                stamp(now),
                ids.first().copied().unwrap_or_default(),
                ids.last().copied().unwrap_or_default()
            );
            for v in &values {
                println!(
                    "  KPI {} {}: {} by {}",
                    v.kpi_id,
                    v.period.label(),
                    in_unit(settings, &v.kpi_id, v.value),
                    v.by
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        KpiCommand::Values { kpi } => {
            if let Some(id) = &kpi
                && !settings.kpis.contains_key(id)
            {
                return Err(super::usage(anyhow!(
                    "no KPI named `{id}` in the catalogue"
                )));
            }
            let store = open(settings).await?;
            let all = store.manual_history(kpi.as_deref()).await;
            store.close().await;
            print!("{}", history(settings, &all.context("reading the values")?));
            Ok(ExitCode::SUCCESS)
        }
        KpiCommand::Retarget {
            kpi,
            effective,
            reason,
            milestones,
            baseline,
            baseline_value,
            baseline_date,
            baseline_establish_by,
            by,
        } => {
            let by = by.or_else(login_name).unwrap_or_default();
            let r = Retarget {
                effective: effective.to_string(),
                reason: reason.trim().to_string(),
                baseline: baseline.map(|text| Baseline {
                    text: text.trim().to_string(),
                    value: baseline_value,
                    date: baseline_date.map(|m| m.to_string()),
                    establish_by: baseline_establish_by,
                }),
                milestones,
            };
            retarget_kpi(settings, &kpi, effective, &r, &by, now).await
        }
    }
}

/// `kpi show`: the catalogue with the stored results and the published benchmarks, as text,
/// CSV or JSON (`--benchmarks`: those alone).
async fn show(
    settings: &Settings,
    kpi: Option<&str>,
    period: Option<crate::kpi::Period>,
    format: crate::view::Format,
    benchmarks_only: bool,
) -> Result<ExitCode, Failure> {
    let store = open(settings).await?;
    let read = async {
        Ok::<_, crate::store::StoreError>((
            store.stored_results().await?,
            store.manual_values().await?,
            store.retargets().await?,
        ))
    };
    let mut kpis = settings.kpis.clone();
    let read = read.await;
    // Each milestone's note says whether its national figure is published or typed.
    let published = crate::stats::national::lay_over(&store, &mut kpis).await;
    let compared =
        crate::stats::compare::read(&store, &settings.stats, &settings.general.area).await;
    store.close().await;
    let (results, entered, stored) = read.context("reading stored KPI results")?;
    published.context("reading the published statistics")?;
    let compared = compared.context("reading the published statistics")?;
    retarget::merge(&mut kpis, &stored);
    let benchmarks = crate::view::benchmark::build_all(&kpis, &settings.stats.measures, &compared);
    if benchmarks_only {
        if let Some(id) = kpi
            && !kpis.contains_key(id)
        {
            return Err(super::usage(anyhow!(
                "no KPI named `{id}` in the catalogue"
            )));
        }
        let shown: Vec<_> = benchmarks
            .values()
            .filter(|b| kpi.is_none_or(|id| b.kpi == id))
            .collect();
        print!("{}", crate::view::benchmark::show(&shown, format));
        return Ok(ExitCode::SUCCESS);
    }
    let owners = crate::notify::sub_group_names(&settings.sub_groups);
    let stored = crate::view::kpi::Stored {
        catalogue: &kpis,
        owners: &owners,
        results: &results,
        entered: &entered,
        rag: settings.rag,
        disclosure: settings.disclosure(),
    };
    let text = crate::view::kpi::show_benchmarked(&stored, &benchmarks, kpi, period, format)
        .map_err(|e| match e {
            crate::view::kpi::ShowError::UnknownKpi(_) => super::usage(e),
            e => anyhow::Error::from(e).into(),
        })?;
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}

/// `kpi set`: check one value entered by hand and store it, saying what it supersedes.
async fn set(
    settings: &Settings,
    kpi: &str,
    draft: &Draft,
    now: chrono::DateTime<Utc>,
    today: NaiveDate,
) -> Result<ExitCode, Failure> {
    let v = manual::check(&settings.kpis, draft, today).map_err(|refused| {
        let lines: Vec<String> = refused
            .iter()
            .map(|r| format!("  {}: {}", flag(r.field), r.message))
            .collect();
        super::usage(anyhow!(
            "kpi set {kpi}: refused, nothing stored:\n{}",
            lines.join("\n")
        ))
    })?;
    let store = open(settings).await?;
    let saved = async {
        let before = store.manual_history(Some(&v.kpi_id)).await?;
        let ids = store
            .save_manual_values(std::slice::from_ref(&v), now, "set")
            .await?;
        Ok::<_, crate::store::StoreError>((before, ids))
    }
    .await;
    store.close().await;
    let (before, ids) = saved.context("storing the value")?;
    println!(
        "KPI {} {}: {} entered by {} at {} (entry {})",
        v.kpi_id,
        v.period.label(),
        in_unit(settings, &v.kpi_id, v.value),
        v.by,
        stamp(now),
        ids.first().copied().unwrap_or_default()
    );
    if let Some(old) = before.iter().rev().find(|e| e.value.period == v.period) {
        println!(
            "  it supersedes entry {} (by {} at {}), which is kept as history",
            old.id,
            old.value.by,
            stamp(old.entered_at)
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `kpi retarget`: check a new target version and record it from its effective month.
async fn retarget_kpi(
    settings: &Settings,
    kpi: &str,
    effective: Month,
    r: &Retarget,
    by: &str,
    now: chrono::DateTime<Utc>,
) -> Result<ExitCode, Failure> {
    let mut bad = retarget::check(&settings.kpis, kpi, r)
        .err()
        .unwrap_or_default();
    if let Err(e) = manual::check_name(by) {
        bad.push(format!("--by: {e}"));
    }
    if !bad.is_empty() {
        return Err(super::usage(anyhow!(
            "kpi retarget {kpi}: refused, nothing stored:\n  {}",
            bad.join("\n  ")
        )));
    }
    let store = open(settings).await?;
    let saved = store.save_retarget(kpi, r, by.trim(), now).await;
    store.close().await;
    let id = saved.context("storing the target version")?;
    println!(
        "KPI {kpi}: targets reset from {} ({} milestone{}), recorded by {} at {} \
         (version {id}); the schedule before stays in force for earlier periods",
        effective.label(),
        r.milestones.len(),
        if r.milestones.len() == 1 { "" } else { "s" },
        by.trim(),
        stamp(now)
    );
    Ok(ExitCode::SUCCESS)
}

pub(super) async fn open(settings: &Settings) -> Result<Store, Failure> {
    let store = crate::job::open_store(settings)
        .await
        .context("opening the database")?;
    Ok(store)
}

/// A value in its KPI's unit: "34.0%", "8 weeks", "2".
fn in_unit(settings: &Settings, kpi: &str, v: f64) -> String {
    settings
        .kpis
        .get(kpi)
        .map_or(v.to_string(), |k| k.unit.format(v))
}

/// The `kpi set` flag a refusal is about.
fn flag(f: Field) -> &'static str {
    match f {
        Field::Kpi => "KPI",
        Field::Period => "--period",
        Field::Value => "--value",
        Field::Numerator => "--numerator",
        Field::Denominator => "--denominator",
        Field::Note => "--note",
        Field::By => "--by (or the login name)",
    }
}

/// An import file, refused if it is not a regular file or is larger than an import may be.
pub(super) fn read_bounded(path: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    use std::io::Read as _;
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(anyhow!("not a regular file"));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(import::MAX_BYTES as u64 + 1)
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Every entry, grouped by KPI and period, the one in force marked.
fn history(settings: &Settings, all: &[Entered]) -> String {
    use std::fmt::Write as _;
    let mut by_period: BTreeMap<(&str, String), Vec<&Entered>> = BTreeMap::new();
    for e in all {
        by_period
            .entry((e.value.kpi_id.as_str(), e.value.period.to_string()))
            .or_default()
            .push(e);
    }
    let mut b = String::new();
    if all.is_empty() {
        b.push_str("no values entered by hand\n");
    }
    for ((kpi, _), entries) in by_period {
        let Some(first) = entries.first() else {
            continue;
        };
        let _ = writeln!(
            b,
            "KPI {kpi}  {} ({})",
            first.value.period.label(),
            first.value.period
        );
        let latest = entries.iter().map(|e| e.id).max();
        for e in entries.iter().rev() {
            let v = &e.value;
            let d = settings.disclosure();
            // A share with a small part is not shown, nor its counts: "33.3%" of "<5 of <5"
            // would give 1 of 3 back (as the digest writes it).
            let written = crate::view::kpi::entered_value(e, d);
            let counts = match (v.numerator, v.denominator) {
                (Some(n), Some(den)) if written.is_some() => {
                    let (n, den) = d.share_counts(n, den);
                    format!(" ({n} of {den})")
                }
                _ => String::new(),
            };
            let value = match written {
                Some(w) => in_unit(settings, kpi, w),
                None => crate::kpi::Figure::hidden_text(false, d),
            };
            let _ = writeln!(
                b,
                "  entry {}: {value}{counts} by {} at {} via {}{}",
                e.id,
                v.by,
                stamp(e.entered_at),
                e.via,
                if Some(e.id) == latest {
                    ", in force"
                } else {
                    ", superseded"
                }
            );
            if let Some(note) = &v.note {
                let _ = writeln!(b, "    note: {note}");
            }
        }
    }
    if !all.is_empty() {
        let _ = writeln!(b, "\n{}", settings.disclosure().note());
    }
    b
}

/// Who is at the keyboard: `$USER`, `$LOGNAME`, else the name of the process's user id.
pub(super) fn login_name() -> Option<String> {
    ["USER", "LOGNAME"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .map(|v| v.trim().to_string())
        .find(|v| !v.is_empty())
        .or_else(uid_name)
}

/// The password database's name for the real user id (NSS: local, LDAP, systemd's dynamic
/// users alike).
fn uid_name() -> Option<String> {
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    // SAFETY: `pwd` and `result` are written by getpwuid_r into storage we own; `buf` outlives
    // the read of `pw_name`, which points into it; getuid cannot fail.
    unsafe {
        let mut pwd: libc::passwd = std::mem::zeroed();
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        let rc = libc::getpwuid_r(
            libc::getuid(),
            &mut pwd,
            buf.as_mut_ptr(),
            buf.len(),
            &mut result,
        );
        if rc != 0 || result.is_null() || pwd.pw_name.is_null() {
            return None;
        }
        let name = std::ffi::CStr::from_ptr(pwd.pw_name).to_string_lossy();
        Some(name.into_owned()).filter(|n| !n.is_empty())
    }
}
