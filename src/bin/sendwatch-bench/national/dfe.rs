//! The DfE's "Education, health and care plans" release (explore-education-statistics), as
//! the national bench sizes its areas by it: each local authority's requests for an EHC needs
//! assessment and new plans in the latest calendar year (`requests.csv`, `newplans.csv`) and
//! its plans in January of the latest academic year (`caseload.csv`). Only the local-authority
//! rows of the whole (the breakdown that is its own topic, "All EHC plans") are read.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context as _, bail};

/// One local authority's figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authority {
    pub code: String,
    pub name: String,
    /// Requests for an EHC needs assessment received in the latest calendar year.
    pub requests: u64,
    /// New EHC plans in that year.
    pub new_plans: u64,
    /// EHC plans in place in January of the latest academic year.
    pub plans: u64,
}

/// The release as the bench reads it.
#[derive(Debug)]
pub struct Release {
    /// Every authority with all three figures, in order of their plans (smallest first), then
    /// code.
    pub authorities: Vec<Authority>,
    /// The latest `time_period` of each file: requests, new plans, plans.
    pub periods: [String; 3],
    /// Authorities left out because a file gave no number for them (`x`, `z`, `c`) or lacked
    /// them.
    pub left_out: usize,
}

/// The files and the column of each one's figure.
const FILES: [(&str, &str); 3] = [
    ("requests.csv", "requests_received_in_year"),
    ("newplans.csv", "new_ehc_plans"),
    ("caseload.csv", "ehcplans"),
];

/// Reads the three files in `dir`.
pub fn read(dir: &Path) -> anyhow::Result<Release> {
    let mut figures: BTreeMap<String, (String, [Option<u64>; 3])> = BTreeMap::new();
    let mut periods: [String; 3] = Default::default();
    for (i, (file, column)) in FILES.iter().enumerate() {
        let path = dir.join(file);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let (period, rows) =
            latest_totals(&text, column).with_context(|| path.display().to_string())?;
        periods[i] = period;
        for (code, name, value) in rows {
            let entry = figures.entry(code).or_insert_with(|| (name, [None; 3]));
            entry.1[i] = value;
        }
    }
    let mut left_out = 0;
    let mut authorities = Vec::new();
    for (code, (name, [r, n, p])) in figures {
        match (r, n, p) {
            (Some(requests), Some(new_plans), Some(plans)) => authorities.push(Authority {
                code,
                name,
                requests,
                new_plans,
                plans,
            }),
            _ => left_out += 1,
        }
    }
    if authorities.is_empty() {
        bail!(
            "{}: no local authority has all three figures",
            dir.display()
        );
    }
    authorities.sort_by(|a, b| a.plans.cmp(&b.plans).then_with(|| a.code.cmp(&b.code)));
    Ok(Release {
        authorities,
        periods,
        left_out,
    })
}

/// The latest period's local-authority totals of `column`: (code, name, figure), the figure
/// `None` where the file gives a symbol instead of a number.
#[allow(clippy::type_complexity)]
fn latest_totals(
    text: &str,
    column: &str,
) -> anyhow::Result<(String, Vec<(String, String, Option<u64>)>)> {
    let mut lines = text.trim_start_matches('\u{feff}').lines();
    let header = split(lines.next().context("no header")?);
    let at = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .with_context(|| format!("no column `{name}`"))
    };
    let [period, level, code, name, topic, breakdown, figure] = [
        at("time_period")?,
        at("geographic_level")?,
        at("new_la_code")?,
        at("la_name")?,
        at("breakdown_topic")?,
        at("breakdown")?,
        at(column)?,
    ];
    let mut rows: Vec<Vec<String>> = Vec::new();
    for line in lines.filter(|l| !l.trim().is_empty()) {
        let cells = split(line);
        if cells.len() != header.len() {
            bail!(
                "a row has {} cells where the header has {}",
                cells.len(),
                header.len()
            );
        }
        if cells[level] == "Local authority" && cells[topic] == cells[breakdown] {
            rows.push(cells);
        }
    }
    let latest = rows
        .iter()
        .map(|r| r[period].clone())
        .max()
        .context("no local-authority total")?;
    let totals = rows
        .into_iter()
        .filter(|r| r[period] == latest)
        .map(|r| {
            let value = r[figure].trim().parse::<u64>().ok();
            (r[code].clone(), r[name].clone(), value)
        })
        .collect();
    Ok((latest, totals))
}

/// One CSV line's cells: commas outside double quotes split, `""` inside them is a quote.
/// (The release has no line breaks inside a cell.)
fn split(line: &str) -> Vec<String> {
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = line.trim_end_matches('\r').chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => cells.push(std::mem::take(&mut cell)),
            (c, _) => cell.push(c),
        }
    }
    cells.push(cell);
    cells
}

/// `n` of `all` (ordered by size), evenly spread over the order, so that a run of fewer areas
/// has the sizes of the whole in small: the middle of each of `n` equal slices.
pub fn pick(all: &[Authority], n: usize) -> anyhow::Result<Vec<Authority>> {
    let m = all.len();
    if n == 0 || n > m {
        bail!("asked for {n} areas; the release has {m} local authorities with all three figures");
    }
    Ok((0..n)
        .map(|i| all[(2 * i + 1) * m / (2 * n)].clone())
        .collect())
}

/// The generator's `--rows` for each kind, scaled from the authority's figures. The
/// generator spreads requests and referrals over two years (its default period, 2019-2020),
/// one tracker row per request and one provider row per referral; a reviews row is one plan.
/// The release has no health figures: a new plan stands for a referral to the provider.
pub fn rows(a: &Authority) -> [(&'static str, u64); 3] {
    [
        ("tracker", 2 * a.requests),
        ("reviews", a.plans),
        ("provider", 2 * a.new_plans),
    ]
}

/// How [`rows`] scales, for the bench's heading.
pub const SCALING: &str = "tracker 2 x requests (the generator's two years, a row per request), \
     reviews 1 x plans (a row per plan), provider 2 x new plans (no health figures in the release: \
     a new plan stands for a referral)";

#[cfg(test)]
mod tests {
    use super::*;

    fn la(code: &str, plans: u64) -> Authority {
        Authority {
            code: code.into(),
            name: code.into(),
            requests: 1,
            new_plans: 1,
            plans,
        }
    }

    #[test]
    fn cells_split_outside_quotes() {
        assert_eq!(split("a,\"b, c\",d"), ["a", "b, c", "d"]);
        assert_eq!(split("\"say \"\"x\"\"\",,\r"), ["say \"x\"", "", ""]);
    }

    #[test]
    fn the_latest_local_authority_totals_are_read() {
        let text = "\u{feff}time_period,geographic_level,new_la_code,la_name,breakdown_topic,breakdown,n\n\
            2023,Local authority,E1,\"Hull, City of\",All,All,5\n\
            2024,National,,,All,All,900\n\
            2024,Local authority,E1,\"Hull, City of\",All,All,7\n\
            2024,Local authority,E1,\"Hull, City of\",Age,Aged 5,2\n\
            2024,Local authority,E2,Rutland,All,All,x\n";
        let (period, rows) = latest_totals(text, "n").expect("reads");
        assert_eq!(period, "2024");
        assert_eq!(
            rows,
            [
                ("E1".into(), "Hull, City of".into(), Some(7)),
                ("E2".into(), "Rutland".into(), None)
            ]
        );
        assert!(latest_totals(text, "missing").is_err());
    }

    #[test]
    fn a_pick_spreads_over_the_sizes() {
        let all: Vec<Authority> = (0..10).map(|i| la(&format!("E{i}"), i)).collect();
        let codes = |n| -> Vec<u64> {
            pick(&all, n)
                .expect("pick")
                .iter()
                .map(|a| a.plans)
                .collect()
        };
        assert_eq!(codes(1), [5]);
        assert_eq!(codes(2), [2, 7]);
        assert_eq!(codes(5), [1, 3, 5, 7, 9]);
        assert_eq!(codes(10), (0..10).collect::<Vec<_>>());
        assert!(pick(&all, 11).is_err());
        assert!(pick(&all, 0).is_err());
    }
}
