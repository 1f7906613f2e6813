//! The two models a projection chooses between, fitted to one series: a straight line by
//! least squares, and Holt's additive damped trend (ETS(A,Ad,N)) by the least sum of squared
//! one-step errors; each with its predictive distribution h periods ahead.
//!
//! Owns: the fits, AICc and the variance growth over the horizon. The formulas are the
//! textbook ones: a regression line's prediction interval, AICc as Hyndman and
//! Athanasopoulos' "Forecasting: principles and practice" (3rd ed., ch. 7 and 8) gives it,
//! and the damped trend's forecast variance from Hyndman, Koehler, Ord and Snyder,
//! "Forecasting with exponential smoothing" (2008) ch. 6 (a class 1 model:
//! c_j = w'F^(j-1)g). Missing periods (`None`) are skipped by the line and stepped through
//! without an update by the damped trend.

/// A model of the series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Linear,
    DampedHolt,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Linear => "linear trend",
            Method::DampedHolt => "damped Holt",
        }
    }
}

/// Which models a projection may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Choice {
    /// Whichever of the two that are fitted has the lower AICc.
    #[default]
    Aicc,
    Linear,
    DampedHolt,
}

/// The damped trend is fitted to at least this many points: five parameters (α, β, φ and
/// the two starting states) need a few errors to spare, and AICc's penalty needs n > 7.
pub const HOLT_MIN_POINTS: usize = 10;

/// The bounds of the damping parameter (Hyndman et al.: below 0.8 it damps too hard to
/// matter, above 0.98 it is indistinguishable from an undamped trend).
const PHI: (f64, f64) = (0.8, 0.98);

/// What a fitted model predicts h periods after the last: the value is `mean + scale × T`,
/// T ~ Student t with `df` degrees of freedom. `scale` is 0 when the fit was exact.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Predictive {
    pub mean: f64,
    pub scale: f64,
    pub df: f64,
}

/// A straight line y = intercept + slope × t, t the period's index in the series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Line {
    pub intercept: f64,
    pub slope: f64,
    pub sse: f64,
    pub n: usize,
    t_mean: f64,
    sxx: f64,
}

/// Least squares over the observed points; `None` with fewer than 3 (no residual variance).
pub fn fit_line(values: &[Option<f64>]) -> Option<Line> {
    let pts: Vec<(f64, f64)> = values
        .iter()
        .enumerate()
        .filter_map(|(t, y)| y.map(|y| (t as f64, y)))
        .collect();
    let n = pts.len();
    if n < 3 {
        return None;
    }
    let nf = n as f64;
    let t_mean = pts.iter().map(|p| p.0).sum::<f64>() / nf;
    let y_mean = pts.iter().map(|p| p.1).sum::<f64>() / nf;
    let sxx: f64 = pts.iter().map(|p| (p.0 - t_mean).powi(2)).sum();
    let sxy: f64 = pts.iter().map(|p| (p.0 - t_mean) * (p.1 - y_mean)).sum();
    let slope = sxy / sxx;
    let intercept = y_mean - slope * t_mean;
    let sse = pts
        .iter()
        .map(|p| (p.1 - intercept - slope * p.0).powi(2))
        .sum();
    Some(Line {
        intercept,
        slope,
        sse,
        n,
        t_mean,
        sxx,
    })
}

impl Line {
    /// At period index `t` (the series' last index plus the horizon): the mean, and the
    /// prediction's spread s × sqrt(1 + 1/n + (t − t̄)²/Sxx) with n − 2 degrees of freedom.
    pub fn predict(&self, t: f64) -> Predictive {
        let df = (self.n - 2) as f64;
        let s2 = self.sse / df;
        let spread = 1.0 + 1.0 / self.n as f64 + (t - self.t_mean).powi(2) / self.sxx;
        Predictive {
            mean: self.intercept + self.slope * t,
            scale: (s2 * spread).sqrt(),
            df,
        }
    }
}

/// The damped trend's smoothing parameters, in the error-correction form: level
/// l_t = l_{t−1} + φ b_{t−1} + α e_t, trend b_t = φ b_{t−1} + β e_t, 0 < β < α < 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HoltParams {
    pub alpha: f64,
    pub beta: f64,
    pub phi: f64,
}

/// One pass of the damped trend from starting states (l0, b0) before the first period.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HoltRun {
    pub sse: f64,
    /// The states after the last period.
    pub level: f64,
    pub trend: f64,
}

/// Runs the recursions over `values`, skipping the update where a value is missing.
pub fn holt_run(values: &[Option<f64>], p: HoltParams, l0: f64, b0: f64) -> HoltRun {
    let (mut l, mut b, mut sse) = (l0, b0, 0.0);
    for y in values {
        let fit = l + p.phi * b;
        let e = y.map_or(0.0, |y| y - fit);
        sse += e * e;
        l = fit + p.alpha * e;
        b = p.phi * b + p.beta * e;
    }
    HoltRun {
        sse,
        level: l,
        trend: b,
    }
}

/// A damped trend fitted to a series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Holt {
    pub params: HoltParams,
    pub l0: f64,
    pub b0: f64,
    pub run: HoltRun,
    pub n: usize,
}

/// The starting states that minimise the sum of squared errors for given parameters. Each
/// one-step error is linear in (l0, b0), so three passes (the data from zero states, and
/// each unit state on zero data) give it by a 2×2 least squares.
pub fn holt_best_start(values: &[Option<f64>], p: HoltParams) -> Holt {
    // Errors and final states of the three passes, per period.
    let (mut s0, mut sl, mut sb) = ([0.0, 0.0], [1.0, 0.0], [0.0, 1.0]);
    let (mut a, mut bb, mut ab, mut ay, mut by) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let step = |s: &mut [f64; 2], y: Option<f64>| -> f64 {
        let fit = s[0] + p.phi * s[1];
        let e = y.map_or(0.0, |y| y - fit);
        s[0] = fit + p.alpha * e;
        s[1] = p.phi * s[1] + p.beta * e;
        e
    };
    let mut n = 0;
    for y in values {
        let observed = y.is_some();
        let e0 = step(&mut s0, *y);
        let el = step(&mut sl, observed.then_some(0.0));
        let eb = step(&mut sb, observed.then_some(0.0));
        if observed {
            n += 1;
            a += el * el;
            bb += eb * eb;
            ab += el * eb;
            ay += el * e0;
            by += eb * e0;
        }
    }
    // e = e0 + l0·el + b0·eb; minimise Σe².
    let det = a * bb - ab * ab;
    let (l0, b0) = if det > 1e-12 * a * bb && det > 0.0 {
        ((-ay * bb + by * ab) / det, (-by * a + ay * ab) / det)
    } else if a > 0.0 {
        (-ay / a, 0.0)
    } else {
        (0.0, 0.0)
    };
    let run = holt_run(values, p, l0, b0);
    Holt {
        params: p,
        l0,
        b0,
        run,
        n,
    }
}

/// (α, β, φ) from unconstrained coordinates, so the search needs no constraints.
fn params_of(x: [f64; 3]) -> HoltParams {
    let logistic = |v: f64| 1.0 / (1.0 + (-v).exp());
    let alpha = 1e-4 + (1.0 - 2e-4) * logistic(x[0]);
    HoltParams {
        alpha,
        beta: alpha * logistic(x[1]),
        phi: PHI.0 + (PHI.1 - PHI.0) * logistic(x[2]),
    }
}

/// The least-squares damped trend: a coarse grid over (α, β/α, φ), then Nelder-Mead from
/// the best of it; the starting states are solved exactly at each step. `None` below
/// [`HOLT_MIN_POINTS`] observed values.
pub fn fit_holt(values: &[Option<f64>]) -> Option<Holt> {
    if values.iter().flatten().count() < HOLT_MIN_POINTS {
        return None;
    }
    let sse = |x: [f64; 3]| holt_best_start(values, params_of(x)).run.sse;
    let grid = [-2.2, -0.85, 0.0, 0.85, 2.2]; // logistic: 0.1, 0.3, 0.5, 0.7, 0.9
    let mut best = ([0.0; 3], f64::INFINITY);
    for &x0 in &grid {
        for &x1 in &grid {
            for &x2 in &[-1.5, 0.0, 1.5] {
                let x = [x0, x1, x2];
                let v = sse(x);
                if v < best.1 {
                    best = (x, v);
                }
            }
        }
    }
    let x = nelder_mead(sse, best.0, 0.6, 300);
    Some(holt_best_start(values, params_of(x)))
}

impl Holt {
    /// h ≥ 1 periods after the last: l + (φ + … + φ^h) b, and the variance
    /// σ² (1 + Σ_{j=1}^{h−1} c_j²), c_j = α + β (φ + … + φ^j), σ² = SSE / (n − 5).
    pub fn predict(&self, h: usize) -> Predictive {
        let HoltParams { alpha, beta, phi } = self.params;
        let df = (self.n as f64 - 5.0).max(1.0);
        let s2 = self.run.sse / df;
        let (mut damp, mut power, mut var) = (0.0, 1.0, 1.0);
        for j in 1..=h {
            power *= phi;
            damp += power;
            if j < h {
                let c = alpha + beta * damp;
                var += c * c;
            }
        }
        Predictive {
            mean: self.run.level + damp * self.run.trend,
            scale: (s2 * var).sqrt(),
            df,
        }
    }
}

/// Minimises `f` from `start` (Nelder and Mead's simplex, standard coefficients). Small and
/// deterministic; three coordinates.
fn nelder_mead(f: impl Fn([f64; 3]) -> f64, start: [f64; 3], step: f64, evals: usize) -> [f64; 3] {
    let mut simplex: Vec<([f64; 3], f64)> = (0..4)
        .map(|i| {
            let mut x = start;
            if i > 0 {
                x[i - 1] += step;
            }
            (x, f(x))
        })
        .collect();
    let mut used = 4;
    let lerp = |a: [f64; 3], b: [f64; 3], t: f64| -> [f64; 3] {
        [
            a[0] + t * (b[0] - a[0]),
            a[1] + t * (b[1] - a[1]),
            a[2] + t * (b[2] - a[2]),
        ]
    };
    while used < evals {
        simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
        let (best, worst) = (simplex[0].1, simplex[3].1);
        if (worst - best).abs() <= 1e-10 * (best.abs() + 1e-12) {
            break;
        }
        let mut centroid = [0.0; 3];
        for (x, _) in &simplex[..3] {
            for k in 0..3 {
                centroid[k] += x[k] / 3.0;
            }
        }
        let reflected = lerp(centroid, simplex[3].0, -1.0);
        let fr = f(reflected);
        used += 1;
        if fr < simplex[0].1 {
            let expanded = lerp(centroid, simplex[3].0, -2.0);
            let fe = f(expanded);
            used += 1;
            simplex[3] = if fe < fr {
                (expanded, fe)
            } else {
                (reflected, fr)
            };
        } else if fr < simplex[2].1 {
            simplex[3] = (reflected, fr);
        } else {
            let contracted = if fr < simplex[3].1 {
                lerp(centroid, reflected, 0.5)
            } else {
                lerp(centroid, simplex[3].0, 0.5)
            };
            let fc = f(contracted);
            used += 1;
            if fc < fr.min(simplex[3].1) {
                simplex[3] = (contracted, fc);
            } else {
                let x0 = simplex[0].0;
                for s in &mut simplex[1..] {
                    let x = lerp(x0, s.0, 0.5);
                    *s = (x, f(x));
                    used += 1;
                }
            }
        }
    }
    simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
    simplex[0].0
}

/// AICc of a Gaussian fit with `k` parameters (σ² counted) and sum of squared errors `sse`
/// over `n` points; `None` where it is undefined (n ≤ k + 1). `floor` keeps an exact fit's
/// ln(0) finite, so a tie between exact fits goes to the fewer parameters.
pub fn aicc(sse: f64, n: usize, k: usize, floor: f64) -> Option<f64> {
    if n <= k + 1 {
        return None;
    }
    let (nf, kf) = (n as f64, k as f64);
    Some(nf * (sse.max(floor) / nf).ln() + 2.0 * kf + 2.0 * kf * (kf + 1.0) / (nf - kf - 1.0))
}

/// A fitted model, ready to predict.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fitted {
    Linear { line: Line, last: usize },
    DampedHolt(Holt),
}

impl Fitted {
    pub fn method(&self) -> Method {
        match self {
            Fitted::Linear { .. } => Method::Linear,
            Fitted::DampedHolt(_) => Method::DampedHolt,
        }
    }

    /// Observed values the model was fitted to.
    pub fn points(&self) -> usize {
        match self {
            Fitted::Linear { line, .. } => line.n,
            Fitted::DampedHolt(h) => h.n,
        }
    }

    /// h ≥ 1 periods after the series' last period.
    pub fn predict(&self, h: usize) -> Predictive {
        match self {
            Fitted::Linear { line, last } => line.predict((last + h) as f64),
            Fitted::DampedHolt(holt) => holt.predict(h),
        }
    }
}

/// Fits what `choice` allows to `values` (oldest first, the last entry the latest period)
/// and keeps the one chosen; `None` when none can be fitted (fewer than 3 observed values).
pub fn fit(values: &[Option<f64>], choice: Choice) -> Option<Fitted> {
    let last = values.len().checked_sub(1)?;
    let observed: Vec<f64> = values.iter().flatten().copied().collect();
    let n = observed.len();
    let scale = observed.iter().fold(1.0_f64, |m, y| m.max(y.abs()));
    // An "exact" fit: errors below a billionth of the series' scale.
    let floor = n as f64 * (1e-9 * scale).powi(2);
    let linear = || fit_line(values).map(|line| Fitted::Linear { line, last });
    match choice {
        Choice::Linear => linear(),
        Choice::DampedHolt => fit_holt(values).map(Fitted::DampedHolt),
        Choice::Aicc => {
            let line = linear()?;
            let Some(holt) = fit_holt(values) else {
                return Some(line);
            };
            let Fitted::Linear { line: l, .. } = line else {
                return Some(line);
            };
            match (aicc(l.sse, n, 3, floor), aicc(holt.run.sse, n, 6, floor)) {
                (Some(a), Some(b)) if b < a => Some(Fitted::DampedHolt(holt)),
                _ => Some(line),
            }
        }
    }
}
