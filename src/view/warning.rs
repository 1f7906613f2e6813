//! A KPI's early warning as every output shows it (`kpi show`, the digests, the pack, the
//! live view): the projection's sentence and the SPC icons in words, from one
//! [`crate::kpi::warning::Warning`] (already built on the figures disclosure shows only).

use serde::Serialize;

use crate::kpi::KpiSettings;
use crate::kpi::warning::Warning;

/// One KPI's early warning, every field a string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WarningRow {
    pub id: String,
    pub title: String,
    /// "on_course", "at_risk", "off_course", "too_little_data" (for styling).
    pub band: String,
    /// "Early warning: at risk for Jun-21 (chance 40%)".
    pub sentence: String,
    /// "projected 62.0% (80% interval ...) against a target of 80.0%, from 14 values"; empty
    /// with too little data.
    pub detail: String,
    /// "SPC: common cause; inconsistent"; empty with fewer than two values shown.
    pub spc: String,
}

impl WarningRow {
    pub fn of(w: &Warning, k: &KpiSettings) -> WarningRow {
        WarningRow {
            id: w.kpi_id.clone(),
            title: k.title.clone(),
            band: w.band().as_str().to_string(),
            sentence: w.sentence(),
            detail: w.detail(k.unit).unwrap_or_default(),
            spc: w.spc_sentence().unwrap_or_default(),
        }
    }

    /// Its lines for a text output: the sentence, then the detail and the SPC reading where
    /// there are.
    pub fn lines(&self) -> Vec<String> {
        [&self.sentence, &self.detail, &self.spc]
            .into_iter()
            .filter(|s| !s.is_empty())
            .cloned()
            .collect()
    }
}
