//! KPI results: what each run computed, for the record, for tracing a figure back, and for
//! the board's KPI table (`kpi show`).

use super::{Store, StoreError};
use crate::kpi::Evaluation;
use crate::kpi::show::Recorded;

impl Store {
    /// Record one evaluation of a run, with the load its figures came from.
    pub async fn save_evaluation(
        &self,
        run_id: i64,
        eval: &Evaluation,
        load_id: Option<i64>,
    ) -> Result<(), StoreError> {
        const SQL: &str = "INSERT INTO kpi_results \
            (run_id, kpi_id, period, numerator, denominator, value, previous_value, target, rag, \
             load_id, ytd_numerator, ytd_denominator, ytd_value, direction, overdue_open) \
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)";
        let num = eval.count().map(|c| c.numerator as i64);
        let den = eval.count().map(|c| c.denominator as i64);
        let ytd = eval.year_to_date.and_then(|f| f.count);
        on_pool!(self, p => sqlx::query(SQL)
            .bind(run_id)
            .bind(&eval.kpi_id)
            .bind(eval.period.to_string())
            .bind(num)
            .bind(den)
            .bind(eval.value())
            .bind(eval.previous_value())
            .bind(eval.milestone.as_ref().map(|m| m.target))
            .bind(eval.rag.as_str())
            .bind(load_id)
            .bind(ytd.map(|c| c.numerator as i64))
            .bind(ytd.map(|c| c.denominator as i64))
            .bind(eval.year_to_date.map(|f| f.value))
            .bind(&eval.direction)
            .bind(eval.overdue_open as i64)
            .execute(p).await?.rows_affected());
        Ok(())
    }

    /// (kpi_id, period, rag, value) for every KPI and period a run evaluated, in id and
    /// period order.
    pub async fn run_results(
        &self,
        run_id: i64,
    ) -> Result<Vec<(String, String, String, Option<f64>)>, StoreError> {
        const SQL: &str = "SELECT kpi_id, period, rag, value FROM kpi_results WHERE run_id = $1 ORDER BY kpi_id, period";
        Ok(on_pool!(self, p => sqlx::query_as(SQL).bind(run_id).fetch_all(p).await?))
    }

    /// The latest stored result of every KPI for every period (the last run's), in KPI and
    /// period order.
    pub async fn latest_results(&self) -> Result<Vec<Recorded>, StoreError> {
        const SQL: &str = "SELECT r.kpi_id, r.period, r.value, r.numerator, r.denominator, r.rag, r.direction, r.run_id \
            FROM kpi_results r \
            WHERE r.id = (SELECT MAX(l.id) FROM kpi_results l \
                          WHERE l.kpi_id = r.kpi_id AND l.period = r.period) \
            ORDER BY r.kpi_id, r.period";
        type Row = (
            String,
            String,
            Option<f64>,
            Option<i64>,
            Option<i64>,
            String,
            Option<String>,
            i64,
        );
        let rows: Vec<Row> = on_pool!(self, p => sqlx::query_as(SQL).fetch_all(p).await?);
        rows.into_iter()
            .map(
                |(kpi_id, period, value, numerator, denominator, rag, direction, run_id)| {
                    let period = period.parse().map_err(|_| {
                        StoreError::Corrupt(format!(
                            "kpi_results period `{period}` is not a period"
                        ))
                    })?;
                    Ok(Recorded {
                        kpi_id,
                        period,
                        value,
                        numerator,
                        denominator,
                        rag,
                        direction,
                        run_id,
                    })
                },
            )
            .collect()
    }
}
