//! `bench forecast`'s replay and scores: at each past period of each series, the early
//! warning's projection to each later period (a milestone), scored against what happened;
//! the reliability table, the Brier scores beside two naive baselines, and the board's bands.
//!
//! The targets are set from the origin's last value, so none looks at the future: the last
//! value moved by each of [`offsets`] in the better direction ("improve by 5 points", "do
//! not lose more than 2"). The two baselines carry the last value forward: `persistence`
//! says 1 if that value already meets the target and 0 if not; `random walk` gives it the
//! same interval logic as the projection (a t with the spread of the series' changes so
//! far, growing with the square root of the horizon, censored at the same bounds).

use std::fmt::Write as _;

use sendwatch::kpi::forecast::{Band, Choice, Predictive, bounds, fit, meets};
use sendwatch::kpi::{Better, Unit};

/// One KPI series as replayed: one value per period, oldest first.
#[derive(Debug, Clone)]
pub struct Series {
    /// What it is, for the breakdown ("1/2", an area's code).
    pub name: String,
    pub unit: Unit,
    pub better: Better,
    pub values: Vec<Option<f64>>,
}

/// How a replay is run.
#[derive(Debug, Clone, Copy)]
pub struct Setup {
    /// Origins with fewer observed values are not projected from.
    pub min_points: usize,
    /// The furthest milestone after each origin, in periods.
    pub max_horizon: usize,
    pub choice: Choice,
}

/// One projection to one target, and what happened.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Event {
    /// The projection's chance of meeting the target.
    pub chance: f64,
    /// The baselines': 0 or 1, and the random walk's chance.
    pub persistence: f64,
    pub walk: f64,
    pub met: bool,
    /// Observed values the projection was fitted to.
    pub points: usize,
    pub horizon: usize,
    /// Index of the series in the replay's input.
    pub series: usize,
}

/// The targets' distances from the origin's last value, in the better direction: points for
/// a percentage, weeks for a wait (a few weeks of a wait are a few points of a percentage).
pub fn offsets(unit: Unit) -> &'static [f64] {
    match unit {
        Unit::Weeks => &[-2.0, -1.0, -0.5, 0.5, 1.0, 2.0],
        _ => &[-10.0, -5.0, -2.0, 2.0, 5.0, 10.0],
    }
}

/// The random walk's predictive distribution: the last value, with the root mean square of
/// the changes between consecutive values so far (no drift) times sqrt(h), on as many
/// degrees of freedom as changes. `None` with fewer than 2 changes.
pub fn random_walk(values: &[Option<f64>], h: usize) -> Option<Predictive> {
    let last = (*values.last()?)?;
    let changes: Vec<f64> = values
        .windows(2)
        .filter_map(|w| Some(w[1]? - w[0]?))
        .collect();
    if changes.len() < 2 {
        return None;
    }
    let m = changes.len() as f64;
    let rms = (changes.iter().map(|d| d * d).sum::<f64>() / m).sqrt();
    Some(Predictive {
        mean: last,
        scale: rms * (h as f64).sqrt(),
        df: m,
    })
}

/// Replays every series: each origin with a value and enough values before it, each
/// horizon up to the setup's that the series still holds a value for, each target.
pub fn replay(series: &[Series], setup: &Setup) -> Vec<Event> {
    let mut events = Vec::new();
    for (index, s) in series.iter().enumerate() {
        let b = bounds(s.unit);
        for origin in 0..s.values.len() {
            let Some(last) = s.values[origin] else {
                continue;
            };
            // From the series' first value, as the early warning reads a KPI.
            let start = s.values.iter().position(Option::is_some).unwrap_or(0);
            let history = &s.values[start..=origin];
            if history.iter().flatten().count() < setup.min_points {
                continue;
            }
            let Some(fitted) = fit(history, setup.choice) else {
                continue;
            };
            for h in 1..=setup.max_horizon {
                let Some(Some(actual)) = s.values.get(origin + h) else {
                    continue;
                };
                let pred = fitted.predict(h);
                let walk = random_walk(history, h);
                for d in offsets(s.unit) {
                    let target = match s.better {
                        Better::Higher => last + d,
                        Better::Lower => last - d,
                    };
                    let persistence = f64::from(u8::from(meets(last, target, s.better)));
                    events.push(Event {
                        chance: pred.chance(target, s.better, b),
                        persistence,
                        walk: walk.map_or(persistence, |w| w.chance(target, s.better, b)),
                        met: meets(*actual, target, s.better),
                        points: fitted.points(),
                        horizon: h,
                        series: index,
                    });
                }
            }
        }
    }
    events
}

/// A decile bin of stated chances.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Bin {
    pub n: usize,
    pub stated: f64,
    pub met: usize,
}

impl Bin {
    pub fn add(&mut self, chance: f64, met: bool) {
        self.n += 1;
        self.stated += chance;
        self.met += usize::from(met);
    }
    /// Mean stated chance and observed frequency, in percent.
    pub fn rates(&self) -> Option<(f64, f64)> {
        (self.n > 0).then(|| {
            let n = self.n as f64;
            (100.0 * self.stated / n, 100.0 * self.met as f64 / n)
        })
    }
}

/// Events by the decile of their stated chance (a chance of exactly 1 in the top decile).
pub fn deciles(events: &[Event], chance: impl Fn(&Event) -> f64) -> [Bin; 10] {
    let mut bins = [Bin::default(); 10];
    for e in events {
        let c = chance(e);
        let i = ((c * 10.0).floor() as usize).min(9);
        bins[i].add(c, e.met);
    }
    bins
}

/// Mean squared difference between the chance and the outcome (0 or 1).
pub fn brier(events: &[Event], chance: impl Fn(&Event) -> f64) -> f64 {
    if events.is_empty() {
        return f64::NAN;
    }
    let sum: f64 = events
        .iter()
        .map(|e| (chance(e) - f64::from(u8::from(e.met))).powi(2))
        .sum();
    sum / events.len() as f64
}

/// A bin counts towards the verdict with at least this many projections; fewer are shown
/// and marked, their frequency too noisy to judge (with 50, one standard error is up to 7
/// points).
pub const JUDGED: usize = 50;
/// The acceptance: each judged bin's observed frequency within this many points of its
/// stated chance.
pub const WITHIN: f64 = 10.0;

/// The largest gap in points between stated and observed over the judged bins.
pub fn worst_gap(bins: &[Bin]) -> Option<f64> {
    bins.iter()
        .filter(|b| b.n >= JUDGED)
        .filter_map(Bin::rates)
        .map(|(s, o)| (s - o).abs())
        .reduce(f64::max)
}

/// The reliability table (Markdown), one row per decile.
pub fn reliability_table(events: &[Event]) -> String {
    let mut b = String::new();
    let _ = writeln!(
        b,
        "| projection said | projections | mean stated | came true | gap | within {WITHIN:.0} points |"
    );
    let _ = writeln!(b, "|---|---|---|---|---|---|");
    for (i, bin) in deciles(events, |e| e.chance).iter().enumerate() {
        let label = format!("{}-{}%", i * 10, i * 10 + 10);
        let Some((stated, observed)) = bin.rates() else {
            let _ = writeln!(b, "| {label} | 0 | - | - | - | - |");
            continue;
        };
        let gap = observed - stated;
        let verdict = if bin.n < JUDGED {
            format!("(fewer than {JUDGED}: not judged)")
        } else if gap.abs() <= WITHIN {
            "yes".into()
        } else {
            "NO".into()
        };
        let _ = writeln!(
            b,
            "| {label} | {} | {stated:.1}% | {observed:.1}% | {gap:+.1} | {verdict} |",
            bin.n
        );
    }
    b
}

/// Brier scores of the projection and both baselines (Markdown), with the skill over each.
pub fn brier_table(events: &[Event]) -> String {
    let model = brier(events, |e| e.chance);
    let persistence = brier(events, |e| e.persistence);
    let walk = brier(events, |e| e.walk);
    let skill = |base: f64| 1.0 - model / base;
    let mut b = String::new();
    let _ = writeln!(
        b,
        "| forecaster ({} projections) | Brier score (lower is better) | projection's skill over it |",
        events.len()
    );
    let _ = writeln!(b, "|---|---|---|");
    let _ = writeln!(b, "| early warning (projection) | {model:.4} | |");
    let _ = writeln!(
        b,
        "| last value carried forward, 0/1 | {persistence:.4} | {:+.0}% |",
        100.0 * skill(persistence)
    );
    let _ = writeln!(
        b,
        "| last value carried forward, random-walk interval | {walk:.4} | {:+.0}% |",
        100.0 * skill(walk)
    );
    b
}

/// How often each board band came true (Markdown).
pub fn band_table(events: &[Event]) -> String {
    let mut rows = [
        (Band::OnCourse, Bin::default()),
        (Band::AtRisk, Bin::default()),
        (Band::OffCourse, Bin::default()),
    ];
    for e in events {
        let band = Band::of_chance(e.chance);
        if let Some((_, bin)) = rows.iter_mut().find(|(b, _)| *b == band) {
            bin.add(e.chance, e.met);
        }
    }
    let mut b = String::new();
    let _ = writeln!(b, "| band | projections | mean stated | came true |");
    let _ = writeln!(b, "|---|---|---|---|");
    for (band, bin) in rows {
        let (s, o) = bin.rates().unwrap_or((f64::NAN, f64::NAN));
        let _ = writeln!(
            b,
            "| {} | {} | {s:.1}% | {o:.1}% |",
            band.as_str().replace('_', " "),
            bin.n
        );
    }
    b
}

/// One summary line per group of events (Markdown rows): count, Brier, worst judged gap.
pub fn summary_row(label: &str, events: &[Event]) -> String {
    if events.is_empty() {
        return format!("| {label} | 0 | - | - | - |\n");
    }
    let gap = worst_gap(&deciles(events, |e| e.chance))
        .map_or_else(|| "-".to_string(), |g| format!("{g:.1}"));
    format!(
        "| {label} | {} | {:.4} | {:.4} | {gap} |\n",
        events.len(),
        brier(events, |e| e.chance),
        brier(events, |e| e.walk),
    )
}

/// The verdict on the acceptance (`None`: no decile has enough projections to judge) and
/// its line.
pub fn verdict(events: &[Event]) -> (Option<bool>, String) {
    let bins = deciles(events, |e| e.chance);
    let judged = bins.iter().filter(|b| b.n >= JUDGED).count();
    match worst_gap(&bins) {
        Some(g) if g <= WITHIN => (
            Some(true),
            format!(
                "calibration: every decile with {JUDGED}+ projections ({judged} of 10) within \
                 {WITHIN:.0} points of what came true (largest gap {g:.1}): met"
            ),
        ),
        Some(g) => (
            Some(false),
            format!(
                "calibration: a decile is {g:.1} points from what came true (target within \
                 {WITHIN:.0}): NOT met"
            ),
        ),
        None => (
            None,
            format!("calibration: no decile has {JUDGED} projections; not judged"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(chance: f64, met: bool) -> Event {
        Event {
            chance,
            persistence: 1.0,
            walk: 0.5,
            met,
            points: 12,
            horizon: 1,
            series: 0,
        }
    }

    #[test]
    fn deciles_and_brier_count_by_hand() {
        let events = [
            ev(0.05, false),
            ev(0.85, true),
            ev(0.89, false),
            ev(1.0, true),
        ];
        let bins = deciles(&events, |e| e.chance);
        assert_eq!(bins[0].n, 1);
        assert_eq!(bins[8].n, 2);
        assert_eq!(bins[8].met, 1);
        assert_eq!(bins[9].n, 1, "a chance of 1 is in the top decile");
        let (stated, observed) = bins[8].rates().expect("rates");
        assert!((stated - 87.0).abs() < 1e-9 && (observed - 50.0).abs() < 1e-9);
        // (0.05² + 0.15² + 0.89² + 0²) / 4
        let want = (0.0025 + 0.0225 + 0.7921) / 4.0;
        assert!((brier(&events, |e| e.chance) - want).abs() < 1e-12);
        assert!((brier(&events, |e| e.persistence) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn only_bins_with_enough_projections_are_judged() {
        let mut events = vec![ev(0.85, true); 40];
        events.extend(vec![ev(0.85, false); 10]); // 80% came true: 5 points off
        events.extend(vec![ev(0.15, true); 10]); // 100% came true, but only 10
        let (ok, line) = verdict(&events);
        assert_eq!(ok, Some(true), "{line}");
        assert!(
            line.contains("(1 of 10)") && line.contains("largest gap 5.0"),
            "{line}"
        );
        events.extend(vec![ev(0.15, true); 40]); // now judged: 85 points off
        let (ok, line) = verdict(&events);
        assert!(ok == Some(false) && line.contains("NOT met"), "{line}");
        assert_eq!(
            verdict(&events[..40]).0,
            None,
            "40 projections judge nothing"
        );
        let table = reliability_table(&events);
        assert!(
            table.contains("| 80-90% | 50 | 85.0% | 80.0% | -5.0 | yes |"),
            "{table}"
        );
        assert!(
            table.contains("| 10-20% | 50 | 15.0% | 100.0% | +85.0 | NO |"),
            "{table}"
        );
    }

    #[test]
    fn the_replay_sets_targets_from_the_last_value_and_scores_the_baselines() {
        // A rising line with a little wobble; 8 values, projections from the 6th on.
        let w = [0.3, -0.2, 0.1, -0.3, 0.2, 0.0, 0.1, 0.2];
        let s = Series {
            name: "rising".into(),
            unit: Unit::Percent,
            better: Better::Higher,
            values: (0..8).map(|i| Some(50.0 + 2.0 * i as f64 + w[i])).collect(),
        };
        let setup = Setup {
            min_points: 6,
            max_horizon: 2,
            choice: Choice::Linear,
        };
        let events = replay(&[s], &setup);
        // Origins 5 (horizons 1, 2) and 6 (horizon 1), six targets each.
        assert_eq!(events.len(), 3 * 6);
        // Persistence: met now exactly when the target is not above the last value.
        let first: Vec<f64> = events[..6].iter().map(|e| e.persistence).collect();
        assert_eq!(first, [1.0, 1.0, 1.0, 0.0, 0.0, 0.0]);
        // Rising 2 points a period: +2 is met next period, +10 is not.
        assert!(events[3].met && !events[5].met);
        assert!(
            events[3].chance > 0.3 && events[5].chance < 0.01,
            "{events:?}"
        );
        assert!(
            events
                .iter()
                .all(|e| e.points >= 6 && e.walk > 0.0 && e.walk < 1.0)
        );
    }

    #[test]
    fn the_random_walk_spreads_with_the_root_of_the_horizon() {
        let v = [Some(10.0), Some(12.0), None, Some(11.0), Some(8.0)];
        // Changes with both ends present: +2 and -3; rms sqrt(6.5).
        let w = random_walk(&v, 4).expect("a walk");
        assert_eq!((w.mean, w.df), (8.0, 2.0));
        assert!((w.scale - 6.5_f64.sqrt() * 2.0).abs() < 1e-12);
        assert_eq!(random_walk(&v[..2], 1), None);
    }
}
