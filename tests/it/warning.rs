//! The early warning wired in (issue 21), over real SMTP on loopback and both backends: three
//! KPIs entered by hand month by month (`kpi import`), one improving towards its June target,
//! one flat far below it, one improving but with small counts. `kpi show` says the first is on
//! course (the pack too), the second off course and the third too little data (its small
//! counts are gaps); the flat one is an `at_risk` item mailed once to its owner, not again on
//! an unchanged run, and again when its band changes (a recovery plan puts its target where
//! it stands), when a route matching `state=at_risk` also hears of it. Then at risk, back on
//! course (told as such) and at risk again for one milestone: mailed again, once.

use std::path::Path;

use sendwatch::job::{App, RunOptions, RunReport};

use crate::digest::by_recipient;
use crate::harness::{Delivery, repo, write_config};
use crate::manual::run as cli;
use crate::support::{SmtpOptions, SmtpSink, backends};

/// Three manual monthly KPIs of one sub-group, each asking 80% from June 2021 (the flat one
/// from January 2020 too, so that a recovery plan may reset its schedule); routes: the
/// board hears of every `state=at_risk` item (and the rest goes on), the sub-group's early
/// warnings go to its owner, anything else of it (its values overdue by the wall clock) to a
/// clerk, then the example's routes.
const CONFIG: &str = r#"
[sub_groups.trial]
name = "Trial group"
owners = ["owner@example.org"]

[kpis."9/1"]
title = "Improving share"
action = "9.1"
owner = "trial"
frequency = "monthly"
unit = "percent"
baseline = { text = "none" }
milestones = [{ from = "2021-06", target = 80.0, label = "Jun-21: 80%" }]

[kpis."9/2"]
title = "Flat share"
action = "9.2"
owner = "trial"
frequency = "monthly"
unit = "percent"
baseline = { text = "none" }
milestones = [
  { from = "2020-01", target = 80.0, label = "Jan-20: 80%" },
  { from = "2021-06", target = 80.0, label = "Jun-21: 80%" },
]

[kpis."9/3"]
title = "Improving share with small counts"
action = "9.3"
owner = "trial"
frequency = "monthly"
unit = "percent"
baseline = { text = "none" }
milestones = [{ from = "2021-06", target = 80.0, label = "Jun-21: 80%" }]

[[notify.routes]]
match = ["state=at_risk"]
to = ["board@example.org"]
continue = true

[[notify.routes]]
match = ["kind=at_risk", "sub_group=trial"]
owners = true

[[notify.routes]]
match = ["sub_group=trial"]
to = ["clerk@example.org"]

[[notify.routes]]
match = ["kind=~risk_raised|risk_lowered"]
owners = true
sub_groups = ["governance"]

[[notify.routes]]
match = ["kpi=~.+"]
owners = true

[jobs.monthly-exceptions]
manual_kpis = true
"#;

/// The twelve months to February 2021, oldest first.
fn months() -> Vec<String> {
    let mut m: sendwatch::kpi::Month = "2020-03".parse().expect("month");
    (0..12)
        .map(|_| {
            let s = m.to_string();
            m = m.next();
            s
        })
        .collect()
}

/// Month i of 9/1: of 200, 100 + 6i give or take 2 (50% rising 3 points a month: the line
/// reaches about 95% by June 2021, four months after the last, well over 80%).
fn improving(i: i64) -> (i64, i64) {
    (100 + 6 * i + if i % 2 == 0 { 2 } else { -2 }, 200)
}

/// Month i of 9/2: of 200, 100 give or take 2 (50% flat, 30 points under 80%).
fn flat(i: i64) -> (i64, i64) {
    (100 + if i % 2 == 0 { 2 } else { -2 }, 200)
}

/// 9/3: as 9/1, but months 2, 5 and 8 are 3 of 40 (a count under 5: not shown).
const SMALL: [i64; 3] = [2, 5, 8];

fn extract(dir: &Path) -> std::path::PathBuf {
    let mut csv = "kpi,period,value,numerator,denominator,note,by\n".to_string();
    for (i, m) in months().iter().enumerate() {
        let i = i as i64;
        let small = if SMALL.contains(&i) {
            (3, 40)
        } else {
            improving(i)
        };
        for (id, (n, d)) in [("9/1", improving(i)), ("9/2", flat(i)), ("9/3", small)] {
            let v = 100.0 * n as f64 / d as f64;
            csv.push_str(&format!("{id},{m},{v},{n},{d},,\n"));
        }
    }
    let file = dir.join("values.csv");
    std::fs::write(&file, csv).expect("write values");
    file
}

async fn run(app: &App) -> RunReport {
    let opts = RunOptions {
        period: Some("2021-02".parse().expect("period")),
        ..RunOptions::manual()
    };
    app.run_job("monthly-exceptions", opts).await.expect("run")
}

/// The chance `line` states after "(chance ", as a number.
fn chance(line: &str) -> u32 {
    line.split("(chance ")
        .nth(1)
        .and_then(|s| s.split('%').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no chance in {line:?}"))
}

fn line_with<'a>(text: &'a str, what: &str) -> &'a str {
    text.lines()
        .find(|l| l.contains(what))
        .unwrap_or_else(|| panic!("no {what:?} in:\n{text}"))
}

async fn an_at_risk_kpi_reaches_its_owner_once_and_again_when_its_band_changes() {
    let sink = SmtpSink::start(SmtpOptions::default());
    let tracker = repo("examples/tracker.csv").display().to_string();
    for backend in backends().await {
        let name = backend.name;
        let dir = tempfile::tempdir().expect("tempdir");
        let smtp = Delivery::Smtp {
            port: sink.port(),
            auth: None,
        };
        let cfg = write_config(dir.path(), &backend.url, &tracker, smtp, CONFIG);
        let file = extract(dir.path());
        let (ok, _, err) = cli(dir.path(), &cfg, &format!("kpi import {}", file.display()));
        assert!(ok, "{name}: {err}");

        let app = crate::harness::app(&cfg).await;
        let before = sink.messages().len();
        let first = run(&app).await;
        sink.wait_for(before + first.queued).await;
        let got = by_recipient(&sink, before);
        // The flat KPI is off course: one mail to its owner, none to the board (its state is
        // off_course, not at_risk).
        assert!(
            !got.contains_key("board@example.org"),
            "{name}: {:?}",
            got.keys()
        );
        let body = &got["owner@example.org"].body;
        assert!(body.contains("KPI 9/2: Flat share"), "{name}: {body}");
        let off = line_with(body, "Early warning: off course for Jun-21");
        assert!(chance(off) < 20, "{name}: {off}");
        assert!(
            line_with(body, "SPC: ").contains("consistently fails the target"),
            "{name}: 50% give or take 1 against 80%: {body}"
        );
        assert!(
            !body.contains("9/1") && !body.contains("9/3"),
            "{name}: on course, too little data: not told: {body}"
        );
        let html = got["owner@example.org"].html.as_deref().unwrap_or_default();
        assert!(
            html.contains("Early warning: off course for Jun-21"),
            "{name}: {html}"
        );
        // The clerk hears of the values overdue, each block saying its KPI's warning (each
        // KPI read once: issue 22).
        let clerk = &got["clerk@example.org"].body;
        let folded = clerk
            .split("\n\n")
            .find(|b| b.starts_with("KPI 9/1: Improving share\n  Overdue:"))
            .unwrap_or_else(|| panic!("{name}: no 9/1 overdue in {clerk}"));
        let on = line_with(folded, "Early warning:    on course for Jun-21");
        assert!(chance(on) >= 80, "{name}: {on}");

        // `kpi show` says each one's state.
        let show = |id: &str| {
            let (ok, out, err) = cli(dir.path(), &cfg, &format!("kpi show {id}"));
            assert!(ok, "{name}: {err}");
            out
        };
        let on = show("9/1");
        let on = line_with(&on, "Early warning:");
        assert!(on.contains("on course for Jun-21"), "{name}: {on}");
        assert!(chance(on) >= 80, "{name}: {on}");
        let short = show("9/3");
        assert!(
            short.contains(&format!(
                "Early warning: too little data for Jun-21 ({} values shown, 12 needed)",
                12 - SMALL.len()
            )),
            "{name}: {short}"
        );
        // Nor is a hidden value or a limit built on it in the table.
        assert!(!short.contains("7.5%"), "{name}: {short}");
        // The pack (and the live view, from the same rows) says the same.
        let out = dir.path().join("pack");
        let (ok, stdout, err) = crate::harness::binary(
            dir.path(),
            &cfg,
            &[],
            &["report", "--out", &out.display().to_string()],
        );
        assert!(ok, "{name}: {stdout}{err}");
        let html = std::fs::read_dir(&out)
            .expect("the pack folder")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "html"))
            .map(|p| std::fs::read_to_string(p).expect("the pack"))
            .expect("an HTML pack");
        // The row of 9/1, by its title (the id is written HTML-escaped).
        let row = html
            .split("<tr class=\"kpi\"")
            .filter_map(|r| r.split("</tr>").next())
            .find(|r| r.contains("<td>Improving share<br>"))
            .unwrap_or_default();
        assert!(
            row.contains("Early warning: on course for Jun-21 (chance "),
            "{name}: {row}"
        );

        // The same again: nothing new for anyone.
        let again = run(&app).await;
        assert_eq!((again.queued, again.delivery.sent), (0, 0), "{name}");
        app.store.close().await;

        // A recovery plan asks 50% in June: where the flat KPI stands, so as likely met as
        // not: at risk. Its band changed, so its owner hears again, and the board's
        // `state=at_risk` route too.
        let (ok, _, err) = cli(
            dir.path(),
            &cfg,
            r#"kpi retarget 9/2 --effective 2021-01 --reason "recovery plan" --milestone "2021-06=50:Jun-21: 50%""#,
        );
        assert!(ok, "{name}: {err}");
        let app = crate::harness::app(&cfg).await;
        let before = sink.messages().len();
        let third = run(&app).await;
        // The clerk hears that 9/2 is out of exception: the reset schedule has no target in
        // force in February.
        assert_eq!(third.queued, 3, "{name}");
        sink.wait_for(before + 3).await;
        let got = by_recipient(&sink, before);
        let to: Vec<&str> = got.keys().map(String::as_str).collect();
        assert_eq!(
            to,
            [
                "board@example.org",
                "clerk@example.org",
                "owner@example.org"
            ],
            "{name}"
        );
        // The clerk is not routed the early warnings: no item of its own, none counted in
        // the subject.
        let clerk = &got["clerk@example.org"];
        assert!(
            !clerk.body.contains("may miss their next milestone")
                && !clerk.headers.contains("at risk of missing"),
            "{name}: {}{}",
            clerk.headers,
            clerk.body
        );
        // 9/2's value overdue went to the clerk in the first run, its chase at the same stage
        // now: the digest sent for the resolved notice does not carry it again (a chase item
        // rides in the runs that tell it only), nor its warning.
        assert!(
            clerk.body.contains("Back on track since the last report:")
                && clerk.body.contains("KPI 9/2: Flat share\n  Now:"),
            "{name}: {}",
            clerk.body
        );
        assert!(
            !clerk.body.contains("Overdue:") && !clerk.body.contains("at risk for Jun-21"),
            "{name}: {}",
            clerk.body
        );
        for m in [&got["board@example.org"], &got["owner@example.org"]] {
            let at = line_with(&m.body, "Early warning: at risk for Jun-21");
            let c = chance(at);
            assert!((20..80).contains(&c), "{name}: {at}");
        }
        app.store.close().await;
    }
}

/// The flat KPI alone, asking `target` in June 2021 (none in force in February, so it is no
/// exception of its own), with [`CONFIG`]'s routes: 50% is where it stands (at risk), 30%
/// well under it (on course).
fn flat_only(target: f64) -> String {
    let routes = &CONFIG[CONFIG.find("[[notify.routes]]").expect("routes")..];
    format!(
        r#"
[sub_groups.trial]
name = "Trial group"
owners = ["owner@example.org"]

[kpis."9/2"]
title = "Flat share"
action = "9.2"
owner = "trial"
frequency = "monthly"
unit = "percent"
baseline = {{ text = "none" }}
milestones = [{{ from = "2021-06", target = {target:.1}, label = "Jun-21" }}]
{routes}"#
    )
}

/// At risk, then on course, then at risk again for the same milestone (its target moved by
/// the configuration between runs): the second warning is news again, once. The recovery
/// between is told as "back on course" to those who heard the warning (the owner and the
/// board), which is what lets the second warning through ([`sendwatch::news::decide`]).
async fn an_at_risk_kpi_back_on_course_and_at_risk_again_is_mailed_again_once() {
    let sink = SmtpSink::start(SmtpOptions::default());
    let tracker = repo("examples/tracker.csv").display().to_string();
    for backend in backends().await {
        let name = backend.name;
        let dir = tempfile::tempdir().expect("tempdir");
        let config = |target: f64| {
            let smtp = Delivery::Smtp {
                port: sink.port(),
                auth: None,
            };
            write_config(dir.path(), &backend.url, &tracker, smtp, &flat_only(target))
        };
        let cfg = config(50.0);
        let mut csv = "kpi,period,value,numerator,denominator,note,by\n".to_string();
        for (i, m) in months().iter().enumerate() {
            let (n, d) = flat(i as i64);
            let v = 100.0 * n as f64 / d as f64;
            csv.push_str(&format!("9/2,{m},{v},{n},{d},,\n"));
        }
        let file = dir.path().join("values.csv");
        std::fs::write(&file, csv).expect("write values");
        let (ok, _, err) = cli(dir.path(), &cfg, &format!("kpi import {}", file.display()));
        assert!(ok, "{name}: {err}");

        // Runs the job with the June target at `target`: what the owner and the board got
        // (their bodies, by address), and how many messages the run queued.
        let step = |target: f64| {
            let cfg = config(target);
            let sink = &sink;
            async move {
                let app = crate::harness::app(&cfg).await;
                let before = sink.messages().len();
                let report = run(&app).await;
                sink.wait_for(before + report.queued).await;
                app.store.close().await;
                let got: Vec<(String, String)> = by_recipient(sink, before)
                    .into_iter()
                    .filter(|(to, _)| to == "owner@example.org" || to == "board@example.org")
                    .map(|(to, m)| (to, m.body))
                    .collect();
                (got, report.queued)
            }
        };
        let heard = |got: &[(String, String)]| -> Vec<String> {
            got.iter().map(|(to, _)| to.clone()).collect()
        };
        let both = ["board@example.org", "owner@example.org"];

        let (first, _) = step(50.0).await;
        assert_eq!(heard(&first), both, "{name}");
        for (_, body) in &first {
            line_with(body, "Early warning: at risk for Jun-21");
        }
        let (same, queued) = step(50.0).await;
        assert_eq!((heard(&same).len(), queued), (0, 0), "{name}: told once");

        // On course: those who heard the warning hear it is back on course, once.
        let (back, _) = step(30.0).await;
        assert_eq!(heard(&back), both, "{name}");
        for (_, body) in &back {
            line_with(body, "Back on course since the early warning:");
            let on = line_with(body, "Early warning: on course for Jun-21");
            assert!(chance(on) >= 80, "{name}: {on}");
            assert!(!body.contains("at risk for Jun-21"), "{name}: {body}");
        }
        let (same, queued) = step(30.0).await;
        assert_eq!(
            (heard(&same).len(), queued),
            (0, 0),
            "{name}: recovery told once"
        );

        // At risk again for the same milestone: news again, once.
        let (again, _) = step(50.0).await;
        assert_eq!(heard(&again), both, "{name}");
        for (_, body) in &again {
            line_with(body, "Early warning: at risk for Jun-21");
            assert!(
                !body.contains("Back on course"),
                "{name}: the recovery is not told twice: {body}"
            );
        }
        for _ in 0..2 {
            let (same, queued) = step(50.0).await;
            assert_eq!((heard(&same).len(), queued), (0, 0), "{name}: nothing more");
        }
    }
}

pub fn tests() -> Vec<crate::support::trials::Spec> {
    use crate::support::trials::trial;
    vec![
        trial!(an_at_risk_kpi_reaches_its_owner_once_and_again_when_its_band_changes)
            .each_backend()
            .smtp(),
        trial!(an_at_risk_kpi_back_on_course_and_at_risk_again_is_mailed_again_once)
            .each_backend()
            .smtp(),
    ]
}
