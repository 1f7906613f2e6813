//! The chart as inline SVG, for the pack and the live view: one self-contained element that
//! prints sharply on A4 and fetches nothing. Labels are period labels and figures written in
//! the KPI's unit; nothing else is written into it, and all of it is escaped.

use std::fmt::Write as _;

use super::{Point, Series, scale};

const W: f64 = 240.0;
const H: f64 = 90.0;
/// Room for the axis labels.
const LEFT: f64 = 38.0;
const BOTTOM: f64 = 16.0;
const TOP: f64 = 6.0;
const RIGHT: f64 = 6.0;

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
        LEFT + (W - LEFT - RIGHT) * (i as f64) / (self.n - 1.0)
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
    let (lo, hi) = scale(&s.points);
    let f = Frame {
        n: s.points.len().max(2) as f64,
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
    axes(&mut out, &s.points, &fmt(hi), &fmt(lo));
    target_line(&mut out, &s.points, &f);
    value_line(&mut out, &s.points, &f);
    for (i, p) in s.points.iter().enumerate() {
        if let Some(v) = p.value {
            let _ = write!(
                out,
                r##"<circle class="point" cx="{:.1}" cy="{:.1}" r="1.8" fill="#1f4e79"><title>{}: {}</title></circle>"##,
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
fn axes(out: &mut String, points: &[Point], hi: &str, lo: &str) {
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
    if let (Some(first), Some(last)) = (points.first(), points.last()) {
        let _ = write!(
            out,
            r##"<text class="axis" x="{LEFT}" y="{ly}" font-size="8" fill="#555">{}</text><text class="axis" x="{}" y="{ly}" font-size="8" text-anchor="end" fill="#555">{}</text>"##,
            esc(&first.period.label()),
            W - RIGHT,
            esc(&last.period.label()),
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
            r##"<path d="{}" fill="none" stroke="#b00020" stroke-width="1" stroke-dasharray="3,2"/>"##,
            path.trim_end()
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
