//! Published statistics (migration 0020): each release imported, each area it names, and each
//! figure with its release, file and line. Public, deployment-wide data: no area column, and
//! no reference to any other table.
//!
//! An import is one transaction: its figures replace, measure and period by measure and period,
//! those of any release of the same or an earlier reporting year, and leave those of a later
//! one (a newer release's figures are never overwritten by an older one's). `stats_periods`
//! says which release holds each measure and period, figures or none. Re-importing a release
//! therefore stores the same rows again.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use super::{Store, StoreError};
use crate::kpi::Period;
use crate::stats::{Area, Figure, Level, Published, Release, StoredRelease};

/// Rows per INSERT: 9 values each, far under either backend's limit on bound values.
const CHUNK: usize = 1000;

/// What an import did to the store.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatsImported {
    /// Figures stored.
    pub stored: usize,
    /// (measure, period) pairs a release of a later reporting year holds: left as they were,
    /// with that release's name.
    pub kept: Vec<Kept>,
}

/// (measure, period, the later release that holds it).
pub type Kept = (String, Period, String);

/// (measure, period, value, decimals, level, area_code, file, line, release, reporting_year)
type FigureRow = (
    String,
    String,
    f64,
    i32,
    String,
    String,
    String,
    i64,
    String,
    i32,
);

const RELEASE: &str = "INSERT INTO stats_releases \
        (name, title, reporting_year, imported_from, imported_at) VALUES ($1, $2, $3, $4, $5) \
        ON CONFLICT (name) DO UPDATE SET title = excluded.title, \
        reporting_year = excluded.reporting_year, imported_from = excluded.imported_from, \
        imported_at = excluded.imported_at RETURNING id";
const HELD: &str = "SELECT p.measure, p.period, r.name, r.reporting_year \
        FROM stats_periods p JOIN stats_releases r ON r.id = p.release_id";
/// Take `pairs` for the release `id`: their figures deleted and the release recorded as their
/// holder, a chunk of pairs per statement (round trips, not rows, are an import's cost on
/// PostgreSQL).
macro_rules! take_pairs {
    ($tx:expr, $pairs:expr, $id:expr) => {
        for chunk in $pairs.chunks(CHUNK) {
            let mut q = sqlx::QueryBuilder::new("DELETE FROM stats_values WHERE ");
            let mut any = q.separated(" OR ");
            for (measure, period) in chunk {
                any.push("(measure = ")
                    .push_bind_unseparated(*measure)
                    .push_unseparated(" AND period = ")
                    .push_bind_unseparated(period.to_string())
                    .push_unseparated(")");
            }
            q.build().execute(&mut *$tx).await?;
            let mut q =
                sqlx::QueryBuilder::new("INSERT INTO stats_periods (measure, period, release_id) ");
            q.push_values(chunk, |mut b, (measure, period)| {
                b.push_bind(*measure)
                    .push_bind(period.to_string())
                    .push_bind($id);
            });
            q.push(" ON CONFLICT (measure, period) DO UPDATE SET release_id = excluded.release_id");
            q.build().execute(&mut *$tx).await?;
        }
    };
}

/// Insert `figures` of the release `id`, a chunk per statement.
macro_rules! insert_figures {
    ($tx:expr, $figures:expr, $id:expr) => {
        for chunk in $figures.chunks(CHUNK) {
            let mut q = sqlx::QueryBuilder::new(
                "INSERT INTO stats_values (measure, period, level, area_code, value, decimals, \
                 release_id, file, line) ",
            );
            q.push_values(chunk, |mut b, f| {
                b.push_bind(f.measure.clone())
                    .push_bind(f.period.to_string())
                    .push_bind(f.level.as_str())
                    .push_bind(f.area_code.clone())
                    .push_bind(f.value)
                    .push_bind(i32::from(f.decimals))
                    .push_bind($id)
                    .push_bind(f.file.clone())
                    .push_bind(i64::try_from(f.line).unwrap_or(i64::MAX));
            });
            q.build().execute(&mut *$tx).await?;
        }
    };
}

/// Insert `areas` or, where the release `id` is of the same or a later reporting year than the
/// one that named an area, update its name and codes.
macro_rules! upsert_areas {
    ($tx:expr, $areas:expr, $id:expr, $year:expr) => {
        for chunk in $areas.chunks(CHUNK) {
            let mut q = sqlx::QueryBuilder::new(
                "INSERT INTO stats_areas (level, code, name, old_code, region_code, release_id) ",
            );
            q.push_values(chunk, |mut b, a| {
                b.push_bind(a.level.as_str())
                    .push_bind(a.code.clone())
                    .push_bind(a.name.clone())
                    .push_bind(a.old_code.clone())
                    .push_bind(a.region_code.clone())
                    .push_bind($id);
            });
            q.push(
                " ON CONFLICT (level, code) DO UPDATE SET name = excluded.name, \
                 old_code = excluded.old_code, region_code = excluded.region_code, \
                 release_id = excluded.release_id WHERE (SELECT r.reporting_year \
                 FROM stats_releases r WHERE r.id = stats_areas.release_id) <= ",
            )
            .push_bind($year);
            q.build().execute(&mut *$tx).await?;
        }
    };
}

impl Store {
    /// Store a release's areas and figures, all or nothing (see the module's header).
    /// `covered`: every (measure, period) the release gives a row for, figures or not, so a
    /// measure a later release marks unavailable throughout is no longer the earlier one's.
    pub async fn import_stats(
        &self,
        release: &Release,
        areas: &[Area],
        covered: &BTreeSet<(String, Period)>,
        figures: &[Figure],
        now: DateTime<Utc>,
    ) -> Result<StatsImported, StoreError> {
        let pairs: BTreeSet<(&str, Period)> = covered
            .iter()
            .map(|(m, p)| (m.as_str(), *p))
            .chain(figures.iter().map(|f| (f.measure.as_str(), f.period)))
            .collect();
        let mut out = StatsImported::default();
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let id: i64 = sqlx::query_scalar(RELEASE)
                .bind(&release.name)
                .bind(&release.title)
                .bind(release.reporting_year)
                .bind(&release.imported_from)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
            let held: Vec<(String, String, String, i32)> =
                sqlx::query_as(HELD).fetch_all(&mut *tx).await?;
            let (replace, kept) = partition(pairs, &held, release);
            out.kept = kept;
            take_pairs!(tx, replace, id);
            let taken: BTreeSet<(&str, Period)> = replace.into_iter().collect();
            let mine: Vec<&Figure> = figures
                .iter()
                .filter(|f| taken.contains(&(f.measure.as_str(), f.period)))
                .collect();
            insert_figures!(tx, mine, id);
            out.stored = mine.len();
            upsert_areas!(tx, areas, id, release.reporting_year);
            tx.commit().await?;
        });
        Ok(out)
    }

    /// Every release imported, by name.
    pub async fn stats_releases(&self) -> Result<Vec<StoredRelease>, StoreError> {
        const SQL: &str = "SELECT name, title, reporting_year, imported_from, imported_at \
                           FROM stats_releases ORDER BY reporting_year, name";
        type Row = (String, String, i32, String, DateTime<Utc>);
        let rows: Vec<Row> = on_pool!(self, p => sqlx::query_as(SQL).fetch_all(p).await?);
        Ok(rows
            .into_iter()
            .map(
                |(name, title, reporting_year, imported_from, imported_at)| StoredRelease {
                    release: Release {
                        name,
                        title,
                        reporting_year,
                        imported_from,
                    },
                    imported_at,
                },
            )
            .collect())
    }

    /// Every area the releases name, by level and code.
    pub async fn stats_areas(&self) -> Result<Vec<Area>, StoreError> {
        const SQL: &str = "SELECT level, code, name, old_code, region_code FROM stats_areas \
                           ORDER BY level, code";
        type Row = (String, String, String, Option<String>, Option<String>);
        let rows: Vec<Row> = on_pool!(self, p => sqlx::query_as(SQL).fetch_all(p).await?);
        rows.into_iter()
            .map(|(level, code, name, old_code, region_code)| {
                Ok(Area {
                    level: level_of(&level)?,
                    code,
                    name,
                    old_code,
                    region_code,
                })
            })
            .collect()
    }

    /// The figures of one area (`code`), or of every area of `level` (`None`), by measure and
    /// period, each with its release.
    pub async fn stats_series(
        &self,
        level: Level,
        code: Option<&str>,
    ) -> Result<Vec<Published>, StoreError> {
        const SQL: &str = "SELECT v.measure, v.period, v.value, v.decimals, v.level, v.area_code, \
            v.file, v.line, r.name, r.reporting_year FROM stats_values v \
            JOIN stats_releases r ON r.id = v.release_id \
            WHERE v.level = $1 AND (CAST($2 AS TEXT) IS NULL OR v.area_code = $2) \
            ORDER BY v.measure, v.period, v.area_code";
        let rows: Vec<FigureRow> = on_pool!(self, p => sqlx::query_as(SQL)
            .bind(level.as_str())
            .bind(code)
            .fetch_all(p)
            .await?);
        rows.into_iter().map(published).collect()
    }

    /// How many figures are stored (all releases, all areas).
    pub async fn stats_count(&self) -> Result<i64, StoreError> {
        const SQL: &str = "SELECT count(*) FROM stats_values";
        Ok(on_pool!(self, p => sqlx::query_scalar(SQL).fetch_one(p).await?))
    }
}

/// The pairs `release` takes (none held by a later reporting year), and those it leaves with
/// the later release that holds them.
fn partition<'a>(
    pairs: BTreeSet<(&'a str, Period)>,
    held: &[(String, String, String, i32)],
    release: &Release,
) -> (Vec<(&'a str, Period)>, Vec<Kept>) {
    let newer = newer_holders(held, release);
    let mut replace = Vec::new();
    let mut kept = Vec::new();
    for (measure, period) in pairs {
        match newer.get(&(measure.to_string(), period.to_string())) {
            Some(by) => kept.push((measure.to_string(), period, by.clone())),
            None => replace.push((measure, period)),
        }
    }
    (replace, kept)
}

/// (measure, period) -> the release of a later reporting year than `release` holding it.
fn newer_holders(
    held: &[(String, String, String, i32)],
    release: &Release,
) -> BTreeMap<(String, String), String> {
    held.iter()
        .filter(|(_, _, name, year)| *name != release.name && *year > release.reporting_year)
        .map(|(m, p, name, _)| ((m.clone(), p.clone()), name.clone()))
        .collect()
}

fn level_of(s: &str) -> Result<Level, StoreError> {
    Level::parse(s).ok_or_else(|| StoreError::Corrupt(format!("stats level `{s}`")))
}

fn published(r: FigureRow) -> Result<Published, StoreError> {
    let (measure, period, value, decimals, level, area_code, file, line, release, year) = r;
    let period = period
        .parse()
        .map_err(|_| StoreError::Corrupt(format!("stats_values: the period of {measure}")))?;
    Ok(Published {
        figure: Figure {
            measure,
            period,
            level: level_of(&level)?,
            area_code,
            value,
            decimals: u8::try_from(decimals).unwrap_or(0),
            file,
            line: u64::try_from(line).unwrap_or(0),
        },
        release,
        reporting_year: year,
    })
}
