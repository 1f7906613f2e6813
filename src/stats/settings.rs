//! `[stats]`: the measures sendwatch keeps of published statistics, and each release's layout
//! (a mapping) as data. The 2025 release's mapping is shipped (`config/stats/ees-ehcp-2025.toml`,
//! a configuration layer compiled in, as the extract kinds are), so a release whose columns are
//! renamed is read by configuration alone.
//!
//! Owns: the settings types, their ranges and their pure check. Must not: read files.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use crate::bounds::Bound;
use crate::kpi::{Catalogue, PeriodKind, Unit};

/// The shipped mapping, laid under every configuration by [`crate::config`].
pub const BUILTIN: &str = include_str!("../../config/stats/ees-ehcp-2025.toml");

/// `max_file_bytes`: a release's files are megabytes; 16 GiB is far past any.
pub const MAX_FILE_BYTES: Bound<u64> = Bound::new(1024, 16 << 30, "1 KiB to 16 GiB");
/// `max_record_bytes`: as an extract's ([`crate::load::settings::MAX_RECORD_BYTES`]).
pub const MAX_RECORD_BYTES: Bound<usize> = Bound::new(1024, 64 << 20, "1 KiB to 64 MiB");
/// How many statistical neighbours an area may name (the DfE's own sets have ten).
pub const MAX_NEIGHBOURS: usize = 20;
/// `reporting_year`.
const REPORTING_YEAR: Bound<i32> = Bound::new(2000, 2200, "a reporting year");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatsSettings {
    /// The mapping `stats import` reads with unless `--mapping` names another.
    pub mapping: Option<String>,
    /// The local authority `stats show` prints (name, code or old code); default `[general]
    /// area`.
    pub area: Option<String>,
    /// A file, a zip, or a file in a zip (unpacked) larger than this refuses the import.
    #[serde(default = "default_max_file_bytes")]
    pub max_file_bytes: u64,
    /// A line longer than this refuses the import.
    #[serde(default = "default_max_record_bytes")]
    pub max_record_bytes: usize,
    /// The measures `stats show` prints, in order, unless `--measure` names others.
    #[serde(default)]
    pub show: Vec<String>,
    /// The area's statistical neighbours, as the release names or codes its local
    /// authorities: each timeliness KPI shows their published figures beside the area's.
    #[serde(default)]
    pub neighbours: Vec<String>,
    #[serde(default)]
    pub measures: BTreeMap<String, MeasureDef>,
    #[serde(default)]
    pub mappings: BTreeMap<String, Mapping>,
}

impl Default for StatsSettings {
    fn default() -> Self {
        StatsSettings {
            mapping: None,
            area: None,
            max_file_bytes: default_max_file_bytes(),
            max_record_bytes: default_max_record_bytes(),
            show: Vec::new(),
            neighbours: Vec::new(),
            measures: BTreeMap::new(),
            mappings: BTreeMap::new(),
        }
    }
}

fn default_max_file_bytes() -> u64 {
    256 << 20
}

fn default_max_record_bytes() -> usize {
    64 << 10
}

/// What a measure is: our name's label, and whether it counts or is a percentage.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeasureDef {
    pub label: String,
    pub unit: StatUnit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StatUnit {
    /// A whole number, as published (a few published counts are negative: kept as they are).
    Count,
    /// 0 to 100.
    Percent,
}

impl StatUnit {
    pub fn as_str(self) -> &'static str {
        match self {
            StatUnit::Count => "count",
            StatUnit::Percent => "percent",
        }
    }
}

/// One release's layout.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    pub title: String,
    /// A later reporting year's figure replaces an earlier one's, never the other way round.
    pub reporting_year: i32,
    /// Codes for "no figure" (a blank cell is one too).
    #[serde(default = "default_absent")]
    pub absent: Vec<String>,
    pub columns: Columns,
    pub levels: Levels,
    /// The release's `time_identifier` word for each kind of period it has.
    pub periods: BTreeMap<PeriodKind, String>,
    /// The files read, by a key of our own.
    pub files: BTreeMap<String, FileMap>,
}

fn default_absent() -> Vec<String> {
    ["x", "z", "c", "low", "u"].map(String::from).to_vec()
}

/// The columns that say the period and the area (our name = the release's header).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Columns {
    pub time_period: String,
    pub time_identifier: String,
    pub geographic_level: String,
    pub country_code: String,
    pub country_name: String,
    pub region_code: String,
    pub region_name: String,
    pub la_code: String,
    pub la_name: String,
    pub old_la_code: Option<String>,
}

/// The release's `geographic_level` words.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Levels {
    pub national: String,
    pub regional: String,
    pub local_authority: String,
}

/// One CSV file of the release.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileMap {
    /// Its name in the release's zip or folder.
    pub file: String,
    /// Only the rows whose `column` is `value` (e.g. the totals, not the breakdowns).
    pub select: Option<Select>,
    /// Our measure = the release's column.
    pub measures: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Select {
    pub column: String,
    pub value: String,
}

impl Mapping {
    /// The kind of period a `time_identifier` word names.
    pub fn period_kind(&self, word: &str) -> Option<PeriodKind> {
        self.periods
            .iter()
            .find(|(_, w)| w.as_str() == word)
            .map(|(k, _)| *k)
    }

    /// The codes read as absent, as one phrase: "x, z, c, low, u or blank".
    pub fn absent_words(&self) -> String {
        let mut words: Vec<&str> = self.absent.iter().map(String::as_str).collect();
        words.push("blank");
        let last = words.pop().unwrap_or("blank");
        if words.is_empty() {
            last.to_string()
        } else {
            format!("{} or {last}", words.join(", "))
        }
    }
}

impl StatsSettings {
    /// The mapping `name` (or `[stats] mapping`), with its name.
    pub fn mapping(&self, name: Option<&str>) -> Result<(&str, &Mapping), super::StatsError> {
        let name = name
            .or(self.mapping.as_deref())
            .ok_or(super::StatsError::NoMapping)?;
        self.mappings
            .get_key_value(name)
            .map(|(k, m)| (k.as_str(), m))
            .ok_or_else(|| super::StatsError::UnknownMapping(name.to_string()))
    }

    /// Check every key; pure. `bad(key, message)` with keys in full (`stats.mappings.X...`).
    pub fn check(&self, bad: &mut dyn FnMut(String, String)) {
        MAX_FILE_BYTES.check(bad, "stats.max_file_bytes", self.max_file_bytes);
        MAX_RECORD_BYTES.check(bad, "stats.max_record_bytes", self.max_record_bytes);
        if let Some(m) = &self.mapping
            && !self.mappings.contains_key(m)
        {
            bad("stats.mapping".into(), format!("no mapping named `{m}`"));
        }
        for (i, m) in self.show.iter().enumerate() {
            if !self.measures.contains_key(m) {
                bad(
                    format!("stats.show[{i}]"),
                    format!("no measure named `{m}`"),
                );
            }
        }
        self.check_neighbours(bad);
        for (name, m) in &self.measures {
            if !crate::load::kind::is_identifier(name) {
                bad(
                    format!("stats.measures.{name}"),
                    "measure names use a-z, 0-9 and '_' only".into(),
                );
            }
            if m.label.trim().is_empty() {
                bad(
                    format!("stats.measures.{name}.label"),
                    "must not be empty".into(),
                );
            }
        }
        for (name, m) in &self.mappings {
            self.check_mapping(&format!("stats.mappings.{name}"), m, bad);
        }
    }

    /// Neighbours: named, each once, not the area itself, at most [`MAX_NEIGHBOURS`]. Whether
    /// the imported release has them is for `check-config --connect` (the store holds it).
    fn check_neighbours(&self, bad: &mut dyn FnMut(String, String)) {
        if self.neighbours.len() > MAX_NEIGHBOURS {
            bad(
                "stats.neighbours".into(),
                format!("at most {MAX_NEIGHBOURS} statistical neighbours"),
            );
        }
        let mut seen = BTreeSet::new();
        for (i, n) in self.neighbours.iter().enumerate() {
            let key = format!("stats.neighbours[{i}]");
            let n = n.trim().to_lowercase();
            if n.is_empty() {
                bad(key, "must name a local authority".into());
            } else if !seen.insert(n.clone()) {
                bad(key, "named twice".into());
            } else if self
                .area
                .as_deref()
                .is_some_and(|a| a.trim().to_lowercase() == n)
            {
                bad(key, "is the area itself ([stats] area)".into());
            }
        }
    }

    fn check_mapping(&self, key: &str, m: &Mapping, bad: &mut dyn FnMut(String, String)) {
        if m.title.trim().is_empty() {
            bad(format!("{key}.title"), "must not be empty".into());
        }
        REPORTING_YEAR.check(bad, format!("{key}.reporting_year"), m.reporting_year);
        for (i, code) in m.absent.iter().enumerate() {
            if code.trim().is_empty() || number_like(code) {
                bad(
                    format!("{key}.absent[{i}]"),
                    "a code for no figure is a word, not blank or a number".into(),
                );
            }
        }
        let c = &m.columns;
        let named = [
            ("time_period", Some(&c.time_period)),
            ("time_identifier", Some(&c.time_identifier)),
            ("geographic_level", Some(&c.geographic_level)),
            ("country_code", Some(&c.country_code)),
            ("country_name", Some(&c.country_name)),
            ("region_code", Some(&c.region_code)),
            ("region_name", Some(&c.region_name)),
            ("la_code", Some(&c.la_code)),
            ("la_name", Some(&c.la_name)),
            ("old_la_code", c.old_la_code.as_ref()),
        ];
        for (ours, theirs) in named {
            if theirs.is_some_and(|t| t.trim().is_empty()) {
                bad(format!("{key}.columns.{ours}"), "must not be empty".into());
            }
        }
        let l = &m.levels;
        for (ours, word) in [
            ("national", &l.national),
            ("regional", &l.regional),
            ("local_authority", &l.local_authority),
        ] {
            if word.trim().is_empty() {
                bad(format!("{key}.levels.{ours}"), "must not be empty".into());
            }
        }
        if m.periods.is_empty() {
            bad(
                format!("{key}.periods"),
                "name at least one kind of period".into(),
            );
        }
        for kind in m.periods.keys() {
            if !kind.is_year() {
                bad(
                    format!("{key}.periods.{}", kind.as_str()),
                    "a release's periods are calendar_year, academic_year or financial_year".into(),
                );
            }
        }
        self.check_files(key, m, bad);
    }

    fn check_files(&self, key: &str, m: &Mapping, bad: &mut dyn FnMut(String, String)) {
        if m.files.is_empty() {
            bad(format!("{key}.files"), "name at least one file".into());
        }
        let mut names = BTreeSet::new();
        let mut mapped: BTreeMap<&str, &str> = BTreeMap::new();
        for (fkey, f) in &m.files {
            let fkey = format!("{key}.files.{fkey}");
            let plain = !f.file.is_empty()
                && !f.file.contains(['/', '\\'])
                && f.file != "."
                && f.file != "..";
            if !plain {
                bad(
                    format!("{fkey}.file"),
                    "a file's name alone, with no folder".into(),
                );
            } else if !names.insert(f.file.as_str()) {
                bad(
                    format!("{fkey}.file"),
                    "another file entry names it too".into(),
                );
            }
            if f.measures.is_empty() {
                bad(
                    format!("{fkey}.measures"),
                    "map at least one measure".into(),
                );
            }
            for (measure, column) in &f.measures {
                let mkey = format!("{fkey}.measures.{measure}");
                if !self.measures.contains_key(measure) {
                    bad(mkey.clone(), "no such measure in [stats.measures]".into());
                }
                if column.trim().is_empty() {
                    bad(mkey.clone(), "must name a column".into());
                }
                if let Some(other) = mapped.insert(measure, &f.file) {
                    bad(mkey, format!("{other} gives this measure too: map it once"));
                }
            }
            if let Some(s) = &f.select
                && (s.column.trim().is_empty() || s.value.is_empty())
            {
                bad(
                    format!("{fkey}.select"),
                    "needs a column and a value".into(),
                );
            }
        }
    }

    /// A KPI's `national_measure` must be a measure of the same unit (a percentage KPI's
    /// national average is a percentage).
    pub fn check_kpis(&self, kpis: &Catalogue, bad: &mut dyn FnMut(String, String)) {
        for (id, k) in kpis.iter() {
            let Some(m) = &k.national_measure else {
                continue;
            };
            let key = format!("kpis.\"{id}\".national_measure");
            match self.measures.get(m) {
                None => bad(key, format!("no measure named `{m}` in [stats.measures]")),
                Some(def) => {
                    let fits = matches!(
                        (def.unit, k.unit),
                        (StatUnit::Percent, Unit::Percent) | (StatUnit::Count, Unit::Count)
                    );
                    if !fits {
                        bad(
                            key,
                            format!(
                                "`{m}` is a {} measure; the KPI's unit is {}",
                                def.unit.as_str(),
                                k.unit.as_str()
                            ),
                        );
                    }
                }
            }
        }
    }
}

fn number_like(s: &str) -> bool {
    s.trim().parse::<f64>().is_ok()
}

/// The shipped settings alone (the mapping of the 2025 release), for tests and the benchmark.
pub fn builtin() -> Result<StatsSettings, config::ConfigError> {
    #[derive(Deserialize)]
    struct File {
        stats: StatsSettings,
    }
    let file: File = config::Config::builder()
        .add_source(config::File::from_str(BUILTIN, config::FileFormat::Toml))
        .build()?
        .try_deserialize()?;
    Ok(file.stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_mapping_checks_and_is_the_default() {
        let s = builtin().expect("the shipped mapping parses");
        let mut issues = Vec::new();
        s.check(&mut |k, m| issues.push(format!("{k}: {m}")));
        assert!(issues.is_empty(), "{issues:?}");
        let (name, m) = s.mapping(None).expect("a default mapping");
        assert_eq!(name, "ees-ehcp-2025");
        assert_eq!(m.files.len(), 6);
        assert_eq!(
            m.period_kind("Calendar year"),
            Some(PeriodKind::CalendarYear)
        );
        assert_eq!(
            m.period_kind("Academic year"),
            Some(PeriodKind::AcademicYear)
        );
        assert_eq!(m.absent_words(), "x, z, c, low, u or blank");
    }

    #[test]
    fn neighbours_are_named_once_and_not_the_area_itself() {
        let mut s = builtin().expect("parses");
        s.area = Some("Sefton".into());
        s.neighbours = ["Knowsley", " ", "knowsley", "SEFTON", "E06000009"]
            .map(String::from)
            .to_vec();
        let mut issues = Vec::new();
        s.check(&mut |k, m| issues.push(format!("{k}: {m}")));
        assert_eq!(
            issues,
            [
                "stats.neighbours[1]: must name a local authority",
                "stats.neighbours[2]: named twice",
                "stats.neighbours[3]: is the area itself ([stats] area)",
            ]
        );
        s.neighbours = (0..=MAX_NEIGHBOURS).map(|i| format!("LA {i}")).collect();
        let mut issues = Vec::new();
        s.check(&mut |k, m| issues.push(format!("{k}: {m}")));
        assert_eq!(
            issues,
            ["stats.neighbours: at most 20 statistical neighbours"]
        );
    }

    #[test]
    fn a_mapping_that_names_an_unknown_measure_twice_or_a_folder_is_refused() {
        let mut s = builtin().expect("parses");
        let m = s.mappings.get_mut("ees-ehcp-2025").expect("shipped");
        let f = m.files.get_mut("requests").expect("requests");
        f.file = "data/requests.csv".into();
        f.measures.insert("nonesuch".into(), "col".into());
        f.measures.insert("pc_within_20_weeks".into(), "col".into());
        s.show.push("nor_this".into());
        let mut issues = Vec::new();
        s.check(&mut |k, m| issues.push(format!("{k}: {m}")));
        let want = [
            "stats.mappings.ees-ehcp-2025.files.requests.file: a file's name alone",
            "stats.mappings.ees-ehcp-2025.files.requests.measures.nonesuch: no such measure",
            "files.timeliness.measures.pc_within_20_weeks: data/requests.csv gives this measure",
            "stats.show[12]: no measure named `nor_this`",
        ];
        for w in want {
            assert!(issues.iter().any(|i| i.contains(w)), "{w}\n{issues:#?}");
        }
    }
}
