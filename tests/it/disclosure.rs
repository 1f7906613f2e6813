//! `[disclosure] threshold` is a deployment's own, not the process's: two Apps in one test
//! process, one configured with a threshold of 10 and one with the default 5, run the example
//! job on both backends; the share the default writes out and rates ("28 of 33", its rest 5)
//! is hidden in the other's `kpi show`, and not rated there, so it is in none of the other's
//! digests (issue 17), and still written out in the default's.

use std::path::Path;

use sendwatch::store::RunStatus;

use crate::harness::{
    Mail, app, binary, evaluation, folder_config_with, folder_mail, outbox, repo, run_example,
};
use crate::support::backends;

/// Where the example configuration sends KPI 1/5 (the health sub-group's contact).
const HEALTH: &str = "dco@example.org";

/// The digest `dir`'s folder delivery wrote to `to`.
fn digest_to(dir: &Path, to: &str) -> String {
    folder_mail(&outbox(dir))
        .into_iter()
        .find(|m| m.header("To").as_deref() == Some(to))
        .map(|m: Mail| m.body)
        .unwrap_or_else(|| panic!("no digest to {to}"))
}

/// `kpi show 1/5`'s "Latest:" line from the binary.
fn latest_of_1_5(dir: &Path, cfg: &Path) -> String {
    let (ok, out, err) = binary(dir, cfg, &[], &["kpi", "show", "1/5"]);
    assert!(ok, "{err}");
    out.lines()
        .find(|l| l.trim_start().starts_with("Latest:"))
        .unwrap_or_else(|| panic!("no Latest line in\n{out}"))
        .to_string()
}

async fn a_threshold_of_10_hides_in_one_app_a_share_the_default_shows_in_another() {
    let extract = repo("examples/tracker.csv").display().to_string();
    for (strict_db, default_db) in backends().await.into_iter().zip(backends().await) {
        let name = strict_db.name;
        let (strict_dir, default_dir) = (
            tempfile::tempdir().expect("tempdir"),
            tempfile::tempdir().expect("tempdir"),
        );
        let strict_cfg = folder_config_with(
            strict_dir.path(),
            &strict_db.url,
            &extract,
            "[disclosure]\nthreshold = 10\n",
        );
        let default_cfg = folder_config_with(default_dir.path(), &default_db.url, &extract, "");
        // Both built before either runs: were the threshold the process's, the one built last
        // would decide both.
        let strict = app(&strict_cfg).await;
        let default = app(&default_cfg).await;
        let r10 = run_example(&strict).await;
        let r5 = run_example(&default).await;
        assert_eq!(
            (r10.status, r5.status),
            (RunStatus::Ok, RunStatus::Ok),
            "{name}"
        );
        strict.store.close().await;
        default.store.close().await;

        // KPI 1/5's share for July 2021: its rest is from 5 to 9, shown at 5 and not at 10.
        let c = evaluation(&r5, "1/5").count().expect("KPI 1/5 has counts");
        assert!(
            (5..10).contains(&(c.denominator - c.numerator)),
            "{name}: the example's KPI 1/5 share {c:?} no longer tests this"
        );
        let share = format!("({} of {} ", c.numerator, c.denominator);
        let shown = digest_to(default_dir.path(), HEALTH);
        assert!(shown.contains(&share), "{name}: {share} not in\n{shown}");
        assert!(
            shown.contains("Counts under 5 are shown as \"<5\""),
            "{shown}"
        );
        // At 10 the rest is small: not rated: too few cases, so in no digest (issue 17).
        // Health hears of nothing else, so the strict deployment sends it no digest at all;
        // what it does send is written by its own threshold.
        assert!(evaluation(&r5, "1/5").rated(), "{name}: rated at 5");
        assert!(!evaluation(&r10, "1/5").rated(), "{name}: not rated at 10");
        let strict_mails = folder_mail(&outbox(strict_dir.path()));
        assert!(
            strict_mails
                .iter()
                .all(|m| m.header("To").as_deref() != Some(HEALTH)),
            "{name}: a digest to {HEALTH} from the strict deployment"
        );
        assert!(
            !strict_mails.is_empty(),
            "{name}: the strict deployment sent nothing"
        );
        for m in &strict_mails {
            let hidden = &m.body;
            assert!(!hidden.contains("KPI 1/5"), "{name}: 1/5 in\n{hidden}");
            assert!(!hidden.contains(&share), "{name}: {share} in\n{hidden}");
            assert!(hidden.contains("not shown: <10 in a count"), "{hidden}");
            assert!(
                hidden.contains("Counts under 10 are shown as \"<10\""),
                "{hidden}"
            );
            assert!(
                !hidden.contains("<5"),
                "{name}: the default's words in\n{hidden}"
            );
        }

        // `kpi show` reads the same results by each deployment's own rule.
        let value = format!("{:.1}%", evaluation(&r5, "1/5").value().expect("a value"));
        let latest = latest_of_1_5(default_dir.path(), &default_cfg);
        assert!(
            latest.contains(&value) && !latest.contains("not rated"),
            "{name}: {latest}"
        );
        let latest = latest_of_1_5(strict_dir.path(), &strict_cfg);
        assert!(
            !latest.contains(&value)
                && latest.contains("not shown: <10 in a count")
                && latest.contains("not rated: too few cases"),
            "{name}: {latest}"
        );
    }
}

pub fn tests() -> Vec<crate::support::trials::Spec> {
    use crate::support::trials::trial;
    vec![
        trial!(a_threshold_of_10_hides_in_one_app_a_share_the_default_shows_in_another)
            .each_backend(),
    ]
}
