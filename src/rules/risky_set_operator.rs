use super::rule::{declare_rule, Rule, RuleContext};
use crate::catalog::catalog;
use crate::policy::model::{Effect, SetQualifier};
use crate::report::finding::{Finding, Severity};

declare_rule! {
    /// ## What it does
    /// Flags `ForAllValues` on a single-valued context key, and an `Allow` statement whose
    /// only conditions use `ForAllValues`. For `kms:EncryptionContext:*` and `aws:RequestTag/*`
    /// keys the finding is an error, because KMS rejects the policy.
    ///
    /// ## Why is this bad?
    /// `ForAllValues` is true when every value of the request key is in the list, and therefore
    /// also when the key is absent. An `Allow` guarded only by it admits requests that carry no
    /// encryption context or no tags at all. On a single-valued key the operator adds nothing
    /// but that hole; KMS refuses `ForAllValues` with `kms:EncryptionContext:*` and
    /// `aws:RequestTag/*` (`OverlyPermissiveCondition`).
    ///
    /// ## Example
    /// ```json
    /// {
    ///   "Version": "2012-10-17",
    ///   "Statement": [
    ///     {
    ///       "Sid": "TenantDecrypt",
    ///       "Effect": "Allow",
    ///       "Principal": { "AWS": "arn:aws:iam::111122223333:role/app" },
    ///       "Action": "kms:Decrypt",
    ///       "Resource": "*",
    ///       "Condition": {
    ///         "ForAllValues:StringEquals": { "kms:EncryptionContext:tenant": "acme" },
    ///         "StringEquals": { "kms:CallerAccount": "111122223333" }
    ///       }
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
    ///       "Sid": "TenantDecrypt",
    ///       "Effect": "Allow",
    ///       "Principal": { "AWS": "arn:aws:iam::111122223333:role/app" },
    ///       "Action": "kms:Decrypt",
    ///       "Resource": "*",
    ///       "Condition": {
    ///         "StringEquals": { "kms:EncryptionContext:tenant": "acme", "kms:CallerAccount": "111122223333" }
    ///       }
    ///     }
    ///   ]
    /// }
    /// ```
    ///
    /// ## References
    /// - [AWS KMS condition keys: using set operators](https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#set-operators)
    /// - [Single-valued vs. multivalued context keys](https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html)
    pub RiskySetOperator {
        id: "KP156",
        name: "risky-set-operator",
        category: Exposure,
        severity: Warning,
        status: Stable { since: "0.1.0" },
    }
}

impl Rule for RiskySetOperator {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        for (pid, entry, st) in cx.statements() {
            let for_all =
                |c: &crate::policy::model::Condition| c.op.is_some_and(|o| o.set == Some(SetQualifier::ForAllValues));
            for c in st.conditions.iter().filter(|c| for_all(c)) {
                let Some(info) = catalog().condition_key(&c.key.value) else { continue };
                if info.multi {
                    continue;
                }
                let key = &c.key.value;
                let rejected =
                    c.key_lc.starts_with("kms:encryptioncontext:") || c.key_lc.starts_with("aws:requesttag/");
                let message = if rejected {
                    format!(
                        "`{}` on single-valued key `{key}`: KMS rejects `ForAllValues` with `kms:EncryptionContext:*` and `aws:RequestTag/*` keys",
                        c.op_text.value
                    )
                } else {
                    format!("`{}` on single-valued key `{key}` is also true when the key is absent", c.op_text.value)
                };
                let pointer = cx.pointer_at(entry.policy.source, c.op_text.span).unwrap_or_else(|| st.pointer.clone());
                let mut f = cx.finding(self, pid, c.op_text.span, pointer, message).with_help(
                    "drop `ForAllValues:` and use the plain operator, which also requires the key to be present",
                );
                if rejected {
                    f.severity = Severity::Error;
                }
                out.push(f);
            }
            if st.effect == Effect::Allow
                && !st.broken
                && !st.conditions.is_empty()
                && st.conditions.iter().all(for_all)
            {
                let span = st.conditions.first().map_or(st.span, |c| c.op_text.span);
                let pointer = cx.pointer_at(entry.policy.source, span).unwrap_or_else(|| st.pointer.clone());
                out.push(
                    cx.finding(
                        self,
                        pid,
                        span,
                        pointer,
                        format!(
                            "statement `{}` allows requests without the keys: its only conditions use `ForAllValues`",
                            st.label()
                        ),
                    )
                    .with_help("add a condition that requires the key, such as `\"Null\": {\"<key>\": \"false\"}` or a `ForAnyValue` test"),
                );
            }
        }
    }
}
