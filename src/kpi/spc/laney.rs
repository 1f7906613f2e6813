//! Laney's p' chart: limits for a proportion whose denominators vary, widened (or narrowed) by
//! the variation between periods that the binomial model alone does not explain.
//!
//! Laney, D. B. (2002), "Improved control charts for attributes", Quality Engineering 14(4),
//! 531-537; NHS England's Making Data Count guidance recommends it for large or varying
//! denominators, where a p chart's limits are too tight and an XmR chart ignores the
//! denominators. NHSRplotthedots does not implement p', so there is no reference case to
//! port: the tests check the arithmetic by hand.
//!
//! With p̄ the overall proportion (Σ numerators / Σ denominators), for each point
//! σ_pi = sqrt(p̄(1 - p̄) / n_i) and z_i = (p_i - p̄) / σ_pi; σ_z = mean |z_i - z_{i-1}| / 1.128;
//! the limits are p̄ ± 3 σ_pi σ_z and the two-sigma lines p̄ ± 2 σ_pi σ_z. Values may be
//! proportions or percentages (`scale` 1 or 100). Moving ranges are not screened (Laney's
//! σ_z is the plain mean; screening is an XmR option of NHSRplotthedots'). Limits are not
//! clamped to 0 and 100%: a point never lies outside them there, so no rule reads otherwise.

use super::{Limits, SpcError};

/// The d2 constant for moving ranges of two (3 / 1.128 is XmR's 2.66).
const D2: f64 = 1.128;

/// A p' chart's denominators: one a value, each above 0, and the scale the values are on.
#[derive(Debug, Clone, PartialEq)]
pub struct PPrime {
    pub denominators: Vec<f64>,
    /// 100 for percentages, 1 for proportions.
    pub scale: f64,
}

/// Each point's limits for `ys` (on `scale`) over denominators `ns`, p̄ and σ_z taken from
/// the first `fix_after` points (all without).
pub fn limits(
    ys: &[f64],
    ns: &[f64],
    scale: f64,
    fix_after: Option<usize>,
) -> Result<Vec<Limits>, SpcError> {
    if ns.len() != ys.len() || ns.iter().any(|n| !n.is_finite() || *n <= 0.0) || scale <= 0.0 {
        return Err(SpcError::BadDenominators);
    }
    let fixed = fix_after.map_or(ys.len(), |n| n.min(ys.len()));
    if fixed < 2 {
        return Err(SpcError::TooFewPoints);
    }
    let p: Vec<f64> = ys.iter().map(|y| y / scale).collect();
    let total: f64 = ns[..fixed].iter().sum();
    let p_bar = p[..fixed].iter().zip(ns).map(|(p, n)| p * n).sum::<f64>() / total;
    let spread = p_bar * (1.0 - p_bar);
    let sigma_p = |n: f64| (spread / n).sqrt();
    // Every value 0 or 1 (or a proportion out of range): no binomial spread to scale, so
    // zero-width limits at p̄, as XmR keeps for a flat series.
    let sigma_z = if spread > 0.0 {
        let z: Vec<f64> = p[..fixed]
            .iter()
            .zip(ns)
            .map(|(p, &n)| (p - p_bar) / sigma_p(n))
            .collect();
        let ranges: Vec<f64> = z.windows(2).map(|w| (w[1] - w[0]).abs()).collect();
        ranges.iter().sum::<f64>() / ranges.len() as f64 / D2
    } else {
        0.0
    };
    let mean = p_bar * scale;
    Ok(ns
        .iter()
        .map(|&n| {
            let s = if sigma_z > 0.0 {
                sigma_p(n) * sigma_z * scale
            } else {
                0.0
            };
            Limits {
                mean,
                // σ_z × d2: the mean moving range of the z-scores.
                mean_moving_range: sigma_z * D2,
                lower: mean - 3.0 * s,
                upper: mean + 3.0 * s,
                lower_two_sigma: mean - 2.0 * s,
                upper_two_sigma: mean + 2.0 * s,
                points: fixed,
            }
        })
        .collect())
}
