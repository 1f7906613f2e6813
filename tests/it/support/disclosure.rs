//! The disclosure scan every message the suite receives goes through (the folder transport's
//! `.eml` files in `harness::folder_mail`, the SMTP sink's in `SmtpSink::messages`): no count
//! 1-4 (nor 0) written out, no percentage beside a hidden count, no share whose rest is small,
//! no case id, no "as of"/"on" event date.

/// Words after which a number is a count of children, cases or rows.
const COUNT_NOUNS: &[&str] = &[
    "of",
    "rows",
    "row",
    "referrals",
    "referral",
    "requests",
    "request",
    "open",
    "not",
    "new",
    "set",
    "children",
    "child",
    "cases",
    "case",
    "reviews",
    "review",
    "plans",
    "plan",
];

/// Words before which a number is a count ("... past 18 weeks: 3", "waiting in the extract: 2").
const COUNT_LEADS: &[&str] = &["weeks:", "extract:", "over", "backlog", "outstanding"];

fn small(token: &str) -> Option<u64> {
    let t = token.trim_matches(|c: char| matches!(c, '(' | ')' | ',' | ';' | '.' | ':'));
    t.parse::<u64>().ok().filter(|n| *n < 5)
}

fn number(token: &str) -> Option<u64> {
    token
        .trim_matches(|c: char| matches!(c, '(' | ')' | ',' | ';' | '.' | ':'))
        .parse()
        .ok()
}

fn case_id(token: &str) -> bool {
    let t = token.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    let mut chars = t.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    let digits = chars.as_str();
    let all_digits = !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit());
    // The generators' ids: C000001, P000001, R000001, K0001, V01, P01, H21. Risk ids (R1-R13)
    // are the register's, not a child's.
    all_digits
        && match first {
            'C' | 'P' | 'K' | 'V' | 'H' => digits.len() >= 2,
            'R' => digits.len() >= 3,
            _ => false,
        }
}

fn is_date(token: &str) -> bool {
    let t = token.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    t.len() == 10 && chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d").is_ok()
}

/// Panics, naming `what` and the line, if `raw` (a message as received) discloses anything.
pub fn assert_nothing_disclosive(raw: &str, what: &str) {
    // Undo quoted-printable soft breaks so that a figure split over two lines is seen whole.
    let text = raw
        .replace("=\r\n", "")
        .replace("=\n", "")
        .replace('\r', "");
    let body = text.split_once("\n\n").map_or(text.as_str(), |(_, b)| b);
    for line in body.lines() {
        let tokens: Vec<&str> = line.split_whitespace().collect();
        for (i, t) in tokens.iter().enumerate() {
            let next = tokens.get(i + 1).map(|n| n.to_ascii_lowercase());
            let prev = i.checked_sub(1).map(|p| tokens[p].to_ascii_lowercase());
            if let Some(n) = small(t) {
                // "3 of 26", not "run 1 of job".
                let of_a_count = next.as_deref() == Some("of")
                    && tokens
                        .get(i + 2)
                        .is_some_and(|d| d.starts_with('<') || number(d).is_some());
                let counted = of_a_count
                    || next
                        .as_deref()
                        .is_some_and(|n| n != "of" && COUNT_NOUNS.contains(&n))
                    || prev.as_deref().is_some_and(|p| COUNT_LEADS.contains(&p));
                assert!(!counted, "{what}: the count {n} is written out in {line:?}");
            }
            assert!(!case_id(t), "{what}: a case id ({t}) in {line:?}");
            if is_date(t) {
                // "data as of 2021-07-31", "Backlog on 2021-07-31:": the extract's latest event
                // date (a due date, an entry's date or a fetch date is not one).
                let p = prev.as_deref().unwrap_or("");
                let as_of = p == "of" && i >= 2 && tokens[i - 2].eq_ignore_ascii_case("as");
                assert!(
                    !(as_of || (p == "on" && t.ends_with(':'))),
                    "{what}: an event date ({t}) in {line:?}"
                );
            }
            // "(24 of 26": the hidden rest (2) worked back.
            if next.as_deref() == Some("of")
                && let (Some(n), Some(d)) = (number(t), tokens.get(i + 2).and_then(|d| number(d)))
                && t.starts_with('(')
            {
                assert!(
                    n > d || d - n >= 5,
                    "{what}: {n} of {d} gives away a small rest in {line:?}"
                );
            }
        }
        // "0.0% (<5 of 26)": the percentage gives the hidden count away.
        if line.contains('%') && (line.contains("(<5 of") || line.contains("of <5")) {
            let pct_before = line
                .split("(<5 of")
                .next()
                .is_some_and(|head| head.trim_end().ends_with('%'));
            assert!(
                !pct_before,
                "{what}: a percentage beside a hidden count in {line:?}"
            );
        }
    }
}

// Registered in tests() below; `deny` overrides support's allow, so a fn left out fails the build.
#[deny(dead_code)]
pub fn tests() -> Vec<super::trials::Spec> {
    vec![super::trials::trial!(the_scan_catches_what_it_should)]
}

#[deny(dead_code)]
fn the_scan_catches_what_it_should() {
    let ok = "Subject: x\n\nValue: 53.1% (26 of 49 new EHC plans)\nBacklog in the extract: <5 open\nrisk R10 raised\n";
    assert_nothing_disclosive(ok, "ok");
    for bad in [
        "\n\nValue: 0.0% (<5 of 26 new EHC plans)",
        "\n\nValue: 92.3% (24 of 26 new EHC plans)",
        "\n\nBacklog: 3 open requests",
        "\n\ncase C000123 late",
        "\n\nloaded, data as of 2021-07-31",
    ] {
        let caught = std::panic::catch_unwind(|| assert_nothing_disclosive(bad, "bad")).is_err();
        assert!(caught, "not caught: {bad:?}");
    }
}
