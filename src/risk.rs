//! Risks: the plan's risk log (its `risks.toml`), its triggers evaluated against the KPI
//! history and the sources' freshness each run, and the changes of score that follow.
//!
//! Owns: the register as data ([`catalogue`]), the trigger conditions and their wording
//! ([`trigger`]), and raising, holding and clearing a risk ([`assess`]); `sendwatch risks`
//! is `src/view/`'s. Pure: takes the stored history and `now`, does no I/O; [`crate::job`] reads
//! and records, [`crate::notify`] reports the changes.

mod assess;
pub mod catalogue;
mod history;
mod settings;
mod trigger;

#[cfg(test)]
pub(crate) mod testing;

pub use assess::{ChangeKind, RiskChange, RiskEvent, RiskState, Scored, assess, current_states};
pub use catalogue::Register;
pub use history::History;
pub use settings::{
    BandSettings, Bound, Condition, Contact, Figure, Level, RiskLogSettings, RiskSettings,
    TriggerKind, TriggerSettings,
};
pub use trigger::{Finding, Inputs, SourceFreshness, describe, evaluate};
