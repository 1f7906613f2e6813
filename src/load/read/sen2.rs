//! SEN2: the DfE's person-level return, as XML ([`xml`]) or as COLLECT's Blade CSV export
//! ([`blade`]), read as a stream of records of one of two projections ([`Records`]): its
//! requests for assessment, or its active plans. The source's kind takes the fields it
//! names; the loader checks them like any extract's.
//!
//! **Minimisation.** Only the items the KPIs need are read: dates, outcome codes (as their
//! meanings), the Week20 flag, review dates and outcome, and, for active plans, the
//! national curriculum year derived in memory from the birth date. Names, birth date,
//! postcode, UPN, ULN and every other item are skipped as they stream past: never copied
//! into a record, an error or a log. The key is a number per load in the return's order.
//!
//! **Bounds.** The XML streams an event at a time, each event within `max_record_bytes`
//! (plus a little for a tag), and holds one person's records at most; the Blade join holds
//! the child modules' few fields per row within [`MAX_JOIN_BYTES`], and a zip's entries are
//! unpacked through a counter within [`MAX_UNPACKED`]. A record over `max_record_bytes` is
//! refused, as in every reader.
//!
//! **Errors** name the file (a Blade module's file name), the line, the element path or
//! column, and the rule; never a value. A row's line is its `Requests` (or `ActivePlans`)
//! element's line in the XML, or its line in the Blade requests (activeplans) file.
//!
//! **Thread.** Each reader runs on a worker thread that sends records through a small
//! bounded channel (a zip's entry borrows its archive); dropping the reader stops the worker
//! at its next record.

pub mod blade;
// The settings and code lists live beside the load's settings (they are settings: the
// reader, like `load::settings`, reads them; neither reads the other's reader).
pub use crate::load::sen2_codes as codes;
mod xml;

use std::path::Path;
use std::sync::mpsc::SyncSender;

pub use codes::{ACTIVE_PLAN_FIELDS, REQUEST_FIELDS, Records, Sen2Settings};

use super::worker::{self, Msg, WorkerReader};
use super::{ReadError, Record};
use crate::load::LoadSettings;
use codes::Codes;

/// Most bytes the Blade join may hold (ids and a few short fields per child row: a large
/// county's return takes a few MiB).
pub const MAX_JOIN_BYTES: usize = 128 << 20;
/// Most bytes all of a Blade zip's entries read may unpack to.
pub const MAX_UNPACKED: u64 = 2 << 30;
/// Beyond `max_record_bytes`, how long one XML tag may be (its attributes).
const EVENT_SLACK: usize = 64 * 1024;
/// Records buffered between the worker and the reader.
const QUEUE: usize = 16;

/// What a reader needs to know: the records to yield, the code lists, the record bound.
#[derive(Debug, Clone)]
pub struct Plan {
    pub records: Records,
    pub codes: Codes,
    pub max_record: usize,
}

impl Plan {
    pub fn of(settings: &LoadSettings) -> Plan {
        Plan {
            records: settings.sen2.records.unwrap_or(Records::Requests),
            codes: settings.sen2.codes(),
            max_record: settings.max_record_bytes,
        }
    }
}

/// The worker's end of the channel: the header first, then one record at a time.
pub(crate) struct Sink {
    tx: SyncSender<Msg>,
    next_no: u64,
    sent: u64,
    max_record: usize,
}

/// The reader hung up; the worker stops quietly.
pub(crate) struct Gone;

/// Why a worker stopped early.
pub(crate) enum Stop {
    Gone,
    Fail(ReadError),
}

impl From<ReadError> for Stop {
    fn from(e: ReadError) -> Stop {
        Stop::Fail(e)
    }
}

impl From<Gone> for Stop {
    fn from(_: Gone) -> Stop {
        Stop::Gone
    }
}

impl Sink {
    /// Send the header: the projection's field names.
    pub fn header(&mut self, records: Records) -> Result<(), Gone> {
        let mut rec = Record {
            line: 1,
            ..Record::default()
        };
        for f in records.fields() {
            rec.push(f.as_bytes());
        }
        self.tx.send(Msg::Row(rec)).map_err(|_| Gone)
    }

    /// Send one record: its number first, then `fields` (the projection's others, in order).
    pub fn record(&mut self, line: u64, fields: &[&str]) -> Result<(), Stop> {
        self.next_no += 1;
        let mut rec = Record {
            line,
            ..Record::default()
        };
        rec.push(self.next_no.to_string().as_bytes());
        for f in fields {
            rec.push(f.as_bytes());
        }
        if rec.size() > self.max_record {
            return Err(Stop::Fail(ReadError::too_long(line, self.max_record)));
        }
        self.sent += 1;
        self.tx.send(Msg::Row(rec)).map_err(|_| Stop::Gone)
    }
}

/// Run `work` on a worker thread, feeding the reader it returns; a return that holds no
/// record of the projection is refused.
fn spawn<F>(plan: &Plan, work: F) -> std::io::Result<WorkerReader>
where
    F: FnOnce(&mut Sink) -> Result<(), Stop> + Send + 'static,
{
    let records = plan.records;
    let max_record = plan.max_record;
    let stopped = "the SEN2 reader stopped before the end of the return";
    worker::spawn("sen2-reader", QUEUE, stopped, move |tx| {
        let mut sink = Sink {
            tx: tx.clone(),
            next_no: 0,
            sent: 0,
            max_record,
        };
        match work(&mut sink) {
            Ok(()) if sink.sent == 0 => Some(Msg::Fail(ReadError::new(
                1,
                format!(
                    "the return holds no {} records, so there is nothing to load",
                    match records {
                        Records::Requests => "Requests",
                        Records::ActivePlans => "ActivePlans",
                    }
                ),
            ))),
            Ok(()) => Some(Msg::End),
            Err(Stop::Fail(e)) => Some(Msg::Fail(e)),
            Err(Stop::Gone) => None,
        }
    })
}

/// A SEN2 XML return read from `input`.
pub fn xml_reader<R>(input: R, settings: &LoadSettings) -> std::io::Result<WorkerReader>
where
    R: std::io::Read + Send + 'static,
{
    let plan = Plan::of(settings);
    let worker = plan.clone();
    spawn(&plan, move |sink| xml::read(input, &worker, sink))
}

/// A Blade export at `path`: a folder of its module files, or a zip of them.
pub fn blade_reader(path: &Path, settings: &LoadSettings) -> std::io::Result<WorkerReader> {
    let plan = Plan::of(settings);
    let worker = plan.clone();
    let set = blade::Set::open(path)?;
    spawn(&plan, move |sink| blade::read(set, &worker, sink))
}

/// A Blade export held in memory as a zip (tests and small tools).
pub fn blade_zip_reader(bytes: Vec<u8>, settings: &LoadSettings) -> std::io::Result<WorkerReader> {
    let plan = Plan::of(settings);
    let worker = plan.clone();
    let set = blade::Set::Zip(Box::new(std::io::Cursor::new(bytes)));
    spawn(&plan, move |sink| blade::read(set, &worker, sink))
}

/// The items of one `Requests` record the projections read, raw as the file gives them
/// (dates and flags are checked by the loader; codes were looked up as they were read).
#[derive(Debug, Default)]
pub(crate) struct Request {
    pub received: String,
    pub outcome: Option<&'static str>,
    pub outcome_date: String,
    pub assessment: Option<Assessment>,
    pub active: Option<ActivePlan>,
}

#[derive(Debug, Default)]
pub(crate) struct Assessment {
    pub outcome: Option<&'static str>,
    pub date: String,
    pub week20: String,
    pub plan: Option<NamedPlan>,
}

#[derive(Debug, Default)]
pub(crate) struct NamedPlan {
    pub start: String,
    pub cease: String,
}

#[derive(Debug, Default)]
pub(crate) struct ActivePlan {
    /// Line of the record (its element, or its row in the Blade file).
    pub line: u64,
    pub meeting: String,
    pub outcome: Option<&'static str>,
    pub decision: String,
}

impl Request {
    /// Bytes held (for the bounds on what is buffered).
    pub fn size(&self) -> usize {
        let a = self.assessment.as_ref().map_or(0, |a| {
            a.date.len()
                + a.week20.len()
                + a.plan.as_ref().map_or(0, |p| p.start.len() + p.cease.len())
        });
        let p = self
            .active
            .as_ref()
            .map_or(0, |p| p.meeting.len() + p.decision.len());
        self.received.len() + self.outcome_date.len() + a + p + 128
    }

    /// Send this request's record for `records` (none for active plans when it has no
    /// `ActivePlans`). `line` is the `Requests` record's; `ncy` the person's, as written.
    pub fn send(
        &self,
        line: u64,
        ncy: &str,
        records: Records,
        sink: &mut Sink,
    ) -> Result<(), Stop> {
        let a = self.assessment.as_ref();
        let plan = a.and_then(|a| a.plan.as_ref());
        match records {
            Records::Requests => sink.record(
                line,
                &[
                    &self.received,
                    self.outcome.unwrap_or(""),
                    &self.outcome_date,
                    a.and_then(|a| a.outcome).unwrap_or(""),
                    a.map_or("", |a| a.date.as_str()),
                    a.map_or("", |a| a.week20.as_str()),
                    plan.map_or("", |p| p.start.as_str()),
                ],
            ),
            Records::ActivePlans => {
                let Some(active) = &self.active else {
                    return Ok(());
                };
                sink.record(
                    active.line,
                    &[
                        ncy,
                        plan.map_or("", |p| p.start.as_str()),
                        plan.map_or("", |p| p.cease.as_str()),
                        &active.meeting,
                        active.outcome.unwrap_or(""),
                        &active.decision,
                    ],
                )
            }
        }
    }
}

#[cfg(test)]
mod tests;
