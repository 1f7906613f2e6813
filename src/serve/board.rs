//! The live board view: the board pack for the current period, each KPI's history, and the
//! run ledger, rendered per request from the store with the pack's templates. Read-only:
//! the handlers read the store and never write it. Every page is built by the pack's views
//! from the rows of [`crate::view`], so it passes the same disclosure control as the pack
//! and the mail.
//!
//! Owns: the board's routes.

use axum::Router;
use axum::extract::{Extension, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::Utc;
use serde::Serialize;

use super::auth::Who;
use super::{AreaView, ServeState};
use crate::disclose::Disclosure;
use crate::job::pack::Gathered;
use crate::pack::{self, Audience};

/// How many ledger rows the runs page shows.
const RUN_ROWS: u32 = 200;

pub fn routes() -> Router<ServeState> {
    Router::new()
        .route("/", get(root))
        .route("/kpi/{*id}", get(root_kpi))
        .route("/runs", get(root_runs))
        .route("/a/{area}", get(area_board))
        .route("/a/{area}/", get(area_board))
        .route("/a/{area}/kpi/{*id}", get(area_kpi))
        .route("/a/{area}/runs", get(area_runs))
}

/// The area `id` if `who` may see it: an unknown area and another's answer alike, so a
/// token cannot even tell which areas exist.
fn area_for(st: &ServeState, who: &Who, id: &str) -> Option<(AreaView, String)> {
    let several = st.several();
    let found = st
        .areas()
        .iter()
        .find(|a| a.settings.area_id().as_str() == id)
        .cloned();
    match found {
        Some(a) if who.sees_area(id, several) => {
            let base = if several {
                format!("/a/{id}")
            } else {
                String::new()
            };
            Some((a, base))
        }
        _ => None,
    }
}

/// The single area at `/`, or `None` with several (each under `/a/ID/`).
fn only_area(st: &ServeState) -> Option<String> {
    let areas = st.areas();
    match (st.several(), areas.first()) {
        (false, Some(a)) => Some(a.settings.area_id().0),
        _ => None,
    }
}

fn not_found(what: &str) -> Response {
    html(
        StatusCode::NOT_FOUND,
        format!("<!DOCTYPE html><title>Not found</title><p>{what}</p>"),
    )
}

async fn root(State(st): State<ServeState>, Extension(who): Extension<Who>) -> Response {
    match only_area(&st) {
        Some(id) => board(&st, &who, &id).await,
        None => index(&st, &who),
    }
}

async fn root_kpi(
    State(st): State<ServeState>,
    Extension(who): Extension<Who>,
    Path(kpi_id): Path<String>,
) -> Response {
    match only_area(&st) {
        Some(id) => kpi(&st, &who, &id, &kpi_id).await,
        None => not_found("Each area's pages are under /a/AREA/."),
    }
}

async fn root_runs(State(st): State<ServeState>, Extension(who): Extension<Who>) -> Response {
    match only_area(&st) {
        Some(id) => runs(&st, &who, &id).await,
        None if who.sees_deployment() => every_area_runs(&st).await,
        None => not_found("Each area's run ledger is at /a/AREA/runs."),
    }
}

async fn area_board(
    State(st): State<ServeState>,
    Extension(who): Extension<Who>,
    Path(area): Path<String>,
) -> Response {
    board(&st, &who, &area).await
}

async fn area_kpi(
    State(st): State<ServeState>,
    Extension(who): Extension<Who>,
    Path((area, kpi_id)): Path<(String, String)>,
) -> Response {
    kpi(&st, &who, &area, &kpi_id).await
}

async fn area_runs(
    State(st): State<ServeState>,
    Extension(who): Extension<Who>,
    Path(area): Path<String>,
) -> Response {
    runs(&st, &who, &area).await
}

/// With several areas, `/` lists those the caller may open (an area's token: its own).
fn index(st: &ServeState, who: &Who) -> Response {
    let mut items = String::new();
    for a in st.areas().iter() {
        let id = a.settings.area_id();
        if who.sees_area(id.as_str(), true) {
            items.push_str(&format!(
                "<li><a href=\"/a/{id}/\">{}</a></li>",
                escape(&a.settings.general.area)
            ));
        } else if who.sees_deployment() {
            items.push_str(&format!("<li>{}</li>", escape(&a.settings.general.area)));
        }
    }
    let ledger = if who.sees_deployment() {
        "<p><a href=\"/runs\">Run ledger of every area</a> · <a href=\"/metrics\">Metrics</a></p>"
    } else {
        ""
    };
    html(
        StatusCode::OK,
        format!(
            "<!DOCTYPE html><meta charset=\"utf-8\"><title>sendwatch</title><h1>Areas</h1><ul>{items}</ul>{ledger}"
        ),
    )
}

/// Text as HTML.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn html(code: StatusCode, body: String) -> Response {
    (
        code,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            // Nothing on these pages is to be fetched from elsewhere or framed.
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

/// A failure said plainly, without detail a visitor should not see (it is logged).
fn failed(what: &str, e: &dyn std::fmt::Display) -> Response {
    tracing::warn!(error = %e, page = what, "A board page failed.");
    html(
        StatusCode::SERVICE_UNAVAILABLE,
        format!(
            "<!DOCTYPE html><title>Unavailable</title><p>The {what} cannot be shown just now; the daemon's log says why.</p>"
        ),
    )
}

async fn board(st: &ServeState, who: &Who, area: &str) -> Response {
    let Some((view, base)) = area_for(st, who, area) else {
        return not_found("No such area.");
    };
    let settings = view.settings;
    let g = match Gathered::read(&view.store, &settings).await {
        Ok(g) => g,
        Err(e) => return failed("board", &e),
    };
    let built = pack::build(&g.inputs(&settings, Audience::Board, None, Utc::now()));
    match pack::render_page(
        "pack.html.j2",
        "pack",
        &built,
        Some(&base),
        None,
        settings.disclosure(),
    ) {
        Ok(body) => html(StatusCode::OK, body),
        Err(e) => failed("board", &e),
    }
}

async fn kpi(st: &ServeState, who: &Who, area: &str, id: &str) -> Response {
    let Some((view, base)) = area_for(st, who, area) else {
        return not_found("No such area.");
    };
    let settings = view.settings;
    let g = match Gathered::read(&view.store, &settings).await {
        Ok(g) => g,
        Err(e) => return failed("KPI page", &e),
    };
    let inputs = g.inputs(&settings, Audience::Board, None, Utc::now());
    let Some(page) = pack::kpi_history(&inputs, id) else {
        return not_found("No such KPI in the plan.");
    };
    match render_flat("kpi.html.j2", &page, &base, settings.disclosure()) {
        Ok(body) => html(StatusCode::OK, body),
        Err(e) => failed("KPI page", &e),
    }
}

/// Render a page whose fields are the template's top-level names.
fn render_flat(
    name: &str,
    page: &impl Serialize,
    base: &str,
    d: Disclosure,
) -> Result<String, pack::PackError> {
    pack::html::render_fields(name, page, Some(base), None, d)
}

#[derive(Serialize)]
struct RunRow {
    id: i64,
    area: String,
    job: String,
    trigger: String,
    scheduled: Option<String>,
    started: String,
    took: Option<String>,
    state: String,
    summary: Option<String>,
    note: Option<String>,
}

async fn runs(st: &ServeState, who: &Who, area: &str) -> Response {
    let Some((view, base)) = area_for(st, who, area) else {
        return not_found("No such area.");
    };
    match view.store.list_runs(None, RUN_ROWS).await {
        Ok(rows) => runs_page(rows, &base, false, view.settings.disclosure()),
        Err(e) => failed("run ledger", &e),
    }
}

/// The operator's ledger: every area's runs, newest first, each naming its area.
async fn every_area_runs(st: &ServeState) -> Response {
    let Some(first) = st.areas().first().cloned() else {
        return not_found("No area is served.");
    };
    match first.store.list_runs_every_area(RUN_ROWS).await {
        Ok(rows) => runs_page(rows, "", true, first.settings.disclosure()),
        Err(e) => failed("run ledger", &e),
    }
}

fn runs_page(
    rows: Vec<crate::store::RunRecord>,
    base: &str,
    every_area: bool,
    d: Disclosure,
) -> Response {
    let stamp = |t: chrono::DateTime<Utc>| t.format("%Y-%m-%d %H:%M:%S").to_string();
    let runs: Vec<RunRow> = rows
        .into_iter()
        .map(|r| RunRow {
            id: r.id,
            area: r.area,
            took: r.finished_at.map(|f| {
                format!(
                    "{:.1} s",
                    (f - r.started_at).num_milliseconds() as f64 / 1000.0
                )
            }),
            scheduled: r.scheduled_at.map(stamp),
            started: stamp(r.started_at),
            job: r.job,
            trigger: r.trigger.to_string(),
            state: r.status.to_string(),
            summary: r.summary,
            note: r.note,
        })
        .collect();
    #[derive(Serialize)]
    struct Page {
        runs: Vec<RunRow>,
        every_area: bool,
    }
    match render_flat("runs.html.j2", &Page { runs, every_area }, base, d) {
        Ok(body) => html(StatusCode::OK, body),
        Err(e) => failed("run ledger", &e),
    }
}
