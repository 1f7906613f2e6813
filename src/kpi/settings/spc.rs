//! A KPI's `spc` settings (`[kpis."ID"] spc = { rebase = ["2024-09"], chart = "p_prime" }`):
//! where its SPC limits start afresh besides its recovery plans, and which chart it is read
//! on.
//!
//! Owns: the settings type and its check (which [`crate::kpi::catalogue`] calls with the
//! key). The reading itself is [`crate::kpi::warning`]'s; the arithmetic [`crate::kpi::spc`]'s.

use serde::Deserialize;

use super::Unit;
use crate::kpi::Month;

/// Which control chart a KPI's series is read on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpcChart {
    /// The XmR chart (Making Data Count's default, NHSRplotthedots').
    #[default]
    Xmr,
    /// Laney's p' chart, for a percentage whose denominators vary (Laney 2002): used where
    /// the stored values carry their denominators, else the XmR chart.
    PPrime,
}

impl SpcChart {
    pub fn as_str(self) -> &'static str {
        match self {
            SpcChart::Xmr => "xmr",
            SpcChart::PPrime => "p_prime",
        }
    }
}

/// `[kpis."ID"] spc`: nothing set reads the series on one XmR chart, rebased at each
/// recovery plan (retarget) only.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpcSettings {
    /// Months ("2024-09") from which the limits start afresh, beside each retarget's effective
    /// month (a service redesign, a change of counting rule).
    #[serde(default)]
    pub rebase: Vec<String>,
    #[serde(default)]
    pub chart: SpcChart,
}

impl SpcSettings {
    /// The configured rebase months that parse (check-config names the others).
    pub fn rebase_months(&self) -> Vec<Month> {
        self.rebase.iter().filter_map(|m| m.parse().ok()).collect()
    }

    /// Report what makes no sense, under `key` (`kpis."1/2a".spc`): a month that does not
    /// parse, and a p' chart for a KPI that is not a percentage.
    pub fn check(&self, key: &str, unit: Unit, bad: &mut dyn FnMut(String, String)) {
        for (i, m) in self.rebase.iter().enumerate() {
            if m.parse::<Month>().is_err() {
                bad(
                    format!("{key}.rebase[{i}]"),
                    "must be a month as YYYY-MM".into(),
                );
            }
        }
        if self.chart == SpcChart::PPrime && unit != Unit::Percent {
            bad(
                format!("{key}.chart"),
                "p_prime reads a percentage; this KPI is not one".into(),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_rebase_month_and_a_p_prime_chart_off_a_percentage_are_named() {
        let s = SpcSettings {
            rebase: vec!["2024-09".into(), "Sept 2024".into()],
            chart: SpcChart::PPrime,
        };
        let mut said = Vec::new();
        s.check("kpis.\"5/1\".spc", Unit::Weeks, &mut |k, _| said.push(k));
        assert_eq!(
            said,
            ["kpis.\"5/1\".spc.rebase[1]", "kpis.\"5/1\".spc.chart"]
        );
        assert_eq!(
            s.rebase_months(),
            ["2024-09".parse::<Month>().expect("month")]
        );
        let mut none = Vec::new();
        s.check("k", Unit::Percent, &mut |k, _| none.push(k));
        assert_eq!(none, ["k.rebase[1]"], "p' on a percentage is fine");
    }
}
