use super::key_pending_deletion::{attribute_finding, resolve_key_ref};
use super::rule::{declare_rule, Rule, RuleContext};
use crate::policy::arn::Arn;
use crate::report::finding::Finding;
use crate::world::{Snapshot, World};

declare_rule! {
    /// ## What it does
    /// Flags an EBS snapshot encrypted with an AWS managed key (`alias/aws/ebs`, or a key
    /// whose `KeyManager` is `AWS`) that is shared with another account
    /// (`createVolumePermission`, Terraform `aws_snapshot_create_volume_permission`) or made
    /// public.
    ///
    /// ## Why is this bad?
    /// The policy of an AWS managed key only lets principals of its own account use it
    /// through EC2; nobody can change that policy or grant other accounts access, and EBS
    /// does not share snapshots encrypted with it. The other account can never create a
    /// volume from the snapshot or copy it: the intended backup, migration or hand-over
    /// fails (in Terraform, at apply time). A snapshot meant to be shared must be encrypted
    /// (or re-encrypted by copying) under a customer managed key whose policy lets the other
    /// account use it.
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
    ///           "address": "aws_ebs_snapshot_copy.backup",
    ///           "mode": "managed",
    ///           "type": "aws_ebs_snapshot_copy",
    ///           "name": "backup",
    ///           "values": { "id": "snap-0123456789abcdef0", "encrypted": true, "kms_key_id": "alias/aws/ebs", "region": "us-east-1" }
    ///         },
    ///         {
    ///           "address": "aws_snapshot_create_volume_permission.partner",
    ///           "mode": "managed",
    ///           "type": "aws_snapshot_create_volume_permission",
    ///           "name": "partner",
    ///           "values": { "snapshot_id": "snap-0123456789abcdef0", "account_id": "444455556666", "region": "us-east-1" }
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
    ///           "address": "aws_ebs_snapshot_copy.backup",
    ///           "mode": "managed",
    ///           "type": "aws_ebs_snapshot_copy",
    ///           "name": "backup",
    ///           "values": {
    ///             "id": "snap-0123456789abcdef0",
    ///             "encrypted": true,
    ///             "kms_key_id": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    ///             "region": "us-east-1"
    ///           }
    ///         },
    ///         {
    ///           "address": "aws_snapshot_create_volume_permission.partner",
    ///           "mode": "managed",
    ///           "type": "aws_snapshot_create_volume_permission",
    ///           "name": "partner",
    ///           "values": { "snapshot_id": "snap-0123456789abcdef0", "account_id": "444455556666", "region": "us-east-1" }
    ///         }
    ///       ]
    ///     }
    ///   }
    /// }
    /// ```
    ///
    /// ## Known limitations
    /// An encrypted snapshot whose key is not named in the inputs is not judged: EBS then
    /// uses the account's default EBS key of the Region, which may be customer managed. A key
    /// named by ARN is known to be AWS managed from its `describe-key` output or from the
    /// `alias/aws/ebs` alias in `list-aliases`.
    ///
    /// ## References
    /// - [Share an Amazon EBS snapshot with other AWS accounts](https://docs.aws.amazon.com/ebs/latest/userguide/ebs-modifying-snapshot-permissions.html)
    /// - [AWS managed keys](https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#aws-managed-key)
    /// - [Allowing users in other accounts to use a KMS key](https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html)
    pub AwsManagedKeySharedSnapshot {
        id: "KP505",
        name: "aws-managed-key-shared-snapshot",
        category: Correctness,
        severity: Error,
        status: Stable { since: "0.1.0" },
    }
}

impl Rule for AwsManagedKeySharedSnapshot {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        for s in &cx.world.snapshots {
            if !s.encrypted {
                continue;
            }
            let Some(key) = s.kms_key.as_deref().filter(|k| aws_managed(cx.world, s, k)) else { continue };
            let others: Vec<&String> = s.shared_with.iter().filter(|a| **a != s.account).collect();
            if others.is_empty() {
                continue;
            }
            let with: Vec<String> = others
                .iter()
                .map(|a| if a.as_str() == "all" { "everyone (`all`)".to_string() } else { format!("`{a}`") })
                .collect();
            let message = format!(
                "snapshot `{}` is encrypted with the AWS managed key `{key}` and shared with {}, which can never use it",
                s.id,
                with.join(", ")
            );
            let f = attribute_finding(cx, self, &s.origin, &["kms_key_id", "KmsKeyId"], message);
            out.push(
                f.with_resource(Some(format!("arn:aws:ec2:{}::snapshot/{}", s.region, s.id)))
                    .with_help("copy the snapshot under a customer managed key whose key policy lets the other account use it, and share the copy"),
            );
        }
    }
}

/// Whether the key of a snapshot is an AWS managed key: named by an `alias/aws/` alias, or a
/// key of the world that is AWS managed or that an `alias/aws/` alias targets.
fn aws_managed(world: &World, s: &Snapshot, reference: &str) -> bool {
    let alias_name = match Arn::parse(reference) {
        Some(a) if a.resource.starts_with("alias/") => Some(a.resource),
        Some(_) => None,
        None => reference.starts_with("alias/").then_some(reference),
    };
    if alias_name.is_some_and(|n| n.starts_with("alias/aws/")) {
        return true;
    }
    let Some(i) = resolve_key_ref(world, reference, &s.account, Some(&s.region)) else {
        // A key ARN not in the world: AWS managed when an `alias/aws/` alias targets it.
        let id = reference.rsplit_once(":key/").map_or(reference, |(_, id)| id);
        return world.aliases.iter().any(|a| {
            a.name.starts_with("alias/aws/")
                && a.account == s.account
                && a.target_key_id.as_deref().is_some_and(|t| t == reference || t == id)
        });
    };
    let Some(k) = world.keys.get(i) else { return false };
    k.is_aws_managed() || world.aliases_of(k).iter().any(|n| n.starts_with("alias/aws/"))
}
