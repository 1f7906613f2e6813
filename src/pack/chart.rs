//! A KPI's trend for the board pack: the values of its last periods against the target line,
//! drawn as inline SVG so the pack stays one self-contained file that prints sharply on A4.
//!
//! Owns: the drawing. Pure: takes the points (already through disclosure control: a value
//! that may not be shown is `None` and is drawn as a gap, never as a number) and returns the
//! markup. Labels are period labels and figures formatted by the caller's unit; nothing else
//! is written into the SVG.

use std::fmt::Write as _;

/// One period on the chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// "May 2021", "Apr-Jun 2021".
    pub label: String,
    /// The value, if a run stored one that may be shown.
    pub value: Option<f64>,
    /// The target in force for the period, when its milestone gives a figure.
    pub target: Option<f64>,
}

const W: f64 = 240.0;
const H: f64 = 90.0;
/// Room for the axis labels.
const LEFT: f64 = 38.0;
const BOTTOM: f64 = 16.0;
const TOP: f64 = 6.0;
const RIGHT: f64 = 6.0;

/// Escape text for SVG/XML (labels only; they come from period labels and unit formats).
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The chart as an `<svg>` element, or `None` when no period has a value to draw. `fmt`
/// formats an axis figure in the KPI's unit; `title` names the chart for screen readers.
pub fn trend_svg(points: &[Point], title: &str, fmt: impl Fn(f64) -> String) -> Option<String> {
    let values: Vec<f64> = points.iter().filter_map(|p| p.value).collect();
    if values.is_empty() {
        return None;
    }
    let all: Vec<f64> = values
        .iter()
        .copied()
        .chain(points.iter().filter_map(|p| p.target))
        .filter(|v| v.is_finite())
        .collect();
    let (mut lo, mut hi) = all
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(*v), hi.max(*v))
        });
    if !lo.is_finite() || !hi.is_finite() {
        return None;
    }
    // A flat series still needs a band to sit in; pad by a tenth of the range.
    let pad = ((hi - lo) * 0.1).max(if hi.abs() > 1.0 { hi.abs() * 0.05 } else { 1.0 });
    lo = (lo - pad).max(if lo >= 0.0 { 0.0 } else { f64::NEG_INFINITY });
    hi += pad;
    let n = points.len().max(2) as f64;
    let x = |i: usize| LEFT + (W - LEFT - RIGHT) * (i as f64) / (n - 1.0);
    let y = |v: f64| TOP + (H - TOP - BOTTOM) * (1.0 - (v - lo) / (hi - lo));

    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="trend" width="{W}" height="{H}" viewBox="0 0 {W} {H}" role="img"><title>{}</title>"#,
        esc(title)
    );
    // Axes and their end labels.
    let _ = write!(
        svg,
        r##"<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{b}" stroke="#999" stroke-width="0.5"/><line x1="{LEFT}" y1="{b}" x2="{r}" y2="{b}" stroke="#999" stroke-width="0.5"/>"##,
        b = H - BOTTOM,
        r = W - RIGHT
    );
    let _ = write!(
        svg,
        r##"<text x="{lx}" y="{ty}" font-size="8" text-anchor="end" fill="#555">{}</text><text x="{lx}" y="{by}" font-size="8" text-anchor="end" fill="#555">{}</text>"##,
        esc(&fmt(hi)),
        esc(&fmt(lo)),
        lx = LEFT - 2.0,
        ty = TOP + 6.0,
        by = H - BOTTOM,
    );
    if let (Some(first), Some(last)) = (points.first(), points.last()) {
        let _ = write!(
            svg,
            r##"<text x="{}" y="{ly}" font-size="8" fill="#555">{}</text><text x="{}" y="{ly}" font-size="8" text-anchor="end" fill="#555">{}</text>"##,
            LEFT,
            esc(&first.label),
            W - RIGHT,
            esc(&last.label),
            ly = H - 4.0,
        );
    }
    // The target as a dashed step line: it changes only at a milestone.
    let mut target_path = String::new();
    let mut prev: Option<f64> = None;
    for (i, p) in points.iter().enumerate() {
        match (p.target, prev) {
            (Some(t), None) => {
                let _ = write!(target_path, "M{:.1},{:.1} ", x(i), y(t));
            }
            (Some(t), Some(pt)) => {
                let _ = write!(
                    target_path,
                    "L{:.1},{:.1} L{:.1},{:.1} ",
                    x(i),
                    y(pt),
                    x(i),
                    y(t)
                );
            }
            (None, _) => {}
        }
        prev = p.target;
    }
    if !target_path.is_empty() {
        let _ = write!(
            svg,
            r##"<path d="{}" fill="none" stroke="#b00020" stroke-width="1" stroke-dasharray="3,2"/>"##,
            target_path.trim_end()
        );
    }
    // The values: a line through consecutive shown values, a gap where one is missing.
    let mut value_path = String::new();
    let mut pen_down = false;
    for (i, p) in points.iter().enumerate() {
        match p.value {
            Some(v) => {
                let _ = write!(
                    value_path,
                    "{}{:.1},{:.1} ",
                    if pen_down { "L" } else { "M" },
                    x(i),
                    y(v)
                );
                pen_down = true;
            }
            None => pen_down = false,
        }
    }
    let _ = write!(
        svg,
        r##"<path d="{}" fill="none" stroke="#1f4e79" stroke-width="1.5"/>"##,
        value_path.trim_end()
    );
    for (i, p) in points.iter().enumerate() {
        if let Some(v) = p.value {
            let _ = write!(
                svg,
                r##"<circle cx="{:.1}" cy="{:.1}" r="1.8" fill="#1f4e79"><title>{}: {}</title></circle>"##,
                x(i),
                y(v),
                esc(&p.label),
                esc(&fmt(v))
            );
        }
    }
    svg.push_str("</svg>");
    Some(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(label: &str, value: Option<f64>, target: Option<f64>) -> Point {
        Point {
            label: label.into(),
            value,
            target,
        }
    }

    #[test]
    fn no_value_no_chart() {
        assert_eq!(
            trend_svg(&[p("Jan 2020", None, Some(50.0))], "t", |v| v.to_string()),
            None
        );
    }

    #[test]
    fn a_gap_lifts_the_pen_and_the_target_steps() {
        let svg = trend_svg(
            &[
                p("Jan 2020", Some(10.0), Some(20.0)),
                p("Feb 2020", None, Some(20.0)),
                p("Mar 2020", Some(30.0), Some(40.0)),
            ],
            "KPI 1/5 <trend>",
            |v| format!("{v:.0}%"),
        )
        .expect("a chart");
        // Two separate moves: no line drawn across the missing February.
        let values = svg
            .split("stroke=\"#1f4e79\" stroke-width=\"1.5\"")
            .next()
            .and_then(|s| s.rsplit("<path d=\"").next())
            .expect("value path");
        assert_eq!(values.matches('M').count(), 2, "{values}");
        assert!(!values.contains('L'), "{values}");
        // Three dots, titled with their period and figure.
        assert_eq!(svg.matches("<circle").count(), 2);
        assert!(svg.contains("<title>Mar 2020: 30%</title>"));
        // The title is escaped; the target line exists and steps up at March.
        assert!(svg.contains("KPI 1/5 &lt;trend&gt;"));
        assert!(svg.contains("stroke-dasharray"));
    }

    #[test]
    fn first_and_last_labels_and_axis_ends_are_written() {
        let svg = trend_svg(
            &[
                p("Jan 2020", Some(5.0), None),
                p("Feb 2020", Some(7.0), None),
            ],
            "t",
            |v| format!("{v:.1}"),
        )
        .expect("a chart");
        assert!(svg.contains(">Jan 2020</text>") && svg.contains(">Feb 2020</text>"));
        assert!(
            !svg.contains("stroke-dasharray"),
            "no target, no target line"
        );
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
    }
}
