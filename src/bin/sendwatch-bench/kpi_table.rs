//! `bench kpi`'s table and verdicts: min and median wall time of the KPI step and of the peer's
//! query per backend, their median CPU time (which other work on the machine does not inflate),
//! the ratio, the KPI step against its target, and whether the peer's KPI 1/2a counts agree
//! with the fold's month by month.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use crate::report::{Timings, fmt_count, fmt_duration, median, ratio, time_row};
use sendwatch::disclose::Disclosure;
use sendwatch::kpi::Month;

/// Every computed KPI on the SQLite store, 1M tracker rows, must take less than this (median).
pub const KPI_TARGET: Duration = Duration::from_millis(500);

/// One KPI's (on time, counted) per month.
pub type Counted = BTreeMap<Month, (u64, u64)>;

/// Whether the peer counted the same as the fold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub peer: String,
    pub months: usize,
    pub counted: u64,
    /// One line per month that differs (its shares written as the disclosure rules allow).
    pub differences: Vec<String>,
}

/// One backend's figures, or why it was skipped.
#[derive(Debug, Clone)]
pub struct BackendRun {
    pub skipped: Option<String>,
    /// Wall and CPU time of each KPI step.
    pub ours: Vec<Duration>,
    pub ours_cpu: Vec<Duration>,
    /// Wall and CPU time of each run of the peer's process.
    pub theirs: Timings,
    pub theirs_cpu: Vec<Duration>,
    pub peer_name: String,
    pub check: Option<Check>,
}

impl BackendRun {
    pub fn skipped(why: &str) -> BackendRun {
        BackendRun {
            skipped: Some(why.to_string()),
            ours: vec![],
            ours_cpu: vec![],
            theirs: Timings::Skipped(why.to_string()),
            theirs_cpu: vec![],
            peer_name: String::new(),
            check: None,
        }
    }
}

/// Everything the table shows.
#[derive(Debug)]
pub struct KpiReport {
    /// Computed KPIs the step evaluates.
    pub kpis: usize,
    pub peer_kpi: &'static str,
    /// (source, rows loaded).
    pub sources: Vec<(String, u64)>,
    /// `None`: not asked for.
    pub sqlite: Option<BackendRun>,
    pub postgres: Option<BackendRun>,
    /// The rules the counts are written by (the example configuration's).
    pub disclosure: Disclosure,
}

/// `sqlite3 -csv` or `psql -A -F,` output: `yyyymm,on time,counted` lines.
pub fn parse_counts(stdout: &str) -> anyhow::Result<Counted> {
    let mut out = Counted::new();
    for line in stdout.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let f: Vec<&str> = line.split(',').collect();
        let n = |i: usize| -> Option<u64> { f.get(i)?.trim_matches('"').parse().ok() };
        let month = n(0)
            .and_then(|m| Month::new(i32::try_from(m / 100).ok()?, (m % 100) as u32))
            .filter(|_| f.len() == 3);
        let (Some(month), Some(on_time), Some(counted)) = (month, n(1), n(2)) else {
            anyhow::bail!("the query printed a line that is not `yyyymm,on time,counted`");
        };
        out.insert(month, (on_time, counted));
    }
    Ok(out)
}

/// The fold's counts beside the peer's, month by month.
pub fn compare(peer: &str, ours: &Counted, theirs: &Counted, d: Disclosure) -> Check {
    let show = |c: Option<&(u64, u64)>| {
        c.map_or_else(
            || "nothing".to_string(),
            |(a, b)| {
                let (a, b) = d.share_counts(*a, *b);
                format!("{a} of {b}")
            },
        )
    };
    let mut months: Vec<&Month> = ours.keys().chain(theirs.keys()).collect();
    months.sort();
    months.dedup();
    let differences = months
        .iter()
        .filter(|m| ours.get(m) != theirs.get(m))
        .map(|m| {
            format!(
                "{m}: sendwatch {}, {peer} {}",
                show(ours.get(m)),
                show(theirs.get(m))
            )
        })
        .collect();
    Check {
        peer: peer.to_string(),
        months: months.len(),
        counted: ours.values().map(|(_, n)| n).sum(),
        differences,
    }
}

/// A count as the disclosure rules allow, with thousands separators.
fn shown_count(n: u64, d: Disclosure) -> String {
    if d.count_shown(n) {
        fmt_count(n)
    } else {
        d.suppress(n)
    }
}

/// `peer / ours` on medians, and for SQLite the KPI step against its target.
fn ratio_cell(run: &BackendRun, kpi: &str, target: bool) -> String {
    let mut cell = match (&run.theirs, median(&run.ours)) {
        (Timings::Ran(p), Some(o)) if !p.is_empty() => {
            let r = median(p).map_or(0.0, |p| ratio(p, o));
            let how = if r >= 1.0 {
                "faster than"
            } else {
                "the speed of"
            };
            format!("{r:.2}x {how} {} counting {kpi} alone", run.peer_name)
        }
        _ => "no ratio: the peer skipped".to_string(),
    };
    if let (true, Some(o)) = (target, median(&run.ours)) {
        let verdict = if o < KPI_TARGET {
            "met".to_string()
        } else {
            format!("missed by {}", fmt_duration(o - KPI_TARGET))
        };
        let _ = write!(cell, "; target < {}: {verdict}", fmt_duration(KPI_TARGET));
    }
    cell
}

impl KpiReport {
    /// The Markdown table.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let sources: Vec<String> = self
            .sources
            .iter()
            .map(|(s, n)| format!("{s} ({} rows)", fmt_count(*n)))
            .collect();
        let _ = writeln!(
            out,
            "| all computed KPIs on {} | min | median | CPU (median) | ratio |",
            sources.join(", ")
        );
        out.push_str("|---|---|---|---|---|\n");
        for (backend, peer, run, target) in [
            ("SQLite", "sqlite3", &self.sqlite, true),
            ("PostgreSQL", "psql", &self.postgres, false),
        ] {
            let Some(run) = run else {
                continue;
            };
            let ours_label = format!("sendwatch KPI step, {} KPIs ({backend})", self.kpis);
            let peer_label = format!("{peer}: KPI {} by month, one query", self.peer_kpi);
            if let Some(why) = &run.skipped {
                let skipped = Timings::Skipped(why.clone());
                time_row(&mut out, &ours_label, &skipped, Some(&[]), "");
                time_row(&mut out, &peer_label, &skipped, Some(&[]), "");
                continue;
            }
            let ours = Timings::Ran(run.ours.clone());
            let cell = ratio_cell(run, self.peer_kpi, target);
            time_row(&mut out, &ours_label, &ours, Some(&run.ours_cpu), &cell);
            time_row(
                &mut out,
                &peer_label,
                &run.theirs,
                Some(&run.theirs_cpu),
                "",
            );
        }
        out
    }

    /// What was skipped and why, and whether the counts agree (false: a mismatch).
    pub fn verdicts(&self) -> (Vec<String>, bool) {
        let mut lines = vec![];
        let mut agree = true;
        for (backend, run) in [("SQLite", &self.sqlite), ("PostgreSQL", &self.postgres)] {
            let Some(run) = run else {
                continue;
            };
            if let Some(why) = &run.skipped {
                lines.push(format!("{backend} skipped: {why}"));
                continue;
            }
            if backend == "PostgreSQL" {
                lines.push(
                    "PostgreSQL CPU times are the clients' own (sendwatch reading the rows, psql \
                     printing the result); the server's work is counted in neither"
                        .into(),
                );
            }
            if let Timings::Skipped(why) = &run.theirs {
                lines.push(format!("{backend} peer skipped: {why}"));
            }
            let Some(c) = &run.check else {
                continue;
            };
            if c.differences.is_empty() {
                lines.push(format!(
                    "KPI {} counts agree ({backend}): sendwatch and {}, {} months, {} plans counted",
                    self.peer_kpi,
                    c.peer,
                    c.months,
                    shown_count(c.counted, self.disclosure)
                ));
            } else {
                agree = false;
                lines.push(format!(
                    "MISMATCH: KPI {} ({backend}): sendwatch and {} differ in {} of {} months:",
                    self.peer_kpi,
                    c.peer,
                    c.differences.len(),
                    c.months
                ));
                lines.extend(c.differences.iter().map(|d| format!("  {d}")));
            }
        }
        (lines, agree)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::ms;

    /// `("2020-05", on time, counted)` per month.
    fn counted(rows: &[(&str, u64, u64)]) -> Counted {
        rows.iter()
            .map(|(m, a, b)| (m.parse().expect("month"), (*a, *b)))
            .collect()
    }

    #[test]
    fn the_peers_output_is_read_as_months() {
        let c = parse_counts("202003,893,893\n202004,4601,4601\n\n").expect("parses");
        assert_eq!(
            c,
            counted(&[("2020-03", 893, 893), ("2020-04", 4601, 4601)])
        );
        assert!(parse_counts("202013,1,2\n").is_err());
        assert!(parse_counts("Error: no such table\n").is_err());
        assert!(parse_counts("202003,1,2,3\n").is_err());
    }

    #[test]
    fn a_difference_is_named_by_month_with_small_counts_suppressed() {
        let ours = counted(&[("2020-03", 893, 900), ("2020-04", 3, 4)]);
        let same = compare("sqlite3", &ours, &ours.clone(), Disclosure::default());
        assert!(same.differences.is_empty());
        assert_eq!((same.months, same.counted), (2, 904));
        let theirs = counted(&[("2020-03", 893, 901), ("2020-05", 7, 8)]);
        let c = compare("sqlite3", &ours, &theirs, Disclosure::default());
        assert_eq!(
            c.differences,
            [
                "2020-03: sendwatch 893 of 900, sqlite3 893 of 901",
                "2020-04: sendwatch <5 of <5, sqlite3 nothing",
                "2020-05: sendwatch nothing, sqlite3 all but <5 of 8",
            ]
        );
    }

    #[test]
    fn the_table_shows_the_ratio_the_target_and_skips() {
        let check = Check {
            peer: "sqlite3".into(),
            months: 17,
            counted: 337_000,
            differences: vec![],
        };
        let r = KpiReport {
            kpis: 7,
            peer_kpi: "1/2a",
            sources: vec![("tracker".into(), 1_000_000), ("provider".into(), 2000)],
            sqlite: Some(BackendRun {
                skipped: None,
                ours: ms(&[180, 200, 220]),
                ours_cpu: ms(&[300, 310, 320]),
                theirs: Timings::Ran(ms(&[390, 400, 410])),
                theirs_cpu: ms(&[380, 390, 400]),
                peer_name: "sqlite3".into(),
                check: Some(check.clone()),
            }),
            postgres: Some(BackendRun::skipped("no --postgres URL")),
            disclosure: Disclosure::default(),
        };
        let t = r.table();
        assert!(
            t.starts_with(
                "| all computed KPIs on tracker (1,000,000 rows), provider (2,000 rows) | min | median | CPU (median) | ratio |"
            ),
            "{t}"
        );
        assert!(
            t.contains("| sendwatch KPI step, 7 KPIs (SQLite) | 180 ms | 200 ms | 310 ms | 2.00x faster than sqlite3 counting 1/2a alone; target < 500 ms: met |"),
            "{t}"
        );
        assert!(
            t.contains("| sqlite3: KPI 1/2a by month, one query | 390 ms | 400 ms | 390 ms | |"),
            "{t}"
        );
        assert!(
            t.contains("| sendwatch KPI step, 7 KPIs (PostgreSQL) | skipped | skipped | | no --postgres URL |"),
            "{t}"
        );
        let (lines, agree) = r.verdicts();
        assert!(agree);
        assert_eq!(
            lines,
            [
                "KPI 1/2a counts agree (SQLite): sendwatch and sqlite3, 17 months, 337,000 plans counted",
                "PostgreSQL skipped: no --postgres URL"
            ]
        );

        let slow = BackendRun {
            ours: ms(&[800]),
            check: Some(Check {
                differences: vec!["2020-03: sendwatch 1 of 2, sqlite3 nothing".into()],
                ..check
            }),
            ..r.sqlite.clone().expect("sqlite")
        };
        let r = KpiReport {
            sqlite: Some(slow),
            postgres: None,
            ..r
        };
        assert!(
            r.table()
                .contains("0.50x the speed of sqlite3 counting 1/2a alone; target < 500 ms: missed by 300 ms |"),
            "{}",
            r.table()
        );
        let (lines, agree) = r.verdicts();
        assert!(!agree);
        assert_eq!(
            lines[0],
            "MISMATCH: KPI 1/2a (SQLite): sendwatch and sqlite3 differ in 1 of 17 months:"
        );
    }
}
