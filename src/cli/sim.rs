//! `keyproof sim SCENARIO`: runs a scripted KMS session in the software KMS (`docs/sim.md`).

use std::path::PathBuf;

use clap::Args;

use super::eval::AnswerFormat;
use super::{print_error, write_output, ExitStatus};
use crate::sim::scenario;

/// Arguments of `keyproof sim`.
#[derive(Debug, Args)]
pub struct SimArgs {
    /// The scenario file (JSON, see `docs/sim.md`).
    pub scenario: PathBuf,
    /// Output format of the transcript.
    #[arg(long, value_enum, default_value = "text")]
    pub format: AnswerFormat,
    /// Write the transcript to a file instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Runs `keyproof sim`: exit 0 when every expectation held, 1 otherwise, 2 for an unreadable
/// scenario.
#[must_use]
pub fn run(args: &SimArgs) -> ExitStatus {
    let (sc, world) = match scenario::load(&args.scenario) {
        Ok(x) => x,
        Err(e) => {
            print_error(&e);
            return ExitStatus::Error;
        }
    };
    let t = scenario::run(&sc, world);
    let out = match args.format {
        AnswerFormat::Json => serde_json::to_string_pretty(&t).unwrap_or_default() + "\n",
        AnswerFormat::Text => scenario::text(&t),
    };
    if let Err(e) = write_output(args.output.as_deref(), &out) {
        print_error(&e);
        return ExitStatus::Error;
    }
    if t.passed {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    }
}
