use super::rule::{declare_rule, Rule, RuleContext};
use super::suggest::closest;
use crate::catalog::catalog;
use crate::report::finding::Finding;

declare_rule! {
    /// ## What it does
    /// Flags an action name or pattern in `Action` or `NotAction` that matches no action of a
    /// service keyproof knows (`kms`, `iam`, `sts`), such as a misspelt `kms:GenerateDataKeys`.
    /// Actions of other services are not checked.
    ///
    /// ## Why is this bad?
    /// IAM accepts unknown action names without complaint; the entry simply never matches. A
    /// typo in an `Allow` leaves the intended caller without access; in a `Deny` it leaves a
    /// guard open; in a `NotAction` it widens the statement to the action that was meant to be
    /// excluded.
    ///
    /// ## Example
    /// ```json
    /// {
    ///   "Version": "2012-10-17",
    ///   "Statement": [
    ///     {
    ///       "Sid": "AppEncrypts",
    ///       "Effect": "Allow",
    ///       "Principal": { "AWS": "arn:aws:iam::111122223333:role/app" },
    ///       "Action": ["kms:Encrypt", "kms:GenerateDataKeys"],
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
    ///       "Sid": "AppEncrypts",
    ///       "Effect": "Allow",
    ///       "Principal": { "AWS": "arn:aws:iam::111122223333:role/app" },
    ///       "Action": ["kms:Encrypt", "kms:GenerateDataKey"],
    ///       "Resource": "*"
    ///     }
    ///   ]
    /// }
    /// ```
    ///
    /// ## References
    /// - [AWS KMS permissions reference](https://docs.aws.amazon.com/kms/latest/developerguide/kms-api-permissions-reference.html)
    /// - [Actions defined by AWS Key Management Service](https://docs.aws.amazon.com/service-authorization/latest/reference/list_awskeymanagementservice.html)
    /// - [IAM JSON policy elements: Action](https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html)
    pub UnknownAction {
        id: "KP153",
        name: "unknown-action",
        category: Correctness,
        severity: Warning,
        status: Stable { since: "0.1.0" },
    }
}

impl Rule for UnknownAction {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        let cat = catalog();
        for (pid, entry, st) in cx.statements() {
            for item in &st.action.items {
                let pattern = item.value.as_str();
                if pattern == "*" || !pattern.contains(':') || cat.pattern_matches_known_action(pattern) != Some(false)
                {
                    continue;
                }
                let service = pattern.split_once(':').map_or("", |(s, _)| s).trim().to_ascii_lowercase();
                let what = if pattern.contains(['*', '?']) { "pattern" } else { "action" };
                let pointer = cx.pointer_at(entry.policy.source, item.span).unwrap_or_else(|| st.pointer.clone());
                let mut f = cx.finding(
                    self,
                    pid,
                    item.span,
                    pointer,
                    format!("{what} `{pattern}` matches no known `{service}` action"),
                );
                let names = cat.actions().iter().filter(|a| a.service == service).map(|a| a.name.as_str());
                if pattern.chars().any(char::is_whitespace) {
                    f = f.with_help("action names cannot contain white space");
                } else if let Some(s) = closest(pattern, names) {
                    f = f.with_help(format!("did you mean `{s}`?"));
                }
                out.push(f);
            }
        }
    }
}
