//! Every duration and count of the configuration has a range: `check-config` (the real binary)
//! refuses a value outside it with exit 78, naming the key, the range and the value; and the
//! values that once aborted the process where they met a clock stop `run-now` the same way.

use std::path::Path;
use std::process::{Command, Output};

/// One out-of-range value: the TOML that sets it, the key and range named, the value echoed.
struct Case {
    toml: &'static str,
    key: &'static str,
    range: &'static str,
    got: &'static str,
}

const fn case(
    toml: &'static str,
    key: &'static str,
    range: &'static str,
    got: &'static str,
) -> Case {
    Case {
        toml,
        key,
        range,
        got,
    }
}

const HUGE: &str = "9223372036854775807";

/// One per bound, each from the stage that owns the setting.
const CASES: &[Case] = &[
    case(
        "[jobs.monthly-exceptions]\ntimeout_secs = 9223372036854775807\n",
        "jobs.monthly-exceptions.timeout_secs",
        "between 1 and 86400 (one day)",
        HUGE,
    ),
    case(
        "[jobs.monthly-exceptions]\ntimeout_secs = 0\n",
        "jobs.monthly-exceptions.timeout_secs",
        "between 1 and 86400",
        "0",
    ),
    case(
        "[jobs.monthly-exceptions]\ndead_man_hours = 9223372036854775807\n",
        "jobs.monthly-exceptions.dead_man_hours",
        "between 1 and 17568 (two years)",
        HUGE,
    ),
    case(
        "[jobs.pack]\ncron = \"0 7 * * *\"\npack = { to = [\"governance\"], days_before_meeting = 4000000000 }\n",
        "jobs.pack.pack.days_before_meeting",
        "between 0 and 366 (a year)",
        "4000000000",
    ),
    case(
        "[ledger]\nlease_secs = 9223372036854775807\n",
        "ledger.lease_secs",
        "between 3 and 3600",
        HUGE,
    ),
    case(
        "[notify]\nrepeat_interval_hours = 9223372036854775807\n",
        "notify.repeat_interval_hours",
        "between 1 and 8784 (366 days)",
        HUGE,
    ),
    case(
        "[sources.tracker]\ndeadline_days = 4294967295\n",
        "sources.tracker.deadline_days",
        "between 0 and 366 (a year)",
        "4294967295",
    ),
    case(
        "[sources.tracker]\ntimeout_secs = 9223372036854775807\n",
        "sources.tracker.timeout_secs",
        "between 1 and 86400 (one day)",
        HUGE,
    ),
    case(
        "[sources.tracker]\nconnect_timeout_secs = 9223372036854775807\n",
        "sources.tracker.connect_timeout_secs",
        "between 1 and 600 (ten minutes)",
        HUGE,
    ),
    case(
        "[sources.tracker]\nmax_bytes = 9223372036854775807\n",
        "sources.tracker.max_bytes",
        "between 1 and 68719476736 (64 GiB)",
        HUGE,
    ),
    case(
        "[sources.tracker]\nretries = 11\n",
        "sources.tracker.retries",
        "between 0 and 10",
        "11",
    ),
    case(
        "[sources.tracker]\nretry_base_ms = 9223372036854775807\n",
        "sources.tracker.retry_base_ms",
        "between 0 and 30000",
        HUGE,
    ),
    case(
        "[sources.tracker.load]\nmax_record_bytes = 9223372036854775807\n",
        "sources.tracker.load.max_record_bytes",
        "between 1024 and 67108864",
        HUGE,
    ),
    case(
        "[sources.tracker.load]\nmax_bad_share = 1.5\n",
        "sources.tracker.load.max_bad_share",
        "between 0 and 1",
        "1.5",
    ),
    case(
        "[sources.tracker.load]\nmax_shrink = -0.5\n",
        "sources.tracker.load.max_shrink",
        "between 0 and 1",
        "-0.5",
    ),
    case(
        "[sources.tracker.load]\nkeep_days = 4294967295\n",
        "sources.tracker.load.keep_days",
        "between 0 and 366 (a year)",
        "4294967295",
    ),
    case(
        "[kinds.extra]\ntitle = \"Extra\"\nkey = [\"id\"]\ncolumns = [{ name = \"id\", type = \"text\", required = true, max_len = 9223372036854775807 }]\n",
        "kinds.extra.columns[0].max_len",
        "between 1 and 1048576",
        HUGE,
    ),
    case(
        "[store]\nmax_connections = 4294967295\n",
        "store.max_connections",
        "between 1 and 100",
        "4294967295",
    ),
    case(
        "[store]\nconnect_timeout_secs = 9223372036854775807\n",
        "store.connect_timeout_secs",
        "between 1 and 600 (ten minutes)",
        HUGE,
    ),
    case(
        "[store]\nstatement_timeout_secs = 9223372036854775807\n",
        "store.statement_timeout_secs",
        "between 1 and 86400 (one day)",
        HUGE,
    ),
    case(
        "[delivery.smtp]\ntimeout_secs = 9223372036854775807\n",
        "delivery.smtp.timeout_secs",
        "between 1 and 600 (ten minutes)",
        HUGE,
    ),
    case(
        "[delivery]\nmode = \"smtp\"\n[delivery.smtp]\nport = 0\n",
        "delivery.smtp.port",
        "between 1 and 65535",
        "0",
    ),
    case(
        "[delivery.retry]\nfirst_secs = 9223372036854775807\nmax_secs = 9223372036854775807\n",
        "delivery.retry.first_secs",
        "between 1 and 86400 (one day)",
        HUGE,
    ),
    case(
        "[delivery.retry]\nmax_secs = 9223372036854775807\n",
        "delivery.retry.max_secs",
        "between 1 and 604800 (a week)",
        HUGE,
    ),
    case(
        "[delivery.retry]\nattempts = 4294967295\n",
        "delivery.retry.attempts",
        "between 2 and 100",
        "4294967295",
    ),
    case(
        "[disclosure]\nthreshold = 9223372036854775807\n",
        "disclosure.threshold",
        "between 5 and 1000",
        HUGE,
    ),
    case(
        "[disclosure]\nthreshold = 3\n",
        "disclosure.threshold",
        "between 5 and 1000 (counts under 5 could single out a child)",
        "3",
    ),
    case(
        "[rag]\namber_tolerance = 150.0\n",
        "rag.amber_tolerance",
        "between 0 and 100",
        "150",
    ),
    case(
        "[kpis.\"1/5\"]\namber_tolerance = 101.0\n",
        "kpis.\"1/5\".amber_tolerance",
        "between 0 and 100",
        "101",
    ),
    // The waits' band is in weeks, checked against weeks' range (a KPI's own too).
    case(
        "[rag]\namber_tolerance = 5.0\namber_tolerance_weeks = 60.0\n",
        "rag.amber_tolerance_weeks",
        "between 0 and 52 (weeks: a year)",
        "60",
    ),
    case(
        "[kpis.\"5/1\"]\namber_tolerance = 53.0\n",
        "kpis.\"5/1\".amber_tolerance",
        "between 0 and 52 (weeks: a year)",
        "53",
    ),
    case(
        "[kpi_defaults]\noverdue_days = 4294967295\n",
        "kpi_defaults.overdue_days",
        "between 0 and 366 (a year)",
        "4294967295",
    ),
    case(
        "[kpis.\"4/1\"]\noverdue_days = 4294967295\n",
        "kpis.\"4/1\".overdue_days",
        "between 0 and 366 (a year)",
        "4294967295",
    ),
    case(
        "[action_log]\nupdate_days = 4294967295\n",
        "action_log.update_days",
        "between 1 and 366 (a year)",
        "4294967295",
    ),
    case(
        "[action_log]\nask_days_before = 4294967295\n",
        "action_log.ask_days_before",
        "between 0 and 366",
        "4294967295",
    ),
    case(
        "[daemon]\nstop_grace_secs = 9223372036854775807\n",
        "daemon.stop_grace_secs",
        "between 0 and 3600",
        HUGE,
    ),
    case(
        "[daemon]\nmax_runs = 0\n",
        "daemon.max_runs",
        "between 1 and 64",
        "0",
    ),
];

/// The values that aborted `run-now` (exit 134 in a release build) before they had a range.
const ONCE_ABORTED: [&str; 4] = [
    "jobs.monthly-exceptions.timeout_secs",
    "ledger.lease_secs",
    "notify.repeat_interval_hours",
    "sources.tracker.deadline_days",
];

fn sendwatch(cwd: &Path, config: &Path, command: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sendwatch"))
        .current_dir(cwd)
        .env_clear()
        .arg("--config")
        .arg(config)
        .arg(command)
        .output()
        .expect("run the binary")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn check_config_refuses_each_value_out_of_range_naming_key_and_range() {
    let dir = crate::harness::example_dir();
    for (i, c) in CASES.iter().enumerate() {
        let path = dir.path().join(format!("case{i}.toml"));
        std::fs::write(&path, crate::harness::over_example(c.toml)).expect("write");
        let out = sendwatch(dir.path(), &path, "check-config");
        let printed = text(&out);
        assert_eq!(out.status.code(), Some(78), "{}: {printed}", c.key);
        let said = format!("{}: must be {}", c.key, c.range);
        assert!(printed.contains(&said), "`{said}` not in: {printed}");
        assert!(
            printed.contains(c.got),
            "{}: `{}` not in: {printed}",
            c.key,
            c.got
        );
        assert!(!printed.contains("panicked"), "{printed}");

        if ONCE_ABORTED.contains(&c.key) && c.got != "0" {
            let out = sendwatch(dir.path(), &path, "run-now");
            let printed = text(&out);
            assert_eq!(out.status.code(), Some(78), "run-now, {}: {printed}", c.key);
            assert!(
                printed.contains(&said),
                "run-now: `{said}` not in: {printed}"
            );
            assert!(
                !dir.path().join("data/outbox").exists(),
                "run-now ran with {}: {printed}",
                c.key
            );
        }
    }
}

fn the_shipped_configuration_is_within_every_range() {
    // The README's layout: the example's extracts are there (check-config names a missing one).
    let dir = crate::harness::example_dir();
    let empty = dir.path().join("empty.toml");
    std::fs::write(&empty, crate::harness::over_example("")).expect("write");
    let out = sendwatch(dir.path(), &empty, "check-config");
    assert!(out.status.success(), "{}", text(&out));
}

/// This module's tests, for the harness: tests/it/main.rs says how to register one.
pub fn tests() -> Vec<crate::support::trials::Spec> {
    use crate::support::trials::trial;
    vec![
        trial!(check_config_refuses_each_value_out_of_range_naming_key_and_range),
        trial!(the_shipped_configuration_is_within_every_range),
    ]
}
