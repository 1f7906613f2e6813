//! Small-cell suppression for the KPIs: a re-export of [`crate::disclose`], where the rules
//! for every output live (kept so `crate::kpi::suppress` still names them).

pub use crate::disclose::suppress;
