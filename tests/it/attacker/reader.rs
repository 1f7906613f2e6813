//! The reader: every output one audience is shown, read as that audience reads it (the
//! digests' plain text, `kpi show` in JSON and CSV, `kpi values`, the board pack's HTML and a
//! KPI's live page), turned into what it tells of each figure ([`Knowledge`]).

use regex::Regex;

use super::infer::{Knowledge, Part};

/// Words that rate a figure.
const RATINGS: [&str; 3] = ["RED", "AMBER", "GREEN"];
const DIRECTIONS: [&str; 8] = [
    "improved",
    "deteriorated",
    "maintained",
    "ahead of",
    "behind",
    "worse than",
    "better than",
    "in line with",
];

/// "July" (`%B`) or "Jul" (`%b`) of year `y`.
fn month_named(name: &str, format: &str, y: &str) -> Option<(i32, u32)> {
    use chrono::Datelike;
    let d = chrono::NaiveDate::parse_from_str(&format!("1 {name} {y}"), &format!("%d {format} %Y"))
        .ok()?;
    Some((d.year(), d.month()))
}

/// A period's label as the outputs write it, to the year and month of its last month.
pub fn month_of(label: &str) -> Option<(i32, u32)> {
    let label = label.trim();
    let words: Vec<&str> = label.split_whitespace().collect();
    match words.as_slice() {
        [m, y] if !m.contains('-') && m.len() >= 3 => month_named(m, "%B", y),
        [q, y] if q.len() == 7 && q.as_bytes()[3] == b'-' => month_named(&q[4..], "%b", y),
        ["academic", "year", y] => Some((y.get(..4)?.parse::<i32>().ok()? + 1, 8)),
        ["financial", "year", y] => Some((y.get(..4)?.parse::<i32>().ok()? + 1, 3)),
        [y] if y.len() == 4 => Some((y.parse().ok()?, 12)),
        _ => None,
    }
}

/// One reader of one audience's outputs.
pub struct Reader {
    pub k: Knowledge,
    /// The outputs said their counts are rounded (read from their footers).
    pub rounded: bool,
    /// KPIs whose value is a percentage (else weeks, a count, a deliverable).
    pub percent: std::collections::BTreeSet<String>,
    /// The output being read (named in a leak's message).
    pub source: String,
    shares: Regex,
    average: Regex,
    number: Regex,
}

impl Reader {
    pub fn new(k: Knowledge, percent: std::collections::BTreeSet<String>) -> Reader {
        Reader {
            k,
            rounded: false,
            percent,
            source: String::new(),
            shares: Regex::new(r"(all but <\d+|<\d+|not shown|\d+) of (<\d+|not shown|\d+)\b")
                .expect("regex"),
            average: Regex::new(r"average over (<\d+|\d+) referrals").expect("regex"),
            number: Regex::new(r"^(\d+(?:\.\d+)?)").expect("regex"),
        }
    }

    /// Whether the text says the policy is rounding (every output's footer says which).
    pub fn policy_from(&mut self, text: &str) {
        if text.contains("rounded to the nearest") {
            self.rounded = true;
        }
    }

    /// A count as written: its range.
    fn count(&self, t: &str, d: Option<u32>) -> Option<(i64, i64)> {
        if let Some(rest) = t.strip_prefix("all but <") {
            let below: i64 = rest.parse().ok()?;
            let d = i64::from(d?);
            return Some((d - below + 1, d));
        }
        if let Some(rest) = t.strip_prefix('<') {
            return Some((0, rest.parse::<i64>().ok()? - 1));
        }
        let n: i64 = t.parse().ok()?;
        Some(if self.rounded {
            ((n - 2).max(0), n + 2)
        } else {
            (n, n)
        })
    }

    /// A figure's value in words: a number (a percentage narrows the counts, unless it was
    /// worked from rounded ones), or "not shown ...".
    pub fn value(&mut self, kpi: &str, month: (i32, u32), part: Part, text: &str) {
        let text = text.trim();
        let percent = self.percent.contains(kpi);
        let rounded = self.rounded;
        if text.starts_with("not shown") {
            let f = self.k.figure(kpi, month, part);
            f.hidden = true;
            f.seen.insert(format!("hidden in {}", self.source));
        } else if let Some(c) = self.number.captures(text) {
            let v: f64 = c[1].parse().unwrap_or(f64::NAN);
            if percent && !rounded && text[c[1].len()..].starts_with('%') {
                self.k.figure(kpi, month, part).percent(v);
            }
        }
        // The counts beside it: "(26 of 49 ...)", "(<5 of 22 ...)", "(average over 7 ...)".
        if let Some(c) = self.shares.captures(text) {
            let d = self.count(&c[2], None);
            let f_d = d;
            if let Some((lo, hi)) = f_d {
                self.k
                    .figure(kpi, month, part)
                    .d_in(lo.max(0) as u32, hi.max(0) as u32);
            }
            let exact_d = d.filter(|(lo, hi)| lo == hi).map(|(d, _)| d as u32);
            let n_tok = c[1].to_string();
            if n_tok.starts_with("all but") {
                let below: i64 = n_tok.trim_start_matches("all but <").parse().unwrap_or(0);
                self.k
                    .figure(kpi, month, part)
                    .n_in(|den| (i64::from(den) - below + 1, i64::from(den)));
            } else if let Some((lo, hi)) = self.count(&n_tok, exact_d) {
                self.k.figure(kpi, month, part).n_in(|_| (lo, hi));
            }
        } else if let Some(c) = self.average.captures(text)
            && let Some((lo, hi)) = self.count(&c[1], None)
        {
            self.k
                .figure(kpi, month, part)
                .d_in(lo.max(0) as u32, hi.max(0) as u32);
        }
    }

    /// A rating said of the figure (a RAG colour, or a direction or change in words).
    pub fn rating(&mut self, kpi: &str, month: (i32, u32), text: &str) {
        let rated = RATINGS
            .iter()
            .any(|r| text.split_whitespace().any(|w| w == *r))
            || DIRECTIONS.iter().any(|d| text.contains(d));
        if rated {
            let f = self.k.figure(kpi, month, Part::Current);
            f.rated = true;
            f.seen.insert(format!("rated in {}: {text}", self.source));
        }
    }

    /// A KPI a digest lists as slipped or back on track, with its value in words: a listed
    /// value is rated by the list it is in, hidden or not.
    fn listed(&mut self, kpi: &str, month: (i32, u32), value: &str) {
        if value.trim().starts_with("not shown") {
            let f = self.k.figure(kpi, month, Part::Current);
            f.rated = true;
            f.seen.insert(format!("listed in {}", self.source));
        }
    }

    /// A digest's plain text.
    pub fn digest(&mut self, body: &str) {
        self.policy_from(body);
        let field = |line: &str, label: &str| -> Option<String> {
            line.strip_prefix("  ")?
                .strip_prefix(label)
                .map(|v| v.trim().to_string())
        };
        let (mut kpi, mut month): (Option<String>, Option<(i32, u32)>) = (None, None);
        for line in body.lines() {
            if let Some(rest) = line.strip_prefix("KPI ") {
                kpi = rest.split(':').next().map(str::to_string);
                month = None;
                continue;
            }
            let Some(id) = kpi.clone() else { continue };
            if let Some(v) = field(line, "Period:") {
                month = month_of(v.split(" (").next().unwrap_or(""));
            } else if let Some(v) = field(line, "Now:") {
                // Back on track: "GREEN in July 2021: 63.6% against 60.0%".
                if let Some((rag, rest)) = v.split_once(" in ")
                    && let Some((label, value)) = rest.split_once(": ")
                    && let Some(m) = month_of(label)
                {
                    let value = value.split(" against ").next().unwrap_or("");
                    self.value(&id, m, Part::Current, value);
                    self.listed(&id, m, value);
                    self.rating(&id, m, rag);
                }
            } else if let Some(m) = month {
                if let Some(v) = field(line, "Value:") {
                    self.value(&id, m, Part::Current, &v);
                    // Listed among the exceptions: that alone rates it.
                    self.listed(&id, m, &v);
                } else if let Some(v) = field(line, "Year to date:") {
                    self.value(&id, m, Part::YearToDate, &v);
                } else if let Some(v) = field(line, "Previous value:") {
                    let label = v.rsplit_once(" (").map(|(_, l)| l.trim_end_matches(')'));
                    if let Some(p) = label.and_then(month_of) {
                        let value = v.rsplit_once(" (").map_or("", |(a, _)| a);
                        self.value(&id, p, Part::Current, value);
                    }
                } else if let Some(v) = field(line, "Change:") {
                    self.k.figure(&id, m, Part::Current).rated = true;
                    if let Some(p) = v.rsplit_once(" on ").and_then(|(_, l)| month_of(l)) {
                        self.k.figure(&id, p, Part::Current).rated = true;
                    }
                } else if let Some(v) = field(line, "RAG:") {
                    self.rating(&id, m, &v);
                } else if let Some(v) = field(line, "Direction:") {
                    self.rating(&id, m, &v);
                }
            }
        }
    }

    /// A shown result: `kpi show`'s `latest` or a milestone's `actual`, a page's row.
    pub fn actual(&mut self, kpi: &str, label: &str, value_text: &str, rag: &str, dir: &str) {
        let Some(m) = month_of(label) else { return };
        self.value(kpi, m, Part::Current, value_text);
        self.rating(kpi, m, rag);
        self.rating(kpi, m, dir);
    }

    /// `kpi show --format json`.
    pub fn show_json(&mut self, text: &str) {
        let v: serde_json::Value = serde_json::from_str(text).expect("kpi show JSON");
        let s = |x: &serde_json::Value, k: &str| x[k].as_str().unwrap_or("").to_string();
        for row in v.as_array().expect("rows") {
            if s(row, "disclosure") == "round" {
                self.rounded = true;
            }
            let id = s(row, "id");
            let actuals = std::iter::once(&row["latest"]).chain(
                row["milestones"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|m| &m["actual"]),
            );
            for a in actuals.filter(|a| a.is_object()) {
                self.actual(
                    &id,
                    &s(a, "period_label"),
                    &s(a, "value_text"),
                    &s(a, "rag"),
                    &s(a, "direction"),
                );
                // The value at one decimal, as the table.
                if let (Some(v), Some(m)) = (a["value"].as_f64(), month_of(&s(a, "period_label")))
                    && self.percent.contains(&id)
                    && !self.rounded
                {
                    self.k.figure(&id, m, Part::Current).percent(v);
                }
            }
            for e in row["entered"].as_array().into_iter().flatten() {
                if let Some(m) = month_of(&s(e, "period_label")) {
                    self.value(&id, m, Part::Current, &s(e, "value_text"));
                }
            }
        }
    }

    /// HTML: the pack's KPI rows and exceptions, a KPI page's history rows, the charts' dots.
    pub fn html(&mut self, page: &str) {
        self.policy_from(page);
        let text = |s: &str| {
            Regex::new(r"<[^>]*>")
                .expect("regex")
                .replace_all(s, "")
                .replace("&amp;", "&")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&#39;", "'")
                .replace("&#x27;", "'")
        };
        let latest = Regex::new(
            r#"(?s)<td class="num">(.*?)<br><span class="dot">(.*?)</span></td>\s*<td class="rag[^"]*">(.*?)</td>\s*<td>(.*?)</td>"#,
        )
        .expect("regex");
        let dot = Regex::new(r"<circle[^>]*><title>(.*?): (.*?)</title>").expect("regex");
        for chunk in page.split(r#"data-kpi=""#).skip(1) {
            let id = chunk.split('"').next().unwrap_or("").to_string();
            if let Some(c) = latest.captures(chunk) {
                self.actual(&id, &text(&c[2]), &text(&c[1]), &text(&c[3]), &text(&c[4]));
            }
            for c in dot.captures_iter(chunk) {
                if let Some(m) = month_of(&text(&c[1])) {
                    self.value(&id, m, Part::Current, &text(&c[2]));
                }
            }
        }
        // A KPI's live page: its id in the title, a row per period.
        let id = Regex::new(r"<h1>KPI (\S+?)[: ]").expect("regex");
        let row = Regex::new(
            r#"<tr class="period"><td>(.*?)</td><td class="num">(.*?)</td><td class="rag[^"]*">(.*?)</td><td>(.*?)</td>"#,
        )
        .expect("regex");
        if let Some(k) = id.captures(page) {
            let kpi = k[1].to_string();
            for c in row.captures_iter(page) {
                self.actual(&kpi, &text(&c[1]), &text(&c[2]), &text(&c[3]), &text(&c[4]));
            }
            for c in dot.captures_iter(page) {
                if let Some(m) = month_of(&text(&c[1])) {
                    self.value(&kpi, m, Part::Current, &text(&c[2]));
                }
            }
        }
    }

    /// `kpi values`: "KPI 2/1  Apr-Jun 2021 (2021-Q2)" then "  entry 3: 33.3% (10 of 30) by ...".
    pub fn values(&mut self, text: &str) {
        self.policy_from(text);
        let head = Regex::new(r"^KPI (\S+)\s+(.*?) \(").expect("regex");
        let entry = Regex::new(r"^\s+entry \d+: (.*?) by ").expect("regex");
        let mut at: Option<(String, (i32, u32))> = None;
        for line in text.lines() {
            if let Some(c) = head.captures(line) {
                at = month_of(&c[2]).map(|m| (c[1].to_string(), m));
            } else if let (Some(c), Some((kpi, m))) = (entry.captures(line), at.clone()) {
                self.value(&kpi, m, Part::Current, &c[1]);
            }
        }
    }
}
