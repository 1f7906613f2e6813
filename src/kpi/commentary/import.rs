//! `comment import FILE.csv`: a meeting's commentary on exceptions in one CSV, accepted whole
//! or refused whole.
//!
//! Owns: the import's columns. The file is read as a form ([`crate::load::form`]), then each
//! row by [`super::check`]; every problem names the line, the column and the rule, never the
//! cell. Pure: takes the bytes.

use chrono::{DateTime, NaiveDate, Utc};

use super::{Commentary, Draft, MAX_TEXT, check};
use crate::kpi::Catalogue;
use crate::kpi::manual::MAX_BY;
use crate::load::form::{self, FormError, column as col};
use crate::load::{ColType, KindDef};

/// The columns, in the order the header is expected to give them (any order is read).
pub const COLUMNS: [&str; 7] = [
    "kpi",
    "period",
    "reason",
    "actions",
    "revised_date",
    "next_update",
    "author",
];

fn kind() -> KindDef {
    KindDef {
        title: "commentary on exceptions".into(),
        key: vec!["kpi".into(), "period".into()],
        columns: vec![
            col("kpi", ColType::Text, true, Some(16)),
            col("period", ColType::Text, true, Some(16)),
            col("reason", ColType::Text, true, Some(MAX_TEXT)),
            col("actions", ColType::Text, true, Some(MAX_TEXT)),
            col("revised_date", ColType::Text, false, Some(10)),
            col("next_update", ColType::Text, false, Some(10)),
            col("author", ColType::Text, false, Some(MAX_BY)),
        ],
        rules: Vec::new(),
    }
}

/// Read and check an import. A row with `author` blank was entered by `default_author`
/// (`--author`, else the login name); `today` bounds the periods; all are entered at `now`.
pub fn read(
    bytes: &[u8],
    file: &str,
    catalogue: &Catalogue,
    default_author: Option<&str>,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Vec<Commentary>, FormError> {
    let filled = form::read(bytes, file, &kind(), today)?;
    form::check_rows(file, &filled, ("kpi", "the KPI and period"), |b, cells| {
        let text = |i: usize| b.str(&cells[i]).map(str::to_string);
        let draft = Draft {
            kpi: text(0).unwrap_or_default(),
            period: text(1).unwrap_or_default(),
            reason: text(2).unwrap_or_default(),
            actions: text(3).unwrap_or_default(),
            revised_date: text(4),
            next_update: text(5),
            author: text(6)
                .or_else(|| default_author.map(str::to_string))
                .unwrap_or_default(),
        };
        check(catalogue, &draft, today, now).map(|c| (format!("{} {}", c.kpi_id, c.period), c))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "kpi,period,reason,actions,revised_date,next_update,author\n";

    fn import(text: &str) -> Result<Vec<Commentary>, FormError> {
        let c = crate::kpi::catalogue::builtin().expect("catalogue");
        let today = NaiveDate::from_ymd_opt(2020, 2, 11).expect("date");
        let now = today.and_hms_opt(9, 0, 0).expect("t").and_utc();
        read(text.as_bytes(), "c.csv", &c, Some("ann"), today, now)
    }

    #[test]
    fn a_meetings_commentary_is_read_with_its_dates() {
        let c = import(&format!(
            "{HEAD}3/3,2019-12,training capacity,more sessions in Q4,2020-06-30,2020-04-14,Bob\n\
             1/3a,2019-12,no tracker,recovery plan agreed,,,\n"
        ))
        .expect("accepted");
        assert_eq!(c.len(), 2);
        assert_eq!(
            c[0].revised_date.map(|d| d.to_string()).as_deref(),
            Some("2020-06-30")
        );
        assert_eq!(c[0].author, "Bob");
        assert_eq!((c[1].revised_date, c[1].author.as_str()), (None, "ann"));
    }

    #[test]
    fn a_bad_row_names_line_column_and_rule() {
        let err = import(&format!(
            "{HEAD}9/9,2019-12,r,a,,,\n4/1,2019-12,r,a,,,\n3/3,2020-06,r,a,,,\n\
             3/3,2019-12,r,a,30/06/2020,,\n3/3,2019-12,r,,,,\n"
        ))
        .expect_err("refused");
        let text = err.to_string();
        for want in [
            "line 2, column 1 (kpi): no KPI with this id",
            "line 3, column 2 (period): this KPI is reported for an academic year",
            "line 4, column 2 (period): the period has not begun yet",
            "line 5, column 5 (revised_date): not a date",
            "line 6, column 4 (actions)",
        ] {
            assert!(text.contains(want), "`{want}` not in\n{text}");
        }
        assert!(!text.contains("30/06/2020"), "no cell repeated: {text}");
    }
}
