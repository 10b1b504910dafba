//! `keyproof rule [ID|NAME] [--all] [--format text|json]`: the rule documentation, the same
//! text as `docs/rules/<ID>.md`.

use clap::{Args, ValueEnum};
use serde::Serialize;

use super::{print_error, write_output, ExitStatus};
use crate::rules::{self, docs, RuleInfo};

/// `--format` of `keyproof rule`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RuleFormat {
    /// Markdown.
    Text,
    /// JSON (an object, or an array with `--all`).
    Json,
}

/// Options of `keyproof rule`.
#[derive(Clone, Debug, Args)]
pub struct RuleArgs {
    /// A rule id (`KP160`) or name (`invalid-principal`).
    #[arg(value_name = "ID|NAME", required_unless_present = "all", conflicts_with = "all")]
    pub rule: Option<String>,

    /// Every rule.
    #[arg(long)]
    pub all: bool,

    /// Output format.
    #[arg(long, value_enum, default_value_t = RuleFormat::Text)]
    pub format: RuleFormat,
}

/// A rule in `--format json`.
#[derive(Serialize)]
struct RuleJson<'a> {
    id: &'a str,
    name: &'a str,
    category: &'a str,
    severity: &'a str,
    status: &'a str,
    since: &'a str,
    summary: String,
    source: &'a str,
    docs: String,
}

impl<'a> RuleJson<'a> {
    fn new(i: &'a RuleInfo) -> Self {
        RuleJson {
            id: i.id,
            name: i.name,
            category: i.category.as_str(),
            severity: i.severity.as_str(),
            status: i.status.as_str(),
            since: i.status.since(),
            summary: i.summary(),
            source: i.location,
            docs: i.docs_markdown(),
        }
    }
}

/// Runs `keyproof rule`.
#[must_use]
pub fn run(args: &RuleArgs) -> ExitStatus {
    let infos: Vec<&RuleInfo> = if args.all {
        rules::all().iter().map(|r| r.info()).collect()
    } else {
        let name = args.rule.as_deref().unwrap_or_default();
        match rules::lookup(name) {
            Some(r) => vec![r.info()],
            None => {
                print_error(&format!("unknown rule `{name}`: `keyproof rule --all` lists every rule"));
                return ExitStatus::Error;
            }
        }
    };
    let text = match args.format {
        RuleFormat::Text => infos.iter().map(|i| docs::render_page(i)).collect::<Vec<_>>().join("\n"),
        RuleFormat::Json => {
            let items: Vec<RuleJson<'_>> = infos.iter().map(|i| RuleJson::new(i)).collect();
            let json = if args.all {
                serde_json::to_string_pretty(&items)
            } else {
                serde_json::to_string_pretty(&items.first())
            };
            json.unwrap_or_default() + "\n"
        }
    };
    match write_output(None, &text) {
        Ok(()) => ExitStatus::Success,
        Err(e) => {
            print_error(&e);
            ExitStatus::Error
        }
    }
}
