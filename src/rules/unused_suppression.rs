use super::rule::{declare_rule, Phase, Rule, RuleContext, RuleMeta as _};
use super::selector::{self, Selector};
use crate::config::Ignore;
use crate::report::finding::Finding;

declare_rule! {
    /// ## What it does
    /// Flags an `[[ignore]]` entry of `keyproof.toml` that matched no finding in this run, and
    /// a fingerprint of the `--baseline` file that matched no finding. An `[[ignore]]` whose
    /// rules did not run (not selected) is not reported, and baseline entries are only
    /// reported when every default rule ran.
    ///
    /// ## Why is this bad?
    /// A suppression outlives the problem it was written for: once the policy is fixed, the
    /// entry stays and silently hides the next finding that happens to match it (a broad
    /// `path` glob, a rule prefix). Removing stale entries keeps every accepted risk visible
    /// and reviewed.
    ///
    /// ## Example
    /// With this `keyproof.toml`, when no input gives a `KP108` finding:
    /// ```toml
    /// [[ignore]]
    /// rule = "KP108"
    /// path = "legacy/**"
    /// reason = "legacy key policy, being replaced"
    /// ```
    /// for example with this only input:
    /// ```json no-run
    /// {
    ///   "Version": "2012-10-17",
    ///   "Statement": [
    ///     {
    ///       "Sid": "EnableIAMPolicies",
    ///       "Effect": "Allow",
    ///       "Principal": { "AWS": "arn:aws:iam::111122223333:root" },
    ///       "Action": "kms:*",
    ///       "Resource": "*"
    ///     }
    ///   ]
    /// }
    /// ```
    ///
    /// Use instead: remove the `[[ignore]]` entry. The input then gives no finding of this rule:
    /// ```json
    /// {
    ///   "Version": "2012-10-17",
    ///   "Statement": [
    ///     {
    ///       "Sid": "EnableIAMPolicies",
    ///       "Effect": "Allow",
    ///       "Principal": { "AWS": "arn:aws:iam::111122223333:root" },
    ///       "Action": "kms:*",
    ///       "Resource": "*"
    ///     }
    ///   ]
    /// }
    /// ```
    ///
    /// ## Known limitations
    /// An entry is judged on the inputs of this run: an `[[ignore]]` whose `path` names files
    /// that were not given is reported. Findings of this rule cannot be suppressed by the
    /// baseline; an `[[ignore]]` that covers this rule suppresses them.
    ///
    /// ## References
    /// - [keyproof configuration: `[[ignore]]` and baselines](../configuration.md)
    /// - [ruff: unused-noqa (RUF100)](https://docs.astral.sh/ruff/rules/unused-noqa/)
    /// - [ESLint: `--report-unused-disable-directives`](https://eslint.org/docs/latest/use/command-line-interface#--report-unused-disable-directives)
    pub UnusedSuppression {
        id: "KP602",
        name: "unused-suppression",
        category: Assertion,
        severity: Warning,
        status: Stable { since: "0.1.0" },
    }
}

impl Rule for UnusedSuppression {
    fn phase(&self) -> Phase {
        Phase::AfterSuppression
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        let Some(report) = cx.suppressions() else { return };
        let settings = cx.settings;
        let mut found = Vec::new();
        for i in report.unused_ignores() {
            let Some(ig) = settings.ignores.get(i) else { continue };
            if !covers_a_rule_that_ran(cx, &ig.rule) {
                continue;
            }
            let message = format!("`[[ignore]]` of `{}`{} matches no finding", ig.rule, scope(ig));
            let pointer = format!("/ignore/{i}");
            let f = match settings.config_source {
                Some(source) => cx.finding_in(self, source, ig.span, pointer, message),
                None => {
                    let mut f = Finding::new(self.info().id, self.info().name, self.info().severity, message);
                    f.pointer = pointer;
                    f
                }
            };
            found.push(f.with_help(
                "remove the entry, or fix its `rule`, `path` or `resource` so that it matches the finding it was written for",
            ));
        }
        if let Some(baseline) = settings.baseline.as_ref().filter(|_| every_default_rule_ran(cx)) {
            for fp in report.unused_baseline() {
                let short = fp.get(..12).unwrap_or(fp);
                let message = format!("baseline entry `{short}` of `{}` matches no finding", baseline.path);
                let mut f = Finding::new(self.info().id, self.info().name, self.info().severity, message)
                    .with_resource(Some(baseline.path.clone()))
                    .with_help("rewrite the baseline with `--write-baseline` to drop entries of fixed findings");
                f.pointer = format!("/fingerprints/{fp}");
                found.push(f);
            }
        }
        // The runner applies suppressions before this rule runs: apply the `[[ignore]]`
        // entries that cover this rule here.
        found.retain(|f| !settings.ignores.iter().any(|ig| ignores(ig, f)));
        out.extend(found);
    }
}

/// " on `legacy/**`" / " for `arn…`": what else limits the entry.
fn scope(ig: &Ignore) -> String {
    let path = ig.path.as_ref().map(|p| format!(" on `{}`", p.as_str())).unwrap_or_default();
    let resource = ig.resource.as_ref().map(|r| format!(" for `{r}`")).unwrap_or_default();
    format!("{path}{resource}")
}

/// True when the selector covers some rule of this run (an entry for rules that did not run
/// could not match anything).
fn covers_a_rule_that_ran(cx: &RuleContext<'_>, rule: &str) -> bool {
    let Ok(sel) = Selector::parse(rule, super::all()) else { return false };
    cx.enabled.iter().filter_map(|id| super::lookup(id)).any(|r| sel.matches(r.info()))
}

fn every_default_rule_ran(cx: &RuleContext<'_>) -> bool {
    selector::resolve(super::all(), &[], &[]).iter().all(|r| cx.enabled.contains(&r.info().id))
}

/// The `[[ignore]]` matching of the suppression step, for findings of this rule.
fn ignores(ig: &Ignore, f: &Finding) -> bool {
    let file = f.location.as_ref().map_or("", |l| l.file.trim_start_matches("./"));
    ig.path.as_ref().is_none_or(|p| p.matches(file))
        && ig.resource.as_ref().is_none_or(|r| f.resource.as_deref() == Some(r.as_str()))
        && super::selector_covers(&ig.rule, f)
}

#[cfg(test)]
mod tests {
    use crate::config::{Baseline, Ignore, Settings};
    use crate::ingest::{load_texts, LoadOptions};
    use crate::rules::{all, lookup, run, selector};
    use crate::source::Span;

    const POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}"#;

    fn ignore(rule: &str) -> Ignore {
        Ignore { rule: rule.into(), reason: "r".into(), path: None, resource: None, span: Span::default() }
    }

    fn messages(settings: &Settings, rules: &[&'static dyn crate::rules::Rule]) -> Vec<String> {
        let world = load_texts(&[("p.json".into(), POLICY.into())], &LoadOptions::default());
        let out = run(&world, settings, rules, &|_| {});
        out.findings.iter().filter(|f| f.rule == "KP602").map(|f| f.message.clone()).collect()
    }

    fn only(ids: &[&str]) -> Vec<&'static dyn crate::rules::Rule> {
        ids.iter().filter_map(|id| lookup(id)).collect()
    }

    #[test]
    fn unused_entries_of_rules_that_ran() {
        let settings = Settings { ignores: vec![ignore("KP108")], ..Settings::default() };
        assert_eq!(messages(&settings, &only(&["KP108", "KP602"])), ["`[[ignore]]` of `KP108` matches no finding"]);
        // KP108 did not run: the entry could not have matched.
        assert!(messages(&settings, &only(&["KP602"])).is_empty());
        // An entry for an id this version does not have stays valid and is not reported.
        let settings = Settings { ignores: vec![ignore("KP999")], ..Settings::default() };
        assert!(messages(&settings, &selector::resolve(all(), &[], &[])).is_empty());
    }

    #[test]
    fn unused_baseline_entries_only_when_every_default_rule_ran() {
        let fp = "f".repeat(64);
        let baseline = Baseline { path: "baseline.json".into(), fingerprints: vec![fp] };
        let settings = Settings { baseline: Some(baseline), ..Settings::default() };
        assert_eq!(
            messages(&settings, &selector::resolve(all(), &[], &[])),
            ["baseline entry `ffffffffffff` of `baseline.json` matches no finding"]
        );
        assert!(messages(&settings, &only(&["KP108", "KP602"])).is_empty());
    }

    #[test]
    fn an_ignore_of_this_rule_suppresses_its_findings() {
        let settings = Settings { ignores: vec![ignore("KP108"), ignore("unused-suppression")], ..Settings::default() };
        assert!(messages(&settings, &only(&["KP108", "KP602"])).is_empty());
    }
}
