//! Small-cell suppression: how a count may appear in any output (mail, risk reasons, the
//! command line).
//!
//! Owns: [`suppress`]. Here, beside the KPIs that produce the counts, so that every stage
//! after them (risk, notify, cli) writes counts the same way without importing each other.

/// Counts below this are shown as "<5".
pub const SMALL_COUNT: u64 = 5;

/// A count as it may appear in an output.
pub fn suppress(n: u64) -> String {
    if n < SMALL_COUNT {
        "<5".to_string()
    } else {
        n.to_string()
    }
}
