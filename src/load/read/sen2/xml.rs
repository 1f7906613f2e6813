//! SEN2 XML, streamed an event at a time with quick-xml: no DOM, no document held. Each event
//! (a tag, or a run of text) is bounded as it is read ([`Src`]); the items read are kept per
//! `Requests` record and sent when their `Person` closes (the order of a person's items is
//! unconfirmed, so the birth date may follow the requests); every other item streams past.
//!
//! Element names match without regard to case (sources spell some differently, SEN2.md
//! section 3). Elements sendwatch does not know are skipped, and their names logged once, if
//! they are plain words; their content never is.

use std::io::{BufRead, Read};

use chrono::NaiveDate;
use quick_xml::events::Event;

use super::codes::{ncy, ncy_text};
use super::{ActivePlan, Assessment, EVENT_SLACK, NamedPlan, Plan, Records, Request, Sink, Stop};
use crate::load::read::ReadError;
use crate::load::{DateFormat, cell};

mod names;
use names::{El, Item, classify};

/// Deepest nesting read (a return nests 7 deep).
const MAX_DEPTH: usize = 32;
/// Most distinct unknown element names logged.
const MAX_LOGGED: usize = 20;
const BUF: usize = 64 * 1024;

/// The input, counting lines and bounding what one event may take.
struct Src<R> {
    inner: R,
    buf: Box<[u8]>,
    pos: usize,
    end: usize,
    /// Bytes taken since the current event began, and its bound.
    event: usize,
    event_max: usize,
    /// Line breaks consumed.
    lines: u64,
    tripped: bool,
}

impl<R: Read> Read for Src<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        crate::load::read::read_buffered(self, out)
    }
}

impl<R: Read> BufRead for Src<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        if self.event > self.event_max {
            self.tripped = true;
            return Err(std::io::Error::other("event bound reached"));
        }
        if self.pos == self.end {
            let n = loop {
                match self.inner.read(&mut self.buf) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            };
            self.pos = 0;
            self.end = n;
        }
        // No more than the event may still take (and one byte over, to see it pass).
        let allow = (self.event_max - self.event).saturating_add(1);
        Ok(&self.buf[self.pos..self.end.min(self.pos + allow)])
    }

    fn consume(&mut self, n: usize) {
        let taken = &self.buf[self.pos..self.pos + n];
        self.lines += memchr::memchr_iter(b'\n', taken).count() as u64;
        self.pos += n;
        self.event += n;
    }
}

/// One person being read: the derived NCY and the requests read so far.
#[derive(Default)]
struct Person {
    ncy: Option<i32>,
    /// The birth date could not be read: the NCY is unknown, and its rows say so.
    bad_birth: bool,
    seen_birth: bool,
    pending: Vec<(u64, Request)>,
    bytes: usize,
}

struct Walk<'a> {
    plan: &'a Plan,
    stack: Vec<(El, &'static str)>,
    /// The text of the item being read, and its line.
    text: Option<String>,
    item_line: u64,
    reference: Option<NaiveDate>,
    person: Option<Person>,
    request: Option<(u64, Request, u32)>,
    logged: Vec<String>,
}

/// Read a return from `input`, sending its records of `plan.records` to `sink`.
pub(super) fn read<R: Read>(input: R, plan: &Plan, sink: &mut Sink) -> Result<(), Stop> {
    let src = Src {
        inner: input,
        buf: vec![0; BUF].into_boxed_slice(),
        pos: 0,
        end: 0,
        event: 0,
        event_max: plan.max_record.saturating_add(EVENT_SLACK),
        lines: 0,
        tripped: false,
    };
    let mut reader = quick_xml::Reader::from_reader(src);
    let config = reader.config_mut();
    config.expand_empty_elements = false;
    config.check_end_names = true;
    config.trim_text(false);
    let mut walk = Walk {
        plan,
        stack: Vec::new(),
        text: None,
        item_line: 0,
        reference: None,
        person: None,
        request: None,
        logged: Vec::new(),
    };
    let mut buf = Vec::with_capacity(1024);
    let mut rooted = false;
    loop {
        buf.clear();
        reader.get_mut().event = 0;
        let line = reader.get_ref().lines + 1;
        let event = match reader.read_event_into(&mut buf) {
            Ok(e) => e,
            Err(e) => {
                let src = reader.get_ref();
                return Err(Stop::Fail(xml_error(&e, src.tripped, src.lines + 1, plan)));
            }
        };
        match event {
            Event::Start(e) | Event::Empty(e) if walk.stack.is_empty() && rooted => {
                let _ = e;
                return Err(fail(line, "a second root element follows the first"));
            }
            Event::Start(e) => {
                if !rooted {
                    rooted = true;
                    sink.header(plan.records)?;
                }
                walk.start(&e.local_name().as_ref().to_ascii_lowercase(), line)?;
            }
            Event::Empty(e) => {
                if !rooted {
                    rooted = true;
                    sink.header(plan.records)?;
                }
                walk.start(&e.local_name().as_ref().to_ascii_lowercase(), line)?;
                walk.end(line, sink)?;
            }
            Event::End(_) => walk.end(line, sink)?,
            // Text outside an item read is not looked at.
            Event::Text(t) if walk.text.is_some() => walk.push(&t.xml10_content(), line)?,
            Event::CData(t) if walk.text.is_some() => walk.push(&t.xml10_content(), line)?,
            Event::GeneralRef(r) if walk.text.is_some() => {
                let mut tmp = [0u8; 4];
                let s: &str = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.encode_utf8(&mut tmp),
                    Ok(None) => quick_xml::escape::resolve_xml_entity(&r)
                        .ok_or_else(|| fail(line, "the XML names an entity it does not define"))?,
                    Err(_) => return Err(fail(line, "the XML holds a broken character reference")),
                };
                walk.push(s, line)?;
            }
            Event::Eof => break,
            Event::Text(_)
            | Event::CData(_)
            | Event::GeneralRef(_)
            | Event::Comment(_)
            | Event::Decl(_)
            | Event::PI(_)
            | Event::DocType(_) => {}
        }
    }
    let line = reader.get_ref().lines + 1;
    if !rooted {
        return Err(fail(line, "the file holds no XML element (is it empty?)"));
    }
    if !walk.stack.is_empty() {
        return Err(fail(
            line,
            format!("the file ends inside {}: it looks cut off", walk.path()),
        ));
    }
    Ok(())
}

fn fail(line: u64, message: impl Into<String>) -> Stop {
    Stop::Fail(ReadError::new(line, message))
}

/// A parser error in words that quote nothing from the file.
fn xml_error(e: &quick_xml::Error, tripped: bool, line: u64, plan: &Plan) -> ReadError {
    use quick_xml::errors::{Error, IllFormedError};
    let what = match e {
        _ if tripped => format!(
            "one tag or run of text is longer than {} bytes (load.max_record_bytes); the file \
             is refused",
            plan.max_record
        ),
        Error::IllFormed(IllFormedError::MismatchedEndTag { .. }) => {
            "an end tag does not match the element it closes: the XML is not well-formed".into()
        }
        Error::IllFormed(IllFormedError::UnmatchedEndTag(_)) => {
            "an end tag closes no open element: the XML is not well-formed".into()
        }
        Error::IllFormed(IllFormedError::MissingEndTag(_)) => {
            "the file ends inside an element: it looks cut off".into()
        }
        Error::Syntax(_) => {
            "a tag, comment or declaration is not closed: the XML is not well-formed".into()
        }
        Error::Encoding(_) => "the file is not valid UTF-8".into(),
        Error::Io(io) => format!("cannot read the file: {}", io.kind()),
        _ => "the XML is not well-formed".into(),
    };
    ReadError::new(line, what)
}

impl Walk<'_> {
    /// The element path of the open elements, as messages give it.
    fn path(&self) -> String {
        let names: Vec<&str> = self
            .stack
            .iter()
            .map(|(_, n)| if n.is_empty() { "..." } else { *n })
            .collect();
        names.join("/")
    }

    fn start(&mut self, name: &str, line: u64) -> Result<(), Stop> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(fail(
                line,
                format!("elements nest more than {MAX_DEPTH} deep: the file looks damaged"),
            ));
        }
        let parent = self.stack.last().map(|(el, _)| *el);
        let (el, shown) = match classify(parent, name, self.plan.records) {
            Some(c) => c,
            None => {
                self.log_unknown(name);
                (El::Skip, "")
            }
        };
        self.stack.push((el, shown));
        match el {
            El::Root if !matches!(name, "message") => self.log_unknown(name),
            El::Person => {
                if self.plan.records == Records::ActivePlans && self.reference.is_none() {
                    return Err(fail(
                        line,
                        "a Person comes before the Header's ReferenceDate, which the national \
                         curriculum year of an active plan is reckoned at",
                    ));
                }
                self.person = Some(Person::default());
            }
            El::Requests => self.request = Some((line, Request::default(), 0)),
            El::Assessment | El::NamedPlan | El::ActivePlans => self.open_part(el, line)?,
            El::Item(item) => {
                let repeated = match (item, &mut self.request, &mut self.person) {
                    (Item::ReferenceDate, ..) => self.reference.is_some(),
                    (Item::BirthDate, _, Some(p)) => std::mem::replace(&mut p.seen_birth, true),
                    (_, Some((_, _, seen)), _) => {
                        let was = *seen & item.bit() != 0;
                        *seen |= item.bit();
                        was
                    }
                    _ => false,
                };
                if repeated {
                    return Err(fail(
                        line,
                        format!("{} is given twice in one record", self.path()),
                    ));
                }
                self.text = Some(String::new());
                self.item_line = line;
            }
            _ => {}
        }
        Ok(())
    }

    /// An `Assessment`, `NamedPlan` or `ActivePlans` opens: at most one in its parent.
    fn open_part(&mut self, el: El, line: u64) -> Result<(), Stop> {
        let Some((_, req, _)) = &mut self.request else {
            return Ok(());
        };
        let repeated = match el {
            El::Assessment => req.assessment.replace(Assessment::default()).is_some(),
            El::NamedPlan => match &mut req.assessment {
                Some(a) => a.plan.replace(NamedPlan::default()).is_some(),
                None => false,
            },
            _ => req
                .active
                .replace(ActivePlan {
                    line,
                    ..ActivePlan::default()
                })
                .is_some(),
        };
        if repeated {
            return Err(fail(
                line,
                format!(
                    "{} is the second in its parent; the return has one at most",
                    self.path()
                ),
            ));
        }
        Ok(())
    }

    fn push(&mut self, s: &str, line: u64) -> Result<(), Stop> {
        if let Some(text) = &mut self.text {
            if text.len() + s.len() > self.plan.max_record {
                return Err(Stop::Fail(ReadError::too_long(line, self.plan.max_record)));
            }
            text.push_str(s);
        }
        Ok(())
    }

    fn end(&mut self, line: u64, sink: &mut Sink) -> Result<(), Stop> {
        let Some((el, _)) = self.stack.last().copied() else {
            return Ok(());
        };
        match el {
            El::Item(item) => {
                let text = self.text.take().unwrap_or_default();
                self.item(item, text)?;
            }
            El::Requests => {
                if let (Some(person), Some((at, req, _))) = (&mut self.person, self.request.take())
                {
                    person.bytes += req.size();
                    if person.bytes > self.plan.max_record {
                        return Err(fail(
                            line,
                            format!(
                                "one Person holds more than {} bytes of requests \
                                 (load.max_record_bytes); the file is refused",
                                self.plan.max_record
                            ),
                        ));
                    }
                    person.pending.push((at, req));
                }
            }
            El::Person => {
                if let Some(person) = self.person.take() {
                    // An unreadable birth date gives an NCY the kind refuses, so the row
                    // says so (a blank one is blank).
                    let ncy = match (person.bad_birth, person.ncy) {
                        (true, _) => "?".to_string(),
                        (false, n) => n.map(ncy_text).unwrap_or_default(),
                    };
                    for (at, req) in &person.pending {
                        req.send(*at, &ncy, self.plan.records, sink)?;
                    }
                }
            }
            _ => {}
        }
        self.stack.pop();
        Ok(())
    }

    /// An item's text is complete: keep it where it belongs.
    fn item(&mut self, item: Item, text: String) -> Result<(), Stop> {
        let line = self.item_line;
        let path = self.path();
        let codes = &self.plan.codes;
        let list = match item {
            Item::RequestOutcome => Some(&codes.request),
            Item::AssessmentOutcome => Some(&codes.assessment),
            Item::ReviewOutcome => Some(&codes.review),
            _ => None,
        };
        let meaning = match list {
            Some(l) => l
                .meaning(&text)
                .map_err(|_| fail(line, format!("{path} {}", l.unknown())))?,
            None => None,
        };
        match item {
            Item::ReferenceDate => {
                let d = cell::date(text.trim(), &[DateFormat::Iso])
                    .map_err(|_| fail(line, format!("{path} is not a date (YYYY-MM-DD)")))?;
                self.reference = Some(d);
            }
            Item::BirthDate => {
                if let Some(p) = &mut self.person {
                    match (cell::date(text.trim(), &[DateFormat::Iso]), self.reference) {
                        (Ok(birth), Some(day)) => p.ncy = Some(ncy(birth, day)),
                        _ if text.trim().is_empty() => {}
                        _ => p.bad_birth = true,
                    }
                }
                // The birth date goes no further than this.
            }
            _ => {
                let Some((_, req, _)) = &mut self.request else {
                    return Ok(());
                };
                let assessment = req.assessment.as_mut();
                match item {
                    Item::Received => req.received = text,
                    Item::RequestOutcomeDate => req.outcome_date = text,
                    Item::RequestOutcome => req.outcome = meaning,
                    Item::AssessmentOutcome => {
                        if let Some(a) = assessment {
                            a.outcome = meaning;
                        }
                    }
                    Item::AssessmentOutcomeDate => {
                        if let Some(a) = assessment {
                            a.date = text;
                        }
                    }
                    Item::Week20 => {
                        if let Some(a) = assessment {
                            a.week20 = text;
                        }
                    }
                    Item::StartDate | Item::CeaseDate => {
                        if let Some(p) = assessment.and_then(|a| a.plan.as_mut()) {
                            if item == Item::StartDate {
                                p.start = text;
                            } else {
                                p.cease = text;
                            }
                        }
                    }
                    Item::ReviewMeeting | Item::ReviewOutcome | Item::LastReview => {
                        if let Some(p) = &mut req.active {
                            match item {
                                Item::ReviewMeeting => p.meeting = text,
                                Item::ReviewOutcome => p.outcome = meaning,
                                _ => p.decision = text,
                            }
                        }
                    }
                    Item::ReferenceDate | Item::BirthDate => {}
                }
            }
        }
        Ok(())
    }

    /// Log an element sendwatch does not know, once, if its name is a plain word.
    fn log_unknown(&mut self, name: &str) {
        let plain =
            !name.is_empty() && name.len() <= 40 && name.bytes().all(|b| b.is_ascii_alphabetic());
        if plain && self.logged.len() < MAX_LOGGED && !self.logged.iter().any(|n| n == name) {
            self.logged.push(name.to_string());
            tracing::warn!(
                element = name,
                "SEN2 XML: an element sendwatch does not know; skipped with what it holds"
            );
        }
    }
}
