use std::collections::BTreeSet;

use super::iam_decrypt_on_all_keys::{
    action_list, describes_key, distinct, identity_applies_in, key_context, probe_caller,
};
use super::inert_iam_grant::{key_actions, one_sided_allows, Holder, Holders, Side};
use super::rule::{declare_rule, Rule, RuleContext};
use crate::eval::authorize::{statement_applies, StatementQuery};
use crate::eval::context::Context;
use crate::eval::principal::{Caller, PrincipalMatch};
use crate::policy::model::{Effect, Statement};
use crate::report::finding::Finding;
use crate::world::{Key, PolicyEntry, PolicySlot, World};

declare_rule! {
    /// ## What it does
    /// Flags cross-account access to a key that is configured on one side only: the key policy
    /// trusts an account none of whose principals may use the key, or an identity policy names a
    /// key whose policy does not trust the principal's account.
    ///
    /// In detail:
    ///
    /// - the key policy trusts a foreign account B (names the account or one of its principals
    ///   for a cross-account action), the IAM of B is in the inputs (a complete
    ///   `get-account-authorization-details` listing), and no principal of B has an identity
    ///   policy statement that allows any of those actions on the key; or
    /// - a principal of account B has an identity policy statement that allows a cross-account
    ///   KMS action on a specific key of another account (the statement names the key, or selects
    ///   it by tag or alias), and no statement of the key policy applies to B or that principal
    ///   at all, conditions aside, so the principal cannot use the key.
    ///
    /// Both questions are asked of the evaluator: which key-policy statements apply to a
    /// principal of B (and not to an unrelated account), and which identity statements apply to
    /// the key. Statements that apply to every key (`"Resource": "*"`) do not count as naming the
    /// key in the second case.
    ///
    /// ## Why is this bad?
    /// Cross-account use of a KMS key needs both sides: the key policy must trust the other
    /// account, and an identity policy in that account must allow the action on the key. With
    /// only one side, the access fails with `AccessDeniedException`, or a trust that nobody uses
    /// stays in the key policy and widens it for nothing: any principal B later allows gets the
    /// key.
    ///
    /// ## Example
    /// ```json
    /// {
    ///   "format_version": "1.2",
    ///   "terraform_version": "1.9.5",
    ///   "planned_values": {
    ///     "root_module": {
    ///       "resources": [
    ///         {
    ///           "address": "aws_kms_key.orders",
    ///           "type": "aws_kms_key",
    ///           "name": "orders",
    ///           "values": {
    ///             "arn": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    ///             "policy": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"EnableIAMPolicies\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::111122223333:root\"},\"Action\":\"kms:*\",\"Resource\":\"*\"}]}"
    ///           }
    ///         },
    ///         {
    ///           "address": "aws_iam_role.analytics",
    ///           "type": "aws_iam_role",
    ///           "name": "analytics",
    ///           "values": {
    ///             "arn": "arn:aws:iam::444455556666:role/Analytics",
    ///             "name": "Analytics",
    ///             "assume_role_policy": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"glue.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}]}",
    ///             "inline_policy": [
    ///               {
    ///                 "name": "read-orders-key",
    ///                 "policy": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"ReadOrders\",\"Effect\":\"Allow\",\"Action\":\"kms:Decrypt\",\"Resource\":\"arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab\"}]}"
    ///               }
    ///             ]
    ///           }
    ///         }
    ///       ]
    ///     }
    ///   }
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```json
    /// {
    ///   "format_version": "1.2",
    ///   "terraform_version": "1.9.5",
    ///   "planned_values": {
    ///     "root_module": {
    ///       "resources": [
    ///         {
    ///           "address": "aws_kms_key.orders",
    ///           "type": "aws_kms_key",
    ///           "name": "orders",
    ///           "values": {
    ///             "arn": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    ///             "policy": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"EnableIAMPolicies\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::111122223333:root\"},\"Action\":\"kms:*\",\"Resource\":\"*\"},{\"Sid\":\"AnalyticsAccount\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::444455556666:root\"},\"Action\":[\"kms:Decrypt\",\"kms:DescribeKey\"],\"Resource\":\"*\"}]}"
    ///           }
    ///         },
    ///         {
    ///           "address": "aws_iam_role.analytics",
    ///           "type": "aws_iam_role",
    ///           "name": "analytics",
    ///           "values": {
    ///             "arn": "arn:aws:iam::444455556666:role/Analytics",
    ///             "name": "Analytics",
    ///             "assume_role_policy": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"glue.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}]}",
    ///             "inline_policy": [
    ///               {
    ///                 "name": "read-orders-key",
    ///                 "policy": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"ReadOrders\",\"Effect\":\"Allow\",\"Action\":\"kms:Decrypt\",\"Resource\":\"arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab\"}]}"
    ///               }
    ///             ]
    ///           }
    ///         }
    ///       ]
    ///     }
    ///   }
    /// }
    /// ```
    ///
    /// ## Known limitations
    /// The first case is decided only for accounts whose IAM is completely in the inputs; a
    /// statement that trusts `"*"` and narrows the caller's account with a condition is not
    /// counted as trusting that account. Identity policies that are unknown (Terraform values
    /// known only after apply, managed policies not in the inputs) leave the question open and
    /// nothing is reported.
    ///
    /// ## References
    /// - [Allowing users in other accounts to use a KMS key](https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html)
    /// - [Cross-account access: both the key policy and IAM policies](https://docs.aws.amazon.com/kms/latest/developerguide/cross-account-console.html)
    pub OneSidedCrossAccount {
        id: "KP202",
        name: "one-sided-cross-account",
        category: Correctness,
        severity: Warning,
        status: Stable { since: "0.1.0" },
    }
}

impl Rule for OneSidedCrossAccount {
    fn by_key(&self) -> bool {
        true
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        trusted_but_unused(self, cx, out);
        for f in one_sided_allows(cx, Side::CrossAccount) {
            let key = f.key;
            let account = f.callers.first().and_then(Caller::account).unwrap_or_default().to_string();
            let message = format!(
                "{} allows {} on `{}` of account `{}`, but the key policy does not trust account `{account}`: the allow has no effect",
                f.subject(),
                action_list(&f.actions),
                key.arn,
                key.account,
            );
            out.push(f.into_finding(
                self,
                cx,
                message,
                "add a key-policy statement that allows this account (or this principal) the actions, or remove the identity statement",
            ));
        }
    }
}

/// First case: the key policy trusts a foreign account whose complete IAM allows nobody the key.
fn trusted_but_unused(rule: &OneSidedCrossAccount, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
    let world = cx.world;
    let all = cx.shared(|| Holders::new(world));
    let reach = crate::solve::reach::reach(world);
    let actions = key_actions(true);
    let outsider = probe_caller(crate::solve::OUTSIDE_ACCOUNT);
    for (_, key) in cx.keys() {
        let Some(PolicySlot::Known(kp_id)) = &key.policy else { continue };
        let Some(kp) = world.policy(*kp_id) else { continue };
        // Per Allow statement, the actions it could grant that it does not grant to a principal
        // of no account of the world; and which accounts it can single out (those it names, or
        // any when it names `*` or uses `NotPrincipal`).
        let outsider_ctx = key_context(world, key, &outsider);
        let mut candidates: Vec<(&Statement, Vec<&'static str>, bool)> = Vec::new();
        let mut named: BTreeSet<&str> = BTreeSet::new();
        let mut any_account = false;
        for st in kp.policy.statements.iter().filter(|s| s.effect == Effect::Allow && !s.broken) {
            let acts: Vec<&'static str> = actions
                .iter()
                .copied()
                .filter(|a| {
                    crate::eval::authorize::action_applies(st, a)
                        && !applies(world, key, kp, st, &outsider, a, &outsider_ctx)
                })
                .collect();
            if acts.is_empty() {
                continue;
            }
            let Some(p) = &st.principal else { continue };
            match p.named_accounts() {
                Some(accounts) => named.extend(accounts),
                None => any_account = true,
            }
            // Principal-specific statements must be tried with every principal of the account.
            let specific = p.entries.iter().any(|e| {
                !matches!(
                    e.principal,
                    crate::policy::model::PrincipalRef::Anyone | crate::policy::model::PrincipalRef::Account(_)
                )
            }) || st.conditions.iter().any(|c| principal_specific(&c.key_lc));
            candidates.push((st, acts, specific));
        }
        if candidates.is_empty() {
            continue;
        }
        for account in world.accounts.values().filter(|a| a.iam_complete && a.id != key.account) {
            if !any_account && !named.contains(account.id.as_str()) {
                continue;
            }
            let principals: Vec<&Holder> = all.of_account(&account.id).collect();
            if principals.iter().any(|h| !h.complete) {
                continue;
            }
            let probe = probe_caller(&account.id);
            let probe_ctx = key_context(world, key, &probe);
            let mut member_contexts: Option<Vec<(Caller, Context)>> = None;
            let mut trusting: Option<&Statement> = None;
            let mut trusted: BTreeSet<&'static str> = BTreeSet::new();
            for (st, acts, specific) in &candidates {
                for &a in acts {
                    let mut of_account = applies(world, key, kp, st, &probe, a, &probe_ctx);
                    if !of_account && *specific {
                        let members = member_contexts.get_or_insert_with(|| {
                            principals
                                .iter()
                                .filter_map(|h| h.caller.clone())
                                .map(|c| {
                                    let ctx = key_context(world, key, &c);
                                    (c, ctx)
                                })
                                .collect()
                        });
                        of_account = members.iter().any(|(c, ctx)| applies(world, key, kp, st, c, a, ctx));
                    }
                    if of_account {
                        trusted.insert(a);
                        trusting.get_or_insert(st);
                    }
                }
            }
            let Some(st) = trusting else { continue };
            let used = principals.iter().any(|h| {
                let Some(caller) = &h.caller else { return false };
                if let Some(w) = h.who {
                    if !trusted.iter().any(|a| reach.identity_may_allow(world, w, a, &key.arn)) {
                        return false;
                    }
                }
                let ctx = key_context(world, key, caller);
                h.docs.iter().filter_map(|pid| world.policy(*pid)).any(|e| {
                    let vars = e.policy.variables_enabled();
                    e.policy.statements.iter().filter(|s| s.effect == Effect::Allow && !s.broken).any(|s| {
                        trusted
                            .iter()
                            .any(|a| identity_applies_in(world, s, vars, caller, a, &key.arn, &ctx, &describes_key))
                    })
                })
            });
            if used {
                continue;
            }
            let list: Vec<&str> = actions.iter().copied().filter(|a| trusted.contains(a)).collect();
            let message = format!(
                "key `{}` trusts account `{}` for {}, but no identity policy of a principal of `{}` allows any of them on the key",
                key.arn,
                account.id,
                action_list(&list),
                account.id
            );
            // Point at the principal entry that names the account, when there is one.
            let named = st
                .principal
                .as_ref()
                .and_then(|p| p.entries.iter().find(|e| e.principal.account() == Some(account.id.as_str())));
            let span = named.map_or(st.span, |e| e.span);
            let pointer = cx.pointer_at(kp.policy.source, span).unwrap_or_else(|| st.pointer.clone());
            let f = cx
                .finding(rule, *kp_id, span, pointer, message)
                .with_resource(Some(key.arn.clone()))
                .with_help(format!(
                    "allow the key in an identity policy of `{}` (naming the key ARN), or remove the trust from the key policy",
                    account.id
                ));
            out.push(distinct(f, &account.id));
        }
    }
}

/// Does a key-policy statement apply to the caller for the action, conditions aside?
/// Condition keys whose value differs between principals of one account.
fn principal_specific(key_lc: &str) -> bool {
    key_lc.starts_with("aws:principal") && key_lc != "aws:principalorgid" && key_lc != "aws:principalaccount"
        || key_lc.starts_with("aws:principalorgpaths")
        || matches!(key_lc, "aws:userid" | "aws:username" | "aws:sourceidentity" | "aws:federatedprovider")
}

fn applies(
    world: &World,
    key: &Key,
    kp: &PolicyEntry,
    st: &Statement,
    caller: &Caller,
    action: &str,
    ctx: &Context,
) -> bool {
    let q = StatementQuery::new(caller, action, &key.arn, true);
    statement_applies(world, st, &q, ctx, kp.policy.variables_enabled(), &|_| false) != PrincipalMatch::None
}
