//! The files a configuration names: the `base` file it is laid over, and the plan's folder
//! (`[plan] dir`) whose KPI catalogue, risk register, action log, sub-groups and board
//! meetings are laid under it.
//!
//! Owns: reading those two names from each file before layering, resolving them against the
//! naming file's folder, and refusing a plan file that sets anything but the plan. Nothing of
//! a plan is compiled in (only the extract kinds are); the shipped Sefton plan is a folder of
//! the source tree, [`shipped_dir`], that the example names. Must not: hold a plan's data.
//!
//! Why a folder per plan: a later change names several areas' plans side by side
//! (`config/plans/<area>/`); each stays a folder of the same files ([`PLAN_FILES`]).

use std::path::{Path, PathBuf};

use config::{Config, File, FileFormat};
use serde::Deserialize;

use super::{ConfigError, Issue};

/// `[plan]`: the plan this configuration watches.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanSettings {
    /// The plan's folder, relative to the folder of the file that names it (after loading,
    /// that resolved path). None: no plan, so no KPIs, risks or actions.
    pub dir: Option<PathBuf>,
}

/// The files a plan's folder may hold (each optional), laid in this order: the KPI catalogue,
/// the risk register, the action log, and the sub-groups that own them with the board's
/// meetings (`[sub_groups.*]`, `[action_log] meetings`).
pub const PLAN_FILES: [&str; 4] = ["kpis.toml", "risks.toml", "actions.toml", "groups.toml"];

/// What a plan's files may set: the plan, and nothing of the deployment's. The sub-groups are
/// the plan's (its KPIs, risks and actions name them as owners); their addresses are
/// placeholders a deployment amends key by key.
const PLAN_SECTIONS: [&str; 6] = [
    "kpis",
    "risks",
    "risk_log",
    "actions",
    "action_log",
    "sub_groups",
];

/// How many `base` files one configuration may stack (a guard against a runaway chain).
const MAX_BASES: usize = 8;

/// The files to lay, in order, before the environment.
#[derive(Debug)]
pub(super) struct Layers {
    /// The plan's files that exist, in [`PLAN_FILES`] order.
    pub plan: Vec<PathBuf>,
    /// The configuration files, the deepest `base` first and the given file last.
    pub config: Vec<PathBuf>,
    /// The plan's folder, resolved.
    pub plan_dir: Option<PathBuf>,
    /// `[areas] dir`, resolved: the folder of area files (one deployment, many areas).
    pub areas_dir: Option<PathBuf>,
}

/// The two names a configuration file may give of other files.
#[derive(Deserialize)]
struct Names {
    base: Option<PathBuf>,
    plan: Option<PlanNames>,
    areas: Option<AreaNames>,
}

#[derive(Deserialize)]
struct AreaNames {
    dir: Option<PathBuf>,
}

#[derive(Deserialize)]
struct PlanNames {
    dir: Option<PathBuf>,
}

fn read(path: &Path) -> Result<Config, ConfigError> {
    Ok(Config::builder()
        .add_source(File::from(path).format(FileFormat::Toml))
        .build()?)
}

fn invalid(key: &str, message: String) -> ConfigError {
    ConfigError::Invalid(vec![Issue::new(key, message)])
}

/// `path` as named in `by`: relative to `by`'s folder.
fn beside(by: &Path, path: &Path) -> PathBuf {
    match by.parent() {
        Some(folder) => folder.join(path),
        None => path.to_path_buf(),
    }
}

/// Follow `file`'s `base` chain and find its plan; `plan_env` is `SENDWATCH__PLAN__DIR`
/// (relative to the working directory), which wins over the files.
/// `under`: the file laid under `file` when its chain names no `base` (an area file is laid
/// over the deployment's file).
pub(super) fn layers(
    file: Option<&Path>,
    plan_env: Option<PathBuf>,
    under: Option<&Path>,
) -> Result<Layers, ConfigError> {
    let mut config = Vec::new();
    let mut plan_dir = None;
    let mut areas_dir = None;
    let mut under = under.map(Path::to_path_buf);
    let mut next = file.map(Path::to_path_buf);
    while let Some(path) = next.take() {
        if config.len() == MAX_BASES {
            return Err(invalid(
                "base",
                format!("more than {MAX_BASES} files laid over one another (a loop?)"),
            ));
        }
        let names: Names = read(&path)?.try_deserialize()?;
        // The file nearest the top that names a plan decides it.
        if plan_dir.is_none()
            && let Some(dir) = names.plan.and_then(|p| p.dir)
        {
            plan_dir = Some(beside(&path, &dir));
        }
        if areas_dir.is_none()
            && let Some(dir) = names.areas.and_then(|a| a.dir)
        {
            areas_dir = Some(beside(&path, &dir));
        }
        next = names
            .base
            .map(|b| beside(&path, &b))
            .or_else(|| under.take());
        config.push(path);
    }
    config.reverse();
    let plan_dir = plan_env.or(plan_dir);
    let plan = match &plan_dir {
        Some(dir) => plan_files(dir)?,
        None => Vec::new(),
    };
    Ok(Layers {
        plan,
        config,
        plan_dir,
        areas_dir,
    })
}

/// The plan files in `dir`, each checked to set only the plan.
fn plan_files(dir: &Path) -> Result<Vec<PathBuf>, ConfigError> {
    if !dir.is_dir() {
        return Err(invalid(
            "plan.dir",
            format!("`{}` is not a folder", dir.display()),
        ));
    }
    let files: Vec<PathBuf> = PLAN_FILES
        .iter()
        .map(|f| dir.join(f))
        .filter(|p| p.is_file())
        .collect();
    if files.is_empty() {
        return Err(invalid(
            "plan.dir",
            format!(
                "`{}` holds none of {}",
                dir.display(),
                PLAN_FILES.join(", ")
            ),
        ));
    }
    let mut issues = Vec::new();
    for path in &files {
        let top: std::collections::BTreeMap<String, config::Value> =
            read(path)?.try_deserialize()?;
        for key in top.keys().filter(|k| !PLAN_SECTIONS.contains(&k.as_str())) {
            issues.push(Issue::new(
                "plan.dir",
                format!(
                    "{}: `{key}` is not part of a plan (a plan's files set only {})",
                    path.display(),
                    PLAN_SECTIONS.join(", ")
                ),
            ));
        }
    }
    if issues.is_empty() {
        Ok(files)
    } else {
        Err(ConfigError::Invalid(issues))
    }
}

/// The source tree's folder of the shipped Sefton plan, `config/plans/sefton`: for tests and
/// the benchmark, which run from a checkout. Only this path is compiled in, not the plan.
pub fn shipped_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config/plans/sefton")
}

/// The source tree's example configuration, `config/sendwatch.toml` (see [`shipped_dir`]).
pub fn example_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config/sendwatch.toml")
}

/// One file of the shipped plan (`kpis.toml`, ...), read alone.
pub fn shipped(file: &str) -> Result<Config, config::ConfigError> {
    Config::builder()
        .add_source(File::from(shipped_dir().join(file)).format(FileFormat::Toml))
        .build()
}
