//! The feed between the parser and a backend's bulk writer: what arrives, and the quarantined
//! rows' problems kept on the way. Shared by [`super::bulk`] and the two backends' writers.

use crate::load::{Batch, LoadError, ParseSummary, Problem};

/// What the parser sends: batches of rows, then its verdict on the whole file.
#[derive(Debug)]
pub enum Feed {
    Rows(Batch),
    Done(Result<ParseSummary, LoadError>),
}

/// Quarantined rows' problems, recorded with the load up to a limit (the count is exact).
#[derive(Debug, Default)]
pub(super) struct SetAside {
    pub kept: Vec<Problem>,
}

impl SetAside {
    /// Problems of set-aside rows recorded in `load_problems` per load.
    pub const LIMIT: usize = 10_000;

    pub fn take(&mut self, batch: &mut Batch) {
        let room = Self::LIMIT.saturating_sub(self.kept.len());
        self.kept.extend(batch.set_aside.drain(..).take(room));
    }
}
