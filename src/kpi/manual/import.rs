//! `kpi import FILE.csv`: a meeting's worth of manual values in one CSV, accepted whole or
//! refused whole.
//!
//! Owns: the import's columns and the checks on its rows. The file is read as a form
//! ([`crate::load::form`]: bounded, the header checked, every cell by the extract loader's
//! own checks), then each row by [`super::check`]. Every problem names the line, the column
//! and the rule, never the cell. Pure: takes the bytes.

use chrono::NaiveDate;

use super::{Draft, ManualValue, check};
use crate::kpi::Catalogue;
use crate::load::form::{self, column as col};
use crate::load::{ColType, KindDef, Value};

/// The refusal of an import: the forms' own.
pub use crate::load::form::FormError as ImportError;
pub use crate::load::form::{MAX_BYTES, MAX_ROWS};

/// The columns, in the order the header is expected to give them (any order is read).
pub const COLUMNS: [&str; 7] = [
    "kpi",
    "period",
    "value",
    "numerator",
    "denominator",
    "note",
    "by",
];

/// The import as an extract kind, so the loader's reader and cell checks read it.
fn kind() -> KindDef {
    KindDef {
        title: "manual KPI values".into(),
        key: vec!["kpi".into(), "period".into()],
        columns: vec![
            col("kpi", ColType::Text, true, Some(16)),
            col("period", ColType::Text, true, Some(16)),
            col("value", ColType::Decimal, true, None),
            col("numerator", ColType::Integer, false, None),
            col("denominator", ColType::Integer, false, None),
            col("note", ColType::Text, false, Some(super::MAX_NOTE)),
            col("by", ColType::Text, false, Some(super::MAX_BY)),
        ],
        rules: Vec::new(),
    }
}

/// Read and check an import. `file` names it in errors; a row with `by` blank was entered by
/// `default_by` (the `--by` given, else the login name); `today` bounds the periods.
pub fn read(
    bytes: &[u8],
    file: &str,
    catalogue: &Catalogue,
    default_by: Option<&str>,
    today: NaiveDate,
) -> Result<Vec<ManualValue>, ImportError> {
    let filled = form::read(bytes, file, &kind(), today)?;
    form::check_rows(file, &filled, ("kpi", "the KPI and period"), |b, cells| {
        let text = |i: usize| b.str(&cells[i]).map(str::to_string);
        let int = |i: usize| match cells[i] {
            Value::Int(n) => Some(n),
            _ => None,
        };
        let draft = Draft {
            kpi: text(0).unwrap_or_default(),
            period: text(1).unwrap_or_default(),
            value: match cells[2] {
                Value::Dec(x) => x,
                _ => f64::NAN,
            },
            numerator: int(3),
            denominator: int(4),
            note: text(5),
            by: text(6)
                .or_else(|| default_by.map(str::to_string))
                .unwrap_or_default(),
        };
        match check(catalogue, &draft, today) {
            Ok(v) => Ok((format!("{} {}", v.kpi_id, v.period), v)),
            Err(refused) => Err(refused
                .into_iter()
                .map(|r| {
                    let name = r.field.as_str();
                    let message = if name == "by" && default_by.is_none() {
                        format!("{}; the login name is not known, so give --by", r.message)
                    } else {
                        r.message
                    };
                    form::Refusal::new((name, name), message)
                })
                .collect()),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2021, 7, 31).expect("date")
    }

    fn import(text: &str) -> Result<Vec<ManualValue>, ImportError> {
        let c = crate::kpi::catalogue::builtin().expect("catalogue");
        read(text.as_bytes(), "m.csv", &c, Some("ann"), today())
    }

    const HEAD: &str = "kpi,period,value,numerator,denominator,note,by\n";

    #[test]
    fn a_good_file_gives_every_row_with_who_entered_it() {
        let v = import(&format!(
            "{HEAD}3/3,2020-Q2,34.0,34,100,\"34 of 100, see minutes\",Bob\n4/1,AY2020/21,41.5,,,,\n"
        ))
        .expect("accepted");
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].kpi_id, "3/3");
        assert_eq!(v[0].period.to_string(), "2020-Q2");
        assert_eq!((v[0].numerator, v[0].denominator), (Some(34), Some(100)));
        assert_eq!(v[0].note.as_deref(), Some("34 of 100, see minutes"));
        assert_eq!(v[0].by, "Bob");
        assert_eq!(v[1].by, "ann", "blank `by`: whoever runs the import");
        assert_eq!(v[1].note, None);
    }

    #[test]
    fn every_bad_row_is_named_by_line_column_and_rule_and_no_cell_is_repeated() {
        let err = import(&format!(
            "{HEAD}1/2a,2020-05,40,,,,\n4/1,2020-13,41,,,,\n3/3,2020-Q2,120,,,,\n3/3,2020-Q2,20,,,,\n\
             3/4,2020-Q3,x,,,,\n3/5,2020-06,50,5,,,\n3/5,2020-07,50,5,10,,\n3/5,2020-08,40,5,10,,\n"
        ))
        .expect_err("refused");
        let text = err.to_string();
        assert!(
            text.starts_with("m.csv: import refused, nothing stored (6 problems)"),
            "{text}"
        );
        for want in [
            "line 2, column 1 (kpi): this KPI is computed by each run from the `tracker` extract",
            "line 3, column 2 (period): not a period",
            "line 4, column 3 (value): a percentage is between 0 and 100",
            "line 6, column 3 (value): not a number",
            "line 7, column 5 (denominator): a numerator needs its denominator",
            "line 9, column 3 (value): does not agree with numerator / denominator (50.0%)",
        ] {
            assert!(text.contains(want), "`{want}` not in\n{text}");
        }
        // Line 5 has line 4's KPI and period, but line 4 was refused, so it is no repeat.
        assert!(!text.contains("line 5"), "{text}");
        assert!(!text.contains("2020-13"), "no cell repeated: {text}");
        assert_eq!(err.problems().len(), 6);
    }

    #[test]
    fn a_repeated_kpi_and_period_is_refused() {
        let err = import(&format!("{HEAD}3/3,2020-Q2,20,,,,\n3/3,2020-Q2,21,,,,\n"))
            .expect_err("refused");
        assert!(
            err.to_string()
                .contains("line 3, column 1 (kpi): repeats the KPI and period of line 2"),
            "{err}"
        );
    }

    #[test]
    fn the_header_must_name_every_column_once() {
        let err = import("kpi,period,value,note,by,extra\n3/3,2020-Q2,20,,,\n").expect_err("x");
        let text = err.to_string();
        assert!(
            text.contains("line 1, column 6 (extra): unexpected column"),
            "{text}"
        );
        assert!(text.contains("missing column `numerator`"), "{text}");
        assert!(matches!(import(""), Err(ImportError::Empty { .. })));
        let err = import(&format!("{HEAD}3/3,2020-Q2,20,,,,\nbroken\n")).expect_err("x");
        assert!(
            err.to_string()
                .contains("line 3: has 1 fields, the header has 7"),
            "{err}"
        );
        let reordered =
            import("by,kpi,value,period,numerator,denominator,note\nCy,3/3,20,2020-Q2,,,\n")
                .expect("any order");
        assert_eq!(reordered[0].by, "Cy");
    }

    #[test]
    fn an_unknown_login_is_said_when_by_is_blank() {
        let c = crate::kpi::catalogue::builtin().expect("catalogue");
        let text = format!("{HEAD}3/3,2020-Q2,20,,,,\n");
        let err = read(text.as_bytes(), "m.csv", &c, None, today()).expect_err("refused");
        assert!(err.to_string().contains("column 7 (by): say who"), "{err}");
        assert!(err.to_string().contains("give --by"), "{err}");
    }

    #[test]
    fn a_file_over_the_bounds_is_refused_without_reading_it() {
        let big = format!("{HEAD}{}", "3/3,2020-Q2,20,,,,\n".repeat(MAX_BYTES / 10));
        assert!(matches!(import(&big), Err(ImportError::TooBig { .. })));
        let many: String = (0..=MAX_ROWS)
            .map(|i| format!("3/3,2020-Q2,20,,,row {i},\n"))
            .collect();
        assert!(matches!(
            import(&format!("{HEAD}{many}")),
            Err(ImportError::TooBig { .. })
        ));
    }
}
