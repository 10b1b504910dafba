use super::public_key_access::{key_policy, other_possible_owners, undecidable_policy};
use super::rule::{declare_rule, Rule, RuleContext};
use crate::catalog::{catalog, ResourceKind};
use crate::eval::authorize::{statement_applies, StatementQuery};
use crate::eval::context::Context;
use crate::eval::principal::{Caller, PrincipalMatch};
use crate::policy::model::{DocKind, Effect};
use crate::report::finding::Finding;

declare_rule! {
    /// ## What it does
    /// Flags a key policy in which no `Allow` statement applies to the key's own account as a
    /// whole (`arn:aws:iam::ACCT:root` or `ACCT`), for any KMS action, under any conditions.
    /// Without such a statement IAM policies of the account can never grant access to the key.
    ///
    /// The rule asks the evaluator, for every `Allow` statement and every KMS action on the
    /// key, whether the statement applies to the account's root user as an account-level
    /// match (delegation to IAM), conditions aside. A statement that delegates only some
    /// actions or only under conditions is partial delegation and gives no finding. The message
    /// says whether identity policies in the inputs try to allow KMS actions on the key anyway
    /// (those grants have no effect; see `KP201`).
    ///
    /// Keys managed by AWS, statements published on their own (the rest of the policy is not
    /// in the inputs), policies AWS would reject (`KP152`, `KP160`) and policies holding values
    /// unknown until deployment (`KP158`) are not judged. When the key's account is not in the inputs (a loose policy naming several
    /// accounts), any account the policy names may own the key, and the rule fires only when
    /// the policy delegates to none of them.
    ///
    /// ## Why is this bad?
    /// Access can then only be changed by editing the key policy itself: IAM roles and users of
    /// the account, including administrators, get no access from their IAM policies, and the
    /// usual IAM tooling (permission sets, SCP-governed roles) has no effect on the key. It is
    /// the classic cause of "AccessDenied although IAM allows it", and a step towards a
    /// lockout (`KP102`) when the named principals are deleted.
    ///
    /// ## Example
    /// ```json
    /// {
    ///   "Version": "2012-10-17",
    ///   "Statement": [
    ///     {
    ///       "Sid": "KeyAdmins",
    ///       "Effect": "Allow",
    ///       "Principal": { "AWS": "arn:aws:iam::111122223333:role/KeyAdmin" },
    ///       "Action": "kms:*",
    ///       "Resource": "*"
    ///     }
    ///   ]
    /// }
    /// ```
    ///
    /// Use instead:
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
    ///     },
    ///     {
    ///       "Sid": "KeyAdmins",
    ///       "Effect": "Allow",
    ///       "Principal": { "AWS": "arn:aws:iam::111122223333:role/KeyAdmin" },
    ///       "Action": "kms:*",
    ///       "Resource": "*"
    ///     }
    ///   ]
    /// }
    /// ```
    ///
    /// ## References
    /// - [Default key policy: allows access to the AWS account and enables IAM policies](https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-root-enable-iam)
    /// - [Using IAM policies with AWS KMS](https://docs.aws.amazon.com/kms/latest/developerguide/iam-policies.html)
    /// - [Troubleshooting key access](https://docs.aws.amazon.com/kms/latest/developerguide/policy-evaluation.html)
    pub MissingIamDelegation {
        id: "KP101",
        name: "missing-iam-delegation",
        category: Correctness,
        severity: Warning,
        status: Stable { since: "0.1.0" },
    }
}

impl Rule for MissingIamDelegation {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        let actions: Vec<&str> = catalog()
            .kms_actions()
            .iter()
            .filter(|a| a.resource != ResourceKind::None && !a.internal)
            .map(|a| a.name.as_str())
            .collect();
        for key in &cx.world.keys {
            let Some(pid) = key_policy(cx, key) else { continue };
            if key.is_aws_managed() || undecidable_policy(cx, pid) {
                continue;
            }
            let Some(entry) = cx.world.policy(pid) else { continue };
            // When the key's account was assumed, any account the policy names may own the key:
            // report only when the policy delegates to none of them.
            let owners = std::iter::once(key.account.clone()).chain(other_possible_owners(cx, key, pid));
            let none = Context::new();
            let vars = entry.policy.variables_enabled();
            let delegates = |account: String| {
                let root = Caller::Root { account };
                entry.policy.statements.iter().filter(|s| s.effect == Effect::Allow).any(|st| {
                    actions.iter().any(|action| {
                        let q = StatementQuery::new(&root, action, &key.arn, true);
                        statement_applies(cx.world, st, &q, &none, vars, &|_| false) == PrincipalMatch::Account
                    })
                })
            };
            if owners.into_iter().any(delegates) {
                continue;
            }
            let message = format!(
                "key policy of `{}` does not delegate to account `{}`: IAM policies of the account cannot grant access to the key ({})",
                key.arn,
                key.account,
                iam_attempts(cx, &key.arn, &key.account, &actions)
            );
            let source = entry.policy.source;
            let (span, pointer) = cx
                .member_in(source, entry.policy.span, "Statement")
                .unwrap_or_else(|| (entry.policy.span, entry.policy.pointer.clone()));
            out.push(
                cx.finding(self, pid, span, pointer, message)
                    .with_resource(Some(key.arn.clone()))
                    .with_help(format!(
                        "add a statement that allows `arn:aws:iam::{}:root` the KMS actions IAM policies should be able to grant",
                        key.account
                    )),
            );
        }
    }
}

/// Whether identity policies of the account in the inputs allow KMS actions on the key
/// (conditions aside), as a parenthesised remark.
fn iam_attempts(cx: &RuleContext<'_>, key_arn: &str, account: &str, actions: &[&str]) -> String {
    let anyone = Caller::Root { account: account.to_string() };
    let none = Context::new();
    let mut seen = 0usize;
    let mut trying = 0usize;
    for (_, e) in cx.policies() {
        if e.kind != DocKind::Identity || e.account.as_deref().is_some_and(|a| a != account) {
            continue;
        }
        seen += 1;
        let vars = e.policy.variables_enabled();
        let tries = e.policy.statements.iter().filter(|s| s.effect == Effect::Allow).any(|st| {
            actions.iter().any(|action| {
                let q = StatementQuery::new(&anyone, action, key_arn, false);
                statement_applies(cx.world, st, &q, &none, vars, &|_| false) != PrincipalMatch::None
            })
        });
        if tries {
            trying += 1;
        }
    }
    let complete = cx.world.accounts.get(account).is_some_and(|a| a.iam_complete);
    match (trying, seen, complete) {
        (0, 0, false) => format!("identity policies of `{account}` are not in the inputs"),
        (0, _, _) => "no identity policy in the inputs tries to".to_string(),
        (1, _, _) => "`1` identity policy in the inputs allows KMS actions on it, with no effect".to_string(),
        (n, _, _) => format!("`{n}` identity policies in the inputs allow KMS actions on it, with no effect"),
    }
}
