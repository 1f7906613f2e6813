//! The EHCP needs-assessment tracker: its columns, its rows, and the checks every row passes.
//!
//! Accepted: UTF-8 with or without a BOM, LF or CRLF line ends, quoted fields, columns in any
//! order. Rejected: an empty file, a header without data rows, missing, unknown or repeated
//! columns, rows with the wrong number of fields, bytes that are not UTF-8, dates that are not
//! ISO `YYYY-MM-DD` or fall outside 1 Sep 2014 (EHCPs began) .. the fetch date, dates out of
//! process order, repeated case ids, unknown statuses, flags other than Y/N, oversized text.

use std::collections::HashMap;
use std::str::FromStr;

use chrono::NaiveDate;

use super::LoadError;
use super::problem::Problems;

/// Columns of the tracker, in the order the extract writes them.
pub const TRACKER_COLUMNS: [&str; 13] = [
    "case_id",
    "request_received_date",
    "decision_to_assess_date",
    "health_advice_requested_date",
    "health_advice_returned_date",
    "draft_plan_issued_date",
    "final_plan_issued_date",
    "status",
    "ncy",
    "school_phase",
    "caseworker_team",
    "looked_after",
    "out_of_borough",
];

/// EHC plans began with the Children and Families Act 2014 on 1 September 2014.
const EARLIEST: NaiveDate = match NaiveDate::from_ymd_opt(2014, 9, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};
const MAX_TEXT: usize = 100;
const MAX_ID: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CaseStatus {
    AwaitingDecision,
    NotAgreedToAssess,
    AssessmentInProgress,
    NotIssuingPlan,
    DraftPlanIssued,
    FinalPlanIssued,
    Withdrawn,
}

impl CaseStatus {
    const ALL: [CaseStatus; 7] = [
        CaseStatus::AwaitingDecision,
        CaseStatus::NotAgreedToAssess,
        CaseStatus::AssessmentInProgress,
        CaseStatus::NotIssuingPlan,
        CaseStatus::DraftPlanIssued,
        CaseStatus::FinalPlanIssued,
        CaseStatus::Withdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::AwaitingDecision => "Awaiting decision",
            CaseStatus::NotAgreedToAssess => "Not agreed to assess",
            CaseStatus::AssessmentInProgress => "Assessment in progress",
            CaseStatus::NotIssuingPlan => "Not issuing plan",
            CaseStatus::DraftPlanIssued => "Draft plan issued",
            CaseStatus::FinalPlanIssued => "Final plan issued",
            CaseStatus::Withdrawn => "Withdrawn",
        }
    }

    /// Still moving towards a plan: the 20-week clock is running.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            CaseStatus::AwaitingDecision
                | CaseStatus::AssessmentInProgress
                | CaseStatus::DraftPlanIssued
        )
    }
}

impl FromStr for CaseStatus {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        CaseStatus::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or(())
    }
}

/// One request for an EHC needs assessment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackerCase {
    /// Pseudonymous id from the source system; never shown in logs or email.
    pub case_id: String,
    pub request_received: NaiveDate,
    pub decision_to_assess: Option<NaiveDate>,
    pub health_advice_requested: Option<NaiveDate>,
    pub health_advice_returned: Option<NaiveDate>,
    pub draft_plan_issued: Option<NaiveDate>,
    pub final_plan_issued: Option<NaiveDate>,
    pub status: CaseStatus,
    pub ncy: String,
    pub school_phase: String,
    pub caseworker_team: String,
    pub looked_after: bool,
    pub out_of_borough: bool,
    /// Line of the extract the case came from (for tracing a figure back to its rows).
    pub line: u64,
}

/// An accepted extract.
#[derive(Debug, Clone)]
pub struct ParsedTracker {
    pub cases: Vec<TrackerCase>,
    /// The latest date anywhere in the extract: how far its events reach.
    pub as_of: NaiveDate,
}

/// Parse and validate a whole tracker extract. `file` names it in errors; `today` is the
/// fetch date (no event may be later).
pub fn parse_tracker(
    file: &str,
    bytes: &[u8],
    today: NaiveDate,
) -> Result<ParsedTracker, LoadError> {
    if bytes.is_empty() {
        return Err(LoadError::Empty {
            file: file.to_string(),
        });
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let ends_mid_row = !bytes.ends_with(b"\n");
    let mut problems = Problems::default();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut records = reader.byte_records();

    let header = match records.next() {
        Some(Ok(h)) => h,
        Some(Err(e)) => {
            problems.push(
                csv_line(&e),
                None,
                format!("unreadable header: {}", csv_kind(&e)),
            );
            return problems.into_result(file, unreachable_tracker());
        }
        None => {
            return Err(LoadError::Empty {
                file: file.to_string(),
            });
        }
    };
    let Some(cols) = read_header(&header, &mut problems) else {
        return problems.into_result(file, unreachable_tracker());
    };

    let mut cases = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut as_of = EARLIEST;
    let mut last_line = 1;
    let mut lines = LineCounter::new(bytes);
    let mut iter = records.peekable();
    while let Some(record) = iter.next() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                problems.push(
                    csv_line(&e),
                    None,
                    format!("unreadable row: {}", csv_kind(&e)),
                );
                break;
            }
        };
        // Counted from the byte offset: the csv crate's own line count is one short per row
        // in CRLF files.
        let line = record
            .position()
            .map_or(last_line + 1, |p| lines.line_at(p.byte()));
        last_line = line;
        let is_last = iter.peek().is_none();
        if record.len() != header.len() {
            let mut msg = format!(
                "has {} fields, the header has {}",
                record.len(),
                header.len()
            );
            if is_last && ends_mid_row {
                msg.push_str("; the file ends in the middle of this row, so it looks truncated");
            }
            problems.push(line, None, msg);
            continue;
        }
        let before = problems.total;
        let case = Row {
            record: &record,
            cols: &cols,
            line,
            today,
            problems: &mut problems,
        }
        .read();
        if is_last && ends_mid_row && problems.total > before {
            problems.push(
                line,
                None,
                "the file ends in the middle of this row, so it looks truncated",
            );
        }
        if let Some(case) = case {
            match seen.get(&case.case_id) {
                Some(first) => problems.push(
                    line,
                    Some((cols.index[0] + 1, TRACKER_COLUMNS[0])),
                    format!("case id repeats the one on line {first}"),
                ),
                None => {
                    seen.insert(case.case_id.clone(), line);
                    as_of = as_of.max(latest_date(&case));
                    cases.push(case);
                }
            }
        }
    }
    if cases.is_empty() && problems.total == 0 {
        problems.push(1, None, "the header has no data rows under it");
    }
    problems.into_result(file, ParsedTracker { cases, as_of })
}

// Placeholder value for `into_result` paths that always carry problems.
fn unreachable_tracker() -> ParsedTracker {
    ParsedTracker {
        cases: Vec::new(),
        as_of: EARLIEST,
    }
}

/// 1-based line numbers for byte offsets, counted forward once through the file.
struct LineCounter<'a> {
    bytes: &'a [u8],
    offset: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        LineCounter {
            bytes,
            offset: 0,
            line: 1,
        }
    }

    /// Line of the record found at `offset`; offsets must not go backwards. The csv reader
    /// may report a record as starting on the line break before it (the `\n` of a CRLF, or
    /// a blank line it skipped), so line breaks at the offset are stepped over first.
    fn line_at(&mut self, offset: u64) -> u64 {
        let mut end = (offset as usize).min(self.bytes.len());
        while end < self.bytes.len() && matches!(self.bytes[end], b'\r' | b'\n') {
            end += 1;
        }
        if end > self.offset {
            self.line += self.bytes[self.offset..end]
                .iter()
                .filter(|b| **b == b'\n')
                .count() as u64;
            self.offset = end;
        }
        self.line
    }
}

fn csv_line(e: &csv::Error) -> u64 {
    e.position().map_or(0, |p| p.line())
}

fn csv_kind(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Io(io) => io.to_string(),
        other => format!("{other:?}"),
    }
}

/// Where each known column sits in the file.
struct Columns {
    /// File position (0-based) of each of [`TRACKER_COLUMNS`].
    index: [usize; 13],
}

fn read_header(header: &csv::ByteRecord, problems: &mut Problems) -> Option<Columns> {
    let mut index = [usize::MAX; 13];
    for (pos, raw) in header.iter().enumerate() {
        let Ok(name) = std::str::from_utf8(raw) else {
            problems.push(1, Some((pos + 1, "?")), "column name is not valid UTF-8");
            continue;
        };
        let name = name.trim();
        match TRACKER_COLUMNS.iter().position(|c| *c == name) {
            Some(i) if index[i] != usize::MAX => problems.push(
                1,
                Some((pos + 1, name)),
                format!("column repeats column {}", index[i] + 1),
            ),
            Some(i) => index[i] = pos,
            None => problems.push(
                1,
                Some((pos + 1, name)),
                "unexpected column: not part of the tracker extract (columns may have shifted)",
            ),
        }
    }
    for (i, name) in TRACKER_COLUMNS.iter().enumerate() {
        if index[i] == usize::MAX {
            problems.push(1, None, format!("missing column `{name}`"));
        }
    }
    (problems.total == 0).then_some(Columns { index })
}

fn latest_date(c: &TrackerCase) -> NaiveDate {
    [
        Some(c.request_received),
        c.decision_to_assess,
        c.health_advice_requested,
        c.health_advice_returned,
        c.draft_plan_issued,
        c.final_plan_issued,
    ]
    .into_iter()
    .flatten()
    .max()
    .unwrap_or(c.request_received)
}

/// One data row being read; problems go to the shared list.
struct Row<'a> {
    record: &'a csv::ByteRecord,
    cols: &'a Columns,
    line: u64,
    today: NaiveDate,
    problems: &'a mut Problems,
}

impl Row<'_> {
    fn read(mut self) -> Option<TrackerCase> {
        let before = self.problems.total;
        let case_id = self.text(0, MAX_ID, true);
        let request_received = self.date(1);
        let decision_to_assess = self.date(2);
        let health_advice_requested = self.date(3);
        let health_advice_returned = self.date(4);
        let draft_plan_issued = self.date(5);
        let final_plan_issued = self.date(6);
        let status = self.status(7);
        let ncy = self.ncy(8);
        let school_phase = self.text(9, MAX_TEXT, false);
        let caseworker_team = self.text(10, MAX_TEXT, false);
        let looked_after = self.flag(11);
        let out_of_borough = self.flag(12);
        if request_received.is_none() && self.problems.total == before {
            self.at(1, "required date is blank");
        }
        if self.problems.total != before {
            return None;
        }
        let case = TrackerCase {
            case_id: case_id?,
            request_received: request_received?,
            decision_to_assess,
            health_advice_requested,
            health_advice_returned,
            draft_plan_issued,
            final_plan_issued,
            status: status?,
            ncy: ncy?,
            school_phase: school_phase?,
            caseworker_team: caseworker_team?,
            looked_after: looked_after?,
            out_of_borough: out_of_borough?,
            line: self.line,
        };
        self.check_order(&case);
        (self.problems.total == before).then_some(case)
    }

    fn at(&mut self, col: usize, message: impl Into<String>) {
        let pos = self.cols.index[col] + 1;
        self.problems
            .push(self.line, Some((pos, TRACKER_COLUMNS[col])), message);
    }

    fn raw(&mut self, col: usize) -> Option<&str> {
        let bytes = &self.record[self.cols.index[col]];
        match std::str::from_utf8(bytes) {
            Ok(s) => Some(s),
            Err(e) => {
                let bad = bytes.get(e.valid_up_to()).copied().unwrap_or(0);
                let pos = self.cols.index[col] + 1;
                self.problems.push(
                    self.line,
                    Some((pos, TRACKER_COLUMNS[col])),
                    format!(
                        "not valid UTF-8 (byte 0x{bad:02X}); the extract must be UTF-8, and this \
                         looks like Windows-1252"
                    ),
                );
                None
            }
        }
    }

    fn text(&mut self, col: usize, max: usize, required: bool) -> Option<String> {
        let s = self.raw(col)?.to_string();
        if required && s.trim().is_empty() {
            self.at(col, "required value is blank");
            return None;
        }
        if s.chars().count() > max {
            self.at(
                col,
                format!(
                    "value is {} characters long; at most {max} allowed",
                    s.chars().count()
                ),
            );
            return None;
        }
        if s.chars().any(char::is_control) {
            self.at(col, "value contains a line break or control character");
            return None;
        }
        Some(s)
    }

    fn date(&mut self, col: usize) -> Option<NaiveDate> {
        let s = self.raw(col)?;
        if s.is_empty() {
            return None;
        }
        // Exactly YYYY-MM-DD: chrono alone would accept "2019-3-5" and ignore nothing else.
        let shaped = s.len() == 10
            && s.bytes().enumerate().all(|(i, b)| {
                if i == 4 || i == 7 {
                    b == b'-'
                } else {
                    b.is_ascii_digit()
                }
            });
        let parsed = shaped
            .then(|| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
            .flatten();
        match parsed {
            None if shaped => {
                self.at(col, "not a real calendar date");
                None
            }
            None => {
                self.at(col, "not an ISO date (YYYY-MM-DD)");
                None
            }
            Some(d) if d < EARLIEST => {
                self.at(
                    col,
                    format!("date is before {EARLIEST}, when EHC plans began"),
                );
                None
            }
            Some(d) if d > self.today => {
                self.at(
                    col,
                    format!(
                        "date is in the future (after the fetch date {})",
                        self.today
                    ),
                );
                None
            }
            Some(d) => Some(d),
        }
    }

    fn status(&mut self, col: usize) -> Option<CaseStatus> {
        let s = self.raw(col)?;
        match s.parse() {
            Ok(st) => Some(st),
            Err(()) => {
                let known: Vec<_> = CaseStatus::ALL.iter().map(|c| c.as_str()).collect();
                self.at(
                    col,
                    format!("unknown status; expected one of: {}", known.join(", ")),
                );
                None
            }
        }
    }

    fn ncy(&mut self, col: usize) -> Option<String> {
        let s = self.raw(col)?.to_string();
        let ok = s == "post-16" || s.parse::<i32>().is_ok_and(|n| (-1..=14).contains(&n));
        if ok {
            Some(s)
        } else {
            self.at(col, "national curriculum year must be -1 to 14 or post-16");
            None
        }
    }

    fn flag(&mut self, col: usize) -> Option<bool> {
        match self.raw(col)? {
            "Y" => Some(true),
            "N" => Some(false),
            _ => {
                self.at(col, "flag must be Y or N");
                None
            }
        }
    }

    /// Dates must follow the process: request, decision, health advice, draft, final.
    fn check_order(&mut self, c: &TrackerCase) {
        let pairs: [(usize, Option<NaiveDate>, usize, Option<NaiveDate>); 7] = [
            (2, c.decision_to_assess, 1, Some(c.request_received)),
            (3, c.health_advice_requested, 1, Some(c.request_received)),
            (3, c.health_advice_requested, 2, c.decision_to_assess),
            (4, c.health_advice_returned, 3, c.health_advice_requested),
            (5, c.draft_plan_issued, 2, c.decision_to_assess),
            (6, c.final_plan_issued, 5, c.draft_plan_issued),
            (6, c.final_plan_issued, 1, Some(c.request_received)),
        ];
        for (later, later_date, earlier, earlier_date) in pairs {
            if let (Some(l), Some(e)) = (later_date, earlier_date)
                && l < e
            {
                self.at(
                    later,
                    format!("date is before {}", TRACKER_COLUMNS[earlier]),
                );
            }
        }
        if c.health_advice_returned.is_some() && c.health_advice_requested.is_none() {
            self.at(4, "health advice returned but never requested");
        }
        if (c.status == CaseStatus::FinalPlanIssued) != c.final_plan_issued.is_some() {
            self.at(7, "status and final_plan_issued_date disagree");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "case_id,request_received_date,decision_to_assess_date,health_advice_requested_date,health_advice_returned_date,draft_plan_issued_date,final_plan_issued_date,status,ncy,school_phase,caseworker_team,looked_after,out_of_borough\n";

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).expect("date")
    }

    fn parse(body: &str) -> Result<ParsedTracker, LoadError> {
        parse_tracker("t.csv", format!("{HEADER}{body}").as_bytes(), today())
    }

    #[test]
    fn accepts_a_good_row_and_reports_as_of() {
        let p = parse("C1,2020-01-02,2020-02-01,2020-02-03,2020-03-01,2020-04-01,2020-05-01,Final plan issued,5,Primary,North,N,Y\n")
            .expect("valid");
        assert_eq!(p.cases.len(), 1);
        assert_eq!(p.cases[0].line, 2);
        assert!(p.cases[0].out_of_borough);
        assert_eq!(p.as_of, NaiveDate::from_ymd_opt(2020, 5, 1).expect("date"));
    }

    #[test]
    fn bad_date_names_line_and_column_without_the_value() {
        let err = parse(
            "C1,2020-01-02,,,,,,Awaiting decision,5,Primary,North,N,N\nC2,31/02/2020,,,,,,Awaiting decision,5,Primary,North,N,N\n",
        )
        .unwrap_err();
        let p = &err.problems()[0];
        assert_eq!(p.line, 3);
        assert_eq!(p.column, Some((2, "request_received_date".into())));
        assert!(!err.to_string().contains("31/02/2020"), "{err}");
    }

    #[test]
    fn columns_may_come_in_any_order() {
        let text = "status,case_id,request_received_date,decision_to_assess_date,health_advice_requested_date,health_advice_returned_date,draft_plan_issued_date,final_plan_issued_date,ncy,school_phase,caseworker_team,looked_after,out_of_borough\r\nAwaiting decision,C9,2021-01-01,,,,,,post-16,Post-16,Preparing for Adulthood,N,N\r\n";
        let p = parse_tracker("t.csv", text.as_bytes(), today()).expect("valid");
        assert_eq!(p.cases[0].ncy, "post-16");
        assert_eq!(p.cases[0].line, 2, "CRLF files count lines like LF files");
    }

    #[test]
    fn process_order_is_checked() {
        let err =
            parse("C1,2020-03-02,2020-02-01,,,,,Assessment in progress,5,Primary,North,N,N\n")
                .unwrap_err();
        assert_eq!(
            err.problems()[0].column,
            Some((3, "decision_to_assess_date".into()))
        );
    }
}
