//! The chart's layers (issue 21): which a series gets from its early warning (limits only
//! from two shown values, a projection only with enough of them, nothing at a hidden
//! period), and that both drawings draw each one where it belongs (the SVG's elements by
//! class and coordinates, the PNG's pixels of each layer's colour on its rows).

use super::layers::{BAND, LIMIT, MEAN, PROJECTION};
use super::*;
use crate::kpi::warning::tests::{kpi, month, stored};
use crate::kpi::warning::warning;

/// Of 200 each month, rising 5 a month from 100 (50%), give or take 2: always rising.
fn improving(months: usize) -> Vec<(i64, i64)> {
    (0..months as i64)
        .map(|i| (100 + 5 * i + if i % 2 == 0 { 2 } else { -2 }, 200))
        .collect()
}

/// The chart of the stored results to `as_of` as the pack and the live view draw it: with
/// the layers of the KPI's early warning as of then.
fn chart(rows: &[StoredResult], as_of: &str) -> Series {
    let k = kpi();
    let d = Disclosure::default();
    let upto = Period::month(month(as_of));
    let s = Series::of_stored("9/1", &k, rows, upto, PERIODS, d);
    let mine: Vec<&StoredResult> = rows.iter().collect();
    match warning("9/1", &k, &mine, d, month(as_of)) {
        Some(w) => s.with_warning(&w),
        None => s,
    }
}

fn names(s: &Series) -> Vec<String> {
    s.legend().into_iter().map(|(n, _, _)| n).collect()
}

#[test]
fn an_improving_series_has_limits_at_each_value_and_a_projection_to_its_milestone() {
    let s = chart(&stored(&improving(14)), "2021-02");
    assert_eq!(s.points.len(), PERIODS);
    // A mark at each of the twelve periods drawn (the limits were built on all fourteen).
    let at: Vec<usize> = s.spc.iter().map(|m| m.at).collect();
    assert_eq!(at, (0..PERIODS).collect::<Vec<_>>(), "{s:?}");
    assert!(s.spc.iter().all(|m| m.lower < m.mean && m.mean < m.upper));
    // Always rising, better higher: the first values under the lower limit are a concern
    // (as Making Data Count reads a point beyond a limit), the rest a trend of improvement.
    let m = &s.spc;
    assert!(s.points[0].value.is_some_and(|v| v < m[0].lower), "{s:?}");
    assert_eq!(m[0].signal, Signal::Concern, "{s:?}");
    assert_eq!(m[PERIODS - 1].signal, Signal::Improvement, "{s:?}");
    let p = s.projection.expect("fourteen values: a projection");
    assert_eq!((p.from, p.ahead), (PERIODS - 1, 4), "February to June");
    assert_eq!(p.milestone.to_string(), "2021-06");
    assert!(p.low <= p.value && p.value <= p.high, "{p:?}");
    assert_eq!(s.slots(), PERIODS + 4);
    // The scale holds the band.
    let (lo, hi) = s.range();
    assert!(lo <= p.low && p.high <= hi, "{lo}..{hi} {p:?}");
    assert_eq!(
        names(&s),
        ["values", "mean", "limits", "projection", "80% interval"]
    );
}

#[test]
fn too_short_a_series_has_no_limits_and_too_little_data_no_projection() {
    // One value: no moving range, so no limits; no projection.
    let s = chart(&stored(&improving(1)), "2020-01");
    assert!(s.spc.is_empty() && s.projection.is_none(), "{s:?}");
    assert_eq!(names(&s), ["values"]);
    let svg = svg(&s).expect("one value is drawn");
    for class in [
        "class=\"mean\"",
        "class=\"limit",
        "class=\"band\"",
        "class=\"projection\"",
    ] {
        assert!(!svg.contains(class), "{class}: {svg}");
    }
    // Five: trial limits, but too little data to project.
    let s = chart(&stored(&improving(5)), "2020-05");
    assert_eq!(s.spc.len(), 5, "{s:?}");
    assert!(s.projection.is_none(), "{s:?}");
    assert_eq!(names(&s), ["values", "mean", "limits"]);
}

#[test]
fn a_small_count_is_never_marked_and_leaves_too_little_data_to_project() {
    // Fourteen months, three of them 3 of 40 (not shown): eleven values, under the twelve a
    // projection needs.
    let mut counts = improving(14);
    for i in [4, 7, 10] {
        counts[i] = (3, 40);
    }
    let s = chart(&stored(&counts), "2021-02");
    assert_eq!(s.drawn(), PERIODS - 3, "{s:?}");
    assert!(s.projection.is_none(), "suppressed: no projection: {s:?}");
    assert_eq!(s.spc.len(), s.drawn(), "a mark per shown value: {s:?}");
    assert!(
        s.spc.iter().all(|m| s.points[m.at].value.is_some()),
        "a mark at a hidden period: {s:?}"
    );
    // The limits break at each gap.
    assert_eq!(s.runs().len(), 4, "{s:?}");
    let svg = svg(&s).expect("a chart");
    assert!(!svg.contains("class=\"band\""), "{svg}");
    assert!(!svg.contains(": 7.5%"), "{svg}");
}

/// Six months of values with a target, the SPC layer (one concern, one improvement) and a
/// projection three months on to September 2021.
fn layered() -> Series {
    let points: Vec<Point> = (1..=6)
        .map(|m| Point {
            period: format!("2021-{m:02}").parse().expect("period"),
            value: Some(39.0 + f64::from(m)),
            target: Some(60.0),
        })
        .collect();
    let spc = (0..6)
        .map(|at| SpcMark {
            at,
            segment: 0,
            mean: 42.5,
            lower: 35.0,
            upper: 50.0,
            signal: match at {
                1 => Signal::Concern,
                4 => Signal::Improvement,
                _ => Signal::CommonCause,
            },
        })
        .collect();
    Series {
        title: "KPI 9/1: values against the target".into(),
        unit: Unit::Percent,
        points,
        spc,
        projection: Some(Projection {
            from: 5,
            start: 45.0,
            ahead: 3,
            milestone: "2021-09".parse().expect("period"),
            value: 48.0,
            low: 44.0,
            high: 52.0,
        }),
    }
}

/// The coordinates of the `d` of the first path whose class is `class`.
fn path(svg: &str, class: &str) -> Vec<(f64, f64)> {
    let d = svg
        .split(&format!("class=\"{class}\" d=\""))
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_else(|| panic!("no {class}: {svg}"));
    d.split(|c: char| c.is_ascii_alphabetic() || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(|xy| {
            let (x, y) = xy.split_once(',').expect("x,y");
            (x.parse().expect("x"), y.parse().expect("y"))
        })
        .collect()
}

#[test]
fn the_svg_draws_each_layer_in_its_frame() {
    use super::svg::{BOTTOM, H, LEFT, RIGHT, TOP, W};
    let s = layered();
    let svg = svg(&s).expect("a chart");
    let inside = |(x, y): (f64, f64)| {
        (LEFT..=W - RIGHT).contains(&x) && (TOP - 0.05..=H - BOTTOM + 0.05).contains(&y)
    };
    let classes = [
        "band",
        "projection",
        "mean",
        "limit upper",
        "limit lower",
        "target",
    ];
    for class in classes {
        let xy = path(&svg, class);
        assert!(xy.len() >= 2, "{class}: {svg}");
        assert!(xy.iter().all(|p| inside(*p)), "{class} {xy:?}");
    }
    // The band and the line end at the milestone, the right edge; the band's top above its
    // bottom there; the mean between the limits; the limits dashed.
    let band = path(&svg, "band");
    assert!((band[1].0 - (W - RIGHT)).abs() < 0.05, "{band:?}");
    assert!(band[1].1 < band[2].1, "{band:?}");
    let (mean, upper, lower) = (
        path(&svg, "mean"),
        path(&svg, "limit upper"),
        path(&svg, "limit lower"),
    );
    assert!(
        upper[0].1 < mean[0].1 && mean[0].1 < lower[0].1,
        "{upper:?} {mean:?} {lower:?}"
    );
    assert!(svg.contains("class=\"limit upper\" d=\"") && svg.contains("stroke-dasharray=\"2,2\""));
    // The dots coloured by their reading.
    assert_eq!(
        svg.matches("fill=\"#fab428\"").count(),
        1,
        "one concern: {svg}"
    );
    assert_eq!(
        svg.matches("fill=\"#289de0\"").count(),
        1,
        "one improvement"
    );
    assert_eq!(
        svg.matches("fill=\"#7b7d7d\"").count(),
        4,
        "four common cause"
    );
    assert!(
        svg.contains("class=\"point special-cause-concern\""),
        "{svg}"
    );
    assert!(
        svg.contains("February 2021: 41.0% (special cause concern)</title>"),
        "{svg}"
    );
    // The legend names each layer, and the right end of the axis is the milestone.
    for name in [
        "values",
        "target",
        "mean",
        "limits",
        "projection",
        "80% interval",
    ] {
        assert!(svg.contains(&format!(">{name}</text>")), "{name}: {svg}");
    }
    assert!(svg.contains(">September 2021</text>"), "{svg}");

    // Without its layers, none is drawn.
    let plain = svg_of_plain(&s);
    for class in ["band", "projection", "mean", "limit upper", "limit lower"] {
        assert!(
            !plain.contains(&format!("class=\"{class}\"")),
            "{class}: {plain}"
        );
    }
    assert!(plain.contains(">June 2021</text>"), "{plain}");
}

fn svg_of_plain(s: &Series) -> String {
    let plain = Series {
        spc: Vec::new(),
        projection: None,
        ..s.clone()
    };
    svg(&plain).expect("a chart")
}

/// The PNG decoded to RGB rows.
fn pixels(png: &[u8]) -> Vec<u8> {
    let d = ::png::Decoder::new(std::io::Cursor::new(png));
    let mut r = d.read_info().expect("decodes");
    let mut buf = vec![0; r.output_buffer_size()];
    r.next_frame(&mut buf).expect("a frame");
    buf
}

/// Whether a pixel of colour `c` lies within `dx` and `dy` of `(x, y)`.
fn near(buf: &[u8], c: Rgb, (x, y): (i32, i32), dx: i32, dy: i32) -> bool {
    (y - dy..=y + dy).any(|py| {
        (x - dx..=x + dx).any(|px| {
            let (Ok(px), Ok(py)) = (u32::try_from(px), u32::try_from(py)) else {
                return false;
            };
            if px >= PNG_WIDTH || py >= PNG_HEIGHT {
                return false;
            }
            let i = ((py * PNG_WIDTH + px) * 3) as usize;
            buf[i..i + 3] == [c.0, c.1, c.2]
        })
    })
}

fn anywhere(buf: &[u8], c: Rgb) -> bool {
    buf.chunks(3).any(|p| p == [c.0, c.1, c.2])
}

#[test]
fn the_png_draws_each_layer_on_its_rows() {
    let s = layered();
    let buf = pixels(&png(&s).expect("a chart"));
    let at = |x: f64, y: f64| png::pixel(&s, x, y).expect("a frame");
    // The mean, and the dashed limits, on their rows between the periods (where the values'
    // line, crossing the mean at 2.5, leaves it uncovered).
    for x in [0.5, 4.5] {
        assert!(near(&buf, MEAN, at(x, 42.5), 0, 1), "mean at {x}");
    }
    for v in [50.0, 35.0] {
        assert!(near(&buf, LIMIT, at(2.5, v), 12, 1), "limit {v}");
        assert!(
            !near(&buf, LIMIT, at(2.5, 42.5), 12, 3),
            "no limit on the mean's row"
        );
    }
    // The band shaded near the milestone, between the interval's ends, and not before the
    // latest value; the dashed projection through its middle.
    assert!(near(&buf, BAND, at(7.5, 49.5), 1, 1), "band");
    assert!(near(&buf, BAND, at(7.5, 44.8), 1, 1), "band, low side");
    assert!(
        !near(&buf, BAND, at(3.0, 49.5), 20, 20),
        "band before the latest value"
    );
    assert!(
        !near(&buf, BAND, at(7.5, 53.5), 1, 1),
        "band above the interval"
    );
    assert!(near(&buf, PROJECTION, at(6.5, 46.5), 10, 4), "projection");
    // Each dot in its reading's colour.
    assert!(
        near(&buf, Signal::Concern.colour(), at(1.0, 41.0), 1, 1),
        "concern"
    );
    assert!(
        near(&buf, Signal::Improvement.colour(), at(4.0, 44.0), 1, 1),
        "improvement"
    );
    assert!(
        near(&buf, Signal::CommonCause.colour(), at(0.0, 40.0), 1, 1),
        "common cause"
    );

    // Without its layers, none of their colours anywhere.
    let plain = Series {
        spc: Vec::new(),
        projection: None,
        ..s.clone()
    };
    let buf = pixels(&png(&plain).expect("a chart"));
    for (name, c) in [
        ("mean", MEAN),
        ("limit", LIMIT),
        ("band", BAND),
        ("projection", PROJECTION),
    ] {
        assert!(!anywhere(&buf, c), "{name} drawn without its layer");
    }
}

#[test]
fn the_png_writes_its_legend_above_the_plot() {
    let s = layered();
    let buf = pixels(&png(&s).expect("a chart"));
    // Each swatch in its colour on the legend's line, and the names in dark ink beside them.
    for c in [MEAN, LIMIT, PROJECTION, BAND] {
        assert!(
            (0..PNG_WIDTH as i32).any(|x| near(&buf, c, (x, 10), 0, 2)),
            "{c:?} swatch"
        );
    }
    let ink = (60..PNG_WIDTH).any(|x| {
        (4..18).any(|y| {
            let i = ((y * PNG_WIDTH + x) * 3) as usize;
            buf[i] < 60 && buf[i + 1] < 60 && buf[i + 2] < 60
        })
    });
    assert!(ink, "the legend's names");
}

#[test]
fn a_rebase_breaks_the_mean_and_limits_into_segments() {
    let mut s = layered();
    for m in s.spc.iter_mut().filter(|m| m.at >= 3) {
        (m.segment, m.mean, m.lower, m.upper) = (1, 44.0, 40.0, 48.0);
    }
    assert_eq!(s.runs().len(), 2, "{s:?}");
    let svg = svg(&s).expect("a chart");
    for class in ["mean", "limit upper", "limit lower"] {
        let d = svg
            .split(&format!("class=\"{class}\" d=\""))
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap_or_default();
        assert_eq!(
            d.matches('M').count(),
            2,
            "{class}: one line a segment: {d}"
        );
    }
    let (mean, upper) = (path(&svg, "mean"), path(&svg, "limit upper"));
    // The second segment's mean is higher (a smaller y) than the first's.
    assert!(mean[mean.len() - 1].1 < mean[0].1, "{mean:?}");
    assert!(upper[upper.len() - 1].1 > upper[0].1, "{upper:?}");
}

#[test]
fn a_p_prime_kpi_draws_each_points_own_limits() {
    // Denominators alternating 400 and 50: on Laney's p' the limits are narrower where the
    // month had more cases; on XmR every point of a segment has the same.
    let counts: Vec<(i64, i64)> = (0..14)
        .map(|i| if i % 2 == 0 { (200 + i, 400) } else { (25, 50) })
        .collect();
    let rows = stored(&counts);
    let mut k = kpi();
    k.spc.chart = crate::kpi::SpcChart::PPrime;
    let d = Disclosure::default();
    let upto = Period::month(month("2021-02"));
    let mine: Vec<&StoredResult> = rows.iter().collect();
    let w = warning("9/1", &k, &mine, d, month("2021-02")).expect("a warning");
    let s = Series::of_stored("9/1", &k, &rows, upto, PERIODS, d).with_warning(&w);
    assert_eq!(s.spc.len(), PERIODS, "{s:?}");
    let width = |m: &SpcMark| m.upper - m.lower;
    for pair in s.spc.windows(2) {
        let (big, small) = if pair[0].at % 2 == 0 {
            (&pair[0], &pair[1])
        } else {
            (&pair[1], &pair[0])
        };
        // `at` 0 is 2020-03 (the twelve drawn of fourteen): an even month index of the
        // series is the 400 one when `at` is even.
        assert!(width(big) < width(small), "{big:?} {small:?}");
    }
    let xmr = chart(&rows, "2021-02");
    assert!(
        xmr.spc.windows(2).all(|p| p[0].upper == p[1].upper),
        "{xmr:?}"
    );
}
