//! The pack as one HTML file, from `config/templates/pack.html.j2` (compiled in; a council may
//! restyle it by giving its own folder). minijinja with HTML auto-escaping: every value is a
//! string the view built, and only the trend charts (SVG the chart module drew from numbers)
//! are marked safe.
//!
//! Owns: the template environment and its error.

use std::path::Path;

use minijinja::{AutoEscape, Environment};

use super::Pack;

/// The shipped template.
const PACK: &str = include_str!("../../config/templates/pack.html.j2");
/// Largest template read from a council's folder.
const MAX_TEMPLATE: u64 = 1 << 20;
/// Template instructions one render may run (the shipped template uses well under a tenth).
const FUEL: u64 = 5_000_000;

#[derive(Debug, thiserror::Error)]
pub enum PackError {
    #[error("template {name}: {message}")]
    Template { name: String, message: String },
    #[error("cannot read template {path}: {message}")]
    Read { path: String, message: String },
}

/// Render `pack` with the shipped template, or `pack.html.j2` in `templates_dir` if it has one.
pub fn render_html(pack: &Pack, templates_dir: Option<&Path>) -> Result<String, PackError> {
    let source = match templates_dir.map(|d| d.join("pack.html.j2")) {
        Some(path) if path.is_file() => read_template(&path)?,
        _ => PACK.to_string(),
    };
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    // A council's template is input we do not control: bound the work it can ask for.
    env.set_fuel(Some(FUEL));
    let fail = |e: minijinja::Error| PackError::Template {
        name: "pack.html.j2".into(),
        message: e.to_string(),
    };
    env.add_template_owned("pack.html.j2", source)
        .map_err(fail)?;
    env.get_template("pack.html.j2")
        .and_then(|t| t.render(minijinja::context! { pack => minijinja::value::Serde(pack) }))
        .map_err(fail)
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
