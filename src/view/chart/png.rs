//! The chart as a PNG, for the HTML part's inline image: plotters draws into an RGB buffer
//! and `png` encodes it in memory (plotters' own encoder writes files only). Its axes carry
//! their labels as the SVG's do (the scale's ends and middle, the first and last period), in
//! the built-in pixel font ([`super::glyphs`]).

use plotters::prelude::*;

use super::glyphs;
use super::{PNG_HEIGHT, PNG_WIDTH, Point, Series, scale};
use crate::kpi::Unit;

/// The chart as a PNG; `None` when there is nothing to draw (fewer than two periods with a
/// figure that may be shown, or drawing failed).
pub fn png(s: &Series) -> Option<Vec<u8>> {
    if s.drawn() < 2 {
        return None;
    }
    let mut rgb = vec![0u8; (PNG_WIDTH * PNG_HEIGHT * 3) as usize];
    plot(&s.points, s.unit, &mut rgb).ok()?;
    encode(&rgb).ok()
}

fn plot<'a>(
    points: &[Point],
    unit: Unit,
    rgb: &'a mut [u8],
) -> Result<(), Box<dyn std::error::Error + 'a>> {
    let root = BitMapBackend::with_buffer(rgb, (PNG_WIDTH, PNG_HEIGHT)).into_drawing_area();
    root.fill(&WHITE)?;
    let (lo, hi) = scale(points);
    let n = points.len().max(2) as f64 - 1.0;
    // Room on the left for the scale and below for the periods.
    let labels: Vec<String> = [lo, (lo + hi) / 2.0, hi]
        .iter()
        .map(|v| unit.format(*v))
        .collect();
    let left = labels.iter().map(|l| glyphs::width(l)).max().unwrap_or(0) + 14;
    let mut chart = ChartBuilder::on(&root)
        .margin(14)
        .margin_left(u32::try_from(left).unwrap_or(14))
        .margin_bottom(14 + glyphs::HEIGHT as u32)
        .build_cartesian_2d(-0.3..n + 0.3, lo..hi)?;
    let ink = RGBColor(40, 40, 40);
    let text = |s: &str, x: i32, y: i32| -> Result<(), Box<dyn std::error::Error + 'a>> {
        for (px, py) in glyphs::squares(s, x, y) {
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
    let ends = [points.first(), points.last()];
    for (i, p) in ends.iter().enumerate() {
        let Some(p) = p else { continue };
        let l = p.period.to_string();
        let at = if i == 0 { 0.0 } else { n };
        let (x, y) = chart.backend_coord(&(at, lo));
        let x = if i == 0 { x } else { x - glyphs::width(&l) };
        text(&l, x.max(0), y + 4)?;
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
        let x = (points.len() - 1) as f64;
        let end = [(x, t), (x + 0.3, t)];
        chart.draw_series(DashedLineSeries::new(end, 6, 4, red.stroke_width(2)))?;
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
        let mut enc = png::Encoder::new(&mut out, PNG_WIDTH, PNG_HEIGHT);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header()?;
        w.write_image_data(rgb)?;
    }
    Ok(out)
}
