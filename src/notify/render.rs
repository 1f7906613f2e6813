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
//!
//! A council's template is input we do not control, so each part is bounded: at most
//! [`FUEL`] of work (minijinja's fuel, as the pack's templates have) and [`MAX_PART_BYTES`]
//! of output, written into a buffer that refuses more; and a render can be told to stop
//! ([`Stop`]), so that a run cancelled while it lays out on the blocking pool does not keep
//! working. The error names the template and the rule broken, never the data.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Utc};
use minijinja::{AutoEscape, Environment};

use super::view::{self, DigestView};
use super::{Digest, RecipientDigest};
use crate::kpi::Evaluation;
use crate::kpi::StoredResult;

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

/// The notices' templates (data and administrator notices, [`Templates::notice`]): built in
/// only, in the same environment, not replaced from a council's folder (a notice must go out
/// whatever a council's templates do).
const NOTICES: [(&str, &str); 4] = [
    (
        "notice_data.txt.j2",
        include_str!("../../config/templates/notice_data.txt.j2"),
    ),
    (
        "notice_abandoned.txt.j2",
        include_str!("../../config/templates/notice_abandoned.txt.j2"),
    ),
    (
        "notice_dead_man.txt.j2",
        include_str!("../../config/templates/notice_dead_man.txt.j2"),
    ),
    (
        "notice_delivery.txt.j2",
        include_str!("../../config/templates/notice_delivery.txt.j2"),
    ),
];

/// Work one part of a digest may take (minijinja fuel: about one per instruction, plus the
/// bytes it makes). The built-in templates use a few thousand for a digest of seven KPIs, well
/// under a hundredth of it; a loop without bound runs out within a second or two.
pub const FUEL: u64 = 5_000_000;
/// Output one part may have. The built-in HTML part of a digest of seven KPIs is 25 KiB.
pub const MAX_PART_BYTES: usize = 4 << 20;
/// Largest template read from a council's folder.
const MAX_TEMPLATE: u64 = 1 << 20;

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
    #[error(
        "template {name} ran out of fuel: it asked for more than {fuel} units of work, the most one part of a digest may take (a loop without bound?)"
    )]
    OutOfFuel { name: String, fuel: u64 },
    #[error(
        "template {name} wrote output past {max} bytes, the most one part of a digest may have"
    )]
    TooLarge { name: String, max: usize },
    #[error("template {name}: stopped, the run was cancelled")]
    Stopped { name: String },
    #[error("laying out the digests failed: {0}")]
    Task(String),
}

/// Raised to stop a render under way (its run was cancelled): the render ends at its next
/// write or part with [`RenderError::Stopped`].
pub type Stop = AtomicBool;

/// One part's output: refused past `max` bytes, or once `stop` is raised.
struct Capped<'a> {
    out: Vec<u8>,
    max: usize,
    over: bool,
    stop: &'a Stop,
}

impl std::io::Write for Capped<'_> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if self.stop.load(Ordering::Relaxed) {
            return Err(std::io::Error::other("stopped"));
        }
        if self.out.len().saturating_add(data.len()) > self.max {
            self.over = true;
            return Err(std::io::Error::other("output past the cap"));
        }
        self.out.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A subject and a text body (the shape `run-now` and older callers use).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub body: String,
}

/// An inline image of the HTML part (a trend chart): its Content-ID (no angle brackets) and
/// its PNG bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    pub cid: String,
    pub png: Vec<u8>,
}

/// One email, rendered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mail {
    pub subject: String,
    pub text: String,
    pub html: String,
    pub images: Vec<Image>,
}

impl Mail {
    /// Its images as the message's inline parts.
    pub fn parts(&self) -> Vec<crate::news::Part> {
        self.images
            .iter()
            .map(|i| crate::news::Part::inline_png(i.cid.clone(), i.png.clone()))
            .collect()
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
        env.set_fuel(Some(FUEL));
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
                Some(p) => read_template(&p)?,
                None => text.to_string(),
            };
            env.add_template_owned(name, source)
                .map_err(|e| RenderError::Template {
                    name: name.into(),
                    error: format!("{e:#}"),
                })?;
        }
        for (name, text) in NOTICES {
            env.add_template(name, text)
                .map_err(|e| RenderError::Template {
                    name: name.into(),
                    error: format!("{e:#}"),
                })?;
        }
        Ok(Templates { env })
    }

    /// A notice laid out by its template (`notice_*.txt.j2`) from `ctx`, values already
    /// strings: the first line the subject, the rest the body. A built-in template cannot fail
    /// on strings; if one did, the notice still goes, saying so, rather than being lost.
    pub fn notice(&self, name: &str, ctx: minijinja::Value) -> Rendered {
        let rendered = self.env.get_template(name).and_then(|t| t.render(ctx));
        match rendered {
            Ok(text) => {
                let (subject, body) = text.split_once('\n').unwrap_or((&text, ""));
                Rendered {
                    subject: subject.trim().to_string(),
                    body: body.to_string(),
                }
            }
            Err(e) => {
                // The kind only: minijinja's account may show the values in scope.
                tracing::error!(template = name, kind = ?e.kind(), "A notice template failed.");
                Rendered {
                    subject: "sendwatch notice".into(),
                    body: format!(
                        "A sendwatch notice could not be laid out (template {name}); the service's log says more.\n"
                    ),
                }
            }
        }
    }

    fn render(&self, name: &str, view: &DigestView) -> Result<String, RenderError> {
        self.render_capped(name, view, MAX_PART_BYTES, &Stop::new(false))
    }

    /// Render `name` into at most `max` bytes, with [`FUEL`], stopping if `stop` is raised.
    fn render_capped(
        &self,
        name: &str,
        view: &DigestView,
        max: usize,
        stop: &Stop,
    ) -> Result<String, RenderError> {
        if stop.load(Ordering::Relaxed) {
            return Err(RenderError::Stopped { name: name.into() });
        }
        let template = self
            .env
            .get_template(name)
            .map_err(|e| RenderError::Template {
                name: name.into(),
                error: format!("{e:#}"),
            })?;
        let mut out = Capped {
            out: Vec::new(),
            max,
            over: false,
            stop,
        };
        let rendered = template.render_captured_to(minijinja::value::Serde(view), &mut out);
        // Which rule was broken, in words: minijinja's own account of an error may show the
        // values in scope, and those are the digest's.
        match rendered {
            Ok(_) => {}
            Err(_) if out.over => {
                return Err(RenderError::TooLarge {
                    name: name.into(),
                    max,
                });
            }
            Err(_) if stop.load(Ordering::Relaxed) => {
                return Err(RenderError::Stopped { name: name.into() });
            }
            Err(e) if e.kind() == minijinja::ErrorKind::OutOfFuel => {
                return Err(RenderError::OutOfFuel {
                    name: name.into(),
                    fuel: FUEL,
                });
            }
            Err(e) => {
                return Err(RenderError::Template {
                    name: name.into(),
                    error: format!("{e:#}"),
                });
            }
        }
        String::from_utf8(out.out).map_err(|_| RenderError::Template {
            name: name.into(),
            error: "the output is not UTF-8".into(),
        })
    }
}

/// A council's template file, at most [`MAX_TEMPLATE`] bytes.
fn read_template(path: &Path) -> Result<String, RenderError> {
    use std::io::Read as _;
    let err = |error: String| RenderError::Read {
        path: path.display().to_string(),
        error,
    };
    let mut s = String::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_TEMPLATE + 1).read_to_string(&mut s))
        .map_err(|e| err(e.to_string()))?;
    if s.len() as u64 > MAX_TEMPLATE {
        return Err(err(format!("larger than {MAX_TEMPLATE} bytes")));
    }
    Ok(s)
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

/// One recipient's email before the templates lay it out: its view and charts, owned, so
/// that the laying out can run on another thread ([`lay_out`]).
#[derive(Debug, Clone)]
pub struct Prepared {
    view: DigestView,
    images: Vec<Image>,
}

impl Prepared {
    /// The items the mail shows, as its reader counts them.
    pub fn items(&self) -> usize {
        self.view.groups.iter().map(|g| g.items()).sum()
    }
}

/// Render one recipient's email: the view, its charts (from `history`, the stored results of
/// the KPIs for the periods before), and the three templates.
pub fn render_mail(
    digest: &RecipientDigest<'_>,
    ctx: &Context<'_>,
    templates: &Templates,
    history: &[StoredResult],
    now: DateTime<Utc>,
) -> Result<Mail, RenderError> {
    lay_out(
        prepare(digest, ctx, history, &[], now),
        templates,
        &Stop::new(false),
    )
}

/// Lay out a prepared email with the three templates, each part bounded by [`FUEL`] and
/// [`MAX_PART_BYTES`]; stops, with [`RenderError::Stopped`], once `stop` is raised.
pub fn lay_out(p: Prepared, templates: &Templates, stop: &Stop) -> Result<Mail, RenderError> {
    let part = |name| templates.render_capped(name, &p.view, MAX_PART_BYTES, stop);
    let subject = part("subject.txt.j2")?
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    Ok(Mail {
        subject,
        text: part("digest.txt.j2")?,
        html: part("digest.html.j2")?,
        images: p.images,
    })
}

/// One recipient's view and trend charts: pure, and bounded by the data (the templates do
/// the unbounded part). A KPI's chart carries the layers of its early warning in `warnings`
/// (SPC limits, the projection), when it has one.
pub fn prepare(
    digest: &RecipientDigest<'_>,
    ctx: &Context<'_>,
    history: &[StoredResult],
    warnings: &[crate::kpi::warning::Warning],
    now: DateTime<Utc>,
) -> Prepared {
    let mut images = Vec::new();
    let mut cids = std::collections::BTreeMap::new();
    for e in digest.groups.iter().flat_map(|g| g.items.iter()) {
        if cids.contains_key(&e.kpi_id) {
            continue;
        }
        let Some(k) = ctx.kpis.get(&e.kpi_id) else {
            continue;
        };
        let mut series = crate::view::chart::Series::of_evaluation(e, k, history, ctx.disclosure);
        if let Some(w) = warnings.iter().find(|w| w.kpi_id == e.kpi_id) {
            series = series.with_warning(w);
        }
        if let Some(png) = crate::view::chart::png(&series) {
            let run = ctx
                .run_id
                .map_or_else(|| "preview".into(), |id| id.to_string());
            let cid = format!("chart{}.{run}@sendwatch", images.len() + 1);
            cids.insert(
                e.kpi_id.clone(),
                view::ChartRef {
                    cid: cid.clone(),
                    series,
                },
            );
            images.push(Image { cid, png });
        }
    }
    let view = view::build(digest, ctx, now, &|e: &Evaluation| {
        cids.get(&e.kpi_id).cloned()
    });
    Prepared { view, images }
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
pub fn beside(e: &Evaluation, d: crate::disclose::Disclosure) -> Option<String> {
    use crate::kpi::Measure;
    let what = match e.measure? {
        Measure::EhcpWithin20Weeks => "backlog",
        Measure::HealthAdviceWithin6Weeks => "advice outstanding",
        Measure::DecisionWithin6Weeks => "awaiting a decision",
        Measure::TransitionReviewsByDeadline | Measure::OtherReviewsCompleted => "reviews overdue",
        Measure::AverageWaitWeeks => return None,
    };
    Some(format!("{what} {}", d.suppress(e.overdue_open)))
}

#[cfg(test)]
mod tests;
