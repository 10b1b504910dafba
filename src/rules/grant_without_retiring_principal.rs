use super::grant_without_constraints::{grant_finding, grant_label, grants};
use super::rule::{declare_rule, Rule, RuleContext};
use crate::report::finding::Finding;
use crate::world::{Grant, World};

declare_rule! {
    /// ## What it does
    /// Reports a grant that has no retiring principal.
    ///
    /// A Terraform grant whose `retiring_principal` is known only after apply is not reported
    /// (`KP158` says what could not be decided).
    ///
    /// ## Why is this bad?
    /// Grants do not expire. Without a retiring principal, only the grantee (when the grant
    /// includes `RetireGrant`) or an administrator with `kms:RevokeGrant` can end it, so grants
    /// for finished jobs tend to stay and keep their access. Naming the component that owns the
    /// grant's lifecycle as retiring principal lets it clean up after itself.
    ///
    /// ## Example
    /// ```json
    /// {
    ///   "Grants": [
    ///     {
    ///       "KeyId": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    ///       "GrantId": "0c237476b39f8bc44e45212e08498fbe3151305030726c0590dd8d3e9f3d6a60",
    ///       "GranteePrincipal": "arn:aws:iam::111122223333:role/BatchJob",
    ///       "Operations": ["Decrypt"],
    ///       "Constraints": { "EncryptionContextSubset": { "AppName": "Batch" } }
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
    ///       "RetiringPrincipal": "arn:aws:iam::111122223333:role/BatchScheduler",
    ///       "Operations": ["Decrypt"],
    ///       "Constraints": { "EncryptionContextSubset": { "AppName": "Batch" } }
    ///     }
    ///   ]
    /// }
    /// ```
    ///
    /// ## References
    /// - [Retiring and revoking grants](https://docs.aws.amazon.com/kms/latest/developerguide/grant-delete.html)
    /// - [CreateGrant: RetiringPrincipal](https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateGrant.html#KMS-CreateGrant-request-RetiringPrincipal)
    pub GrantWithoutRetiringPrincipal {
        id: "KP303",
        name: "grant-without-retiring-principal",
        category: Hygiene,
        severity: Note,
        status: Stable { since: "0.1.0" },
    }
}

impl Rule for GrantWithoutRetiringPrincipal {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        for (key, g) in grants(cx) {
            if g.retiring.is_some() || retiring_unknown(cx.world, g) {
                continue;
            }
            let message = format!("{} on `{}` for `{}` has no retiring principal", grant_label(g), key.arn, g.grantee);
            out.push(
                grant_finding(cx, self, key, g, &["GranteePrincipal", "grantee_principal"], message)
                    .with_help("name the principal that ends the grant's use as `RetiringPrincipal`"),
            );
        }
    }
}

/// True when the reader noted that the grant's retiring principal is unknown until apply
/// (a `KP158` note on the same Terraform resource).
fn retiring_unknown(world: &World, g: &Grant) -> bool {
    g.origin.tf_address.is_some()
        && world.diagnostics.iter().any(|d| {
            d.code == "KP158"
                && Some(d.source) == g.origin.source
                && d.span == g.origin.span
                && d.message.contains("retiring principal")
        })
}
