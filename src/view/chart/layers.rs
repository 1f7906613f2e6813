//! The chart's optional layers (issue 21), taken from a KPI's early warning
//! ([`crate::kpi::warning::Warning`]): the SPC mean and process limits (per segment when the
//! series is rebased), each point's special-cause mark, and the projection to the next
//! milestone with its prediction interval. Also the colours and legend both drawings share,
//! so the PNG and the SVG show the same layers in the same colours.
//!
//! Disclosure: nothing here decides what may be shown. The warning already built its limits
//! and projection on shown figures only (a count of 1-4 is a gap there), and says when there
//! are none (`spc` is `None` below two shown values; `projection` is `None` with too little
//! data); a layer is attached exactly when the warning has it, and only at periods whose
//! value the chart itself shows.

use super::Series;
use crate::kpi::forecast::bounds;
use crate::kpi::spc::PointType;
use crate::kpi::warning::Warning;
use crate::kpi::{Period, Unit};

/// A point's reading, coloured as Making Data Count colours it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    CommonCause,
    Improvement,
    Concern,
    /// A special cause on a KPI with no better direction.
    Neutral,
}

impl Signal {
    fn of(t: PointType) -> Signal {
        match t {
            PointType::CommonCause => Signal::CommonCause,
            PointType::Improvement => Signal::Improvement,
            PointType::Concern => Signal::Concern,
            PointType::NeutralHigh | PointType::NeutralLow => Signal::Neutral,
        }
    }

    /// For the SVG's class and the dot's title.
    pub fn as_str(self) -> &'static str {
        match self {
            Signal::CommonCause => "common cause",
            Signal::Improvement => "special cause improvement",
            Signal::Concern => "special cause concern",
            Signal::Neutral => "special cause",
        }
    }

    /// NHSRplotthedots' colours: grey, blue, orange and purple.
    pub fn colour(self) -> Rgb {
        match self {
            Signal::CommonCause => Rgb(0x7b, 0x7d, 0x7d),
            Signal::Improvement => Rgb(0x28, 0x9d, 0xe0),
            Signal::Concern => Rgb(0xfa, 0xb4, 0x28),
            Signal::Neutral => Rgb(0x36, 0x14, 0x75),
        }
    }
}

/// The SPC reading at one period of the chart.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpcMark {
    /// Index into [`Series::points`].
    pub at: usize,
    /// The limits' segment (a rebase starts a new one; lines break between segments).
    pub segment: usize,
    pub mean: f64,
    pub lower: f64,
    pub upper: f64,
    pub signal: Signal,
}

/// The projection from the latest shown value to the milestone.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Projection {
    /// Index into [`Series::points`] of the value it starts from, and that value.
    pub from: usize,
    pub start: f64,
    /// Periods from `from` to the milestone's.
    pub ahead: usize,
    /// The KPI's period holding the milestone's month.
    pub milestone: Period,
    /// The central projection and the prediction interval at the milestone.
    pub value: f64,
    pub low: f64,
    pub high: f64,
}

/// A colour both drawings use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    pub fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }
}

/// The values' line and, with no SPC layer, their dots.
pub const VALUE: Rgb = Rgb(0x1f, 0x4e, 0x79);
pub const TARGET: Rgb = Rgb(0xb0, 0x00, 0x20);
pub const MEAN: Rgb = Rgb(0x58, 0x58, 0x58);
pub const LIMIT: Rgb = Rgb(0x8c, 0x8c, 0x8c);
pub const PROJECTION: Rgb = Rgb(0x31, 0x82, 0xbd);
pub const BAND: Rgb = Rgb(0xc6, 0xdb, 0xef);

impl Series {
    /// The series with the layers `w` has: its limits and marks at the periods this chart
    /// shows a value for, and its projection when it made one (from this chart's latest
    /// shown value, which must be the warning's latest: a chart of an older window gets none).
    pub fn with_warning(mut self, w: &Warning) -> Series {
        self.spc = match (&w.spc, &w.analysis) {
            (Some(_), Some(a)) => w
                .periods
                .iter()
                .zip(&a.points)
                .filter_map(|(period, p)| {
                    let at = self
                        .points
                        .iter()
                        .position(|c| c.period == *period && c.value.is_some())?;
                    // The point's own limits: its segment's on XmR, its own on Laney's p'.
                    let l = p.limits;
                    Some(SpcMark {
                        at,
                        segment: p.segment,
                        mean: l.mean,
                        lower: l.lower,
                        upper: l.upper,
                        signal: Signal::of(p.point_type),
                    })
                })
                .collect(),
            _ => Vec::new(),
        };
        self.projection = w.forecast.projection.and_then(|p| {
            let (from, start) = self
                .points
                .iter()
                .enumerate()
                .rev()
                .find_map(|(i, c)| Some((i, c.value?)))?;
            let last = self.points[from].period;
            if w.periods.last() != Some(&last) {
                return None;
            }
            let milestone = Period::containing(last.kind(), w.milestone);
            let ahead = std::iter::successors(Some(last), |q| Some(q.next()))
                .take(crate::kpi::forecast::MAX_HORIZON + 1)
                .position(|q| q == milestone)?;
            (ahead > 0).then_some(Projection {
                from,
                start,
                ahead,
                milestone,
                value: p.value,
                low: p.low,
                high: p.high,
            })
        });
        self
    }

    /// Slots across the chart: its periods, and beyond them the projection's to its
    /// milestone.
    pub fn slots(&self) -> usize {
        let ahead = self.projection.map_or(0, |p| p.from + p.ahead + 1);
        self.points.len().max(ahead).max(2)
    }

    /// The vertical scale of everything drawn, bottom to top, padded as [`super::scale`]
    /// pads the values and targets: those, the limits and the projection's band, each
    /// within the unit's bounds (a lower limit below 0% is drawn at 0%).
    pub fn range(&self) -> (f64, f64) {
        let (floor, ceiling) = bounds(self.unit);
        let layers = self
            .spc
            .iter()
            .flat_map(|m| [m.lower, m.upper, m.mean])
            .chain(self.projection.iter().flat_map(|p| [p.low, p.high]))
            .map(|v| v.clamp(floor, ceiling));
        let points = self
            .points
            .iter()
            .flat_map(|p| [p.value, p.target])
            .flatten();
        super::padded(points.chain(layers))
    }

    /// The legend: each layer drawn, named, with its colour and whether its line is dashed.
    pub fn legend(&self) -> Vec<(String, Rgb, bool)> {
        let mut out = vec![("values", VALUE, false)];
        if self.points.iter().any(|p| p.target.is_some()) {
            out.push(("target", TARGET, true));
        }
        if !self.spc.is_empty() {
            out.push(("mean", MEAN, false));
            out.push(("limits", LIMIT, true));
        }
        let mut out: Vec<(String, Rgb, bool)> = out
            .into_iter()
            .map(|(l, c, d)| (l.to_string(), c, d))
            .collect();
        if self.projection.is_some() {
            out.push(("projection".into(), PROJECTION, true));
            let level = crate::kpi::forecast::LEVEL * 100.0;
            out.push((format!("{level:.0}% interval"), BAND, false));
        }
        out
    }

    /// Runs of consecutive marks in one segment: a limit or mean line is drawn through each,
    /// broken at a rebase and at a gap.
    pub fn runs(&self) -> Vec<&[SpcMark]> {
        let mut out = Vec::new();
        let mut start = 0;
        for i in 1..=self.spc.len() {
            let broken = i == self.spc.len()
                || self.spc[i].segment != self.spc[i - 1].segment
                || self.spc[i].at != self.spc[i - 1].at + 1;
            if broken {
                out.push(&self.spc[start..i]);
                start = i;
            }
        }
        out.retain(|r| !r.is_empty());
        out
    }
}

/// A value of `unit` within its bounds, for drawing.
pub fn within(unit: Unit, v: f64) -> f64 {
    let (floor, ceiling) = bounds(unit);
    v.clamp(floor, ceiling)
}
