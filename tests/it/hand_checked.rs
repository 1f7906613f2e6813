//! KPI 1/2a and 1/5 on a 20-case fixture whose answers were worked out by hand.
//!
//! `tests/fixtures/hand_checked/tracker.csv`, latest date 2020-07-10, so the report period is
//! June 2020. Day counts below are final − request (1/2a) and returned − requested (1/5).
//!
//! KPI 1/2a, plans finalised in the month, requests from 2020-01-01:
//!   June 2020: H01 140 (on time: the limit itself), H02 141 (late by one day), H03 120,
//!              H04 130, H05 170, H07 150 -> 3 of 6 = 50.0%.  H06 (requested 2019-12-20)
//!              is outside the cohort.
//!   May 2020:  H08 135, H09 141, H11 128 -> 2 of 3 = 66.7%.  H10 (2019-12-01) is outside.
//!   Open and past 140 days on 2020-07-10: H17 only (167 days). H14, H15 (awaiting a
//!   decision), H16 (refused), H19 (withdrawn), H18 (131 days), H20 are not.
//!   Milestone in force for June 2020: Apr-20, 15% -> GREEN.
//! KPI 1/5, advice counted in the month returned:
//!   June 2020: H01 42 (on time: the limit), H02 43, H03 45, H04 35, H18 61 -> 2 of 5 = 40.0%.
//!   May 2020:  H05 56, H07 34, H11 42 -> 2 of 3 = 66.7%.
//!   Outstanding past 42 days: H17 (requested 2020-03-01, 131 days); H20 (18 days) is not.
//!   Milestone in force: Apr-20, 85% -> RED.
//! Counted by request month instead (basis "started"), January 2020 for 1/2a: H01, H08,
//!   H11, H12 on time; H02, H05, H07, H09 late; H17 still open at 167 days, known late
//!   -> 4 of 9.

use chrono::NaiveDate;

use sendwatch::job::RunOptions;
use sendwatch::kpi::{Basis, Count, Measure, Month, Rag, monthly_counts};

use crate::harness::{app, folder_config, folder_mail, outbox, repo, tracker_cases};
use crate::support::backends;

fn c(numerator: u64, denominator: u64) -> Option<Count> {
    Some(Count {
        numerator,
        denominator,
    })
}

#[tokio::test]
async fn kpi_values_equal_the_hand_checked_computation_on_both_backends() {
    let extract = repo("tests/fixtures/hand_checked/tracker.csv");
    for backend in backends().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let outbox = outbox(dir.path());
        let cfg = folder_config(dir.path(), &backend.url, &extract.display().to_string());
        let app = app(&cfg).await;
        let report = app
            .run_job("monthly-exceptions", RunOptions::manual())
            .await
            .expect("run");

        let june: Month = "2020-06".parse().expect("month");
        let e = |id: &str| {
            report
                .evaluations
                .iter()
                .find(|e| e.kpi_id == id)
                .expect("evaluated")
                .clone()
        };
        let k12a = e("1/2a");
        assert_eq!(k12a.period, june.into(), "{}", backend.name);
        assert_eq!(k12a.count(), c(3, 6), "{}", backend.name);
        assert_eq!(k12a.value(), Some(50.0));
        assert_eq!(k12a.previous_count(), c(2, 3));
        assert_eq!(k12a.overdue_open, 1);
        assert_eq!(k12a.milestone.as_ref().map(|m| m.target), Some(15.0));
        assert_eq!(k12a.rag, Rag::Green);

        let k15 = e("1/5");
        assert_eq!(k15.period, june.into());
        assert_eq!(k15.count(), c(2, 5), "{}", backend.name);
        assert_eq!(k15.value(), Some(40.0));
        assert_eq!(k15.previous_count(), c(2, 3));
        assert_eq!(k15.overdue_open, 1);
        assert_eq!(k15.milestone.as_ref().map(|m| m.target), Some(85.0));
        assert_eq!(k15.rag, Rag::Red);

        // Only the slipped KPI is reported, to its owner, with small counts suppressed.
        let mails = folder_mail(&outbox);
        assert_eq!(mails.len(), 1, "{}", backend.name);
        let m = &mails[0];
        assert_eq!(
            m.header("To").as_deref(),
            Some("health-performance@example.org, dco@example.org")
        );
        assert!(
            m.body.contains(
                "Value:            40.0% (<5 of 5 health advice requests within 6 weeks)"
            ),
            "{}",
            m.body
        );
        assert!(
            m.body.contains("Previous value:   66.7% (May 2020)"),
            "{}",
            m.body
        );
        assert!(
            m.body
                .contains("Still open and past the limit on 2020-07-10: <5"),
            "{}",
            m.body
        );
        assert!(!m.body.contains("KPI 1/2a"));
        assert!(
            !m.body.contains("H17") && !m.body.contains("2020-03-01"),
            "no case ids or case dates"
        );
        app.store.close().await;
    }
}

#[test]
fn counting_by_request_month_adds_open_cases_already_late() {
    let bytes = std::fs::read(repo("tests/fixtures/hand_checked/tracker.csv")).expect("fixture");
    let (cases, as_of) = tracker_cases(&bytes);
    assert_eq!(cases.len(), 20);
    assert_eq!(as_of, NaiveDate::from_ymd_opt(2020, 7, 10).expect("date"));
    let from = NaiveDate::from_ymd_opt(2020, 1, 1);
    let counts = monthly_counts(
        Measure::EhcpWithin20Weeks,
        Basis::Started,
        from,
        &cases,
        as_of,
    );
    let jan: Month = "2020-01".parse().expect("month");
    assert_eq!(
        counts.by_month.get(&jan),
        Some(&Count {
            numerator: 4,
            denominator: 9
        })
    );
    let done = monthly_counts(
        Measure::EhcpWithin20Weeks,
        Basis::Completed,
        from,
        &cases,
        as_of,
    );
    assert_eq!(
        done.by_month.get(&"2020-06".parse().expect("month")),
        Some(&Count {
            numerator: 3,
            denominator: 6
        })
    );
}
