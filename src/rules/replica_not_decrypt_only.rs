use super::isolation_violated::{finding_at_allower, witness_json};
use super::key_pending_deletion::attribute_finding;
use super::rule::{declare_rule, Rule, RuleContext};
use crate::report::finding::Finding;
use crate::solve::{Entry, PrincipalKind};

declare_rule! {
    /// ## What it does
    /// Flags a replica of a multi-Region key in a Region listed in `standby_regions` of
    /// `keyproof.toml` that lets application principals (IAM roles, users and federated
    /// users) call `kms:GenerateDataKey` or `kms:Encrypt`, by any path.
    ///
    /// ## Why is this bad?
    /// A standby Region exists to read data after a failover. If applications can also
    /// encrypt there, data starts being written under the standby replica during normal
    /// operation (a misrouted client, a test), which splits the data set across Regions and
    /// widens the set of places a compromise can create ciphertext from. Keeping standby
    /// replicas decrypt-only until failover makes the Region's role explicit in the key
    /// policy.
    ///
    /// ## Example
    /// With `standby_regions = ["eu-west-1"]` in `keyproof.toml` and this plan, where the
    /// replica's policy lets the application role encrypt:
    /// ```json no-run
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
    ///         },
    ///         {
    ///           "address": "aws_kms_replica_key.orders_eu",
    ///           "mode": "managed",
    ///           "type": "aws_kms_replica_key",
    ///           "name": "orders_eu",
    ///           "values": {
    ///             "region": "eu-west-1",
    ///             "policy": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"AppUsesKey\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::111122223333:role/orders-app\"},\"Action\":[\"kms:Decrypt\",\"kms:GenerateDataKey\"],\"Resource\":\"*\"}]}"
    ///           }
    ///         }
    ///       ]
    ///     }
    ///   }
    /// }
    /// ```
    ///
    /// Use instead: a standby replica whose policy only lets the application decrypt:
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
    ///         },
    ///         {
    ///           "address": "aws_kms_replica_key.orders_eu",
    ///           "mode": "managed",
    ///           "type": "aws_kms_replica_key",
    ///           "name": "orders_eu",
    ///           "values": {
    ///             "region": "eu-west-1",
    ///             "policy": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"AppDecrypts\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::111122223333:role/orders-app\"},\"Action\":\"kms:Decrypt\",\"Resource\":\"*\"}]}"
    ///           }
    ///         }
    ///       ]
    ///     }
    ///   }
    /// }
    /// ```
    ///
    /// ## Options
    /// `standby_regions` in `keyproof.toml`: the Regions whose replicas must be decrypt-only.
    ///
    /// ## Known limitations
    /// Account principals whose IAM is not in the inputs, the account root user, AWS
    /// services and anonymous access are not counted as application principals (other rules
    /// cover them).
    ///
    /// ## References
    /// - [Multi-Region keys: security considerations](https://docs.aws.amazon.com/kms/latest/developerguide/mrk-when-to-use.html)
    /// - [Controlling access to multi-Region keys](https://docs.aws.amazon.com/kms/latest/developerguide/multi-region-keys-auth.html)
    pub ReplicaNotDecryptOnly {
        id: "KP502",
        name: "replica-not-decrypt-only",
        category: Resilience,
        severity: Note,
        status: Stable { since: "0.1.0" },
    }
}

/// The actions a standby replica should not allow applications.
const WRITE_ACTIONS: &[&str] = &["kms:GenerateDataKey", "kms:Encrypt"];

impl Rule for ReplicaNotDecryptOnly {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        if cx.settings.standby_regions.is_empty() {
            return;
        }
        for (i, key) in cx.world.keys.iter().enumerate() {
            let replica = key.metadata.as_ref().is_some_and(|m| m.multi_region_type.as_deref() == Some("REPLICA"));
            if !replica || !cx.settings.standby_regions.contains(&key.region) {
                continue;
            }
            let mut apps: Vec<(Entry, &str)> = Vec::new();
            for action in WRITE_ACTIONS {
                let answer = cx.who_can(i, action, false);
                for e in answer.principals.iter().filter(|e| is_application(e)) {
                    if !apps.iter().any(|(a, _)| a.principal == e.principal) {
                        apps.push((e.clone(), action));
                    }
                }
            }
            let Some((first, action)) = apps.first() else { continue };
            let names: Vec<String> = apps.iter().map(|(e, a)| format!("`{}` (`{a}`)", e.principal)).collect();
            let message =
                format!("replica `{}` in standby Region `{}` lets {} encrypt", key.arn, key.region, names.join(", "));
            let f = finding_at_allower(cx, self, i, &first.witness, &first.caller, message.clone())
                .unwrap_or_else(|| attribute_finding(cx, self, &key.origin, &["policy"], message));
            out.push(
                f.with_resource(Some(key.arn.clone()))
                    .with_witness(witness_json(&first.witness, &key.arn))
                    .with_help(format!(
                        "allow only `kms:Decrypt` (and `kms:DescribeKey`) to applications in the replica's key policy until failover; `{action}` is allowed here"
                    )),
            );
        }
    }
}

fn is_application(e: &Entry) -> bool {
    matches!(e.kind, PrincipalKind::Role | PrincipalKind::User | PrincipalKind::Federated)
}
