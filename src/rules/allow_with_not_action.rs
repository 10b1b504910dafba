use super::rule::{declare_rule, Rule, RuleContext};
use crate::policy::model::{DocKind, Effect};
use crate::report::finding::Finding;

declare_rule! {
    /// ## What it does
    /// Flags an `Allow` statement of a key policy that uses `NotAction`.
    ///
    /// ## Why is this bad?
    /// `NotAction` with `Allow` grants every action except those listed, including actions that
    /// KMS adds later. In a key policy that usually means key administration (`kms:PutKeyPolicy`,
    /// `kms:ScheduleKeyDeletion`, `kms:CreateGrant`) for principals that were only meant to use
    /// the key. List the allowed actions instead.
    ///
    /// ## Example
    /// ```json
    /// {
    ///   "Version": "2012-10-17",
    ///   "Statement": [
    ///     {
    ///       "Sid": "AppUsesKey",
    ///       "Effect": "Allow",
    ///       "Principal": { "AWS": "arn:aws:iam::111122223333:role/app" },
    ///       "NotAction": ["kms:ScheduleKeyDeletion", "kms:DisableKey"],
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
    ///       "Sid": "AppUsesKey",
    ///       "Effect": "Allow",
    ///       "Principal": { "AWS": "arn:aws:iam::111122223333:role/app" },
    ///       "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"],
    ///       "Resource": "*"
    ///     }
    ///   ]
    /// }
    /// ```
    ///
    /// ## References
    /// - [IAM JSON policy elements: NotAction](https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notaction.html)
    /// - [Default key policy: key users](https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-users)
    pub AllowWithNotAction {
        id: "KP109",
        name: "allow-with-not-action",
        category: Exposure,
        severity: Warning,
        status: Stable { since: "0.1.0" },
    }
}

impl Rule for AllowWithNotAction {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        for (pid, entry, st) in cx.statements() {
            if entry.kind != DocKind::KeyPolicy || st.effect != Effect::Allow || !st.action.negated || st.broken {
                continue;
            }
            out.push(
                cx.finding(
                    self,
                    pid,
                    st.action.span,
                    format!("{}/NotAction", st.pointer),
                    format!("statement `{}` allows every action except those in `NotAction`", st.label()),
                )
                .with_help("list the allowed actions in `Action`"),
            );
        }
    }
}
