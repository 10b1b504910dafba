//! The `keyproof` binary: parse arguments, run, map the status to the exit code.

use clap::Parser as _;

/// mimalloc: the analysis allocates many small, short-lived values on every thread, where it is
/// markedly faster than the system allocator (`docs/performance.md`).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    keyproof::cli::run(keyproof::cli::Cli::parse()).into()
}
