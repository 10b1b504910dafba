use super::key_pending_deletion::attribute_finding;
use super::replicated_but_unreadable::related_keys;
use super::rule::{declare_rule, Rule, RuleContext};
use crate::report::finding::Finding;

declare_rule! {
    /// ## What it does
    /// Flags a multi-Region primary key that has no replica: `describe-key` lists no
    /// `ReplicaKeys`, or the Terraform configuration creates no `aws_kms_replica_key` for it,
    /// and no related key of another Region is in the inputs.
    ///
    /// ## Why is this bad?
    /// A multi-Region key gives up the Region isolation of KMS keys (its material may be
    /// copied to other Regions, and any copy decrypts every ciphertext) in exchange for
    /// cross-Region use. Without replicas nothing is gained, but anyone allowed
    /// `kms:ReplicateKey` can still copy the material to a Region with a different key
    /// policy. Use a single-Region key unless the data needs to be read in another Region.
    ///
    /// ## Example
    /// ```json
    /// {
    ///   "format_version": "1.2",
    ///   "terraform_version": "1.9.0",
    ///   "planned_values": {
    ///     "root_module": {
    ///       "resources": [
    ///         {
    ///           "address": "aws_kms_key.orders",
    ///           "mode": "managed",
    ///           "type": "aws_kms_key",
    ///           "name": "orders",
    ///           "values": { "multi_region": true, "enable_key_rotation": true, "region": "us-east-1" }
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
    ///   "terraform_version": "1.9.0",
    ///   "planned_values": {
    ///     "root_module": {
    ///       "resources": [
    ///         {
    ///           "address": "aws_kms_key.orders",
    ///           "mode": "managed",
    ///           "type": "aws_kms_key",
    ///           "name": "orders",
    ///           "values": { "multi_region": false, "enable_key_rotation": true, "region": "us-east-1" }
    ///         }
    ///       ]
    ///     }
    ///   }
    /// }
    /// ```
    ///
    /// ## Known limitations
    /// A Terraform plan only shows the replicas it manages: replicas created elsewhere are
    /// seen when their plan, state or `describe-key` output is among the inputs.
    ///
    /// ## References
    /// - [Security considerations for multi-Region keys](https://docs.aws.amazon.com/kms/latest/developerguide/mrk-when-to-use.html)
    /// - [Creating multi-Region replica keys](https://docs.aws.amazon.com/kms/latest/developerguide/multi-region-keys-replicate.html)
    pub UnreplicatedMultiRegionKey {
        id: "KP506",
        name: "unreplicated-multi-region-key",
        category: Hygiene,
        severity: Note,
        status: Stable { since: "0.1.0" },
    }
}

impl Rule for UnreplicatedMultiRegionKey {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        for (i, key) in cx.world.keys.iter().enumerate() {
            let Some(m) = &key.metadata else { continue };
            let primary = m.multi_region && m.multi_region_type.as_deref().is_none_or(|t| t == "PRIMARY");
            if !primary
                || !m.replica_arns.is_empty()
                || matches!(m.state.as_str(), "PendingDeletion" | "PendingReplicaDeletion")
                || !related_keys(cx.world, i).is_empty()
            {
                continue;
            }
            let message = format!("multi-Region key `{}` has no replicas", key.arn);
            let f = attribute_finding(cx, self, &key.origin, &["multi_region", "MultiRegion"], message);
            out.push(f.with_resource(Some(key.arn.clone())).with_help(
                "replicate the key to the Regions that need it, or use a single-Region key (`multi_region = false`; the key has to be re-created)",
            ));
        }
    }
}
