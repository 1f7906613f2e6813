//! The pages sendwatch writes (the pack) and serves (the live board view), from the
//! templates in `config/templates/` (compiled in; a council may restyle them by giving a
//! folder holding any of them). minijinja with HTML auto-escaping: every value is a string
//! the views built, and only the trend charts (SVG [`crate::view::chart`] drew from numbers) are
//! marked safe.
//!
//! Owns: the template environment and its error.

use std::path::Path;

use minijinja::{AutoEscape, Environment};
use serde::Serialize;

use crate::disclose::Disclosure;

/// The shipped templates, by name.
const TEMPLATES: &[(&str, &str)] = &[
    (
        "base.html.j2",
        include_str!("../../config/templates/base.html.j2"),
    ),
    (
        "pack.html.j2",
        include_str!("../../config/templates/pack.html.j2"),
    ),
    (
        "kpi.html.j2",
        include_str!("../../config/templates/kpi.html.j2"),
    ),
    (
        "benchmark.html.j2",
        include_str!("../../config/templates/benchmark.html.j2"),
    ),
    (
        "runs.html.j2",
        include_str!("../../config/templates/runs.html.j2"),
    ),
];
/// Largest template read from a council's folder.
const MAX_TEMPLATE: u64 = 1 << 20;
/// Template instructions one render may run (the shipped pack uses well under a tenth).
const FUEL: u64 = 5_000_000;

#[derive(Debug, thiserror::Error)]
pub enum PackError {
    #[error("template {name}: {message}")]
    Template { name: String, message: String },
    #[error("cannot read template {path}: {message}")]
    Read { path: String, message: String },
}

/// Render the page `name` with `page` as its context under `key`, `live` (served by the
/// daemon: navigation and links) `hidden` (how a suppressed count shows under `d`) and `disclosure_note` (which policy
/// applied, in words).
pub fn render_page(
    name: &str,
    key: &str,
    page: &impl Serialize,
    live: Option<&str>,
    templates_dir: Option<&Path>,
    d: Disclosure,
) -> Result<String, PackError> {
    let ctx: std::collections::BTreeMap<String, minijinja::Value> = [(
        key.to_string(),
        minijinja::Value::from(minijinja::value::Serde(page)),
    )]
    .into_iter()
    .collect();
    render(name, minijinja::Value::from(ctx), live, templates_dir, d)
}

/// Render the page `name` with `page`'s fields as the template's top-level names.
pub fn render_fields(
    name: &str,
    page: &impl Serialize,
    live: Option<&str>,
    templates_dir: Option<&Path>,
    d: Disclosure,
) -> Result<String, PackError> {
    render(
        name,
        minijinja::Value::from(minijinja::value::Serde(page)),
        live,
        templates_dir,
        d,
    )
}

fn render(
    name: &str,
    page: minijinja::Value,
    live: Option<&str>,
    templates_dir: Option<&Path>,
    d: Disclosure,
) -> Result<String, PackError> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    // A council's template is input we do not control: bound the work it can ask for.
    env.set_fuel(Some(FUEL));
    for (n, shipped) in TEMPLATES {
        let source = match templates_dir.map(|d| d.join(n)) {
            Some(path) if path.is_file() => read_template(&path)?,
            _ => (*shipped).to_string(),
        };
        env.add_template_owned(*n, source)
            .map_err(|e| fail(n, &e))?;
    }
    let ctx = minijinja::context! {
        // A live page's links start at its area's path (`/a/ID`; empty for a single area).
        live => live.is_some(),
        base => live.unwrap_or(""),
        hidden => d.hidden(),
        disclosure_note => d.note(),
        ..page
    };
    env.get_template(name)
        .and_then(|t| t.render(ctx))
        .map_err(|e| fail(name, &e))
}

/// The board pack as a file (no navigation).
pub fn render_html(
    pack: &super::Pack,
    templates_dir: Option<&Path>,
    d: Disclosure,
) -> Result<String, PackError> {
    render_page("pack.html.j2", "pack", pack, None, templates_dir, d)
}

fn fail(name: &str, e: &minijinja::Error) -> PackError {
    PackError::Template {
        name: name.to_string(),
        message: e.to_string(),
    }
}

fn read_template(path: &Path) -> Result<String, PackError> {
    use std::io::Read as _;
    let err = |e: std::io::Error| PackError::Read {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    let mut s = String::new();
    std::fs::File::open(path)
        .map_err(err)?
        .take(MAX_TEMPLATE)
        .read_to_string(&mut s)
        .map_err(err)?;
    Ok(s)
}
