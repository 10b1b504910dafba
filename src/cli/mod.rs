//! The command line: clap definitions, one file per subcommand, and [`ExitStatus`].
//!
//! `main.rs` only parses arguments, calls [`run`] and maps the status to the process exit
//! code. Subcommands that read policies share [`inputs::InputArgs`].

pub mod check;
pub mod diff;
pub mod eval;
pub mod inputs;
pub mod progress;
pub mod prove;
pub mod report;
pub mod rule;
pub mod sim;
pub mod who_can;

use std::io::Write as _;
use std::path::Path;

use clap::{Parser, Subcommand};

/// How a run ended; see `docs/exit-codes.md`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: nothing at or above `--fail-on` (or the positive answer).
    Success,
    /// 1: findings at or above `--fail-on` (or the negative answer).
    Failure,
    /// 2: usage, configuration or input error (no input could be analysed), or an internal error.
    Error,
}

impl ExitStatus {
    /// The process exit code.
    #[must_use]
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::Error => 2,
        }
    }
}

impl From<ExitStatus> for std::process::ExitCode {
    fn from(s: ExitStatus) -> Self {
        std::process::ExitCode::from(s.code())
    }
}

/// keyproof: proves who can use an AWS KMS key.
#[derive(Debug, Parser)]
#[command(name = "keyproof", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands. `eval`, `who-can`, `prove`, `sim`, `report` and `diff` are added as
/// their own files next to `check.rs`, each with an `Args` struct and a `run` function.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the rule pack over the inputs and report findings.
    Check(check::CheckArgs),
    /// Decide one request (or a JSON Lines batch) with the statements that decided it.
    Eval(eval::EvalArgs),
    /// List who can perform an action on a key, under which context, by what path.
    WhoCan(who_can::WhoCanArgs),
    /// Print the documentation of a rule, or of all rules.
    Rule(rule::RuleArgs),
    /// Replay the who-can answer in the software KMS: witnesses succeed, counter-examples fail.
    Prove(prove::ProveArgs),
    /// Run a scripted KMS session (a scenario file) against the software KMS.
    Sim(sim::SimArgs),
    /// Write the auditor report (self-contained HTML, or Markdown).
    Report(report::ReportArgs),
    /// Compare two worlds: access and findings a change adds or removes.
    Diff(diff::DiffArgs),
}

/// Runs a parsed command line.
#[must_use]
pub fn run(cli: Cli) -> ExitStatus {
    match cli.command {
        Command::Check(args) => check::run(&args),
        Command::Eval(args) => eval::run(&args),
        Command::WhoCan(args) => who_can::run(&args),
        Command::Rule(args) => rule::run(&args),
        Command::Sim(args) => sim::run(&args),
        Command::Prove(args) => prove::run(&args),
        Command::Report(args) => report::run(&args),
        Command::Diff(args) => diff::run(&args),
    }
}

/// Prints a usage-level error on stderr (`error: …`).
pub fn print_error(message: &str) {
    let _ = writeln!(std::io::stderr().lock(), "error: {message}");
}

/// Prints a warning on stderr (`warning: …`).
pub fn print_warning(message: &str) {
    let _ = writeln!(std::io::stderr().lock(), "warning: {message}");
}

/// Writes output to a file, or to stdout when `path` is `None`. A closed stdout (`| head`)
/// is not an error.
///
/// # Errors
/// The file cannot be written.
pub fn write_output(path: Option<&Path>, text: &str) -> Result<(), String> {
    match path {
        Some(p) => std::fs::write(p, text).map_err(|e| format!("cannot write `{}`: {e}", p.display())),
        None => {
            let mut out = std::io::stdout().lock();
            match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(format!("cannot write to stdout: {e}")),
                _ => Ok(()),
            }
        }
    }
}
