//! `stats import PATH`: read a release through its mapping, every file of it checked before
//! anything is stored, then store it in one transaction ([`Store::import_stats`]). A refused
//! file stores nothing and the statistics imported before stay as they were.
//!
//! Owns: putting the files' figures and areas together and saying what was done. Must not:
//! print (the command line does, from [`Imported`]).

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Utc};

use super::read::FileRead;
use super::{Area, Level, Release, StatsError, StatsSettings};
use crate::store::{StatsImported, Store};

/// What an import read and stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    pub release: Release,
    pub files: Vec<FileSummary>,
    pub areas: usize,
    pub stored: StatsImported,
}

/// One file's part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSummary {
    pub file: String,
    pub lines: u64,
    /// Rows selected at the mapping's levels.
    pub rows: u64,
    pub figures: usize,
    /// Cells read as no figure.
    pub absent: u64,
    /// Selected rows at levels the mapping does not name, left out.
    pub other_levels: u64,
}

/// Read the release at `path` with the mapping `mapping` (or `[stats] mapping`) and store it.
pub async fn import(
    store: &Store,
    settings: &StatsSettings,
    mapping: Option<&str>,
    path: &Path,
    now: DateTime<Utc>,
) -> Result<Imported, StatsError> {
    let (name, map) = settings.mapping(mapping)?;
    let release = Release {
        name: name.to_string(),
        title: map.title.clone(),
        reporting_year: map.reporting_year,
        imported_from: path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        ),
    };
    let read = {
        let (given, map, settings) = (path.to_path_buf(), map.clone(), settings.clone());
        tokio::task::spawn_blocking(move || super::open::read_release(&given, &map, &settings))
            .await
            .map_err(|e| StatsError::Open {
                path: path.display().to_string(),
                message: format!("the reading task failed: {e}"),
            })??
    };
    let areas = latest_areas(&read);
    let files: Vec<FileSummary> = read.iter().map(summary).collect();
    let covered = read
        .iter()
        .flat_map(|f| f.covered.iter().cloned())
        .collect();
    let figures: Vec<_> = read.into_iter().flat_map(|f| f.figures).collect();
    let stored = store
        .import_stats(&release, &areas, &covered, &figures, now)
        .await?;
    tracing::info!(
        release = release.name.as_str(),
        files = files.len(),
        figures = stored.stored,
        kept = stored.kept.len(),
        "Published statistics imported."
    );
    Ok(Imported {
        release,
        files,
        areas: areas.len(),
        stored,
    })
}

fn summary(f: &FileRead) -> FileSummary {
    FileSummary {
        file: f.file.clone(),
        lines: f.lines,
        rows: f.rows,
        figures: f.figures.len(),
        absent: f.absent,
        other_levels: f.other_levels,
    }
}

/// Each area once: as the file read last names it (each file already keeps its latest
/// period's row), so the files agree or the later one wins.
fn latest_areas(read: &[FileRead]) -> Vec<Area> {
    let mut by: BTreeMap<(Level, String), Area> = BTreeMap::new();
    for f in read {
        for a in &f.areas {
            by.insert((a.level, a.code.clone()), a.clone());
        }
    }
    by.into_values().collect()
}
