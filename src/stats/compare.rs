//! The published figures an area is compared with: its own (`[stats] area`, else `[general]
//! area`), its region's (the region the release's local-authority rows give it), England's
//! and each of its statistical neighbours' (`[stats] neighbours`), read from the store.
//!
//! A neighbour the imported release does not name is left out of the comparison and said
//! (naming its key) rather than failing the page or the pack; `check-config --connect` says
//! the same before it matters ([`unknown_neighbours`]).
//!
//! Owns: finding the areas ([`find_area`]) and reading their series ([`read`]). Must not:
//! lay out or print (that is [`crate::view::benchmark`]).

use super::{Area, Level, Published, StatsSettings, StoredRelease};
use crate::store::{Store, StoreError};

/// Which part an area plays in a comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Area,
    Region,
    England,
    Neighbour,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Area => "area",
            Role::Region => "region",
            Role::England => "england",
            Role::Neighbour => "neighbour",
        }
    }
}

/// What an area is compared with, as the store holds it.
#[derive(Debug, Clone, Default)]
pub struct Compared {
    /// The releases imported (none: no comparison at all).
    pub releases: Vec<StoredRelease>,
    /// The area, its region, England and its neighbours (in the configured order), each with
    /// every figure the store holds of it. Empty when the area itself is not found.
    pub columns: Vec<(Role, Area, Vec<Published>)>,
    /// What was asked for and not found, each as "key `wanted`: why".
    pub missing: Vec<String>,
    /// The words for no figure ("x, z, c, low, u or blank").
    pub absent: String,
}

/// The local authority named `wanted`: by name (any case), code or old code.
pub fn find_area<'a>(areas: &'a [Area], wanted: &str) -> Option<&'a Area> {
    let wanted = wanted.trim();
    areas.iter().find(|a| {
        a.level == Level::LocalAuthority
            && (a.name.eq_ignore_ascii_case(wanted)
                || a.code.eq_ignore_ascii_case(wanted)
                || a.old_code.as_deref() == Some(wanted))
    })
}

/// Each configured neighbour the imported areas do not name: its key and what it says.
pub fn unknown_neighbours(stats: &StatsSettings, areas: &[Area]) -> Vec<(String, String)> {
    stats
        .neighbours
        .iter()
        .enumerate()
        .filter(|(_, n)| find_area(areas, n).is_none())
        .map(|(i, n)| (format!("stats.neighbours[{i}]"), n.clone()))
        .collect()
}

/// Read what `area` (the name `[general] area` gives, unless `[stats] area` says) is
/// compared with. No release imported: an empty [`Compared`].
pub async fn read(
    store: &Store,
    stats: &StatsSettings,
    general_area: &str,
) -> Result<Compared, StoreError> {
    let releases = store.stats_releases().await?;
    let absent = stats
        .mapping(None)
        .map_or_else(|_| "a code or blank".to_string(), |(_, m)| m.absent_words());
    let mut out = Compared {
        absent,
        ..Compared::default()
    };
    if releases.is_empty() {
        return Ok(out);
    }
    out.releases = releases;
    let areas = store.stats_areas().await?;
    let (key, wanted) = match &stats.area {
        Some(a) => ("stats.area", a.as_str()),
        None => ("general.area", general_area),
    };
    let Some(area) = find_area(&areas, wanted) else {
        out.missing.push(format!(
            "{key} `{wanted}`: no local authority of that name or code in the imported release"
        ));
        return Ok(out);
    };
    let region = area.region_code.as_deref().and_then(|code| {
        areas
            .iter()
            .find(|a| a.level == Level::Regional && a.code == code)
    });
    let england = areas.iter().find(|a| a.level == Level::National);
    let mut wanted: Vec<(Role, &Area)> = vec![(Role::Area, area)];
    wanted.extend(region.map(|r| (Role::Region, r)));
    wanted.extend(england.map(|e| (Role::England, e)));
    for (i, n) in stats.neighbours.iter().enumerate() {
        match find_area(&areas, n) {
            Some(a) if a.code == area.code => out.missing.push(format!(
                "stats.neighbours[{i}] `{n}`: is the area itself, left out"
            )),
            Some(a) if wanted.iter().any(|(_, w)| w.code == a.code) => {}
            Some(a) => wanted.push((Role::Neighbour, a)),
            None => out.missing.push(format!(
                "stats.neighbours[{i}] `{n}`: no local authority of that name or code in the \
                 imported release, left out"
            )),
        }
    }
    for (role, a) in wanted {
        let series = store.stats_series(a.level, Some(&a.code)).await?;
        out.columns.push((role, a.clone(), series));
    }
    Ok(out)
}
