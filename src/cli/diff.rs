//! `keyproof diff OLD... --against NEW...`: the access and findings a change adds or removes.
//!
//! Both worlds are analysed as `check` does. Keys are matched by Terraform address, ARN, key
//! id or a shared alias. For each matched key and [`DIFF_ACTIONS`] action the who-can answers
//! are compared by principal: a principal only NEW lets in is `added`; one only OLD let in is
//! `removed`; one both let in under a different condition is `widened` when NEW's witness is
//! denied in OLD or OLD's counter-example is allowed in NEW, else `changed`. Findings are
//! matched by fingerprint, then (the inputs often being different files) by rule, resource and
//! message.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use clap::{Args, ValueEnum};

use super::check::{analyse, analysed_any, report_failure, rule_descriptors, Analysis, CheckArgs, FailOn, FormatArg};
use super::inputs::InputArgs;
use super::{print_error, print_warning, write_output, ExitStatus};
use crate::eval::authorize::{authorize, Decision};
use crate::report::finding::Finding;
use crate::report::{ReportError, Summary};
use crate::solve::{who_can, Entry, Hop, Query, Witness};
use crate::world::World;

/// Actions compared per key.
pub const DIFF_ACTIONS: &[&str] =
    &["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:PutKeyPolicy", "kms:CreateGrant"];

/// `--format` of `diff`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// Human-readable.
    Text,
    /// `{ "version": 1, … }`.
    Json,
    /// For a pull-request comment.
    Markdown,
    /// SARIF 2.1.0 with the new findings only.
    Sarif,
}

/// Arguments of `keyproof diff`.
#[derive(Clone, Debug, Args)]
pub struct DiffArgs {
    /// The OLD inputs (positional) and the world options shared by both sides.
    #[command(flatten)]
    pub inputs: InputArgs,
    /// The NEW inputs.
    #[arg(long, value_name = "NEW", num_args = 1.., required = true)]
    pub against: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
    pub format: DiffFormat,
    /// Write the output to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
    /// Lowest severity of a new finding that makes the exit code 1.
    #[arg(long, value_enum, default_value_t = FailOn::Warning)]
    pub fail_on: FailOn,
    /// Configuration file (default: `keyproof.toml` in the working directory, if present).
    #[arg(long, value_name = "FILE")]
    pub config: Option<String>,
}

/// One access difference. `named`: a principal NEW's answer lists and OLD's did not, whose
/// witness OLD allows too (OLD covered it through an `account` entry): not new access.
#[derive(Clone, Debug, serde::Serialize)]
pub struct AccessChange {
    /// `added`, `removed`, `widened`, `changed`, `named`.
    pub change: &'static str,
    /// The key (Terraform address, alias or ARN).
    pub key: String,
    /// The action.
    pub action: String,
    /// The principal.
    pub principal: String,
    /// Conditions in the side that has the access (NEW, or OLD for `removed`).
    pub conditions: String,
    /// Conditions in OLD (`widened`, `changed`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_conditions: Option<String>,
    /// The path.
    pub path: Vec<Hop>,
    /// The witness request.
    pub witness: Witness,
}

/// A finding in the diff output.
#[derive(Clone, Debug, serde::Serialize)]
pub struct DiffFinding {
    /// Rule id.
    pub rule: &'static str,
    /// Rule name.
    pub name: &'static str,
    /// Severity.
    pub severity: &'static str,
    /// Message.
    pub message: String,
    /// Resource.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// `file:line:column`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Fingerprint.
    pub fingerprint: String,
}

impl DiffFinding {
    fn of(f: &Finding) -> Self {
        DiffFinding {
            rule: f.rule,
            name: f.name,
            severity: f.severity.as_str(),
            message: f.message.clone(),
            resource: f.resource.clone(),
            location: f.location.as_ref().map(|l| format!("{}:{}:{}", l.file, l.line, l.column)),
            fingerprint: f.fingerprint.clone(),
        }
    }
}

/// The whole diff.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Diff {
    /// Schema version.
    pub version: u32,
    /// Access NEW grants that OLD did not (`added`, `widened`).
    pub new_access: Vec<AccessChange>,
    /// Access OLD granted that NEW does not.
    pub removed_access: Vec<AccessChange>,
    /// Same principal, different conditions, no evidence of widening.
    pub changed_access: Vec<AccessChange>,
    /// Keys that somebody could administer (`kms:PutKeyPolicy`) in OLD and nobody can in NEW.
    pub lockouts: Vec<String>,
    /// Findings of NEW not in OLD.
    pub new_findings: Vec<DiffFinding>,
    /// Findings of OLD not in NEW.
    pub resolved_findings: Vec<DiffFinding>,
}

fn check_args(args: &DiffArgs, paths: &[String]) -> CheckArgs {
    let mut inputs = args.inputs.clone();
    inputs.paths = paths.to_vec();
    CheckArgs {
        inputs,
        format: FormatArg::Text,
        output: None,
        concise: false,
        fail_on: args.fail_on,
        exit_zero: false,
        select: Vec::new(),
        ignore: Vec::new(),
        config: args.config.clone(),
        baseline: None,
        write_baseline: None,
    }
}

/// The key of `other` that `key` of `world` is: same Terraform address, ARN, key id, or alias.
#[must_use]
pub fn match_key(world: &World, key: usize, other: &World) -> Option<usize> {
    let k = world.keys.get(key)?;
    if let Some(t) = &k.origin.tf_address {
        if let Some(i) = other.keys.iter().position(|o| o.origin.tf_address.as_ref() == Some(t)) {
            return Some(i);
        }
    }
    if let Some(i) = other.keys.iter().position(|o| o.arn == k.arn || (!k.id.contains('<') && o.id == k.id)) {
        return Some(i);
    }
    let mine: BTreeSet<String> = world.aliases_of(k).into_iter().collect();
    other.keys.iter().position(|o| other.aliases_of(o).iter().any(|a| mine.contains(a)))
}

fn label(world: &World, key: usize) -> String {
    let Some(k) = world.keys.get(key) else { return String::new() };
    if let Some(t) = &k.origin.tf_address {
        return t.clone();
    }
    world.aliases_of(k).into_iter().next().unwrap_or_else(|| k.arn.clone())
}

fn change(kind: &'static str, key: &str, action: &str, e: &Entry, old: Option<&Entry>) -> AccessChange {
    let cond = |e: &Entry| if e.unconditional { "always".to_string() } else { e.condition_text.clone() };
    AccessChange {
        change: kind,
        key: key.to_string(),
        action: action.to_string(),
        principal: e.principal.clone(),
        conditions: cond(e),
        old_conditions: old.map(cond),
        path: e.path.clone(),
        witness: e.witness.clone(),
    }
}

fn allowed(world: &World, key: usize, e: &Entry, w: &Witness) -> bool {
    authorize(world, &w.request(world, key, &e.caller)).decision == Decision::Allow
}

/// A request proving that NEW's entry `e` allows a request OLD's entry `o` does not: NEW's witness, or
/// NEW's witness with one condition key set to a value NEW's conditions mention, allowed in NEW
/// and denied in OLD; or OLD's counter-example allowed in NEW.
fn widened(old: (&World, Option<usize>), new: (&World, Option<usize>), o: &Entry, e: &Entry) -> Option<Witness> {
    let (Some(ko), Some(kn)) = (old.1, new.1) else { return None };
    if let Some(c) = o.counter_example.as_ref().filter(|c| allowed(new.0, kn, o, c)) {
        return Some(c.clone());
    }
    let mut tries = vec![e.witness.clone()];
    for atom in e.conditions.iter().flatten().filter(|a| !a.negated) {
        for v in &atom.values {
            let mut w = e.witness.clone();
            w.context.insert(atom.key.clone(), crate::eval::context::CtxValue::Single(v.clone()));
            tries.push(w);
        }
    }
    tries.into_iter().find(|w| allowed(new.0, kn, e, w) && !allowed(old.0, ko, e, w))
}

/// Compares the answers of one key pair (either side may be missing).
fn diff_key(out: &mut Diff, old: (&World, Option<usize>), new: (&World, Option<usize>), key: &str) {
    for action in DIFF_ACTIONS {
        let ask = |w: &World, k: Option<usize>| {
            k.map(|k| who_can(w, &Query { key: k, action: (*action).to_string(), direct_only: false }).principals)
                .unwrap_or_default()
        };
        let (a, b) = (ask(old.0, old.1), ask(new.0, new.1));
        if *action == "kms:PutKeyPolicy" && new.1.is_some() && !a.is_empty() && b.is_empty() {
            out.lockouts.push(key.to_string());
        }
        for e in &b {
            match a.iter().find(|x| x.principal == e.principal) {
                // A principal OLD's answer does not list may still have been allowed there (an
                // `account` entry stood for it): new access only when OLD denies NEW's witness.
                None if old.1.is_some_and(|k| allowed(old.0, k, e, &e.witness)) => {
                    out.changed_access.push(change("named", key, action, e, None));
                }
                None => out.new_access.push(change("added", key, action, e, None)),
                Some(o) if o.unconditional == e.unconditional && o.conditions == e.conditions => {}
                Some(o) => {
                    let evidence = if e.unconditional { Some(e.witness.clone()) } else { widened(old, new, o, e) };
                    if let Some(w) = evidence {
                        let mut c = change("widened", key, action, e, Some(o));
                        c.witness = w;
                        out.new_access.push(c);
                    } else {
                        out.changed_access.push(change("changed", key, action, e, Some(o)));
                    }
                }
            }
        }
        for o in a.iter().filter(|o| !b.iter().any(|e| e.principal == o.principal)) {
            out.removed_access.push(change("removed", key, action, o, None));
        }
    }
}

fn finding_key(f: &Finding) -> (&str, Option<&str>, &str) {
    (f.rule, f.resource.as_deref(), f.message.as_str())
}

/// Diffs two analysed worlds.
#[must_use]
pub fn diff(old: &World, old_findings: &[Finding], new: &World, new_findings: &[Finding]) -> Diff {
    let mut out = Diff { version: 1, ..Diff::default() };
    let mut seen_old = BTreeSet::new();
    let mut pairs: Vec<(String, Option<usize>, Option<usize>)> = Vec::new();
    for i in 0..new.keys.len() {
        let j = match_key(new, i, old);
        if let Some(j) = j {
            seen_old.insert(j);
        }
        pairs.push((label(new, i), j, Some(i)));
    }
    for j in (0..old.keys.len()).filter(|j| !seen_old.contains(j)) {
        pairs.push((label(old, j), Some(j), None));
    }
    pairs.sort();
    for (key, j, i) in &pairs {
        diff_key(&mut out, (old, *j), (new, *i), key);
    }
    let same = |a: &Finding, b: &Finding| a.fingerprint == b.fingerprint || finding_key(a) == finding_key(b);
    out.new_findings =
        new_findings.iter().filter(|f| !old_findings.iter().any(|o| same(o, f))).map(DiffFinding::of).collect();
    out.resolved_findings =
        old_findings.iter().filter(|o| !new_findings.iter().any(|f| same(o, f))).map(DiffFinding::of).collect();
    out
}

/// Runs `keyproof diff`.
#[must_use]
pub fn run(args: &DiffArgs) -> ExitStatus {
    let load = |paths: &[String]| -> Result<Analysis, ExitStatus> {
        let a = analyse(&check_args(args, paths), false).map_err(report_failure)?;
        for e in &a.world.errors {
            print_warning(&format!("{}: {}", e.file, e.message));
        }
        if !a.out.internal_errors.is_empty() || !analysed_any(&a.world) {
            for e in &a.out.internal_errors {
                print_error(e);
            }
            print_error(&format!("no input of `{}` could be analysed", paths.join(" ")));
            return Err(ExitStatus::Error);
        }
        Ok(a)
    };
    let old = match load(&args.inputs.paths) {
        Ok(a) => a,
        Err(s) => return s,
    };
    let new = match load(&args.against) {
        Ok(a) => a,
        Err(s) => return s,
    };
    let d = diff(&old.world, &old.out.findings, &new.world, &new.out.findings);
    let text = match args.format {
        DiffFormat::Text => text(&d),
        DiffFormat::Markdown => markdown(&d),
        DiffFormat::Json => serde_json::to_string_pretty(&d).unwrap_or_default() + "\n",
        DiffFormat::Sarif => {
            let added: Vec<Finding> = new
                .out
                .findings
                .iter()
                .filter(|f| d.new_findings.iter().any(|n| n.fingerprint == f.fingerprint))
                .cloned()
                .collect();
            let errors: Vec<ReportError> = ReportError::from_world(&new.world);
            let descriptors = rule_descriptors();
            let report = crate::report::Report {
                findings: &added,
                errors: &errors,
                summary: Summary::new(&new.world, &added, 0),
                sources: &new.world.sources,
                rules: &descriptors,
            };
            crate::report::sarif::render(&report)
        }
    };
    if let Err(e) = write_output(args.output.as_deref(), &text) {
        print_error(&e);
        return ExitStatus::Error;
    }
    let failing_finding = new
        .out
        .findings
        .iter()
        .filter(|f| d.new_findings.iter().any(|n| n.fingerprint == f.fingerprint))
        .any(|f| args.fail_on.fails(f.severity));
    if !d.new_access.is_empty() || !d.lockouts.is_empty() || failing_finding {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    }
}

fn access_line(c: &AccessChange) -> String {
    let old = c.old_conditions.as_ref().map(|o| format!(" (was: {o})")).unwrap_or_default();
    format!("{} `{}` on `{}` by `{}` when {}{old}", c.change, c.action, c.key, c.principal, c.conditions)
}

fn path_text(c: &AccessChange) -> String {
    c.path
        .iter()
        .map(|h| format!("{} → {} via {} ({})", h.from, h.to, h.via, h.reference))
        .collect::<Vec<_>>()
        .join("; ")
}

fn witness_text(w: &Witness) -> String {
    let ctx: Vec<String> =
        w.context.iter().map(|(k, v)| format!("{k}={}", serde_json::to_string(v).unwrap_or_default())).collect();
    if ctx.is_empty() {
        format!("{} as {}", w.action, w.principal)
    } else {
        format!("{} as {} with {}", w.action, w.principal, ctx.join(", "))
    }
}

/// The text form.
#[must_use]
pub fn text(d: &Diff) -> String {
    let mut o = String::new();
    let sections =
        [("new access", &d.new_access), ("removed access", &d.removed_access), ("changed access", &d.changed_access)];
    for (title, list) in sections {
        let _ = writeln!(o, "{title}: {}", list.len());
        for c in list {
            let _ = writeln!(o, "  {}", access_line(c));
            if !c.path.is_empty() {
                let _ = writeln!(o, "      path: {}", path_text(c));
            }
            let _ = writeln!(o, "      witness: {}", witness_text(&c.witness));
        }
    }
    for k in &d.lockouts {
        let _ = writeln!(o, "lockout: nobody can change the key policy of `{k}` any more");
    }
    for (title, list) in [("new findings", &d.new_findings), ("resolved findings", &d.resolved_findings)] {
        let _ = writeln!(o, "{title}: {}", list.len());
        for f in list {
            let at = f.location.clone().or_else(|| f.resource.clone()).unwrap_or_default();
            let _ = writeln!(o, "  {} {} {}: {} ({at})", f.severity, f.rule, f.name, f.message);
        }
    }
    o
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The Markdown form (for a pull-request comment).
#[must_use]
pub fn markdown(d: &Diff) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# keyproof diff\n");
    let _ = writeln!(
        o,
        "| new access | removed access | changed access | new findings | resolved findings |\n| ---: | ---: | ---: | ---: | ---: |\n| {} | {} | {} | {} | {} |\n",
        d.new_access.len(),
        d.removed_access.len(),
        d.changed_access.len(),
        d.new_findings.len(),
        d.resolved_findings.len()
    );
    let sections =
        [("New access", &d.new_access), ("Removed access", &d.removed_access), ("Changed access", &d.changed_access)];
    for (title, list) in sections {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(o, "## {title}\n\n| change | key | action | principal | when | was | path | witness |\n| --- | --- | --- | --- | --- | --- | --- | --- |");
        for c in list {
            let _ = writeln!(
                o,
                "| {} | `{}` | `{}` | `{}` | {} | {} | {} | `{}` |",
                c.change,
                cell(&c.key),
                c.action,
                cell(&c.principal),
                cell(&c.conditions),
                cell(c.old_conditions.as_deref().unwrap_or("")),
                cell(&path_text(c)),
                cell(&witness_text(&c.witness))
            );
        }
        o.push('\n');
    }
    for k in &d.lockouts {
        let _ = writeln!(o, "**Lockout**: nobody can change the key policy of `{k}` any more.\n");
    }
    for (title, list) in [("New findings", &d.new_findings), ("Resolved findings", &d.resolved_findings)] {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(o, "## {title}\n\n| severity | rule | location | message |\n| --- | --- | --- | --- |");
        for f in list {
            let at = f.location.clone().or_else(|| f.resource.clone()).unwrap_or_default();
            let _ =
                writeln!(o, "| {} | {} `{}` | `{}` | {} |", f.severity, f.rule, f.name, cell(&at), cell(&f.message));
        }
        o.push('\n');
    }
    if d.new_access.is_empty()
        && d.removed_access.is_empty()
        && d.changed_access.is_empty()
        && d.lockouts.is_empty()
        && d.new_findings.is_empty()
        && d.resolved_findings.is_empty()
    {
        let _ = writeln!(o, "No change in access or findings.");
    }
    o
}
