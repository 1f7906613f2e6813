//! The live board view: the board pack for the current period, each KPI's history, and the
//! run ledger, rendered per request from the store with the pack's templates. Read-only:
//! the handlers read the store and never write it. Every page is built by the pack's views
//! from the rows of [`crate::view`], so it passes the same disclosure control as the pack
//! and the mail.
//!
//! Owns: the board's routes.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::Utc;
use serde::Serialize;

use super::ServeState;
use crate::disclose::Disclosure;
use crate::job::pack::Gathered;
use crate::pack::{self, Audience};

/// How many ledger rows the runs page shows.
const RUN_ROWS: u32 = 200;

pub fn routes() -> Router<ServeState> {
    Router::new()
        .route("/", get(board))
        .route("/kpi/{*id}", get(kpi))
        .route("/runs", get(runs))
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

async fn board(State(st): State<ServeState>) -> Response {
    let settings = st.settings.borrow().clone();
    let g = match Gathered::read(&st.store, &settings).await {
        Ok(g) => g,
        Err(e) => return failed("board", &e),
    };
    let built = pack::build(&g.inputs(&settings, Audience::Board, None, Utc::now()));
    match pack::render_page(
        "pack.html.j2",
        "pack",
        &built,
        true,
        None,
        settings.disclosure(),
    ) {
        Ok(body) => html(StatusCode::OK, body),
        Err(e) => failed("board", &e),
    }
}

async fn kpi(State(st): State<ServeState>, Path(id): Path<String>) -> Response {
    let settings = st.settings.borrow().clone();
    let g = match Gathered::read(&st.store, &settings).await {
        Ok(g) => g,
        Err(e) => return failed("KPI page", &e),
    };
    let inputs = g.inputs(&settings, Audience::Board, None, Utc::now());
    let Some(page) = pack::kpi_history(&inputs, &id) else {
        return html(
            StatusCode::NOT_FOUND,
            "<!DOCTYPE html><title>Not found</title><p>No such KPI in the plan.</p>".into(),
        );
    };
    match render_flat("kpi.html.j2", &page, settings.disclosure()) {
        Ok(body) => html(StatusCode::OK, body),
        Err(e) => failed("KPI page", &e),
    }
}

/// Render a page whose fields are the template's top-level names.
fn render_flat(
    name: &str,
    page: &impl Serialize,
    d: Disclosure,
) -> Result<String, pack::PackError> {
    pack::html::render_fields(name, page, true, None, d)
}

#[derive(Serialize)]
struct RunRow {
    id: i64,
    job: String,
    trigger: String,
    scheduled: Option<String>,
    started: String,
    took: Option<String>,
    state: String,
    summary: Option<String>,
    note: Option<String>,
}

async fn runs(State(st): State<ServeState>) -> Response {
    let d = st.settings.borrow().disclosure();
    let rows = match st.store.list_runs(None, RUN_ROWS).await {
        Ok(r) => r,
        Err(e) => return failed("run ledger", &e),
    };
    let stamp = |t: chrono::DateTime<Utc>| t.format("%Y-%m-%d %H:%M:%S").to_string();
    let runs: Vec<RunRow> = rows
        .into_iter()
        .map(|r| RunRow {
            id: r.id,
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
    }
    match render_flat("runs.html.j2", &Page { runs }, d) {
        Ok(body) => html(StatusCode::OK, body),
        Err(e) => failed("run ledger", &e),
    }
}
