//! KPI results: what each run computed, for the record and for tracing a figure back.

use super::{Store, StoreError};
use crate::kpi::Evaluation;

impl Store {
    /// Record one evaluation of a run, with the load its figures came from.
    pub async fn save_evaluation(
        &self,
        run_id: i64,
        eval: &Evaluation,
        load_id: Option<i64>,
    ) -> Result<(), StoreError> {
        const SQL: &str = "INSERT INTO kpi_results \
            (run_id, kpi_id, period, numerator, denominator, value, previous_value, target, rag, load_id) \
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
        let num = eval.current.map(|c| c.numerator as i64);
        let den = eval.current.map(|c| c.denominator as i64);
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
            .execute(p).await?.rows_affected());
        Ok(())
    }

    /// (kpi_id, period, rag, value) for every KPI a run evaluated, in id order.
    pub async fn run_results(
        &self,
        run_id: i64,
    ) -> Result<Vec<(String, String, String, Option<f64>)>, StoreError> {
        const SQL: &str =
            "SELECT kpi_id, period, rag, value FROM kpi_results WHERE run_id = $1 ORDER BY kpi_id";
        Ok(on_pool!(self, p => sqlx::query_as(SQL).bind(run_id).fetch_all(p).await?))
    }
}
