//! Render: a recipient's digest becomes a subject, a plain-text part, an HTML part and the
//! trend charts the HTML shows inline. Pure apart from reading a council's template folder
//! once, when the templates are loaded.
//!
//! The digest is first turned into [`super::view`] (every figure a string already through
//! disclosure control: counts under 5 "<5", shares with a small part and averages over few
//! referrals not shown, no case ids, no event dates; DOMAIN 8), then laid out by the minijinja
//! templates in `config/templates/` (compiled in; `[notify] templates_dir` may hold a
//! council's own `digest.txt.j2`, `digest.html.j2`, `subject.txt.j2`, each replacing the
//! built-in one of that name). HTML output is auto-escaped.

use std::path::Path;

use chrono::{DateTime, Utc};
use minijinja::{AutoEscape, Environment};

use super::view::{self, DigestView};
use super::{Digest, RecipientDigest};
use crate::kpi::Evaluation;
use crate::risk::KpiRecord;

/// Small-cell suppression (counts under 5 shown as "<5"), shared with the stages before.
pub use crate::disclose::suppress;

pub use super::context::Context;

/// The templates, by name, as compiled in.
const BUILTIN: [(&str, &str); 3] = [
    (
        "digest.txt.j2",
        include_str!("../../config/templates/digest.txt.j2"),
    ),
    (
        "digest.html.j2",
        include_str!("../../config/templates/digest.html.j2"),
    ),
    (
        "subject.txt.j2",
        include_str!("../../config/templates/subject.txt.j2"),
    ),
];

/// Label column of the text part: values line up under one another after it.
const INDENT: usize = 20;
/// Where the text part wraps a long value.
const WIDTH: usize = 96;

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("cannot read template {path}: {error}")]
    Read { path: String, error: String },
    #[error("template {name}: {error}")]
    Template { name: String, error: String },
}

/// A subject and a text body (the shape `run-now` and older callers use).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub body: String,
}

/// An inline image of the HTML part: its Content-ID (no angle brackets) and bytes, as the
/// outbox keeps it.
pub use crate::store::StoredImage as Image;

/// One email, rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub subject: String,
    pub text: String,
    pub html: String,
    pub images: Vec<Image>,
}

impl Mail {
    /// The HTML part and its images, as the outbox keeps them.
    pub fn html_part(&self) -> crate::store::HtmlPart {
        crate::store::HtmlPart {
            html: self.html.clone(),
            images: self.images.clone(),
        }
    }
}

/// The loaded templates.
#[derive(Debug)]
pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    /// The built-in templates.
    pub fn builtin() -> Templates {
        Templates::load(None).unwrap_or_else(|e| unreachable!("built-in templates: {e}"))
    }

    /// The built-in templates, each replaced by a file of the same name in `dir` if there is
    /// one. A template that does not parse is an error here, not at the first run that mails.
    pub fn load(dir: Option<&Path>) -> Result<Templates, RenderError> {
        let mut env = Environment::new();
        let syntax = minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .keep_trailing_newline(true)
            .build()
            .map_err(|e| RenderError::Template {
                name: "syntax".into(),
                error: e.to_string(),
            })?;
        env.set_syntax(syntax);
        env.set_auto_escape_callback(|name| {
            if name.contains(".html") {
                AutoEscape::Html
            } else {
                AutoEscape::None
            }
        });
        env.add_filter("field", |v: String, label: String| field(&v, &label));
        env.add_filter("wrapped", |v: String, label: String| wrapped(&v, &label));
        for (name, text) in BUILTIN {
            let own = dir.map(|d| d.join(name)).filter(|p| p.is_file());
            let source = match own {
                Some(p) => std::fs::read_to_string(&p).map_err(|e| RenderError::Read {
                    path: p.display().to_string(),
                    error: e.to_string(),
                })?,
                None => text.to_string(),
            };
            env.add_template_owned(name, source)
                .map_err(|e| RenderError::Template {
                    name: name.into(),
                    error: format!("{e:#}"),
                })?;
        }
        Ok(Templates { env })
    }

    fn render(&self, name: &str, view: &DigestView) -> Result<String, RenderError> {
        let failed = |e: minijinja::Error| RenderError::Template {
            name: name.into(),
            error: format!("{e:#}"),
        };
        self.env
            .get_template(name)
            .map_err(failed)?
            .render(minijinja::value::Serde(view))
            .map_err(failed)
    }
}

/// "  Label:            value": the value after the label column, not wrapped.
fn field(value: &str, label: &str) -> String {
    format!("  {label:<width$}{value}", width = INDENT - 2)
        .trim_end()
        .to_string()
}

/// The same, the value wrapped at [`WIDTH`] under itself.
fn wrapped(value: &str, label: &str) -> String {
    let mut out = Vec::new();
    let mut line = format!("  {label:<width$}", width = INDENT - 2);
    let mut first = true;
    for word in value.split_whitespace() {
        if !first && line.len() + 1 + word.len() > WIDTH {
            out.push(line.trim_end().to_string());
            line = " ".repeat(INDENT);
            first = true;
        }
        if !first {
            line.push(' ');
        }
        line.push_str(word);
        first = false;
    }
    out.push(line.trim_end().to_string());
    out.join("\n")
}

/// Render one recipient's email: the view, its charts (from `history`, the stored results of
/// the KPIs for the periods before), and the three templates.
pub fn render_mail(
    digest: &RecipientDigest<'_>,
    ctx: &Context<'_>,
    templates: &Templates,
    history: &[KpiRecord],
    now: DateTime<Utc>,
) -> Result<Mail, RenderError> {
    let mut images = Vec::new();
    let mut cids = std::collections::BTreeMap::new();
    for e in digest.groups.iter().flat_map(|g| g.items.iter()) {
        if cids.contains_key(&e.kpi_id) {
            continue;
        }
        let series = super::chart::series(e, history);
        if let Some(png) = super::chart::draw(&series) {
            let cid = format!("chart{}.{}@sendwatch", images.len() + 1, ctx.run_id);
            cids.insert(
                e.kpi_id.clone(),
                view::ChartRef {
                    cid: cid.clone(),
                    points: series,
                },
            );
            images.push(Image { cid, png });
        }
    }
    let v = view::build(digest, ctx, now, &|e: &Evaluation| {
        cids.get(&e.kpi_id).cloned()
    });
    let subject = templates
        .render("subject.txt.j2", &v)?
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    Ok(Mail {
        subject,
        text: templates.render("digest.txt.j2", &v)?,
        html: templates.render("digest.html.j2", &v)?,
        images,
    })
}

/// One sub-group's report as text, with the built-in templates and no charts.
pub fn render(digest: &Digest<'_>, ctx: &Context<'_>) -> Rendered {
    render_for(
        &RecipientDigest {
            recipient: String::new(),
            groups: vec![digest.clone()],
        },
        ctx,
    )
}

/// One person's digest as text (a single sub-group's report, or for several a section each,
/// worst first), with the built-in templates and no charts.
pub fn render_for(digest: &RecipientDigest<'_>, ctx: &Context<'_>) -> Rendered {
    let t = Templates::builtin();
    let v = view::build(digest, ctx, Utc::now(), &|_| None);
    let text = |name| {
        t.render(name, &v)
            .unwrap_or_else(|e| unreachable!("built-in template: {e}"))
    };
    Rendered {
        subject: text("subject.txt.j2").trim().to_string(),
        body: text("digest.txt.j2"),
    }
}

/// The same in a few words for a one-line summary (`run-now`): "backlog 12", "advice
/// outstanding <5", "reviews overdue 30"; waits and values entered by hand say nothing there.
pub fn beside(e: &Evaluation) -> Option<String> {
    use crate::kpi::Measure;
    let what = match e.measure? {
        Measure::EhcpWithin20Weeks => "backlog",
        Measure::HealthAdviceWithin6Weeks => "advice outstanding",
        Measure::TransitionReviewsByDeadline | Measure::OtherReviewsCompleted => "reviews overdue",
        Measure::AverageWaitWeeks => return None,
    };
    Some(format!("{what} {}", suppress(e.overdue_open)))
}

#[cfg(test)]
mod tests;
