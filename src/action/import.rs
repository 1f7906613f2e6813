//! `action import FILE.csv`: a whole meeting's updates in one CSV, accepted whole or refused
//! whole.
//!
//! Owns: the import's columns. The file is read as a form ([`crate::load::form`]: bounded,
//! the header checked, every cell by the extract loader's own checks), then each row by
//! [`super::update::check`]. Every problem names the line, the column and the rule, never the
//! cell. Pure: takes the bytes.

use chrono::NaiveDate;

use super::Actions;
use super::update::{Draft, MAX_TEXT, Update, check};
use crate::kpi::manual::MAX_BY;
use crate::load::form::{self, FormError, column as col};
use crate::load::{ColType, KindDef};

/// The columns, in the order the header is expected to give them (any order is read).
pub const COLUMNS: [&str; 6] = [
    "reference",
    "status",
    "note",
    "evidence",
    "next_steps",
    "author",
];

fn kind() -> KindDef {
    KindDef {
        title: "action updates".into(),
        key: vec!["reference".into()],
        columns: vec![
            col("reference", ColType::Text, true, Some(16)),
            col("status", ColType::Text, true, Some(200)),
            col("note", ColType::Text, true, Some(MAX_TEXT)),
            col("evidence", ColType::Text, false, Some(MAX_TEXT)),
            col("next_steps", ColType::Text, false, Some(MAX_TEXT)),
            col("author", ColType::Text, false, Some(MAX_BY)),
        ],
        rules: Vec::new(),
    }
}

/// Read and check an import. `file` names it in errors; a row with `author` blank was
/// recorded by `default_author` (`--author`, else the login name). One update per action.
pub fn read(
    bytes: &[u8],
    file: &str,
    actions: &Actions,
    default_author: Option<&str>,
    today: NaiveDate,
) -> Result<Vec<Update>, FormError> {
    let filled = form::read(bytes, file, &kind(), today)?;
    form::check_rows(file, &filled, ("reference", "the action"), |b, cells| {
        let text = |i: usize| b.str(&cells[i]).map(str::to_string);
        let draft = Draft {
            reference: text(0).unwrap_or_default(),
            status: text(1).unwrap_or_default(),
            note: text(2).unwrap_or_default(),
            evidence: text(3),
            next_steps: text(4),
            author: text(5)
                .or_else(|| default_author.map(str::to_string))
                .unwrap_or_default(),
        };
        check(actions, &draft).map(|u| (u.reference.clone(), u))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "reference,status,note,evidence,next_steps,author\n";

    fn import(text: &str) -> Result<Vec<Update>, FormError> {
        let actions = crate::action::catalogue::builtin().expect("log").0;
        let today = NaiveDate::from_ymd_opt(2020, 2, 11).expect("date");
        read(text.as_bytes(), "u.csv", &actions, Some("ann"), today)
    }

    #[test]
    fn a_meetings_updates_are_read_with_who_recorded_them() {
        let u = import(&format!(
            "{HEAD}1.2.1,on-track,\"55% in Q4, backlog down\",tracker,keep going,Bob\n\
             1.3,Action not on track; risk to implementation,recovery plan agreed,,,\n"
        ));
        // The seeds' words hold a comma; a semicolon is no status.
        let err = u.expect_err("refused");
        assert!(
            err.to_string()
                .contains("line 3, column 2 (status): not a progress status"),
            "{err}"
        );
        let u = import(&format!(
            "{HEAD}1.2.1,on-track,\"55% in Q4, backlog down\",tracker,keep going,Bob\n\
             1.3,\"Action not on track, risk to implementation\",recovery plan agreed,,,\n"
        ))
        .expect("accepted");
        assert_eq!(u.len(), 2);
        assert_eq!(u[0].author, "Bob");
        assert_eq!(u[1].author, "ann", "blank author: --author");
        assert_eq!(u[1].status, crate::action::Status::NotOnTrack);
    }

    #[test]
    fn a_bad_row_names_line_column_and_rule() {
        let err = import(&format!(
            "{HEAD}1.2.1,on-track,fine,,,\n7.7,on-track,fine,,,\n1.2.1,completed,again,,,\n4.1,on-track,,,,\n"
        ))
        .expect_err("refused");
        let text = err.to_string();
        assert!(
            text.starts_with("u.csv: import refused, nothing stored (3 problems)"),
            "{text}"
        );
        assert!(
            text.contains("line 3, column 1 (reference): no action"),
            "{text}"
        );
        assert!(
            text.contains("line 4, column 1 (reference): repeats the action of line 2"),
            "{text}"
        );
        assert!(text.contains("line 5, column 3 (note)"), "{text}");
        assert!(!text.contains("7.7"), "no cell repeated: {text}");
    }

    #[test]
    fn the_header_and_the_bounds_are_the_forms() {
        let err = import("reference,status,note\n1.2.1,on-track,x\n").expect_err("x");
        assert!(
            err.to_string().contains("missing column `evidence`"),
            "{err}"
        );
        assert!(matches!(import(""), Err(FormError::Empty { .. })));
        let big = format!(
            "{HEAD}{}",
            "1.2.1,on-track,x,,,\n".repeat(form::MAX_BYTES / 10)
        );
        assert!(matches!(import(&big), Err(FormError::TooBig { .. })));
    }
}
