//! The rule pack: one file per rule (doc comment + metadata + check), registered in
//! `RULES` in id order, and the runner that executes the selected rules in parallel.
//!
//! Adding a rule: create `src/rules/<snake_case_name>.rs` with `declare_rule!` and an
//! `impl Rule`, add its `mod` line and one entry in `RULES` (see `docs/adding-a-rule.md`).

pub mod docs;
pub mod rule;
pub mod selector;
mod suggest;

mod alias_misconfigured;
mod allow_with_not_action;
mod allow_with_not_principal;
mod ambiguous_encryption_context_key;
mod aws_managed_key_shared_snapshot;
mod condition_type_mismatch;
mod cross_account_access_unscoped;
mod decrypt_not_context_bound;
mod duplicate_key;
mod grant_allows_regrant;
mod grant_outside_trust_boundary;
mod grant_quota_pressure;
mod grant_without_constraints;
mod grant_without_retiring_principal;
mod iam_decrypt_on_all_keys;
mod iam_key_admin_on_all_keys;
mod ineffective_statement;
mod inert_iam_grant;
mod invalid_json;
mod invalid_policy_element;
mod invalid_principal;
mod isolation_violated;
mod key_disabled_in_use;
mod key_pending_deletion;
mod key_policy_lockout;
mod key_usage_and_admin_combined;
mod lockout_safety_check_bypassed;
mod missing_iam_delegation;
mod multi_region_policy_divergence;
mod one_sided_cross_account;
mod orphaned_grant;
mod policy_too_large;
mod public_key_access;
mod replica_not_decrypt_only;
mod replicated_but_unreadable;
mod risky_set_operator;
mod rotation_disabled;
mod rotation_period_exceeds_policy;
mod s3_bucket_key_disabled;
mod service_principal_unscoped;
mod short_deletion_window;
mod transitive_decrypt_access;
mod unknown_action;
mod unknown_condition_key;
mod unreplicated_multi_region_key;
mod unresolved_value;
mod unrestricted_grant_creation;
mod unused_suppression;
mod variable_without_version;

use std::panic::{catch_unwind, AssertUnwindSafe};

use rayon::prelude::*;

pub use rule::{Category, Phase, Rule, RuleContext, RuleInfo, RuleMeta, RuleStatus};
pub use selector::{Selector, SelectorError};

use crate::config::{suppress, Settings, SuppressionReport};
use crate::report::finding::{sort_findings, Finding};
use crate::world::World;

/// Every rule, in id order. One line per rule.
static RULES: &[&dyn Rule] = &[
    &missing_iam_delegation::MissingIamDelegation,
    &key_policy_lockout::KeyPolicyLockout,
    &lockout_safety_check_bypassed::LockoutSafetyCheckBypassed,
    &public_key_access::PublicKeyAccess,
    &cross_account_access_unscoped::CrossAccountAccessUnscoped,
    &decrypt_not_context_bound::DecryptNotContextBound,
    &key_usage_and_admin_combined::KeyUsageAndAdminCombined,
    &allow_with_not_principal::AllowWithNotPrincipal,
    &allow_with_not_action::AllowWithNotAction,
    &unrestricted_grant_creation::UnrestrictedGrantCreation,
    &service_principal_unscoped::ServicePrincipalUnscoped,
    &invalid_json::InvalidJson,
    &duplicate_key::DuplicateKey,
    &invalid_policy_element::InvalidPolicyElement,
    &unknown_action::UnknownAction,
    &unknown_condition_key::UnknownConditionKey,
    &condition_type_mismatch::ConditionTypeMismatch,
    &risky_set_operator::RiskySetOperator,
    &ambiguous_encryption_context_key::AmbiguousEncryptionContextKey,
    &unresolved_value::UnresolvedValue,
    &policy_too_large::PolicyTooLarge,
    &invalid_principal::InvalidPrincipal,
    &ineffective_statement::IneffectiveStatement,
    &variable_without_version::VariableWithoutVersion,
    &inert_iam_grant::InertIamGrant,
    &one_sided_cross_account::OneSidedCrossAccount,
    &iam_decrypt_on_all_keys::IamDecryptOnAllKeys,
    &iam_key_admin_on_all_keys::IamKeyAdminOnAllKeys,
    &transitive_decrypt_access::TransitiveDecryptAccess,
    &grant_without_constraints::GrantWithoutConstraints,
    &grant_allows_regrant::GrantAllowsRegrant,
    &grant_without_retiring_principal::GrantWithoutRetiringPrincipal,
    &orphaned_grant::OrphanedGrant,
    &grant_outside_trust_boundary::GrantOutsideTrustBoundary,
    &grant_quota_pressure::GrantQuotaPressure,
    &rotation_disabled::RotationDisabled,
    &rotation_period_exceeds_policy::RotationPeriodExceedsPolicy,
    &short_deletion_window::ShortDeletionWindow,
    &key_pending_deletion::KeyPendingDeletion,
    &key_disabled_in_use::KeyDisabledInUse,
    &alias_misconfigured::AliasMisconfigured,
    &replicated_but_unreadable::ReplicatedButUnreadable,
    &replica_not_decrypt_only::ReplicaNotDecryptOnly,
    &multi_region_policy_divergence::MultiRegionPolicyDivergence,
    &s3_bucket_key_disabled::S3BucketKeyDisabled,
    &aws_managed_key_shared_snapshot::AwsManagedKeySharedSnapshot,
    &unreplicated_multi_region_key::UnreplicatedMultiRegionKey,
    &isolation_violated::IsolationViolated,
    &unused_suppression::UnusedSuppression,
];

/// Every registered rule, in id order.
#[must_use]
pub fn all() -> &'static [&'static dyn Rule] {
    RULES
}

/// The rule with this id (any case) or name.
#[must_use]
pub fn lookup(id_or_name: &str) -> Option<&'static dyn Rule> {
    RULES.iter().copied().find(|r| r.info().id.eq_ignore_ascii_case(id_or_name) || r.info().name == id_or_name)
}

/// True when a suppression's `rule` selector covers a finding.
#[must_use]
pub fn selector_covers(selector: &str, finding: &Finding) -> bool {
    let Ok(sel) = Selector::parse(selector, RULES) else { return false };
    match lookup(finding.rule) {
        Some(r) => sel.matches(r.info()),
        None => match &sel {
            Selector::All => true,
            Selector::Id(id) => id == finding.rule,
            Selector::Prefix(p) => finding.rule.starts_with(p.as_str()),
            Selector::Name(n) => *n == finding.name,
            Selector::Category(_) => false,
        },
    }
}

/// The result of running rules over a world.
#[derive(Debug, Default)]
pub struct CheckOutput {
    /// Reported findings, sorted, severity overrides applied.
    pub findings: Vec<Finding>,
    /// Which suppressions matched, and the suppressed findings.
    pub suppression: SuppressionReport,
    /// Rules that panicked: lowercase one-line messages.
    pub internal_errors: Vec<String>,
    /// Ids of the rules that ran.
    pub rules_run: Vec<&'static str>,
}

/// Runs `rules` over the world: analysis rules in parallel, then the suppressions of the
/// settings, then rules of [`Phase::AfterSuppression`]. A rule that panics yields an entry
/// in `internal_errors` instead of findings. `on_rule_done` is called once per finished rule
/// (for progress display), from any thread.
#[must_use]
pub fn run(
    world: &World,
    settings: &Settings,
    rules: &[&'static dyn Rule],
    on_rule_done: &(dyn Fn(&'static str) + Sync),
) -> CheckOutput {
    let enabled: Vec<&'static str> = rules.iter().map(|r| r.info().id).collect();
    let (analysis, after): (Vec<&'static dyn Rule>, Vec<&'static dyn Rule>) =
        rules.iter().copied().partition(|r| r.phase() == Phase::Analysis);

    let mut cx = RuleContext::new(world, settings);
    cx.enabled.clone_from(&enabled);
    let (findings, mut internal_errors) = run_phase(&cx, &analysis, on_rule_done);
    let findings = finish(findings, settings);
    let (mut findings, suppression) = suppress::apply(settings, findings, &selector_covers);

    if !after.is_empty() {
        let mut cx = RuleContext::new(world, settings).with_suppressions(&suppression);
        cx.enabled.clone_from(&enabled);
        let (more, errors) = run_phase(&cx, &after, on_rule_done);
        findings.extend(finish(more, settings));
        internal_errors.extend(errors);
    }
    sort_findings(&mut findings);
    CheckOutput { findings, suppression, internal_errors, rules_run: enabled }
}

fn run_phase(
    cx: &RuleContext<'_>,
    rules: &[&'static dyn Rule],
    on_rule_done: &(dyn Fn(&'static str) + Sync),
) -> (Vec<Finding>, Vec<String>) {
    let (keyed, whole): (Vec<&'static dyn Rule>, Vec<&'static dyn Rule>) = rules.iter().partition(|r| r.by_key());
    let mut findings = Vec::new();
    let mut errors = Vec::new();
    let mut collect = |results: Vec<Result<Vec<Finding>, String>>| {
        for r in results {
            match r {
                Ok(f) => findings.extend(f),
                Err(e) if !errors.contains(&e) => errors.push(e),
                Err(_) => {}
            }
        }
    };
    // Rules that look at keys one by one run as small tasks over a few keys each, in parallel:
    // a task's who-can answers are shared by its rules and dropped when it ends, so memory
    // stays bounded on large organizations. The other rules run alongside.
    let keyed_pass = || {
        let n = cx.world.keys.len();
        let mut chunks: Vec<std::ops::Range<usize>> =
            (0..n).step_by(KEY_CHUNK).map(|s| s..(s + KEY_CHUNK).min(n)).collect();
        if chunks.is_empty() {
            chunks.push(0..0);
        }
        let results: Vec<Result<Vec<Finding>, String>> = chunks
            .par_iter()
            .flat_map_iter(|range| {
                cx.with_keys(range.clone(), || keyed.iter().map(|r| check_one(cx, *r, None)).collect::<Vec<_>>())
            })
            .collect();
        for r in &keyed {
            on_rule_done(r.info().id);
        }
        results
    };
    let (a, b) = rayon::join(|| whole.par_iter().map(|r| check_one(cx, *r, Some(on_rule_done))).collect(), keyed_pass);
    collect(a);
    collect(b);
    (findings, errors)
}

/// Keys per task for the rules of [`Rule::by_key`].
const KEY_CHUNK: usize = 8;

/// Runs one rule; a panic becomes an internal error.
fn check_one(
    cx: &RuleContext<'_>,
    r: &'static dyn Rule,
    on_rule_done: Option<&(dyn Fn(&'static str) + Sync)>,
) -> Result<Vec<Finding>, String> {
    let info = r.info();
    let result = catch_unwind(AssertUnwindSafe(|| {
        let mut out = Vec::new();
        r.check(cx, &mut out);
        out
    }))
    .map_err(|payload| {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        format!("internal error in rule `{}` (`{}`): {}", info.id, info.name, what.replace('\n', " "))
    });
    if let Some(done) = on_rule_done {
        done(info.id);
    }
    result
}

fn finish(mut findings: Vec<Finding>, settings: &Settings) -> Vec<Finding> {
    for f in &mut findings {
        if let Some(sev) = settings.severity_for(f.rule, f.name) {
            f.severity = sev;
        }
        f.ensure_fingerprint();
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_is_in_id_order_with_unique_ids_and_names() {
        let ids: Vec<&str> = all().iter().map(|r| r.info().id).collect();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(ids, sorted);
        let mut names: Vec<&str> = all().iter().map(|r| r.info().name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ids.len());
    }

    struct Panicky;
    impl RuleMeta for Panicky {
        fn info(&self) -> &'static RuleInfo {
            &invalid_json::InvalidJson::INFO
        }
    }
    impl Rule for Panicky {
        fn check(&self, _: &RuleContext<'_>, _: &mut Vec<Finding>) {
            panic!("boom");
        }
    }
    static PANICKY: Panicky = Panicky;

    #[test]
    fn a_panicking_rule_becomes_an_internal_error() {
        let world = World::default();
        let out = run(&world, &Settings::default(), &[&PANICKY], &|_| {});
        assert!(out.findings.is_empty());
        assert_eq!(out.internal_errors.len(), 1);
        assert!(out.internal_errors[0].contains("boom"), "{:?}", out.internal_errors);
    }
}
