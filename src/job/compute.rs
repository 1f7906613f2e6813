//! The KPI step of a run: one scan of each source's current load folds every KPI that reads
//! it; each KPI is then rated for the report period and the result recorded with the load it
//! came from.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;

use super::App;
use crate::kpi::{Evaluation, Fold, MonthlyCounts, Period, Rag, evaluate, report_period};

/// Periods each run records per KPI: the report period and those before it.
pub(super) const HISTORY_PERIODS: usize = 12;
use crate::notify::SourceNote;
use crate::store::{LoadRecord, StoreError};

impl App {
    pub(super) async fn evaluate(
        &self,
        run_id: i64,
        job: &crate::schedule::JobSettings,
        notes: &BTreeMap<String, SourceNote>,
        period: Option<Period>,
        today: NaiveDate,
    ) -> Result<Vec<Evaluation>, StoreError> {
        let kpis = self.settings.job_kpis(job);
        // One scan of each source's current load feeds every KPI that reads it (one scan per
        // set of columns, should a source feed measures of more than one kind).
        type Folds = Vec<(usize, Fold)>;
        let mut by_source: BTreeMap<(&str, &'static [&'static str]), Folds> = BTreeMap::new();
        let mut loads: HashMap<&str, Option<LoadRecord>> = HashMap::new();
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
            let fold = Fold::new(c.measure, c.kpi, as_of);
            by_source
                .entry((c.source, fold.columns()))
                .or_default()
                .push((i, fold));
        }
        let mut counts: HashMap<usize, MonthlyCounts> = HashMap::new();
        for ((src, columns), mut folds) in by_source {
            let kind = self
                .settings
                .sources
                .get(src)
                .and_then(|s| self.settings.kinds.get(&s.kind));
            if let (Some(load), Some(kind)) = (&loads[src], kind) {
                self.store
                    .scan(load, kind, columns, |batch| {
                        for (_, row) in batch.rows() {
                            folds.iter_mut().for_each(|(_, f)| f.add_row(batch, row));
                        }
                    })
                    .await?;
            }
            counts.extend(folds.into_iter().map(|(i, f)| (i, f.into_counts())));
        }
        let mut out = Vec::new();
        let empty = MonthlyCounts::default();
        for (i, c) in kpis.iter().enumerate() {
            let load = loads.get(c.source).and_then(Option::as_ref);
            let as_of = load.and_then(|l| l.data_as_of).unwrap_or(today);
            let kind = c.kpi.period_kind();
            let report = report_period(kind, period.map_or(as_of, |p| p.last_month().last_day()));
            let counts = counts.get(&i).unwrap_or(&empty);
            // The periods before the report period too, oldest first: the history the risk
            // triggers and the board's table read, recomputed from the current load.
            let window = std::iter::successors(Some(report), |p| Some(p.prev()))
                .take(HISTORY_PERIODS)
                .collect::<Vec<_>>();
            for p in window.into_iter().rev() {
                let e = evaluate(
                    c.id,
                    c.kpi,
                    c.measure,
                    self.settings.rag.amber_tolerance,
                    counts,
                    as_of,
                    p,
                );
                let report_one = p == report;
                if !report_one && e.rag == Rag::NotYetDue && e.current.is_none() {
                    continue;
                }
                self.store
                    .save_evaluation(run_id, &e, load.map(|l| l.id))
                    .await?;
                if report_one {
                    out.push(e);
                }
            }
        }
        // The KPIs no extract carries, from the values entered by hand.
        out.extend(self.evaluate_manual(run_id, job, period, today).await?);
        Ok(out)
    }
}
