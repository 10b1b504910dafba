//! `keyproof eval`: decide one request, or a batch of JSON Lines requests.

use std::collections::BTreeMap;
use std::io::{BufRead as _, Write as _};

use clap::{Args, ValueEnum};
use rayon::prelude::*;
use serde::Serialize;

use super::inputs::InputArgs;
use super::{print_error, ExitStatus};
use crate::eval::authorize::{authorize, Decision, Response};
use crate::eval::request::{build, reason_ref, RequestSpec};
use crate::world::World;

/// Output format of `eval` and `who-can`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AnswerFormat {
    /// Human-readable.
    Text,
    /// The versioned JSON schema of `cli.md`.
    Json,
}

/// Arguments of `keyproof eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Inputs and world options.
    #[command(flatten)]
    pub inputs: InputArgs,
    /// The caller: an IAM ARN (user, role, assumed-role session, `arn:aws:iam::ACCT:root`) or a
    /// service principal name.
    #[arg(long, value_name = "ARN")]
    pub principal: Option<String>,
    /// The action, e.g. `kms:Decrypt`.
    #[arg(long, value_name = "ACTION")]
    pub action: Option<String>,
    /// Key ARN, key id, `alias/name`, alias ARN, or Terraform address.
    #[arg(long, value_name = "KEY")]
    pub key: Option<String>,
    /// An encryption-context pair `k=v` (repeatable).
    #[arg(long = "context", value_name = "K=V")]
    pub context: Vec<String>,
    /// Any other context key `KEY=VALUE` (repeatable; comma-separated for multi-valued keys).
    #[arg(long = "condition", value_name = "KEY=VALUE")]
    pub conditions: Vec<String>,
    /// A grant token sent with the request (repeatable).
    #[arg(long = "grant-token", value_name = "T")]
    pub grant_tokens: Vec<String>,
    /// For `kms:RetireGrant`/`kms:RevokeGrant`: the grant concerned.
    #[arg(long, value_name = "ID")]
    pub grant_id: Option<String>,
    /// JSON Lines file of requests (`-` for stdin): one JSON result per line, in order.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["principal", "action"])]
    pub requests: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: AnswerFormat,
}

/// One reason in the JSON output.
#[derive(Debug, Serialize)]
pub struct ReasonOut {
    /// `key-policy`, `identity-policy`, `permissions-boundary`, `scp`, `rcp`, `grant`, …
    pub source: &'static str,
    /// File of the statement.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Sid of the statement.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// Index of the statement.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<usize>,
    /// Grant id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grant_id: Option<String>,
    /// `Allow` or `Deny`.
    pub effect: &'static str,
    /// Line of the statement in the file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// `source#Sid` reference.
    #[serde(rename = "ref")]
    pub reference: String,
}

/// The JSON result of one request.
#[derive(Debug, Serialize)]
pub struct EvalOut {
    /// Schema version.
    pub version: u32,
    /// `Allow`, `ExplicitDeny`, `ImplicitDeny`.
    pub decision: &'static str,
    /// The caller.
    pub principal: String,
    /// The action.
    pub action: String,
    /// The key ARN.
    pub key: String,
    /// Statements and grants that decided.
    pub reasons: Vec<ReasonOut>,
    /// Human summary.
    pub explanation: String,
    /// Notes (unknown policies, eventual consistency, …).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// Describes a response in the JSON schema.
#[must_use]
pub fn describe(world: &World, principal: &str, action: &str, key: usize, resp: &Response) -> EvalOut {
    let reasons = resp
        .reasons
        .iter()
        .map(|r| {
            let st = r.policy.and_then(|p| world.policy(p)).and_then(|e| {
                let st = e.policy.statements.iter().find(|s| Some(s.index) == r.index)?;
                Some((e.policy.source, st))
            });
            let loc = st.map(|(src, s)| world.sources.locate(src, s.span));
            ReasonOut {
                source: r.source.as_str(),
                file: loc.as_ref().map(|l| l.file.clone()),
                sid: st.and_then(|(_, s)| s.sid.as_ref().map(|x| x.value.clone())),
                index: r.index,
                grant_id: r.grant.clone(),
                effect: r.effect.as_str(),
                line: loc.map(|l| l.line),
                reference: reason_ref(world, r),
            }
        })
        .collect();
    EvalOut {
        version: 1,
        decision: resp.decision.as_str(),
        principal: principal.to_string(),
        action: crate::eval::authorize::canonical_action(action),
        key: world.keys.get(key).map(|k| k.arn.clone()).unwrap_or_default(),
        reasons,
        explanation: resp.explanation.to_string(),
        notes: resp.notes.clone(),
    }
}

fn split_pair(s: &str, what: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("{what} `{s}` must be `KEY=VALUE`"))
}

fn spec_from_args(args: &EvalArgs) -> Result<RequestSpec, String> {
    let principal = args.principal.clone().ok_or("`--principal` is required (or `--requests FILE`)")?;
    let action = args.action.clone().ok_or("`--action` is required (or `--requests FILE`)")?;
    let mut context = BTreeMap::new();
    for c in &args.context {
        let (k, v) = split_pair(c, "`--context`")?;
        context.insert(k, v);
    }
    let mut conditions = BTreeMap::new();
    for c in &args.conditions {
        let (k, v) = split_pair(c, "`--condition`")?;
        let value = match crate::eval::request::condition_value(&k, &v) {
            crate::eval::context::CtxValue::Single(s) => serde_json::Value::String(s),
            crate::eval::context::CtxValue::Multi(m) => serde_json::Value::from(m),
        };
        conditions.insert(k, value);
    }
    Ok(RequestSpec {
        principal,
        action,
        key: args.key.clone(),
        context,
        conditions,
        grant_tokens: args.grant_tokens.clone(),
        grant_id: args.grant_id.clone(),
    })
}

/// Runs `keyproof eval`.
#[must_use]
pub fn run(args: &EvalArgs) -> ExitStatus {
    let world = match args.inputs.load_world() {
        Ok(w) => w,
        Err(s) => return s,
    };
    if let Some(file) = &args.requests {
        return run_batch(&world, file);
    }
    let spec = match spec_from_args(args) {
        Ok(s) => s,
        Err(e) => {
            print_error(&e);
            return ExitStatus::Error;
        }
    };
    let req = match build(&world, &spec) {
        Ok(r) => r,
        Err(e) => {
            print_error(&e);
            return ExitStatus::Error;
        }
    };
    let resp = authorize(&world, &req);
    let out = describe(&world, &spec.principal, &spec.action, req.key, &resp);
    let text = match args.format {
        AnswerFormat::Json => serde_json::to_string_pretty(&out).unwrap_or_default(),
        AnswerFormat::Text => text(&out),
    };
    let _ = writeln!(std::io::stdout().lock(), "{text}");
    if resp.decision == Decision::Allow {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    }
}

fn text(out: &EvalOut) -> String {
    let mut s =
        format!("{}: `{}` `{}` on `{}`\n  {}\n", out.decision, out.principal, out.action, out.key, out.explanation);
    for r in &out.reasons {
        let at = match (&r.file, r.line) {
            (Some(f), Some(l)) => format!(" ({f}:{l})"),
            _ => String::new(),
        };
        s.push_str(&format!("  {} {}{at}\n", r.effect.to_lowercase(), r.reference));
    }
    for n in &out.notes {
        s.push_str(&format!("  note: {n}\n"));
    }
    s.trim_end().to_string()
}

/// Batch mode: every line is a request; every output line a result (or `{"version":1,"error":…}`).
/// Exit 0 when every line was evaluated, 2 when a line could not be read.
fn run_batch(world: &World, file: &str) -> ExitStatus {
    let reader: Box<dyn std::io::BufRead> = if file == "-" {
        Box::new(std::io::BufReader::new(std::io::stdin()))
    } else {
        match std::fs::File::open(file) {
            Ok(f) => Box::new(std::io::BufReader::new(f)),
            Err(e) => {
                print_error(&format!("cannot read `{file}`: {e}"));
                return ExitStatus::Error;
            }
        }
    };
    let lines: Vec<String> = reader.lines().map_while(Result::ok).filter(|l| !l.trim().is_empty()).collect();
    let results: Vec<Result<String, String>> = lines
        .par_iter()
        .enumerate()
        .map(|(i, line)| {
            let spec: RequestSpec =
                serde_json::from_str(line).map_err(|e| format!("line {}: invalid request: {e}", i + 1))?;
            let req = build(world, &spec).map_err(|e| format!("line {}: {e}", i + 1))?;
            let resp = authorize(world, &req);
            serde_json::to_string(&describe(world, &spec.principal, &spec.action, req.key, &resp))
                .map_err(|e| format!("line {}: {e}", i + 1))
        })
        .collect();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut failed = false;
    for r in results {
        let line = match r {
            Ok(s) => s,
            Err(e) => {
                failed = true;
                serde_json::json!({"version": 1, "error": e}).to_string()
            }
        };
        let _ = writeln!(out, "{line}");
    }
    if failed {
        ExitStatus::Error
    } else {
        ExitStatus::Success
    }
}
