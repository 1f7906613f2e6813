//! `sendwatch bench forecast`: is the early warning's "chance 85%" right 85% of the time?
//! It replays history ([`crate::forecast_score`]) on two sets of series and prints, for
//! each, the reliability table, the Brier scores beside the naive baselines and the board's
//! bands:
//!
//! - generated (`--generator PATH`, gen_extracts.py): for each seed, a tracker and a provider
//!   extract over 2017-2020, read by sendwatch's own loader (`parse_bytes`) and folded by its
//!   own KPI folds ([`Fold`]) into the monthly series of the example plan's computed KPIs
//!   that read them (1/2, 1/2a, 1/5, 5/1-5/4), January 2018 to December 2020 (2017 is
//!   warm-up: a plan issued in early 2017 would otherwise count only requests the extract
//!   holds, the fast ones);
//! - the DfE's (`--dfe PATH`, the EHC plans release's `timeliness_20_week.csv`): each local
//!   authority's yearly percentage of new plans issued within 20 weeks (exceptions
//!   included), 2019-2024.
//!
//! The acceptance is on the generated series: every decile of stated chances with enough
//! projections within 10 points of how often they came true.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context as _, bail};
use chrono::NaiveDate;
use sendwatch::config::{Settings, Sources};
use sendwatch::disclose::DEFAULT_THRESHOLD;
use sendwatch::kpi::forecast::{Choice, MIN_POINTS, model::HOLT_MIN_POINTS};
use sendwatch::kpi::{Better, Fold, Month, Unit};
use sendwatch::load::read::csv::CsvReader;
use sendwatch::load::{Batch, LoadSettings, Record, RecordReader, builtin_kinds, parse_bytes};

use crate::forecast_score::{
    Event, Series, Setup, band_table, brier_table, reliability_table, replay, summary_row, verdict,
};
use crate::load::{Scratch, scratch_dir};

/// The generated extracts' span, and the first month replayed (the year before is warm-up).
const GEN_START: &str = "2017-01-01";
const GEN_END: &str = "2020-12-31";
const FIRST_MONTH: &str = "2018-01";
/// The DfE series are yearly and six long: the line needs 3 values (one residual degree of
/// freedom), below the early warning's minimum, so this replay uses 3 and says so.
const DFE_MIN_POINTS: usize = 3;
/// The DfE file's column read, and its rows: each local authority's total.
const DFE_VALUE: &str = "pc_plans_issued_within_20_weeks";

/// `sendwatch bench forecast`'s arguments.
#[derive(Debug, clap::Args)]
pub struct ForecastArgs {
    /// gen_extracts.py: a tracker and a provider extract per seed, read by sendwatch's loader
    /// and KPI folds into monthly KPI series.
    #[arg(long)]
    pub generator: Option<PathBuf>,
    /// Seeds 1 to N for the generator.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    pub seeds: u64,
    /// Tracker rows per seed over the four years (50 requests a month); the provider extract
    /// has twice as many.
    #[arg(long, default_value_t = 2_400)]
    pub rows: u64,
    /// The DfE release's timeliness_20_week.csv (local authorities' yearly series).
    #[arg(long)]
    pub dfe: Option<PathBuf>,
    /// The furthest milestone after each origin, in months, for the generated series (the
    /// DfE series are replayed to every later year).
    #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u64).range(1..=36))]
    pub max_horizon: u64,
}

pub async fn forecast(args: ForecastArgs) -> anyhow::Result<ExitCode> {
    if args.generator.is_none() && args.dfe.is_none() {
        bail!(
            "give --generator PATH (gen_extracts.py), --dfe PATH (timeliness_20_week.csv) or both"
        );
    }
    tokio::task::spawn_blocking(move || run(&args)).await?
}

fn run(args: &ForecastArgs) -> anyhow::Result<ExitCode> {
    println!(
        "sendwatch bench forecast: the early warning's stated chances against what happened{}\n",
        if cfg!(debug_assertions) {
            " (debug build)"
        } else {
            ""
        }
    );
    let mut ok = true;
    if let Some(generator) = &args.generator {
        let (series, names) = generated(generator, args)?;
        let setup = |min_points, choice| Setup {
            min_points,
            max_horizon: args.max_horizon as usize,
            choice,
        };
        println!(
            "## Generated series: {} series (KPIs {} for seeds 1-{}), monthly, Jan-18 to Dec-20\n",
            series.len(),
            names.join(", "),
            args.seeds
        );
        println!(
            "From each month with at least {MIN_POINTS} values (the early warning's minimum) to \
             each of the next {} months, six targets each (the last value moved by ±2, 5 and \
             10 points, or ±0.5, 1 and 2 weeks, in the better direction):\n",
            args.max_horizon
        );
        // All origins from 3 values, so the breakdown can show what the minimum leaves out.
        let all = replay(&series, &setup(3, Choice::Aicc));
        let main: Vec<Event> = all
            .iter()
            .copied()
            .filter(|e| e.points >= MIN_POINTS)
            .collect();
        let (met, line) = verdict(&main);
        // Not judged (too few projections per decile) is not a failure: a small run.
        ok &= met != Some(false);
        print_tables(&main, &line);
        let linear = replay(&series, &setup(HOLT_MIN_POINTS, Choice::Linear));
        let holt = replay(&series, &setup(HOLT_MIN_POINTS, Choice::DampedHolt));
        print_breakdown(&all, &linear, &holt);
        print_by_kpi(&series, &names, &main);
    }
    if let Some(path) = &args.dfe {
        let (series, areas) = dfe(path)?;
        let years = series.first().map_or(0, |s| s.values.len());
        println!(
            "## DfE: yearly 20-week timeliness of {areas} local-authority codes (an area \
             reorganised since 2019 has more than one), {years} years ({} with \
             {DFE_MIN_POINTS}+ values)\n",
            series
                .iter()
                .filter(|s| s.values.iter().flatten().count() >= DFE_MIN_POINTS)
                .count()
        );
        let changes: Vec<f64> = series
            .iter()
            .flat_map(|s| s.values.windows(2).filter_map(|w| Some(w[1]? - w[0]?)))
            .collect();
        let rms = (changes.iter().map(|d| d * d).sum::<f64>() / changes.len().max(1) as f64).sqrt();
        println!(
            "From each year with at least {DFE_MIN_POINTS} values (below the early warning's \
             minimum of {MIN_POINTS}: the release holds six years) to every later year, six \
             targets each (the last value moved by ±2, 5 and 10 points). The series breaks in \
             2023, when the collection became person-level; a yearly figure moves {rms:.0} \
             points from one year to the next (root mean square).\n"
        );
        let events = replay(
            &series,
            &Setup {
                min_points: DFE_MIN_POINTS,
                max_horizon: years,
                choice: Choice::Aicc,
            },
        );
        let (_, line) = verdict(&events);
        print_tables(&events, &line);
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn print_tables(events: &[Event], verdict: &str) {
    println!("{}", reliability_table(events));
    println!("{verdict}\n");
    println!("{}", brier_table(events));
    println!("{}", band_table(events));
}

/// Calibration and Brier by number of values, by horizon and by model.
fn print_breakdown(all: &[Event], linear: &[Event], holt: &[Event]) {
    println!(
        "| projections from | projections | Brier | Brier, random walk | largest decile gap |"
    );
    println!("|---|---|---|---|---|");
    let by = |label: &str, keep: &dyn Fn(&Event) -> bool| {
        let group: Vec<Event> = all.iter().copied().filter(|e| keep(e)).collect();
        print!("{}", summary_row(label, &group));
    };
    for (lo, hi) in [(3, 6), (6, 12), (12, 24), (24, usize::MAX)] {
        let span = if hi == usize::MAX {
            format!("{lo}+ values")
        } else {
            format!("{lo}-{} values", hi - 1)
        };
        let below = if hi <= MIN_POINTS {
            " (too little data)"
        } else {
            ""
        };
        by(&format!("{span}{below}"), &|e| (lo..hi).contains(&e.points));
    }
    by("1-3 periods ahead", &|e| {
        e.points >= MIN_POINTS && e.horizon <= 3
    });
    by("4-6 periods ahead", &|e| {
        e.points >= MIN_POINTS && (4..=6).contains(&e.horizon)
    });
    by("7+ periods ahead", &|e| {
        e.points >= MIN_POINTS && e.horizon >= 7
    });
    let ten = |e: &Event| e.points >= HOLT_MIN_POINTS;
    by(&format!("{HOLT_MIN_POINTS}+ values, chosen by AICc"), &ten);
    print!(
        "{}",
        summary_row(
            &format!("{HOLT_MIN_POINTS}+ values, linear trend only"),
            linear
        )
    );
    print!(
        "{}",
        summary_row(
            &format!("{HOLT_MIN_POINTS}+ values, damped Holt only"),
            holt
        )
    );
    println!();
}

/// Calibration and Brier per KPI.
fn print_by_kpi(series: &[Series], names: &[String], events: &[Event]) {
    println!("| KPI | projections | Brier | Brier, random walk | largest decile gap |");
    println!("|---|---|---|---|---|");
    for name in names {
        let group: Vec<Event> = events
            .iter()
            .copied()
            .filter(|e| series[e.series].name == *name)
            .collect();
        print!("{}", summary_row(name, &group));
    }
    println!();
}

/// The generated series: per seed, the extracts through the loader and the KPI folds.
fn generated(generator: &Path, args: &ForecastArgs) -> anyhow::Result<(Vec<Series>, Vec<String>)> {
    let base = Settings::load(&Sources {
        file: Some(sendwatch::config::plan::example_file()),
        env: false,
    })
    .context("reading the example configuration")?;
    let kinds = builtin_kinds().context("reading the built-in kinds")?;
    let first: Month = FIRST_MONTH.parse()?;
    let end = Month::of(GEN_END.parse::<NaiveDate>()?);
    // The computed KPIs of the tracker and the provider extract; the reviews' are cumulative
    // over the academic year (a saw-tooth no trend model is for) and are left out.
    let kpis: Vec<_> = base
        .kpis
        .computed()
        .filter_map(|c| {
            let kind = &base.sources.get(c.source)?.kind;
            ["tracker", "provider"]
                .contains(&kind.as_str())
                .then(|| (c, kind.clone()))
        })
        .collect();
    let scratch = scratch_dir()?;
    let _cleanup = Scratch(scratch.clone());
    let mut series = Vec::new();
    for seed in 1..=args.seeds {
        eprintln!("bench: seed {seed} of {}", args.seeds);
        for (kind, rows) in [("tracker", args.rows), ("provider", 2 * args.rows)] {
            let file = generate(generator, kind, rows, seed, &scratch)?;
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let def = kinds
                .get(kind)
                .with_context(|| format!("no built-in kind {kind}"))?;
            // A fixed "today" after the extracts' last event: the bench reads no clock.
            let today = NaiveDate::from_ymd_opt(2030, 1, 1).context("a date")?;
            let (summary, batches) =
                parse_bytes(&bytes, kind, def, &LoadSettings::default(), today)
                    .map_err(|e| anyhow::anyhow!("the generated {kind} extract: {e}"))?;
            let as_of = summary.as_of.context("the extract has no event date")?;
            for (c, _) in kpis.iter().filter(|(_, k)| k == kind) {
                let mut fold = [Fold::new(c.measure, c.kpi, as_of, Some(def))];
                let at: Vec<usize> = fold[0]
                    .columns()
                    .iter()
                    .map(|col| def.position(col).context("a column the fold reads"))
                    .collect::<anyhow::Result<_>>()?;
                for b in &batches {
                    Fold::add_batch(&mut fold, &project(b, &at));
                }
                let [fold] = fold;
                let counts = fold.into_counts();
                let mut values = Vec::new();
                let mut m = first;
                while m <= end {
                    let count = counts.by_month.get(&m).copied().unwrap_or_default();
                    // Fewer cases than the disclosure threshold: a figure no output shows (and
                    // an average of two waits is one child's), so a gap in the series.
                    values.push(
                        (count.denominator >= DEFAULT_THRESHOLD)
                            .then(|| c.measure.value(count.numerator, count.denominator))
                            .flatten(),
                    );
                    m = m.next();
                }
                series.push(Series {
                    name: c.id.to_string(),
                    unit: c.measure.unit(),
                    better: c.kpi.better,
                    values,
                });
            }
            let _ = std::fs::remove_file(&file);
        }
    }
    let names = kpis.iter().map(|(c, _)| c.id.to_string()).collect();
    Ok((series, names))
}

/// A batch's rows with only the columns at `at`, in that order: what a store scan hands a
/// fold.
fn project(b: &Batch, at: &[usize]) -> Batch {
    let mut out = Batch::new(at.len(), b.len());
    out.text = b.text.clone();
    for (line, row) in b.rows() {
        out.lines.push(line);
        out.values.extend(at.iter().map(|&i| row[i]));
    }
    out
}

/// Runs the generator for one kind over the bench's span.
fn generate(
    generator: &Path,
    kind: &str,
    rows: u64,
    seed: u64,
    out: &Path,
) -> anyhow::Result<PathBuf> {
    let status = Command::new("python3")
        .arg(generator)
        .args(["--rows", &rows.to_string(), "--seed", &seed.to_string()])
        .args(["--start", GEN_START, "--end", GEN_END])
        .arg("--out")
        .arg(out)
        .args(["--kind", kind, "--quiet", "--no-meta"])
        .status()
        .context("running the generator (python3)")?;
    if !status.success() {
        bail!("the generator failed ({status})");
    }
    Ok(out.join(format!("{kind}.csv")))
}

/// The DfE file's local-authority series: one per area (by its current code), a value per
/// year from the first year to the last, `None` where the release has none ("x", "z", "c").
/// Returns the series and how many areas.
pub fn dfe(path: &Path) -> anyhow::Result<(Vec<Series>, usize)> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    dfe_from(file).with_context(|| format!("reading {}", path.display()))
}

pub fn dfe_from(input: impl std::io::Read + Send) -> anyhow::Result<(Vec<Series>, usize)> {
    let mut reader = CsvReader::new(input, 1 << 20);
    let mut rec = Record::default();
    if !reader.read(&mut rec).map_err(|e| anyhow::anyhow!("{e}"))? {
        bail!("the file is empty");
    }
    let header: Vec<String> = rec
        .iter()
        .map(|f| String::from_utf8_lossy(f).trim().to_string())
        .collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .with_context(|| format!("no column {name}"))
    };
    let (year, level, topic, code, value) = (
        col("time_period")?,
        col("geographic_level")?,
        col("breakdown_topic")?,
        col("new_la_code")?,
        col(DFE_VALUE)?,
    );
    // (area, year) -> value, in the file's order of areas.
    let mut areas: Vec<String> = Vec::new();
    let mut cells: Vec<(usize, i32, Option<f64>)> = Vec::new();
    while reader.read(&mut rec).map_err(|e| anyhow::anyhow!("{e}"))? {
        let text = |i: usize| String::from_utf8_lossy(rec.get(i)).trim().to_string();
        if rec.len() != header.len()
            || text(level) != "Local authority"
            || text(topic) != "All EHC plans issued"
        {
            continue;
        }
        let Ok(y) = text(year).parse::<i32>() else {
            continue;
        };
        let area = text(code);
        let i = match areas.iter().position(|a| *a == area) {
            Some(i) => i,
            None => {
                areas.push(area);
                areas.len() - 1
            }
        };
        let v = text(value).parse::<f64>().ok().filter(|v| v.is_finite());
        cells.push((i, y, v));
    }
    let (Some(y0), Some(y1)) = (
        cells.iter().map(|c| c.1).min(),
        cells.iter().map(|c| c.1).max(),
    ) else {
        bail!("no local-authority rows of all EHC plans issued");
    };
    let years = usize::try_from(y1 - y0 + 1)?;
    let mut series: Vec<Series> = areas
        .iter()
        .map(|a| Series {
            name: a.clone(),
            unit: Unit::Percent,
            better: Better::Higher,
            values: vec![None; years],
        })
        .collect();
    for (i, y, v) in cells {
        series[i].values[usize::try_from(y - y0)?] = v;
    }
    Ok((series, areas.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A few rows in the release's layout: two areas (one quoted name with a comma, one
    /// unavailable year), a regional row and a breakdown row that are not read.
    const DFE: &str = "\u{feff}time_period,time_identifier,geographic_level,country_code,\
country_name,region_code,region_name,new_la_code,old_la_code,la_name,breakdown_topic,breakdown,\
pc_plans_issued_within_20_weeks\n\
2019,Calendar year,Local authority,E92000001,England,E12000001,North East,E08000037,390,Gateshead,All EHC plans issued,All EHC plans issued,96.8\n\
2020,Calendar year,Local authority,E92000001,England,E12000001,North East,E08000037,390,Gateshead,All EHC plans issued,All EHC plans issued,90\n\
2021,Calendar year,Local authority,E92000001,England,E12000001,North East,E08000037,390,Gateshead,All EHC plans issued,All EHC plans issued,x\n\
2019,Calendar year,Local authority,E92000001,England,E12000009,South West,E06000023,801,\"Bristol, City of\",All EHC plans issued,All EHC plans issued,40.5\n\
2021,Calendar year,Local authority,E92000001,England,E12000009,South West,E06000023,801,\"Bristol, City of\",All EHC plans issued,All EHC plans issued,50\n\
2020,Calendar year,Regional,E92000001,England,E12000001,North East,,,,All EHC plans issued,All EHC plans issued,70\n\
2020,Calendar year,Local authority,E92000001,England,E12000001,North East,E08000037,390,Gateshead,Sex,Male,10\n";

    #[test]
    fn the_dfe_file_gives_one_yearly_series_per_local_authority() {
        let (series, areas) = dfe_from(DFE.as_bytes()).expect("reads");
        assert_eq!(areas, 2);
        assert_eq!(series[0].values, [Some(96.8), Some(90.0), None]);
        assert_eq!(series[1].values, [Some(40.5), None, Some(50.0)]);
        assert!(
            series
                .iter()
                .all(|s| s.better == Better::Higher && s.unit == Unit::Percent)
        );
        let err = dfe_from("a,b\n1,2\n".as_bytes()).expect_err("no such column");
        assert!(err.to_string().contains("no column time_period"), "{err}");
    }
}
