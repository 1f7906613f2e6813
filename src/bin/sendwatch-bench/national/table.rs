//! The national bench's Markdown tables and verdicts: one row per cycle (areas x replicas)
//! with its time, time per area, growth and peak RSS; where each cycle's run time went, stage
//! by stage; the per-area overhead; and the targets (152 areas under 60 s, the mark 30 s;
//! linear in areas; under 256 MiB per daemon).

use std::fmt::Write as _;
use std::time::Duration;

use sendwatch::job::{Stage, Stages};

use crate::report::{fmt_count, fmt_duration};

/// The number of areas the time target is for: England's local authorities.
pub const NATIONAL: usize = 152;
/// One cycle of every area must end within this.
pub const CYCLE_TARGET: Duration = Duration::from_secs(60);
/// ... and should within this.
pub const CYCLE_MARK: Duration = Duration::from_secs(30);
/// Each daemon's peak RSS budget, MiB.
pub const RSS_TARGET_MIB: f64 = 256.0;
/// Linear: the time per area at the most areas is within this factor of that at the fewest.
pub const LINEAR_WITHIN: f64 = 1.25;

/// One timed cycle.
#[derive(Debug, Clone)]
pub struct Cycle {
    pub areas: usize,
    pub replicas: u32,
    /// Every extract row of its areas.
    pub rows: u64,
    /// The slowest replica's start (reading the deployment, building every area's App).
    pub startup: Duration,
    /// From `go` to the last replica's report.
    pub wall: Duration,
    /// Each replica's peak RSS, KiB.
    pub rss_kib: Vec<u64>,
    /// Every run's stage times added up.
    pub stages: Stages,
    /// Each run's (extract rows, time from claim to end).
    pub runs: Vec<(u64, Duration)>,
    /// The exactly-once lines (or MISMATCH lines).
    pub checks: Vec<String>,
}

impl Cycle {
    pub fn per_area(&self) -> Duration {
        self.wall / u32::try_from(self.areas.max(1)).unwrap_or(u32::MAX)
    }

    fn max_rss_mib(&self) -> f64 {
        self.rss_kib.iter().copied().max().unwrap_or(0) as f64 / 1024.0
    }
}

/// The tables and the lines after them.
pub fn render(cycles: &[Cycle]) -> String {
    let mut out = String::new();
    out.push_str(
        "| areas | replicas | extract rows | start-up | cycle | per area | per area vs fewest areas | peak RSS per replica |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    for c in cycles {
        let fewest = cycles
            .iter()
            .filter(|o| o.replicas == c.replicas)
            .min_by_key(|o| o.areas)
            .map_or(c.per_area(), Cycle::per_area);
        let rss: Vec<String> = c
            .rss_kib
            .iter()
            .map(|k| format!("{:.0} MiB", *k as f64 / 1024.0))
            .collect();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {:.2}x | {} |",
            c.areas,
            c.replicas,
            fmt_count(c.rows),
            fmt_duration(c.startup),
            fmt_duration(c.wall),
            fmt_duration(c.per_area()),
            ratio(c.per_area(), fewest),
            rss.join(", ")
        );
    }
    out.push('\n');
    out.push_str("| areas | replicas |");
    for s in Stage::ALL {
        let _ = write!(out, " {} |", s.as_str());
    }
    out.push_str(" all runs |\n|---|---|");
    out.push_str(&"---|".repeat(Stage::ALL.len() + 1));
    out.push('\n');
    for c in cycles {
        let total = c.stages.total();
        let _ = write!(out, "| {} | {} |", c.areas, c.replicas);
        for s in Stage::ALL {
            let d = c.stages.get(s);
            let _ = write!(
                out,
                " {} ({:.0}%) |",
                fmt_duration(d),
                100.0 * ratio(d, total)
            );
        }
        let _ = writeln!(out, " {} |", fmt_duration(total));
    }
    out.push_str(
        "\n(Stage times are each run's own wall time, added up over the cycle's runs; runs \
         overlap, so they add up to more than the cycle.)\n\n",
    );
    for c in cycles.iter().filter(|c| c.runs.len() >= 2) {
        if let Some((a, b)) = fit(c.runs.iter().map(|(r, d)| (*r as f64, d.as_secs_f64()))) {
            let _ = writeln!(
                out,
                "per-area overhead ({} areas, {} replica(s)): a run takes {} plus {} per 1,000 \
                 extract rows (least squares over its {} runs, from claim to end)",
                c.areas,
                c.replicas,
                fmt_secs(a),
                fmt_secs(b * 1000.0),
                c.runs.len()
            );
        }
    }
    out.push('\n');
    for line in verdicts(cycles) {
        let _ = writeln!(out, "{line}");
    }
    out.push('\n');
    for c in cycles {
        for line in &c.checks {
            let _ = writeln!(out, "{line}");
        }
    }
    out
}

/// The targets: the time of a national cycle, linearity, memory.
fn verdicts(cycles: &[Cycle]) -> Vec<String> {
    let mut out = Vec::new();
    let national: Vec<String> = cycles
        .iter()
        .filter(|c| c.areas == NATIONAL)
        .map(|c| {
            let verdict = if c.wall < CYCLE_MARK {
                "met, under the mark"
            } else if c.wall < CYCLE_TARGET {
                "met, over the mark"
            } else {
                "missed"
            };
            format!(
                "{} replica(s) {}: {verdict}",
                c.replicas,
                fmt_duration(c.wall)
            )
        })
        .collect();
    out.push(if national.is_empty() {
        format!("target: {NATIONAL} areas in one cycle under 60 s (the mark 30 s): not measured here (no run of {NATIONAL} areas)")
    } else {
        format!(
            "target: {NATIONAL} areas in one cycle under 60 s (the mark 30 s): {}",
            national.join("; ")
        )
    });

    let mut replicas: Vec<u32> = cycles.iter().map(|c| c.replicas).collect();
    replicas.sort_unstable();
    replicas.dedup();
    let mut linear = Vec::new();
    for r in replicas {
        let of: Vec<&Cycle> = cycles.iter().filter(|c| c.replicas == r).collect();
        let (Some(few), Some(many)) = (
            of.iter().min_by_key(|c| c.areas),
            of.iter().max_by_key(|c| c.areas),
        ) else {
            continue;
        };
        if few.areas == many.areas {
            linear.push(format!(
                "{r} replica(s): one area count, no growth measured"
            ));
            continue;
        }
        let k = ratio(many.per_area(), few.per_area());
        let growth = fit(of.iter().map(|c| (c.areas as f64, c.wall.as_secs_f64())))
            .map(|(a, b)| format!("; cycle = {} + {} per area", fmt_secs(a), fmt_secs(b)))
            .unwrap_or_default();
        let verdict = if k <= LINEAR_WITHIN { "met" } else { "missed" };
        linear.push(format!(
            "{r} replica(s): per area at {} areas is {k:.2}x that at {}{growth}: {verdict}",
            many.areas, few.areas
        ));
    }
    out.push(format!(
        "target: linear in areas (per area within {LINEAR_WITHIN:.2}x from the fewest areas to the most): {}",
        linear.join("; ")
    ));

    let worst = cycles
        .iter()
        .map(Cycle::max_rss_mib)
        .fold(0.0_f64, f64::max);
    let verdict = if worst < RSS_TARGET_MIB {
        "met".to_string()
    } else {
        format!("over by {:.0} MiB", worst - RSS_TARGET_MIB)
    };
    out.push(format!(
        "target: peak RSS under {RSS_TARGET_MIB:.0} MiB per daemon: at most {worst:.0} MiB: {verdict}"
    ));
    out
}

/// `a / b`, 0 when `b` is nothing.
fn ratio(a: Duration, b: Duration) -> f64 {
    if b.is_zero() {
        0.0
    } else {
        a.as_secs_f64() / b.as_secs_f64()
    }
}

/// Seconds (which may be negative: a fit's intercept) as the table writes durations.
fn fmt_secs(s: f64) -> String {
    let shown = fmt_duration(Duration::from_secs_f64(s.abs()));
    if s < 0.0 { format!("-{shown}") } else { shown }
}

/// The least-squares line `y = a + b x` through `points`: (a, b); none for fewer than two
/// distinct x.
fn fit(points: impl Iterator<Item = (f64, f64)>) -> Option<(f64, f64)> {
    let pts: Vec<(f64, f64)> = points.collect();
    let n = pts.len() as f64;
    let (sx, sy) = pts
        .iter()
        .fold((0.0, 0.0), |(sx, sy), (x, y)| (sx + x, sy + y));
    let (mx, my) = (sx / n, sy / n);
    let sxx: f64 = pts.iter().map(|(x, _)| (x - mx) * (x - mx)).sum();
    if pts.len() < 2 || sxx <= f64::EPSILON {
        return None;
    }
    let sxy: f64 = pts.iter().map(|(x, y)| (x - mx) * (y - my)).sum();
    let b = sxy / sxx;
    Some((my - b * mx, b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cycle(areas: usize, replicas: u32, wall_ms: u64) -> Cycle {
        let mut stages = Stages::default();
        stages.add(Stage::Load, Duration::from_millis(wall_ms));
        stages.add(Stage::Kpis, Duration::from_millis(wall_ms));
        Cycle {
            areas,
            replicas,
            rows: 1000 * areas as u64,
            startup: Duration::from_millis(300),
            wall: Duration::from_millis(wall_ms),
            rss_kib: vec![100 * 1024; replicas as usize],
            stages,
            runs: (0..areas)
                .map(|i| (100 * i as u64, Duration::from_millis(10 + i as u64)))
                .collect(),
            checks: vec![format!("exactly once ({areas} areas)")],
        }
    }

    #[test]
    fn a_line_is_fitted() {
        let (a, b) = fit([(1.0, 3.0), (2.0, 5.0), (3.0, 7.0)].into_iter()).expect("fits");
        assert!((a - 1.0).abs() < 1e-9 && (b - 2.0).abs() < 1e-9, "{a} {b}");
        assert_eq!(fit([(1.0, 3.0), (1.0, 5.0)].into_iter()), None);
        assert_eq!(fit(std::iter::empty()), None);
    }

    #[test]
    fn the_tables_say_growth_stages_and_the_targets() {
        let t = render(&[
            cycle(19, 1, 1900),
            cycle(152, 1, 15_200),
            cycle(19, 2, 1000),
            cycle(152, 2, 40_000),
        ]);
        assert!(
            t.contains("| 152 | 1 | 152,000 | 300 ms | 15.2 s | 100 ms | 1.00x | 100 MiB |"),
            "{t}"
        );
        assert!(
            t.contains(
                "| 152 | 2 | 152,000 | 300 ms | 40.0 s | 263 ms | 5.00x | 100 MiB, 100 MiB |"
            ),
            "{t}"
        );
        assert!(
            t.contains("| 19 | 1 | 0 ms (0%) | 1.90 s (50%) | 1.90 s (50%) |"),
            "{t}"
        );
        assert!(t.contains("per-area overhead (19 areas, 1 replica(s)): a run takes 10 ms plus 10 ms per 1,000 extract rows"), "{t}");
        assert!(
            t.contains(
                "1 replica(s) 15.2 s: met, under the mark; 2 replica(s) 40.0 s: met, over the mark"
            ),
            "{t}"
        );
        assert!(t.contains("1 replica(s): per area at 152 areas is 1.00x that at 19; cycle = 0 ms + 100 ms per area: met; 2 replica(s): per area at 152 areas is 5.00x that at 19"), "{t}");
        assert!(t.contains("at most 100 MiB: met"), "{t}");
        assert!(t.contains("exactly once (152 areas)"), "{t}");

        let t = render(&[cycle(3, 1, 500)]);
        assert!(t.contains("not measured here (no run of 152 areas)"), "{t}");
        assert!(
            t.contains("1 replica(s): one area count, no growth measured"),
            "{t}"
        );
    }
}
