//! `check-config --connect`: beyond the configuration's own checks, try what it points at:
//! the database (connect and `SELECT 1`), the SMTP server (connect and EHLO, with its
//! timeout) and each source (HEAD or a one-byte GET; a file: there and a regular file).
//! With `[stats] neighbours`, whether the imported release names each of them.
//! One line each, plainly; false if any failed (the command then exits 78). And, for plain
//! `check-config`, [`unreadable_sources`]: a file an enabled job reads that is not there.

use crate::config::{Issue, Settings, redact_url};
use crate::notify::{DeliveryMode, probe_smtp};
use crate::source::Fetcher;
use crate::store::Store;

pub(super) async fn check(s: &Settings) -> bool {
    println!("connections:");
    let mut all_ok = true;
    let mut say = |what: &str, r: Result<String, String>| match r {
        Ok(m) => println!("  {what}: ok, {m}"),
        Err(e) => {
            all_ok = false;
            println!("  {what}: FAILED: {e}");
        }
    };

    let mut neighbours = None;
    let db = match Store::connect(&s.store).await {
        Ok(store) => {
            let r = store
                .ping()
                .await
                .map(|()| format!("{} answered", store.backend()))
                .map_err(|e| e.to_string());
            if r.is_ok() && !s.stats.neighbours.is_empty() {
                neighbours = Some(neighbours_known(s, &store).await);
            }
            store.close().await;
            r
        }
        Err(e) => Err(e.to_string()),
    };
    say("database", db);
    if let Some(r) = neighbours {
        say("stats.neighbours", r);
    }

    match s.delivery.mode {
        DeliveryMode::Smtp => say("smtp", probe_smtp(&s.delivery.smtp).await),
        DeliveryMode::Folder => println!(
            "  smtp: not used (delivery.mode = \"folder\", {})",
            s.delivery.folder.display()
        ),
    }

    match Fetcher::new(&s.sources) {
        Err(e) => say("sources", Err(e.to_string())),
        Ok(fetcher) => {
            for (name, src) in &s.sources {
                let r = fetcher.probe(name, src).await.map_err(|e| e.to_string());
                say(&format!("source {name} ({})", redact_url(&src.url)), r);
            }
        }
    }
    all_ok
}

/// Whether the imported release names every statistical neighbour (`[stats] neighbours`):
/// one it does not is an error naming its key (its column would be missing from every
/// benchmark). With no release imported yet there is nothing to check against: said, not
/// failed.
async fn neighbours_known(s: &Settings, store: &Store) -> Result<String, String> {
    let releases = store.stats_releases().await.map_err(|e| e.to_string())?;
    if releases.is_empty() {
        return Ok("not checked: no release imported yet (`sendwatch stats import PATH`)".into());
    }
    let areas = store.stats_areas().await.map_err(|e| e.to_string())?;
    let unknown = crate::stats::compare::unknown_neighbours(&s.stats, &areas);
    if unknown.is_empty() {
        return Ok(format!(
            "{} neighbour{}, each a local authority of the imported release",
            s.stats.neighbours.len(),
            crate::view::plural(s.stats.neighbours.len())
        ));
    }
    let said: Vec<String> = unknown
        .iter()
        .map(|(key, name)| format!("{key} `{name}`"))
        .collect();
    Err(format!(
        "{}: no local authority of that name or code in the imported release (give its name, \
         code or old code as the release does)",
        said.join(", ")
    ))
}

/// Each file source an enabled job reads whose file is not there or cannot be read: its runs
/// would fail. A file needs no connection, so plain `check-config` says so (and exits 78)
/// rather than "configuration OK". Sources no enabled job reads are not asked.
pub(super) fn unreadable_sources(s: &Settings) -> Vec<Issue> {
    s.sources
        .iter()
        .filter_map(|(name, src)| {
            let jobs: Vec<&str> = s
                .jobs
                .iter()
                .filter(|(_, j)| j.enabled && j.sources.iter().any(|x| x == name))
                .map(|(job, _)| job.as_str())
                .collect();
            if jobs.is_empty() {
                return None;
            }
            crate::source::unreadable_file(&src.url).map(|why| {
                Issue::new(
                    format!("sources.{name}.url"),
                    format!("{why} (read by job {})", jobs.join(", ")),
                )
            })
        })
        .collect()
}
