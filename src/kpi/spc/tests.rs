//! Tests of the SPC core: `upstream` ports NHSRplotthedots' own test cases with their
//! expected values; `hand` holds hand-made series for each rule, icon and option; `laney`
//! the p' chart by hand.

mod hand;
mod laney;
mod upstream;

use super::*;

/// Asserts `a` equals an expected value printed by R to `tol`.
#[track_caller]
fn close(a: f64, expected: f64, tol: f64) {
    assert!(
        (a - expected).abs() <= tol,
        "{a} is not {expected} (within {tol})"
    );
}

fn causes_of(a: &Analysis) -> Vec<Option<Cause>> {
    a.points.iter().map(|p| p.cause).collect()
}
