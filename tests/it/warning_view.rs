//! The early warning on the live view's KPI page (issue 21), on SQLite and PostgreSQL: three
//! KPIs entered by hand month by month (`kpi import`) and rated by a run, then served by the
//! daemon's serving machinery in this process on loopback. `/kpi/ID` says each one's state
//! in the board's words ("on course for Jun-21 (chance N%)", "at risk", "too little data"),
//! and its chart draws the SPC mean and limits and, only where the warning projected, the
//! projection's band (a KPI whose small counts leave too little data has none). In Chromium
//! the page renders the band, fetches nothing else, and a screenshot is saved.

use std::sync::Arc;

use sendwatch::job::{App, RunOptions};
use sendwatch::serve::{AreaView, Health, ServeState, serve};

use crate::board::get;
use crate::harness::{Delivery, repo, write_config};
use crate::manual::run as cli;
use crate::support::trials::{Spec, trial};
use crate::support::{artefact, backends, dom_and_requests, screenshot_url};

const TOKEN: &str = "warning-view-token-0123456789abcdef";

/// Three manual monthly KPIs of one sub-group, each asking 80% from June 2021.
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
title = "Share flat at its target"
action = "9.2"
owner = "trial"
frequency = "monthly"
unit = "percent"
baseline = { text = "none" }
milestones = [{ from = "2021-06", target = 80.0, label = "Jun-21: 80%" }]

[kpis."9/3"]
title = "Improving share with small counts"
action = "9.3"
owner = "trial"
frequency = "monthly"
unit = "percent"
baseline = { text = "none" }
milestones = [{ from = "2021-06", target = 80.0, label = "Jun-21: 80%" }]

[[notify.routes]]
match = ["sub_group=trial"]
to = ["clerk@example.org"]

[jobs.monthly-exceptions]
manual_kpis = true
"#;

/// 9/3's months 2, 5 and 8 are 3 of 40 (a count under 5: not shown).
const SMALL: [i64; 3] = [2, 5, 8];

/// Twelve months to February 2021 of the three KPIs: 9/1 rising from 50% by 3 points a
/// month, 9/2 at 80% give or take 1, 9/3 as 9/1 but with its small counts.
fn extract(dir: &std::path::Path) -> std::path::PathBuf {
    let mut csv = "kpi,period,value,numerator,denominator,note,by\n".to_string();
    let mut m: sendwatch::kpi::Month = "2020-03".parse().expect("month");
    for i in 0..12i64 {
        let wobble = if i % 2 == 0 { 2 } else { -2 };
        let improving = (100 + 6 * i + wobble, 200);
        let small = if SMALL.contains(&i) {
            (3, 40)
        } else {
            improving
        };
        for (id, (n, d)) in [
            ("9/1", improving),
            ("9/2", (160 + wobble, 200)),
            ("9/3", small),
        ] {
            let v = 100.0 * n as f64 / d as f64;
            csv.push_str(&format!("{id},{m},{v},{n},{d},,\n"));
        }
        m = m.next();
    }
    let file = dir.join("values.csv");
    std::fs::write(&file, csv).expect("write values");
    file
}

/// The page's early-warning paragraph, and its band.
fn warning_of(page: &str) -> (String, String) {
    let p = page
        .split("<p id=\"early-warning\" data-band=\"")
        .nth(1)
        .and_then(|s| s.split("</p>").next())
        .unwrap_or_else(|| panic!("no early warning on the page: {page}"));
    let (band, text) = p.split_once("\">").expect("the band's attribute");
    (band.to_string(), text.to_string())
}

fn chance(text: &str) -> u32 {
    text.split("(chance ")
        .nth(1)
        .and_then(|s| s.split('%').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no chance in {text:?}"))
}

async fn the_live_views_kpi_page_says_the_early_warning_and_charts_its_layers() {
    let tracker = repo("examples/tracker.csv").display().to_string();
    for backend in backends().await {
        let name = backend.name;
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("out");
        std::fs::create_dir_all(&out).expect("out");
        let extra = format!("{CONFIG}\n[http]\nlisten = \"127.0.0.1:1\"\ntoken = \"{TOKEN}\"\n");
        let cfg = write_config(
            dir.path(),
            &backend.url,
            &tracker,
            Delivery::Folder(&out),
            &extra,
        );
        let file = extract(dir.path());
        let (ok, _, err) = cli(dir.path(), &cfg, &format!("kpi import {}", file.display()));
        assert!(ok, "{name}: {err}");
        let app: App = crate::harness::app(&cfg).await;
        let opts = RunOptions {
            period: Some("2021-02".parse().expect("period")),
            ..RunOptions::manual()
        };
        app.run_job("monthly-exceptions", opts).await.expect("run");

        // The daemon's serving machinery, in this process, on loopback.
        let views = vec![AreaView {
            store: app.store.clone(),
            settings: app.settings.clone(),
        }];
        let (_tx, areas) = tokio::sync::watch::channel(Arc::new(views));
        let state = ServeState {
            areas,
            health: Arc::new(Health::default()),
            metrics: None,
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let url = format!("http://{addr}");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve(listener, state, async {
            let _ = stopped.await;
        }));
        let page = |id: &'static str| {
            let url = url.clone();
            async move {
                let (code, body) = get(&format!("{url}/kpi/{id}"), Some(TOKEN)).await;
                assert_eq!(code, 200, "{name}: {id}: {body}");
                body
            }
        };

        // Improving well past 80% by June: on course, and the chart draws the limits and the
        // projection's band to the milestone.
        let on = page("9/1").await;
        let (band, text) = warning_of(&on);
        assert_eq!(band, "on_course", "{name}: {text}");
        assert!(
            text.starts_with("Early warning: on course for Jun-21 (chance "),
            "{name}: {text}"
        );
        assert!(chance(&text) >= 80, "{name}: {text}");
        for layer in [
            "class=\"band\"",
            "class=\"projection\"",
            "class=\"mean\"",
            "class=\"limit upper\"",
        ] {
            assert!(on.contains(layer), "{name}: 9/1 {layer}: {on}");
        }
        assert!(
            on.contains(">June 2021</text>"),
            "{name}: the milestone ends the axis"
        );

        // Flat at the target: as likely met as not.
        let (band, text) = warning_of(&page("9/2").await);
        assert_eq!(band, "at_risk", "{name}: {text}");
        assert!(
            text.starts_with("Early warning: at risk for Jun-21 (chance "),
            "{name}: {text}"
        );
        assert!((20..80).contains(&chance(&text)), "{name}: {text}");

        // Three small counts are gaps: too little data, so no projection is drawn; the limits
        // are built on the nine shown values only, and no hidden figure is on the page.
        let short = page("9/3").await;
        let (band, text) = warning_of(&short);
        assert_eq!(band, "too_little_data", "{name}: {text}");
        assert!(
            text.starts_with(&format!(
                "Early warning: too little data for Jun-21 ({} values shown, 12 needed)",
                12 - SMALL.len()
            )),
            "{name}: {text}"
        );
        assert!(short.contains("class=\"mean\""), "{name}: {short}");
        assert!(
            !short.contains("class=\"band\"") && !short.contains("class=\"projection\""),
            "{name}: a projection drawn on too little data: {short}"
        );
        assert!(!short.contains("7.5%"), "{name}: a hidden figure: {short}");

        // In a browser: the band renders, nothing else is fetched; a screenshot to look at.
        let authed = format!("http://board:{TOKEN}@{addr}");
        // Chromium blocks this worker; the other serves it.
        let (dom, requests) =
            tokio::task::block_in_place(|| dom_and_requests(&format!("{authed}/kpi/9/1")));
        assert!(
            dom.contains("class=\"band\""),
            "{name}: the rendered chart: {dom}"
        );
        assert!(
            requests.iter().all(|u| u.starts_with(&url)),
            "{name}: the page asked elsewhere: {requests:?}"
        );
        tokio::task::block_in_place(|| {
            screenshot_url(
                &format!("{authed}/kpi/9/1"),
                &artefact(&format!("warning-kpi-{name}.png")),
                1000,
                1400,
            )
        });

        let _ = stop.send(());
        server.await.expect("join").expect("served");
        app.store.close().await;
    }
}

pub fn tests() -> Vec<Spec> {
    vec![
        trial!(the_live_views_kpi_page_says_the_early_warning_and_charts_its_layers)
            .each_backend()
            .chromium()
            .multi_thread(2),
    ]
}
