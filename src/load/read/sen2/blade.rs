//! SEN2's Blade export: one CSV per module (`Blade-Export_<date>_<module>.csv`), in a folder or
//! a zip, read as one return by joining the modules on their table ids (SEN2.md section 4).
//!
//! Owns: finding the module files (a folder's, or a zip's entries, each unpacked through a
//! counter within [`super::MAX_UNPACKED`]) and reading a module's rows by column name, without
//! regard to case; the join is [`join`]'s. Items not read (names, birth date, postcode, UPN,
//! ULN, settings, needs) are never taken out of their record.

use std::io::{BufReader, Read, Seek};
use std::path::{Path, PathBuf};

use super::{MAX_UNPACKED, Stop};
use crate::load::read::csv::CsvReader;
use crate::load::read::{ReadError, Record, RecordReader};

mod join;
pub(in crate::load::read::sen2) use join::read;

/// What is done with each row of a module: (line, the wanted fields).
type RowFn<'a> = dyn FnMut(u64, &[&str]) -> Result<(), Stop> + 'a;

/// The modules read (the other three, needs and settings, are not).
const MODULES: [&str; 6] = [
    "sen2",
    "person",
    "requests",
    "assessment",
    "namedplan",
    "activeplans",
];
/// Most folder entries or zip entries looked at to find the modules.
const MAX_ENTRIES: usize = 10_000;
/// Most bytes read to find and read a zip's directory.
const MAX_DIRECTORY: u64 = 1 << 20;

/// Where the set's files are.
pub enum Set {
    Folder(PathBuf),
    Zip(Box<dyn ReadSeekSend>),
}

/// A zip's bytes, readable from the worker thread.
pub trait ReadSeekSend: Read + Seek + Send {}
impl<T: Read + Seek + Send> ReadSeekSend for T {}

impl Set {
    /// A folder, or else a zip file.
    pub fn open(path: &Path) -> std::io::Result<Set> {
        if std::fs::metadata(path)?.is_dir() {
            Ok(Set::Folder(path.to_path_buf()))
        } else {
            Ok(Set::Zip(Box::new(BufReader::new(std::fs::File::open(
                path,
            )?))))
        }
    }
}

/// The module files of a folder that are read, in module order, for `sendwatch load`'s size
/// and checksum of a folder (a missing one is the reader's to refuse, as for a zip).
pub fn folder_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| e.to_string())?;
    let mut found: Vec<(usize, PathBuf)> = entries
        .flatten()
        .take(MAX_ENTRIES)
        .filter_map(|e| {
            let module = module_of(e.file_name().to_str()?)?;
            Some((MODULES.iter().position(|m| *m == module)?, e.path()))
        })
        .collect();
    found.sort();
    Ok(found.into_iter().map(|(_, p)| p).collect())
}

fn refuse(line: u64, what: impl Into<String>) -> Stop {
    Stop::Fail(ReadError::new(line, what))
}

/// The module a file name is for: `..._<module>.csv`, without regard to case.
fn module_of(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    let stem = lower.strip_suffix(".csv")?;
    let tail = stem.rsplit(['_', '/', '\\']).next()?;
    MODULES.iter().find(|m| **m == tail).copied()
}

/// One file per module read, or why not: (module, what `names` gave with its name).
fn pick<T>(names: impl Iterator<Item = (String, T)>) -> Result<Vec<(&'static str, T)>, ReadError> {
    let mut found: Vec<(&'static str, T)> = Vec::new();
    for (i, (name, payload)) in names.enumerate() {
        if i >= MAX_ENTRIES {
            return Err(ReadError::new(
                1,
                format!("the Blade set has more than {MAX_ENTRIES} entries; it is refused"),
            ));
        }
        let Some(module) = module_of(&name) else {
            continue;
        };
        if found.iter().any(|(m, _)| *m == module) {
            return Err(ReadError::new(
                1,
                format!(
                    "the Blade set has two {module} files (two exports in one set?); it is refused"
                ),
            ));
        }
        found.push((module, payload));
    }
    found.sort_by_key(|(m, _)| MODULES.iter().position(|x| x == m));
    if let Some(missing) = MODULES.iter().find(|m| !found.iter().any(|(f, _)| f == *m)) {
        return Err(ReadError::new(
            1,
            format!(
                "the Blade set has no {missing} file (Blade-Export_<date>_{missing}.csv); it is \
                 refused"
            ),
        ));
    }
    Ok(found)
}

fn find_in_folder(dir: &Path) -> Result<Vec<(&'static str, PathBuf)>, ReadError> {
    let entries = std::fs::read_dir(dir).map_err(|e| ReadError::io(1, &e))?;
    let names = entries.flatten().filter_map(|e| {
        let name = e.file_name().to_str()?.to_string();
        Some((name, e.path()))
    });
    pick(names)
}

/// The set opened on the worker: its files, by module.
enum Files {
    Folder(Vec<(&'static str, PathBuf)>),
    Zip {
        zip: zip::ZipArchive<Budgeted>,
        /// Entry index and name per module.
        at: Vec<(&'static str, (usize, String))>,
        used: u64,
    },
}

/// Reads the zip, counting against a budget while its directory is read (then unbounded:
/// the entries are bounded as they unpack).
struct Budgeted {
    inner: Box<dyn ReadSeekSend>,
    left: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl Read for Budgeted {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = self.left.load(std::sync::atomic::Ordering::Relaxed);
        if left == 0 {
            return Err(std::io::Error::other("the zip directory budget is spent"));
        }
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.left
            .store(left - n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}

impl Seek for Budgeted {
    fn seek(&mut self, pos: std::io::SeekFrom) -> std::io::Result<u64> {
        self.inner.seek(pos)
    }
}

/// A zip entry unpacked through a counter: past `left` bytes it stops.
struct Counted<R> {
    inner: R,
    read: u64,
    left: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if self.read > self.left {
            return Err(std::io::Error::other("unpacked past the bound"));
        }
        Ok(n)
    }
}

impl Files {
    fn open(set: Set) -> Result<Files, Stop> {
        match set {
            Set::Folder(dir) => Ok(Files::Folder(find_in_folder(&dir)?)),
            Set::Zip(inner) => {
                let left = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(MAX_DIRECTORY));
                let zip = zip::ZipArchive::new(Budgeted {
                    inner,
                    left: left.clone(),
                })
                .map_err(|_| {
                    refuse(
                        1,
                        format!(
                            "the Blade set is neither a folder nor a readable zip (or its zip \
                             directory is over {MAX_DIRECTORY} bytes); it is refused"
                        ),
                    )
                })?;
                left.store(u64::MAX, std::sync::atomic::Ordering::Relaxed);
                let names =
                    zip.file_names_raw()
                        .take(MAX_ENTRIES + 1)
                        .enumerate()
                        .map(|(i, raw)| {
                            let name = String::from_utf8_lossy(raw).into_owned();
                            (name.clone(), (i, name))
                        });
                let at = pick(names)?;
                Ok(Files::Zip { zip, at, used: 0 })
            }
        }
    }

    /// The file name of a module, as messages give it.
    fn name(&self, module: &str) -> String {
        match self {
            Files::Folder(found) => found
                .iter()
                .find(|(m, _)| *m == module)
                .and_then(|(_, p)| p.file_name())
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            Files::Zip { at, .. } => at
                .iter()
                .find(|(m, _)| *m == module)
                .map(|(_, (_, n))| n.rsplit(['/', '\\']).next().unwrap_or(n).to_string())
                .unwrap_or_default(),
        }
    }

    /// Read `module`'s rows: `want` columns (lower case) of each, to `row(line, fields)`.
    fn each_row(
        &mut self,
        module: &'static str,
        want: &[&str],
        max_record: usize,
        row: &mut RowFn<'_>,
    ) -> Result<(), Stop> {
        let file = self.name(module);
        match self {
            Files::Folder(found) => {
                let path = found
                    .iter()
                    .find(|(m, _)| *m == module)
                    .map(|(_, p)| p.clone());
                let input = std::fs::File::open(path.unwrap_or_default())
                    .map_err(|e| refuse(1, format!("{file}: cannot open: {}", e.kind())))?;
                rows(CsvReader::new(input, max_record), &file, want, row)
            }
            Files::Zip { zip, at, used } => {
                let i = at
                    .iter()
                    .find(|(m, _)| *m == module)
                    .map_or(0, |(_, (i, _))| *i);
                let entry = zip
                    .by_index(i)
                    .map_err(|_| refuse(1, format!("{file}: cannot unpack it from the zip")))?;
                let mut counted = Counted {
                    inner: entry,
                    read: 0,
                    left: MAX_UNPACKED.saturating_sub(*used),
                };
                let result = rows(CsvReader::new(&mut counted, max_record), &file, want, row);
                *used += counted.read;
                if counted.read > counted.left {
                    return Err(refuse(
                        1,
                        format!(
                            "{file}: the Blade zip unpacks past {MAX_UNPACKED} bytes in all; it \
                             is refused"
                        ),
                    ));
                }
                result
            }
        }
    }
}

/// The rows of one module file, its `want` columns found by name.
fn rows<R: Read + Send>(
    mut csv: CsvReader<R>,
    file: &str,
    want: &[&str],
    row: &mut RowFn<'_>,
) -> Result<(), Stop> {
    let at_file = |e: ReadError| refuse(e.line, format!("{file}: {}", e.message));
    let mut rec = Record::default();
    if !csv.read(&mut rec).map_err(at_file)? {
        return Err(refuse(
            1,
            format!("{file} is empty (no header row); the set is refused"),
        ));
    }
    let mut pos = Vec::with_capacity(want.len());
    for w in want {
        let found = rec
            .iter()
            .position(|h| std::str::from_utf8(h).is_ok_and(|h| h.trim().eq_ignore_ascii_case(w)));
        match found {
            Some(p) => pos.push(p),
            None => {
                return Err(refuse(
                    1,
                    format!("{file} has no `{w}` column; the set is refused"),
                ));
            }
        }
    }
    let width = rec.len();
    let mut data = Record::default();
    while csv.read(&mut data).map_err(at_file)? {
        let line = data.line;
        if data.len() != width {
            let fields = data.len();
            // The last row, cut short: the file looks truncated.
            let cut = !csv.read(&mut data).unwrap_or(true) && csv.ends_mid_record();
            return Err(refuse(
                line,
                format!(
                    "{file}: the row has {fields} fields, the header {width}{}; the set is refused",
                    if cut { " (the file looks cut off)" } else { "" }
                ),
            ));
        }
        let mut fields: Vec<&str> = Vec::with_capacity(want.len());
        for (w, p) in want.iter().zip(&pos) {
            match std::str::from_utf8(data.get(*p)) {
                Ok(s) => fields.push(s.trim()),
                Err(_) => {
                    return Err(refuse(
                        line,
                        format!("{file}, column {w}: not valid UTF-8; the set is refused"),
                    ));
                }
            }
        }
        row(line, &fields)?;
    }
    Ok(())
}
