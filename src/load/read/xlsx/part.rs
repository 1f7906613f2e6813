//! The workbook's zip and its XML parts, each read with a bound: the zip's directory through
//! a byte budget (the zip crate holds one entry per part in memory), every part unpacked
//! through a counting reader ([`Part`]) that stops past its size bound and stops any one XML
//! tag or text past the event bound, so quick-xml never buffers more than that.

use std::cell::Cell;
use std::io::{BufRead, Read, Seek, SeekFrom};
use std::rc::Rc;

use quick_xml::events::{BytesStart, Event};

use super::{MAX_DIRECTORY, MAX_PART, MAX_UNPACKED};
use crate::load::read::ReadError;

/// Why reading a part stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fail {
    /// One tag or text ran past the event bound.
    TooLong,
    /// The part unpacked past its bound ([`MAX_PART`]), or all parts read past
    /// [`MAX_UNPACKED`].
    PartTooBig {
        max: u64,
        in_all: bool,
    },
    /// Elements nested past [`MAX_DEPTH`], or one with a name past [`MAX_NAME`].
    TooDeep,
    /// Not well-formed XML, or not the XML an xlsx holds.
    Damaged,
    Io(std::io::ErrorKind),
}

impl Fail {
    /// In words for the file's problem at `line` (none of which quotes the file).
    pub fn at(self, line: u64) -> ReadError {
        ReadError::new(
            line,
            match self {
                Fail::TooLong => "the workbook's XML holds a tag or text too long to read \
                                  (the file looks damaged); the file is refused"
                    .to_string(),
                Fail::PartTooBig { max, in_all: false } => format!(
                    "the workbook has a part that unpacks past {max} bytes; the file is refused"
                ),
                Fail::PartTooBig { in_all: true, .. } => format!(
                    "the workbook unpacks past {MAX_UNPACKED} bytes in all; the file is refused"
                ),
                Fail::TooDeep => format!(
                    "the workbook's XML nests elements more than {MAX_DEPTH} deep or names one \
                     in more than {MAX_NAME} bytes (the file looks damaged); the file is refused"
                ),
                Fail::Damaged => "the workbook's XML is damaged; the file is refused".to_string(),
                Fail::Io(kind) => format!("cannot read the file: {kind}"),
            },
        )
    }
}

/// A refusal of the whole workbook at line 1.
pub fn refuse(what: &str) -> ReadError {
    ReadError::new(1, format!("{what}; the file is refused"))
}

/// The start of an OLE compound file: an encrypted workbook, or an old binary `.xls`.
const CFB_MAGIC: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// Reads the input, counting against a budget while the zip's directory is read.
pub struct Budgeted<R> {
    inner: R,
    left: Rc<Cell<u64>>,
}

impl<R: Read> Read for Budgeted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = self.left.get();
        if left == 0 {
            return Err(std::io::Error::other("the zip directory budget is spent"));
        }
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.left.set(left - n as u64);
        Ok(n)
    }
}

impl<R: Seek> Seek for Budgeted<R> {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.inner.seek(pos)
    }
}

pub type Zip<R> = zip::ZipArchive<Budgeted<R>>;

/// Open the zip, reading at most [`MAX_DIRECTORY`] bytes to find and read its directory.
pub fn open<R: Read + Seek>(mut input: R) -> Result<Zip<R>, ReadError> {
    let mut head = [0u8; 8];
    let n = read_up_to(&mut input, &mut head).map_err(|e| ReadError::io(1, &e))?;
    if head[..n] == CFB_MAGIC {
        return Err(refuse(
            "the file is an encrypted (password-protected) workbook or an old .xls, not an xlsx",
        ));
    }
    input
        .seek(SeekFrom::Start(0))
        .map_err(|e| ReadError::io(1, &e))?;
    let left = Rc::new(Cell::new(MAX_DIRECTORY));
    let zip = zip::ZipArchive::new(Budgeted {
        inner: input,
        left: left.clone(),
    });
    if left.get() == 0 {
        return Err(refuse(&format!(
            "the workbook's zip directory is over {MAX_DIRECTORY} bytes (far more parts than \
             a workbook has)"
        )));
    }
    let zip = zip.map_err(|_| refuse("the workbook is not a readable xlsx (zip) file"))?;
    // The parts themselves are bounded as they unpack, not by this budget.
    left.set(u64::MAX);
    Ok(zip)
}

fn read_up_to(input: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match input.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// The index of the part at `path`, matched as OPC names are: without regard to ASCII case,
/// and with `\` read as `/` (some writers use it).
pub fn find<R: Read + Seek>(zip: &Zip<R>, path: &str) -> Option<usize> {
    let same = |raw: &[u8]| {
        raw.len() == path.len()
            && raw.iter().zip(path.bytes()).all(|(a, b)| {
                let a = if *a == b'\\' { b'/' } else { *a };
                a.eq_ignore_ascii_case(&b)
            })
    };
    zip.file_names_raw().position(same)
}

/// One part being unpacked: a buffered reader that counts what it unpacks against the part's
/// bound and what quick-xml takes for one event against the event bound.
pub struct Part<R> {
    inner: R,
    buf: Box<[u8]>,
    pos: usize,
    end: usize,
    /// Bytes taken since the current event began, and its bound.
    event: usize,
    event_max: usize,
    /// Bytes unpacked, and the bound on them.
    read: u64,
    max: u64,
    /// Whether `max` is what is left of [`MAX_UNPACKED`] rather than [`MAX_PART`].
    in_all: bool,
    trip: Option<Fail>,
}

const PART_BUF: usize = 64 * 1024;

impl<R: Read> Part<R> {
    /// `used` bytes of [`MAX_UNPACKED`] are spent on parts read before this one.
    pub fn new(inner: R, event_max: usize, used: u64) -> Part<R> {
        let left = MAX_UNPACKED.saturating_sub(used);
        Part::bounded(inner, event_max, left.min(MAX_PART), left < MAX_PART)
    }

    /// A part that may unpack to `max` bytes (`in_all`: what is left of all parts' bound).
    pub fn bounded(inner: R, event_max: usize, max: u64, in_all: bool) -> Part<R> {
        Part {
            inner,
            buf: vec![0; PART_BUF].into_boxed_slice(),
            pos: 0,
            end: 0,
            event: 0,
            event_max,
            read: 0,
            max,
            in_all,
            trip: None,
        }
    }

    fn stop(&mut self, why: Fail) -> std::io::Error {
        self.trip = Some(why);
        std::io::Error::other("bound reached")
    }
}

impl<R: Read> Read for Part<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        crate::load::read::read_buffered(self, out)
    }
}

impl<R: Read> BufRead for Part<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        if self.event > self.event_max {
            return Err(self.stop(Fail::TooLong));
        }
        if self.pos == self.end {
            let n = loop {
                match self.inner.read(&mut self.buf) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            };
            self.read += n as u64;
            if self.read > self.max {
                let (max, in_all) = (self.max, self.in_all);
                return Err(self.stop(Fail::PartTooBig { max, in_all }));
            }
            self.pos = 0;
            self.end = n;
        }
        // No more than the event may still take (and one byte over, to see it pass).
        let allow = (self.event_max - self.event).saturating_add(1);
        Ok(&self.buf[self.pos..self.end.min(self.pos + allow)])
    }

    fn consume(&mut self, n: usize) {
        self.pos += n;
        self.event += n;
    }
}

/// Deepest nesting of elements read (a sheet nests 7 deep), and the longest name of an
/// element that holds others: quick-xml keeps the names of the open elements.
const MAX_DEPTH: usize = 64;
const MAX_NAME: usize = 256;

/// A part's XML, an event at a time.
pub struct Xml<R> {
    reader: quick_xml::Reader<Part<R>>,
    buf: Vec<u8>,
    depth: usize,
}

impl<R: Read> Xml<R> {
    pub fn new(part: Part<R>) -> Xml<R> {
        let mut reader = quick_xml::Reader::from_reader(part);
        let config = reader.config_mut();
        // `<c/>` stays one event (Event::Empty): a sheet may hold millions of them.
        config.expand_empty_elements = false;
        config.trim_text(false);
        config.check_end_names = false;
        config.check_comments = false;
        Xml {
            reader,
            buf: Vec::with_capacity(1024),
            depth: 0,
        }
    }

    /// Bytes of the part unpacked so far.
    pub fn unpacked(&self) -> u64 {
        self.reader.get_ref().read
    }

    /// The next event; its tag or text is at most the event bound.
    pub fn next(&mut self) -> Result<Event<'_>, Fail> {
        self.buf.clear();
        self.reader.get_mut().event = 0;
        match self.reader.read_event_into(&mut self.buf) {
            Ok(e) => {
                match &e {
                    Event::Start(s) => {
                        self.depth += 1;
                        if self.depth > MAX_DEPTH || s.name().as_ref().len() > MAX_NAME {
                            return Err(Fail::TooDeep);
                        }
                    }
                    Event::End(_) => self.depth = self.depth.saturating_sub(1),
                    _ => {}
                }
                Ok(e)
            }
            Err(e) => Err(match (self.reader.get_ref().trip, e) {
                (Some(why), _) => why,
                (None, quick_xml::Error::Io(io)) => Fail::Io(io.kind()),
                (None, _) => Fail::Damaged,
            }),
        }
    }

    /// Skip to the end of the element whose start was just read.
    pub fn skip(&mut self) -> Result<(), Fail> {
        let mut depth = 1usize;
        while depth > 0 {
            match self.next()? {
                Event::Start(_) => depth += 1,
                Event::End(_) => depth -= 1,
                Event::Eof => return Err(Fail::Damaged),
                _ => {}
            }
        }
        Ok(())
    }

    /// Append the text up to the end of the element whose start was just read onto `out`,
    /// entities resolved, skipping any elements inside; `Err(TooLong)` once `out` would pass
    /// `max` bytes.
    pub fn text_into(&mut self, out: &mut String, max: usize) -> Result<(), Fail> {
        let mut depth = 1usize;
        loop {
            match self.next()? {
                Event::Text(t) => push_text(out, &t.xml10_content(), max)?,
                Event::CData(t) => push_text(out, &t.xml10_content(), max)?,
                Event::GeneralRef(r) => push_ref(out, &r, max)?,
                Event::Start(_) => depth += 1,
                Event::End(_) => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(());
                    }
                }
                Event::Eof => return Err(Fail::Damaged),
                _ => {}
            }
        }
    }
}

/// `s` onto `out` unless that takes `out` past `max` bytes.
pub fn push_text(out: &mut String, s: &str, max: usize) -> Result<(), Fail> {
    if out.len() + s.len() > max {
        return Err(Fail::TooLong);
    }
    out.push_str(s);
    Ok(())
}

/// An entity or character reference, resolved, onto `out`.
pub fn push_ref(
    out: &mut String,
    r: &quick_xml::events::BytesRef<'_>,
    max: usize,
) -> Result<(), Fail> {
    let mut tmp = [0u8; 4];
    let s: &str = match r.resolve_char_ref() {
        Ok(Some(c)) => c.encode_utf8(&mut tmp),
        Ok(None) => quick_xml::escape::resolve_xml_entity(r).ok_or(Fail::Damaged)?,
        Err(_) => return Err(Fail::Damaged),
    };
    push_text(out, s, max)
}

/// An element's local name (`x:sheet` is `sheet`).
pub fn is(e: &BytesStart<'_>, local: &str) -> bool {
    e.local_name().as_ref() == local
}

/// An attribute's value by local name, entities resolved.
pub fn attr(e: &BytesStart<'_>, local: &str) -> Result<Option<String>, Fail> {
    for a in e.attributes().with_checks(false) {
        let a = a.map_err(|_| Fail::Damaged)?;
        if a.key.local_name().as_ref() == local {
            let v = a
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|_| Fail::Damaged)?;
            return Ok(Some(v.into_owned()));
        }
    }
    Ok(None)
}
