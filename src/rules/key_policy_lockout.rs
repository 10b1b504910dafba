use super::public_key_access::{delegates_policy_management, key_policy, other_possible_owners, undecidable_policy};
use super::rule::{declare_rule, Rule, RuleContext};
use crate::report::finding::Finding;

declare_rule! {
    /// ## What it does
    /// Flags a key that no principal can change the policy of: nobody in the inputs, by any
    /// path (the key policy, IAM delegation, role chains, the account root user when the
    /// policy delegates to the account), may call `kms:PutKeyPolicy` on it. Principals that
    /// no longer exist do not count: a bare unique id (`AROA…`) matches nobody, and a role
    /// missing from a complete IAM snapshot was deleted.
    ///
    /// The rule asks the solver who can perform `kms:PutKeyPolicy` on the key and fires when
    /// the answer is empty. Keys managed by AWS, statements published on their own, policies
    /// AWS would reject (`KP152`, `KP160`) and key policies holding values unknown until
    /// deployment (`KP158`) are not judged. When the
    /// key's account is not in the inputs and the policy lets another account it names manage
    /// the policy, that account may own the key, and nothing is reported.
    ///
    /// ## Why is this bad?
    /// Nobody can fix the key's policy any more. KMS refuses such a policy unless the lockout
    /// safety check is bypassed (`KP103`), but a policy that was valid can become one when its
    /// administrators are deleted. The key can then only be recovered through AWS Support, and
    /// access to it cannot be granted or revoked in the meantime.
    ///
    /// ## Example
    /// ```json
    /// {
    ///   "Version": "2012-10-17",
    ///   "Statement": [
    ///     {
    ///       "Sid": "AppUsesTheKey",
    ///       "Effect": "Allow",
    ///       "Principal": { "AWS": "arn:aws:iam::111122223333:role/OrdersApp" },
    ///       "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*"],
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
    ///       "Sid": "AppUsesTheKey",
    ///       "Effect": "Allow",
    ///       "Principal": { "AWS": "arn:aws:iam::111122223333:role/OrdersApp" },
    ///       "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*"],
    ///       "Resource": "*"
    ///     }
    ///   ]
    /// }
    /// ```
    ///
    /// ## References
    /// - [Default key policy: allows access to the AWS account](https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-root-enable-iam)
    /// - [PutKeyPolicy: the policy lockout safety check](https://docs.aws.amazon.com/kms/latest/APIReference/API_PutKeyPolicy.html#KMS-PutKeyPolicy-request-BypassPolicyLockoutSafetyCheck)
    /// - [Troubleshooting key access: unmanageable keys](https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-overview.html)
    pub KeyPolicyLockout {
        id: "KP102",
        name: "key-policy-lockout",
        category: Resilience,
        severity: Error,
        status: Stable { since: "0.1.0" },
    }
}

impl Rule for KeyPolicyLockout {
    fn by_key(&self) -> bool {
        true
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        for (ki, key) in cx.keys() {
            let Some(pid) = key_policy(cx, key) else { continue };
            if key.is_aws_managed() || undecidable_policy(cx, pid) {
                continue;
            }
            // Direct access is enough: a role chain or an escalation ends in a principal with
            // direct access, so the full answer is empty exactly when the direct one is.
            if !cx.who_can(ki, "kms:PutKeyPolicy", true).principals.is_empty() {
                continue;
            }
            let Some(entry) = cx.world.policy(pid) else { continue };
            // When the key's account was assumed, another account the policy names may own it;
            // if the policy lets that account's IAM manage the policy, nothing can be concluded.
            let manageable_elsewhere = other_possible_owners(cx, key, pid)
                .iter()
                .any(|account| delegates_policy_management(cx, key, pid, account));
            if manageable_elsewhere {
                continue;
            }
            let (span, pointer) = cx
                .member_in(entry.policy.source, entry.policy.span, "Statement")
                .unwrap_or_else(|| (entry.policy.span, entry.policy.pointer.clone()));
            let message = format!(
                "no principal can change the key policy of `{}` (`kms:PutKeyPolicy`): only AWS Support can recover the key",
                key.arn
            );
            out.push(cx.finding(self, pid, span, pointer, message).with_resource(Some(key.arn.clone())).with_help(
                format!(
                    "KMS accepts such a policy only with the lockout safety check bypassed; allow `kms:PutKeyPolicy` to `arn:aws:iam::{}:root` (delegation to IAM) or to an existing administrator role",
                    key.account
                ),
            ));
        }
    }
}
