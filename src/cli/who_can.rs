//! `keyproof who-can`: who can perform an action on a key, under which context, by what path.

use std::io::Write as _;

use clap::Args;

use super::eval::AnswerFormat;
use super::inputs::InputArgs;
use super::ExitStatus;
use crate::solve::{who_can, Answer, Query};

/// Arguments of `keyproof who-can`.
#[derive(Debug, Args)]
pub struct WhoCanArgs {
    /// Inputs and world options.
    #[command(flatten)]
    pub inputs: InputArgs,
    /// Key ARN, key id, `alias/name`, alias ARN, or Terraform address.
    #[arg(long, value_name = "KEY")]
    pub key: Option<String>,
    /// The action (repeatable; default `kms:Decrypt`).
    #[arg(long = "action", value_name = "ACTION")]
    pub actions: Vec<String>,
    /// Only direct access: no role chains, no escalation.
    #[arg(long)]
    pub direct: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: AnswerFormat,
}

#[derive(serde::Serialize)]
struct Versioned<'a> {
    version: u32,
    #[serde(flatten)]
    answer: &'a Answer,
}

/// Runs `keyproof who-can`.
#[must_use]
pub fn run(args: &WhoCanArgs) -> ExitStatus {
    let world = match args.inputs.load_world_for(args.key.as_deref()) {
        Ok(w) => w,
        Err(s) => return s,
    };
    let key = match super::inputs::resolve_key(&world, args.key.as_deref()) {
        Ok(k) => k,
        Err(s) => return s,
    };
    let actions = if args.actions.is_empty() { vec!["kms:Decrypt".to_string()] } else { args.actions.clone() };
    let answers: Vec<Answer> =
        actions.iter().map(|a| who_can(&world, &Query { key, action: a.clone(), direct_only: args.direct })).collect();
    let out = match args.format {
        AnswerFormat::Json => {
            let v: Vec<Versioned<'_>> = answers.iter().map(|a| Versioned { version: 1, answer: a }).collect();
            if v.len() == 1 {
                serde_json::to_string_pretty(&v[0]).unwrap_or_default()
            } else {
                serde_json::to_string_pretty(&v).unwrap_or_default()
            }
        }
        AnswerFormat::Text => answers.iter().map(text).collect::<Vec<_>>().join("\n\n"),
    };
    let _ = writeln!(std::io::stdout().lock(), "{out}");
    ExitStatus::Success
}

/// The human form of an answer.
#[must_use]
pub fn text(a: &Answer) -> String {
    let mut s = format!("who can `{}` on `{}`:\n", a.action, a.key);
    if a.principals.is_empty() {
        s.push_str("  nobody\n");
    }
    for e in &a.principals {
        let kind = serde_json::to_value(e.kind).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
        let when = if e.unconditional { "always".to_string() } else { format!("when {}", e.condition_text) };
        s.push_str(&format!("  {kind:<8} {}  {when}\n", e.principal));
        for hop in &e.path {
            s.push_str(&format!("           {} → {} via {} ({})\n", hop.from, hop.to, hop.via, hop.reference));
        }
    }
    if !a.assumptions.is_empty() {
        s.push_str("assumptions:\n");
        for x in &a.assumptions {
            s.push_str(&format!("  - {x}\n"));
        }
    }
    s.trim_end().to_string()
}
