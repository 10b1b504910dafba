//! `keyproof check PATH...`: load the world, run the selected rules, apply suppressions,
//! render, and decide the exit status.

use std::io::IsTerminal as _;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::inputs::InputArgs;
use super::progress::Progress;
use super::{print_error, print_warning, write_output, ExitStatus};
use crate::config::{Baseline, Config, ConfigError, Settings, SuppressedBy, DEFAULT_CONFIG_FILE};
use crate::report::finding::{Finding, Severity};
use crate::report::{self, Format, Report, ReportError, RuleDescriptor, Summary, TextOptions};
use crate::rules::{self, docs, selector, CheckOutput, Selector};
use crate::world::World;

/// `--format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// Findings with source snippets (one line each with `--concise`).
    Text,
    /// The versioned JSON schema.
    Json,
    /// SARIF 2.1.0.
    Sarif,
    /// GitHub Actions annotations.
    Github,
    /// A Markdown summary.
    Markdown,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Self {
        match f {
            FormatArg::Text => Format::Text,
            FormatArg::Json => Format::Json,
            FormatArg::Sarif => Format::Sarif,
            FormatArg::Github => Format::Github,
            FormatArg::Markdown => Format::Markdown,
        }
    }
}

/// `--fail-on`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Exit 1 on errors.
    Error,
    /// Exit 1 on warnings and errors.
    Warning,
    /// Exit 1 on any finding.
    Note,
    /// Never exit 1.
    Never,
}

impl FailOn {
    /// True when a finding of this severity makes the run fail.
    #[must_use]
    pub fn fails(self, s: Severity) -> bool {
        match self {
            FailOn::Error => s >= Severity::Error,
            FailOn::Warning => s >= Severity::Warning,
            FailOn::Note => true,
            FailOn::Never => false,
        }
    }
}

/// Options of `keyproof check`.
#[derive(Clone, Debug, Args)]
pub struct CheckArgs {
    /// Inputs and world context.
    #[command(flatten)]
    pub inputs: InputArgs,

    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Text, help_heading = "Output")]
    pub format: FormatArg,

    /// Write the report to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE", help_heading = "Output")]
    pub output: Option<PathBuf>,

    /// One line per finding (text format).
    #[arg(long, help_heading = "Output")]
    pub concise: bool,

    /// Lowest severity that makes the exit code 1.
    #[arg(long, value_enum, default_value_t = FailOn::Warning, help_heading = "Exit status")]
    pub fail_on: FailOn,

    /// Exit 0 even when there are findings (errors still exit 2).
    #[arg(long, help_heading = "Exit status")]
    pub exit_zero: bool,

    /// Rules to run: ids, id prefixes (`KP1`), names or categories (comma-separated, repeatable).
    #[arg(long, value_name = "RULES", value_delimiter = ',', help_heading = "Rules")]
    pub select: Vec<String>,

    /// Rules not to run (same forms as `--select`).
    #[arg(long, value_name = "RULES", value_delimiter = ',', help_heading = "Rules")]
    pub ignore: Vec<String>,

    /// Configuration file (default: `keyproof.toml` in the working directory, if present).
    #[arg(long, value_name = "FILE", help_heading = "Rules")]
    pub config: Option<String>,

    /// Suppress findings whose fingerprint is in FILE.
    #[arg(long, value_name = "FILE", help_heading = "Rules")]
    pub baseline: Option<String>,

    /// Write the fingerprints of all current findings to FILE (and report none).
    #[arg(long, value_name = "FILE", help_heading = "Rules")]
    pub write_baseline: Option<String>,
}

/// The registered rules as SARIF descriptors.
#[must_use]
pub fn rule_descriptors() -> Vec<RuleDescriptor> {
    rules::all()
        .iter()
        .map(|r| {
            let i = r.info();
            RuleDescriptor {
                id: i.id,
                name: i.name,
                short: i.summary(),
                full: i.section("What it does").unwrap_or_default(),
                help_markdown: docs::render_page(i),
                level: i.severity,
                category: i.category.as_str(),
            }
        })
        .collect()
}

/// Runs `keyproof check`.
#[must_use]
pub fn run(args: &CheckArgs) -> ExitStatus {
    match run_inner(args) {
        Ok(status) => status,
        Err(f) => report_failure(f),
    }
}

/// Prints a failure of [`analyse`] on stderr; the status is always [`ExitStatus::Error`].
pub(crate) fn report_failure(f: Failure) -> ExitStatus {
    match f {
        Failure::Usage(message) => {
            print_error(&message);
            ExitStatus::Error
        }
        Failure::Config(e) => {
            let mut out = String::new();
            let handler = miette::GraphicalReportHandler::new_themed(if std::io::stderr().is_terminal() {
                miette::GraphicalTheme::unicode()
            } else {
                miette::GraphicalTheme::unicode_nocolor()
            });
            print_error(&e.headline());
            if e.line.is_some() && handler.render_report(&mut out, &e).is_ok() {
                eprint_raw(&out);
            }
            ExitStatus::Error
        }
    }
}

/// Why a check could not run.
pub(crate) enum Failure {
    /// A usage error (message).
    Usage(String),
    /// A configuration error.
    Config(ConfigError),
}

impl From<ConfigError> for Failure {
    fn from(e: ConfigError) -> Self {
        Failure::Config(e)
    }
}

fn eprint_raw(s: &str) {
    use std::io::Write as _;
    let _ = std::io::stderr().lock().write_all(s.as_bytes());
}

/// A loaded world and the rule results over it, as `check` computes them (selection,
/// configuration, baseline and suppressions applied). `report` and `diff` reuse it.
pub(crate) struct Analysis {
    /// The world.
    pub world: World,
    /// Findings and suppressions.
    pub out: CheckOutput,
    /// The settings the rules saw (configuration and baseline).
    pub settings: Settings,
}

/// Loads the inputs of `args` and runs the selected rules: the first half of `check`.
pub(crate) fn analyse(args: &CheckArgs, show_progress: bool) -> Result<Analysis, Failure> {
    let all = rules::all();
    let select = selector::parse_list(&args.select, all).map_err(|e| Failure::Usage(e.to_string()))?;
    let ignore = selector::parse_list(&args.ignore, all).map_err(|e| Failure::Usage(e.to_string()))?;
    for s in select.iter().chain(&ignore) {
        if !matches!(s, Selector::All) && !all.iter().any(|r| s.matches(r.info())) {
            print_warning(&format!("selector `{}` matches no rule of this version", selector_text(s)));
        }
    }
    let enabled = selector::resolve(all, &select, &ignore);
    let opts = args.inputs.load_options().map_err(Failure::Usage)?;

    let (mut settings, config_text) = load_settings(args.config.as_deref())?;
    if let Some(path) = &args.baseline {
        settings.baseline = Some(Baseline::load(path)?);
    }

    let progress = if show_progress { Progress::start(&args.inputs.paths) } else { None };
    let world = crate::ingest::load(&args.inputs.paths, &opts);
    if let (Some(text), Some(path)) = (config_text, settings.config_path.clone()) {
        settings.config_source = Some(world.sources.add_file(path, text));
    }
    if let Some(p) = &progress {
        p.rules(enabled.len());
    }
    let on_done = |_: &'static str| {
        if let Some(p) = &progress {
            p.rule_done();
        }
    };
    let out = rules::run(&world, &settings, &enabled, &on_done);
    if let Some(p) = &progress {
        p.finish();
    }
    Ok(Analysis { world, out, settings })
}

/// True when some input was recognised (else the run is an error: nothing was analysed).
#[must_use]
pub(crate) fn analysed_any(world: &World) -> bool {
    let recognised = world.files.iter().any(|f| !world.errors.iter().any(|e| e.file == f.path));
    recognised || !world.policies.is_empty() || !world.diagnostics.is_empty()
}

fn run_inner(args: &CheckArgs) -> Result<ExitStatus, Failure> {
    let Analysis { world, mut out, .. } = analyse(args, true)?;

    let mut suppressed = out.suppression.suppressed.len();
    if let Some(path) = &args.write_baseline {
        let baselined =
            out.suppression.suppressed.iter().filter(|s| s.by == SuppressedBy::Baseline).map(|s| &s.finding);
        let baseline = Baseline::from_findings(path, out.findings.iter().chain(baselined));
        baseline.write()?;
        suppressed += out.findings.len();
        out.findings.clear();
        print_warning(&format!("wrote {} fingerprints to `{path}`", baseline.fingerprints.len()));
    }

    let mut errors = ReportError::from_world(&world);
    errors.extend(out.internal_errors.iter().map(ReportError::internal));
    let descriptors = rule_descriptors();
    let report = Report {
        findings: &out.findings,
        errors: &errors,
        summary: Summary::new(&world, &out.findings, suppressed),
        sources: &world.sources,
        rules: &descriptors,
    };
    let color = args.output.is_none() && std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let text = report::render(args.format.into(), &report, TextOptions { concise: args.concise, color });
    write_output(args.output.as_deref(), &text).map_err(Failure::Usage)?;

    let status = exit_status(args, &world, &out.findings, !out.internal_errors.is_empty());
    // The process ends here: freeing the world (every document, policy and cache, hundreds of
    // megabytes on an organization) one allocation at a time would only delay the exit.
    std::mem::forget(world);
    Ok(status)
}

fn selector_text(s: &Selector) -> String {
    match s {
        Selector::All => "ALL".into(),
        Selector::Id(x) | Selector::Prefix(x) => x.clone(),
        Selector::Name(n) => (*n).to_string(),
        Selector::Category(c) => c.as_str().to_string(),
    }
}

/// Reads `--config FILE`, or `keyproof.toml` in the working directory when present.
fn load_settings(path: Option<&str>) -> Result<(Settings, Option<String>), Failure> {
    let path = match path {
        Some(p) => p.to_string(),
        None if std::path::Path::new(DEFAULT_CONFIG_FILE).is_file() => DEFAULT_CONFIG_FILE.to_string(),
        None => return Ok((Settings::default(), None)),
    };
    let config = Config::load(&path)?;
    let text = config.text.clone();
    let is_rule = |s: &str| Selector::parse(s, rules::all()).is_ok();
    Ok((config.resolve(&is_rule)?, Some(text)))
}

/// Exit status of a check: 2 for an internal error or when no input could be analysed,
/// else 1 when a finding is at or above `--fail-on` (unless `--exit-zero`), else 0.
fn exit_status(args: &CheckArgs, world: &World, findings: &[Finding], internal_error: bool) -> ExitStatus {
    if internal_error {
        return ExitStatus::Error;
    }
    if !analysed_any(world) {
        print_error("no input could be analysed");
        return ExitStatus::Error;
    }
    if args.exit_zero || !findings.iter().any(|f| args.fail_on.fails(f.severity)) {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    }
}
