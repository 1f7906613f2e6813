//! Who hears of what in a run: the routes over the configuration's directory of recipients
//! ([`App::router`], built once per run and handed to the digests and to notify), and each
//! source's news for notify ([`App::source_news`]): its data issues, which notify routes,
//! keys, renders and queues (`notify::data_news`).

use chrono::{DateTime, Utc};

use super::outcome::data_issues;
use super::{App, SourceOutcome};
use crate::notify::SourceNews;
use crate::notify::route::Router;
use crate::store::Sources;

impl App {
    /// The routes over this configuration's directory of recipients.
    pub fn router(&self) -> Router<'_> {
        let s = &self.settings;
        let source_owners = s
            .sources
            .iter()
            .filter_map(|(name, src)| Some((name.clone(), src.owner.as_ref()?.email.clone())))
            .collect();
        Router::new(
            &s.notify.routes,
            &s.sub_groups,
            &s.notify.recipients,
            source_owners,
            s.admin.email.as_deref(),
        )
    }

    /// Each source's data issues this run (stale, refused, held, too many rows set aside),
    /// with the names its notice gives: what notify tells the data owners.
    pub(super) fn source_news<'a>(
        &'a self,
        outcomes: &'a [(String, SourceOutcome)],
        notes: &Sources,
        now: DateTime<Utc>,
    ) -> Vec<SourceNews<'a>> {
        let settings = &self.settings;
        outcomes
            .iter()
            .filter_map(|(name, outcome)| {
                let s = settings.sources.get(name)?;
                let current = notes.get(name).and_then(|n| n.load.as_ref());
                Some(SourceNews {
                    source: name,
                    kind_title: settings.kinds.get(&s.kind).map_or("", |k| k.title.as_str()),
                    owner_name: s
                        .owner
                        .as_ref()
                        .map_or("the data owner", |o| o.name.as_str()),
                    issues: data_issues(s, outcome, current, now),
                })
            })
            .collect()
    }
}
