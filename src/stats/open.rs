//! A release as given: its zip (as downloaded, the CSV files under `data/`), its folder
//! (unzipped, with or without that `data/`), or one of its CSV files, each file of it opened
//! with a bound and handed to [`super::read::read_file`].
//!
//! Bounds, as for every reader: only regular files are opened (checked before and after the
//! open, which is non-blocking, so a FIFO swapped in cannot hang it); a file, the zip, and
//! each file in the zip as it unpacks are counted against `max_file_bytes` on the bytes
//! actually read (a size field may lie); the zip's directory is read within
//! [`MAX_DIRECTORY`] bytes. Blocking: call from a blocking task.

use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::read::{FileRead, read_file};
use super::settings::{FileMap, StatsSettings};
use super::{Mapping, StatsError};

/// The most bytes read to find and read a zip's directory: a release has tens of files, not
/// the hundreds of thousands this would hold.
pub const MAX_DIRECTORY: u64 = 4 << 20;

/// What a path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Given {
    Folder(PathBuf),
    Zip(PathBuf),
    /// One CSV file, and the mapping's key for it.
    Csv(PathBuf, String),
}

/// Read every file the mapping names from `path` (all of them, from a zip or folder; the one
/// named, from a CSV file), in the mapping's order.
pub fn read_release(
    path: &Path,
    mapping: &Mapping,
    settings: &StatsSettings,
) -> Result<Vec<FileRead>, StatsError> {
    let shown = path.display().to_string();
    let open_err = |message: String| StatsError::Open {
        path: shown.clone(),
        message,
    };
    match classify(path, mapping).map_err(open_err)? {
        Given::Csv(p, key) => {
            let map = &mapping.files[&key];
            Ok(vec![read_one(&p, map, mapping, settings)?])
        }
        Given::Folder(dir) => {
            let mut found = Vec::new();
            let mut missing = Vec::new();
            for map in mapping.files.values() {
                match in_folder(&dir, &map.file).map_err(open_err)? {
                    Some(p) => found.push((p, map)),
                    None => missing.push(map.file.as_str()),
                }
            }
            if !missing.is_empty() {
                return Err(open_err(missing_files(&missing)));
            }
            found
                .into_iter()
                .map(|(p, map)| read_one(&p, map, mapping, settings))
                .collect()
        }
        Given::Zip(p) => read_zip(&p, mapping, settings),
    }
}

/// A folder, a zip (by its name, `.zip`) or one of the mapping's CSV files (by its name).
pub fn classify(path: &Path, mapping: &Mapping) -> Result<Given, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read it: {}", e.kind()))?;
    if meta.is_dir() {
        return Ok(Given::Folder(path.to_path_buf()));
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if name.to_ascii_lowercase().ends_with(".zip") {
        return Ok(Given::Zip(path.to_path_buf()));
    }
    match mapping.files.iter().find(|(_, f)| f.file == name) {
        Some((key, _)) => Ok(Given::Csv(path.to_path_buf(), key.clone())),
        None => Err(format!(
            "not a zip, a folder, nor a file the mapping reads ({})",
            mapping
                .files
                .values()
                .map(|f| f.file.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

fn missing_files(missing: &[&str]) -> String {
    format!(
        "the release has no {} (the mapping reads every one of its files from a zip or folder; \
         name a single CSV file to import it alone)",
        missing.join(", ")
    )
}

/// `dir/name` or `dir/data/name` (the zip's layout unpacked); both is ambiguous.
fn in_folder(dir: &Path, name: &str) -> Result<Option<PathBuf>, String> {
    let here = dir.join(name);
    let data = dir.join("data").join(name);
    match (here.exists(), data.exists()) {
        (true, true) => Err(format!(
            "both {name} and data/{name} are there: which is the release's?"
        )),
        (true, false) => Ok(Some(here)),
        (false, true) => Ok(Some(data)),
        (false, false) => Ok(None),
    }
}

/// Open and read one CSV file, bounded.
fn read_one(
    path: &Path,
    map: &FileMap,
    mapping: &Mapping,
    settings: &StatsSettings,
) -> Result<FileRead, StatsError> {
    let file = open_bounded(path, settings.max_file_bytes).map_err(|message| StatsError::Open {
        path: path.display().to_string(),
        message,
    })?;
    read_capped(file, map, mapping, settings)
}

/// Read `input` (a file, or a zip's entry) as `map.file` within `[stats] max_file_bytes`.
fn read_capped(
    input: impl std::io::Read + Send,
    map: &FileMap,
    mapping: &Mapping,
    settings: &StatsSettings,
) -> Result<FileRead, StatsError> {
    let capped = Capped::new(input, settings.max_file_bytes);
    let over = capped.over.clone();
    let result = read_file(
        capped,
        &map.file,
        map,
        mapping,
        &settings.measures,
        settings.max_record_bytes,
    );
    too_large_said(result, &over, &map.file, settings.max_file_bytes)
}

/// A read error that came of the cap said as such (the CSV reader sees only an I/O error).
fn too_large_said(
    result: Result<FileRead, StatsError>,
    over: &AtomicBool,
    file: &str,
    max: u64,
) -> Result<FileRead, StatsError> {
    match result {
        Err(StatsError::Refused { line, .. }) if over.load(Ordering::Relaxed) => {
            Err(StatsError::Refused {
                file: file.to_string(),
                line,
                column: None,
                rule: format!("the file is larger than {max} bytes ([stats] max_file_bytes)"),
            })
        }
        other => other,
    }
}

/// A regular file, no larger than `max` by its size, opened without blocking.
fn open_bounded(path: &Path, max: u64) -> Result<File, String> {
    let regular = |m: &std::fs::Metadata| -> Result<(), String> {
        match crate::source::file_kind(m) {
            None => Ok(()),
            Some(k) => Err(format!("not a regular file ({k})")),
        }
    };
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read it: {}", e.kind()))?;
    regular(&meta)?;
    if meta.len() > max {
        return Err(format!("larger than {max} bytes ([stats] max_file_bytes)"));
    }
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| format!("cannot open it: {}", e.kind()))?;
    // The path may have been swapped for a FIFO or a device since the check above.
    regular(
        &file
            .metadata()
            .map_err(|e| format!("cannot read it: {}", e.kind()))?,
    )?;
    Ok(file)
}

/// Reads at most `max` bytes of `inner`; past that, an error, and `over` set.
struct Capped<R> {
    inner: R,
    left: u64,
    over: Arc<AtomicBool>,
}

impl<R> Capped<R> {
    fn new(inner: R, max: u64) -> Capped<R> {
        Capped {
            inner,
            left: max,
            over: Arc::new(AtomicBool::new(false)),
        }
    }
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        // One byte past the cap is enough to know the file is over it.
        let want = buf
            .len()
            .min(usize::try_from(self.left.saturating_add(1)).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        if n as u64 > self.left {
            self.over.store(true, Ordering::Relaxed);
            return Err(std::io::Error::other("over the size cap"));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// Counts the bytes read against a budget (the zip's directory).
struct Budgeted<R> {
    inner: R,
    left: Arc<AtomicU64>,
}

impl<R: Read> Read for Budgeted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = self.left.load(Ordering::Relaxed);
        if left == 0 {
            return Err(std::io::Error::other("the zip directory budget is spent"));
        }
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.left.store(left - n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

impl<R: Seek> Seek for Budgeted<R> {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.inner.seek(pos)
    }
}

/// Every file the mapping names, found in the zip by its name (in any folder of it).
fn read_zip(
    path: &Path,
    mapping: &Mapping,
    settings: &StatsSettings,
) -> Result<Vec<FileRead>, StatsError> {
    let shown = path.display().to_string();
    let open_err = |message: String| StatsError::Open {
        path: shown.clone(),
        message,
    };
    let file = open_bounded(path, settings.max_file_bytes).map_err(open_err)?;
    let left = Arc::new(AtomicU64::new(MAX_DIRECTORY));
    let zip = zip::ZipArchive::new(Budgeted {
        inner: BufReader::new(file),
        left: left.clone(),
    });
    if left.load(Ordering::Relaxed) == 0 {
        return Err(open_err(format!(
            "its zip directory is over {MAX_DIRECTORY} bytes (far more files than a release has)"
        )));
    }
    let mut zip = zip.map_err(|_| open_err("not a readable zip file".into()))?;
    // The files themselves are bounded as they unpack, not by this budget.
    left.store(u64::MAX, Ordering::Relaxed);
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for map in mapping.files.values() {
        let hits: Vec<usize> = (0..zip.len())
            .filter(|&i| {
                zip.name_for_index(i).and_then(Result::ok).is_some_and(|n| {
                    !n.ends_with('/') && n.rsplit(['/', '\\']).next() == Some(map.file.as_str())
                })
            })
            .collect();
        match hits.as_slice() {
            [] => missing.push(map.file.as_str()),
            [i] => found.push((*i, map)),
            _ => return Err(open_err(format!("it holds {} more than once", map.file))),
        }
    }
    if !missing.is_empty() {
        return Err(open_err(missing_files(&missing)));
    }
    let mut out = Vec::new();
    for (i, map) in found {
        let entry = zip
            .by_index(i)
            .map_err(|e| open_err(format!("cannot unpack {}: {e}", map.file)))?;
        if entry.size() > settings.max_file_bytes {
            return Err(StatsError::Refused {
                file: map.file.clone(),
                line: 1,
                column: None,
                rule: format!(
                    "the file unpacks to more than {} bytes ([stats] max_file_bytes)",
                    settings.max_file_bytes
                ),
            });
        }
        out.push(read_capped(entry, map, mapping, settings)?);
    }
    Ok(out)
}
