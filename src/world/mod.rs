//! The world: everything read in one run — accounts, the organization, IAM principals and
//! their policies, keys with policies, aliases and grants, SCPs/RCPs, and service resources.
//!
//! What was not collected is `None` (unknown), never an empty list: an account snapshot
//! without `list-grants.json` has `grants: None` for its keys, and the analysis says so in
//! its assumptions instead of concluding "no grants".

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use crate::policy::err::PolicyDiagnostic;
use crate::policy::model::{DocKind, Policy, PolicyId};
use crate::source::{SourceId, SourceMap, Span};

/// Where a world object was read from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Origin {
    /// The source.
    pub source: Option<SourceId>,
    /// The element's span in that source.
    pub span: Span,
    /// JSON pointer of the element.
    pub pointer: String,
    /// Terraform resource address, when the object comes from a plan or state.
    pub tf_address: Option<String>,
}

/// A policy document together with what it is and who holds it.
#[derive(Clone, Debug)]
pub struct PolicyEntry {
    /// The parsed document.
    pub policy: Policy,
    /// Its role.
    pub kind: DocKind,
    /// A short name for messages (`key-policy`, the inline policy name, the managed policy ARN…).
    pub name: String,
    /// The account that owns the document.
    pub account: Option<String>,
}

/// A policy slot that may be unknown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PolicySlot {
    /// The document is in the policy table.
    Known(PolicyId),
    /// The value could not be known (Terraform unknown at plan time, not collected, …).
    Unknown(String),
}

/// An AWS account seen in the inputs.
#[derive(Clone, Debug, Default)]
pub struct Account {
    /// 12-digit id.
    pub id: String,
    /// True when a complete IAM listing of the account was loaded (so an absent role is deleted).
    pub iam_complete: bool,
    /// True when the account's keys were collected from a snapshot.
    pub kms_collected: bool,
}

/// The AWS Organizations structure, when known.
#[derive(Clone, Debug, Default)]
pub struct Organization {
    /// `o-…`.
    pub id: String,
    /// The management account (exempt from SCPs and RCPs).
    pub management_account: Option<String>,
    /// Root ids (`r-…`).
    pub roots: Vec<String>,
    /// Parent of each account or OU (`ou-…`, `r-…`).
    pub parents: BTreeMap<String, String>,
    /// Member accounts.
    pub accounts: Vec<String>,
    /// Policies attached to each target (account id, OU id or root id).
    pub attachments: BTreeMap<String, Vec<String>>,
    /// The attachments of each listed target are complete (read from
    /// `list-policies-for-target`), so a missing AWS managed full-access policy was detached.
    pub attachments_complete: bool,
    /// SCPs are enabled (`list-roots` PolicyTypes), or unknown.
    pub scp_enabled: Option<bool>,
    /// RCPs are enabled, or unknown.
    pub rcp_enabled: Option<bool>,
}

impl Organization {
    /// The path of targets from the root down to `account` (root, OUs…, account).
    #[must_use]
    pub fn path_to(&self, account: &str) -> Vec<String> {
        let mut path = vec![account.to_string()];
        let mut cur = account.to_string();
        for _ in 0..32 {
            match self.parents.get(&cur) {
                Some(p) => {
                    path.push(p.clone());
                    cur = p.clone();
                }
                None => break,
            }
        }
        if path.len() == 1 {
            if let Some(root) = self.roots.first() {
                path.push(root.clone());
            }
        }
        path.reverse();
        path
    }

    /// `aws:PrincipalOrgPaths` value of an account: `o-x/r-y/ou-…/`.
    #[must_use]
    pub fn org_path(&self, account: &str) -> String {
        let path = self.path_to(account);
        let mut s = format!("{}/", self.id);
        for p in path.iter().take(path.len().saturating_sub(1)) {
            s.push_str(p);
            s.push('/');
        }
        s
    }
}

/// An SCP or RCP.
#[derive(Clone, Debug)]
pub struct OrgPolicy {
    /// `p-…`.
    pub id: String,
    /// Name.
    pub name: String,
    /// The document.
    pub policy: PolicySlot,
    /// `Scp` or `Rcp`.
    pub kind: DocKind,
    /// Where it came from.
    pub origin: Origin,
}

/// The grant operations of semantics.md §6.2, in bit order.
pub const GRANT_OPERATIONS: &[&str] = &[
    "Decrypt",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyWithoutPlaintext",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
    "ReEncryptFrom",
    "ReEncryptTo",
    "Sign",
    "Verify",
    "GenerateMac",
    "VerifyMac",
    "DeriveSharedSecret",
    "GetPublicKey",
    "DescribeKey",
    "CreateGrant",
    "RetireGrant",
];

/// The bit of a grant operation name (exact spelling), if it is one.
#[must_use]
pub fn grant_op_bit(op: &str) -> Option<u32> {
    GRANT_OPERATIONS.iter().position(|o| *o == op).map(|i| 1u32 << i)
}

/// Whether a grant operation is valid for a key of this `KeySpec` and `KeyUsage` (semantics.md
/// §6.2): `CreateGrant` rejects the others with `ValidationException`. An unknown usage is not
/// judged.
#[must_use]
pub fn grant_operation_fits(op: &str, spec: &str, usage: &str) -> bool {
    if matches!(op, "DescribeKey" | "CreateGrant" | "RetireGrant") {
        return true;
    }
    match usage {
        "ENCRYPT_DECRYPT" if spec == "SYMMETRIC_DEFAULT" => matches!(
            op,
            "Encrypt"
                | "Decrypt"
                | "ReEncryptFrom"
                | "ReEncryptTo"
                | "GenerateDataKey"
                | "GenerateDataKeyWithoutPlaintext"
                | "GenerateDataKeyPair"
                | "GenerateDataKeyPairWithoutPlaintext"
        ),
        "ENCRYPT_DECRYPT" => matches!(op, "Encrypt" | "Decrypt" | "ReEncryptFrom" | "ReEncryptTo" | "GetPublicKey"),
        "SIGN_VERIFY" => matches!(op, "Sign" | "Verify" | "GetPublicKey"),
        "GENERATE_VERIFY_MAC" => matches!(op, "GenerateMac" | "VerifyMac"),
        "KEY_AGREEMENT" => matches!(op, "DeriveSharedSecret" | "GetPublicKey"),
        _ => true,
    }
}

/// Tags as a sorted map.
pub type Tags = BTreeMap<String, String>;

/// An IAM user.
#[derive(Clone, Debug, Default)]
pub struct User {
    /// ARN.
    pub arn: String,
    /// Account id.
    pub account: String,
    /// Name.
    pub name: String,
    /// Path.
    pub path: String,
    /// Unique id (`AIDA…`).
    pub id: Option<String>,
    /// Inline policies.
    pub inline: Vec<PolicySlot>,
    /// Attached managed policy ARNs.
    pub managed: Vec<String>,
    /// Group names.
    pub groups: Vec<String>,
    /// Permissions boundary ARN.
    pub boundary: Option<String>,
    /// Tags.
    pub tags: Tags,
    /// Where it came from.
    pub origin: Origin,
}

/// An IAM group.
#[derive(Clone, Debug, Default)]
pub struct Group {
    /// ARN.
    pub arn: String,
    /// Account id.
    pub account: String,
    /// Name.
    pub name: String,
    /// Inline policies.
    pub inline: Vec<PolicySlot>,
    /// Attached managed policy ARNs.
    pub managed: Vec<String>,
}

/// An IAM role.
#[derive(Clone, Debug, Default)]
pub struct Role {
    /// ARN (with path).
    pub arn: String,
    /// Account id.
    pub account: String,
    /// Name.
    pub name: String,
    /// Path.
    pub path: String,
    /// Unique id (`AROA…`).
    pub id: Option<String>,
    /// Trust policy.
    pub trust: Option<PolicySlot>,
    /// Inline policies.
    pub inline: Vec<PolicySlot>,
    /// Attached managed policy ARNs.
    pub managed: Vec<String>,
    /// Permissions boundary ARN.
    pub boundary: Option<String>,
    /// Tags.
    pub tags: Tags,
    /// Where it came from.
    pub origin: Origin,
}

/// A managed policy (customer or AWS).
#[derive(Clone, Debug)]
pub struct ManagedPolicy {
    /// ARN.
    pub arn: String,
    /// Name.
    pub name: String,
    /// The default version's document.
    pub policy: PolicySlot,
}

/// Key metadata from `describe-key` or Terraform.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyMetadata {
    /// `Enabled`, `Disabled`, `PendingDeletion`, …
    pub state: String,
    /// `SYMMETRIC_DEFAULT`, `RSA_2048`, …
    pub spec: String,
    /// `ENCRYPT_DECRYPT`, …
    pub usage: String,
    /// `AWS_KMS`, `EXTERNAL`, …
    pub origin: String,
    /// `CUSTOMER` or `AWS`.
    pub manager: String,
    /// Multi-Region key.
    pub multi_region: bool,
    /// `PRIMARY` / `REPLICA` for multi-Region keys.
    pub multi_region_type: Option<String>,
    /// The primary's ARN (multi-Region).
    pub primary_arn: Option<String>,
    /// Replica ARNs (multi-Region).
    pub replica_arns: Vec<String>,
    /// `DeletionDate` when pending deletion, normalised to ISO-8601 UTC (`2024-04-02T00:00:00Z`).
    pub deletion_date: Option<String>,
    /// Description.
    pub description: Option<String>,
}

impl Default for KeyMetadata {
    fn default() -> Self {
        Self {
            state: "Enabled".into(),
            spec: "SYMMETRIC_DEFAULT".into(),
            usage: "ENCRYPT_DECRYPT".into(),
            origin: "AWS_KMS".into(),
            manager: "CUSTOMER".into(),
            multi_region: false,
            multi_region_type: None,
            primary_arn: None,
            replica_arns: Vec::new(),
            deletion_date: None,
            description: None,
        }
    }
}

/// Rotation status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rotation {
    /// `KeyRotationEnabled`.
    pub enabled: bool,
    /// `RotationPeriodInDays`.
    pub period_days: Option<u32>,
}

/// A KMS key.
#[derive(Clone, Debug, Default)]
pub struct Key {
    /// Key ARN (may be a placeholder `arn:aws:kms:REGION:ACCT:key/<unknown:ADDRESS>` for a
    /// Terraform key whose id is unknown at plan time).
    pub arn: String,
    /// Key id.
    pub id: String,
    /// Owning account.
    pub account: String,
    /// Region.
    pub region: String,
    /// The key policy; `None` when not collected.
    pub policy: Option<PolicySlot>,
    /// Metadata; `None` when not collected.
    pub metadata: Option<KeyMetadata>,
    /// Rotation; `None` when not collected.
    pub rotation: Option<Rotation>,
    /// Grants; `None` when not collected.
    pub grants: Option<Vec<Grant>>,
    /// Tags; `None` when not collected.
    pub tags: Option<Tags>,
    /// `bypass_policy_lockout_safety_check` was set.
    pub bypass_lockout_check: bool,
    /// Terraform `deletion_window_in_days`.
    pub deletion_window_days: Option<u32>,
    /// Where it came from.
    pub origin: Origin,
}

impl Key {
    /// True for an AWS managed key (`KeyManager: AWS`); unknown metadata counts as customer managed.
    #[must_use]
    pub fn is_aws_managed(&self) -> bool {
        self.metadata.as_ref().is_some_and(|m| m.manager == "AWS")
    }
}

/// A grant on a key.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Grant {
    /// `GrantId`.
    pub id: String,
    /// `Name`.
    pub name: Option<String>,
    /// The key's ARN (`KeyId` in ListGrants).
    pub key_arn: String,
    /// `GranteePrincipal`.
    pub grantee: String,
    /// `RetiringPrincipal`.
    pub retiring: Option<String>,
    /// `IssuingAccount`.
    pub issuing_account: Option<String>,
    /// Grant operations (`Decrypt`, …).
    pub operations: Vec<String>,
    /// `EncryptionContextEquals`.
    pub ec_equals: Option<BTreeMap<String, String>>,
    /// `EncryptionContextSubset`.
    pub ec_subset: Option<BTreeMap<String, String>>,
    /// `SourceArn` constraint.
    pub source_arn: Option<String>,
    /// Where it came from.
    pub origin: Origin,
}

/// An alias.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Alias {
    /// `alias/name`.
    pub name: String,
    /// Alias ARN.
    pub arn: String,
    /// Account.
    pub account: String,
    /// Region.
    pub region: String,
    /// Target key id, if any.
    pub target_key_id: Option<String>,
    /// Where it came from.
    pub origin: Origin,
}

/// S3 bucket encryption and replication.
#[derive(Clone, Debug, Default)]
pub struct Bucket {
    /// Bucket name.
    pub name: String,
    /// Account.
    pub account: String,
    /// Default SSE-KMS key (id, ARN or alias), if any.
    pub kms_key: Option<String>,
    /// `sse_algorithm` / `SSEAlgorithm`.
    pub sse_algorithm: Option<String>,
    /// `BucketKeyEnabled`.
    pub bucket_key_enabled: Option<bool>,
    /// Replication destinations (bucket ARNs) with the replica KMS key, if given.
    pub replication: Vec<(String, Option<String>)>,
    /// Where it came from.
    pub origin: Origin,
}

/// A DynamoDB table.
#[derive(Clone, Debug, Default)]
pub struct Table {
    /// Table ARN or name.
    pub arn: String,
    /// Account.
    pub account: String,
    /// Region.
    pub region: String,
    /// SSE key ARN, if any.
    pub kms_key: Option<String>,
    /// Replica Regions with their KMS key, if given.
    pub replicas: Vec<(String, Option<String>)>,
    /// Where it came from.
    pub origin: Origin,
}

/// An EBS snapshot.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    /// Snapshot id.
    pub id: String,
    /// Account.
    pub account: String,
    /// Region.
    pub region: String,
    /// Encrypted.
    pub encrypted: bool,
    /// KMS key ARN.
    pub kms_key: Option<String>,
    /// Accounts it is shared with (`createVolumePermission`), `all` for public.
    pub shared_with: Vec<String>,
    /// Where it came from.
    pub origin: Origin,
}

/// An input file.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct InputFile {
    /// Path as given.
    pub path: String,
    /// What it was recognised as.
    pub kind: String,
    /// SHA-256 of the bytes (hex).
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
}

/// An input that could not be read or recognised.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct InputError {
    /// Path.
    pub file: String,
    /// Lowercase one-line message.
    pub message: String,
    /// Line (1-based) if the error has a position.
    pub line: Option<u32>,
    /// Column (1-based) if the error has a position.
    pub column: Option<u32>,
}

/// A hash map with a fast, fixed (deterministic) hasher for the lookup tables on the
/// evaluator's hot path.
pub type FastMap<K, V> = HashMap<K, V, foldhash::fast::FixedState>;

/// Lookup tables built on first use. The world must not change after the first lookup
/// (loading builds it completely first; [`World::reset_cache`] exists for tests that edit it).
#[derive(Debug, Default)]
pub struct Index {
    /// account → role name (as written and lowercased) → role index.
    roles: FastMap<String, FastMap<String, usize>>,
    /// account → user name → user index.
    users: FastMap<String, FastMap<String, usize>>,
    /// account → group name → group index.
    groups: FastMap<String, FastMap<String, usize>>,
    /// Grantee and retiring-principal strings, classified once.
    grantees: FastMap<String, crate::policy::model::PrincipalRef>,
    roles_by_arn: FastMap<String, usize>,
    /// account → the index of its first key.
    first_key: FastMap<String, usize>,
    aliases: BTreeMap<(String, String, String), Vec<String>>,
    /// Some statement of the world reads `aws:userid` (as a condition key or a variable).
    mentions_userid: bool,
}

/// Caches of derived data (lookup tables, context layers, evaluation plans) shared by every
/// evaluation.
#[derive(Debug, Default)]
pub struct Cache {
    index: OnceLock<Index>,
    layers: Mutex<HashMap<String, Arc<crate::eval::context::Layer>>>,
    principal_plans: OnceLock<Vec<OnceLock<crate::eval::plan::PrincipalPlan>>>,
    key_plans: OnceLock<Vec<OnceLock<crate::eval::plan::KeyPlan>>>,
    /// The evaluator's per-account organization policy levels (SCP, RCP).
    pub org_levels: Mutex<HashMap<String, [Option<Arc<crate::eval::plan::Levels>>; 2]>>,
    /// The solver's per-world tables (opaque to the world).
    pub solver: OnceLock<Arc<dyn std::any::Any + Send + Sync>>,
}

/// A principal of the world whose evaluation plan is cached.
#[derive(Clone, Copy, Debug)]
pub enum PlanSlot {
    /// `world.roles[i]`.
    Role(usize),
    /// `world.users[i]`.
    User(usize),
}

/// Everything one run knows.
#[derive(Debug, Default)]
pub struct World {
    /// Derived lookup tables and context layers.
    pub cache: Cache,
    /// All source texts.
    pub sources: SourceMap,
    /// The policy table.
    pub policies: Vec<PolicyEntry>,
    /// Accounts by id.
    pub accounts: BTreeMap<String, Account>,
    /// The organization, if known.
    pub org: Option<Organization>,
    /// SCPs and RCPs by id.
    pub org_policies: BTreeMap<String, OrgPolicy>,
    /// Users.
    pub users: Vec<User>,
    /// Groups.
    pub groups: Vec<Group>,
    /// Roles.
    pub roles: Vec<Role>,
    /// Managed policies by ARN.
    pub managed_policies: BTreeMap<String, ManagedPolicy>,
    /// Identity policies attached to nothing (loose files).
    pub loose_identity: Vec<PolicyId>,
    /// Trust policies read from loose files (a resource policy whose actions are all `sts:*`),
    /// attached to no role.
    pub loose_trust: Vec<PolicyId>,
    /// Keys.
    pub keys: Vec<Key>,
    /// Aliases.
    pub aliases: Vec<Alias>,
    /// S3 buckets.
    pub buckets: Vec<Bucket>,
    /// DynamoDB tables.
    pub tables: Vec<Table>,
    /// EBS snapshots.
    pub snapshots: Vec<Snapshot>,
    /// Inputs read.
    pub files: Vec<InputFile>,
    /// Inputs that could not be read or recognised.
    pub errors: Vec<InputError>,
    /// Problems found while reading policies (rules KP150–KP162).
    pub diagnostics: Vec<PolicyDiagnostic>,
    /// What was assumed about things the inputs do not say.
    pub assumptions: Vec<String>,
}

impl World {
    /// Adds a policy to the table.
    pub fn add_policy(&mut self, entry: PolicyEntry) -> PolicyId {
        self.policies.push(entry);
        PolicyId(u32::try_from(self.policies.len() - 1).unwrap_or(u32::MAX))
    }

    /// The policy with this id.
    #[must_use]
    pub fn policy(&self, id: PolicyId) -> Option<&PolicyEntry> {
        self.policies.get(id.0 as usize)
    }

    /// The document of a known slot.
    #[must_use]
    pub fn slot(&self, slot: &PolicySlot) -> Option<&PolicyEntry> {
        match slot {
            PolicySlot::Known(id) => self.policy(*id),
            PolicySlot::Unknown(_) => None,
        }
    }

    /// Finds a key by ARN, key id, alias name, alias ARN, or Terraform address.
    #[must_use]
    pub fn find_key(&self, reference: &str) -> Option<&Key> {
        self.find_key_index(reference).and_then(|i| self.keys.get(i))
    }

    /// Index of the key a reference names (see [`World::find_key`]).
    #[must_use]
    pub fn find_key_index(&self, reference: &str) -> Option<usize> {
        let by = |f: &dyn Fn(&Key) -> bool| self.keys.iter().position(f);
        if let Some(i) = by(&|k| k.arn == reference || k.origin.tf_address.as_deref() == Some(reference)) {
            return Some(i);
        }
        let alias = if reference.starts_with("alias/") {
            self.aliases.iter().find(|a| a.name == reference)
        } else if reference.starts_with("arn:") && reference.contains(":alias/") {
            self.aliases.iter().find(|a| a.arn == reference)
        } else {
            None
        };
        if let Some(a) = alias {
            let target = a.target_key_id.as_deref()?;
            return by(&|k| (k.id == target || k.arn == target) && k.account == a.account && k.region == a.region);
        }
        let matches: Vec<usize> =
            self.keys.iter().enumerate().filter(|(_, k)| k.id == reference).map(|(i, _)| i).collect();
        matches.first().copied()
    }

    /// Alias names of a key (for `kms:ResourceAliases`), sorted.
    #[must_use]
    pub fn aliases_of(&self, key: &Key) -> Vec<String> {
        self.index()
            .aliases
            .get(&(key.account.clone(), key.region.clone(), key.id.clone()))
            .cloned()
            .unwrap_or_default()
    }

    /// The lookup tables (built on first use).
    pub fn index(&self) -> &Index {
        self.cache.index.get_or_init(|| {
            let mut ix = Index::default();
            for (i, r) in self.roles.iter().enumerate() {
                let m = ix.roles.entry(r.account.clone()).or_default();
                m.entry(r.name.clone()).or_insert(i);
                m.entry(r.name.to_lowercase()).or_insert(i);
                ix.roles_by_arn.entry(r.arn.clone()).or_insert(i);
            }
            for (i, u) in self.users.iter().enumerate() {
                ix.users.entry(u.account.clone()).or_default().entry(u.name.clone()).or_insert(i);
            }
            for (i, g) in self.groups.iter().enumerate() {
                ix.groups.entry(g.account.clone()).or_default().entry(g.name.clone()).or_insert(i);
            }
            for (i, k) in self.keys.iter().enumerate() {
                ix.first_key.entry(k.account.clone()).or_insert(i);
            }
            for g in self.keys.iter().flat_map(|k| k.grants.iter().flatten()) {
                for p in std::iter::once(&g.grantee).chain(g.retiring.iter()) {
                    if !ix.grantees.contains_key(p) {
                        ix.grantees.insert(p.clone(), crate::policy::arn::classify_aws_principal(p));
                    }
                }
            }
            for a in &self.aliases {
                let Some(target) = a.target_key_id.as_deref() else { continue };
                let id = target.rsplit_once(":key/").map_or(target, |(_, id)| id);
                ix.aliases
                    .entry((a.account.clone(), a.region.clone(), id.to_string()))
                    .or_default()
                    .push(a.name.clone());
            }
            ix.mentions_userid = self.policies.iter().any(|e| e.policy.statements.iter().any(mentions_userid));
            for v in ix.aliases.values_mut() {
                v.sort();
                v.dedup();
            }
            ix
        })
    }

    /// A copy of the world to edit for a hypothetical question ("what if this grant existed?",
    /// "what if the key policy were replaced?"), with fresh caches.
    #[must_use]
    pub fn fork(&self) -> World {
        World {
            cache: Cache::default(),
            sources: self.sources.fork(),
            policies: self.policies.clone(),
            accounts: self.accounts.clone(),
            org: self.org.clone(),
            org_policies: self.org_policies.clone(),
            users: self.users.clone(),
            groups: self.groups.clone(),
            roles: self.roles.clone(),
            managed_policies: self.managed_policies.clone(),
            loose_identity: self.loose_identity.clone(),
            loose_trust: self.loose_trust.clone(),
            keys: self.keys.clone(),
            aliases: self.aliases.clone(),
            buckets: self.buckets.clone(),
            tables: self.tables.clone(),
            snapshots: self.snapshots.clone(),
            files: self.files.clone(),
            errors: self.errors.clone(),
            diagnostics: self.diagnostics.clone(),
            assumptions: self.assumptions.clone(),
        }
    }

    /// Drops the derived caches (after editing a world that was already queried).
    pub fn reset_cache(&mut self) {
        self.cache = Cache::default();
    }

    /// A role by account and name (role names are case-insensitive).
    #[must_use]
    pub fn role(&self, account: &str, name: &str) -> Option<&Role> {
        let m = self.index().roles.get(account)?;
        let i = match m.get(name) {
            Some(i) => *i,
            None => *m.get(&name.to_lowercase())?,
        };
        self.roles.get(i)
    }

    /// True when some statement of the world reads `aws:userid` (a condition key, or a
    /// `${aws:userid}` variable in a resource or condition value): when none does, the
    /// evaluator leaves this session-specific key out of the request context.
    #[must_use]
    pub fn mentions_userid(&self) -> bool {
        self.index().mentions_userid
    }

    /// Index of a role in `roles`.
    #[must_use]
    pub fn role_index(&self, account: &str, name: &str) -> Option<usize> {
        let m = self.index().roles.get(account)?;
        m.get(name).or_else(|| m.get(&name.to_lowercase())).copied()
    }

    /// Index of a user in `users`.
    #[must_use]
    pub fn user_index(&self, account: &str, name: &str) -> Option<usize> {
        self.index().users.get(account)?.get(name).copied()
    }

    /// The position of `key` in `keys` when it is one of them (not a copy or a synthetic key),
    /// found by address arithmetic and checked.
    #[must_use]
    pub fn key_index_of(&self, key: &Key) -> Option<usize> {
        let (base, addr, size) = (self.keys.as_ptr() as usize, std::ptr::from_ref(key) as usize, size_of::<Key>());
        addr.checked_sub(base)
            .filter(|d| size > 0 && d % size == 0)
            .map(|d| d / size)
            .filter(|&i| self.keys.get(i).is_some_and(|k| std::ptr::eq(k, key)))
    }

    /// A grantee or retiring-principal string of a grant, classified (cached).
    #[must_use]
    pub fn grantee_ref(&self, s: &str) -> Option<&crate::policy::model::PrincipalRef> {
        self.index().grantees.get(s)
    }

    /// A role by ARN.
    #[must_use]
    pub fn role_by_arn(&self, arn: &str) -> Option<&Role> {
        self.role_index_by_arn(arn).and_then(|i| self.roles.get(i))
    }

    /// Index in `roles` of a role by ARN.
    #[must_use]
    pub fn role_index_by_arn(&self, arn: &str) -> Option<usize> {
        self.index().roles_by_arn.get(arn).copied()
    }

    /// A user by account and name.
    #[must_use]
    pub fn user(&self, account: &str, name: &str) -> Option<&User> {
        self.user_index(account, name).and_then(|i| self.users.get(i))
    }

    /// The first key of an account, in input order.
    #[must_use]
    pub fn first_key_of(&self, account: &str) -> Option<&Key> {
        self.index().first_key.get(account).and_then(|i| self.keys.get(*i))
    }

    /// A group by account and name.
    #[must_use]
    pub fn group(&self, account: &str, name: &str) -> Option<&Group> {
        let i = self.index().groups.get(account)?.get(name)?;
        self.groups.get(*i)
    }

    /// The evaluation plan of a role or user, built once.
    pub fn principal_plan(
        &self,
        slot: PlanSlot,
        build: impl FnOnce() -> crate::eval::plan::PrincipalPlan,
    ) -> Option<&crate::eval::plan::PrincipalPlan> {
        let (nr, nu) = (self.roles.len(), self.users.len());
        let pos = match slot {
            PlanSlot::Role(i) if i < nr => i,
            PlanSlot::User(i) if i < nu => nr + i,
            _ => return None,
        };
        let plans = self.cache.principal_plans.get_or_init(|| (0..nr + nu).map(|_| OnceLock::new()).collect());
        plans.get(pos).map(|cell| cell.get_or_init(build))
    }

    /// The evaluation plan of `keys[i]`, built once.
    pub fn key_plan(
        &self,
        i: usize,
        build: impl FnOnce() -> crate::eval::plan::KeyPlan,
    ) -> Option<&crate::eval::plan::KeyPlan> {
        let plans = self.cache.key_plans.get_or_init(|| (0..self.keys.len()).map(|_| OnceLock::new()).collect());
        plans.get(i).map(|cell| cell.get_or_init(build))
    }

    /// A shared context layer, built once per `id`.
    pub fn cached_layer(
        &self,
        id: &str,
        build: impl FnOnce() -> crate::eval::context::Layer,
    ) -> Arc<crate::eval::context::Layer> {
        if let Some(l) = self.cache.layers.lock().unwrap_or_else(PoisonError::into_inner).get(id) {
            return Arc::clone(l);
        }
        let layer = Arc::new(build());
        self.cache.layers.lock().unwrap_or_else(PoisonError::into_inner).entry(id.to_string()).or_insert(layer).clone()
    }

    /// Records an account as seen.
    pub fn touch_account(&mut self, id: &str) -> &mut Account {
        self.accounts.entry(id.to_string()).or_insert_with(|| Account { id: id.to_string(), ..Account::default() })
    }

    /// Number of principals (users + roles).
    #[must_use]
    pub fn principal_count(&self) -> usize {
        self.users.len() + self.roles.len()
    }
}

/// Does the statement read `aws:userid`?
fn mentions_userid(st: &crate::policy::model::Statement) -> bool {
    let has = |v: &str| v.to_ascii_lowercase().contains("aws:userid");
    st.conditions.iter().any(|c| c.key_lc == "aws:userid" || c.values.iter().any(|v| has(&v.value)))
        || st.resource.iter().flat_map(|r| &r.items).any(|r| has(&r.value))
}
