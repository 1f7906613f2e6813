//! `sendwatch init AREA [--dir DIR] [--from-plan sefton] [--extracts DIR] [--force]`: a
//! commented starter configuration for a named area, and its plan: an empty skeleton, or a
//! copy of a plan shipped with sendwatch.
//!
//! Owns: the starter's text (from the templates in `config/starter/`, compiled in) and writing
//! it: `DIR/sendwatch.toml` and `DIR/plans/SLUG/` ([`PLAN_FILES`]), nothing else, and nothing
//! that is there already unless `--force`. Must not: read a configuration (it runs before one
//! exists) or hold a plan's data: the shipped plans are compiled in from their one copy,
//! `config/plans/NAME/`, because an installed binary has no source tree to copy them from.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use serde::Deserialize;

use super::{Failure, usage};
use crate::config::plan::PLAN_FILES;
use crate::kpi::{Fold, Measure};

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// The area's name, as its subjects and reports say it ("Wigan", "St Helens"); its folder
    /// names use it in lower case ("st-helens").
    pub area: String,
    /// Where to write sendwatch.toml and plans/SLUG/ (created); default ./sendwatch-SLUG.
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Copy a plan shipped with sendwatch (its KPIs, risks, actions and sub-groups) instead of
    /// writing an empty one; the configuration gets a source for each source the plan reads.
    #[arg(long, value_enum)]
    pub from_plan: Option<ShippedPlan>,
    /// The folder the extracts are in: each source reads DIR/NAME.csv (made absolute) instead
    /// of a placeholder under extracts/.
    #[arg(long)]
    pub extracts: Option<PathBuf>,
    /// Overwrite files that are already there (without it, nothing is written if any is).
    #[arg(long)]
    pub force: bool,
}

/// The plans shipped with sendwatch, by the folder name of their one copy in `config/plans/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ShippedPlan {
    /// The Sefton SEND improvement plan (2019-21), the README's example.
    Sefton,
}

impl ShippedPlan {
    /// Its files, in [`PLAN_FILES`] order.
    fn files(self) -> [(&'static str, &'static str); 4] {
        match self {
            ShippedPlan::Sefton => SEFTON,
        }
    }
}

/// The shipped Sefton plan, `config/plans/sefton/`: compiled in for an installed binary.
const SEFTON: [(&str, &str); 4] = [
    (
        "kpis.toml",
        include_str!("../../config/plans/sefton/kpis.toml"),
    ),
    (
        "risks.toml",
        include_str!("../../config/plans/sefton/risks.toml"),
    ),
    (
        "actions.toml",
        include_str!("../../config/plans/sefton/actions.toml"),
    ),
    (
        "groups.toml",
        include_str!("../../config/plans/sefton/groups.toml"),
    ),
];

/// An empty plan: each file commented with how to add to it.
const SKELETON: [(&str, &str); 4] = [
    (
        "kpis.toml",
        include_str!("../../config/starter/plan/kpis.toml"),
    ),
    (
        "risks.toml",
        include_str!("../../config/starter/plan/risks.toml"),
    ),
    (
        "actions.toml",
        include_str!("../../config/starter/plan/actions.toml"),
    ),
    (
        "groups.toml",
        include_str!("../../config/starter/plan/groups.toml"),
    ),
];

/// The starter configuration, with its `@...@` markers to fill.
const STARTER: &str = include_str!("../../config/starter/sendwatch.toml");

/// Why no starter was written.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("the area's name must not be empty")]
    EmptyArea,
    #[error("the area's name must be on one line, without control characters")]
    ControlInArea,
    #[error("the area's name has no letter or digit to name its folders by")]
    NoSlug,
    #[error("the shipped plan does not read: {0}")]
    Plan(#[from] config::ConfigError),
    #[error("{0} is not valid UTF-8: give a folder whose path is")]
    NotUtf8(PathBuf),
}

/// The area's name in lower case, each run of anything but an ASCII letter or digit a '-':
/// "St Helens" is `st-helens`. A folder's name, so nothing else passes.
pub fn slug(area: &str) -> String {
    let mut out = String::new();
    for c in area.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

/// What a plan's files name that the configuration must provide: its sources (each with the
/// measures that read it) and the risk log's holder.
#[derive(Debug, Default)]
struct Needs {
    sources: BTreeMap<String, Vec<Measure>>,
    holder: Option<String>,
}

/// The few keys of a plan's files [`Needs`] reads; the rest are check-config's to check.
#[derive(Deserialize)]
struct PlanNames {
    #[serde(default)]
    kpis: BTreeMap<String, KpiNames>,
    #[serde(default)]
    risks: BTreeMap<String, RiskNames>,
    #[serde(default)]
    risk_log: Option<HolderName>,
}

#[derive(Deserialize)]
struct KpiNames {
    measure: Option<Measure>,
    source: Option<String>,
}

#[derive(Deserialize)]
struct RiskNames {
    #[serde(default)]
    triggers: Vec<TriggerNames>,
}

#[derive(Deserialize)]
struct TriggerNames {
    source: Option<String>,
}

#[derive(Deserialize)]
struct HolderName {
    holder: Option<String>,
}

impl Needs {
    fn of(files: &[(&str, &str)]) -> Result<Needs, InitError> {
        let mut builder = config::Config::builder();
        for (_, text) in files {
            builder = builder.add_source(config::File::from_str(text, config::FileFormat::Toml));
        }
        let names: PlanNames = builder.build()?.try_deserialize()?;
        let mut needs = Needs {
            holder: names
                .risk_log
                .and_then(|l| l.holder)
                .filter(|h| !h.is_empty()),
            ..Needs::default()
        };
        for k in names.kpis.values() {
            if let Some(source) = &k.source {
                let measures = needs.sources.entry(source.clone()).or_default();
                measures.extend(k.measure);
            }
        }
        for t in names.risks.values().flat_map(|r| &r.triggers) {
            if let Some(source) = &t.source {
                needs.sources.entry(source.clone()).or_default();
            }
        }
        Ok(needs)
    }
}

/// The built-in kind a source is read as: one whose columns every measure reading it needs,
/// the kind of the source's own name first; `tracker` for a source no measure reads.
fn kind_for(source: &str, measures: &[Measure]) -> String {
    let Ok(kinds) = crate::load::kind::builtin_kinds() else {
        return "tracker".into();
    };
    let fits = |kind: &crate::load::KindDef| {
        measures
            .iter()
            .all(|m| Fold::missing_column(*m, kind).is_none())
    };
    if measures.is_empty() {
        return if kinds.contains_key(source) {
            source.into()
        } else {
            "tracker".into()
        };
    }
    match kinds.get(source) {
        Some(k) if fits(k) => source.into(),
        _ => kinds
            .iter()
            .find(|(_, k)| fits(k))
            .map_or_else(|| "tracker".into(), |(name, _)| name.clone()),
    }
}

/// A TOML basic string: JSON's string syntax is TOML's (quotes, backslashes, `\uXXXX`).
fn quoted(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// What to write: a path relative to the output folder, and its text.
pub type Files = Vec<(PathBuf, String)>;

/// The starter for `area`: its configuration and plan, as text (no I/O but the path of
/// `extracts`, made absolute against the working directory).
pub fn starter(
    area: &str,
    plan: Option<ShippedPlan>,
    extracts: Option<&Path>,
) -> Result<Files, InitError> {
    let area = area.trim();
    if area.is_empty() {
        return Err(InitError::EmptyArea);
    }
    if area.chars().any(char::is_control) {
        return Err(InitError::ControlInArea);
    }
    let slug = slug(area);
    if slug.is_empty() {
        return Err(InitError::NoSlug);
    }
    let plan_files = plan.map_or(SKELETON, ShippedPlan::files);
    let mut needs = Needs::of(&plan_files)?;
    if needs.sources.is_empty() {
        // An empty plan reads nothing yet: one tracker to start from.
        needs
            .sources
            .insert("tracker".into(), vec![Measure::EhcpWithin20Weeks]);
    }
    let extracts =
        extracts.map(|dir| std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf()));
    let mut sources = Vec::new();
    for (name, measures) in &needs.sources {
        let url = match &extracts {
            Some(dir) => {
                let path = dir.join(format!("{name}.csv"));
                let text = path
                    .to_str()
                    .ok_or_else(|| InitError::NotUtf8(path.clone()))?;
                format!("url = {}", quoted(text))
            }
            None => format!(
                "url = {}   # a placeholder: your extract's path or URL",
                quoted(&format!("extracts/{name}.csv"))
            ),
        };
        sources.push(format!(
            "[sources.{name}]\nkind = {kind}\n{url}\ncadence = \"monthly\"\ndeadline_days = 10\n\
             owner = {{ name = \"SEND data team\", email = \"send-data@example.org\" }}   \
             # a placeholder\n",
            kind = quoted(&kind_for(name, measures)),
        ));
    }
    let holder = match &needs.holder {
        Some(h) => format!("sub_groups = [{}]   # the risk log's holder", quoted(h)),
        None => {
            "#sub_groups = [\"KEY\"]   # the risk log's holder ([risk_log] holder in risks.toml)"
                .into()
        }
    };
    let job_sources: Vec<String> = needs.sources.keys().map(|s| quoted(s)).collect();
    let config = STARTER
        .replace("\"@AREA@\"", &quoted(area))
        .replace("@AREA@", area)
        .replace("@SLUG@", &slug)
        .replace("# @SOURCES@\n", &sources.join("\n"))
        .replace("# @RISK_LOG_HOLDER@", &holder)
        .replace("\"@JOB_SOURCES@\"", &job_sources.join(", "));
    let mut files = vec![(PathBuf::from("sendwatch.toml"), config)];
    let folder = Path::new("plans").join(&slug);
    for (name, text) in plan_files {
        let text = match plan {
            Some(_) => text.to_string(),
            None => text.replace("@AREA@", area),
        };
        files.push((folder.join(name), text));
    }
    Ok(files)
}

/// Write `files` under `dir`; without `force`, nothing if any of them is there.
fn write(dir: &Path, files: &Files, force: bool) -> anyhow::Result<()> {
    if !force {
        let there: Vec<String> = files
            .iter()
            .map(|(p, _)| dir.join(p))
            .filter(|p| p.symlink_metadata().is_ok())
            .map(|p| p.display().to_string())
            .collect();
        if !there.is_empty() {
            anyhow::bail!(
                "nothing written: {} already there (--force overwrites)",
                there.join(", ")
            );
        }
    }
    for (path, text) in files {
        let path = dir.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        let mut open = std::fs::OpenOptions::new();
        open.write(true);
        if force {
            open.create(true).truncate(true);
        } else {
            // Made between the check above and now: still not overwritten.
            open.create_new(true);
        }
        let mut file = open
            .open(&path)
            .with_context(|| format!("writing {}", path.display()))?;
        file.write_all(text.as_bytes())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// `sendwatch init`: write the starter and say what to do next.
pub fn run(args: &InitArgs) -> Result<ExitCode, Failure> {
    let files = starter(&args.area, args.from_plan, args.extracts.as_deref()).map_err(usage)?;
    let slug = slug(args.area.trim());
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("sendwatch-{slug}")));
    write(&dir, &files, args.force)?;
    let plan = dir.join("plans").join(&slug);
    println!("wrote {}", dir.join("sendwatch.toml").display());
    match args.from_plan {
        Some(p) => println!(
            "wrote {}: a copy of the shipped {p:?} plan's {}",
            plan.display(),
            PLAN_FILES.join(", ")
        ),
        None => println!(
            "wrote {}: an empty plan ({}), each file saying how to add to it",
            plan.display(),
            PLAN_FILES.join(", ")
        ),
    }
    if args.extracts.is_none() {
        println!("each source reads a placeholder under extracts/: point its url at your extract");
    }
    println!(
        "next: cd {} && sendwatch --config sendwatch.toml check-config",
        dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// A file's TOML, as a tree.
    fn parsed(text: &str) -> serde_json::Value {
        config::Config::builder()
            .add_source(config::File::from_str(text, config::FileFormat::Toml))
            .build()
            .and_then(config::Config::try_deserialize)
            .expect("TOML")
    }

    #[test]
    fn a_slug_is_the_name_in_lower_case_with_dashes() {
        assert_eq!(slug("Wigan"), "wigan");
        assert_eq!(slug("  St Helens "), "st-helens");
        assert_eq!(
            slug("Bath & North East Somerset"),
            "bath-north-east-somerset"
        );
        assert_eq!(slug("Ynys Môn"), "ynys-m-n");
        assert_eq!(slug("../.."), "");
    }

    #[test]
    fn every_plan_compiled_in_has_every_plan_file_in_order() {
        for files in [SKELETON, ShippedPlan::Sefton.files()] {
            let names: Vec<&str> = files.iter().map(|(n, _)| *n).collect();
            assert_eq!(names, PLAN_FILES);
        }
        // The shipped folder holds no file the binary would leave out.
        let on_disk: BTreeSet<String> = std::fs::read_dir(crate::config::plan::shipped_dir())
            .expect("config/plans/sefton")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        let compiled: BTreeSet<String> = PLAN_FILES.iter().map(|s| s.to_string()).collect();
        assert_eq!(on_disk, compiled);
    }

    #[test]
    fn a_name_that_cannot_name_a_folder_or_a_line_is_refused() {
        assert!(matches!(
            starter(" ", None, None),
            Err(InitError::EmptyArea)
        ));
        assert!(matches!(starter("--", None, None), Err(InitError::NoSlug)));
        assert!(matches!(
            starter("Wigan\n[store]", None, None),
            Err(InitError::ControlInArea)
        ));
    }

    #[test]
    fn every_marker_is_filled_and_a_quote_in_the_name_stays_in_its_string() {
        for plan in [None, Some(ShippedPlan::Sefton)] {
            let files = starter("King's \"Lynn\"", plan, None).expect("starter");
            for (path, text) in &files {
                assert!(!text.contains("@AREA@"), "{}", path.display());
                assert!(!text.contains("@SLUG@") && !text.contains("@SOURCES@"));
                assert!(!text.contains("@JOB_SOURCES@") && !text.contains("@RISK_LOG_HOLDER@"));
            }
            let config = parsed(&files[0].1);
            assert_eq!(config["general"]["area"].as_str(), Some("King's \"Lynn\""));
            assert_eq!(config["plan"]["dir"].as_str(), Some("plans/king-s-lynn"));
        }
    }

    #[test]
    fn the_sefton_plan_gets_a_source_of_the_right_kind_for_each_it_reads_and_its_holder() {
        let files = starter("Sefton", Some(ShippedPlan::Sefton), None).expect("starter");
        let config = parsed(&files[0].1);
        let kinds: Vec<(&str, &str)> = config["sources"]
            .as_object()
            .expect("sources")
            .iter()
            .map(|(n, s)| (n.as_str(), s["kind"].as_str().expect("kind")))
            .collect();
        assert_eq!(
            kinds,
            [
                ("provider", "provider"),
                ("reviews", "reviews"),
                ("tracker", "tracker")
            ]
        );
        let routes = config["notify"]["routes"].as_array().expect("routes");
        assert_eq!(routes[0]["sub_groups"][0].as_str(), Some("governance"));
        for (path, text) in &files[1..] {
            let name = path.file_name().and_then(|n| n.to_str()).expect("name");
            let shipped = std::fs::read_to_string(crate::config::plan::shipped_dir().join(name))
                .expect("shipped");
            assert_eq!(text, &shipped, "{name} is copied as it is");
        }
    }

    /// A plan file with its examples taken out of their comments (`#key`, not `# words`).
    fn uncommented(text: &str) -> String {
        text.lines()
            .map(|l| match l.strip_prefix('#') {
                Some(rest) if !rest.starts_with(' ') && !rest.is_empty() => rest,
                _ => l,
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn the_skeletons_examples_uncommented_make_a_valid_plan() {
        let dir = tempfile::tempdir().expect("tempdir");
        let files = starter("Wigan", None, None).expect("starter");
        for (path, text) in &files {
            let text = if path.starts_with("plans") {
                uncommented(text)
            } else {
                text.clone()
            };
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().expect("folder")).expect("mkdir");
            std::fs::write(path, text).expect("write");
        }
        let s = crate::config::Settings::load(&crate::config::Sources {
            file: Some(dir.path().join("sendwatch.toml")),
            env: false,
        })
        .expect("the examples make a valid plan");
        let kpis: Vec<&str> = s.kpis.keys().map(String::as_str).collect();
        assert_eq!(kpis, ["1/2", "4/1"]);
        assert_eq!(s.risks.len(), 1);
        assert_eq!(s.actions.len(), 1);
        assert_eq!(s.sub_groups.len(), 1);
    }
}
