//! Disclosure over a series: every figure one audience is shown of one KPI, over all its
//! periods, decided together so that no count under the threshold can be worked out by
//! putting them side by side (secondary suppression, as the DfE and ONS do for tables with
//! totals).
//!
//! Owns the model. A published figure counts the cases of a run of months: a month's flow, a
//! quarter's, a year to date, or a running total since its year began. Each is a [`Span`] of
//! months on an axis, and each count it publishes (numerator, denominator) is the difference
//! of a running sum at the span's two ends. Publishing a figure tells the reader that
//! difference; two figures sharing an end tell the difference of their other ends, and so
//! on: what a reader can work out is exactly the differences between ends joined by
//! published spans (a weighted union-find per count). Every such difference must be 0 or at
//! least the threshold: it is enough to check neighbouring ends of each joined set, since any
//! other is a sum of those. The rest (denominator less numerator) is known where both are,
//! and is checked the same way; so is its fall, where a running total's numerator grows.
//!
//! Figures are offered oldest first and each is decided given the ones before it and never
//! again: the decision for a period does not change when later periods come, so last month's
//! digest and this month's pack agree on it. A figure that would give a small count back is
//! hidden ([`Why::Recoverable`]); its denominator is still written when that gives nothing
//! back. Pure: no I/O, no clock.

use std::collections::{BTreeMap, HashMap};

use super::{Disclosure, Policy};

/// The cases a figure counts: those of months `from + 1` to `to` on `axis` (months numbered
/// from any origin; one axis per set of running sums that share a start: a flow KPI has
/// one, a running total one per year).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub axis: i64,
    pub from: i64,
    pub to: i64,
}

/// What a figure is of its counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A percentage: numerator of denominator cases, both counts of children.
    Share,
    /// An average over the denominator's cases; the numerator (a total of weeks) is not a
    /// count of children.
    Average,
}

/// Why a figure is or is not shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    Shown,
    /// A count of its own is under the threshold.
    Small,
    /// Beside figures already shown it would give a count under the threshold back.
    Recoverable,
}

/// What may be written of one figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// The figure itself (under the rounding policy, from rounded counts).
    pub value: bool,
    /// Its denominator, beside a hidden value ("<5 of 26").
    pub denominator: bool,
    /// Its RAG rating, direction of travel and change on the previous: said only of a figure
    /// that could be shown exactly, as a rating tells which side of a target it is.
    pub rated: bool,
    pub why: Why,
}

impl Verdict {
    /// A figure with nothing to hide (a value entered without its counts).
    pub const OPEN: Verdict = Verdict {
        value: true,
        denominator: true,
        rated: true,
        why: Why::Shown,
    };

    /// A figure hidden as a count of its own is small.
    pub const SMALL: Verdict = Verdict {
        value: false,
        denominator: false,
        rated: false,
        why: Why::Small,
    };

    /// Whether the figure's value is hidden.
    pub fn hidden(self) -> bool {
        !self.value
    }
}

/// One figure offered for publication.
#[derive(Debug, Clone, Copy)]
pub struct Offer {
    pub span: Span,
    pub numerator: u64,
    pub denominator: u64,
}

/// The figures of one KPI decided so far.
#[derive(Debug, Clone)]
pub struct Series {
    d: Disclosure,
    shape: Shape,
    axes: HashMap<i64, Axis>,
}

impl Series {
    pub fn new(d: Disclosure, shape: Shape) -> Series {
        Series {
            d,
            shape,
            axes: HashMap::new(),
        }
    }

    /// Decide `o` given every figure offered before it, and remember what it publishes.
    pub fn offer(&mut self, o: Offer) -> Verdict {
        let exact = self.exact(o);
        let rounding = self.d.policy() == Policy::Round && self.shape == Shape::Share;
        if rounding {
            // Every count is written rounded; only what is rated is exact, so only that is
            // added to what a reader knows.
            return Verdict {
                value: self.d.round(o.denominator) > 0,
                denominator: true,
                rated: exact == Why::Shown,
                why: exact,
            };
        }
        let shown = exact == Why::Shown;
        let denominator = shown
            || (self.shape == Shape::Share
                && self.d.count_shown(o.denominator)
                && self.publish(o.span, None, o.denominator));
        Verdict {
            value: shown,
            denominator,
            rated: shown,
            why: exact,
        }
    }

    /// Whether `o` could be shown exactly; when it can, it is published.
    fn exact(&mut self, o: Offer) -> Why {
        let alone = match self.shape {
            Shape::Share => self.d.share_shown(o.numerator, o.denominator),
            Shape::Average => self.d.average_shown(o.denominator),
        };
        if !alone {
            Why::Small
        } else if self.publish(o.span, Some(o.numerator), o.denominator) {
            Why::Shown
        } else {
            Why::Recoverable
        }
    }

    /// Add the span's counts to what a reader knows, unless that lets a small count be worked
    /// out; then leave it as it was and say no.
    fn publish(&mut self, s: Span, numerator: Option<u64>, denominator: u64) -> bool {
        let before = self.axes.get(&s.axis).cloned();
        let axis = self.axes.entry(s.axis).or_default();
        let (a, b) = (axis.point(s.from), axis.point(s.to));
        axis.den.join(a, b, to_i64(denominator));
        if let Some(n) = numerator {
            axis.num.join(a, b, to_i64(n));
        }
        if axis.safe(self.d, self.shape) {
            return true;
        }
        match before {
            Some(before) => self.axes.insert(s.axis, before),
            None => self.axes.remove(&s.axis),
        };
        false
    }
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The ends of the spans published on one axis, and what is known between them.
#[derive(Debug, Clone, Default)]
struct Axis {
    /// Month number to node.
    points: BTreeMap<i64, usize>,
    num: Joined,
    den: Joined,
}

impl Axis {
    fn point(&mut self, month: i64) -> usize {
        let next = self.points.len();
        let id = *self.points.entry(month).or_insert(next);
        if id == next {
            self.num.add();
            self.den.add();
        }
        id
    }

    /// Whether every count a reader can work out is 0 or at least the threshold: the
    /// numerator's and denominator's (a share's) or the denominator's (an average's), and
    /// the rest where both are known.
    fn safe(&mut self, d: Disclosure, shape: Shape) -> bool {
        // Each joined set's running sums, ends in month order.
        let mut num: HashMap<usize, Vec<i64>> = HashMap::new();
        let mut den: HashMap<usize, Vec<i64>> = HashMap::new();
        let mut rest: HashMap<(usize, usize), Vec<i64>> = HashMap::new();
        let nodes: Vec<usize> = self.points.values().copied().collect();
        for p in nodes {
            let (nr, np) = self.num.find(p);
            let (dr, dp) = self.den.find(p);
            den.entry(dr).or_default().push(dp);
            num.entry(nr).or_default().push(np);
            rest.entry((nr, dr)).or_default().push(dp - np);
        }
        let all = |sets: Vec<Vec<i64>>| sets.iter().all(|s| differences_ok(s, d.threshold()));
        all(den.into_values().collect())
            && (shape == Shape::Average
                || (all(num.into_values().collect()) && all(rest.into_values().collect())))
    }
}

/// Whether every difference of two sums in `sums` is 0 or at least `threshold`. Sums that
/// only rise (or only fall) need their neighbours checked, as any other difference adds
/// theirs up; otherwise every pair is.
fn differences_ok(sums: &[i64], threshold: u64) -> bool {
    let ok = |x: i64| x == 0 || x.unsigned_abs() >= threshold;
    let steps = || sums.windows(2).map(|w| w[1] - w[0]);
    let monotone = steps().all(|x| x >= 0) || steps().all(|x| x <= 0);
    if monotone {
        return steps().all(ok);
    }
    sums.iter()
        .enumerate()
        .all(|(i, a)| sums[i + 1..].iter().all(|b| ok(b - a)))
}

/// A union-find whose every node knows its running sum less its set's root's: two nodes in
/// one set have a known difference.
#[derive(Debug, Clone, Default)]
struct Joined {
    parent: Vec<usize>,
    /// Sum at the node less the sum at its parent.
    above: Vec<i64>,
}

impl Joined {
    fn add(&mut self) {
        self.parent.push(self.parent.len());
        self.above.push(0);
    }

    /// The node's set and its sum less the set root's.
    fn find(&mut self, x: usize) -> (usize, i64) {
        let p = self.parent[x];
        if p == x {
            return (x, 0);
        }
        let (root, p_above) = self.find(p);
        self.parent[x] = root;
        self.above[x] += p_above;
        (root, self.above[x])
    }

    /// Learn that the sum at `b` less the sum at `a` is `w`. Already known (same set): the
    /// figures agree or are of two versions of the data; either way nothing new is learnt.
    fn join(&mut self, a: usize, b: usize, w: i64) {
        let (ra, pa) = self.find(a);
        let (rb, pb) = self.find(b);
        if ra != rb {
            self.parent[rb] = ra;
            self.above[rb] = w - pb + pa;
        }
    }
}

#[cfg(test)]
#[path = "series_tests.rs"]
mod tests;
