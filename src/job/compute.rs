//! The KPI step of a run: one scan of each source's current load folds every KPI that reads
//! it; each KPI is then rated for the report period and the result recorded with the load it
//! came from.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;

use super::App;
use crate::disclose::Shape;
use crate::kpi::publish::{Offered, publish, shape};
use crate::kpi::{
    Computed, Evaluation, Fold, MonthlyCounts, Period, Rag, Rules, Shown, evaluate_counted,
    figures, report_period,
};

/// Periods each run records per KPI: the report period and those before it.
pub(super) const HISTORY_PERIODS: usize = 12;
use crate::store::{LoadRecord, Sources, StoreError, ToSave};

/// An evaluation a run will record, with its load (a computed KPI) or the value entered by
/// hand it came from (a manual one).
pub(super) type Pending = (Evaluation, Option<i64>, Option<i64>);

/// Each source's current load (`None`: none was ever accepted), by source name.
pub(crate) type Loads<'a> = HashMap<&'a str, Option<LoadRecord>>;

impl App {
    /// The KPI step: fold, rate and record the job's KPIs (`sendwatch bench kpi` times this).
    pub async fn evaluate(
        &self,
        run_id: i64,
        job: &crate::schedule::JobSettings,
        notes: &Sources,
        period: Option<Period>,
        today: NaiveDate,
    ) -> Result<Vec<Evaluation>, StoreError> {
        self.evaluate_into(Some(run_id), job, notes, period, today, &mut Vec::new())
            .await
    }

    /// The same, recording the results with `run_id` when there is one (a preview has none and
    /// records nothing); every period evaluated (the history) also goes into `window`.
    pub(crate) async fn evaluate_into(
        &self,
        run_id: Option<i64>,
        job: &crate::schedule::JobSettings,
        notes: &Sources,
        period: Option<Period>,
        today: NaiveDate,
        window_out: &mut Vec<Evaluation>,
    ) -> Result<Vec<Evaluation>, StoreError> {
        let kpis = self.settings.job_kpis(job);
        let (loads, counts) = self.fold_kpis(&kpis, notes, today).await?;
        let mut out = Vec::new();
        let empty = MonthlyCounts::default();
        let rules = Rules::of(self.settings.rag, self.settings.disclosure());
        // The stored series each KPI's figures are decided over, with this run's in place of
        // the periods it evaluates: the series as it will stand once they are recorded, which
        // every later reader of the store decides over alike.
        let stored = self.store.stored_results().await?;
        // Recorded together at the end, in one transaction (`Store::save_evaluations`).
        let mut pending: Vec<Pending> = Vec::new();
        for (i, c) in kpis.iter().enumerate() {
            let load = loads.get(c.source).and_then(Option::as_ref);
            let as_of = load.and_then(|l| l.data_as_of).unwrap_or(today);
            let kind = c.kpi.period_kind();
            let report = report_period(kind, period.map_or(as_of, |p| p.last_month().last_day()));
            let counts = counts.get(&i).unwrap_or(&empty);
            // The periods before the report period too, oldest first: the history the risk
            // triggers and the board's table read, recomputed from the current load.
            let mut window: Vec<Period> = std::iter::successors(Some(report), |p| Some(p.prev()))
                .take(HISTORY_PERIODS)
                .collect();
            window.reverse();
            let mut fresh = Vec::new();
            for p in window {
                let f = figures(c.kpi, c.measure, counts, p);
                let e = evaluate_counted(c.id, c.kpi, c.measure, rules, f, counts, as_of, p);
                if p != report && e.rag == Rag::NotYetDue && e.current.is_none() {
                    continue;
                }
                fresh.push((p, f));
            }
            // Its own period kind only, as every reader of the series decides it.
            let mut series: BTreeMap<Period, Offered> =
                crate::kpi::own_series(c.id, c.kpi, &stored)
                    .into_iter()
                    .map(|r| (r.period, Offered::stored(r)))
                    .collect();
            series.extend(fresh.iter().map(|(p, f)| (*p, Offered::figures(f))));
            let published = publish(c.kpi, &series, rules.disclosure);
            for (p, mut f) in fresh {
                let alone = Shown::alone(&f, shape(c.kpi) == Shape::Average, rules.disclosure);
                f.shown = Some(Shown {
                    current: published.current(p).unwrap_or(alone.current),
                    previous: published.current(p.prev()).unwrap_or(alone.previous),
                    year_to_date: published.year_to_date(p).unwrap_or(alone.year_to_date),
                });
                let e = evaluate_counted(c.id, c.kpi, c.measure, rules, f, counts, as_of, p);
                if run_id.is_some() {
                    pending.push((e.clone(), load.map(|l| l.id), None));
                }
                if p == report {
                    out.push(e.clone());
                }
                window_out.push(e);
            }
        }
        // The KPIs no extract carries, from the values entered by hand.
        out.extend(
            self.evaluate_manual(
                run_id.is_some(),
                job,
                period,
                today,
                window_out,
                &mut pending,
            )
            .await?,
        );
        if let Some(run_id) = run_id {
            let rows: Vec<ToSave<'_>> = pending
                .iter()
                .map(|(eval, load_id, manual_value_id)| ToSave {
                    eval,
                    load_id: *load_id,
                    manual_value_id: *manual_value_id,
                })
                .collect();
            self.store.save_evaluations(run_id, &rows).await?;
        }
        Ok(out)
    }

    /// The monthly counts of each of `kpis` (by index), from the loads they read: one scan of
    /// each source's current load feeds every KPI that reads it (one scan per set of columns,
    /// should a source feed measures of more than one kind).
    pub async fn fold_kpis<'a>(
        &self,
        kpis: &[Computed<'a>],
        notes: &Sources,
        today: NaiveDate,
    ) -> Result<(Loads<'a>, HashMap<usize, MonthlyCounts>), StoreError> {
        type Folds = Vec<(usize, Fold)>;
        let mut by_source: BTreeMap<(&str, &'static [&'static str]), Folds> = BTreeMap::new();
        let mut loads: Loads<'a> = HashMap::new();
        for (i, c) in kpis.iter().enumerate() {
            if !loads.contains_key(c.source) {
                let load = match notes.get(c.source).and_then(|n| n.load.clone()) {
                    Some(l) => Some(l),
                    None => self.store.current_load(c.source).await?,
                };
                loads.insert(c.source, load);
            }
            let as_of = loads[c.source]
                .as_ref()
                .and_then(|l| l.data_as_of)
                .unwrap_or(today);
            let kind = self
                .settings
                .sources
                .get(c.source)
                .and_then(|s| self.settings.kinds.get(&s.kind));
            let fold = Fold::new(c.measure, c.kpi, as_of, kind);
            by_source
                .entry((c.source, fold.columns()))
                .or_default()
                .push((i, fold));
        }
        // The sources' scans run side by side (see `Store::fold`).
        let loads_ref = &loads;
        let scans = by_source
            .into_iter()
            .map(|((src, columns), folds)| async move {
                let kind = self
                    .settings
                    .sources
                    .get(src)
                    .and_then(|s| self.settings.kinds.get(&s.kind));
                let (at, mut folds): (Vec<usize>, Vec<Fold>) = folds.into_iter().unzip();
                if let (Some(load), Some(kind)) = (&loads_ref[src], kind) {
                    folds = self
                        .store
                        .fold(load, kind, columns, folds, |f, batch| {
                            Fold::add_batch(f, batch)
                        })
                        .await?;
                }
                Ok::<_, StoreError>(at.into_iter().zip(folds.into_iter().map(Fold::into_counts)))
            });
        let mut counts: HashMap<usize, MonthlyCounts> = HashMap::new();
        for done in futures_util::future::try_join_all(scans).await? {
            counts.extend(done);
        }
        Ok((loads, counts))
    }
}
