//! The attacker's reasoning: what a reader knows of each figure (the pairs of numerator and
//! denominator still possible), narrowed by every observation and by how figures relate (a
//! running total's months, a year to date against its months), then every count it has pinned
//! to one value. A count of 1 to 4 pinned, or a rating said of a figure whose value is
//! hidden, is a leak.

use std::collections::{BTreeMap, BTreeSet};

/// The largest denominator a reader considers (the fixtures' areas are far smaller).
pub const D_MAX: u32 = 2_000;

/// Which figure of a KPI's period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Part {
    Current,
    YearToDate,
}

/// A figure: KPI, period (year and month of its last month), part.
pub type Key = (String, (i32, u32), Part);

/// What is still possible of one figure: each denominator with its numerators (an interval).
#[derive(Debug, Clone, Default)]
pub struct Figure {
    /// `None`: nothing known yet (any denominator up to [`D_MAX`], any numerator up to it).
    cands: Option<BTreeMap<u32, (u32, u32)>>,
    /// Some output said its value is not shown.
    pub hidden: bool,
    /// Some output rated it (a RAG colour, a direction, a change).
    pub rated: bool,
    /// Which outputs hid it and which rated it (for the leak's message).
    pub seen: BTreeSet<String>,
}

impl Figure {
    fn cands(&mut self) -> &mut BTreeMap<u32, (u32, u32)> {
        self.cands
            .get_or_insert_with(|| (0..=D_MAX).map(|d| (d, (0, d))).collect())
    }

    /// Keep the denominators in `lo..=hi`.
    pub fn d_in(&mut self, lo: u32, hi: u32) {
        self.cands().retain(|d, _| (lo..=hi).contains(d));
    }

    /// Narrow each denominator's numerators to `f(d)`.
    pub fn n_in(&mut self, f: impl Fn(u32) -> (i64, i64)) {
        self.cands().retain(|&d, (lo, hi)| {
            let (a, b) = f(d);
            let a = a.max(i64::from(*lo));
            let b = b.min(i64::from(*hi));
            if a > b {
                return false;
            }
            (*lo, *hi) = (a as u32, b as u32);
            true
        });
    }

    /// The value shown at one decimal: a percentage of the denominator.
    pub fn percent(&mut self, p: f64) {
        self.n_in(|d| {
            let d = f64::from(d);
            let lo = ((p - 0.05 - 1e-9) * d / 100.0).ceil() as i64;
            let hi = ((p + 0.05 + 1e-9) * d / 100.0).floor() as i64;
            (lo, hi)
        });
        self.cands().remove(&0);
    }

    /// The numerator's, denominator's and rest's ranges.
    pub fn ranges(&self) -> Option<[(i64, i64); 3]> {
        let c = self.cands.as_ref()?;
        let (mut n, mut d, mut r) = (
            (i64::MAX, i64::MIN),
            (i64::MAX, i64::MIN),
            (i64::MAX, i64::MIN),
        );
        for (&den, &(lo, hi)) in c {
            let (den, lo, hi) = (i64::from(den), i64::from(lo), i64::from(hi));
            n = (n.0.min(lo), n.1.max(hi));
            d = (d.0.min(den), d.1.max(den));
            r = (r.0.min(den - hi), r.1.max(den - lo));
        }
        (!c.is_empty()).then_some([n, d, r])
    }

    fn narrow(&mut self, n: (i64, i64), d: (i64, i64), r: (i64, i64)) {
        let (dlo, dhi) = (d.0.max(0), d.1.min(i64::from(D_MAX)));
        if dlo > dhi {
            self.cands().clear();
            return;
        }
        self.d_in(dlo as u32, dhi as u32);
        self.n_in(|den| {
            let den = i64::from(den);
            (
                n.0.max(den.saturating_sub(r.1)),
                n.1.min(den.saturating_sub(r.0)),
            )
        });
    }
}

/// How a KPI's figures relate, as the plan (public) says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// Flows: a year to date is the sum of its months; `year_start` is its first month.
    Flow { year_start: u32 },
    /// A running total over the academic year.
    Running,
    /// Averages or values entered by hand: no counts relate.
    None,
}

/// Everything one audience was shown, and what it worked out.
#[derive(Debug, Default)]
pub struct Knowledge {
    pub figures: BTreeMap<Key, Figure>,
    pub relations: BTreeMap<String, Relation>,
    /// What the reader found, in words.
    pub leaks: BTreeSet<String>,
}

/// A running total's month and its numerator's, denominator's and rest's ranges.
type Seen = ((i32, u32), [(i64, i64); 3]);

/// The academic year (by its first calendar year) a month is in.
fn academic_year((y, m): (i32, u32)) -> i32 {
    if m >= 9 { y } else { y - 1 }
}

fn month_index((y, m): (i32, u32)) -> i64 {
    i64::from(y) * 12 + i64::from(m) - 1
}

fn sum(a: (i64, i64), b: (i64, i64)) -> (i64, i64) {
    (a.0.saturating_add(b.0), a.1.saturating_add(b.1))
}

fn small(x: (i64, i64)) -> bool {
    x.0 == x.1 && (1..=4).contains(&x.0)
}

impl Knowledge {
    pub fn figure(&mut self, kpi: &str, month: (i32, u32), part: Part) -> &mut Figure {
        self.figures
            .entry((kpi.to_string(), month, part))
            .or_default()
    }

    /// Narrow every figure by the relations until nothing changes, then list the leaks.
    pub fn attack(&mut self) -> &BTreeSet<String> {
        for _ in 0..8 {
            let before: Vec<_> = self.figures.values().map(Figure::ranges).collect();
            self.flows();
            self.one_denominator();
            let after: Vec<_> = self.figures.values().map(Figure::ranges).collect();
            if before == after {
                break;
            }
        }
        self.running_totals();
        for ((kpi, (y, m), part), f) in &self.figures {
            if let Some([n, d, r]) = f.ranges() {
                for (what, x) in [("numerator", n), ("denominator", d), ("rest", r)] {
                    if small(x) {
                        self.leaks.insert(format!(
                            "KPI {kpi} {y}-{m:02} {part:?}: its {what} is {} (worked out)",
                            x.0
                        ));
                    }
                }
            }
            if f.hidden && f.rated && *part == Part::Current {
                self.leaks.insert(format!(
                    "KPI {kpi} {y}-{m:02}: its value is hidden but it is rated ({})",
                    f.seen.iter().cloned().collect::<Vec<_>>().join("; ")
                ));
            }
        }
        &self.leaks
    }

    /// A year to date is the sum of its months: each month (or the total) is narrowed to what
    /// the others leave.
    fn flows(&mut self) {
        let ytds: Vec<Key> = self
            .figures
            .keys()
            .filter(|k| k.2 == Part::YearToDate)
            .cloned()
            .collect();
        for ytd in ytds {
            let Some(Relation::Flow { year_start }) = self.relations.get(&ytd.0).copied() else {
                continue;
            };
            let (y, m) = ytd.1;
            let start_year = if m >= year_start { y } else { y - 1 };
            let first = month_index((start_year, year_start));
            let months: Vec<Key> = (first..=month_index(ytd.1))
                .map(|i| {
                    (
                        ytd.0.clone(),
                        ((i / 12) as i32, (i % 12) as u32 + 1),
                        Part::Current,
                    )
                })
                .collect();
            // Every month must be known to some degree, else nothing can be said.
            let ranges: Vec<Option<[(i64, i64); 3]>> = months
                .iter()
                .map(|k| self.figures.get(k).and_then(Figure::ranges))
                .collect();
            let Some(total) = self.figures.get(&ytd).and_then(Figure::ranges) else {
                continue;
            };
            if ranges.iter().any(Option::is_none) {
                continue;
            }
            let ranges: Vec<[(i64, i64); 3]> = ranges.into_iter().flatten().collect();
            for (j, key) in months.iter().enumerate() {
                let mut others = [(0, 0); 3];
                for (i, r) in ranges.iter().enumerate() {
                    if i != j {
                        for p in 0..3 {
                            others[p] = sum(others[p], r[p]);
                        }
                    }
                }
                let left = |p: usize| (total[p].0 - others[p].1, total[p].1 - others[p].0);
                if let Some(f) = self.figures.get_mut(key) {
                    f.narrow(left(0), left(1), left(2));
                }
            }
            let mut all = [(0, 0); 3];
            for r in &ranges {
                for p in 0..3 {
                    all[p] = sum(all[p], r[p]);
                }
            }
            if let Some(f) = self.figures.get_mut(&ytd) {
                f.narrow(all[0], all[1], all[2]);
            }
        }
    }

    /// A running total's cases are the reviews due in its academic year: one denominator for
    /// all its months (the plan says so), so what one month's says holds for the others.
    fn one_denominator(&mut self) {
        let mut by_year: BTreeMap<(String, i32), (i64, i64)> = BTreeMap::new();
        for ((kpi, month, part), f) in &self.figures {
            if *part != Part::Current || self.relations.get(kpi) != Some(&Relation::Running) {
                continue;
            }
            if let Some([_, d, _]) = f.ranges() {
                let e = by_year
                    .entry((kpi.clone(), academic_year(*month)))
                    .or_insert((0, i64::MAX));
                *e = (e.0.max(d.0), e.1.min(d.1));
            }
        }
        for ((kpi, month, part), f) in &mut self.figures {
            if *part != Part::Current || f.cands.is_none() {
                continue;
            }
            if let Some(&(lo, hi)) = by_year.get(&(kpi.clone(), academic_year(*month))) {
                f.narrow((0, i64::MAX), (lo, hi), (i64::MIN, i64::MAX));
            }
        }
    }

    /// A running total's two periods in one academic year: what was added between them.
    fn running_totals(&mut self) {
        let mut by_year: BTreeMap<(String, i32), Vec<Seen>> = BTreeMap::new();
        for ((kpi, month, part), f) in &self.figures {
            if *part != Part::Current || self.relations.get(kpi) != Some(&Relation::Running) {
                continue;
            }
            if let Some(r) = f.ranges() {
                by_year
                    .entry((kpi.clone(), academic_year(*month)))
                    .or_default()
                    .push((*month, r));
            }
        }
        for ((kpi, _), mut seen) in by_year {
            seen.sort_by_key(|(m, _)| *m);
            for (i, (m1, a)) in seen.iter().enumerate() {
                for (m2, b) in &seen[i + 1..] {
                    for (p, what) in ["completed", "cases", "not completed"].iter().enumerate() {
                        let added = (b[p].0 - a[p].1, b[p].1 - a[p].0);
                        let fell = (a[p].0 - b[p].1, a[p].1 - b[p].0);
                        if small(added) || small(fell) {
                            self.leaks.insert(format!(
                                "KPI {kpi}: {what} between {}-{:02} and {}-{:02} moved by {} (worked out)",
                                m1.0, m1.1, m2.0, m2.1,
                                if small(added) { added.0 } else { fell.0 }
                            ));
                        }
                    }
                }
            }
        }
    }
}
