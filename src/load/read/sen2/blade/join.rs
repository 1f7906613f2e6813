//! The Blade join: the modules under the streamed one held by their parents' ids (a few short
//! fields a row, within [`MAX_JOIN_BYTES`]), then the streamed module (`requests`, or
//! `activeplans`) read row by row, each row sent with its children. Every id is checked as it
//! is read: a repeat, a parent that is not there, or a second child where the return has one
//! refuses the set, naming the module's file, the line and the rule.

use std::collections::{HashMap, HashSet};

use super::{Files, Set, refuse};
use crate::load::read::sen2::codes::{CodeList, ncy, ncy_text};
use crate::load::read::sen2::{
    ActivePlan, Assessment, MAX_JOIN_BYTES, NamedPlan, Plan, Records, Request, Sink, Stop,
};
use crate::load::{DateFormat, cell};

/// Bytes the join holds, against [`MAX_JOIN_BYTES`].
struct Held(usize);

impl Held {
    fn add(&mut self, bytes: usize) -> Result<(), Stop> {
        self.0 += bytes + 64;
        if self.0 > MAX_JOIN_BYTES {
            return Err(refuse(
                1,
                format!(
                    "the Blade set holds more rows than sendwatch joins in memory (over \
                     {MAX_JOIN_BYTES} bytes of ids and items); it is refused"
                ),
            ));
        }
        Ok(())
    }
}

/// An assessment held until its request is read.
struct HeldAssessment {
    id: Box<str>,
    line: u64,
    outcome: Option<&'static str>,
    date: Box<str>,
    week20: Box<str>,
}

/// A refusal at `line` of `file`.
fn at(file: &str, line: u64, what: impl std::fmt::Display) -> Stop {
    refuse(line, format!("{file}: {what}; the set is refused"))
}

fn code(
    list: &CodeList,
    file: &str,
    line: u64,
    column: &str,
    value: &str,
) -> Result<Option<&'static str>, Stop> {
    list.meaning(value)
        .map_err(|_| refuse(line, format!("{file}, column {column}, {}", list.unknown())))
}

/// Read the set, sending its records of `plan.records` to `sink`.
pub(in crate::load::read::sen2) fn read(
    set: Set,
    plan: &Plan,
    sink: &mut Sink,
) -> Result<(), Stop> {
    let mut files = Files::open(set)?;
    let active = plan.records == Records::ActivePlans;
    let max = plan.max_record;
    let mut held = Held(0);

    // sen2: the one return, and its reference date (for the NCY of an active plan).
    let file = files.name("sen2");
    let mut returns: Vec<Box<str>> = Vec::new();
    let mut reference = None;
    files.each_row(
        "sen2",
        &["sen2tableid", "referencedate"],
        max,
        &mut |line, f| {
            if !returns.is_empty() {
                return Err(at(&file, line, "a second return (the set holds one)"));
            }
            returns.push(f[0].into());
            reference = cell::date(f[1], &[DateFormat::BladeTimestamp]).ok();
            if active && reference.is_none() {
                return Err(at(
                    &file,
                    line,
                    "referencedate is not a date (YYYY-Mon-DD 00:00:00)",
                ));
            }
            Ok(())
        },
    )?;

    // person: ids, and for active plans the NCY (the birth date goes no further).
    let file = files.name("person");
    let mut persons: HashMap<Box<str>, Box<str>> = HashMap::new();
    let want: &[&str] = if active {
        &["persontableid", "sen2tableid", "personbirthdate"]
    } else {
        &["persontableid", "sen2tableid"]
    };
    files.each_row("person", want, max, &mut |line, f| {
        if !returns.iter().any(|r| **r == *f[1]) {
            return Err(at(
                &file,
                line,
                "its sen2tableid names no return in the sen2 file (a broken join)",
            ));
        }
        let ncy_text: Box<str> = match (active, reference) {
            (true, Some(day)) if !f[2].is_empty() => {
                match cell::date(f[2], &[DateFormat::BladeTimestamp]) {
                    Ok(birth) => ncy_text(ncy(birth, day)).into(),
                    Err(_) => "?".into(),
                }
            }
            _ => "".into(),
        };
        held.add(f[0].len() + ncy_text.len())?;
        if persons.insert(f[0].into(), ncy_text).is_some() {
            return Err(at(
                &file,
                line,
                "its persontableid repeats an earlier row's",
            ));
        }
        Ok(())
    })?;

    // requests, held for active plans (streamed last for requests).
    let req_file = files.name("requests");
    let req_cols = [
        "requeststableid",
        "persontableid",
        "receiveddate",
        "requestoutcome",
        "requestoutcomedate",
    ];
    let mut requests: HashMap<Box<str>, Box<str>> = HashMap::new();
    if active {
        files.each_row("requests", &req_cols[..2], max, &mut |line, f| {
            let Some(ncy) = persons.get(f[1]) else {
                return Err(at(
                    &req_file,
                    line,
                    "its persontableid names no row of the person file (a broken join)",
                ));
            };
            held.add(f[0].len() + ncy.len())?;
            if requests.insert(f[0].into(), ncy.clone()).is_some() {
                return Err(at(
                    &req_file,
                    line,
                    "its requeststableid repeats an earlier row's",
                ));
            }
            Ok(())
        })?;
    }

    // assessment, by request.
    let file = files.name("assessment");
    let mut assessments: HashMap<Box<str>, HeldAssessment> = HashMap::new();
    let mut assessment_ids: HashSet<Box<str>> = HashSet::new();
    let want = [
        "assessmenttableid",
        "requeststableid",
        "assessmentoutcome",
        "assessmentoutcomedate",
        "week20",
    ];
    files.each_row("assessment", &want, max, &mut |line, f| {
        if active && !requests.contains_key(f[1]) {
            return Err(at(
                &file,
                line,
                "its requeststableid names no row of the requests file (a broken join)",
            ));
        }
        if !assessment_ids.insert(f[0].into()) {
            return Err(at(
                &file,
                line,
                "its assessmenttableid repeats an earlier row's",
            ));
        }
        let outcome = code(
            &plan.codes.assessment,
            &file,
            line,
            "assessmentoutcome",
            f[2],
        )?;
        held.add(2 * f[0].len() + f[1].len() + f[3].len() + f[4].len())?;
        let a = HeldAssessment {
            id: f[0].into(),
            line,
            outcome,
            date: f[3].into(),
            week20: f[4].into(),
        };
        if assessments.insert(f[1].into(), a).is_some() {
            return Err(at(
                &file,
                line,
                "a second assessment of one request (the return has one)",
            ));
        }
        Ok(())
    })?;

    // namedplan, by assessment.
    let file = files.name("namedplan");
    let mut plans: HashMap<Box<str>, NamedPlan> = HashMap::new();
    let mut plan_ids: HashSet<Box<str>> = HashSet::new();
    let want = [
        "namedplantableid",
        "assessmenttableid",
        "startdate",
        "ceasedate",
    ];
    files.each_row("namedplan", &want, max, &mut |line, f| {
        if !assessment_ids.contains(f[1]) {
            return Err(at(
                &file,
                line,
                "its assessmenttableid names no row of the assessment file (a broken join)",
            ));
        }
        if !plan_ids.insert(f[0].into()) {
            return Err(at(
                &file,
                line,
                "its namedplantableid repeats an earlier row's",
            ));
        }
        held.add(2 * f[0].len() + f[1].len() + f[2].len() + f[3].len())?;
        let p = NamedPlan {
            start: f[2].to_string(),
            cease: f[3].to_string(),
        };
        if plans.insert(f[1].into(), p).is_some() {
            return Err(at(
                &file,
                line,
                "a second plan from one assessment (the return has one)",
            ));
        }
        Ok(())
    })?;
    drop(assessment_ids);
    drop(plan_ids);

    let mut take_assessment = |req_id: &str| {
        assessments.remove(req_id).map(|a| Assessment {
            outcome: a.outcome,
            date: a.date.into(),
            week20: a.week20.into(),
            plan: plans.remove(&a.id),
        })
    };
    let mut seen: HashSet<Box<str>> = HashSet::new();
    let mut seen_requests: HashSet<Box<str>> = HashSet::new();
    if active {
        let file = files.name("activeplans");
        let want = [
            "activeplanstableid",
            "requeststableid",
            "reviewmeeting",
            "reviewoutcome",
            "lastreview",
        ];
        sink.header(plan.records)?;
        files.each_row("activeplans", &want, max, &mut |line, f| {
            let Some(ncy) = requests.get(f[1]) else {
                return Err(at(
                    &file,
                    line,
                    "its requeststableid names no row of the requests file (a broken join)",
                ));
            };
            held.add(f[0].len() + f[1].len())?;
            if !seen.insert(f[0].into()) {
                return Err(at(
                    &file,
                    line,
                    "its activeplanstableid repeats an earlier row's",
                ));
            }
            if !seen_requests.insert(f[1].into()) {
                return Err(at(
                    &file,
                    line,
                    "a second active plan of one request (the return has one)",
                ));
            }
            let outcome = code(&plan.codes.review, &file, line, "reviewoutcome", f[3])?;
            let req = Request {
                assessment: take_assessment(f[1]),
                active: Some(ActivePlan {
                    line,
                    meeting: f[2].to_string(),
                    outcome,
                    decision: f[4].to_string(),
                }),
                ..Request::default()
            };
            req.send(line, ncy, Records::ActivePlans, sink)
        })?;
        return Ok(());
    }

    sink.header(plan.records)?;
    let file = req_file;
    files.each_row("requests", &req_cols, max, &mut |line, f| {
        if !persons.contains_key(f[1]) {
            return Err(at(
                &file,
                line,
                "its persontableid names no row of the person file (a broken join)",
            ));
        }
        held.add(f[0].len())?;
        if !seen.insert(f[0].into()) {
            return Err(at(
                &file,
                line,
                "its requeststableid repeats an earlier row's",
            ));
        }
        let req = Request {
            received: f[2].to_string(),
            outcome: code(&plan.codes.request, &file, line, "requestoutcome", f[3])?,
            outcome_date: f[4].to_string(),
            assessment: take_assessment(f[0]),
            active: None,
        };
        req.send(line, "", Records::Requests, sink)
    })?;
    // An assessment no request took: its request id names no row of the requests file.
    if let Some(a) = assessments.values().min_by_key(|a| a.line) {
        let file = files.name("assessment");
        return Err(at(
            &file,
            a.line,
            "its requeststableid names no row of the requests file (a broken join)",
        ));
    }
    Ok(())
}
