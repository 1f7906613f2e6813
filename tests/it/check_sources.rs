//! `check-config` on file sources: each extract an enabled job reads that is not there (or is
//! not a regular file) is named, key and path, and the command exits 78 instead of saying
//! "configuration OK"; a source no enabled job reads is not asked. The Debian package's
//! conffile (deploy/deb/sendwatch.toml), which names no one's data, is refused so.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt as _;

use crate::harness::{binary_status, example_dir, repo};
use crate::support::trials::{Spec, trial};

fn check_config_names_each_extract_a_job_reads_that_is_not_there() {
    let dir = example_dir();
    let cfg = dir.path().join("config/sendwatch.toml");
    let reviews = dir.path().join("examples/reviews.csv");
    std::fs::remove_file(&reviews).expect("remove reviews.csv");
    // A FIFO where the provider extract was: refused by its type, the check does not block.
    let provider = dir.path().join("examples/provider.csv");
    std::fs::remove_file(&provider).expect("remove provider.csv");
    let c = CString::new(provider.as_os_str().as_bytes()).expect("path");
    // SAFETY: a valid NUL-terminated path; mkfifo only creates the node.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");

    let (code, out, err) = binary_status(dir.path(), &cfg, &[], &["check-config"]);
    let printed = format!("{out}{err}");
    assert_eq!(code, Some(78), "{printed}");
    assert!(!printed.contains("configuration OK"), "{printed}");
    let want = [
        format!(
            "sources.reviews.url: `{}` is not there (read by job monthly-exceptions)",
            reviews.display()
        ),
        format!(
            "sources.provider.url: `{}` is a FIFO, not a regular file (read by job monthly-exceptions)",
            provider.display()
        ),
    ];
    for line in &want {
        assert!(
            printed.contains(line.as_str()),
            "`{line}` not in:\n{printed}"
        );
    }
    assert!(!printed.contains("sources.tracker"), "{printed}");

    // A source no enabled job reads is not asked: the job reads the tracker alone.
    let tracker_only = dir.path().join("config/tracker-only.toml");
    std::fs::write(
        &tracker_only,
        "base = \"sendwatch.toml\"\n\n[jobs.monthly-exceptions]\nsources = [\"tracker\"]\nmanual_kpis = false\n",
    )
    .expect("write");
    let (code, out, err) = binary_status(dir.path(), &tracker_only, &[], &["check-config"]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.starts_with("configuration OK"), "{out}");
}

fn the_packages_conffile_is_refused_naming_the_three_extracts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = repo("deploy/deb/sendwatch.toml");
    let (code, out, err) = binary_status(dir.path(), &cfg, &[], &["check-config"]);
    let printed = format!("{out}{err}");
    assert_eq!(code, Some(78), "{printed}");
    assert!(!printed.contains("configuration OK"), "{printed}");
    for src in ["tracker", "reviews", "provider"] {
        let line =
            format!("sources.{src}.url: `/var/lib/sendwatch/extracts/{src}.csv` is not there");
        assert!(printed.contains(&line), "`{line}` not in:\n{printed}");
    }
    // It names none of the example's data, places or people.
    let text = std::fs::read_to_string(&cfg).expect("conffile");
    for example in [
        "examples/tracker",
        "examples/reviews",
        "examples/provider",
        "Sefton",
        "sefton",
        "example.org",
    ] {
        assert!(!text.contains(example), "the conffile names `{example}`");
    }
}

pub fn tests() -> Vec<Spec> {
    vec![
        trial!(check_config_names_each_extract_a_job_reads_that_is_not_there),
        trial!(the_packages_conffile_is_refused_naming_the_three_extracts),
    ]
}
