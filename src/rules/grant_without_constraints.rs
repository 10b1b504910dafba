use std::collections::BTreeMap;

use super::rule::{declare_rule, Rule, RuleContext, RuleMeta};
use crate::catalog::{catalog, ActionCategory};
use crate::eval::authorize::grant_constraints_hold;
use crate::report::finding::Finding;
use crate::world::{Grant, Key};

declare_rule! {
    /// ## What it does
    /// Flags a grant that allows a cryptographic operation that carries an encryption context
    /// (`Decrypt`, `Encrypt`, `GenerateDataKey*`, `ReEncrypt*`) without an
    /// `EncryptionContextEquals` or `EncryptionContextSubset` constraint.
    ///
    /// The rule asks the evaluator whether the grant's constraints admit a request with an
    /// encryption context that the grant does not mention: an empty `EncryptionContextSubset`
    /// constrains nothing. Operations without an encryption context (`Sign`, `Verify`,
    /// `GenerateMac`…), to which grant constraints do not apply, are not concerned.
    ///
    /// ## Why is this bad?
    /// A grant without constraints lets its grantee use the key for any data encrypted under it,
    /// not only for the resource the grant was created for, and it stays valid until it is
    /// retired or revoked. Integrated AWS services constrain their grants to the resource
    /// (`aws:ebs:id`, `aws:dynamodb:tableName`…); grants created by hand should do the same.
    ///
    /// ## Example
    /// ```json
    /// {
    ///   "Grants": [
    ///     {
    ///       "KeyId": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    ///       "GrantId": "0c237476b39f8bc44e45212e08498fbe3151305030726c0590dd8d3e9f3d6a60",
    ///       "GranteePrincipal": "arn:aws:iam::111122223333:role/BatchJob",
    ///       "RetiringPrincipal": "arn:aws:iam::111122223333:role/KeyAdmin",
    ///       "Operations": ["Decrypt", "GenerateDataKey"]
    ///     }
    ///   ]
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```json
    /// {
    ///   "Grants": [
    ///     {
    ///       "KeyId": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    ///       "GrantId": "0c237476b39f8bc44e45212e08498fbe3151305030726c0590dd8d3e9f3d6a60",
    ///       "GranteePrincipal": "arn:aws:iam::111122223333:role/BatchJob",
    ///       "RetiringPrincipal": "arn:aws:iam::111122223333:role/KeyAdmin",
    ///       "Operations": ["Decrypt", "GenerateDataKey"],
    ///       "Constraints": { "EncryptionContextSubset": { "AppName": "Batch" } }
    ///     }
    ///   ]
    /// }
    /// ```
    ///
    /// ## References
    /// - [Grant constraints](https://docs.aws.amazon.com/kms/latest/developerguide/create-grant-overview.html#grant-constraints)
    /// - [Encryption context](https://docs.aws.amazon.com/kms/latest/developerguide/encrypt_context.html)
    /// - [CreateGrant: Constraints](https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateGrant.html#KMS-CreateGrant-request-Constraints)
    pub GrantWithoutConstraints {
        id: "KP301",
        name: "grant-without-constraints",
        category: Exposure,
        severity: Warning,
        status: Stable { since: "0.1.0" },
    }
}

impl Rule for GrantWithoutConstraints {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        // An encryption context no grant mentions: a constraint with any pair rejects it.
        let probe: BTreeMap<String, String> = [("keyproof-probe".to_string(), "keyproof-probe".to_string())].into();
        for (key, g) in grants(cx) {
            let open: Vec<&str> = g
                .operations
                .iter()
                .map(String::as_str)
                .filter(|op| carries_encryption_context(op) && grant_constraints_hold(g, op, &probe))
                .collect();
            if open.is_empty() {
                continue;
            }
            let ops = open.iter().map(|o| format!("`{o}`")).collect::<Vec<_>>().join(", ");
            let message = format!(
                "{} on `{}` allows {ops} to `{}` under any encryption context",
                grant_label(g),
                key.arn,
                g.grantee
            );
            out.push(
                grant_finding(cx, self, key, g, &["Operations", "operations"], message).with_help(
                    "add an `EncryptionContextSubset` or `EncryptionContextEquals` constraint naming the data the grant is for",
                ),
            );
        }
    }
}

/// A cryptographic operation whose requests carry an encryption context (per the catalogue).
fn carries_encryption_context(op: &str) -> bool {
    let action = format!("kms:{op}");
    catalog().action(&action).is_some_and(|a| a.category == ActionCategory::Crypto)
        && catalog().key_applies_to_action("kms:EncryptionContext:keyproof-probe", &action)
}

/// Every collected grant with its key (keys whose grants were not collected are skipped).
pub(super) fn grants<'w>(cx: &RuleContext<'w>) -> impl Iterator<Item = (&'w Key, &'w Grant)> + 'w {
    cx.world.keys.iter().flat_map(|k| k.grants.iter().flatten().map(move |g| (k, g)))
}

/// `` grant `aws_kms_grant.x` `` for Terraform grants, else `` grant `<id>` `` (or its name).
pub(super) fn grant_label(g: &Grant) -> String {
    match (&g.origin.tf_address, &g.name) {
        (Some(addr), _) => format!("grant `{addr}`"),
        (None, Some(name)) if g.id.is_empty() => format!("grant `{name}`"),
        _ => format!("grant `{}`", g.id),
    }
}

/// A finding on a grant: on the first of `members` written in the grant's element, else on the
/// grant, with the key as resource.
pub(super) fn grant_finding(
    cx: &RuleContext<'_>,
    rule: &dyn RuleMeta,
    key: &Key,
    g: &Grant,
    members: &[&str],
    message: String,
) -> Finding {
    let member = g
        .origin
        .source
        .and_then(|src| members.iter().find_map(|m| cx.member_in(src, g.origin.span, m)).map(|(s, p)| (src, s, p)));
    let f = match member {
        Some((source, span, pointer)) => cx.finding_in(rule, source, span, pointer, message),
        None => cx.finding_at_origin(rule, &g.origin, message),
    };
    f.with_resource(Some(key.arn.clone()))
}
