use super::grant_without_constraints::{grant_finding, grant_label, grants};
use super::rule::{declare_rule, Rule, RuleContext};
use crate::eval::principal::{match_grantee, Caller, PrincipalMatch};
use crate::policy::arn::classify_aws_principal;
use crate::policy::model::PrincipalRef;
use crate::report::finding::Finding;
use crate::world::World;

declare_rule! {
    /// ## What it does
    /// Flags a grant that can no longer serve anyone: its grantee or retiring principal does not
    /// exist (a role or user absent from a complete IAM listing of its account, or a bare unique
    /// id such as `AROA…`), or its key is pending deletion or disabled.
    ///
    /// Whether a principal still exists is asked of the evaluator's grantee matching, which
    /// knows deleted principals only for accounts whose IAM is completely in the inputs; for
    /// other accounts nothing is reported. Keys whose metadata was not collected are not judged.
    ///
    /// ## Why is this bad?
    /// A grant for a deleted role is not inert forever: a role re-created under the same name is
    /// a new principal for key policies, but grants name principals by ARN, so whoever creates a
    /// role of that name gets the grant's access. Grants on a disabled key or a key pending
    /// deletion show that something still depends on the key. Orphaned grants should be retired
    /// or revoked.
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
    ///             "is_enabled": false
    ///           }
    ///         },
    ///         {
    ///           "address": "aws_kms_grant.batch",
    ///           "type": "aws_kms_grant",
    ///           "name": "batch",
    ///           "values": {
    ///             "key_id": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    ///             "grantee_principal": "arn:aws:iam::111122223333:role/BatchJob",
    ///             "retiring_principal": "arn:aws:iam::111122223333:role/KeyAdmin",
    ///             "operations": ["Decrypt"],
    ///             "constraints": [{ "encryption_context_subset": { "AppName": "Batch" } }]
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
    ///             "is_enabled": true
    ///           }
    ///         },
    ///         {
    ///           "address": "aws_kms_grant.batch",
    ///           "type": "aws_kms_grant",
    ///           "name": "batch",
    ///           "values": {
    ///             "key_id": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    ///             "grantee_principal": "arn:aws:iam::111122223333:role/BatchJob",
    ///             "retiring_principal": "arn:aws:iam::111122223333:role/KeyAdmin",
    ///             "operations": ["Decrypt"],
    ///             "constraints": [{ "encryption_context_subset": { "AppName": "Batch" } }]
    ///           }
    ///         }
    ///       ]
    ///     }
    ///   }
    /// }
    /// ```
    ///
    /// ## References
    /// - [Retiring and revoking grants](https://docs.aws.amazon.com/kms/latest/developerguide/grant-delete.html)
    /// - [Grant principals: deleted principals](https://docs.aws.amazon.com/kms/latest/developerguide/grants.html#terms-grantee-principal)
    /// - [Key states and their effect](https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html)
    pub OrphanedGrant {
        id: "KP304",
        name: "orphaned-grant",
        category: Hygiene,
        severity: Warning,
        status: Stable { since: "0.1.0" },
    }
}

impl Rule for OrphanedGrant {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        for (key, g) in grants(cx) {
            let state = key.metadata.as_ref().map(|m| m.state.as_str());
            let key_gone = match state {
                Some("PendingDeletion" | "PendingReplicaDeletion") => Some("is pending deletion"),
                Some("Disabled") => Some("is disabled"),
                _ => None,
            };
            if let Some(why) = key_gone {
                let message = format!("{} is orphaned: its key `{}` {why}", grant_label(g), key.arn);
                out.push(
                    grant_finding(cx, self, key, g, &[], message)
                        .with_help("retire or revoke the grant, or re-enable the key if it is still needed"),
                );
                continue;
            }
            let roles: [(&str, Option<&String>, &[&str]); 2] = [
                ("grantee", Some(&g.grantee), &["GranteePrincipal", "grantee_principal"]),
                ("retiring principal", g.retiring.as_ref(), &["RetiringPrincipal", "retiring_principal"]),
            ];
            for (what, principal, members) in roles {
                let Some(p) = principal else { continue };
                let Some(why) = missing(cx.world, p) else { continue };
                let message = format!("{} on `{}` is orphaned: its {what} `{p}` {why}", grant_label(g), key.arn);
                out.push(grant_finding(cx, self, key, g, members, message).with_help(
                    "retire or revoke the grant: a principal created later under the same name would get its access",
                ));
            }
        }
    }
}

/// Why a grant principal does not exist, or `None` when it exists or cannot be known.
fn missing(world: &World, principal: &str) -> Option<&'static str> {
    if let PrincipalRef::UniqueId(_) = classify_aws_principal(principal) {
        return Some("is a bare unique id: the principal was deleted");
    }
    let caller = Caller::parse(principal, world).ok()?;
    // A principal matches itself unless the evaluator knows it was deleted.
    (match_grantee(principal, &caller, world) == PrincipalMatch::None)
        .then_some("does not exist in the complete IAM listing of its account")
}
