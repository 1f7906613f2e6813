//! England's published figures as the national averages of the KPIs that name a measure
//! (`national_measure`): "N or the national average, whichever is higher" and national-average
//! milestones take the figure from the imported release, dated and with its provenance, and
//! fall back to the figures typed into the catalogue (`national`) only where no published one
//! is in force ([`crate::kpi::target`] prefers a published figure).
//!
//! A period's figure is in force from the month after the period ends (England's calendar
//! year 2019 from January 2020), as the catalogue dates the figures typed into it (England
//! 2018 from 2019-01).
//!
//! Owns: laying the figures into the catalogue. Must not: rate (that is [`crate::kpi`]).

use super::{Level, Published};
use crate::kpi::{Catalogue, NationalValue};
use crate::store::{Store, StoreError};

/// Lay England's published figures of each KPI's `national_measure` into its `national` list
/// (after those typed), in period order.
pub fn merge(catalogue: &mut Catalogue, england: &[Published]) {
    for k in catalogue.values_mut() {
        let Some(measure) = k.national_measure.as_deref() else {
            continue;
        };
        let mut mine: Vec<&Published> = england
            .iter()
            .filter(|p| p.figure.measure == measure && p.figure.level == Level::National)
            .collect();
        mine.sort_by_key(|p| p.figure.period);
        for p in mine {
            let f = &p.figure;
            k.national.push(NationalValue {
                from: f.period.last_month().next().to_string(),
                value: f.value,
                note: Some(format!(
                    "England, {}, release {} (reporting year {}), {} line {}",
                    f.period.label(),
                    p.release,
                    p.reporting_year,
                    f.file,
                    f.line
                )),
                published: true,
            });
        }
    }
}

/// Read England's figures and [`merge`] them, when a KPI names a measure.
pub async fn lay_over(store: &Store, catalogue: &mut Catalogue) -> Result<(), StoreError> {
    if catalogue.values().all(|k| k.national_measure.is_none()) {
        return Ok(());
    }
    let england = store.stats_series(Level::National, None).await?;
    merge(catalogue, &england);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kpi::{Target, target_in_force};
    use crate::stats::Figure;

    fn england(measure: &str, year: &str, value: f64, line: u64) -> Published {
        Published {
            figure: Figure {
                measure: measure.into(),
                period: year.parse().expect("year"),
                level: Level::National,
                area_code: "E92000001".into(),
                value,
                decimals: 1,
                file: "timeliness_20_week.csv".into(),
                line,
            },
            release: "ees-ehcp-2025".into(),
            reporting_year: 2025,
        }
    }

    #[test]
    fn a_published_figure_is_in_force_from_the_month_after_its_year_and_wins_over_a_typed_one() {
        let mut c = crate::kpi::catalogue::builtin().expect("catalogue");
        let k = c.get_mut("1/2a").expect("1/2a");
        k.national_measure = Some("pc_within_20_weeks".into());
        // A typed figure for the same month as a published one: the published one is used.
        k.national.push(NationalValue {
            from: "2021-01".into(),
            value: 99.0,
            note: Some("typed".into()),
            published: false,
        });
        let figures = [
            england("pc_within_20_weeks", "2020", 58.0, 3),
            england("pc_within_20_weeks", "2019", 58.7, 2),
            england("pc_within_20_weeks_ex", "2019", 60.4, 2),
        ];
        merge(&mut c, &figures);
        let k = &c["1/2a"];
        let at = |m: &str| target_in_force(k, m.parse().expect("month")).expect("in force");
        // Before any published figure: the typed England 2018 (60.1%) still decides.
        let nov_19 = &k.national;
        assert_eq!(nov_19.iter().filter(|n| n.published).count(), 2);
        let oct = at("2020-10");
        assert_eq!(oct.target, Target::Value(58.7), "58.7% beats 50%");
        let note = oct.note.expect("a note");
        assert!(note.contains("published"), "{note}");
        assert!(
            note.contains("ees-ehcp-2025") && note.contains("line 2"),
            "{note}"
        );
        assert!(note.contains("from January 2020"), "{note}");
        assert_eq!(
            at("2021-02").target,
            Target::Value(58.0),
            "not the typed 99"
        );
        assert_eq!(at("2021-07").target, Target::Value(75.0), "75% is higher");
    }
}
