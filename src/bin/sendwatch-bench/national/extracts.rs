//! The national bench's areas and their extracts: each local authority picked becomes an area
//! (its id made from its name, as `[general] id` rules say), and the generator writes its
//! three extracts once per bench run, with a seed of its own, into the run's scratch folder,
//! where every cycle of the run (each area count, each replica count) reads them.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use tokio::sync::Semaphore;

use super::dfe::{self, Authority};
use crate::child::run_timed;

/// One area of the bench.
#[derive(Debug, Clone)]
pub struct Area {
    pub id: String,
    pub authority: Authority,
    /// The generator's seed for its extracts.
    pub seed: u64,
    /// (kind, rows) of its extracts.
    pub rows: [(&'static str, u64); 3],
}

impl Area {
    pub fn total_rows(&self) -> u64 {
        self.rows.iter().map(|(_, n)| n).sum()
    }
}

/// `authority` as an area: its id from its name (`Kingston upon Hull, City of` ->
/// `kingston-upon-hull-city-of`), else from its code; its seed from its code's digits, so
/// that an authority's extracts are the same in every bench run whichever others are picked.
pub fn area(authority: &Authority) -> Area {
    let slug = sendwatch::config::areas::slug(&authority.name);
    let id = if sendwatch::config::areas::valid_id(&slug) {
        slug
    } else {
        format!("la-{}", authority.code.to_ascii_lowercase())
    };
    let digits: String = authority
        .code
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    Area {
        id,
        seed: digits.parse::<u64>().unwrap_or(1),
        rows: dfe::rows(authority),
        authority: authority.clone(),
    }
}

/// The generated extracts: area id -> kind -> file.
#[derive(Debug, Default)]
pub struct Cache {
    files: BTreeMap<String, BTreeMap<&'static str, PathBuf>>,
}

impl Cache {
    /// Generates the extracts of each of `areas` not yet in the cache, into `dir/ID/`, as
    /// many generators at once as there are CPUs.
    pub async fn fill(
        &mut self,
        generator: &Path,
        dir: &Path,
        areas: &[Area],
    ) -> anyhow::Result<()> {
        let places = Arc::new(Semaphore::new(
            std::thread::available_parallelism().map_or(1, |n| n.get()),
        ));
        let mut tasks = tokio::task::JoinSet::new();
        for a in areas.iter().filter(|a| !self.files.contains_key(&a.id)) {
            for (kind, rows) in a.rows {
                let out = dir.join(&a.id);
                std::fs::create_dir_all(&out)
                    .with_context(|| format!("creating {}", out.display()))?;
                let (generator, places, id, seed) = (
                    generator.to_path_buf(),
                    places.clone(),
                    a.id.clone(),
                    a.seed,
                );
                tasks.spawn(async move {
                    let _place = places.acquire_owned().await?;
                    let file = generate(&generator, kind, rows, seed, &out).await?;
                    anyhow::Ok((id, kind, file))
                });
            }
        }
        while let Some(done) = tasks.join_next().await {
            let (id, kind, file) = done??;
            self.files.entry(id).or_default().insert(kind, file);
        }
        Ok(())
    }

    /// The URL paths the extracts server answers, `/ID/KIND.csv`, and their files.
    pub fn paths(&self) -> HashMap<String, PathBuf> {
        self.files
            .iter()
            .flat_map(|(id, kinds)| {
                kinds
                    .iter()
                    .map(move |(kind, file)| (format!("/{id}/{kind}.csv"), file.clone()))
            })
            .collect()
    }
}

/// Runs the generator for one `kind` into `out` and returns the extract it wrote (as
/// [`crate::load::generate`], without a line on stderr for each of the hundreds of files).
async fn generate(
    generator: &Path,
    kind: &'static str,
    rows: u64,
    seed: u64,
    out: &Path,
) -> anyhow::Result<PathBuf> {
    let mut cmd = std::process::Command::new("python3");
    cmd.arg(generator)
        .args(["--rows", &rows.to_string(), "--seed", &seed.to_string()])
        .arg("--out")
        .arg(out)
        .args(["--kind", kind, "--quiet", "--no-meta"]);
    let scratch = out.to_path_buf();
    tokio::task::spawn_blocking(move || {
        run_timed(cmd, None, &scratch, &format!("generator-{kind}"))
    })
    .await?
    .with_context(|| format!("running the generator ({kind}, seed {seed})"))?;
    Ok(out.join(format!("{kind}.csv")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn la(code: &str, name: &str) -> Authority {
        Authority {
            code: code.into(),
            name: name.into(),
            requests: 10,
            new_plans: 4,
            plans: 30,
        }
    }

    #[test]
    fn an_authority_becomes_an_area_with_its_own_seed() {
        let a = area(&la("E06000010", "Kingston upon Hull, City of"));
        assert_eq!(a.id, "kingston-upon-hull-city-of");
        assert_eq!(a.seed, 6_000_010);
        assert_eq!(a.rows, [("tracker", 20), ("reviews", 30), ("provider", 8)]);
        assert_eq!(a.total_rows(), 58);
        // A name that makes no id: the code does.
        assert_eq!(area(&la("E09000001", "1 City")).id, "la-e09000001");
    }
}
