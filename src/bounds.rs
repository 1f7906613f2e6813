//! Ranges of the numeric settings: every duration and count a configuration gives has one.
//!
//! Each stage names the range of each of its keys as a [`Bound`] beside its settings type and
//! checks its values against it, so `check-config` refuses a value far past what a deployment
//! needs with the key, the range and the value given ("must be between 1 and 86400 (one
//! day); got 9223372036854775807"), rather than the process aborting where the value meets a
//! clock. The ranges are generous but far below overflow; where a value meets a clock it is
//! also [`Bound::clamp`]ed, so settings that skipped the check cannot overflow either.
//!
//! Owns: the range type, its check and its message. Must not: know any stage's keys.

use std::fmt::Display;

/// The closed range `min..=max` of one setting, with what the top means in words.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bound<T> {
    pub min: T,
    pub max: T,
    /// Why the range is what it is ("one day"); empty for none.
    pub why: &'static str,
}

impl<T: Copy + PartialOrd + Display> Bound<T> {
    pub const fn new(min: T, max: T, why: &'static str) -> Bound<T> {
        Bound { min, max, why }
    }

    /// True when `v` is in the range (never for NaN).
    pub fn contains(&self, v: T) -> bool {
        self.min <= v && v <= self.max
    }

    /// "between 1 and 86400 (one day)".
    pub fn describe(&self) -> String {
        if self.why.is_empty() {
            format!("between {} and {}", self.min, self.max)
        } else {
            format!("between {} and {} ({})", self.min, self.max, self.why)
        }
    }

    /// Tell `bad` when `value` (the setting `key`) is out of range, naming the range and the
    /// value given.
    pub fn check(&self, bad: &mut dyn FnMut(String, String), key: impl Into<String>, value: T) {
        if !self.contains(value) {
            bad(
                key.into(),
                format!("must be {}; got {value}", self.describe()),
            );
        }
    }

    /// The same for an optional setting: nothing to say when it is not given.
    pub fn check_opt(
        &self,
        bad: &mut dyn FnMut(String, String),
        key: impl Into<String>,
        value: Option<T>,
    ) {
        if let Some(v) = value {
            self.check(bad, key, v);
        }
    }

    /// `value` brought into the range: where a setting meets a clock, so that one that was
    /// never checked still cannot overflow.
    pub fn clamp(&self, value: T) -> T {
        if value < self.min {
            self.min
        } else if value > self.max {
            self.max
        } else {
            value
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECS: Bound<u64> = Bound::new(1, 86_400, "one day");

    fn said(b: &Bound<u64>, v: u64) -> Vec<String> {
        let mut out = Vec::new();
        b.check(
            &mut |k, m| out.push(format!("{k}: {m}")),
            "jobs.x.timeout_secs",
            v,
        );
        out
    }

    #[test]
    fn a_value_out_of_range_is_named_with_the_range_and_the_value() {
        assert!(said(&SECS, 1).is_empty());
        assert!(said(&SECS, 86_400).is_empty());
        assert_eq!(
            said(&SECS, 9_223_372_036_854_775_807),
            ["jobs.x.timeout_secs: must be between 1 and 86400 (one day); got 9223372036854775807"]
        );
        assert_eq!(
            said(&Bound::new(2, 100, ""), 0),
            ["jobs.x.timeout_secs: must be between 2 and 100; got 0"]
        );
    }

    #[test]
    fn clamp_keeps_a_value_within_and_nan_is_never_in_range() {
        assert_eq!(SECS.clamp(0), 1);
        assert_eq!(SECS.clamp(u64::MAX), 86_400);
        assert_eq!(SECS.clamp(60), 60);
        assert!(!Bound::new(0.0, 1.0, "").contains(f64::NAN));
    }
}
