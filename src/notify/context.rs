//! What rendering needs besides a digest: the area, the run, the catalogues and the
//! provenance of the figures. Read by [`super::view`], which passes each row of
//! [`crate::view`] the parts it needs.

use std::collections::BTreeMap;

use super::SubGroup;
use crate::kpi::Catalogue;
use crate::kpi::manual::Entered;
use crate::store::Sources;

/// Everything besides the digest that the text needs.
pub struct Context<'a> {
    pub area: &'a str,
    pub subject_prefix: &'a str,
    pub job: &'a str,
    /// The run in the ledger; `None` for a preview, which has none.
    pub run_id: Option<i64>,
    pub kpis: &'a Catalogue,
    pub risks: &'a crate::risk::Register,
    /// For the names of the sub-groups that own the risks.
    pub sub_groups: &'a BTreeMap<String, SubGroup>,
    pub sources: &'a Sources,
    /// The values entered by hand in force (for a manual KPI's provenance).
    pub entered: &'a [Entered],
    /// Owners' commentary on exceptions (reason, recovery, revised date, next update), the
    /// latest per KPI and period.
    pub commentary: &'a [crate::kpi::commentary::Commentary],
    /// The rules every figure is written by (`[disclosure]`).
    pub disclosure: crate::disclose::Disclosure,
    /// The board's sub-group (the risk log's holder; "" for none): a digest holding its
    /// section says what awaits approval.
    pub board: &'a str,
    /// Answers by link awaiting approval, if any (never figures).
    pub pending: Option<&'a crate::view::pending::Pending>,
    /// What making the answer links needs ([`crate::view::ask`]); `None` when answering is
    /// not set up (no public URL or key): the requests' words alone.
    pub links: Option<&'a crate::view::ask::LinkSetup>,
    /// Every KPI's early warning this run (not only those told as items): a KPI in exception
    /// carries its own in its block.
    pub warnings: &'a [crate::kpi::warning::Warning],
}

#[cfg(test)]
impl<'a> Context<'a> {
    /// The context the notify tests render in: Sefton, job "monthly", no run prefix, no
    /// commentary, values entered, warnings, approvals or links; default disclosure. A test
    /// sets what it needs with `Context { field, ..Context::for_tests(...) }`.
    pub fn for_tests(
        kpis: &'a Catalogue,
        risks: &'a crate::risk::Register,
        sub_groups: &'a BTreeMap<String, SubGroup>,
        sources: &'a Sources,
    ) -> Self {
        Context {
            area: "Sefton",
            subject_prefix: "",
            job: "monthly",
            run_id: None,
            kpis,
            risks,
            sub_groups,
            sources,
            entered: &[],
            commentary: &[],
            disclosure: crate::disclose::Disclosure::default(),
            board: "",
            pending: None,
            links: None,
            warnings: &[],
        }
    }
}
