//! The chart as a PNG, for the HTML part's inline image: plotters draws into an RGB buffer
//! and `png` encodes it in memory (plotters' own encoder writes files only). Its axes carry
//! their labels as the SVG's do (the scale's ends and middle, the first and last period),
//! and its legend names each layer drawn, in the built-in pixel font ([`super::glyphs`]).
//! The layers ([`super::layers`]) are the SVG's, in the same colours.

use plotters::prelude::*;

use super::glyphs;
use super::layers::{self, BAND, LIMIT, MEAN, PROJECTION, Rgb, SpcMark, TARGET, VALUE};
use super::{PNG_HEIGHT, PNG_WIDTH, Series};

/// The chart as a PNG; `None` when there is nothing to draw (fewer than two periods with a
/// figure that may be shown, or drawing failed).
pub fn png(s: &Series) -> Option<Vec<u8>> {
    if s.drawn() < 2 {
        return None;
    }
    let mut rgb = vec![0u8; (PNG_WIDTH * PNG_HEIGHT * 3) as usize];
    plot(s, &mut rgb).ok()?;
    encode(&rgb).ok()
}

type Fallible<'a> = Result<(), Box<dyn std::error::Error + 'a>>;

fn colour(c: Rgb) -> RGBColor {
    RGBColor(c.0, c.1, c.2)
}

/// Room on the left for the scale's labels.
fn left(s: &Series) -> i32 {
    let (lo, hi) = s.range();
    [lo, (lo + hi) / 2.0, hi]
        .iter()
        .map(|v| glyphs::width(&s.unit.format(*v)))
        .max()
        .unwrap_or(0)
        + 14
}

/// The pixel a chart position falls on: slot `x` (a period's index, or beyond them the
/// projection's) at value `y`. The tests read the layers' rows with it.
#[cfg(test)]
pub(super) fn pixel(s: &Series, x: f64, y: f64) -> Option<(i32, i32)> {
    let mut rgb = vec![0u8; (PNG_WIDTH * PNG_HEIGHT * 3) as usize];
    let root = BitMapBackend::with_buffer(&mut rgb, (PNG_WIDTH, PNG_HEIGHT)).into_drawing_area();
    let (lo, hi) = s.range();
    let n = s.slots() as f64 - 1.0;
    let chart = frame(&root, left(s), n, lo, hi).ok()?;
    Some(chart.backend_coord(&(x, y)))
}

type Chart<'a, 'b> = ChartContext<
    'a,
    BitMapBackend<'b>,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

fn frame<'a, 'b>(
    root: &'a DrawingArea<BitMapBackend<'b>, plotters::coord::Shift>,
    left: i32,
    n: f64,
    lo: f64,
    hi: f64,
) -> Result<Chart<'a, 'b>, Box<dyn std::error::Error + 'b>> {
    Ok(ChartBuilder::on(root)
        .margin(14)
        .margin_left(u32::try_from(left).unwrap_or(14))
        // The legend's line above the plot, the periods' below it.
        .margin_top(18 + glyphs::HEIGHT as u32)
        .margin_bottom(14 + glyphs::HEIGHT as u32)
        .build_cartesian_2d(-0.3..n + 0.3, lo..hi)?)
}

fn plot<'a>(s: &Series, rgb: &'a mut [u8]) -> Fallible<'a> {
    let points = &s.points;
    let root = BitMapBackend::with_buffer(rgb, (PNG_WIDTH, PNG_HEIGHT)).into_drawing_area();
    root.fill(&WHITE)?;
    let (lo, hi) = s.range();
    let n = s.slots() as f64 - 1.0;
    let unit = s.unit;
    let labels: Vec<String> = [lo, (lo + hi) / 2.0, hi]
        .iter()
        .map(|v| unit.format(*v))
        .collect();
    let left = left(s);
    let mut chart = frame(&root, left, n, lo, hi)?;
    let ink = RGBColor(40, 40, 40);
    let text = |t: &str, x: i32, y: i32| -> Fallible<'a> {
        for (px, py) in glyphs::squares(t, x, y) {
            root.draw(&Rectangle::new(
                [(px, py), (px + glyphs::SCALE, py + glyphs::SCALE)],
                ink.filled(),
            ))?;
        }
        Ok(())
    };
    for (v, l) in [lo, (lo + hi) / 2.0, hi].iter().zip(&labels) {
        let (_, y) = chart.backend_coord(&(-0.3, *v));
        text(l, left - 6 - glyphs::width(l), y - glyphs::HEIGHT / 2)?;
    }
    // The first period on the left; on the right the latest, or the projection's milestone.
    let right = s
        .projection
        .map(|p| p.milestone)
        .or_else(|| points.last().map(|p| p.period));
    for (i, p) in [points.first().map(|p| p.period), right].iter().enumerate() {
        let Some(p) = p else { continue };
        let l = p.to_string();
        let at = if i == 0 { 0.0 } else { n };
        let (x, y) = chart.backend_coord(&(at, lo));
        let x = if i == 0 { x } else { x - glyphs::width(&l) };
        text(&l, x.max(0), y + 4)?;
    }
    // The legend: a swatch and a name per layer, in one line above the plot.
    let mut x = left;
    for (name, c, _) in s.legend() {
        root.draw(&Rectangle::new([(x, 8), (x + 12, 12)], colour(c).filled()))?;
        text(&name, x + 16, 6)?;
        x += 16 + glyphs::width(&name) + 12;
    }
    // The gridlines divide the scale in four; the bottom one and the left edge are the axes.
    let grid = RGBColor(225, 225, 225);
    for i in 1..=4 {
        let y = lo + (hi - lo) * f64::from(i) / 4.0;
        chart.draw_series(LineSeries::new(
            [(-0.3, y), (n + 0.3, y)],
            grid.stroke_width(1),
        ))?;
    }
    let axis = RGBColor(150, 150, 150);
    chart.draw_series(LineSeries::new(
        [(-0.3, hi), (-0.3, lo), (n + 0.3, lo)],
        axis.stroke_width(1),
    ))?;
    layers(s, &mut chart)?;
    // The target: a step from each period's to the next, dashed; a gap where none applied.
    let red = colour(TARGET);
    for (i, w) in points.windows(2).enumerate() {
        if let (Some(a), Some(b)) = (w[0].target, w[1].target) {
            let x = i as f64;
            let steps = [(x, a), (x + 1.0, a), (x + 1.0, b)];
            chart.draw_series(DashedLineSeries::new(steps, 6, 4, red.stroke_width(2)))?;
        }
    }
    if let Some(t) = points.last().and_then(|p| p.target) {
        let x = (points.len() - 1) as f64;
        let end = [(x, t), (x + 0.3, t)];
        chart.draw_series(DashedLineSeries::new(end, 6, 4, red.stroke_width(2)))?;
    }
    // The values: joined where two periods next to each other both have one.
    let blue = colour(VALUE);
    for (i, w) in points.windows(2).enumerate() {
        if let (Some(a), Some(b)) = (w[0].value, w[1].value) {
            chart.draw_series(LineSeries::new(
                [(i as f64, a), (i as f64 + 1.0, b)],
                blue.stroke_width(3),
            ))?;
        }
    }
    // Each dot coloured by its SPC reading when there is one, as Making Data Count does.
    chart.draw_series(points.iter().enumerate().filter_map(|(i, p)| {
        let c = s
            .spc
            .iter()
            .find(|m| m.at == i)
            .map_or(blue, |m| colour(m.signal.colour()));
        p.value.map(|v| Circle::new((i as f64, v), 4, c.filled()))
    }))?;
    root.present()?;
    Ok(())
}

/// The projection's band and line, then the SPC mean and limits, under the target and the
/// values.
fn layers<'a>(s: &Series, chart: &mut Chart<'_, 'a>) -> Fallible<'a> {
    let within = |v| layers::within(s.unit, v);
    if let Some(p) = s.projection {
        let (x0, x1) = (p.from as f64, (p.from + p.ahead) as f64);
        let start = within(p.start);
        chart.draw_series(std::iter::once(Polygon::new(
            vec![(x0, start), (x1, within(p.high)), (x1, within(p.low))],
            colour(BAND).filled(),
        )))?;
        chart.draw_series(DashedLineSeries::new(
            [(x0, start), (x1, within(p.value))],
            6,
            4,
            colour(PROJECTION).stroke_width(2),
        ))?;
    }
    for run in s.runs() {
        let pad = if run.len() == 1 { 0.3 } else { 0.0 };
        let line = |pick: fn(&SpcMark) -> f64| -> Vec<(f64, f64)> {
            let mut out = Vec::new();
            if let (Some(first), Some(last)) = (run.first(), run.last()) {
                out.push((first.at as f64 - pad, within(pick(first))));
                out.extend(run.iter().map(|m| (m.at as f64, within(pick(m)))));
                out.push((last.at as f64 + pad, within(pick(last))));
            }
            out
        };
        chart.draw_series(LineSeries::new(
            line(|m| m.mean),
            colour(MEAN).stroke_width(1),
        ))?;
        for pick in [
            (|m: &SpcMark| m.upper) as fn(&SpcMark) -> f64,
            |m: &SpcMark| m.lower,
        ] {
            chart.draw_series(DashedLineSeries::new(
                line(pick),
                5,
                4,
                colour(LIMIT).stroke_width(1),
            ))?;
        }
    }
    Ok(())
}

fn encode(rgb: &[u8]) -> Result<Vec<u8>, png::EncodingError> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, PNG_WIDTH, PNG_HEIGHT);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header()?;
        w.write_image_data(rgb)?;
    }
    Ok(out)
}
