//! Areas: one deployment serving several areas, each with its own plan, sources, recipients,
//! routes, schedules, live-view token and disclosure settings.
//!
//! Owns: finding the area files (`[areas] dir` in the deployment's file: every `*.toml` in
//! it is an area, laid over the deployment's file), refusing an area file that sets what is
//! the deployment's (the store, delivery, the daemon, logging, the ledger, the listener),
//! area ids, and picking the area a command is for (`--area`). A configuration without
//! `[areas]` is one area, as before. Must not: open connections (the store scopes by the id).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{ConfigError, Issue, Settings, Sources};

/// `[areas]`: where the area files are.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AreasSettings {
    /// The folder of area files, relative to the file that names it (after loading, that
    /// resolved path). None: this file is the one area.
    pub dir: Option<PathBuf>,
    /// Set on an area's settings when it is one of a deployment's several areas.
    #[serde(skip)]
    pub member: bool,
}

/// An area's id ([`super::General::id`]).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AreaId(pub String);

impl AreaId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for AreaId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What an area id may be, said in messages.
pub const ID_RULE: &str = "1 to 40 lower-case letters, digits and `-`, starting with a letter";

/// How many area files one deployment may have (England has 152 areas).
pub const MAX_AREAS: usize = 400;

/// Whether `id` is an area id: it goes into URLs, file names and every stored row.
pub fn valid_id(id: &str) -> bool {
    (1..=40).contains(&id.len())
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// An area's name as an id: "Sefton" -> "sefton", "Bath and North East Somerset" ->
/// "bath-and-north-east-somerset", "St. Helens" -> "st-helens".
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

/// What an area file may set: its own things. Everything else is the deployment's.
const AREA_SECTIONS: [&str; 19] = [
    "answer",
    "general",
    "plan",
    "sources",
    "sub_groups",
    "kpis",
    "risks",
    "risk_log",
    "actions",
    "action_log",
    "jobs",
    "disclosure",
    "notify",
    "rag",
    "kpi_defaults",
    "kinds",
    "http",
    "admin",
    "stats",
];

/// Of `[http]`, an area sets only its live view's token.
const AREA_HTTP_KEYS: [&str; 2] = ["token", "token_file"];

/// Of `[stats]`, an area sets only which local authority it is and its statistical
/// neighbours; the measures and mappings (and the imported release) are the deployment's.
const AREA_STATS_KEYS: [&str; 2] = ["area", "neighbours"];

/// Every area a deployment serves, each with its whole settings, in id order.
#[derive(Debug, Clone)]
pub struct Deployment {
    pub areas: Vec<Settings>,
    /// Whether the areas come from `[areas] dir` (else the file is the one area).
    pub several: bool,
}

impl Deployment {
    /// Read the deployment's file and, if it names `[areas] dir`, every area file in it.
    /// Every problem of every file is said in one pass, each area's under its file.
    pub fn load(sources: &Sources) -> Result<Deployment, ConfigError> {
        let main = Settings::load(sources)?;
        let Some(dir) = main.areas.dir.clone() else {
            return Ok(Deployment {
                areas: vec![main],
                several: false,
            });
        };
        let main_file = sources.file.clone();
        let files = area_files(&dir)?;
        let mut areas = Vec::new();
        let mut issues = Vec::new();
        for file in files {
            match load_area(&file, main_file.as_deref(), sources.env) {
                Ok(mut s) => {
                    // Each area spools and keeps its extracts in a folder of its own.
                    if s.general.data_dir == main.general.data_dir {
                        s.general.data_dir = main
                            .general
                            .data_dir
                            .join("areas")
                            .join(s.area_id().as_str());
                    }
                    areas.push(s)
                }
                Err(ConfigError::Invalid(found)) => {
                    issues.extend(found.into_iter().map(|mut i| {
                        i.file.get_or_insert_with(|| file.display().to_string());
                        i
                    }))
                }
                Err(e) => return Err(e),
            }
        }
        if issues.is_empty() && areas.is_empty() {
            issues.push(Issue::new(
                "areas.dir",
                format!("`{}` holds no area file (*.toml)", dir.display()),
            ));
        }
        if !issues.is_empty() {
            return Err(ConfigError::Invalid(issues));
        }
        areas.sort_by_key(|a| a.area_id());
        check_tokens(&areas)?;
        for pair in areas.windows(2) {
            if pair[0].area_id() == pair[1].area_id() {
                return Err(ConfigError::Invalid(vec![Issue::new(
                    "general.id",
                    format!("two area files have the id `{}`", pair[0].area_id()),
                )]));
            }
        }
        Ok(Deployment {
            areas,
            several: true,
        })
    }

    /// The area a command is for: the one named, or the only one.
    pub fn pick(&self, area: Option<&str>) -> Result<&Settings, String> {
        match area {
            Some(id) => self
                .areas
                .iter()
                .find(|a| a.area_id().as_str() == id)
                .ok_or_else(|| format!("no area `{id}` is configured ({})", self.ids())),
            None if self.areas.len() == 1 => Ok(&self.areas[0]),
            None => Err(format!(
                "this deployment serves {} areas: say which with --area ({})",
                self.areas.len(),
                self.ids()
            )),
        }
    }

    /// The areas' ids, comma-separated, for messages.
    pub fn ids(&self) -> String {
        let ids: Vec<String> = self.areas.iter().map(|a| a.area_id().0).collect();
        ids.join(", ")
    }
}

/// With several areas and HTTP on, each area's live view needs a token of its own (no two
/// alike) and the deployment an operator token: one area's token must never open another's.
fn check_tokens(areas: &[Settings]) -> Result<(), ConfigError> {
    use secrecy::ExposeSecret;
    let Some(first) = areas.first() else {
        return Ok(());
    };
    if first.http.addr().is_none() {
        return Ok(());
    }
    let mut issues = Vec::new();
    let mut seen: Vec<(String, AreaId)> = Vec::new();
    if let Some(op) = &first.http.operator_token {
        seen.push((
            op.expose_secret().trim().to_string(),
            AreaId("the operator".into()),
        ));
    } else {
        issues.push(Issue::new(
            "http.operator_token",
            "several areas share the live view: set the deployment's operator token",
        ));
    }
    for a in areas {
        let id = a.area_id();
        let Some(t) = &a.http.token else {
            issues.push(Issue::new(
                "http.token",
                format!("area `{id}` has no token: each area's live view needs its own"),
            ));
            continue;
        };
        let t = t.expose_secret().trim().to_string();
        if let Some((_, other)) = seen.iter().find(|(s, _)| *s == t) {
            issues.push(Issue::new(
                "http.token",
                format!("area `{id}` has the same token as {other}: each needs its own"),
            ));
        }
        seen.push((t, id));
    }
    if issues.is_empty() {
        Ok(())
    } else {
        Err(ConfigError::Invalid(issues))
    }
}

/// The area files in `dir`, sorted by name.
fn area_files(dir: &Path) -> Result<Vec<PathBuf>, ConfigError> {
    let invalid = |m: String| ConfigError::Invalid(vec![Issue::new("areas.dir", m)]);
    let entries = std::fs::read_dir(dir)
        .map_err(|e| invalid(format!("cannot read `{}`: {e}", dir.display())))?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| invalid(format!("cannot read `{}`: {e}", dir.display())))?
            .path();
        if path.extension().is_some_and(|x| x == "toml") && path.is_file() {
            files.push(path);
        }
        if files.len() > MAX_AREAS {
            return Err(invalid(format!(
                "`{}` holds more than {MAX_AREAS} area files",
                dir.display()
            )));
        }
    }
    files.sort();
    Ok(files)
}

/// One area file over the deployment's file; its id defaults to the file's name.
fn load_area(file: &Path, main: Option<&Path>, env: bool) -> Result<Settings, ConfigError> {
    check_area_file(file)?;
    let sources = Sources {
        file: Some(file.to_path_buf()),
        env,
    };
    let mut settings = Settings::load_under(&sources, main)?;
    // The deployment's file says where the area files are; an area is not itself several.
    settings.areas.dir = None;
    settings.areas.member = true;
    if settings.general.id.is_none() {
        let stem = file.file_stem().map(|s| s.to_string_lossy().into_owned());
        let id = stem.unwrap_or_default();
        if !valid_id(&id) {
            return Err(ConfigError::Invalid(vec![Issue::new(
                "general.id",
                format!("the file's name `{id}` is not an area id ({ID_RULE}): give `general.id`"),
            )]));
        }
        settings.general.id = Some(id);
    }
    Ok(settings)
}

/// An area file sets only an area's things.
fn check_area_file(file: &Path) -> Result<(), ConfigError> {
    use config::{Config, File, FileFormat};
    let read = Config::builder()
        .add_source(File::from(file).format(FileFormat::Toml))
        .build()?;
    let top: std::collections::BTreeMap<String, config::Value> = read.try_deserialize()?;
    let mut issues = Vec::new();
    for (key, value) in &top {
        if !AREA_SECTIONS.contains(&key.as_str()) {
            issues.push(Issue::new(
                key.clone(),
                "is the deployment's, not an area's: set it in the deployment's file".to_string(),
            ));
        } else if key == "http"
            && let Ok(table) = value.clone().into_table()
        {
            for k in table
                .keys()
                .filter(|k| !AREA_HTTP_KEYS.contains(&k.as_str()))
            {
                issues.push(Issue::new(
                    format!("http.{k}"),
                    "is the deployment's: an area sets only http.token or http.token_file",
                ));
            }
        } else if key == "stats"
            && let Ok(table) = value.clone().into_table()
        {
            for k in table
                .keys()
                .filter(|k| !AREA_STATS_KEYS.contains(&k.as_str()))
            {
                issues.push(Issue::new(
                    format!("stats.{k}"),
                    "is the deployment's: an area sets only stats.area or stats.neighbours",
                ));
            }
        }
    }
    if issues.is_empty() {
        Ok(())
    } else {
        let file = file.display().to_string();
        Err(ConfigError::Invalid(
            issues
                .into_iter()
                .map(|mut i| {
                    i.file = Some(file.clone());
                    i
                })
                .collect(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_ids() {
        assert_eq!(slug("Sefton"), "sefton");
        assert_eq!(
            slug("Bath and North East Somerset"),
            "bath-and-north-east-somerset"
        );
        assert_eq!(slug("St. Helens"), "st-helens");
        assert_eq!(
            slug("  Kingston upon Hull, City of "),
            "kingston-upon-hull-city-of"
        );
        assert!(valid_id("sefton"));
        assert!(valid_id("st-helens"));
        assert!(!valid_id(""));
        assert!(!valid_id("Sefton"));
        assert!(!valid_id("9lives"));
        assert!(!valid_id("a/b"));
        assert!(!valid_id(&"a".repeat(41)));
    }
}
