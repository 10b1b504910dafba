use super::iam_decrypt_on_all_keys::distinct;
use super::rule::{declare_rule, Rule, RuleContext};
use crate::policy::model::{PolicyId, Statement};
use crate::report::finding::Finding;
use crate::solve::{Entry, Hop, PrincipalKind};
use crate::world::{Key, PolicySlot, World};

declare_rule! {
    /// ## What it does
    /// Reports each principal that cannot decrypt with a key directly but can get there: by
    /// assuming a role that can (a chain of `sts:AssumeRole`), by creating a grant for itself
    /// (`kms:CreateGrant`), or by rewriting the key policy (`kms:PutKeyPolicy`). The finding
    /// lists the path.
    ///
    /// The entries are the transitive entries of the solver's who-can answer for `kms:Decrypt`:
    /// every hop of the path is a request the evaluator allows.
    ///
    /// ## Why is this bad?
    /// Reviews of a key policy look at who is named in it. Principals that reach the key through
    /// role chains or escalation are easy to miss, and they are often the broadest: a developer
    /// role that may assume the production application role reads all of its data. Each path
    /// should be intended; otherwise tighten the trust policy, or take `kms:CreateGrant` and
    /// `kms:PutKeyPolicy` away from principals that only administer the key.
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
    ///             "policy": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"Admins\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::111122223333:role/KeyAdmin\"},\"Action\":[\"kms:DescribeKey\",\"kms:EnableKeyRotation\"],\"Resource\":\"*\"},{\"Sid\":\"App\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::111122223333:role/OrdersApp\"},\"Action\":\"kms:Decrypt\",\"Resource\":\"*\"}]}"
    ///           }
    ///         },
    ///         {
    ///           "address": "aws_iam_role.app",
    ///           "type": "aws_iam_role",
    ///           "name": "app",
    ///           "values": {
    ///             "arn": "arn:aws:iam::111122223333:role/OrdersApp",
    ///             "name": "OrdersApp",
    ///             "assume_role_policy": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"Developers\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::111122223333:role/Developer\"},\"Action\":\"sts:AssumeRole\"}]}"
    ///           }
    ///         },
    ///         {
    ///           "address": "aws_iam_role.developer",
    ///           "type": "aws_iam_role",
    ///           "name": "developer",
    ///           "values": {
    ///             "arn": "arn:aws:iam::111122223333:role/Developer",
    ///             "name": "Developer",
    ///             "assume_role_policy": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"ec2.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}]}",
    ///             "inline_policy": [
    ///               {
    ///                 "name": "assume-app",
    ///                 "policy": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"sts:AssumeRole\",\"Resource\":\"arn:aws:iam::111122223333:role/OrdersApp\"}]}"
    ///               }
    ///             ]
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
    ///             "policy": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"Admins\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::111122223333:role/KeyAdmin\"},\"Action\":[\"kms:DescribeKey\",\"kms:EnableKeyRotation\"],\"Resource\":\"*\"},{\"Sid\":\"App\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::111122223333:role/OrdersApp\"},\"Action\":\"kms:Decrypt\",\"Resource\":\"*\"}]}"
    ///           }
    ///         },
    ///         {
    ///           "address": "aws_iam_role.app",
    ///           "type": "aws_iam_role",
    ///           "name": "app",
    ///           "values": {
    ///             "arn": "arn:aws:iam::111122223333:role/OrdersApp",
    ///             "name": "OrdersApp",
    ///             "assume_role_policy": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"Lambda\",\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"lambda.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}]}"
    ///           }
    ///         },
    ///         {
    ///           "address": "aws_iam_role.developer",
    ///           "type": "aws_iam_role",
    ///           "name": "developer",
    ///           "values": {
    ///             "arn": "arn:aws:iam::111122223333:role/Developer",
    ///             "name": "Developer",
    ///             "assume_role_policy": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"ec2.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}]}"
    ///           }
    ///         }
    ///       ]
    ///     }
    ///   }
    /// }
    /// ```
    ///
    /// ## Known limitations
    /// Role chains are followed up to the solver's limit (6 hops). Access through an identity
    /// policy of a principal whose account is outside the inputs is assumed, as in `who-can`.
    ///
    /// ## References
    /// - [Determining access to an AWS KMS key](https://docs.aws.amazon.com/kms/latest/developerguide/determining-access.html)
    /// - [Role chaining](https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_terms-and-concepts.html#iam-term-role-chaining)
    /// - [Grants in AWS KMS](https://docs.aws.amazon.com/kms/latest/developerguide/grants.html)
    pub TransitiveDecryptAccess {
        id: "KP205",
        name: "transitive-decrypt-access",
        category: PrivilegeEscalation,
        severity: Note,
        status: Stable { since: "0.1.0" },
    }
}

impl Rule for TransitiveDecryptAccess {
    fn by_key(&self) -> bool {
        true
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        let world = cx.world;
        for (ki, key) in cx.keys() {
            if !matches!(key.policy, Some(PolicySlot::Known(_))) {
                continue;
            }
            for e in &cx.transitive_entries(ki, "kms:Decrypt") {
                let message = format!(
                    "{} can decrypt with `{}` without direct access: {}",
                    subject(e),
                    key.arn,
                    path_text(e, key)
                );
                let finding = match e.path.first().and_then(|h| locate(world, key, h)) {
                    Some((pid, st)) => {
                        let pointer = st.pointer.clone();
                        cx.finding(self, pid, st.span, pointer, message)
                    }
                    None => cx.finding_at_origin(self, &key.origin, message),
                };
                let fix = match e.path.first().map(|h| h.via.as_str()) {
                    Some("sts:AssumeRole") => "tighten the trust policy of the assumed role",
                    Some("kms:CreateGrant") => {
                        "take `kms:CreateGrant` away from the principal, or require `kms:GrantIsForAWSResource`"
                    }
                    Some("kms:PutKeyPolicy") => "take `kms:PutKeyPolicy` away from the principal",
                    _ => "remove the access the path goes through",
                };
                let help = format!("path: {}; if it is not intended, {fix}", path_refs(e));
                let f = finding
                    .with_resource(Some(key.arn.clone()))
                    .with_witness(serde_json::to_value(&e.witness).unwrap_or_default())
                    .with_help(help);
                out.push(distinct(f, &format!("{}\u{0}{}", key.arn, e.principal)));
            }
        }
    }
}

/// Who the entry stands for: a principal, the principals of an account whose IAM is outside
/// the inputs, or anyone.
fn subject(e: &Entry) -> String {
    match e.kind {
        PrincipalKind::Account => {
            let account = e.principal.split(':').nth(4).unwrap_or_default();
            format!("principals of account `{account}` (whose IAM is not in the inputs)")
        }
        PrincipalKind::Public => "anyone (`*`)".to_string(),
        _ => format!("`{}`", e.principal),
    }
}

/// The path in words: `` `A` assumes `B`, then `B` is allowed by the key policy ``.
fn path_text(e: &Entry, key: &Key) -> String {
    e.path
        .iter()
        .map(|h| match h.via.as_str() {
            "sts:AssumeRole" => format!("`{}` assumes `{}`", h.from, h.to),
            "kms:CreateGrant" => format!("`{}` can create a grant for itself (`kms:CreateGrant`)", h.from),
            "kms:PutKeyPolicy" => format!("`{}` can rewrite the key policy (`kms:PutKeyPolicy`)", h.from),
            "grant" => format!("`{}` holds a grant on the key", h.from),
            "identity-policy" => {
                format!("`{}` is allowed by its identity policy under the key policy's delegation", h.from)
            }
            _ if h.to == key.arn => format!("`{}` is allowed by the key policy", h.from),
            other => format!("`{}` reaches `{}` through `{other}`", h.from, h.to),
        })
        .collect::<Vec<_>>()
        .join(", then ")
}

/// The hops with their references: `A -[sts:AssumeRole plan.json#Trust]-> B -[…]-> key`.
fn path_refs(e: &Entry) -> String {
    let mut s = String::new();
    for (i, h) in e.path.iter().enumerate() {
        if i == 0 {
            s.push_str(&format!("`{}`", h.from));
        }
        let reference = if h.reference.is_empty() { String::new() } else { format!(" {}", h.reference) };
        s.push_str(&format!(" -[{}{reference}]-> `{}`", h.via, h.to));
    }
    s
}

/// The statement a hop goes through: the trust-policy statement of the assumed role, or the
/// key-policy statement that lets the principal escalate. Found by the hop's reference
/// (`file#Sid` or `file#index`), first in the document the hop concerns, then in any document
/// read from that file.
fn locate<'w>(world: &'w World, key: &'w Key, hop: &Hop) -> Option<(PolicyId, &'w Statement)> {
    let first = hop.reference.split(", ").next()?;
    let (file, label) = first.rsplit_once('#')?;
    let preferred = match hop.via.as_str() {
        "sts:AssumeRole" => world.role_by_arn(&hop.to).and_then(|r| r.trust.clone()),
        _ => key.policy.clone(),
    };
    let find = |pid: PolicyId| -> Option<(PolicyId, &'w Statement)> {
        let e = world.policy(pid)?;
        let st = e.policy.statements.iter().find(|s| {
            s.sid.as_ref().is_some_and(|sid| !sid.value.is_empty() && sid.value == label)
                || (s.sid.as_ref().is_none_or(|sid| sid.value.is_empty()) && s.index.to_string() == label)
        })?;
        Some((pid, st))
    };
    if let Some(PolicySlot::Known(pid)) = preferred {
        if let Some(hit) = find(pid) {
            return Some(hit);
        }
    }
    (0..world.policies.len()).filter_map(|i| u32::try_from(i).ok().map(PolicyId)).find_map(|pid| {
        let e = world.policy(pid)?;
        let name = &world.sources.get(e.policy.source)?.name;
        if name == file {
            find(pid)
        } else {
            None
        }
    })
}
