use super::rule::{declare_rule, Rule, RuleContext};
use crate::policy::model::Effect;
use crate::report::finding::Finding;

declare_rule! {
    /// ## What it does
    /// Flags an `Allow` statement that uses `NotPrincipal`.
    ///
    /// ## Why is this bad?
    /// `"Effect": "Allow"` with `NotPrincipal` allows every principal in every AWS account,
    /// anonymous callers included, except the few listed. It is almost never what the author
    /// meant, and AWS documents it as a pattern to avoid. Name the principals that should have
    /// access, or use `"Principal": "*"` with conditions that pin the caller's account or
    /// organization.
    ///
    /// ## Example
    /// ```json
    /// {
    ///   "Version": "2012-10-17",
    ///   "Statement": [
    ///     {
    ///       "Sid": "EveryoneButContractors",
    ///       "Effect": "Allow",
    ///       "NotPrincipal": { "AWS": "arn:aws:iam::111122223333:role/contractors" },
    ///       "Action": "kms:Decrypt",
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
    ///       "Sid": "AppDecrypts",
    ///       "Effect": "Allow",
    ///       "Principal": { "AWS": "arn:aws:iam::111122223333:role/app" },
    ///       "Action": "kms:Decrypt",
    ///       "Resource": "*"
    ///     }
    ///   ]
    /// }
    /// ```
    ///
    /// ## References
    /// - [IAM JSON policy elements: NotPrincipal](https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html)
    /// - [Key policies in AWS KMS](https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html)
    pub AllowWithNotPrincipal {
        id: "KP108",
        name: "allow-with-not-principal",
        category: Exposure,
        severity: Warning,
        status: Stable { since: "0.1.0" },
    }
}

impl Rule for AllowWithNotPrincipal {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        for (pid, _, st) in cx.statements() {
            let Some(p) = st.principal.as_ref().filter(|p| p.negated) else { continue };
            if st.effect != Effect::Allow || st.broken {
                continue;
            }
            out.push(
                cx.finding(
                    self,
                    pid,
                    p.span,
                    format!("{}/NotPrincipal", st.pointer),
                    format!("statement `{}` allows every principal except those in `NotPrincipal`", st.label()),
                )
                .with_help("name the allowed principals in `Principal`, or use `\"*\"` with an account or organization condition"),
            );
        }
    }
}
