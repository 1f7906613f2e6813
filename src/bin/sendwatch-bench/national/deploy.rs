//! The national bench's deployment, as an operator would write it (docs/areas.md): the
//! deployment's file over the source tree's example (the store, SMTP delivery to the sink,
//! no HTTP listener, `[areas] dir`), and a folder with one file per area: its name, the
//! shipped Sefton plan as its plan, its three sources on the extracts server, and recipients
//! of its own (`GROUP@ID.example.org`: the example's sub-groups, data owners and
//! administrator), as each council has its own people.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::extracts::Area;
use crate::load::toml_str;
use sendwatch::config::{Settings, Sources};

/// The job every area runs: the example's monthly run over all three sources.
pub const JOB: &str = "monthly-exceptions";

/// What the deployment's file says besides the areas.
pub struct Shared<'a> {
    pub store_url: &'a str,
    pub pool: u32,
    /// `[daemon] max_runs`: runs under way at once in each replica.
    pub max_runs: usize,
    pub smtp_port: u16,
    /// The extracts server's base URL, `http://127.0.0.1:PORT`.
    pub extracts: &'a str,
}

/// Writes the deployment into `dir` (its file, `areas/`, and `data/` for the areas' spools)
/// and returns the deployment's file.
pub fn write(dir: &Path, shared: &Shared<'_>, areas: &[Area]) -> anyhow::Result<PathBuf> {
    let area_dir = dir.join("areas");
    std::fs::create_dir_all(&area_dir)
        .with_context(|| format!("creating {}", area_dir.display()))?;
    let file = dir.join("sendwatch.toml");
    std::fs::write(&file, deployment(dir, shared)).context("writing the deployment's file")?;
    let plan = sendwatch::config::plan::shipped_dir();
    let example = Settings::load_unchecked(&Sources {
        file: Some(sendwatch::config::plan::example_file()),
        env: false,
    })
    .context("reading the example configuration")?;
    for a in areas {
        let path = area_dir.join(format!("{}.toml", a.id));
        std::fs::write(&path, area_file(a, &plan, shared.extracts, &example))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(file)
}

fn deployment(dir: &Path, shared: &Shared<'_>) -> String {
    let example = sendwatch::config::plan::example_file();
    format!(
        "# The national bench's deployment (sendwatch bench national).\n\
         base = {base}\n\n\
         [general]\ndata_dir = {data}\n\n\
         [store]\nurl = {url}\nmax_connections = {pool}\n\n\
         [delivery]\nmode = \"smtp\"\n\n\
         [delivery.smtp]\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\ntimeout_secs = 30\n\n\
         [http]\nlisten = \"\"\n\n\
         [daemon]\nmax_runs = {runs}\n\n\
         [areas]\ndir = \"areas\"\n",
        base = toml_str(&example.to_string_lossy()),
        data = toml_str(&dir.join("data").to_string_lossy()),
        url = toml_str(shared.store_url),
        pool = shared.pool,
        runs = shared.max_runs,
        port = shared.smtp_port,
    )
}

fn area_file(a: &Area, plan: &Path, extracts: &str, example: &Settings) -> String {
    let id = &a.id;
    let mut out = format!(
        "[general]\narea = {}\n\n[plan]\ndir = {}\n\n[admin]\nemail = \"admin@{id}.example.org\"\n",
        toml_str(&a.authority.name),
        toml_str(&plan.to_string_lossy())
    );
    for (kind, _) in a.rows {
        let _ = write!(
            out,
            "\n[sources.{kind}]\nurl = {}\n",
            toml_str(&format!("{extracts}/{id}/{kind}.csv"))
        );
        if let Some(owner) = example.sources.get(kind).and_then(|s| s.owner.as_ref()) {
            let _ = writeln!(
                out,
                "owner = {{ name = {}, email = \"{kind}-data@{id}.example.org\" }}",
                toml_str(&owner.name)
            );
        }
    }
    for key in example.sub_groups.keys() {
        let _ = write!(
            out,
            "\n[sub_groups.{key}]\nowners = [\"{}@{id}.example.org\"]\n",
            key.replace('_', "-")
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::national::dfe::Authority;
    use crate::national::extracts::area;

    #[test]
    fn the_deployment_loads_with_every_area_on_its_own_extracts() {
        let dir = tempfile::tempdir().expect("tempdir");
        let areas: Vec<Area> = [("E06000017", "Rutland"), ("E09000001", "City of London")]
            .iter()
            .map(|(code, name)| {
                area(&Authority {
                    code: (*code).into(),
                    name: (*name).into(),
                    requests: 5,
                    new_plans: 3,
                    plans: 20,
                })
            })
            .collect();
        let shared = Shared {
            store_url: "postgres://u:p@127.0.0.1:5432/x",
            pool: 7,
            max_runs: 3,
            smtp_port: 2525,
            extracts: "http://127.0.0.1:8080",
        };
        let file = write(dir.path(), &shared, &areas).expect("written");
        let d = sendwatch::config::Deployment::load(&Sources {
            file: Some(file),
            env: false,
        })
        .expect("the deployment loads");
        let ids: Vec<String> = d.areas.iter().map(|s| s.area_id().0).collect();
        assert_eq!(ids, ["city-of-london", "rutland"]);
        let rutland = &d.areas[1];
        assert_eq!(rutland.general.area, "Rutland");
        assert_eq!(rutland.store.max_connections, 7);
        assert_eq!(rutland.daemon.runs(), 3);
        assert_eq!(
            rutland.sources.get("reviews").map(|s| s.url.clone()),
            Some("http://127.0.0.1:8080/rutland/reviews.csv".to_string())
        );
        assert!(rutland.jobs.contains_key(JOB));
        // Its own people, under the example's sub-group names.
        let performance = &rutland.sub_groups["performance"];
        assert_eq!(performance.owners, ["performance@rutland.example.org"]);
        assert!(performance.name.starts_with("Performance Management"));
        assert_eq!(
            rutland.sub_groups["joint_performance"].owners,
            ["joint-performance@rutland.example.org"]
        );
        assert_eq!(
            rutland.admin.email.as_deref(),
            Some("admin@rutland.example.org")
        );
        let owner = rutland.sources["provider"].owner.as_ref().expect("owner");
        assert_eq!(owner.email, "provider-data@rutland.example.org");
        assert!(rutland.http.addr().is_none());
    }
}
