//! The `keyproof` binary: parse arguments, run, map the status to the exit code.

use clap::Parser as _;

fn main() -> std::process::ExitCode {
    keyproof::cli::run(keyproof::cli::Cli::parse()).into()
}
