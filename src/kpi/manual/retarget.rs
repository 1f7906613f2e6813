//! `kpi retarget KPI --effective YYYY-MM --reason TEXT --milestone ...`: a recovery plan's new
//! schedule (and baseline) from a month on, entered from the command line and kept in the
//! database beside the catalogue's own `retargets`.
//!
//! Owns: the `--milestone` syntax, the check of a new target version against the KPI it
//! resets (by the catalogue's own checks), and [`merge`], which lays the stored versions into
//! the catalogue when the app starts. Pure.
//!
//! `--milestone "FROM=TARGET[:LABEL]"`, FROM a month (`YYYY-MM`), LABEL the words as the
//! recovery plan prints them (it may hold colons), TARGET one of:
//!
//! | TARGET              | kind                                         |
//! |---------------------|----------------------------------------------|
//! | `75`                | a fixed figure                               |
//! | `75 or national`    | 75 or the national average, the higher       |
//! | `national`          | the national average in force                |
//! | `baseline+10`       | the baseline plus 10 points                  |
//! | `baseline+10%`      | the baseline plus 10% of it                  |
//! | `establish baseline`| the baseline is to be established            |
//! | `na`                | not applicable for the period                |

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use crate::kpi::catalogue::Known;
use crate::kpi::{Catalogue, MilestoneSettings, Month, Retarget};

/// Longest reason, in characters.
pub const MAX_REASON: usize = 500;

/// A target version someone recorded with `kpi retarget`.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRetarget {
    pub id: i64,
    pub kpi_id: String,
    pub retarget: Retarget,
    pub by: String,
    pub entered_at: DateTime<Utc>,
}

/// Read one `--milestone` value.
pub fn parse_milestone(s: &str) -> Result<MilestoneSettings, String> {
    let (from, rest) = s
        .split_once('=')
        .ok_or("write FROM=TARGET[:LABEL], e.g. 2020-06=75:Jun-20: 75%")?;
    let from = from.trim();
    from.parse::<Month>().map_err(|e| e.to_string())?;
    let (target, label) = match rest.split_once(':') {
        Some((t, l)) => (t, Some(l.trim()).filter(|l| !l.is_empty())),
        None => (rest, None),
    };
    let spec = target.trim().to_ascii_lowercase();
    let number = |t: &str| -> Result<f64, String> {
        t.trim()
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .ok_or_else(|| {
                "the target is a number, `N or national`, `national`, `baseline+N`, \
                 `baseline+N%`, `establish baseline` or `na`"
                    .to_string()
            })
    };
    let mut m = MilestoneSettings {
        from: from.to_string(),
        label: label.map(str::to_string),
        ..MilestoneSettings::default()
    };
    match spec.as_str() {
        "national" => m.national_average = true,
        "na" | "n/a" => m.not_applicable = true,
        "establish baseline" | "establish-baseline" => m.establish_baseline = true,
        s if s.starts_with("baseline+") => {
            let n = &s["baseline+".len()..];
            match n.strip_suffix('%') {
                Some(n) => (m.baseline_plus, m.relative) = (Some(number(n)?), Some(true)),
                None => (m.baseline_plus, m.relative) = (Some(number(n)?), Some(false)),
            }
        }
        s if s.ends_with(" or national") => {
            m.target = Some(number(&s[..s.len() - " or national".len()])?);
            m.or_national = true;
        }
        s => m.target = Some(number(s)?),
    }
    Ok(m)
}

/// Check a new target version for `kpi_id` by the catalogue's own rules; each problem is
/// named by the flag it came from (`--milestone #2: ...`).
pub fn check(catalogue: &Catalogue, kpi_id: &str, r: &Retarget) -> Result<(), Vec<String>> {
    let Some(kpi) = catalogue.get(kpi_id) else {
        return Err(vec!["no KPI with this id in the catalogue".into()]);
    };
    let mut bad = Vec::new();
    let n = r.reason.chars().count();
    if n > MAX_REASON {
        bad.push(format!(
            "--reason: {n} characters long; at most {MAX_REASON} allowed"
        ));
    }
    if r.reason.chars().any(char::is_control) {
        bad.push("--reason: contains a line break or control character".into());
    }
    if r.milestones.is_empty() {
        bad.push(
            "--milestone: give the schedule in force from --effective (at least one), even if \
             only the baseline changes"
                .into(),
        );
    }
    if let Ok(effective) = r.effective.parse::<Month>() {
        for (i, m) in r.milestones.iter().enumerate() {
            if m.from.parse::<Month>().is_ok_and(|from| from < effective) {
                bad.push(format!(
                    "--milestone #{}: from {} is before --effective {effective}",
                    i + 1,
                    m.from
                ));
            }
        }
    }
    // The KPI with this version alone, checked as the catalogue is; only the version's keys.
    let mut one = kpi.clone();
    one.retargets = vec![r.clone()];
    let known = Known {
        sub_groups: BTreeSet::from([kpi.owner.as_str()]),
        sources: kpi
            .source
            .as_deref()
            .map(|s| (s, None))
            .into_iter()
            .collect::<BTreeMap<_, _>>(),
    };
    let prefix = format!("kpis.\"{kpi_id}\".retargets[0]");
    Catalogue(BTreeMap::from([(kpi_id.to_string(), one)])).check(&known, &mut |key, message| {
        if let Some(rest) = key.strip_prefix(&prefix) {
            bad.push(format!("{}: {message}", flag(rest)));
        }
    });
    if bad.is_empty() { Ok(()) } else { Err(bad) }
}

/// The flag a key inside a retarget came from: `.milestones[1].from` is `--milestone #2`.
fn flag(rest: &str) -> String {
    let field = rest.trim_start_matches('.');
    if let Some(m) = field.strip_prefix("milestones[") {
        let n: usize = m
            .split(']')
            .next()
            .and_then(|i| i.parse().ok())
            .unwrap_or(0);
        return format!("--milestone #{}", n + 1);
    }
    match field.split('.').next().unwrap_or("") {
        "effective" => "--effective".into(),
        "reason" => "--reason".into(),
        "baseline" => match field.split('.').nth(1) {
            Some("value") => "--baseline-value".into(),
            Some("date") => "--baseline-date".into(),
            Some("establish_by") => "--baseline-establish-by".into(),
            _ => "--baseline".into(),
        },
        _ => "retarget".into(),
    }
}

/// Lay stored target versions into the catalogue, after its own: each KPI's versions in
/// effective order, a stored version after a configured one of the same month (so the later
/// one is in force; the other stays for the record). Returns the ids of stored versions whose
/// KPI the catalogue no longer has.
pub fn merge(catalogue: &mut Catalogue, stored: &[StoredRetarget]) -> Vec<String> {
    let mut missing = Vec::new();
    for s in stored {
        match catalogue.get_mut(&s.kpi_id) {
            Some(k) => k.retargets.push(s.retarget.clone()),
            None => missing.push(s.kpi_id.clone()),
        }
    }
    for k in catalogue.values_mut() {
        // Stable: equal months keep their order. Unreadable months (check-config names them)
        // sort last, where `versions` leaves them out.
        k.retargets.sort_by_key(|r| {
            r.effective
                .parse::<Month>()
                .map_or((1, None), |m| (0, Some(m)))
        });
    }
    missing.sort();
    missing.dedup();
    missing
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kpi::{Target, TargetKind, target_in_force, versions};

    fn m(s: &str) -> MilestoneSettings {
        parse_milestone(s).expect(s)
    }

    #[test]
    fn every_target_kind_has_a_spelling() {
        let kinds = [
            ("2020-06=75", TargetKind::Fixed(75.0)),
            ("2020-06=75 or national", TargetKind::OrNational(75.0)),
            ("2020-06=National", TargetKind::NationalAverage),
            (
                "2020-06=baseline+10",
                TargetKind::BaselinePlus {
                    n: 10.0,
                    relative: false,
                },
            ),
            (
                "2020-06=baseline+10%",
                TargetKind::BaselinePlus {
                    n: 10.0,
                    relative: true,
                },
            ),
            ("2020-06=establish baseline", TargetKind::EstablishBaseline),
            ("2020-06=na", TargetKind::NotApplicable),
        ];
        for (s, kind) in kinds {
            assert_eq!(m(s).kind(), Ok(kind), "{s}");
        }
        let labelled = m("2020-06=75:Jun-20: 75% (recovery plan)");
        assert_eq!(
            labelled.label.as_deref(),
            Some("Jun-20: 75% (recovery plan)")
        );
        assert_eq!(labelled.from, "2020-06");
        for bad in [
            "75",
            "2020-6=75",
            "2020-06=lots",
            "2020-06=baseline+x",
            "2020-06=inf",
        ] {
            assert!(parse_milestone(bad).is_err(), "{bad}");
        }
    }

    fn retarget(effective: &str, milestones: &[&str]) -> Retarget {
        Retarget {
            effective: effective.into(),
            reason: "SENDCIB agreed recovery plan".into(),
            baseline: None,
            milestones: milestones.iter().map(|s| m(s)).collect(),
        }
    }

    #[test]
    fn a_version_is_checked_by_the_catalogues_rules_and_named_by_flag() {
        let c = crate::kpi::catalogue::builtin().expect("catalogue");
        check(&c, "3/3", &retarget("2020-03", &["2020-06=75:Jun-20: 75%"])).expect("fine");
        check(&c, "1/2a", &retarget("2020-10", &["2020-10=60"])).expect("a computed KPI too");
        let err = check(
            &c,
            "3/3",
            &retarget("2019-01", &["2020-06=120", "2020-03=80", "2018-01=1"]),
        )
        .expect_err("refused");
        let text = err.join("\n");
        assert!(
            text.contains("--effective: 2019-01 is before the first milestone"),
            "{text}"
        );
        assert!(
            text.contains("--milestone #1: a percentage cannot be over 100"),
            "{text}"
        );
        assert!(
            text.contains("--milestone #2: milestones must be in date order"),
            "{text}"
        );
        assert!(
            text.contains("--milestone #3: from 2018-01 is before --effective"),
            "{text}"
        );
        let mut no_national = retarget("2020-06", &["2020-06=national"]);
        let err = check(&c, "3/3", &no_national).expect_err("3/3 has no national values");
        assert!(
            err[0].starts_with("--milestone #1: national_average needs"),
            "{err:?}"
        );
        no_national.milestones.clear();
        assert!(check(&c, "3/3", &no_national).is_err());
        assert!(check(&c, "9/9", &retarget("2020-06", &["2020-06=1"])).is_err());
    }

    #[test]
    fn stored_versions_follow_the_configured_ones_and_keep_the_old_schedule() {
        let mut c = crate::kpi::catalogue::builtin().expect("catalogue");
        let stored = |id: i64, kpi: &str, r: Retarget| StoredRetarget {
            id,
            kpi_id: kpi.into(),
            retarget: r,
            by: "ann".into(),
            entered_at: DateTime::UNIX_EPOCH,
        };
        let missing = merge(
            &mut c,
            &[
                stored(2, "3/3", retarget("2021-01", &["2021-01=90"])),
                stored(1, "3/3", retarget("2020-03", &["2020-06=75", "2020-10=85"])),
                stored(3, "9/9", retarget("2020-03", &["2020-06=1"])),
            ],
        );
        assert_eq!(missing, ["9/9"]);
        let k = &c["3/3"];
        let month = |s: &str| s.parse::<Month>().expect("month");
        let value = |p: &str| target_in_force(k, month(p)).map(|t| t.target);
        assert_eq!(value("2020-01"), Some(Target::Value(50.0)), "as printed");
        assert_eq!(value("2020-04"), None, "the new schedule has not begun");
        assert_eq!(value("2020-07"), Some(Target::Value(75.0)));
        assert_eq!(value("2020-12"), Some(Target::Value(85.0)));
        assert_eq!(value("2021-02"), Some(Target::Value(90.0)));
        let all = versions(k);
        assert_eq!(all.len(), 3);
        assert_eq!(all[0].milestones.len(), 4, "the printed schedule stays");
        assert_eq!(all[1].effective, Some(month("2020-03")));
    }
}
