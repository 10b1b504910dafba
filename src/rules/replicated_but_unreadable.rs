use std::collections::{BTreeMap, BTreeSet};

use super::isolation_violated::{label_allower, witness_json};
use super::key_pending_deletion::attribute_finding;
use super::rule::{declare_rule, Rule, RuleContext};
use crate::eval::authorize::{identity_slots, implied_caller_context, statement_applies, StatementQuery};
use crate::eval::context::Context;
use crate::eval::principal::{Caller, PrincipalMatch};
use crate::policy::arn::Arn;
use crate::policy::model::{Effect, PolicyId, Statement};
use crate::report::finding::{Finding, Severity};
use crate::solve::{solve_principal_with, Candidate, Entry, PrincipalKind};
use crate::world::{Bucket, Key, Origin, PolicySlot, Table, World};

declare_rule! {
    /// ## What it does
    /// Flags data encrypted under a key that is replicated to a Region where no key with the
    /// same key material exists: the key is single-Region, or the multi-Region key has no
    /// replica there. The data is known from `[[envelope]]` entries of `keyproof.toml`
    /// (`store` = a DynamoDB table or S3 bucket holding data enveloped client-side under
    /// `key`) whose store replicates (DynamoDB global-table replicas, S3 replication rules).
    /// As a warning, with the inference spelled out, it also flags a single-Region key that
    /// principals can use for `kms:GenerateDataKey` or `kms:Encrypt` while their IAM
    /// policies let them write to a replicated store: they may be storing enveloped data
    /// there.
    ///
    /// ## Why is this bad?
    /// Replication copies ciphertext, not access to the key. A client-side encrypted item or
    /// object carries a data key wrapped by a KMS key of the source Region; after a failover
    /// to the replica Region it can only be decrypted by a key with the same material there
    /// (a replica of a multi-Region key). With a single-Region key, the disaster recovery
    /// copy is unreadable exactly when it is needed.
    ///
    /// ## Example
    /// With this `keyproof.toml`:
    /// ```toml
    /// [[envelope]]
    /// store = "arn:aws:dynamodb:us-east-1:111122223333:table/payments"
    /// key = "aws_kms_key.pan"
    /// ```
    /// and a plan where `aws_kms_key.pan` is a single-Region key of `us-east-1` and the table
    /// has a replica in `eu-west-1`:
    /// ```json no-run
    /// {
    ///   "format_version": "1.2",
    ///   "terraform_version": "1.9.0",
    ///   "planned_values": {
    ///     "root_module": {
    ///       "resources": [
    ///         {
    ///           "address": "aws_kms_key.pan",
    ///           "mode": "managed",
    ///           "type": "aws_kms_key",
    ///           "name": "pan",
    ///           "values": { "multi_region": false, "enable_key_rotation": true, "region": "us-east-1" }
    ///         },
    ///         {
    ///           "address": "aws_dynamodb_table.payments",
    ///           "mode": "managed",
    ///           "type": "aws_dynamodb_table",
    ///           "name": "payments",
    ///           "values": { "name": "payments", "region": "us-east-1", "replica": [{ "region_name": "eu-west-1" }] }
    ///         }
    ///       ]
    ///     }
    ///   }
    /// }
    /// ```
    ///
    /// Use instead: a multi-Region key with a replica in every Region the table replicates to:
    /// ```json
    /// {
    ///   "format_version": "1.2",
    ///   "terraform_version": "1.9.0",
    ///   "planned_values": {
    ///     "root_module": {
    ///       "resources": [
    ///         {
    ///           "address": "aws_kms_key.pan",
    ///           "mode": "managed",
    ///           "type": "aws_kms_key",
    ///           "name": "pan",
    ///           "values": { "multi_region": true, "enable_key_rotation": true, "region": "us-east-1" }
    ///         },
    ///         {
    ///           "address": "aws_kms_replica_key.pan_eu",
    ///           "mode": "managed",
    ///           "type": "aws_kms_replica_key",
    ///           "name": "pan_eu",
    ///           "values": { "region": "eu-west-1" }
    ///         },
    ///         {
    ///           "address": "aws_dynamodb_table.payments",
    ///           "mode": "managed",
    ///           "type": "aws_dynamodb_table",
    ///           "name": "payments",
    ///           "values": { "name": "payments", "region": "us-east-1", "replica": [{ "region_name": "eu-west-1" }] }
    ///         }
    ///       ]
    ///     }
    ///   },
    ///   "configuration": {
    ///     "root_module": {
    ///       "resources": [
    ///         {
    ///           "address": "aws_kms_replica_key.pan_eu",
    ///           "mode": "managed",
    ///           "type": "aws_kms_replica_key",
    ///           "name": "pan_eu",
    ///           "expressions": { "primary_key_arn": { "references": ["aws_kms_key.pan.arn", "aws_kms_key.pan"] } }
    ///         }
    ///       ]
    ///     }
    ///   }
    /// }
    /// ```
    ///
    /// ## Options
    /// `[[envelope]]` tables in `keyproof.toml`: `store` (table ARN, bucket ARN or name) and
    /// `key` (key ARN, key id, alias or Terraform address).
    ///
    /// ## Known limitations
    /// An `[[envelope]]` whose store or key is not in the inputs is not judged. The Region of
    /// an S3 replication destination is known only from the ARN of its replica
    /// KMS key (`ReplicaKmsKeyID`); destinations without one are not judged. A multi-Region
    /// key whose replica list is not in the inputs (no `describe-key`) is not judged. The
    /// inferred warning reads the writers' identity policies (with their permissions
    /// boundary) but not SCPs or table resource policies, and only concrete users and roles.
    ///
    /// ## References
    /// - [Multi-Region keys in AWS KMS](https://docs.aws.amazon.com/kms/latest/developerguide/multi-region-keys-overview.html)
    /// - [Encrypt global data client-side with AWS KMS multi-Region keys](https://aws.amazon.com/blogs/security/encrypt-global-data-client-side-with-aws-kms-multi-region-keys/)
    /// - [Envelope encryption](https://docs.aws.amazon.com/kms/latest/developerguide/kms-cryptography.html#enveloping)
    pub ReplicatedButUnreadable {
        id: "KP501",
        name: "replicated-but-unreadable",
        category: Resilience,
        severity: Error,
        status: Stable { since: "0.1.0" },
    }
}

impl Rule for ReplicatedButUnreadable {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        let world = cx.world;
        let mut declared: BTreeSet<String> = BTreeSet::new();
        for env in &cx.settings.envelopes {
            let Some(store) = Store::find(world, &env.store) else { continue };
            declared.insert(store.arn());
            let Some(key) = world.find_key_index(&env.key) else { continue };
            let Some(k) = world.keys.get(key) else { continue };
            let Some(have) = material_regions(world, key) else { continue };
            let missing: Vec<String> = store.copy_regions().into_iter().filter(|r| !have.contains(r)).collect();
            if missing.is_empty() {
                continue;
            }
            let message = format!(
                "data enveloped under `{}` in {} is replicated to {}, where no key has its material: {}",
                env.key,
                store.describe(),
                regions(&missing),
                why_missing(world, key, k)
            );
            let f = match cx.settings.config_source {
                Some(source) => cx.finding_in(self, source, env.span, String::new(), message),
                None => attribute_finding(cx, self, store.origin(), REPLICATION_ATTRIBUTES, message),
            };
            let mut f = f.with_resource(Some(store.arn())).with_help(help(k));
            if let Some(source) = store.origin().source {
                f = f.with_label(cx.label(source, store.origin().span, "the store and its replicas"));
            }
            if let Some(source) = k.origin.source {
                f = f.with_label(cx.label(source, k.origin.span, "the key"));
            }
            out.push(f);
        }
        self.inferred(cx, &declared, out);
    }
}

impl ReplicatedButUnreadable {
    /// The warning: single-Region keys whose users may write enveloped data to a replicated store.
    fn inferred(&self, cx: &RuleContext<'_>, declared: &BTreeSet<String>, out: &mut Vec<Finding>) {
        let world = cx.world;
        let stores: Vec<(Store<'_>, Vec<String>)> = Store::all(world)
            .into_iter()
            .filter(|s| !declared.contains(&s.arn()))
            .map(|s| {
                let r = s.copy_regions();
                (s, r)
            })
            .filter(|(_, r)| !r.is_empty())
            .collect();
        if stores.is_empty() {
            return;
        }
        for (ki, k) in world.keys.iter().enumerate() {
            if is_multi_region(k) != Some(false) || !matches!(k.policy, Some(PolicySlot::Known(_))) || !envelope_key(k)
            {
                continue;
            }
            let affected: Vec<&(Store<'_>, Vec<String>)> =
                stores.iter().filter(|(_, r)| r.iter().any(|x| *x != k.region)).collect();
            if affected.is_empty() {
                continue;
            }
            let mut users: Vec<(Entry, &'static str)> = Vec::new();
            for action in ["kms:GenerateDataKey", "kms:Encrypt"] {
                let answer = cx.who_can(ki, action, false);
                for e in &answer.principals {
                    if matches!(e.kind, PrincipalKind::Role | PrincipalKind::User)
                        && !users.iter().any(|(u, _)| u.principal == e.principal)
                    {
                        // Access only through an AWS service (`kms:ViaService`) is server-side
                        // encryption by that service, not client-side enveloping.
                        if let Some(direct) = direct_call(world, ki, &answer.action, e) {
                            users.push((direct, action));
                        }
                    }
                }
            }
            for (store, copies) in affected {
                let elsewhere: Vec<String> = copies.iter().filter(|r| **r != k.region).cloned().collect();
                let writers: Vec<(&Entry, &'static str, PolicyId, &Statement)> = users
                    .iter()
                    .filter_map(|(e, action)| {
                        let caller = Caller::parse(&e.principal, world).ok()?;
                        let (pid, st) = store.writable_by(world, &caller)?;
                        Some((e, *action, pid, st))
                    })
                    .collect();
                let Some((first, action, pid, st)) = writers.first() else { continue };
                let names: Vec<String> = writers.iter().map(|(e, ..)| format!("`{}`", e.principal)).collect();
                let who = match names.as_slice() {
                    [first, rest @ ..] if !rest.is_empty() => {
                        format!("{first} and {} other principal{}", rest.len(), if rest.len() == 1 { "" } else { "s" })
                    }
                    _ => names.join(""),
                };
                let message = format!(
                    "{who} can `{action}` with single-Region key `{}` and write to {}, which replicates to {}: data enveloped under the key there cannot be decrypted after a failover",
                    k.arn,
                    store.describe(),
                    regions(&elsewhere)
                );
                let mut f = attribute_finding(cx, self, store.origin(), REPLICATION_ATTRIBUTES, message)
                    .with_resource(Some(store.arn()))
                    .with_witness(witness_json(&first.witness, &k.arn))
                    .with_help(format!(
                        "if the store holds data enveloped under `{}`, use a multi-Region key with replicas in {} and declare the store with `[[envelope]]`; if it does not, suppress this finding",
                        k.arn,
                        regions(&elsewhere)
                    ));
                f.severity = Severity::Warning;
                if let Some(e) = world.policy(*pid) {
                    f = f.with_label(cx.label(e.policy.source, st.span, "allows writing to the store"));
                }
                out.push(label_allower(cx, f, ki, &first.witness, &first.caller));
            }
        }
    }
}

/// The entry with a witness the principal makes itself (without `kms:ViaService`), if it can.
fn direct_call(world: &World, key: usize, action: &str, e: &Entry) -> Option<Entry> {
    let via = |w: &crate::solve::Witness| w.context.keys().any(|k| k.eq_ignore_ascii_case("kms:ViaService"));
    if !via(&e.witness) {
        return Some(e.clone());
    }
    let cand = Candidate {
        name: e.principal.clone(),
        kind: e.kind,
        caller: e.caller.clone(),
        assume_identity_allows: e.witness.assume_identity_allows,
    };
    let found = solve_principal_with(world, key, action, &cand, &BTreeMap::new(), &["kms:ViaService"])?;
    Some(Entry { witness: found.witness, ..e.clone() })
}

/// Attributes that say where a store replicates, in Terraform and AWS CLI outputs.
const REPLICATION_ATTRIBUTES: &[&str] = &["replica", "Replicas", "rule", "Rules"];

/// A key whose users envelope data: a customer managed symmetric encryption key (or one
/// whose metadata was not collected).
fn envelope_key(k: &Key) -> bool {
    k.metadata.as_ref().is_none_or(|m| {
        m.manager == "CUSTOMER"
            && m.spec == "SYMMETRIC_DEFAULT"
            && m.usage == "ENCRYPT_DECRYPT"
            && matches!(m.state.as_str(), "Enabled" | "Disabled")
    })
}

fn help(k: &Key) -> String {
    if is_multi_region(k) == Some(true) {
        "replicate the multi-Region key to every Region the store replicates to (`aws kms replicate-key`, `aws_kms_replica_key`)".into()
    } else {
        "envelope the data under a multi-Region key with a replica in every Region the store replicates to: a single-Region key cannot be copied to another Region".into()
    }
}

fn why_missing(world: &World, key: usize, k: &Key) -> String {
    match is_multi_region(k) {
        Some(true) => {
            let primary = primary_of(world, key).and_then(|i| world.keys.get(i)).map_or(k.arn.as_str(), |p| &p.arn);
            format!("the multi-Region key `{primary}` has no replica there")
        }
        _ => format!("`{}` is a single-Region key", k.arn),
    }
}

/// "`eu-west-1`" / "`eu-west-1` and `ap-south-1`".
fn regions(list: &[String]) -> String {
    let quoted: Vec<String> = list.iter().map(|r| format!("`{r}`")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => quoted.join(""),
    }
}

/// A replicated store.
#[derive(Clone, Copy)]
enum Store<'w> {
    Table(&'w Table),
    Bucket(&'w Bucket),
}

impl<'w> Store<'w> {
    /// The table or bucket a reference names (ARN or name).
    fn find(world: &'w World, reference: &str) -> Option<Store<'w>> {
        if let Some(t) = world
            .tables
            .iter()
            .find(|t| t.arn == reference || t.arn.rsplit_once(":table/").is_some_and(|(_, name)| name == reference))
        {
            return Some(Store::Table(t));
        }
        let name = match Arn::parse(reference) {
            Some(a) if a.service == "s3" => a.resource.split('/').next().unwrap_or(a.resource),
            Some(_) => return None,
            None => reference,
        };
        world.buckets.iter().find(|b| b.name == name).map(Store::Bucket)
    }

    fn all(world: &'w World) -> Vec<Store<'w>> {
        world.tables.iter().map(Store::Table).chain(world.buckets.iter().map(Store::Bucket)).collect()
    }

    fn arn(&self) -> String {
        match self {
            Store::Table(t) => t.arn.clone(),
            Store::Bucket(b) => format!("arn:aws:s3:::{}", b.name),
        }
    }

    fn describe(&self) -> String {
        match self {
            Store::Table(t) => format!("table `{}`", t.arn),
            Store::Bucket(b) => format!("bucket `{}`", b.name),
        }
    }

    fn origin(&self) -> &'w Origin {
        match self {
            Store::Table(t) => &t.origin,
            Store::Bucket(b) => &b.origin,
        }
    }

    /// The Regions the store's data is replicated to, when known: DynamoDB replica Regions;
    /// for S3, the Region of each destination's replica KMS key.
    fn copy_regions(&self) -> Vec<String> {
        let mut out: Vec<String> = match self {
            Store::Table(t) => t.replicas.iter().map(|(r, _)| r.clone()).filter(|r| *r != t.region).collect(),
            Store::Bucket(b) => b
                .replication
                .iter()
                .filter_map(|(_, key)| Arn::parse(key.as_deref()?).map(|a| a.region.to_string()))
                .filter(|r| !r.is_empty())
                .collect(),
        };
        out.sort();
        out.dedup();
        out
    }

    /// An identity-policy statement that lets the caller write to the store (checked with
    /// the evaluator's statement matching; no explicit deny applies, and the permissions
    /// boundary allows it too).
    fn writable_by(&self, world: &'w World, caller: &Caller) -> Option<(PolicyId, &'w Statement)> {
        let (actions, resource): (&[&str], String) = match self {
            Store::Table(t) if t.arn.starts_with("arn:") => {
                (&["dynamodb:PutItem", "dynamodb:BatchWriteItem", "dynamodb:UpdateItem"], t.arn.clone())
            }
            Store::Table(_) => return None,
            Store::Bucket(b) => (&["s3:PutObject"], format!("arn:aws:s3:::{}/*", b.name)),
        };
        let slots = identity_slots(world, caller);
        if !slots.found {
            return None;
        }
        let known = |slot: &PolicySlot| match slot {
            PolicySlot::Known(id) => Some(*id),
            PolicySlot::Unknown(_) => None,
        };
        let docs: Vec<PolicyId> = slots
            .inline
            .iter()
            .filter_map(known)
            .chain(slots.managed.iter().filter_map(|m| world.managed_policies.get(m).and_then(|p| known(&p.policy))))
            .collect();
        let boundary = match &slots.boundary {
            Some(b) => Some(world.managed_policies.get(b).and_then(|p| known(&p.policy))?),
            None => None,
        };
        let mut ctx = Context::new();
        implied_caller_context(world, caller, &mut ctx);
        let matching = |pid: PolicyId, effect: Effect, action: &str| -> Option<&'w Statement> {
            let e = world.policy(pid)?;
            let q = StatementQuery::new(caller, action, &resource, false);
            e.policy.statements.iter().find(|st| {
                st.effect == effect
                    && statement_applies(world, st, &q, &ctx, e.policy.variables_enabled(), &|_| true)
                        != PrincipalMatch::None
            })
        };
        actions.iter().find_map(|action| {
            if docs.iter().any(|d| matching(*d, Effect::Deny, action).is_some()) {
                return None;
            }
            if let Some(b) = boundary {
                matching(b, Effect::Allow, action)?;
            }
            docs.iter().find_map(|d| matching(*d, Effect::Allow, action).map(|st| (*d, st)))
        })
    }
}

/// Whether a key is multi-Region: from its metadata, else from its id (`mrk-…` ids are
/// multi-Region, other KMS key ids single-Region); `None` when neither tells.
pub(super) fn is_multi_region(k: &Key) -> Option<bool> {
    if let Some(m) = &k.metadata {
        return Some(m.multi_region);
    }
    if k.id.starts_with("mrk-") {
        return Some(true);
    }
    let uuid = k.id.len() == 36 && k.id.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
    uuid.then_some(false)
}

/// The other keys of the world with the same key material (the related multi-Region keys in
/// other Regions: same account and key id).
pub(super) fn related_keys(world: &World, key: usize) -> Vec<usize> {
    let Some(k) = world.keys.get(key) else { return Vec::new() };
    if k.id.is_empty() || is_multi_region(k) == Some(false) {
        return Vec::new();
    }
    world
        .keys
        .iter()
        .enumerate()
        .filter(|(j, o)| *j != key && o.account == k.account && o.id == k.id && o.region != k.region)
        .map(|(j, _)| j)
        .collect()
}

/// The primary of a multi-Region key (itself when it is the primary), when in the world.
pub(super) fn primary_of(world: &World, key: usize) -> Option<usize> {
    let k = world.keys.get(key)?;
    let m = k.metadata.as_ref()?;
    match m.multi_region_type.as_deref() {
        Some("PRIMARY") => Some(key),
        _ => {
            let by_arn = m.primary_arn.as_deref().and_then(|p| world.keys.iter().position(|o| o.arn == p));
            by_arn.or_else(|| {
                related_keys(world, key).into_iter().find(|j| {
                    world.keys.get(*j).and_then(|o| o.metadata.as_ref()).and_then(|om| om.multi_region_type.as_deref())
                        == Some("PRIMARY")
                })
            })
        }
    }
}

/// The Regions where a key with the same material as `world.keys[key]` exists, or `None`
/// when that is not known (a multi-Region key none of whose related keys was described).
pub(super) fn material_regions(world: &World, key: usize) -> Option<BTreeSet<String>> {
    let k = world.keys.get(key)?;
    let mut out: BTreeSet<String> = BTreeSet::from([k.region.clone()]);
    if !is_multi_region(k)? {
        return Some(out);
    }
    let family: Vec<&Key> =
        std::iter::once(k).chain(related_keys(world, key).into_iter().filter_map(|j| world.keys.get(j))).collect();
    let mut described = false;
    for f in &family {
        out.insert(f.region.clone());
        if let Some(m) = &f.metadata {
            described |= m.multi_region_type.is_some();
            for arn in m.primary_arn.iter().chain(&m.replica_arns) {
                if let Some(a) = Arn::parse(arn).filter(|a| !a.region.is_empty()) {
                    out.insert(a.region.to_string());
                }
            }
        }
    }
    described.then_some(out)
}
