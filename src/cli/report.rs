//! `keyproof report PATH... --output FILE`: the auditor report (`docs/report.md`).

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::check::{analyse, analysed_any, report_failure, Analysis, CheckArgs, FailOn, FormatArg};
use super::inputs::InputArgs;
use super::{print_error, print_warning, write_output, ExitStatus};
use crate::report::audit::Audit;

/// `--format` of `report`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// One self-contained HTML page.
    Html,
    /// The same content as Markdown.
    Markdown,
}

/// Arguments of `keyproof report`.
#[derive(Clone, Debug, Args)]
pub struct ReportArgs {
    /// Inputs and world options.
    #[command(flatten)]
    pub inputs: InputArgs,
    /// The file to write.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Html)]
    pub format: ReportFormat,
    /// Configuration file (default: `keyproof.toml` in the working directory, if present).
    #[arg(long, value_name = "FILE")]
    pub config: Option<String>,
    /// Leave out findings whose fingerprint is in FILE.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<String>,
}

impl ReportArgs {
    fn check_args(&self) -> CheckArgs {
        CheckArgs {
            inputs: self.inputs.clone(),
            format: FormatArg::Text,
            output: None,
            concise: false,
            fail_on: FailOn::Never,
            exit_zero: true,
            select: Vec::new(),
            ignore: Vec::new(),
            config: self.config.clone(),
            baseline: self.baseline.clone(),
            write_baseline: None,
        }
    }
}

/// Runs `keyproof report`: 0 when the report was written, 2 otherwise.
#[must_use]
pub fn run(args: &ReportArgs) -> ExitStatus {
    let Analysis { world, out, settings } = match analyse(&args.check_args(), false) {
        Ok(a) => a,
        Err(f) => return report_failure(f),
    };
    for e in &world.errors {
        print_warning(&format!("{}: {}", e.file, e.message));
    }
    for e in &out.internal_errors {
        print_error(e);
    }
    if !analysed_any(&world) {
        print_error("no input could be analysed");
        return ExitStatus::Error;
    }
    let audit = Audit::build(&world, &out.findings, &out.suppression.suppressed, &settings);
    let text = match args.format {
        ReportFormat::Html => crate::report::html::render(&audit),
        ReportFormat::Markdown => crate::report::report_md::render(&audit),
    };
    if let Err(e) = write_output(Some(&args.output), &text) {
        print_error(&e);
        return ExitStatus::Error;
    }
    if out.internal_errors.is_empty() {
        ExitStatus::Success
    } else {
        ExitStatus::Error
    }
}
