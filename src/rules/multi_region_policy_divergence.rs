use std::collections::BTreeMap;

use super::isolation_violated::witness_json;
use super::replicated_but_unreadable::{primary_of, related_keys};
use super::rule::{declare_rule, Rule, RuleContext};
use crate::report::finding::Finding;
use crate::solve::{Entry, PrincipalKind};
use crate::world::{Key, PolicySlot};

declare_rule! {
    /// ## What it does
    /// Compares who can `kms:Decrypt` with the primary of a multi-Region key and with each of
    /// its replicas (by any path: key policy, IAM, grants, role chains) and flags a replica
    /// whose set of principals differs from the primary's, listing the difference.
    ///
    /// ## Why is this bad?
    /// Related multi-Region keys share key material, so a ciphertext made in one Region can
    /// be decrypted with the related key of any other Region. Their key policies and grants
    /// are independent: a principal that the primary keeps out but a replica lets in can read
    /// the data of every Region through that replica, and a principal missing from a replica
    /// loses access after a failover. Either way the data is only as well protected as the
    /// most permissive related key.
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
    ///           "values": {
    ///             "multi_region": true,
    ///             "enable_key_rotation": true,
    ///             "region": "us-east-1",
    ///             "policy": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"AppDecrypts\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::111122223333:role/orders-app\"},\"Action\":\"kms:Decrypt\",\"Resource\":\"*\"}]}"
    ///           }
    ///         },
    ///         {
    ///           "address": "aws_kms_replica_key.orders_eu",
    ///           "mode": "managed",
    ///           "type": "aws_kms_replica_key",
    ///           "name": "orders_eu",
    ///           "values": {
    ///             "region": "eu-west-1",
    ///             "policy": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"AppDecrypts\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":[\"arn:aws:iam::111122223333:role/orders-app\",\"arn:aws:iam::111122223333:role/analytics\"]},\"Action\":\"kms:Decrypt\",\"Resource\":\"*\"}]}"
    ///           }
    ///         }
    ///       ]
    ///     }
    ///   },
    ///   "configuration": {
    ///     "root_module": {
    ///       "resources": [
    ///         {
    ///           "address": "aws_kms_replica_key.orders_eu",
    ///           "mode": "managed",
    ///           "type": "aws_kms_replica_key",
    ///           "name": "orders_eu",
    ///           "expressions": { "primary_key_arn": { "references": ["aws_kms_key.orders.arn", "aws_kms_key.orders"] } }
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
    ///           "values": {
    ///             "multi_region": true,
    ///             "enable_key_rotation": true,
    ///             "region": "us-east-1",
    ///             "policy": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"AppDecrypts\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::111122223333:role/orders-app\"},\"Action\":\"kms:Decrypt\",\"Resource\":\"*\"}]}"
    ///           }
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
    ///   },
    ///   "configuration": {
    ///     "root_module": {
    ///       "resources": [
    ///         {
    ///           "address": "aws_kms_replica_key.orders_eu",
    ///           "mode": "managed",
    ///           "type": "aws_kms_replica_key",
    ///           "name": "orders_eu",
    ///           "expressions": { "primary_key_arn": { "references": ["aws_kms_key.orders.arn", "aws_kms_key.orders"] } }
    ///         }
    ///       ]
    ///     }
    ///   }
    /// }
    /// ```
    ///
    /// ## Known limitations
    /// Only the set of principals is compared, not the conditions under which each may
    /// decrypt (a condition naming a Region-specific service endpoint naturally differs);
    /// Regional service principals (`logs.<region>.amazonaws.com`) of each key's own Region
    /// count as the same principal. A
    /// pair is compared only when both key policies are in the inputs; access through grants
    /// is compared only when the grants of both keys were collected.
    ///
    /// ## References
    /// - [Multi-Region keys: shared and independent properties](https://docs.aws.amazon.com/kms/latest/developerguide/multi-region-keys-overview.html)
    /// - [Security considerations for multi-Region keys](https://docs.aws.amazon.com/kms/latest/developerguide/mrk-when-to-use.html)
    /// - [Controlling access to multi-Region keys](https://docs.aws.amazon.com/kms/latest/developerguide/multi-region-keys-auth.html)
    pub MultiRegionPolicyDivergence {
        id: "KP503",
        name: "multi-region-policy-divergence",
        category: Exposure,
        severity: Warning,
        status: Stable { since: "0.1.0" },
    }
}

impl Rule for MultiRegionPolicyDivergence {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        let world = cx.world;
        for (p, primary) in world.keys.iter().enumerate() {
            if primary_of(world, p) != Some(p) || !policy_known(primary) {
                continue;
            }
            for r in related_keys(world, p) {
                let Some(replica) = world.keys.get(r) else { continue };
                if !policy_known(replica) {
                    continue;
                }
                let pa = cx.who_can(p, "kms:Decrypt", false);
                let ra = cx.who_can(r, "kms:Decrypt", false);
                let both_grants = primary.grants.is_some() && replica.grants.is_some();
                let counted = |e: &&Entry| both_grants || !e.path.iter().any(|h| h.via == "grant");
                let pset: BTreeMap<String, &Entry> =
                    pa.principals.iter().filter(counted).map(|e| (regionless(e, primary), e)).collect();
                let rset: BTreeMap<String, &Entry> =
                    ra.principals.iter().filter(counted).map(|e| (regionless(e, replica), e)).collect();
                let only_p: Vec<&&Entry> =
                    pset.iter().filter(|(n, _)| !rset.contains_key(*n)).map(|(_, e)| e).collect();
                let only_r: Vec<&&Entry> =
                    rset.iter().filter(|(n, _)| !pset.contains_key(*n)).map(|(_, e)| e).collect();
                if only_p.is_empty() && only_r.is_empty() {
                    continue;
                }
                let list =
                    |v: &[&&Entry]| v.iter().map(|e| format!("`{}`", e.principal)).collect::<Vec<_>>().join(", ");
                let mut parts = Vec::new();
                if !only_r.is_empty() {
                    parts.push(format!("only the replica lets {} decrypt", list(&only_r)));
                }
                if !only_p.is_empty() {
                    parts.push(format!("only the primary lets {} decrypt", list(&only_p)));
                }
                let message = format!(
                    "replica `{}` and its primary `{}` differ in who can decrypt: {}",
                    replica.arn,
                    primary.arn,
                    parts.join("; ")
                );
                let (witness_key, witness) = match (only_r.first(), only_p.first()) {
                    (Some(e), _) => (replica, &e.witness),
                    (None, Some(e)) => (primary, &e.witness),
                    (None, None) => continue,
                };
                let mut f = at_policy(cx, self, replica, message)
                    .with_resource(Some(replica.arn.clone()))
                    .with_witness(witness_json(witness, &witness_key.arn))
                    .with_help("give related multi-Region keys the same key policy and grants (or document why a Region differs): any of them decrypts the data of every Region");
                if let Some(e) = primary.policy.as_ref().and_then(|s| world.slot(s)) {
                    f = f.with_label(cx.label(e.policy.source, e.policy.span, "the primary's key policy"));
                }
                out.push(f);
            }
        }
    }
}

/// The principal's name for comparison: a Regional service principal
/// (`logs.us-east-1.amazonaws.com`) of the key's own Region stands for that service in any
/// Region, since each related key names the service of its own Region.
fn regionless(e: &Entry, k: &Key) -> String {
    if e.kind == PrincipalKind::Service && !k.region.is_empty() {
        e.principal.replace(&format!(".{}.", k.region), ".<region>.")
    } else {
        e.principal.clone()
    }
}

fn policy_known(k: &Key) -> bool {
    matches!(k.policy, Some(PolicySlot::Known(_)))
}

/// A finding on the key policy document of a key (else where the key is written).
fn at_policy(cx: &RuleContext<'_>, rule: &MultiRegionPolicyDivergence, k: &Key, message: String) -> Finding {
    match &k.policy {
        Some(PolicySlot::Known(id)) => match cx.world.policy(*id) {
            Some(e) => cx.finding(rule, *id, e.policy.span, e.policy.pointer.clone(), message),
            None => cx.finding_at_origin(rule, &k.origin, message),
        },
        _ => cx.finding_at_origin(rule, &k.origin, message),
    }
}
