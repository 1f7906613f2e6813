//! The pages a digest's link opens (issue 22): the form that answers what the digest asked
//! (an exception's commentary, a manual KPI's value, an action's progress), the approver's
//! page for one draft, and the plain page that says a link is refused or an answer recorded.
//! Plain HTML that works without JavaScript; every value shown is escaped.
//!
//! Owns: the view models and their HTML. Pure.

use std::fmt::Write as _;

use crate::action::Status;
use crate::answer::Ask;
use crate::answer::entry::{Fields, field_names};

/// What the form page shows.
pub struct FormPage<'a> {
    pub area: &'a str,
    /// What is asked, in words ("Commentary on 1/2a for Jun-21: ...").
    pub heading: String,
    /// The item's title (the KPI's or action's).
    pub title: &'a str,
    pub ask: &'a Ask,
    /// The fields as typed (after a refusal), else empty.
    pub fields: &'a Fields,
    /// Refused fields and why.
    pub refusals: &'a [(String, String)],
    /// Who the link was made for: the answer is recorded as from them.
    pub to: &'a str,
    /// The anti-forgery value the post must carry.
    pub csrf: &'a str,
    /// Who approves it before it counts, in words.
    pub approvers: &'a str,
}

/// What the approver's page shows of one draft.
pub struct ApprovePage<'a> {
    pub area: &'a str,
    pub heading: String,
    pub title: &'a str,
    pub ask: &'a Ask,
    pub fields: &'a Fields,
    pub entered_by: &'a str,
    pub entered_at: String,
    pub csrf: &'a str,
    /// The draft no longer passes the checks (the plan changed): approval would be refused.
    pub refusals: &'a [(String, String)],
}

/// Text as HTML.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// A field's label and hint.
fn label(name: &str) -> (&'static str, &'static str) {
    match name {
        "reason" => (
            "Why it slipped",
            "a paragraph for the board, about the service",
        ),
        "actions" => ("What is being done to recover it", ""),
        "revised_date" => ("When it is expected back on target", "optional, YYYY-MM-DD"),
        "next_update" => ("When you will next report on it", "optional, YYYY-MM-DD"),
        "value" => ("Value", "a number, in the KPI's unit"),
        "numerator" => ("Cases that met the measure", "optional, a whole number"),
        "denominator" => ("Cases counted", "optional, a whole number"),
        "note" => ("Note", "for the board; never about a child"),
        "status" => ("Rating", ""),
        "evidence" => ("Evidence", "optional"),
        "next_steps" => ("Next steps", "optional"),
        _ => ("", ""),
    }
}

fn is_long(name: &str) -> bool {
    matches!(
        name,
        "reason" | "actions" | "note" | "evidence" | "next_steps"
    )
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:44rem;margin:2rem auto;\
padding:0 1rem;line-height:1.45;color:#1b1b1b}label{display:block;font-weight:600;margin-top:1rem}\
.hint{font-weight:400;color:#555}textarea,input,select{width:100%;box-sizing:border-box;\
font:inherit;padding:.4rem}textarea{min-height:6rem}.refused{color:#a00000}\
button{margin-top:1.2rem;padding:.5rem 1.2rem;font:inherit}dl dt{font-weight:600;margin-top:.8rem}";

/// A page. Its referrer policy is `same-origin` (as the response's header): the link is in its
/// address, so nothing goes to another site, yet the form's post carries its true `Origin`
/// (under `no-referrer` a browser sends `Origin: null`, which the CSRF check refuses).
fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <meta name=\"referrer\" content=\"same-origin\"><title>{}</title>\
         <style>{STYLE}</style></head><body>\n{body}</body></html>\n",
        escape(title)
    )
}

fn input(out: &mut String, name: &str, value: &str) {
    let v = escape(value);
    if name == "status" {
        let _ = write!(out, "<select id=\"{name}\" name=\"{name}\" required>");
        for s in Status::ALL {
            let sel = if s.as_str() == value { " selected" } else { "" };
            let _ = write!(
                out,
                "<option value=\"{}\"{sel}>{}</option>",
                s.as_str(),
                escape(s.label())
            );
        }
        out.push_str("</select>");
    } else if is_long(name) {
        let _ = write!(
            out,
            "<textarea id=\"{name}\" name=\"{name}\">{v}</textarea>"
        );
    } else {
        let _ = write!(out, "<input id=\"{name}\" name=\"{name}\" value=\"{v}\">");
    }
}

/// The form page.
pub fn form(p: &FormPage<'_>) -> String {
    let mut b = String::new();
    let _ = write!(
        b,
        "<h1>{}</h1>\n<p>{}</p>\n",
        escape(&p.heading),
        escape(p.title)
    );
    if !p.refusals.is_empty() {
        b.push_str("<div class=\"refused\" role=\"alert\"><p>Nothing was recorded:</p><ul>");
        for (field, why) in p.refusals {
            let (l, _) = label(field);
            let name = if l.is_empty() { field.as_str() } else { l };
            let _ = write!(b, "<li>{}: {}</li>", escape(name), escape(why));
        }
        b.push_str("</ul></div>\n");
    }
    b.push_str("<form method=\"post\">\n");
    let _ = writeln!(
        b,
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        escape(p.csrf)
    );
    for name in field_names(p.ask) {
        let (l, hint) = label(name);
        let _ = write!(b, "<label for=\"{name}\">{l}");
        if !hint.is_empty() {
            let _ = write!(b, " <span class=\"hint\">({hint})</span>");
        }
        b.push_str("</label>");
        input(
            &mut b,
            name,
            p.fields.get(*name).map(String::as_str).unwrap_or(""),
        );
        b.push('\n');
    }
    let _ = write!(
        b,
        "<button type=\"submit\">Send</button>\n</form>\n<p class=\"hint\">Recorded as from {}. \
         It is a draft until {} approves it; the board sees it once approved. This link \
         answers once.</p>\n",
        escape(p.to),
        escape(p.approvers)
    );
    page(&format!("{} - sendwatch {}", p.heading, p.area), &b)
}

/// The approver's page.
pub fn approve(p: &ApprovePage<'_>) -> String {
    let mut b = String::new();
    let _ = write!(
        b,
        "<h1>{}</h1>\n<p>{}</p>\n<p>From {}, {}.</p>\n<dl>",
        escape(&p.heading),
        escape(p.title),
        escape(p.entered_by),
        escape(&p.entered_at)
    );
    for name in field_names(p.ask) {
        let Some(v) = p.fields.get(*name).filter(|v| !v.trim().is_empty()) else {
            continue;
        };
        let _ = write!(b, "<dt>{}</dt><dd>{}</dd>", label(name).0, escape(v));
    }
    b.push_str("</dl>\n");
    if !p.refusals.is_empty() {
        b.push_str(
            "<div class=\"refused\" role=\"alert\"><p>It no longer passes the checks, so it \
             can only be rejected:</p><ul>",
        );
        for (field, why) in p.refusals {
            let _ = write!(b, "<li>{}: {}</li>", escape(field), escape(why));
        }
        b.push_str("</ul></div>\n");
    }
    let _ = write!(
        b,
        "<form method=\"post\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        escape(p.csrf)
    );
    if p.refusals.is_empty() {
        b.push_str("<button type=\"submit\" name=\"decision\" value=\"approve\">Approve</button> ");
    }
    b.push_str(
        "<button type=\"submit\" name=\"decision\" value=\"reject\">Reject</button></form>\n",
    );
    page(&format!("{} - sendwatch {}", p.heading, p.area), &b)
}

/// A page that says one thing (a refusal, a thank-you).
pub fn message(heading: &str, text: &str) -> String {
    page(
        heading,
        &format!("<h1>{}</h1>\n<p>{}</p>\n", escape(heading), escape(text)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_escapes_what_was_typed_and_names_each_refusal() {
        let ask = Ask::Commentary {
            kpi: "1/2a".into(),
            period: "2021-06".into(),
        };
        let mut fields = Fields::new();
        fields.insert("reason".into(), "<script>x</script> & \"q\"".into());
        let refusals = vec![("actions".to_string(), "must not be empty".to_string())];
        let html = form(&FormPage {
            area: "sefton",
            heading: "Commentary".into(),
            title: "EHCPs issued within 20 weeks",
            ask: &ask,
            fields: &fields,
            refusals: &refusals,
            to: "lead@example.org",
            csrf: "C\"",
            approvers: "the sub-group's lead",
        });
        assert!(!html.contains("<script>x"), "{html}");
        assert!(html.contains("&lt;script&gt;x&lt;/script&gt; &amp; &quot;q&quot;"));
        assert!(html.contains("What is being done to recover it: must not be empty"));
        assert!(html.contains("name=\"csrf\" value=\"C&quot;\""));
        for name in field_names(&ask) {
            assert!(html.contains(&format!("name=\"{name}\"")), "{name}");
        }
        assert!(!html.contains("<script"), "no script at all");
    }

    #[test]
    fn an_approval_page_offers_reject_only_when_the_draft_fails_the_checks() {
        let ask = Ask::Action {
            reference: "1.2.1".into(),
        };
        let fields = Fields::from([("status".to_string(), "on-track".to_string())]);
        let base = |refusals: &[(String, String)]| {
            approve(&ApprovePage {
                area: "a",
                heading: "h".into(),
                title: "t",
                ask: &ask,
                fields: &fields,
                entered_by: "x@example.org",
                entered_at: "7 Dec 2026".into(),
                csrf: "c",
                refusals,
            })
        };
        assert!(base(&[]).contains("value=\"approve\""));
        let bad = base(&[("reference".into(), "gone".into())]);
        assert!(!bad.contains("value=\"approve\""));
        assert!(bad.contains("value=\"reject\""));
    }
}
