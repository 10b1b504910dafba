use super::rule::{declare_rule, Rule, RuleContext};
use crate::report::finding::Finding;

declare_rule! {
    /// ## What it does
    /// Flags a policy variable (`${aws:username}`, `${aws:PrincipalTag/team}`, …) in a
    /// `Resource` or a condition value of a policy whose `Version` is not `2012-10-17`.
    ///
    /// ## Why is this bad?
    /// Without `"Version": "2012-10-17"` (the element missing, or `2008-10-17`), IAM does not
    /// substitute variables: `${aws:username}` is compared as those fourteen characters. A
    /// condition that was meant to tie access to the caller never matches, or a negated one
    /// always does.
    ///
    /// ## Example
    /// ```json
    /// {
    ///   "Statement": [
    ///     {
    ///       "Sid": "OwnContextOnly",
    ///       "Effect": "Allow",
    ///       "Action": "kms:Decrypt",
    ///       "Resource": "arn:aws:kms:us-east-1:111122223333:key/*",
    ///       "Condition": { "StringEquals": { "kms:EncryptionContext:user": "${aws:username}" } }
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
    ///       "Sid": "OwnContextOnly",
    ///       "Effect": "Allow",
    ///       "Action": "kms:Decrypt",
    ///       "Resource": "arn:aws:kms:us-east-1:111122223333:key/*",
    ///       "Condition": { "StringEquals": { "kms:EncryptionContext:user": "${aws:username}" } }
    ///     }
    ///   ]
    /// }
    /// ```
    ///
    /// ## References
    /// - [IAM JSON policy elements: Version](https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_version.html)
    /// - [IAM policy elements: variables and tags](https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html)
    pub VariableWithoutVersion {
        id: "KP162",
        name: "variable-without-version",
        category: Correctness,
        severity: Warning,
        status: Stable { since: "0.1.0" },
    }
}

impl Rule for VariableWithoutVersion {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        for (pid, entry, st) in cx.statements() {
            if entry.policy.variables_enabled() {
                continue;
            }
            let version = entry.policy.version.as_ref().map_or_else(
                || "the policy has no `Version`".to_string(),
                |v| format!("the policy's `Version` is `{}`", v.value),
            );
            let resources = st.resource.iter().flat_map(|r| r.items.iter());
            let values = st.conditions.iter().flat_map(|c| c.values.iter());
            for v in resources.chain(values).filter(|v| v.value.contains("${")) {
                let pointer = cx.pointer_at(entry.policy.source, v.span).unwrap_or_else(|| st.pointer.clone());
                out.push(
                    cx.finding(self, pid, v.span, pointer, format!("`{}` is compared literally: {version}", v.value))
                        .with_help("add `\"Version\": \"2012-10-17\"` so that policy variables are substituted"),
                );
            }
        }
    }
}
