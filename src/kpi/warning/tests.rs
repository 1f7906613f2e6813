//! The early warning from stored series: improving towards the target, flat below it, too
//! short, and built on figures with small counts (which are gaps, never projected from).

use super::*;
use crate::kpi::forecast::{MIN_POINTS, Question};
use crate::kpi::spc::{Assurance, Variation};
use crate::kpi::{Rag, Unit};

/// A manual monthly percentage KPI, better higher, whose only milestone asks 80% from June
/// 2021.
pub(crate) fn kpi() -> KpiSettings {
    kpi_with("milestones = [{ from = \"2021-06\", target = 80.0, label = \"Jun-21: 80%\" }]\n")
}

/// A manual monthly percentage KPI, better higher, with `rest` (its milestones, and any
/// retargets or `spc` settings).
fn kpi_with(rest: &str) -> KpiSettings {
    let text = format!(
        "[k]\ntitle = \"t\"\naction = \"1.1\"\nowner = \"performance\"\nfrequency = \"monthly\"\nunit = \"percent\"\nbaseline = {{ text = \"b\" }}\n{rest}"
    );
    #[derive(serde::Deserialize)]
    struct W {
        k: KpiSettings,
    }
    let w: W = config::Config::builder()
        .add_source(config::File::from_str(&text, config::FileFormat::Toml))
        .build()
        .and_then(|c| c.try_deserialize())
        .expect("test KPI parses");
    w.k
}

pub(crate) fn month(s: &str) -> Month {
    s.parse().expect("month")
}

/// Stored results from January 2020, one a month, each `n` of `d`.
pub(crate) fn stored(counts: &[(i64, i64)]) -> Vec<StoredResult> {
    let mut p = Period::month(month("2020-01"));
    counts
        .iter()
        .map(|&(n, d)| {
            let r = StoredResult {
                kpi_id: "9/1".into(),
                period: p,
                value: Some(100.0 * n as f64 / d as f64),
                target: None,
                numerator: Some(n),
                denominator: Some(d),
                rag: Rag::NotYetDue,
                direction: None,
                overdue_open: None,
                run_id: 1,
                ytd_numerator: None,
                ytd_denominator: None,
            };
            p = p.next();
            r
        })
        .collect()
}

fn warn(rows: &[StoredResult], as_of: &str) -> Option<Warning> {
    let mine: Vec<&StoredResult> = rows.iter().collect();
    warning("9/1", &kpi(), &mine, Disclosure::default(), month(as_of))
}

/// Of 200 each month, rising 5 a month from 100 (50%) with a wobble of 2 either way.
fn improving(months: usize) -> Vec<(i64, i64)> {
    (0..months as i64)
        .map(|i| (100 + 5 * i + if i % 2 == 0 { 2 } else { -2 }, 200))
        .collect()
}

#[test]
fn a_kpi_improving_towards_its_target_is_on_course() {
    let rows = stored(&improving(14));
    let w = warn(&rows, "2021-02").expect("a milestone ahead");
    assert_eq!(w.milestone, month("2021-06"));
    assert_eq!(w.target, 80.0);
    assert_eq!((w.shown, w.hidden), (14, 0));
    // The line reaches 50% + 2.5 points a month x 17 months = 92.5% in June 2021, well
    // over 80%.
    assert_eq!(w.band(), Band::OnCourse, "{w:?}");
    assert!(!w.needs_telling());
    assert!(
        w.sentence()
            .starts_with("Early warning: on course for Jun-21 (chance "),
        "{}",
        w.sentence()
    );
    let p = w.forecast.projection.expect("projected");
    assert!(p.value > 85.0 && p.value < 100.0, "{p:?}");
    // A rising series has a trend special cause (six rises in a row are not there with the
    // wobble, but the last points sit above the mean): an improvement or common cause,
    // never a concern.
    let s = w.spc.expect("limits");
    assert_eq!(s.points, 14);
    assert!(
        !matches!(s.variation, Variation::ConcernHigh | Variation::ConcernLow),
        "{s:?}"
    );
}

#[test]
fn a_kpi_flat_below_its_target_is_off_course_and_told() {
    // 50% give or take a point, against 80% in June 2021.
    let counts: Vec<(i64, i64)> = (0..14)
        .map(|i| (100 + if i % 2 == 0 { 2 } else { -2 }, 200))
        .collect();
    let rows = stored(&counts);
    let w = warn(&rows, "2021-02").expect("a milestone ahead");
    assert!(w.needs_telling(), "{w:?}");
    assert_eq!(w.band(), Band::OffCourse, "{w:?}");
    assert!(
        w.sentence()
            .starts_with("Early warning: off course for Jun-21 (chance "),
        "{}",
        w.sentence()
    );
    // Every value is within the limits and the target (80%) is above the upper one.
    assert_eq!(
        w.spc_sentence().as_deref(),
        Some("SPC: common cause; consistently fails the target")
    );
}

#[test]
fn a_short_series_is_too_little_data_with_trial_limits() {
    let rows = stored(&improving(6));
    let w = warn(&rows, "2020-06").expect("a milestone ahead");
    assert_eq!(w.band(), Band::TooLittleData);
    assert_eq!(w.forecast.projection, None);
    assert!(!w.needs_telling());
    assert_eq!(
        w.sentence(),
        format!("Early warning: too little data for Jun-21 (6 values shown, {MIN_POINTS} needed)")
    );
    assert!(
        w.spc_sentence()
            .is_some_and(|s| s.ends_with("(trial limits, 6 values)")),
        "{:?}",
        w.spc_sentence()
    );
}

#[test]
fn no_milestone_ahead_no_warning_and_later_results_are_not_read() {
    let rows = stored(&improving(20));
    assert_eq!(warn(&rows, "2021-06"), None, "the milestone's own month");
    // Stored to August 2021; as of February 2021 only January 2020 to February 2021 are read.
    let w = warn(&rows, "2021-02").expect("a milestone ahead");
    assert_eq!(w.shown, 14);
}

#[test]
fn figures_with_small_counts_are_gaps_never_projected_or_limited_on() {
    // Months 3, 7 and 11 have 3 of 40: not shown. 14 months, 11 shown.
    let mut counts = improving(14);
    for i in [2, 6, 10] {
        counts[i] = (3, 40);
    }
    let rows = stored(&counts);
    let w = warn(&rows, "2021-02").expect("a milestone ahead");
    assert_eq!((w.shown, w.hidden), (11, 3));
    assert_eq!(w.band(), Band::TooLittleData, "11 shown, fewer than 12");
    assert_eq!(w.spc.map(|s| s.points), Some(11));

    // With 17 months and the same three hidden, the projection is the one made from the
    // shown values with gaps where the hidden ones were: the small counts play no part.
    let mut counts = improving(17);
    for i in [2, 6, 10] {
        counts[i] = (3, 40);
    }
    let rows = stored(&counts);
    let w = warn(&rows, "2021-05").expect("a milestone ahead");
    assert_eq!((w.shown, w.hidden), (14, 3));
    let values: Vec<Option<f64>> = counts
        .iter()
        .enumerate()
        .map(|(i, &(n, d))| (![2, 6, 10].contains(&i)).then(|| 100.0 * n as f64 / d as f64))
        .collect();
    let q = Question {
        values: &values,
        last: Period::month(month("2021-05")),
        milestone: month("2021-06"),
        target: 80.0,
        better: crate::kpi::Better::Higher,
        unit: Unit::Percent,
    };
    let want = forecast::forecast(&q, &Options::default()).expect("projects");
    assert_eq!(w.forecast, want);
    let shown: Vec<f64> = values.iter().flatten().copied().collect();
    let spc = spc::analyse(
        &shown,
        &spc::Options {
            target: Some(80.0),
            ..spc::Options::default()
        },
    )
    .expect("limits");
    assert_eq!(w.spc.map(|s| s.variation), Some(spc.variation));
}

/// 50% for twelve months, then 70% for twelve (from January 2021), each give or take a
/// point; 74% is asked throughout (and 80% from June 2022, the milestone ahead).
fn stepped() -> Vec<StoredResult> {
    let counts: Vec<(i64, i64)> = (0..24)
        .map(|i| {
            let level = if i < 12 { 100 } else { 140 };
            (level + if i % 2 == 0 { 2 } else { -2 }, 200)
        })
        .collect();
    stored(&counts)
}

const STEPPED: &str =
    "milestones = [{ from = \"2020-01\", target = 74.0 }, { from = \"2022-06\", target = 80.0 }]\n";

fn reading(k: &KpiSettings) -> SpcReading {
    let rows = stepped();
    let mine: Vec<&StoredResult> = rows.iter().collect();
    warning("9/1", k, &mine, Disclosure::default(), month("2021-12"))
        .and_then(|w| w.spc)
        .expect("limits")
}

#[test]
fn a_step_change_rebased_at_a_recovery_plan_or_a_configured_month_reads_otherwise() {
    // Not rebased: the mean of all 24 is 60%; the moving ranges are 2 points but the step's
    // 20 (screened out: over 3.267 x 2.78), so the limits are 60 +/- 2.66 x 2 = 54.68 to
    // 65.32. December's 69% is above them (improvement, high) and 74% above the upper limit
    // (consistently fails).
    let plain = reading(&kpi_with(STEPPED));
    assert!((plain.limits.mean - 60.0).abs() < 1e-9, "{plain:?}");
    assert!((plain.limits.upper - 65.32).abs() < 1e-9, "{plain:?}");
    assert_eq!(plain.variation, Variation::ImprovementHigh);
    assert_eq!(plain.assurance, Some(Assurance::ConsistentlyFails));
    assert_eq!((plain.since, plain.points), (None, 24));

    // Rebased at a recovery plan from January 2021: the latest limits are the last twelve's,
    // 70 +/- 5.32 = 64.68 to 75.32; 69% alternating about 70% is common cause and 74% lies
    // within (inconsistent).
    let retarget = format!(
        "{STEPPED}retargets = [{{ effective = \"2021-01\", reason = \"recovery plan\", milestones = [{{ from = \"2021-01\", target = 74.0 }}, {{ from = \"2022-06\", target = 80.0 }}] }}]\n"
    );
    let rebased = reading(&kpi_with(&retarget));
    assert!((rebased.limits.mean - 70.0).abs() < 1e-9, "{rebased:?}");
    assert!((rebased.limits.lower - 64.68).abs() < 1e-9, "{rebased:?}");
    assert_eq!(rebased.variation, Variation::CommonCause);
    assert_eq!(rebased.assurance, Some(Assurance::Inconsistent));
    assert_eq!(rebased.since, Some(Period::month(month("2021-01"))));
    assert_eq!(rebased.points, 12);

    // The same from a configured month, with no recovery plan.
    let configured = kpi_with(&format!("{STEPPED}spc = {{ rebase = [\"2021-01\"] }}\n"));
    assert_eq!(reading(&configured), rebased);
    let rows = stepped();
    let mine: Vec<&StoredResult> = rows.iter().collect();
    let w = warning(
        "9/1",
        &configured,
        &mine,
        Disclosure::default(),
        month("2021-12"),
    )
    .expect("a milestone ahead");
    assert_eq!(
        w.spc_sentence().as_deref(),
        Some("SPC: common cause; inconsistent (limits from Jan-21)")
    );
}

#[test]
fn a_rebase_leaving_fewer_than_two_values_waits_and_the_later_of_two_close_ones_wins() {
    let mut p = Period::month(month("2020-01"));
    let periods: Vec<Period> = (0..10)
        .map(|_| {
            let this = p;
            p = p.next();
            this
        })
        .collect();
    let at = |ms: &[&str]| {
        let ms: Vec<Month> = ms.iter().map(|m| month(m)).collect();
        rebase_indices(&periods, &ms)
    };
    // 2020-05 is index 4; a month before the series or at its start changes nothing.
    assert_eq!(at(&["2020-05"]), [4]);
    assert_eq!(at(&["2019-06", "2020-01"]), Vec::<usize>::new());
    // The last value alone after a rebase: not yet. Nor one value alone at the start.
    assert_eq!(at(&["2020-10"]), Vec::<usize>::new());
    assert_eq!(at(&["2020-02"]), Vec::<usize>::new());
    // Two a month apart: the later (the plan in force) is kept.
    assert_eq!(at(&["2020-05", "2020-06"]), [5]);
    // Beyond the series: none.
    assert_eq!(at(&["2021-01"]), Vec::<usize>::new());
}

#[test]
fn a_percentage_on_a_p_prime_chart_is_read_with_its_denominators_and_without_on_xmr() {
    // 50% give or take a point of 200 a month, but the last month 8 of 20 (40%). The months
    // vary less than 200 cases would by chance, so σ_z is under 1 (0.64) and p' narrows
    // the binomial limits, but a month of 20 still has limits near 29% to 71%.
    let mut counts: Vec<(i64, i64)> = (0..13)
        .map(|i| (100 + if i % 2 == 0 { 2 } else { -2 }, 200))
        .collect();
    counts.push((8, 20));
    let mut rows = stored(&counts);
    let k = kpi_with(&format!(
        "{}spc = {{ chart = \"p_prime\" }}\n",
        "milestones = [{ from = \"2021-06\", target = 80.0 }]\n"
    ));
    let read = |k: &KpiSettings, rows: &[StoredResult]| {
        let mine: Vec<&StoredResult> = rows.iter().collect();
        warning("9/1", k, &mine, Disclosure::default(), month("2021-02"))
            .expect("a milestone ahead")
    };
    let w = read(&k, &rows);
    let s = w.spc.expect("limits");
    // The limits are laney::limits of the shown percentages over their denominators: the
    // latest point's (n = 20) far wider than a month of 200's.
    let ys: Vec<f64> = counts
        .iter()
        .map(|&(n, d)| 100.0 * n as f64 / d as f64)
        .collect();
    let ns: Vec<f64> = counts.iter().map(|&(_, d)| d as f64).collect();
    let want = spc::laney::limits(&ys, &ns, 100.0, None).expect("valid");
    assert_eq!(s.chart, crate::kpi::SpcChart::PPrime);
    assert_eq!(Some(&s.limits), want.last());
    // 40% of 20 is within its own limits on p' (common cause), below the XmR ones (49.36 - 2.66 x 2 = 44.04%).
    assert_eq!(s.variation, Variation::CommonCause, "{s:?}");
    assert!(
        w.spc_sentence().is_some_and(|t| t.contains("(p' chart)")),
        "{:?}",
        w.spc_sentence()
    );
    let xmr = read(&kpi(), &rows).spc.expect("limits");
    assert_eq!(xmr.chart, crate::kpi::SpcChart::Xmr);
    assert_eq!(xmr.variation, Variation::ConcernLow, "{xmr:?}");
    // A value entered without its denominator: XmR, as if p' had not been asked.
    rows[3].denominator = None;
    let without = read(&k, &rows).spc.expect("limits");
    assert_eq!(without.chart, crate::kpi::SpcChart::Xmr);
    assert_eq!(without.variation, Variation::ConcernLow);
}
