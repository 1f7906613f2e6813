//! What a digest asks a person for (a manual KPI's value, an exception report's commentary,
//! an action's progress), in plain words, and the one place where the link that answers it
//! is made.
//!
//! Owns: [`Request`] (what is asked of whom) and [`link`]. A board member or a sub-group
//! owner reads the digest, not an operator: no request names a command. Issue 22's signed
//! form links are to be made in [`link`] and nowhere else; until then it makes none, and the
//! templates print a request's words alone.

/// One thing a digest asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request<'a> {
    /// A manual KPI's value for a period (its `Period` key, e.g. "2026-Q2").
    Value { kpi: &'a str, period: &'a str },
    /// The owner's exception report on a KPI for a period.
    Commentary { kpi: &'a str, period: &'a str },
    /// An action's progress update.
    Progress { action: &'a str },
}

/// The link that answers `request` for the digest's reader; `None` while the daemon serves
/// no form (issue 22's "answer from the digest" fills this in).
pub fn link(request: Request<'_>) -> Option<String> {
    let _ = request;
    None
}
