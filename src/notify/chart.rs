//! A slipping KPI's trend chart: its last [`PERIODS`] periods' values (a line with dots)
//! against the milestone target each was rated against (a dashed step line), as a PNG for the
//! HTML part's inline image. Pure: the history comes in, bytes go out.
//!
//! Disclosure: a period is plotted only when its figure could be shown in words (an average
//! over enough referrals, a share with no small part: [`crate::disclose::stored_shown`]); a
//! hidden one is a gap, so no suppressed value can be read back off the chart.
//!
//! Text: none is drawn (no font library, no bundled font file). The periods, the figures and
//! the caption are in the HTML beside the image, where they are read and escaped like any
//! other text; the chart shows the shape only.

use plotters::prelude::*;

use crate::disclose;
use crate::kpi::StoredResult;
use crate::kpi::{Evaluation, Measure, Period};

/// How many periods a chart shows, the report period last.
pub const PERIODS: usize = 12;
const WIDTH: u32 = 600;
const HEIGHT: u32 = 240;

/// One period of a chart.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub period: Period,
    /// The figure, only when it may be shown.
    pub value: Option<f64>,
    /// The target the period was rated against, when the milestone gave a figure.
    pub target: Option<f64>,
}

/// The chart's points for `e`: the stored results of the same KPI for the periods of its kind
/// up to `e`'s (the latest stored result of each), the report period itself from `e`.
pub fn series(e: &Evaluation, history: &[StoredResult]) -> Vec<Point> {
    let average = e.measure == Some(Measure::AverageWaitWeeks);
    let mut points: Vec<Point> = history
        .iter()
        .filter(|r| {
            r.kpi_id == e.kpi_id && r.period.kind() == e.period.kind() && r.period < e.period
        })
        .map(|r| Point {
            period: r.period,
            value: r
                .value
                .filter(|_| disclose::stored_shown(average, r.numerator, r.denominator)),
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
            .filter(|f| f.disclosable(average))
            .map(|f| f.value),
        target: e.milestone.as_ref().map(|m| m.target),
    });
    let skip = points.len().saturating_sub(PERIODS);
    points.drain(..skip);
    points
}

/// The chart as a PNG; `None` when there is nothing to draw (fewer than two periods with a
/// figure that may be shown, or drawing failed).
pub fn draw(points: &[Point]) -> Option<Vec<u8>> {
    if points.iter().filter(|p| p.value.is_some()).count() < 2 {
        return None;
    }
    let mut rgb = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
    plot(points, &mut rgb).ok()?;
    encode(&rgb).ok()
}

/// The vertical scale a chart of `points` is drawn on, bottom to top (the gridlines divide it
/// in four), for the caption beside it.
pub fn scale(points: &[Point]) -> (f64, f64) {
    let ys: Vec<f64> = points
        .iter()
        .flat_map(|p| [p.value, p.target])
        .flatten()
        .collect();
    let lo = ys.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = ys.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !lo.is_finite() || !hi.is_finite() {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.15).max(1.0);
    ((lo - pad).max(0.0), hi + pad)
}

fn plot<'a>(points: &[Point], rgb: &'a mut [u8]) -> Result<(), Box<dyn std::error::Error + 'a>> {
    let root = BitMapBackend::with_buffer(rgb, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE)?;
    let (lo, hi) = scale(points);
    let n = points.len().max(2) as f64 - 1.0;
    let mut chart = ChartBuilder::on(&root)
        .margin(14)
        .build_cartesian_2d(-0.3..n + 0.3, lo..hi)?;
    let grid = RGBColor(225, 225, 225);
    for i in 0..=4 {
        let y = lo + (hi - lo) * f64::from(i) / 4.0;
        chart.draw_series(LineSeries::new(
            [(-0.3, y), (n + 0.3, y)],
            grid.stroke_width(1),
        ))?;
    }
    // The target: a step from each period's to the next, dashed; a gap where none applied.
    let red = RGBColor(192, 0, 0);
    for (i, w) in points.windows(2).enumerate() {
        if let (Some(a), Some(b)) = (w[0].target, w[1].target) {
            let x = i as f64;
            let steps = [(x, a), (x + 1.0, a), (x + 1.0, b)];
            chart.draw_series(DashedLineSeries::new(steps, 6, 4, red.stroke_width(2)))?;
        }
    }
    if let Some(t) = points.last().and_then(|p| p.target) {
        let i = points.len() - 1;
        let x = i as f64;
        chart.draw_series(DashedLineSeries::new(
            [(x, t), (x + 0.3, t)],
            6,
            4,
            red.stroke_width(2),
        ))?;
    }
    // The values: joined where two periods next to each other both have one.
    let blue = RGBColor(31, 56, 100);
    for (i, w) in points.windows(2).enumerate() {
        if let (Some(a), Some(b)) = (w[0].value, w[1].value) {
            chart.draw_series(LineSeries::new(
                [(i as f64, a), (i as f64 + 1.0, b)],
                blue.stroke_width(3),
            ))?;
        }
    }
    chart.draw_series(points.iter().enumerate().filter_map(|(i, p)| {
        p.value
            .map(|v| Circle::new((i as f64, v), 4, blue.filled()))
    }))?;
    root.present()?;
    Ok(())
}

fn encode(rgb: &[u8]) -> Result<Vec<u8>, png::EncodingError> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, WIDTH, HEIGHT);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header()?;
        w.write_image_data(rgb)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(period: &str, value: Option<f64>, target: Option<f64>) -> Point {
        Point {
            period: period.parse().expect("period"),
            value,
            target,
        }
    }

    #[test]
    fn a_chart_is_a_png_of_the_set_size() {
        let points: Vec<Point> = (1..=12)
            .map(|m| {
                let v = (m != 5).then_some(40.0 + f64::from(m));
                p(
                    &format!("2021-{m:02}"),
                    v,
                    Some(if m < 6 { 60.0 } else { 75.0 }),
                )
            })
            .collect();
        let png = draw(&points).expect("a chart");
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let d = png::Decoder::new(std::io::Cursor::new(&png));
        let r = d.read_info().expect("decodes");
        assert_eq!((r.info().width, r.info().height), (WIDTH, HEIGHT));
        assert!(png.len() > 1000, "not a blank image: {} bytes", png.len());
    }

    #[test]
    fn nothing_to_draw_without_two_figures_that_may_be_shown() {
        assert!(
            draw(&[
                p("2021-01", Some(3.0), Some(5.0)),
                p("2021-02", None, Some(5.0))
            ])
            .is_none()
        );
        assert!(draw(&[]).is_none());
    }

    #[test]
    fn a_hidden_figure_is_a_gap_and_the_window_is_twelve_periods() {
        use crate::kpi::{Catalogue, Figures, evaluate_figures};
        let c = crate::kpi::catalogue::builtin().expect("catalogue");
        let _: &Catalogue = &c;
        let jul: Period = "2021-07".parse().expect("period");
        let e = evaluate_figures(
            "1/2a",
            &c["1/2a"],
            5.0,
            Figures::default(),
            jul.last_month().last_day(),
            jul,
        );
        let mut history = Vec::new();
        let mut period = jul;
        for i in 0..20 {
            period = period.prev();
            // Every third period a share with a small part: 3 of 40 may not be shown.
            let (n, d) = if i % 3 == 0 { (3, 40) } else { (20, 40) };
            history.push(StoredResult {
                kpi_id: "1/2a".into(),
                period,
                value: Some(100.0 * f64::from(n) / f64::from(d)),
                target: Some(75.0),
                numerator: Some(i64::from(n)),
                denominator: Some(i64::from(d)),
                rag: crate::kpi::Rag::Red,
                direction: None,
                overdue_open: None,
                run_id: 1,
            });
        }
        let s = series(&e, &history);
        assert_eq!(s.len(), PERIODS);
        assert_eq!(s.last().map(|p| p.period), Some(jul));
        let hidden: Vec<_> = s.iter().filter(|p| p.value == Some(7.5)).collect();
        assert!(hidden.is_empty(), "3 of 40 is not plotted: {s:?}");
        assert!(s.iter().filter(|p| p.value.is_none()).count() >= 3);
    }
}
