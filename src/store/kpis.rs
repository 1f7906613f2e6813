//! KPI results: what each run computed, for the record, for tracing a figure back, and for
//! the board's KPI table (`kpi show`).

use super::tx::{Tx, on_tx};
use super::{Store, StoreError};
use crate::kpi::Evaluation;
use crate::kpi::{Period, Rag, StoredResult};

/// One evaluation of a run to record: the load its figures came from (a computed KPI) or
/// the value entered by hand it came from (a manual one).
#[derive(Debug, Clone, Copy)]
pub struct ToSave<'a> {
    pub eval: &'a Evaluation,
    pub load_id: Option<i64>,
    pub manual_value_id: Option<i64>,
}

impl Store {
    /// Record one evaluation of a run, with the load its figures came from.
    pub async fn save_evaluation(
        &self,
        run_id: i64,
        eval: &Evaluation,
        load_id: Option<i64>,
    ) -> Result<(), StoreError> {
        self.save_evaluations(
            run_id,
            &[ToSave {
                eval,
                load_id,
                manual_value_id: None,
            }],
        )
        .await
    }

    /// Record a run's evaluations together, in one transaction: one commit (one flush of
    /// the log to disk) for all of a run's KPIs and periods rather than one each, which on
    /// PostgreSQL was most of a small area's run (`sendwatch bench national`). All or none.
    pub async fn save_evaluations(
        &self,
        run_id: i64,
        evals: &[ToSave<'_>],
    ) -> Result<(), StoreError> {
        const SQL: &str = "INSERT INTO kpi_results \
            (run_id, kpi_id, period, numerator, denominator, value, previous_value, target, rag, \
             load_id, ytd_numerator, ytd_denominator, ytd_value, direction, overdue_open, \
             manual_value_id, area) \
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)";
        if evals.is_empty() {
            return Ok(());
        }
        let mut tx = Tx::begin(self).await?;
        for s in evals {
            let eval = s.eval;
            let num = eval.count().map(|c| c.numerator as i64);
            let den = eval.count().map(|c| c.denominator as i64);
            let ytd = eval.year_to_date.and_then(|f| f.count);
            on_tx!(&mut tx, t => sqlx::query(SQL)
                .bind(run_id)
                .bind(&eval.kpi_id)
                .bind(eval.period.to_string())
                .bind(num)
                .bind(den)
                .bind(eval.value())
                .bind(eval.previous_value())
                .bind(eval.milestone.as_ref().map(|m| m.target))
                .bind(eval.rag.as_str())
                .bind(s.load_id)
                .bind(ytd.map(|c| c.numerator as i64))
                .bind(ytd.map(|c| c.denominator as i64))
                .bind(eval.year_to_date.map(|f| f.value))
                .bind(&eval.direction)
                .bind(eval.overdue_open as i64)
                .bind(s.manual_value_id)
                .bind(self.area())
                .execute(&mut **t).await?.rows_affected());
        }
        tx.commit().await
    }

    /// (kpi_id, period, rag, value) for every KPI and period a run evaluated, in id and
    /// period order.
    pub async fn run_results(
        &self,
        run_id: i64,
    ) -> Result<Vec<(String, String, String, Option<f64>)>, StoreError> {
        const SQL: &str = "SELECT kpi_id, period, rag, value FROM kpi_results \
            WHERE run_id = $1 AND area = $2 ORDER BY kpi_id, period";
        Ok(
            on_pool!(self, p => sqlx::query_as(SQL).bind(run_id).bind(self.area()).fetch_all(p).await?),
        )
    }

    /// The latest stored result of every KPI for every period, whichever run stored it, in
    /// KPI and period order: the one reading of the KPI history (risk triggers, trend charts,
    /// `kpi show`, the pack, the live view). Each row's latest is found through the index on
    /// (area, kpi_id, period, id), one probe a row: a join on a grouped subquery was planned
    /// by SQLite as a scan per row, quadratic in the history (minutes on a test's 5,000 rows).
    pub async fn stored_results(&self) -> Result<Vec<StoredResult>, StoreError> {
        const SQL: &str = "SELECT k.kpi_id, k.period, k.value, k.target, k.numerator, \
            k.denominator, k.rag, k.direction, k.overdue_open, k.run_id, k.ytd_numerator, \
            k.ytd_denominator FROM kpi_results k \
            WHERE k.area = $1 AND k.id = (SELECT MAX(x.id) FROM kpi_results x \
              WHERE x.area = k.area AND x.kpi_id = k.kpi_id AND x.period = k.period) \
            ORDER BY k.kpi_id, k.period";
        type Row = (
            String,
            String,
            Option<f64>,
            Option<f64>,
            Option<i64>,
            Option<i64>,
            String,
            Option<String>,
            Option<i64>,
            i64,
            Option<i64>,
            Option<i64>,
        );
        let rows: Vec<Row> =
            on_pool!(self, p => sqlx::query_as(SQL).bind(self.area()).fetch_all(p).await?);
        rows.into_iter()
            .map(|r| {
                let (kpi_id, period, value, target, numerator, denominator) =
                    (r.0, r.1, r.2, r.3, r.4, r.5);
                let (rag, direction, overdue_open, run_id) = (r.6, r.7, r.8, r.9);
                let period: Period = period
                    .parse()
                    .map_err(|_| StoreError::Corrupt(format!("kpi_results period `{period}`")))?;
                let rag: Rag = rag
                    .parse()
                    .map_err(|_| StoreError::Corrupt(format!("kpi_results rag `{rag}`")))?;
                Ok(StoredResult {
                    kpi_id,
                    period,
                    value,
                    target,
                    numerator,
                    denominator,
                    rag,
                    direction,
                    overdue_open,
                    run_id,
                    ytd_numerator: r.10,
                    ytd_denominator: r.11,
                })
            })
            .collect()
    }
}
