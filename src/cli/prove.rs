//! `keyproof prove`: replays the who-can answer in the software KMS (`docs/sim.md`).

use clap::Args;

use super::eval::AnswerFormat;
use super::inputs::InputArgs;
use super::{print_error, write_output, ExitStatus};
use crate::sim::prove::{expand_action, text, Proof, Prover};
use crate::solve::{who_can, Query};

/// Arguments of `keyproof prove`.
#[derive(Debug, Args)]
pub struct ProveArgs {
    /// Inputs and world options.
    #[command(flatten)]
    pub inputs: InputArgs,
    /// Key ARN, key id, `alias/name`, alias ARN, or Terraform address.
    #[arg(long, value_name = "KEY")]
    pub key: Option<String>,
    /// The action (repeatable; default `kms:Decrypt`); a pattern such as `kms:ReEncrypt*` stands
    /// for every KMS action it matches.
    #[arg(long = "action", value_name = "ACTION")]
    pub actions: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: AnswerFormat,
}

#[derive(serde::Serialize)]
struct Out<'a> {
    version: u32,
    proofs: &'a [Proof],
}

/// Runs `keyproof prove`: exit 0 when every claim replayed as predicted, 1 otherwise.
#[must_use]
pub fn run(args: &ProveArgs) -> ExitStatus {
    let world = match args.inputs.load_world() {
        Ok(w) => w,
        Err(s) => return s,
    };
    let key = match super::inputs::resolve_key(&world, args.key.as_deref()) {
        Ok(k) => k,
        Err(s) => return s,
    };
    // A pattern (`kms:ReEncrypt*`) stands for every KMS action of the catalogue it matches.
    let actions: Vec<String> = if args.actions.is_empty() {
        vec!["kms:Decrypt".to_string()]
    } else {
        args.actions.iter().flat_map(|a| expand_action(a)).collect()
    };
    let prover = Prover::new(&world);
    let mut proofs = Vec::new();
    for a in &actions {
        let ans = who_can(&world, &Query { key, action: a.clone(), direct_only: false });
        proofs.extend(prover.prove(key, &ans));
    }
    let out = match args.format {
        AnswerFormat::Json => {
            serde_json::to_string_pretty(&Out { version: 1, proofs: &proofs }).unwrap_or_default() + "\n"
        }
        AnswerFormat::Text => text(&proofs),
    };
    if let Err(e) = write_output(None, &out) {
        print_error(&e);
        return ExitStatus::Error;
    }
    if proofs.iter().all(|p| p.proved) {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    }
}
