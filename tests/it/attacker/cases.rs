//! The reader against the outputs of the rules before issue 17 (as measured on `ae24605`,
//! quoted in the issue): it must work out each of the five leaks from them, and nothing from
//! the same figures as they are written now. One trial per relation.

use super::infer::{Knowledge, Part};
use super::plan_knowledge;
use super::reader::Reader;
use crate::support::trials::{Spec, trial};

fn reader() -> Reader {
    let (k, percent) = plan_knowledge(&sendwatch::kpi::catalogue::builtin().expect("plan"));
    Reader::new(k, percent)
}

fn leaks(mut r: Reader) -> Vec<String> {
    r.k.attack().iter().cloned().collect()
}

/// A digest's KPI block, as the text part writes it.
fn block(kpi: &str, period: &str, fields: &[(&str, &str)]) -> String {
    let mut s = format!("KPI {kpi}: a title\n  Period:           {period} (basis)\n");
    for (label, value) in fields {
        s.push_str(&format!("  {label:<18}{value}\n"));
    }
    s
}

async fn a_running_totals_months_are_worked_out_from_its_values_over_one_denominator() {
    // Defect 1: the digest's "20.6% (7 of 34)" after "14.7%": 5 -> 7, two reviews in August.
    let mut r = reader();
    r.digest(&block(
        "1/3",
        "August 2020",
        &[
            (
                "Value:",
                "20.6% (7 of 34 reviews due in the year completed by its deadline)",
            ),
            ("Previous value:", "14.7% (July 2020)"),
        ],
    ));
    let found = leaks(r);
    assert!(found.iter().any(|l| l.contains("moved by 2")), "{found:?}");
    // The live view's 15.2, 19.6, 26.1, 34.8% of 46: months adding 2, 3 and 4.
    let mut r = reader();
    r.digest(&block(
        "1/3",
        "September 2020",
        &[("Value:", "15.2% (7 of 46 reviews)")],
    ));
    for (label, v) in [
        ("October 2020", "19.6%"),
        ("November 2020", "26.1%"),
        ("December 2020", "34.8%"),
    ] {
        r.actual("1/3", label, v, "RED", "");
    }
    let found = leaks(r);
    for n in [2, 3, 4] {
        assert!(
            found
                .iter()
                .any(|l| l.ends_with(&format!("moved by {n} (worked out)"))),
            "{n}: {found:?}"
        );
    }
    // As written now: October hidden; November 12 of 46 is 5 more than September's 7.
    let mut r = reader();
    r.digest(&block(
        "1/3",
        "September 2020",
        &[("Value:", "15.2% (7 of 46 reviews)")],
    ));
    r.actual(
        "1/3",
        "October 2020",
        "not shown: beside figures already shown it would give a small count back",
        "not rated: too few cases",
        "",
    );
    r.actual("1/3", "November 2020", "26.1%", "RED", "");
    assert_eq!(leaks(r), Vec::<String>::new());
}

async fn a_hidden_month_is_worked_out_from_the_year_to_date() {
    // Defect 2: 1/5's April 17 of 23, May 23 of 32, June hidden with year to date 76.6%.
    let april_may = || {
        let mut r = reader();
        r.digest(&block(
            "1/5",
            "April 2021",
            &[("Value:", "73.9% (17 of 23 within 6 weeks)")],
        ));
        r.digest(&block(
            "1/5",
            "May 2021",
            &[("Value:", "71.9% (23 of 32 within 6 weeks)")],
        ));
        r
    };
    let mut r = april_may();
    r.digest(&block(
        "1/5",
        "June 2021",
        &[
            (
                "Value:",
                "not shown: <5 in a count (all but <5 of 22 within 6 weeks)",
            ),
            ("Year to date:", "76.6%"),
        ],
    ));
    let found = leaks(r);
    assert!(
        found
            .iter()
            .any(|l| l.contains("2021-06 Current: its rest is 3")),
        "{found:?}"
    );
    // As written now: June in no digest (a list would rate it), hidden on its page, and its
    // year to date with it.
    let mut r = april_may();
    r.actual(
        "1/5",
        "June 2021",
        "not shown: <5 in a count",
        "not rated: too few cases",
        "not rated: too few cases",
    );
    assert_eq!(leaks(r), Vec::<String>::new());
}

async fn a_rating_of_a_hidden_value_is_a_leak() {
    // Defect 3: 5/1 in March 2021, an average over one referral, RED.
    let mut r = reader();
    r.digest(&block(
        "5/1",
        "March 2021",
        &[
            (
                "Value:",
                "not shown: an average over <5 referrals seen in March 2021",
            ),
            ("RAG:", "RED"),
            ("Direction:", "Performance is worse than baseline & target."),
        ],
    ));
    let found = leaks(r);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("KPI 5/1 2021-03: its value is hidden but it is rated"),
        "{found:?}"
    );
    // Listed among a digest's exceptions, it is rated by the list, whatever its RAG says.
    let mut r = reader();
    r.digest(&block(
        "5/1",
        "March 2021",
        &[
            (
                "Value:",
                "not shown: an average over <5 referrals seen in March 2021",
            ),
            ("RAG:", "not rated: too few cases"),
            ("Direction:", "not rated: too few cases"),
        ],
    ));
    let found = leaks(r);
    assert!(found.iter().any(|l| l.contains("listed in")), "{found:?}");
    // As written now: in no digest; on its page, not rated.
    let mut r = reader();
    r.actual(
        "5/1",
        "March 2021",
        "not shown: an average over <5 referrals",
        "not rated: too few cases",
        "not rated: too few cases",
    );
    assert_eq!(leaks(r), Vec::<String>::new());
}

async fn a_share_beside_its_hidden_counts_gives_them_back() {
    // Defect 4: `kpi values` wrote "33.3% (<5 of <5)" for 1 of 3.
    let values = |entry: &str| {
        let mut r = reader();
        r.values(&format!("KPI 1/4  Oct-Dec 2019 (2019-Q4)\n  entry 1: {entry} by ann at 2021-08-02 07:00 UTC via cli, in force\n"));
        leaks(r)
    };
    let found = values("33.3% (<5 of <5)");
    assert!(
        found.iter().any(|l| l.contains("its numerator is 1")),
        "{found:?}"
    );
    assert_eq!(values("not shown: <5 in a count"), Vec::<String>::new());
    // JSON's 84.84848484848484 (28 of 33) is one decimal now: 84.8 over an unknown
    // denominator pins nothing.
    let mut r = reader();
    r.k.figure("1/5", (2021, 7), Part::Current).percent(84.8);
    assert_eq!(leaks(r), Vec::<String>::new());
}

async fn the_reader_reads_each_output_format() {
    // The pack's KPI row and a live page's history row, as the templates write them.
    let mut r = reader();
    r.html(r#"<tr class="kpi" data-kpi="1/2a"><td>x</td><td class="num">53.1%<br><span class="dot">July 2021</span></td>
<td class="rag red">RED</td>
<td>Performance has deteriorated</td></tr>"#);
    r.html(r#"<h1>KPI 5/1: waits</h1><tr class="period"><td>March 2021</td><td class="num">not shown: an average over &lt;5 referrals</td><td class="rag ">RED</td><td></td><td class="num">3</td></tr>"#);
    let k: &Knowledge = &r.k;
    assert!(k.figures[&("1/2a".to_string(), (2021, 7), Part::Current)].rated);
    let hidden = &k.figures[&("5/1".to_string(), (2021, 3), Part::Current)];
    assert!(hidden.hidden && hidden.rated);
    r.html("<footer>Counts are rounded to the nearest 5 and percentages</footer>");
    assert!(r.rounded);
    assert_eq!(super::reader::month_of("Apr-Jun 2021"), Some((2021, 6)));
    assert_eq!(
        super::reader::month_of("academic year 2020/21"),
        Some((2021, 8))
    );
}

pub fn tests() -> Vec<Spec> {
    vec![
        trial!(a_running_totals_months_are_worked_out_from_its_values_over_one_denominator),
        trial!(a_hidden_month_is_worked_out_from_the_year_to_date),
        trial!(a_rating_of_a_hidden_value_is_a_leak),
        trial!(a_share_beside_its_hidden_counts_gives_them_back),
        trial!(the_reader_reads_each_output_format),
    ]
}
