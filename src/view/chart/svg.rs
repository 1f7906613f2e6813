//! The chart as inline SVG, for the pack and the live view: one self-contained element that
//! prints sharply on A4 and fetches nothing. Labels are period labels, figures written in
//! the KPI's unit and the legend's layer names; nothing else is written into it, and all of
//! it is escaped. The layers ([`super::layers`]) are drawn under the values: the projection's
//! band, its line, the SPC mean and limits, then the target, the values and their dots.

use std::fmt::Write as _;

use super::layers::{self, LIMIT, MEAN, PROJECTION, SpcMark, TARGET, VALUE};
use super::{Point, Series};

pub(super) const W: f64 = 240.0;
pub(super) const H: f64 = 100.0;
/// Room for the axis labels, and above the plot for the legend.
pub(super) const LEFT: f64 = 38.0;
pub(super) const BOTTOM: f64 = 16.0;
pub(super) const TOP: f64 = 16.0;
pub(super) const RIGHT: f64 = 6.0;

/// Escape text for SVG/XML.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Where a period and a value sit on the drawing.
struct Frame {
    n: f64,
    lo: f64,
    hi: f64,
}

impl Frame {
    fn x(&self, i: usize) -> f64 {
        self.xf(i as f64)
    }
    fn xf(&self, i: f64) -> f64 {
        LEFT + (W - LEFT - RIGHT) * i / (self.n - 1.0)
    }
    fn y(&self, v: f64) -> f64 {
        TOP + (H - TOP - BOTTOM) * (1.0 - (v - self.lo) / (self.hi - self.lo))
    }
}

/// The chart as an `<svg>` element, or `None` when no period has a value to draw.
pub fn svg(s: &Series) -> Option<String> {
    if s.drawn() == 0 {
        return None;
    }
    let (lo, hi) = s.range();
    let f = Frame {
        n: s.slots() as f64,
        lo,
        hi,
    };
    let fmt = |v: f64| esc(&s.unit.format(v));
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="trend" width="{W}" height="{H}" viewBox="0 0 {W} {H}" role="img"><title>{}</title>"#,
        esc(&s.title)
    );
    axes(&mut out, s, &fmt(hi), &fmt(lo));
    legend(&mut out, s);
    projection(&mut out, s, &f);
    spc_lines(&mut out, s, &f);
    target_line(&mut out, &s.points, &f);
    value_line(&mut out, &s.points, &f);
    for (i, p) in s.points.iter().enumerate() {
        if let Some(v) = p.value {
            // Coloured by its SPC reading when there is one, as Making Data Count does.
            let mark = s.spc.iter().find(|m| m.at == i);
            let (class, fill, said) =
                mark.map_or(("point".to_string(), VALUE.hex(), String::new()), |m| {
                    (
                        format!("point {}", m.signal.as_str().replace(' ', "-")),
                        m.signal.colour().hex(),
                        format!(" ({})", m.signal.as_str()),
                    )
                });
            let _ = write!(
                out,
                r##"<circle class="{class}" cx="{:.1}" cy="{:.1}" r="1.8" fill="{fill}"><title>{}: {}{said}</title></circle>"##,
                f.x(i),
                f.y(v),
                esc(&p.period.label()),
                fmt(v)
            );
        }
    }
    out.push_str("</svg>");
    Some(out)
}

/// The two axes, the scale's ends on the vertical one and the first and last period under
/// the horizontal one.
fn axes(out: &mut String, s: &Series, hi: &str, lo: &str) {
    let _ = write!(
        out,
        r##"<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{b}" stroke="#999" stroke-width="0.5"/><line x1="{LEFT}" y1="{b}" x2="{r}" y2="{b}" stroke="#999" stroke-width="0.5"/>"##,
        b = H - BOTTOM,
        r = W - RIGHT
    );
    let _ = write!(
        out,
        r##"<text class="axis" x="{lx}" y="{ty}" font-size="8" text-anchor="end" fill="#555">{hi}</text><text class="axis" x="{lx}" y="{by}" font-size="8" text-anchor="end" fill="#555">{lo}</text>"##,
        lx = LEFT - 2.0,
        ty = TOP + 6.0,
        by = H - BOTTOM,
    );
    // With a projection the right end is its milestone's period, not the latest one.
    let last = s
        .projection
        .map(|p| p.milestone)
        .or_else(|| s.points.last().map(|p| p.period));
    if let (Some(first), Some(last)) = (s.points.first(), last) {
        let _ = write!(
            out,
            r##"<text class="axis" x="{LEFT}" y="{ly}" font-size="8" fill="#555">{}</text><text class="axis" x="{}" y="{ly}" font-size="8" text-anchor="end" fill="#555">{}</text>"##,
            esc(&first.period.label()),
            W - RIGHT,
            esc(&last.label()),
            ly = H - 4.0,
        );
    }
}

/// The target as a dashed step line: it changes only at a milestone.
fn target_line(out: &mut String, points: &[Point], f: &Frame) {
    let mut path = String::new();
    let mut prev: Option<f64> = None;
    for (i, p) in points.iter().enumerate() {
        match (p.target, prev) {
            (Some(t), None) => {
                let _ = write!(path, "M{:.1},{:.1} ", f.x(i), f.y(t));
            }
            (Some(t), Some(pt)) => {
                let (x, y0, y1) = (f.x(i), f.y(pt), f.y(t));
                let _ = write!(path, "L{x:.1},{y0:.1} L{x:.1},{y1:.1} ");
            }
            (None, _) => {}
        }
        prev = p.target;
    }
    if !path.is_empty() {
        let _ = write!(
            out,
            r##"<path class="target" d="{}" fill="none" stroke="{}" stroke-width="1" stroke-dasharray="3,2"/>"##,
            path.trim_end(),
            TARGET.hex()
        );
    }
}

/// The values: a line through consecutive shown values, a gap where one is missing.
fn value_line(out: &mut String, points: &[Point], f: &Frame) {
    let mut path = String::new();
    let mut pen_down = false;
    for (i, p) in points.iter().enumerate() {
        match p.value {
            Some(v) => {
                let pen = if pen_down { "L" } else { "M" };
                let _ = write!(path, "{pen}{:.1},{:.1} ", f.x(i), f.y(v));
                pen_down = true;
            }
            None => pen_down = false,
        }
    }
    let _ = write!(
        out,
        r##"<path d="{}" fill="none" stroke="#1f4e79" stroke-width="1.5"/>"##,
        path.trim_end()
    );
}

/// One line of small legend above the plot: a swatch and a name per layer drawn.
fn legend(out: &mut String, s: &Series) {
    out.push_str(r#"<g class="legend">"#);
    let mut x = LEFT;
    for (name, colour, dashed) in s.legend() {
        let dash = if dashed {
            r#" stroke-dasharray="2,1""#
        } else {
            ""
        };
        let _ = write!(
            out,
            r##"<path d="M{x:.1},6 L{:.1},6" stroke="{}" stroke-width="2"{dash}/><text x="{:.1}" y="8" font-size="6" fill="#555">{}</text>"##,
            x + 7.0,
            colour.hex(),
            x + 9.0,
            esc(&name)
        );
        // About 3.3 units a letter at this size, and a gap.
        x += 15.0 + 3.3 * name.chars().count() as f64;
    }
    out.push_str("</g>");
}

/// The projection from the latest value to the milestone: the band shaded, the central line
/// dashed over it.
fn projection(out: &mut String, s: &Series, f: &Frame) {
    let Some(p) = s.projection else { return };
    let within = |v| layers::within(s.unit, v);
    let (x0, y0) = (f.x(p.from), f.y(within(p.start)));
    let x1 = f.x(p.from + p.ahead);
    let _ = write!(
        out,
        r##"<path class="band" d="M{x0:.1},{y0:.1} L{x1:.1},{:.1} L{x1:.1},{:.1} Z" fill="{}" stroke="none"/>"##,
        f.y(within(p.high)),
        f.y(within(p.low)),
        layers::BAND.hex()
    );
    let _ = write!(
        out,
        r##"<path class="projection" d="M{x0:.1},{y0:.1} L{x1:.1},{:.1}" fill="none" stroke="{}" stroke-width="1" stroke-dasharray="3,2"/>"##,
        f.y(within(p.value)),
        PROJECTION.hex()
    );
}

/// The SPC mean (solid) and process limits (dashed), through each run of periods that share
/// limits; a lone period gets a short tick.
fn spc_lines(out: &mut String, s: &Series, f: &Frame) {
    let within = |v| layers::within(s.unit, v);
    let mut mean = String::new();
    let mut upper = String::new();
    let mut lower = String::new();
    for run in s.runs() {
        let (Some(first), Some(last)) = (run.first(), run.last()) else {
            continue;
        };
        let pad = if run.len() == 1 { 0.3 } else { 0.0 };
        for (path, pick) in [
            (&mut mean, (|m: &SpcMark| m.mean) as fn(&SpcMark) -> f64),
            (&mut upper, |m: &SpcMark| m.upper),
            (&mut lower, |m: &SpcMark| m.lower),
        ] {
            let _ = write!(
                path,
                "M{:.1},{:.1} ",
                f.xf(first.at as f64 - pad),
                f.y(within(pick(first)))
            );
            for m in run {
                let _ = write!(path, "L{:.1},{:.1} ", f.x(m.at), f.y(within(pick(m))));
            }
            let _ = write!(
                path,
                "L{:.1},{:.1} ",
                f.xf(last.at as f64 + pad),
                f.y(within(pick(last)))
            );
        }
    }
    if mean.is_empty() {
        return;
    }
    for (class, path, colour, dash) in [
        ("mean", &mean, MEAN, ""),
        ("limit upper", &upper, LIMIT, r#" stroke-dasharray="2,2""#),
        ("limit lower", &lower, LIMIT, r#" stroke-dasharray="2,2""#),
    ] {
        let _ = write!(
            out,
            r##"<path class="{class}" d="{}" fill="none" stroke="{}" stroke-width="0.8"{dash}/>"##,
            path.trim_end(),
            colour.hex()
        );
    }
}
