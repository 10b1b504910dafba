use super::rule::{declare_rule, Rule, RuleContext};
use super::suggest::closest;
use crate::catalog::{catalog, Catalog, KeyScope};
use crate::policy::model::Statement;
use crate::report::finding::Finding;

declare_rule! {
    /// ## What it does
    /// Flags a `kms:` or `aws:` condition key that does not exist, and a `kms:` key that never
    /// appears in the request context of any of the statement's actions (such as
    /// `kms:GrantIsForAWSResource` on `kms:Decrypt`). Statements with `NotAction` or
    /// `"Action": "*"` are only checked for unknown keys.
    ///
    /// ## Why is this bad?
    /// A condition on a key that is absent from the request is false for every ordinary
    /// operator (and true for negated operators and `...IfExists`). An `Allow` guarded by it
    /// never applies; a `Deny` guarded by a negated operator applies to every request. Either
    /// way the statement does not do what its author intended, and IAM does not warn.
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
    ///       "Condition": { "StringEquals": { "kms:EncryptionContex:tenant": "acme" } }
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
    ///       "Condition": { "StringEquals": { "kms:EncryptionContext:tenant": "acme" } }
    ///     }
    ///   ]
    /// }
    /// ```
    ///
    /// ## References
    /// - [AWS KMS condition keys](https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html)
    /// - [AWS global condition context keys](https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html)
    /// - [Condition keys for AWS Key Management Service](https://docs.aws.amazon.com/service-authorization/latest/reference/list_awskeymanagementservice.html#awskeymanagementservice-policy-keys)
    pub UnknownConditionKey {
        id: "KP154",
        name: "unknown-condition-key",
        category: Correctness,
        severity: Warning,
        status: Stable { since: "0.1.0" },
    }
}

impl Rule for UnknownConditionKey {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        let cat = catalog();
        for (pid, entry, st) in cx.statements() {
            let check_context = !st.action.negated && !st.action.items.iter().any(|a| a.value == "*");
            for c in &st.conditions {
                if !(c.key_lc.starts_with("kms:") || c.key_lc.starts_with("aws:")) {
                    continue;
                }
                let key = c.key.value.as_str();
                let pointer = || cx.pointer_at(entry.policy.source, c.key.span).unwrap_or_else(|| st.pointer.clone());
                match cat.condition_key(key) {
                    None => {
                        let mut f =
                            cx.finding(self, pid, c.key.span, pointer(), format!("unknown condition key `{key}`"));
                        if let Some(s) = suggestion(cat, key) {
                            f = f.with_help(format!("did you mean `{s}`?"));
                        }
                        out.push(f);
                    }
                    Some(info) if info.scope != KeyScope::Global && check_context && !applies(cat, key, st) => {
                        out.push(cx.finding(
                            self,
                            pid,
                            c.key.span,
                            pointer(),
                            format!("condition key `{key}` is never in the request context of {}", action_list(st)),
                        ));
                    }
                    Some(_) => {}
                }
            }
        }
    }
}

/// Whether the key can be present for at least one action the statement's patterns match.
fn applies(cat: &Catalog, key: &str, st: &Statement) -> bool {
    st.action.items.iter().flat_map(|p| cat.matching_actions(&p.value)).any(|a| cat.key_applies_to_action(key, &a.name))
}

fn action_list(st: &Statement) -> String {
    let items: Vec<String> = st.action.items.iter().take(3).map(|a| format!("`{}`", a.value)).collect();
    match st.action.items.len() {
        n if n > 3 => format!("{} and {} more", items.join(", "), n - 3),
        _ => items.join(", "),
    }
}

/// A close catalogue key: a plain key, or a prefix key with the written suffix kept
/// (`kms:EncryptionContex:tenant` → `kms:EncryptionContext:tenant`).
fn suggestion(cat: &Catalog, key: &str) -> Option<String> {
    let plain = cat.condition_keys().iter().filter(|k| !k.prefix).map(|k| k.name.as_str());
    if let Some(s) = closest(key, plain) {
        return Some(s.to_string());
    }
    for sep in [':', '/'] {
        let Some(cut) = key.char_indices().filter(|(_, c)| *c == sep).map(|(i, _)| i).nth(usize::from(sep == ':'))
        else {
            continue;
        };
        let (head, tail) = key.split_at(cut + 1);
        let prefixes =
            cat.condition_keys().iter().filter(|k| k.prefix && k.name.ends_with(sep)).map(|k| k.name.as_str());
        if let Some(p) = closest(head, prefixes) {
            return Some(format!("{p}{tail}"));
        }
    }
    None
}
