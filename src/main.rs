//! The `sendwatch` binary: parse the command line, run it, turn the outcome into an exit code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    sendwatch::cli::main(sendwatch::cli::Cli::parse())
}
