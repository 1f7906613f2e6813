//! The chart module's tests: the series (disclosure, the window), the SVG (axes, labels, one
//! dot per value, gaps) and the PNG (decodes, its size).

use super::*;

fn p(period: &str, value: Option<f64>, target: Option<f64>) -> Point {
    Point {
        period: period.parse().expect("period"),
        value,
        target,
    }
}

fn series(points: Vec<Point>) -> Series {
    Series {
        title: "KPI 1/5 <trend>".into(),
        unit: Unit::Percent,
        points,
        spc: Vec::new(),
        projection: None,
    }
}

#[test]
fn the_svg_has_its_axis_labels_and_one_point_per_value() {
    let s = series(vec![
        p("2020-01", Some(10.0), Some(20.0)),
        p("2020-02", None, Some(20.0)),
        p("2020-03", Some(30.0), Some(40.0)),
        p("2020-04", Some(35.0), Some(40.0)),
    ]);
    let svg = svg(&s).expect("a chart");
    assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"), "{svg}");
    let (lo, hi) = scale(&s.points);
    for label in [
        "January 2020".to_string(),
        "April 2020".to_string(),
        Unit::Percent.format(lo),
        Unit::Percent.format(hi),
    ] {
        assert!(svg.contains(&format!(">{label}</text>")), "{label}: {svg}");
    }
    assert_eq!(svg.matches("class=\"axis\"").count(), 4, "{svg}");
    assert_eq!(svg.matches("<line ").count(), 2, "two axes: {svg}");
    // One dot per shown value, titled with its period and figure; none for the gap.
    assert_eq!(svg.matches("<circle").count(), 3, "{svg}");
    assert!(svg.contains("<title>March 2020: 30.0%</title>"), "{svg}");
    assert!(!svg.contains("February 2020:"), "{svg}");
    assert!(
        svg.contains("KPI 1/5 &lt;trend&gt;"),
        "the title is escaped"
    );
}

#[test]
fn a_gap_lifts_the_pen_and_the_target_steps() {
    let svg = svg(&series(vec![
        p("2020-01", Some(10.0), Some(20.0)),
        p("2020-02", None, Some(20.0)),
        p("2020-03", Some(30.0), Some(40.0)),
    ]))
    .expect("a chart");
    let values = svg
        .split("stroke=\"#1f4e79\" stroke-width=\"1.5\"")
        .next()
        .and_then(|s| s.rsplit("<path d=\"").next())
        .expect("value path");
    assert_eq!(values.matches('M').count(), 2, "{values}");
    assert!(!values.contains('L'), "{values}");
    assert!(svg.contains("stroke-dasharray"), "the target line");
    let flat = svg_of(vec![
        p("2020-01", Some(5.0), None),
        p("2020-02", Some(7.0), None),
    ]);
    assert!(!flat.contains("stroke-dasharray"), "no target, no line");
}

fn svg_of(points: Vec<Point>) -> String {
    svg(&series(points)).expect("a chart")
}

#[test]
fn no_value_no_svg_and_fewer_than_two_no_png() {
    assert_eq!(svg(&series(vec![p("2020-01", None, Some(50.0))])), None);
    assert!(
        png(&series(vec![
            p("2021-01", Some(3.0), Some(5.0)),
            p("2021-02", None, None)
        ]))
        .is_none()
    );
    assert!(png(&series(Vec::new())).is_none());
}

#[test]
fn the_png_decodes_at_its_set_size() {
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
    let png = png(&series(points)).expect("a chart");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let d = ::png::Decoder::new(std::io::Cursor::new(&png));
    let mut r = d.read_info().expect("decodes");
    assert_eq!((r.info().width, r.info().height), (PNG_WIDTH, PNG_HEIGHT));
    let mut buf = vec![0; r.output_buffer_size()];
    r.next_frame(&mut buf).expect("a frame");
    assert!(buf.iter().any(|b| *b != 255), "not a blank image");
}

fn stored(period: Period, n: i64, d: i64) -> StoredResult {
    StoredResult {
        kpi_id: "1/2a".into(),
        period,
        value: Some(100.0 * n as f64 / d as f64),
        target: Some(75.0),
        numerator: Some(n),
        denominator: Some(d),
        rag: crate::kpi::Rag::Red,
        direction: None,
        overdue_open: None,
        run_id: 1,
        ytd_numerator: None,
        ytd_denominator: None,
    }
}

#[test]
fn a_hidden_figure_is_a_gap_and_the_window_is_twelve_periods() {
    use crate::kpi::{Figures, evaluate_figures};
    let c = crate::kpi::catalogue::builtin().expect("catalogue");
    let jul: Period = "2021-07".parse().expect("period");
    let e = evaluate_figures(
        "1/2a",
        &c["1/2a"],
        crate::kpi::Rules::new(5.0, Disclosure::default()),
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
        history.push(stored(period, n, d));
    }
    let s = Series::of_evaluation(&e, &c["1/2a"], &history, Disclosure::default());
    assert_eq!(s.points.len(), PERIODS);
    assert_eq!(s.points.last().map(|p| p.period), Some(jul));
    assert!(s.points.iter().all(|p| p.value != Some(7.5)), "{s:?}");
    assert!(s.points.iter().filter(|p| p.value.is_none()).count() >= 3);
    // The same history read from the store alone: the hidden share is a gap there too, and
    // the table beside the chart says "not shown".
    let s = Series::of_stored(
        "1/2a",
        &c["1/2a"],
        &history,
        jul.prev(),
        PERIODS,
        Disclosure::default(),
    );
    assert_eq!(s.points.len(), PERIODS);
    assert!(s.points.iter().all(|p| p.value != Some(7.5)), "{s:?}");
    let rows = s.rows(|v| format!("{v:.1}"));
    assert!(rows.iter().any(|r| r.value == "not shown"), "{rows:?}");
    assert!(rows.iter().all(|r| r.value != "7.5"), "{rows:?}");
    let svg = svg(&s).expect("a chart");
    assert!(!svg.contains(": 7.5%<"), "{svg}");
    assert_eq!(
        svg.matches("<circle").count(),
        8,
        "a dot per shown value: {svg}"
    );
}

#[test]
fn the_png_labels_its_axes() {
    let points: Vec<Point> = (1..=6)
        .map(|m| {
            p(
                &format!("2021-{m:02}"),
                Some(40.0 + f64::from(m)),
                Some(75.0),
            )
        })
        .collect();
    let png = png(&series(points)).expect("a chart");
    let d = ::png::Decoder::new(std::io::Cursor::new(&png));
    let mut r = d.read_info().expect("decodes");
    let mut buf = vec![0; r.output_buffer_size()];
    r.next_frame(&mut buf).expect("a frame");
    let dark = |x0: u32, x1: u32, y0: u32, y1: u32| {
        (y0..y1).any(|y| {
            (x0..x1).any(|x| {
                let i = ((y * PNG_WIDTH + x) * 3) as usize;
                buf[i] < 100 && buf[i + 1] < 100 && buf[i + 2] < 100
            })
        })
    };
    // The scale's labels left of the axis ("84.3%" and so on), the periods below it.
    assert!(dark(0, 40, 0, PNG_HEIGHT - 30), "no scale labels");
    assert!(
        dark(0, PNG_WIDTH, PNG_HEIGHT - 22, PNG_HEIGHT),
        "no period labels"
    );
}

/// KPI 2/3's stored results: quarters rated before half-years were a kind (Apr-Jun 2025 to
/// Apr-Jun 2026, each 30%), then its half-years (Jul-Dec 2025 70%, Jan-Jun 2026 80%).
fn twice_yearly_mixed() -> Vec<StoredResult> {
    let of = |period: &str, value: f64| StoredResult {
        kpi_id: "2/3".into(),
        value: Some(value),
        numerator: None,
        denominator: None,
        ..stored(period.parse().expect("period"), 1, 1)
    };
    let mut rows: Vec<StoredResult> = ["2025-Q2", "2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2"]
        .iter()
        .map(|q| of(q, 30.0))
        .collect();
    rows.extend([of("2025-H2", 70.0), of("2026-H1", 80.0)]);
    rows
}

#[test]
fn a_twice_yearly_kpis_chart_draws_its_half_years_only() {
    use crate::kpi::{Figures, PeriodKind, evaluate_figures};
    let c = crate::kpi::catalogue::builtin().expect("catalogue");
    let k = &c["2/3"];
    let history = twice_yearly_mixed();
    let h1: Period = "2026-H1".parse().expect("period");
    let halves = |s: &Series| {
        assert!(
            s.points
                .iter()
                .all(|p| p.period.kind() == PeriodKind::HalfYear),
            "{s:?}"
        );
        assert!(s.points.iter().all(|p| p.value != Some(30.0)), "{s:?}");
        let svg = svg(s).expect("a chart");
        for quarter in ["Apr-Jun", "Jul-Sep", "Oct-Dec", "Jan-Mar"] {
            assert!(!svg.contains(quarter), "{quarter}: {svg}");
        }
        assert!(svg.contains(">Jul-Dec 2025</text>"), "{svg}");
        assert!(svg.contains(">Jan-Jun 2026</text>"), "{svg}");
        let rows = s.rows(|v| format!("{v:.1}"));
        let periods: Vec<&str> = rows.iter().map(|r| r.period.as_str()).collect();
        assert_eq!(periods, ["2025-H2", "2026-H1"]);
    };
    // From the store alone, up to the half-year or (as a caller holding the latest stored
    // period might ask) up to the old quarter that ends with it: the half-years either way.
    for upto in [h1, "2026-Q2".parse().expect("period")] {
        let s = Series::of_stored("2/3", k, &history, upto, PERIODS, Disclosure::default());
        halves(&s);
        assert_eq!(s.points.len(), 2, "{upto}: {s:?}");
    }
    // A digest's chart: the run's evaluation of the half-year, the stored half-year before.
    let e = evaluate_figures(
        "2/3",
        k,
        crate::kpi::Rules::new(5.0, Disclosure::default()),
        Figures::default(),
        h1.last_month().last_day(),
        h1,
    );
    let s = Series::of_evaluation(&e, k, &history, Disclosure::default());
    assert_eq!(s.points.len(), 2, "{s:?}");
    assert_eq!(s.points[0].value, Some(70.0), "{s:?}");
    halves(&s);
}
