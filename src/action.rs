//! Actions: the plan's action log (its `actions.toml`), the progress updates the board
//! records at each meeting, and which actions are news: overdue, not on track, or wanting an
//! update before the next meeting.
//!
//! A stage after [`crate::risk`] and before [`crate::notify`] (which reports the [`Slip`]s and
//! must not be imported here). Owns: the log as data ([`catalogue`]), the checks on an update
//! ([`update`], [`import`] for a meeting's CSV) and the assessment ([`assess`]). Pure: takes
//! the stored updates and `today`, does no I/O; [`crate::cli`] reads and records.

pub mod assess;
pub mod catalogue;
pub mod import;
mod settings;
pub mod update;

pub use assess::{Slip, State, Why, assess, current};
pub use catalogue::Actions;
pub use settings::{ActionLogSettings, ActionSettings, Status};
pub use update::{Draft, Recorded, Update};
