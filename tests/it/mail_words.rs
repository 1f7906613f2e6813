//! Issue 22's "mail a board member reads" (acceptance 3): the digests of the README's first
//! command (`run-now` on the example configuration, mail written to a folder), text and HTML,
//! read as a sub-group owner or a board member reads them: no backtick, no `sendwatch`
//! command, one period in a heading, each KPI once and counted once in the subject, a footer
//! that gives only the reasons the digest carries.

use std::collections::BTreeMap;
use std::process::Command;

use crate::harness::{Mail, example_dir, folder_mail};
use crate::support::trials::{Spec, trial};

/// The numbers the subject gives before a word ("4 KPIs slipped", "1 value overdue").
fn said(subject: &str, word: &str) -> usize {
    let words: Vec<&str> = subject.split_whitespace().collect();
    words
        .windows(2)
        .filter(|w| w[1].trim_end_matches([',', ')', ':']) == word)
        .filter_map(|w| w[0].parse::<usize>().ok())
        .sum()
}

/// Each heading of the text part that starts with `prefix` ("KPI ", "Risk ", "Action "), by
/// its id, with how often it is there.
fn headings(body: &str, prefix: &str) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for l in body.lines().filter(|l| l.starts_with(prefix)) {
        // "Risk log: 3 changes ..." introduces the risks; it is not one.
        if let Some((id, _)) = l[prefix.len()..].split_once(": ")
            && id != "log"
        {
            *out.entry(id.to_string()).or_default() += 1;
        }
    }
    out
}

/// The text between `from` and `to` in `s` (the HTML's header block).
fn between<'a>(s: &'a str, from: &str, to: &str) -> &'a str {
    let start = s.find(from).map_or(0, |i| i + from.len());
    let end = s[start..].find(to).map_or(s.len(), |i| start + i);
    &s[start..end]
}

/// A heading names at most one period: "period July 2021", never "period July 2021,
/// Jul-Sep 2026".
fn one_period(line: &str, what: &str) {
    if let Some((_, rest)) = line.split_once("period ") {
        assert!(!rest.contains(", "), "{what}: several periods in {line:?}");
    }
}

fn checks(m: &Mail) {
    let to = m.header("To").unwrap_or_default();
    let subject = m.header("Subject").unwrap_or_default();
    let html = m
        .html
        .clone()
        .unwrap_or_else(|| panic!("{to}: no HTML part"));
    for (part, text) in [("text", &m.body), ("HTML", &html), ("subject", &subject)] {
        assert!(!text.contains('`'), "{to} {part}: a backtick in {text}");
        // "sendwatch" is named only as the sender ("Sent by sendwatch (job ...)", the
        // subject's "[sendwatch]"): never a command to type.
        for (i, _) in text.match_indices("sendwatch ") {
            let next = text[i + "sendwatch ".len()..].chars().next();
            assert!(
                !next.is_some_and(|c| c.is_ascii_lowercase() || c == '-'),
                "{to} {part}: a sendwatch command at {:?}",
                &text[i..(i + 40).min(text.len())]
            );
        }
        for stale in [
            "earlier period",
            "(for 20",
            "To enter it",
            "--period",
            "--value",
        ] {
            assert!(!text.contains(stale), "{to} {part}: {stale:?} in {text}");
        }
    }
    // One period per heading: the subject, the text's plan line and the HTML's.
    one_period(
        subject.split(": ").next().unwrap_or(&subject),
        &format!("{to} subject"),
    );
    let plan_line = m.body.lines().nth(1).unwrap_or_default();
    assert!(
        plan_line.contains("SEND improvement plan"),
        "{to}: {}",
        m.body
    );
    one_period(plan_line, &format!("{to} text"));
    one_period(
        between(&html, "<div style=\"font-size:14px;\">", "</div>"),
        &format!("{to} HTML"),
    );
    // Each KPI once, and the subject counts each once.
    let kpis = headings(&m.body, "KPI ");
    for (id, n) in &kpis {
        assert_eq!(*n, 1, "{to}: KPI {id} {n} times in {}", m.body);
    }
    assert_eq!(
        said(&subject, "KPI")
            + said(&subject, "KPIs")
            + said(&subject, "value")
            + said(&subject, "values"),
        kpis.len(),
        "{to}: the subject {subject:?} does not count the KPIs listed {kpis:?}"
    );
    let risks = headings(&m.body, "Risk ");
    assert_eq!(
        said(&subject, "risk") + said(&subject, "risks"),
        risks.len(),
        "{to}: {subject}"
    );
    let actions = headings(&m.body, "Action ");
    assert_eq!(
        said(&subject, "action") + said(&subject, "actions"),
        actions.len(),
        "{to}: {subject}"
    );
    // The HTML shows each KPI's title once too (a card or a row of the overdue table).
    for id in kpis.keys() {
        let heading = m
            .body
            .lines()
            .find(|l| l.starts_with(&format!("KPI {id}: ")))
            .unwrap_or_default();
        let title = heading.split_once(": ").map_or("", |(_, t)| t);
        // As minijinja escapes HTML.
        let escape = |t: &str| {
            t.replace('&', "&amp;")
                .replace('\'', "&#x27;")
                .replace('"', "&quot;")
                .replace('/', "&#x2f;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
        };
        assert_eq!(
            html.matches(&format!("{}: {}</", escape(id), escape(title)))
                .count(),
            1,
            "{to}: KPI {id} in the HTML"
        );
    }
    // The footer gives the reasons the digest carries, and no other.
    let footer = m.body.rsplit("\n--\n").next().unwrap_or_default();
    let slipped = said(&subject, "KPI") + said(&subject, "KPIs");
    let late = said(&subject, "value") + said(&subject, "values");
    assert_eq!(
        footer.contains("RED or ha"),
        slipped > 0,
        "{to}: {subject} / {footer}"
    );
    assert_eq!(
        footer.contains("entered by hand is overdue"),
        late > 0,
        "{to}: {subject} / {footer}"
    );
    assert_eq!(
        footer.contains("risk it hears of changed"),
        !risks.is_empty(),
        "{to}: {footer}"
    );
    assert_eq!(
        footer.contains("action slipped"),
        !actions.is_empty(),
        "{to}: {footer}"
    );
    // A request says what is wanted, in words.
    if late > 0 {
        assert!(
            m.body.contains("  Wanted:           the value for "),
            "{to}"
        );
    }
}

fn the_readme_digests_read_as_a_board_member_reads_them() {
    let dir = example_dir();
    let out = Command::new(env!("CARGO_BIN_EXE_sendwatch"))
        .current_dir(dir.path())
        .env_clear()
        .arg("run-now")
        .output()
        .expect("run binary");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mails = folder_mail(&dir.path().join("data/outbox"));
    assert_eq!(mails.len(), 7);
    for m in &mails {
        checks(m);
    }
    let to = |who: &str| {
        mails
            .iter()
            .find(|m| m.header("To").as_deref() == Some(who))
            .unwrap_or_else(|| panic!("no digest to {who}"))
    };
    // The performance sub-group's KPIs are of two periods (July 2021 from the extracts,
    // Jul-Sep 2026 entered by hand): its heading names neither, each KPI its own; 1/4's
    // BASELINE OVERDUE card is not repeated under the overdue values.
    let perf = to("pm-ap-subgroup@example.org");
    assert_eq!(
        perf.body.lines().nth(1),
        Some("Sefton SEND improvement plan")
    );
    assert!(
        perf.body.contains("RAG:              BASELINE OVERDUE"),
        "{}",
        perf.body
    );
    let subject = perf.header("Subject").unwrap_or_default();
    assert!(
        subject.contains("exception report: 4 KPIs slipped (3 red), 1 risk changed"),
        "{subject}"
    );
    // The twice-yearly 2/3 is asked for by its half-year, the latest only.
    let dco = to("dco@example.org");
    assert!(
        dco.body
            .contains("Wanted:           the value for Jan-Jun 2026, from this sub-group"),
        "{}",
        dco.body
    );
    // The example sets a loopback public_url and its key: each request carries a link to the
    // daemon on this machine, made for that digest's recipient, beside the words.
    let key =
        sendwatch::answer::LinkKey::new(sendwatch::serve::settings::EXAMPLE_LINK_KEY.as_bytes())
            .expect("key");
    for m in &mails {
        let to = m.header("To").unwrap_or_default();
        for l in m.body.lines().filter(|l| l.contains("Answer here:")) {
            let url = l.trim().trim_start_matches("Answer here:").trim();
            let token = url
                .strip_prefix("http://127.0.0.1:9187/answer/")
                .unwrap_or_else(|| panic!("{to}: {l}"));
            let g = key.open(token, chrono::Utc::now()).expect("opens");
            assert_eq!(g.to, to);
        }
    }
    assert!(
        perf.body
            .contains("  Answer here:      http://127.0.0.1:9187/answer/v1."),
        "{}",
        perf.body
    );
    // A digest of actions alone says so, not that KPIs are RED.
    let joint = to("joint-commissioning@example.org");
    assert!(
        joint.body.contains(
            "(job monthly-exceptions, run 1) because an action slipped or wants an update."
        ),
        "{}",
        joint.body
    );
    assert!(
        joint.body.contains(
            "  Wanted:           a progress update from the contact, for the board meeting on"
        ),
        "{}",
        joint.body
    );
}

pub fn tests() -> Vec<Spec> {
    vec![trial!(the_readme_digests_read_as_a_board_member_reads_them)]
}
