//! Telling an answer's approvers (issue 22): when the form records an answer, each approver
//! (the sub-group's `lead`, the area's `[answer] approvers`) gets the message of
//! [`crate::notify::answer_mail`] with their own approval link, queued in the outbox (the one
//! way to queue mail) once per answer and approver, and sent by the normal delivery.

use chrono::{DateTime, Utc};

use super::approvers;
use crate::answer::Ask;
use crate::config::Settings;
use crate::notify::answer_mail::{Approval, approval};
use crate::store::{Queued, Store, StoreError};
use crate::view::ask::LinkSetup;

/// The item's title in `s`.
fn title_of<'a>(ask: &Ask, s: &'a Settings) -> &'a str {
    match ask {
        Ask::Commentary { kpi, .. } | Ask::Value { kpi, .. } => {
            s.kpis.get(kpi).map_or("", |k| k.title.as_str())
        }
        Ask::Action { reference } => s.actions.get(reference).map_or("", |a| a.title.as_str()),
        Ask::Approve { .. } => "",
    }
}

/// Queue the approvers' messages about answer `id` (to `ask`, from `by`, at `at`) in `store`,
/// each with the approver's own approval link made at `now`. How many were queued (0 when
/// told before, when no one approves but the CLI, when answering is not set up, or when the
/// area has no run yet for the rows to belong to).
pub async fn tell_approvers(
    store: &Store,
    s: &Settings,
    id: i64,
    ask: &Ask,
    by: &str,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let approvers = approvers(ask, s);
    if approvers.is_empty() {
        tracing::info!(
            answer = id,
            "No approver is set for this answer; it waits for `sendwatch answers approve`."
        );
        return Ok(0);
    }
    let Some(links) = LinkSetup::of(
        s.http.public_url.as_deref(),
        s.http.link_key.as_ref(),
        s.area_id().as_str(),
        s.answer.link_days,
    ) else {
        return Ok(0);
    };
    // An outbox row belongs to a run: the area's latest (the run whose digest carried the
    // link, or a later one).
    let Some(run_id) = store.last_run_id().await? else {
        tracing::warn!(
            answer = id,
            "The area has no run yet; its approvers are not mailed (the CLI lists the draft)."
        );
        return Ok(0);
    };
    let area = s.general.area.as_str();
    let mut queued = 0;
    for to in &approvers {
        let link = links.url(to, Ask::Approve { draft: id }, now);
        let a = Approval {
            area,
            subject_prefix: &s.delivery.subject_prefix,
            id,
            ask,
            title: title_of(ask, s),
            by,
            at,
            link: &link,
        };
        if let Queued::Yes { .. } = store.queue(&approval(&a, run_id, to), now).await? {
            queued += 1;
        }
    }
    Ok(queued)
}
