//! `sendwatch bench load`, `bench kpi`, `bench sen2`, `bench forecast`, `bench stats` and
//! `bench national` through the binary: the tables come out with their rows and ratios,
//! `bench kpi`'s counts agree with its SQL peers, `bench forecast` replays both kinds of
//! series into its reliability and Brier tables, and `bench national`'s areas each ran and
//! mailed exactly once.
//! It asserts no timing: on a 60-row file start-up dominates, and the machine is shared.

use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;

use sendwatch::config::{Settings, Sources};

use crate::harness::repo;

fn bench_load_prints_the_table_with_ratios_or_says_what_was_skipped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tracker = repo("tests/fixtures/extracts/tracker.csv");
    let args = ["bench", "load", "--rounds", "1", "--file"].map(OsStr::new);
    let (postgres, stdout) = bench(
        dir.path(),
        &[&args[..], &[tracker.as_os_str()]].concat(),
        &[],
    );
    let row = |label: &str| row(&stdout, label);
    assert!(
        stdout.contains("| load of tracker.csv (60 rows, ") && stdout.contains("|---|---|---|---|"),
        "{stdout}"
    );
    assert!(
        row("sendwatch peak RSS (SQLite)").contains("target < 64 MiB"),
        "{stdout}"
    );

    // A ratio where the peer ran, "skipped" (and why) where it did not.
    let sqlite = row("sendwatch -> SQLite (validated)");
    if stdout.contains("sqlite3 peer skipped") {
        assert!(row("sqlite3 .import (typed table, PRIMARY KEY)").contains("skipped"));
        assert!(sqlite.contains("no ratio: sqlite3 skipped"), "{sqlite}");
    } else {
        assert!(is_ratio(&sqlite, "sqlite3"), "{sqlite}");
    }
    let pg = row("sendwatch -> PostgreSQL (validated)");
    if postgres.is_some() {
        assert!(
            row("sendwatch peak RSS (PostgreSQL)").contains("MiB"),
            "{stdout}"
        );
        if stdout.contains("psql peer skipped") {
            assert!(pg.contains("no ratio: psql \\copy skipped"), "{pg}");
        } else {
            assert!(is_ratio(&pg, "psql \\copy"), "{pg}");
        }
    } else {
        assert!(pg.contains("skipped"), "{pg}");
        assert!(stdout.contains("PostgreSQL rows skipped"), "{stdout}");
    }
}

fn bench_sen2_prints_each_projections_load_time_and_peak_rss() {
    let dir = tempfile::tempdir().expect("tempdir");
    let xml = repo("tests/fixtures/sen2/sen2.xml");
    let args = ["bench", "sen2", "--rounds", "1", "--file"].map(OsStr::new);
    let mut c = Command::new(env!("CARGO_BIN_EXE_sendwatch"));
    c.current_dir(dir.path()).env_clear();
    for key in ["PATH", "TMPDIR"] {
        if let Some(v) = std::env::var_os(key) {
            c.env(key, v);
        }
    }
    let out = c.args(args).arg(&xml).output().expect("run binary");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("| load of sen2.xml ("), "{stdout}");
    // The peer, in the same rounds, stores as many requests as sendwatch loads, and each
    // load says its ratio to it.
    let peer = row(
        &stdout,
        "python3 iterparse -> sqlite3 (unvalidated requests)",
    );
    let ours = row(&stdout, "requests -> SQLite (validated)");
    let rows = |r: &str| {
        r.split(" rows")
            .next()
            .and_then(|c| c.rsplit("| ").next())
            .map(str::to_string)
    };
    assert_eq!(rows(&peer), rows(&ours), "{stdout}");
    assert!(
        [
            "x faster than the Python script",
            "x the speed of the Python script"
        ]
        .iter()
        .any(|w| ours.contains(w)),
        "{ours}"
    );
    assert!(row(&stdout, "requests -> SQLite (validated)").contains("80 rows, CPU "));
    assert!(row(&stdout, "active plans -> SQLite (validated)").contains("40 rows, CPU "));
    for label in [
        "sendwatch peak RSS (requests)",
        "sendwatch peak RSS (active plans)",
    ] {
        assert!(row(&stdout, label).contains("target < 64 MiB"), "{stdout}");
    }
}

fn bench_stats_times_the_import_of_a_release_against_its_target() {
    let dir = tempfile::tempdir().expect("tempdir");
    let release = repo("tests/fixtures/ees-ehcp-2025/ees-ehcp-2025.zip");
    let args = ["bench", "stats", "--rounds", "2", "--path"].map(OsStr::new);
    let (postgres, stdout) = bench(
        dir.path(),
        &[&args[..], &[release.as_os_str()]].concat(),
        &[],
    );
    assert!(
        stdout.contains(
            "| import of ees-ehcp-2025.zip (24.6 KiB, 803 figures) | min | median | target |"
        ),
        "{stdout}"
    );
    let sqlite = row(&stdout, "sendwatch stats import -> SQLite");
    assert!(sqlite.contains("target < 2 s: "), "{sqlite}");
    assert!(
        row(&stdout, "sendwatch peak RSS (SQLite)").contains("target < 64 MiB"),
        "{stdout}"
    );
    let pg = row(&stdout, "sendwatch stats import -> PostgreSQL");
    if postgres.is_some() {
        assert!(pg.contains("target < 2 s: "), "{pg}");
    } else {
        assert!(pg.contains("skipped"), "{pg}");
    }
}

/// Runs `sendwatch ARGS` in `dir` with only PATH (to find the peers), TMPDIR and `env` from
/// the caller, and `--postgres` only if the harness's probe reached a server; it must succeed,
/// and say no MISMATCH. Returns the server's URL, if any, and what it printed on stdout.
fn bench(dir: &Path, args: &[&OsStr], env: &[(&str, &OsStr)]) -> (Option<String>, String) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sendwatch"));
    c.current_dir(dir).env_clear();
    for key in ["PATH", "TMPDIR"] {
        if let Some(v) = std::env::var_os(key) {
            c.env(key, v);
        }
    }
    c.envs(env.iter().copied()).args(args);
    let postgres = crate::support::db::reachable_admin_url();
    if let Some(url) = &postgres {
        c.arg("--postgres").arg(url);
    }
    let out = c.output().expect("run binary");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let printed = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{printed}");
    assert!(!printed.contains("MISMATCH"), "{printed}");
    (postgres, stdout)
}

/// The table row whose first cell is `label`.
fn row(stdout: &str, label: &str) -> String {
    stdout
        .lines()
        .find(|l| l.starts_with(&format!("| {label} |")))
        .unwrap_or_else(|| panic!("no `{label}` row in:\n{stdout}"))
        .to_string()
}

/// `1.23x faster than PEER (target ...` or `0.45x the speed of PEER (target ...`.
fn is_ratio(line: &str, peer: &str) -> bool {
    is_ratio_of(line, peer) && line.contains("(target >= ")
}

/// A number, then `x faster than` or `x the speed of`, then `peer`.
fn is_ratio_of(line: &str, peer: &str) -> bool {
    let Some(at) = line
        .find("x faster than ")
        .or_else(|| line.find("x the speed of "))
    else {
        return false;
    };
    let number = line[..at].rsplit(' ').next().unwrap_or("");
    number.parse::<f64>().is_ok() && line[at..].contains(peer)
}

/// A stand-in for gen_extracts.py (which lives outside this repository), with its command
/// line: `--rows N` rows of the repository's example extract of `--kind`, cycled, each with a
/// key of its own. With `--start` (as `bench forecast` asks), each further cycle is a year
/// earlier (its dates moved back a year per cycle), so the extracts span several years;
/// `--end` and `--no-meta` are taken and ignored.
const STAND_IN_GENERATOR: &str = r#"
import argparse, csv, datetime, os, re
p = argparse.ArgumentParser()
for a in ("--rows", "--seed", "--out", "--kind"):
    p.add_argument(a, required=True)
p.add_argument("--start")
p.add_argument("--end")
p.add_argument("--quiet", action="store_true")
p.add_argument("--no-meta", action="store_true")
a = p.parse_args()

def earlier(cell, years):
    m = re.fullmatch(r"(\d{4})-(\d{2})(-(\d{2}))?", cell)
    if not years or not m:
        return cell
    y, mo = int(m.group(1)) - years, int(m.group(2))
    if m.group(4) is None:
        return "%04d-%02d" % (y, mo)
    d = int(m.group(4))
    if mo == 2 and d == 29:
        d = 28
    return datetime.date(y, mo, d).isoformat()

with open(os.path.join(os.environ["EXAMPLES"], a.kind + ".csv"), newline="") as f:
    header, *rows = list(csv.reader(f))
os.makedirs(a.out, exist_ok=True)
with open(os.path.join(a.out, a.kind + ".csv"), "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(header)
    for i in range(int(a.rows)):
        years = i // len(rows) if a.start else 0
        row = [earlier(c, years) for c in rows[i % len(rows)]]
        row[0] = "%s%07d" % (row[0][0], i + 1)
        w.writerow(row)
"#;

fn bench_kpi_prints_the_kpi_step_beside_the_query_and_the_counts_agree() {
    let dir = tempfile::tempdir().expect("tempdir");
    let generator = dir.path().join("gen_extracts.py");
    std::fs::write(&generator, STAND_IN_GENERATOR).expect("write the stand-in");
    let args = [
        "bench",
        "kpi",
        "--rows",
        "2000",
        "--runs",
        "1",
        "--generator",
    ]
    .map(OsStr::new);
    let examples = repo("examples");
    let (postgres, stdout) = bench(
        dir.path(),
        &[&args[..], &[generator.as_os_str()]].concat(),
        &[("EXAMPLES", examples.as_os_str())],
    );
    let row = |label: &str| row(&stdout, label);
    // Every computed KPI of the built-in catalogue, over each source they read.
    let base = Settings::load_unchecked(&Sources {
        file: Some(crate::harness::example_config()),
        env: false,
    })
    .expect("the example configuration");
    let computed: Vec<_> = base.kpis.computed().collect();
    let mut sources: Vec<String> = vec![];
    for c in &computed {
        let read = format!("{} (2,000 rows)", c.source);
        if !sources.contains(&read) {
            sources.push(read);
        }
    }
    let header = format!(
        "| all computed KPIs on {} | min | median | CPU (median) | ratio |",
        sources.join(", ")
    );
    assert!(stdout.contains(&header), "{header}\n{stdout}");
    let step = |backend: &str| format!("sendwatch KPI step, {} KPIs ({backend})", computed.len());

    let ours = row(&step("SQLite"));
    assert!(ours.contains("target < 500 ms: "), "{ours}");
    if stdout.contains("SQLite peer skipped") {
        assert!(ours.contains("no ratio"), "{ours}");
    } else {
        assert!(is_kpi_ratio(&ours, "sqlite3"), "{ours}\n{stdout}");
        assert!(row("sqlite3: KPI 1/2a by month, one query").contains(" ms |"));
        assert!(agree_line(&stdout, "SQLite", "sqlite3"), "{stdout}");
    }

    let pg = row(&step("PostgreSQL"));
    match &postgres {
        None => {
            assert!(pg.contains("skipped"), "{pg}");
            assert!(
                stdout.contains("PostgreSQL skipped: no --postgres URL"),
                "{stdout}"
            );
        }
        Some(_) if stdout.contains("PostgreSQL peer skipped") => {
            assert!(pg.contains("no ratio"), "{pg}");
        }
        Some(_) => {
            assert!(is_kpi_ratio(&pg, "psql"), "{pg}");
            assert!(agree_line(&stdout, "PostgreSQL", "psql"), "{stdout}");
        }
    }
}

/// `1.23x faster than PEER counting 1/2a alone` or `0.45x the speed of PEER ...`.
fn is_kpi_ratio(line: &str, peer: &str) -> bool {
    is_ratio_of(line, peer) && line.contains(&format!("{peer} counting 1/2a alone"))
}

/// `KPI 1/2a counts agree (BACKEND): sendwatch and PEER, N months, M plans counted`, with at
/// least one month.
fn agree_line(stdout: &str, backend: &str, peer: &str) -> bool {
    let head = format!("KPI 1/2a counts agree ({backend}): sendwatch and {peer}, ");
    stdout.lines().any(|l| {
        l.strip_prefix(&head)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse::<u32>().ok())
            .is_some_and(|months| months > 0)
    })
}

/// `bench forecast` on the stand-in generator's extracts (read by the loader, folded by the
/// KPI folds) and on a DfE-shaped file: each part prints its reliability table, verdict,
/// Brier scores beside both baselines, and bands.
fn bench_forecast_replays_generated_and_dfe_series_into_reliability_and_brier_tables() {
    let dir = tempfile::tempdir().expect("tempdir");
    let generator = dir.path().join("gen_extracts.py");
    std::fs::write(&generator, STAND_IN_GENERATOR).expect("write the stand-in");
    // 60 areas, 2019-2024, each a line of its own with a wobble, one year unavailable.
    let mut dfe = String::from(
        "time_period,geographic_level,new_la_code,breakdown_topic,pc_plans_issued_within_20_weeks\n",
    );
    for area in 0..60_i32 {
        for year in 2019..2025 {
            let t = f64::from(year - 2019);
            let v = 20.0
                + f64::from(area % 10) * 6.0
                + t * f64::from(area % 7 - 3)
                + [1.5, -2.0, 0.5, 2.5, -1.0, 0.0][((area + year) % 6) as usize];
            let v = if area == 5 && year == 2022 {
                "x".to_string()
            } else {
                format!("{v:.1}")
            };
            dfe += &format!("{year},Local authority,E{area:08},All EHC plans issued,{v}\n");
        }
        dfe += "2020,Regional,,All EHC plans issued,50\n";
    }
    let file = dir.path().join("timeliness_20_week.csv");
    std::fs::write(&file, dfe).expect("write the DfE-shaped file");

    let mut c = Command::new(env!("CARGO_BIN_EXE_sendwatch"));
    c.current_dir(dir.path()).env_clear();
    for key in ["PATH", "TMPDIR"] {
        if let Some(v) = std::env::var_os(key) {
            c.env(key, v);
        }
    }
    c.env("EXAMPLES", repo("examples"))
        .args([
            "bench",
            "forecast",
            "--seeds",
            "1",
            "--rows",
            "600",
            "--generator",
        ])
        .arg(&generator)
        .arg("--dfe")
        .arg(&file);
    let out = c.output().expect("run binary");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    // It exits 1 when the generated series' calibration is judged and missed (the stand-in's
    // repeated year is a saw-tooth, not a trend, so it may well be), else 0.
    let generated_missed = stdout
        .split_once("## DfE")
        .is_some_and(|(generated, _)| generated.contains("): NOT met"));
    assert_eq!(
        out.status.code(),
        Some(i32::from(generated_missed)),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let base = Settings::load_unchecked(&Sources {
        file: Some(crate::harness::example_config()),
        env: false,
    })
    .expect("the example configuration");
    let kpis: Vec<&str> = base
        .kpis
        .computed()
        .filter(|c| ["tracker", "provider"].contains(&base.sources[c.source].kind.as_str()))
        .map(|c| c.id)
        .collect();
    let generated = format!(
        "## Generated series: {} series (KPIs {} for seeds 1-1), monthly, Jan-18 to Dec-20",
        kpis.len(),
        kpis.join(", ")
    );
    assert!(stdout.contains(&generated), "{generated}\n{stdout}");
    assert!(
        stdout.contains(
            "## DfE: yearly 20-week timeliness of 60 local-authority codes (an area reorganised \
             since 2019 has more than one), 6 years (60 with 3+ values)"
        ),
        "{stdout}"
    );
    let (_, dfe_part) = stdout.split_once("## DfE").expect("the DfE part");
    for part in [stdout.as_str(), dfe_part] {
        for head in [
            "| projection said | projections | mean stated | came true | gap | within 10 points |",
            "| early warning (projection) | ",
            "| last value carried forward, 0/1 | ",
            "| last value carried forward, random-walk interval | ",
            "| on course | ",
            "calibration: ",
        ] {
            assert!(part.contains(head), "no `{head}` in:\n{part}");
        }
    }
    // Both parts project: the generated from a year of months on (three years of cycles),
    // the DfE's from 2021 on; each Brier score is a number from 0 to 1.
    let generated_part = &stdout[..stdout.len() - dfe_part.len()];
    for part in [generated_part, dfe_part] {
        let brier = row(part, "early warning (projection)");
        assert!(brier.contains("| 0."), "{brier}");
        assert!(!part.contains("| forecaster (0 projections)"), "{part}");
    }
    assert!(
        row(generated_part, "12-23 values").contains(" | 0."),
        "{stdout}"
    );
}

/// The daemon's binary links no benchmark code: it lives in `sendwatch-bench`, which
/// `sendwatch bench` runs from beside it.
fn the_daemon_binary_links_no_benchmark() {
    // A context string of the KPI bench's, compiled into whichever binary holds that code.
    let marker = b"writing the bench's configuration";
    let holds = |exe: &str| {
        let bytes = std::fs::read(exe).expect("read the binary");
        bytes.windows(marker.len()).any(|w| w == marker)
    };
    assert!(
        holds(env!("CARGO_BIN_EXE_sendwatch-bench")),
        "the marker is the bench's"
    );
    assert!(
        !holds(env!("CARGO_BIN_EXE_sendwatch")),
        "the daemon links the bench"
    );
}

/// `bench national` on three of the four local authorities of a few rows of the DfE release
/// (tests/fixtures/ees-national: Isles of Scilly, Rutland and Hartlepool are picked, spread
/// by size; City of London is passed over), with one replica and two: the tables have a row
/// per cycle, and each cycle says every area ran once and every message reached the sink
/// once (the bench itself fails on a MISMATCH, which `bench` refuses).
fn bench_national_times_three_areas_and_each_ran_and_mailed_exactly_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let generator = dir.path().join("gen_extracts.py");
    std::fs::write(&generator, STAND_IN_GENERATOR).expect("write the stand-in");
    let data = repo("tests/fixtures/ees-national");
    let args = [
        "bench",
        "national",
        "--areas",
        "3",
        "--replicas",
        "1,2",
        "--concurrency",
        "2",
        "--pool",
        "4",
        "--generator",
    ]
    .map(OsStr::new);
    let examples = repo("examples");
    let (postgres, stdout) = bench(
        dir.path(),
        &[
            &args[..],
            &[
                generator.as_os_str(),
                OsStr::new("--data"),
                data.as_os_str(),
            ],
        ]
        .concat(),
        &[("EXAMPLES", examples.as_os_str())],
    );
    assert!(postgres.is_some(), "registered .postgres()");
    assert!(
        stdout.contains("4 local authorities in the DfE release (0 left out for want of a figure): requests and new plans in 2024, plans in January of 2025."),
        "{stdout}"
    );
    assert!(
        stdout.contains("| areas | replicas | extract rows | start-up | cycle | per area | per area vs fewest areas | peak RSS per replica |"),
        "{stdout}"
    );
    assert!(
        stdout.contains("| areas | replicas | fetch | load | KPIs | risks | digests queued | delivery | other | all runs |"),
        "{stdout}"
    );
    for replicas in [1usize, 2] {
        // (2 x 2 + 17 + 2 x 1) + (2 x 75 + 376 + 2 x 77) + (2 x 232 + 966 + 2 x 128) rows.
        let head = format!("| 3 | {replicas} | 2,389 |");
        let cycle = cells(&stdout, &head, 8);
        assert!(cycle[7].matches("MiB").count() == replicas, "{cycle:?}");
        let stages = cells(&stdout, &format!("| 3 | {replicas} | "), 10);
        assert!(stages[2..9].iter().all(|c| c.ends_with("%)")), "{stages:?}");

        let once = format!("exactly once (3 areas, {replicas} replica(s)): ");
        let ran = line_after(
            &stdout,
            &format!("{once}every area's instant is in the ledger once, run once and ended ok ("),
        );
        let shares: usize = ran
            .trim_end_matches(')')
            .split(", ")
            .map(|s| {
                s.rsplit(' ')
                    .next()
                    .and_then(|n| n.parse::<usize>().ok())
                    .expect("a count")
            })
            .sum();
        assert_eq!(shares, 3, "{ran}");
        assert_eq!(ran.matches("replica ").count(), replicas, "{ran}");
        let mail = stdout
            .lines()
            .filter_map(|l| l.strip_prefix(&once))
            .find(|l| l.contains(" messages in the outbox, all sent; "))
            .unwrap_or_else(|| panic!("no messages line after {once:?}:\n{stdout}"));
        let counts: Vec<&str> = mail.split(' ').collect();
        assert_eq!(counts[0], counts[7], "{mail}");
        assert!(counts[0].parse::<u32>().is_ok_and(|n| n > 0), "{mail}");
        assert!(mail.ends_with(" at the sink, each once"), "{mail}");
    }
    for target in [
        "target: 152 areas in one cycle under 60 s (the mark 30 s): not measured here",
        "target: linear in areas",
        "target: peak RSS under 256 MiB per daemon: at most ",
    ] {
        assert!(stdout.contains(target), "{target}\n{stdout}");
    }
}

/// The cells of the table row that starts with `head` and has `n` cells (the first such).
fn cells<'a>(stdout: &'a str, head: &str, n: usize) -> Vec<&'a str> {
    stdout
        .lines()
        .filter(|l| l.starts_with(head))
        .map(|l| {
            l.trim_matches('|')
                .split(" | ")
                .map(str::trim)
                .collect::<Vec<_>>()
        })
        .find(|c| c.len() == n)
        .unwrap_or_else(|| panic!("no row of {n} cells starting {head:?} in:\n{stdout}"))
}

/// What follows `head` on the first line that starts with it.
fn line_after<'a>(stdout: &'a str, head: &str) -> &'a str {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix(head))
        .unwrap_or_else(|| panic!("no line starting {head:?} in:\n{stdout}"))
}

/// This module's tests, for the harness: tests/it/main.rs says how to register one.
pub fn tests() -> Vec<crate::support::trials::Spec> {
    use crate::support::trials::trial;
    vec![
        trial!(bench_load_prints_the_table_with_ratios_or_says_what_was_skipped),
        trial!(bench_kpi_prints_the_kpi_step_beside_the_query_and_the_counts_agree),
        trial!(bench_sen2_prints_each_projections_load_time_and_peak_rss),
        trial!(bench_forecast_replays_generated_and_dfe_series_into_reliability_and_brier_tables),
        trial!(bench_stats_times_the_import_of_a_release_against_its_target),
        trial!(bench_national_times_three_areas_and_each_ran_and_mailed_exactly_once).postgres(),
        trial!(the_daemon_binary_links_no_benchmark),
    ]
}
