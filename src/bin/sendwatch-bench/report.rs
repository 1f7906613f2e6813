//! The bench's Markdown table: min and median per contender, the speed-up over each peer
//! against its target, and sendwatch's peak RSS against its memory budget.

use std::fmt::Write as _;
use std::time::Duration;

/// sendwatch into SQLite must beat `sqlite3 .import` by this factor (median times).
pub const SQLITE_TARGET: f64 = 1.5;
/// sendwatch into PostgreSQL must at least match `psql \copy`.
pub const PG_TARGET: f64 = 1.0;
/// sendwatch's peak RSS budget, in MiB.
pub const RSS_TARGET_MIB: f64 = 64.0;

/// The timings of one contender, or why it did not run.
#[derive(Debug, Clone)]
pub enum Timings {
    Ran(Vec<Duration>),
    Skipped(String),
}

/// Everything the table shows.
#[derive(Debug)]
pub struct Report {
    pub file_name: String,
    pub rows: u64,
    pub bytes: u64,
    pub sw_sqlite: Vec<Duration>,
    pub sw_sqlite_rss_kib: Vec<u64>,
    pub sqlite3: Timings,
    pub sw_pg: Timings,
    pub sw_pg_rss_kib: Vec<u64>,
    pub psql: Timings,
}

pub fn min<T: Copy + Ord>(xs: &[T]) -> Option<T> {
    xs.iter().copied().min()
}

/// The median; the mean of the middle two for an even count.
pub fn median(xs: &[Duration]) -> Option<Duration> {
    let mut v = xs.to_vec();
    v.sort();
    let n = v.len();
    match n {
        0 => None,
        _ if !n.is_multiple_of(2) => Some(v[n / 2]),
        _ => Some((v[n / 2 - 1] + v[n / 2]) / 2),
    }
}

fn median_kib(xs: &[u64]) -> Option<u64> {
    let mut v = xs.to_vec();
    v.sort_unstable();
    let n = v.len();
    match n {
        0 => None,
        _ if !n.is_multiple_of(2) => Some(v[n / 2]),
        _ => Some((v[n / 2 - 1] + v[n / 2]) / 2),
    }
}

pub fn fmt_duration(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 10.0 {
        format!("{s:.1} s")
    } else if s >= 1.0 {
        format!("{s:.2} s")
    } else {
        format!("{:.0} ms", s * 1000.0)
    }
}

fn fmt_mib(kib: u64) -> String {
    format!("{:.0} MiB", kib as f64 / 1024.0)
}

pub fn fmt_bytes(n: u64) -> String {
    let kib = n as f64 / 1024.0;
    if kib < 1024.0 {
        format!("{kib:.1} KiB")
    } else {
        format!("{:.1} MiB", kib / 1024.0)
    }
}

/// 1234567 -> "1,234,567".
pub fn fmt_count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `peer / ours` on medians, phrased for the table, with the target's verdict.
fn ratio_cell(ours: &[Duration], peer: &Timings, peer_name: &str, target: f64) -> String {
    let (Some(o), Timings::Ran(p)) = (median(ours), peer) else {
        return format!("no ratio: {peer_name} skipped");
    };
    let Some(p) = median(p) else {
        return format!("no ratio: {peer_name} skipped");
    };
    let r = ratio(p, o);
    let verdict = if r >= target {
        "met".to_string()
    } else {
        format!("missed by {:.0}%", (1.0 - r / target) * 100.0)
    };
    let how = if r >= 1.0 {
        "faster than"
    } else {
        "the speed of"
    };
    format!("{r:.2}x {how} {peer_name} (target >= {target:.1}x: {verdict})")
}

pub fn ratio(peer: Duration, ours: Duration) -> f64 {
    peer.as_secs_f64() / ours.as_secs_f64().max(f64::MIN_POSITIVE)
}

/// One row: min and median, `cpu`'s median when the table has that column, and `ratio`; or
/// why the contender was skipped.
pub fn time_row(out: &mut String, label: &str, t: &Timings, cpu: Option<&[Duration]>, ratio: &str) {
    let cpu_cell = |text: String| match cpu {
        None => String::new(),
        Some(_) if text.is_empty() => " |".to_string(),
        Some(_) => format!(" {text} |"),
    };
    match t {
        Timings::Ran(xs) => {
            let (Some(lo), Some(mid)) = (min(xs), median(xs)) else {
                return;
            };
            let cpu = cpu_cell(cpu.and_then(median).map_or_else(String::new, fmt_duration));
            let ratio = if ratio.is_empty() {
                String::new()
            } else {
                format!(" {ratio}")
            };
            let _ = writeln!(
                out,
                "| {label} | {} | {} |{cpu}{ratio} |",
                fmt_duration(lo),
                fmt_duration(mid)
            );
        }
        Timings::Skipped(why) => {
            let cpu = cpu_cell(String::new());
            let _ = writeln!(out, "| {label} | skipped | skipped |{cpu} {why} |");
        }
    }
}

pub fn rss_row(out: &mut String, label: &str, kib: &[u64]) {
    let (Some(lo), Some(mid), Some(hi)) = (min(kib), median_kib(kib), kib.iter().max()) else {
        return;
    };
    let hi_mib = *hi as f64 / 1024.0;
    let verdict = if hi_mib < RSS_TARGET_MIB {
        "met".to_string()
    } else {
        format!("over by {:.0} MiB", hi_mib - RSS_TARGET_MIB)
    };
    let _ = writeln!(
        out,
        "| {label} | {} | {} | max {}, target < {RSS_TARGET_MIB:.0} MiB: {verdict} |",
        fmt_mib(lo),
        fmt_mib(mid),
        fmt_mib(*hi)
    );
}

impl Report {
    /// The Markdown table.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "| load of {} ({} rows, {}) | min | median | ratio |",
            self.file_name,
            fmt_count(self.rows),
            fmt_bytes(self.bytes)
        );
        out.push_str("|---|---|---|---|\n");
        let sw_sqlite = Timings::Ran(self.sw_sqlite.clone());
        time_row(
            &mut out,
            "sendwatch -> SQLite (validated)",
            &sw_sqlite,
            None,
            &ratio_cell(&self.sw_sqlite, &self.sqlite3, "sqlite3", SQLITE_TARGET),
        );
        time_row(
            &mut out,
            "sqlite3 .import (typed table, PRIMARY KEY)",
            &self.sqlite3,
            None,
            "",
        );
        let pg_ratio = match &self.sw_pg {
            Timings::Ran(xs) => ratio_cell(xs, &self.psql, "psql \\copy", PG_TARGET),
            Timings::Skipped(_) => String::new(),
        };
        time_row(
            &mut out,
            "sendwatch -> PostgreSQL (validated)",
            &self.sw_pg,
            None,
            &pg_ratio,
        );
        time_row(
            &mut out,
            "psql \\copy (typed table, PRIMARY KEY)",
            &self.psql,
            None,
            "",
        );
        rss_row(
            &mut out,
            "sendwatch peak RSS (SQLite)",
            &self.sw_sqlite_rss_kib,
        );
        rss_row(
            &mut out,
            "sendwatch peak RSS (PostgreSQL)",
            &self.sw_pg_rss_kib,
        );
        out
    }
}

/// Durations in milliseconds, for tests.
#[cfg(test)]
pub fn ms(xs: &[u64]) -> Vec<Duration> {
    xs.iter().map(|&x| Duration::from_millis(x)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&ms(&[30, 10, 20])), Some(Duration::from_millis(20)));
        assert_eq!(
            median(&ms(&[40, 10, 20, 30])),
            Some(Duration::from_millis(25))
        );
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn counts_get_thousands_separators() {
        assert_eq!(fmt_count(0), "0");
        assert_eq!(fmt_count(999), "999");
        assert_eq!(fmt_count(1000), "1,000");
        assert_eq!(fmt_count(1_000_000), "1,000,000");
    }

    #[test]
    fn the_table_shows_ratios_and_skips() {
        let r = Report {
            file_name: "tracker.csv".into(),
            rows: 1_000_000,
            bytes: 105_600_000,
            sw_sqlite: ms(&[1400, 1500, 1600]),
            sw_sqlite_rss_kib: vec![31 * 1024, 32 * 1024, 33 * 1024],
            sqlite3: Timings::Ran(ms(&[2800, 3000, 3100])),
            sw_pg: Timings::Skipped("no --postgres URL".into()),
            sw_pg_rss_kib: vec![],
            psql: Timings::Skipped("no --postgres URL".into()),
        };
        let t = r.table();
        assert!(t.contains("(1,000,000 rows, 100.7 MiB)"), "{t}");
        assert!(
            t.contains("| sendwatch -> SQLite (validated) | 1.40 s | 1.50 s | 2.00x faster than sqlite3 (target >= 1.5x: met) |"),
            "{t}"
        );
        assert!(
            t.contains(
                "| sendwatch -> PostgreSQL (validated) | skipped | skipped | no --postgres URL |"
            ),
            "{t}"
        );
        assert!(
            t.contains("| 31 MiB | 32 MiB | max 33 MiB, target < 64 MiB: met |"),
            "{t}"
        );
        assert!(!t.contains("peak RSS (PostgreSQL)"), "{t}");
    }

    #[test]
    fn a_missed_target_says_by_how_much() {
        let cell = ratio_cell(&ms(&[1000]), &Timings::Ran(ms(&[1200])), "sqlite3", 1.5);
        assert_eq!(
            cell,
            "1.20x faster than sqlite3 (target >= 1.5x: missed by 20%)"
        );
        let cell = ratio_cell(&ms(&[2000]), &Timings::Ran(ms(&[1000])), "psql", 1.0);
        assert_eq!(
            cell,
            "0.50x the speed of psql (target >= 1.0x: missed by 50%)"
        );
    }
}
