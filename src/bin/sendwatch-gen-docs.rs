//! `sendwatch-gen-docs OUT_DIR`: the Debian package's man pages and shell completions, written
//! from the clap definition (src/cli.rs) so that they say what the binary accepts.
//!
//! Owns: `OUT_DIR/man/` (`sendwatch.1`, and `sendwatch-VERB.1`, `sendwatch-VERB-SUB.1` for
//! each verb and each verb's own subcommands) and `OUT_DIR/completions/` (`sendwatch.bash`,
//! `_sendwatch` for zsh, `sendwatch.fish`). Built only with the `gen-docs` feature
//! (deploy/deb/build), so a test build compiles neither clap_mangen nor clap_complete.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::CommandFactory as _;
use clap_complete::Shell;

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let (Some(out), None) = (args.next(), args.next()) else {
        eprintln!("usage: sendwatch-gen-docs OUT_DIR");
        return ExitCode::from(2);
    };
    match generate(Path::new(&out)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sendwatch-gen-docs: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn generate(out: &Path) -> anyhow::Result<()> {
    let man = out.join("man");
    let completions = out.join("completions");
    for dir in [&man, &completions] {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    // One page per command, recursively: sendwatch.1, sendwatch-kpi.1, sendwatch-kpi-show.1.
    clap_mangen::generate_to(sendwatch::cli::Cli::command(), &man)
        .with_context(|| format!("writing man pages into {}", man.display()))?;

    for (shell, file) in [
        (Shell::Bash, "sendwatch.bash"),
        (Shell::Zsh, "_sendwatch"),
        (Shell::Fish, "sendwatch.fish"),
    ] {
        let path: PathBuf = completions.join(file);
        let mut w =
            std::fs::File::create(&path).with_context(|| format!("creating {}", path.display()))?;
        clap_complete::generate(
            shell,
            &mut sendwatch::cli::Cli::command(),
            "sendwatch",
            &mut w,
        );
    }
    Ok(())
}
