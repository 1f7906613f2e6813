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

/// The children held by their parents' ids until the streamed module takes them.
struct Children {
    /// Assessments by their request's id.
    assessments: HashMap<Box<str>, HeldAssessment>,
    /// Named plans by their assessment's id.
    plans: HashMap<Box<str>, NamedPlan>,
}

impl Children {
    /// The assessment of request `req_id`, with its plan; each is taken once.
    fn take(&mut self, req_id: &str) -> Option<Assessment> {
        self.assessments.remove(req_id).map(|a| Assessment {
            outcome: a.outcome,
            date: a.date.into(),
            week20: a.week20.into(),
            plan: self.plans.remove(&a.id),
        })
    }
}

/// One read of a set: its files, what is read, and the bytes held so far.
struct Join<'p> {
    files: Files,
    plan: &'p Plan,
    /// Reading active plans (else requests).
    active: bool,
    held: Held,
}

/// Read the set, sending its records of `plan.records` to `sink`: the modules under the
/// streamed one first, each checked against its parent, then the streamed one.
pub(in crate::load::read::sen2) fn read(
    set: Set,
    plan: &Plan,
    sink: &mut Sink,
) -> Result<(), Stop> {
    let mut join = Join {
        files: Files::open(set)?,
        plan,
        active: plan.records == Records::ActivePlans,
        held: Held(0),
    };
    let (returns, reference) = join.returns()?;
    let persons = join.persons(&returns, reference)?;
    let requests = if join.active {
        join.held_requests(&persons)?
    } else {
        HashMap::new()
    };
    let (assessments, assessment_ids) = join.assessments(&requests)?;
    let plans = join.named_plans(&assessment_ids)?;
    drop(assessment_ids);
    let mut children = Children { assessments, plans };
    sink.header(plan.records)?;
    if join.active {
        return join.stream_active(&requests, &mut children, sink);
    }
    join.stream_requests(&persons, &mut children, sink)?;
    // An assessment no request took: its request id names no row of the requests file.
    if let Some(a) = children.assessments.values().min_by_key(|a| a.line) {
        let file = join.files.name("assessment");
        return Err(at(
            &file,
            a.line,
            "its requeststableid names no row of the requests file (a broken join)",
        ));
    }
    Ok(())
}

/// The requests file's columns, as the streamed module reads them.
const REQUEST_COLUMNS: [&str; 5] = [
    "requeststableid",
    "persontableid",
    "receiveddate",
    "requestoutcome",
    "requestoutcomedate",
];

impl Join<'_> {
    /// sen2: the one return's id, and its reference date (for the NCY of an active plan).
    fn returns(&mut self) -> Result<(Vec<Box<str>>, Option<chrono::NaiveDate>), Stop> {
        let file = self.files.name("sen2");
        let active = self.active;
        let mut returns: Vec<Box<str>> = Vec::new();
        let mut reference = None;
        let want = ["sen2tableid", "referencedate"];
        self.files
            .each_row("sen2", &want, self.plan.max_record, &mut |line, f| {
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
            })?;
        Ok((returns, reference))
    }

    /// person: ids, and for active plans the NCY (the birth date goes no further).
    fn persons(
        &mut self,
        returns: &[Box<str>],
        reference: Option<chrono::NaiveDate>,
    ) -> Result<HashMap<Box<str>, Box<str>>, Stop> {
        let file = self.files.name("person");
        let active = self.active;
        let mut persons: HashMap<Box<str>, Box<str>> = HashMap::new();
        let want: &[&str] = if active {
            &["persontableid", "sen2tableid", "personbirthdate"]
        } else {
            &["persontableid", "sen2tableid"]
        };
        let held = &mut self.held;
        self.files
            .each_row("person", want, self.plan.max_record, &mut |line, f| {
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
        Ok(persons)
    }

    /// requests, held with their person's NCY when active plans are streamed.
    fn held_requests(
        &mut self,
        persons: &HashMap<Box<str>, Box<str>>,
    ) -> Result<HashMap<Box<str>, Box<str>>, Stop> {
        let file = self.files.name("requests");
        let mut requests: HashMap<Box<str>, Box<str>> = HashMap::new();
        let held = &mut self.held;
        let want = &REQUEST_COLUMNS[..2];
        self.files
            .each_row("requests", want, self.plan.max_record, &mut |line, f| {
                let Some(ncy) = persons.get(f[1]) else {
                    return Err(at(
                        &file,
                        line,
                        "its persontableid names no row of the person file (a broken join)",
                    ));
                };
                held.add(f[0].len() + ncy.len())?;
                if requests.insert(f[0].into(), ncy.clone()).is_some() {
                    return Err(at(
                        &file,
                        line,
                        "its requeststableid repeats an earlier row's",
                    ));
                }
                Ok(())
            })?;
        Ok(requests)
    }

    /// assessment, by request (checked against the held requests when active plans are read);
    /// and the set of assessment ids, for the plans' join.
    #[allow(clippy::type_complexity)]
    fn assessments(
        &mut self,
        requests: &HashMap<Box<str>, Box<str>>,
    ) -> Result<(HashMap<Box<str>, HeldAssessment>, HashSet<Box<str>>), Stop> {
        let file = self.files.name("assessment");
        let (active, codes) = (self.active, &self.plan.codes.assessment);
        let mut assessments: HashMap<Box<str>, HeldAssessment> = HashMap::new();
        let mut ids: HashSet<Box<str>> = HashSet::new();
        let want = [
            "assessmenttableid",
            "requeststableid",
            "assessmentoutcome",
            "assessmentoutcomedate",
            "week20",
        ];
        let held = &mut self.held;
        self.files
            .each_row("assessment", &want, self.plan.max_record, &mut |line, f| {
                if active && !requests.contains_key(f[1]) {
                    return Err(at(
                        &file,
                        line,
                        "its requeststableid names no row of the requests file (a broken join)",
                    ));
                }
                if !ids.insert(f[0].into()) {
                    return Err(at(
                        &file,
                        line,
                        "its assessmenttableid repeats an earlier row's",
                    ));
                }
                let outcome = code(codes, &file, line, "assessmentoutcome", f[2])?;
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
        Ok((assessments, ids))
    }

    /// namedplan, by assessment.
    fn named_plans(
        &mut self,
        assessment_ids: &HashSet<Box<str>>,
    ) -> Result<HashMap<Box<str>, NamedPlan>, Stop> {
        let file = self.files.name("namedplan");
        let mut plans: HashMap<Box<str>, NamedPlan> = HashMap::new();
        let mut ids: HashSet<Box<str>> = HashSet::new();
        let want = [
            "namedplantableid",
            "assessmenttableid",
            "startdate",
            "ceasedate",
        ];
        let held = &mut self.held;
        self.files
            .each_row("namedplan", &want, self.plan.max_record, &mut |line, f| {
                if !assessment_ids.contains(f[1]) {
                    return Err(at(
                        &file,
                        line,
                        "its assessmenttableid names no row of the assessment file (a broken join)",
                    ));
                }
                if !ids.insert(f[0].into()) {
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
        Ok(plans)
    }

    /// activeplans, streamed: each row sent with its request's assessment and plan.
    fn stream_active(
        &mut self,
        requests: &HashMap<Box<str>, Box<str>>,
        children: &mut Children,
        sink: &mut Sink,
    ) -> Result<(), Stop> {
        let file = self.files.name("activeplans");
        let codes = &self.plan.codes.review;
        let mut seen: HashSet<Box<str>> = HashSet::new();
        let mut seen_requests: HashSet<Box<str>> = HashSet::new();
        let want = [
            "activeplanstableid",
            "requeststableid",
            "reviewmeeting",
            "reviewoutcome",
            "lastreview",
        ];
        let held = &mut self.held;
        self.files.each_row(
            "activeplans",
            &want,
            self.plan.max_record,
            &mut |line, f| {
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
                let outcome = code(codes, &file, line, "reviewoutcome", f[3])?;
                let req = Request {
                    assessment: children.take(f[1]),
                    active: Some(ActivePlan {
                        line,
                        meeting: f[2].to_string(),
                        outcome,
                        decision: f[4].to_string(),
                    }),
                    ..Request::default()
                };
                req.send(line, ncy, Records::ActivePlans, sink)
            },
        )
    }

    /// requests, streamed: each row sent with its assessment and plan.
    fn stream_requests(
        &mut self,
        persons: &HashMap<Box<str>, Box<str>>,
        children: &mut Children,
        sink: &mut Sink,
    ) -> Result<(), Stop> {
        let file = self.files.name("requests");
        let codes = &self.plan.codes.request;
        let mut seen: HashSet<Box<str>> = HashSet::new();
        let held = &mut self.held;
        let want = REQUEST_COLUMNS;
        self.files
            .each_row("requests", &want, self.plan.max_record, &mut |line, f| {
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
                    outcome: code(codes, &file, line, "requestoutcome", f[3])?,
                    outcome_date: f[4].to_string(),
                    assessment: children.take(f[0]),
                    active: None,
                };
                req.send(line, "", Records::Requests, sink)
            })
    }
}
