//! A KPI's trend chart, drawn from one [`Series`]: its periods' values (a line with dots, a
//! gap where a figure may not be shown) against the target each was rated against (a dashed
//! step line), as a PNG for the mail's inline image or as SVG for the pack and the live view.
//!
//! Owns: the series (built from an evaluation and the stored history, or from the stored
//! results alone), its optional layers from the KPI's early warning (the SPC mean, process
//! limits and special-cause marks, the projection and its band: [`layers`]), the shared
//! vertical scale, and both drawings, which draw the same layers from the same model. Pure:
//! numbers in, bytes or markup out.
//!
//! Disclosure: a period's value is in the series only when its figure is shown in words, as
//! decided over the KPI's whole series ([`crate::kpi::publish`]), and as written (from
//! rounded counts under that policy); a hidden one is `None`, a gap, so no suppressed value
//! can be read back off either drawing. The layers add nothing of their own: they are the
//! warning's, built on shown figures only, and attached only at periods drawn here.
//!
//! Text: the SVG carries its axis labels (the scale's ends, the first and last period) and
//! a title per dot. The PNG carries the same labels in a built-in pixel font (no font
//! library, no font file); the mail also writes the scale, the periods and the figures
//! beside it ([`Series::rows`]), where they are read and escaped like any other text.

use serde::Serialize;

use crate::disclose::{self, Disclosure, Verdict};
use crate::kpi::publish::publish_stored;
use crate::kpi::{
    Evaluation, KpiSettings, Measure, Period, StoredResult, Unit, own_series, target_in_force,
};

/// How many periods a mail's chart and a pack's chart show, the latest last.
pub const PERIODS: usize = 12;
/// The PNG's size in pixels.
pub const PNG_WIDTH: u32 = 600;
pub const PNG_HEIGHT: u32 = 240;

/// One period of a chart.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub period: Period,
    /// The figure, only when it may be shown.
    pub value: Option<f64>,
    /// The target the period was rated against, when the milestone gave a figure.
    pub target: Option<f64>,
}

/// The one chart model: a KPI's periods, oldest first, and how its figures are written.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Names the chart for screen readers ("KPI 1/2a: values against the target").
    pub title: String,
    pub unit: Unit,
    pub points: Vec<Point>,
    /// The SPC layer ([`Series::with_warning`]), oldest first; empty for none.
    pub spc: Vec<SpcMark>,
    /// The early warning's projection to its milestone, when it made one.
    pub projection: Option<Projection>,
}

/// One period of a chart as the table beside it says it.
#[derive(Debug, Clone, Serialize)]
pub struct TrendRow {
    /// "2021-07": twelve of them fit across the chart.
    pub period: String,
    /// The figure, or "not shown" where disclosure control hides it.
    pub value: String,
    pub target: String,
}

impl Series {
    /// The series of `e`: the stored results of the same KPI for the periods of its own kind
    /// ([`own_series`]: a twice-yearly KPI's old quarters are not its half-years) up to `e`'s
    /// (the latest stored result of each), the report period itself from `e`.
    pub fn of_evaluation(
        e: &Evaluation,
        k: &KpiSettings,
        history: &[StoredResult],
        d: Disclosure,
    ) -> Series {
        let average = e.measure == Some(Measure::AverageWaitWeeks);
        let mine = own_series(&e.kpi_id, k, history);
        let published = publish_stored(k, &mine, d);
        let mut points: Vec<Point> = mine
            .iter()
            .filter(|r| r.period.kind() == e.period.kind() && r.period < e.period)
            .map(|r| Point {
                period: r.period,
                value: shown_value(average, r, published.stored(r), d),
                target: r.target,
            })
            .collect();
        // The latest stored result of a period wins (the history is in id order per period).
        points.sort_by_key(|p| p.period);
        points.dedup_by(|later, earlier| {
            if later.period == earlier.period {
                *earlier = *later;
                true
            } else {
                false
            }
        });
        points.push(Point {
            period: e.period,
            value: e
                .current
                .filter(|_| e.shown.current.value)
                .and_then(|f| f.written(average, d)),
            target: e.milestone.as_ref().map(|m| m.target),
        });
        let skip = points.len().saturating_sub(PERIODS);
        points.drain(..skip);
        Series {
            title: format!("KPI {}: values against the target", e.kpi_id),
            unit: e.unit,
            points,
            spc: Vec::new(),
            projection: None,
        }
    }

    /// KPI `id`'s last `n` stored periods of its own kind ([`own_series`]) ending by `upto`'s
    /// last month, each against the target in force for it. Of its own kind whatever `upto`
    /// is: a quarter asked of a twice-yearly KPI draws the half-years up to it.
    pub fn of_stored(
        id: &str,
        k: &KpiSettings,
        results: &[StoredResult],
        upto: Period,
        n: usize,
        d: Disclosure,
    ) -> Series {
        let average = k.measure == Some(Measure::AverageWaitWeeks);
        let all = own_series(id, k, results);
        let published = publish_stored(k, &all, d);
        let mut mine: Vec<&StoredResult> = all
            .into_iter()
            .filter(|r| r.period.last_month() <= upto.last_month())
            .collect();
        mine.sort_by_key(|r| r.period);
        let start = mine.len().saturating_sub(n);
        Series {
            title: format!("KPI {id}: values against the target"),
            unit: k.unit,
            points: mine[start..]
                .iter()
                .map(|r| Point {
                    period: r.period,
                    value: shown_value(average, r, published.stored(r), d),
                    target: target_in_force(k, r.period.last_month()).and_then(|t| t.value()),
                })
                .collect(),
            spc: Vec::new(),
            projection: None,
        }
    }

    /// The figures in words, oldest first, each written by `fmt` ("not shown" for a gap).
    pub fn rows(&self, fmt: impl Fn(f64) -> String) -> Vec<TrendRow> {
        self.points
            .iter()
            .map(|p| TrendRow {
                period: p.period.to_string(),
                value: p
                    .value
                    .map_or_else(|| disclose::NOT_SHOWN.to_string(), &fmt),
                target: p.target.map_or_else(|| "-".to_string(), &fmt),
            })
            .collect()
    }

    /// How many periods have a figure to draw.
    fn drawn(&self) -> usize {
        self.points.iter().filter(|p| p.value.is_some()).count()
    }
}

/// A stored value as written, only when it is shown (`v`).
fn shown_value(average: bool, r: &StoredResult, v: Verdict, d: Disclosure) -> Option<f64> {
    r.written(average, d).filter(|_| v.value)
}

/// The vertical scale a chart of `points` is drawn on, bottom to top (the gridlines divide it
/// in four), for the axis labels and the caption beside the PNG.
pub fn scale(points: &[Point]) -> (f64, f64) {
    padded(points.iter().flat_map(|p| [p.value, p.target]).flatten())
}

/// The scale holding `ys`, padded above and below (and not below 0).
fn padded(ys: impl Iterator<Item = f64>) -> (f64, f64) {
    let ys: Vec<f64> = ys.filter(|v| v.is_finite()).collect();
    let lo = ys.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = ys.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !lo.is_finite() || !hi.is_finite() {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.15).max(1.0);
    ((lo - pad).max(0.0), hi + pad)
}

mod glyphs;
mod layers;
mod png;
mod svg;

pub use layers::{Projection, Rgb, Signal, SpcMark};

pub use png::png;
pub use svg::svg;

#[cfg(test)]
mod layer_tests;
#[cfg(test)]
mod tests;
